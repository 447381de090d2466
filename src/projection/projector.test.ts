import { describe, expect, test } from 'bun:test'
import type { ConsumedBatch } from '@/bus'
import { dispatchEvent, priceEvent } from '../../tests/support/events'
import { createProjector, createReadPort, openProjectionDb } from '.'

const batchOf = (
  topic: string,
  partition: number,
  first: bigint,
  events: ReturnType<typeof priceEvent>[]
): ConsumedBatch => ({
  topic,
  partition,
  records: events.map((event, i) => ({ offset: first + BigInt(i), kind: 'event' as const, event })),
})

describe('projector', () => {
  test('re-delivered batch is applied once and the checkpoint moves past it', async () => {
    const db = openProjectionDb(':memory:')
    const projector = createProjector(db, 'gridpulse.projection.v1')
    const batch = batchOf('market.prices', 0, 41n, [
      priceEvent('NSW1', '2020-01-31T05:35:00Z', 87.4),
    ])

    await projector.project(batch)
    await projector.project(batch)

    expect(createReadPort(db).prices.list({ regionId: 'NSW1', limit: 10 }).data).toHaveLength(1)
    expect(projector.startOffset('market.prices', 0)).toBe(42n)
  })

  test('the same event at a new offset (a re-ingested file) upserts the same row', async () => {
    const db = openProjectionDb(':memory:')
    const projector = createProjector(db, 'c')
    const event = priceEvent('SA1', '2020-01-31T05:35:00Z', -12.5)

    await projector.project(batchOf('market.prices', 1, 0n, [event]))
    await projector.project(batchOf('market.prices', 1, 1n, [event]))

    const page = createReadPort(db).prices.list({ limit: 10 })
    expect(page.data).toEqual([event])
  })

  test('a failing batch leaves neither rows nor checkpoint behind', async () => {
    const db = openProjectionDb(':memory:')
    const projector = createProjector(db, 'c')
    const good = dispatchEvent('VIC1', 'wind', '2026-04-01T00:05:00Z', 1234.5)
    const bad = {
      ...dispatchEvent('VIC1', 'gas', '2026-04-01T00:05:00Z', 1),
      interval_end: 'not a date',
    }
    const batch: ConsumedBatch = {
      topic: 'market.dispatch',
      partition: 2,
      records: [
        { offset: 0n, kind: 'event', event: good },
        // A row the schema would reject but that reached the projector: the NOT NULL column fails.
        { offset: 1n, kind: 'event', event: { ...bad, value_mw: null as unknown as number } },
      ],
    }

    await expect(projector.project(batch)).rejects.toThrow()

    expect(createReadPort(db).dispatch.list({ limit: 10 }).data).toHaveLength(0)
    expect(projector.startOffset('market.dispatch', 2)).toBeUndefined()
  })

  test('pages newest first with a cursor and filters by region and fuel', async () => {
    const db = openProjectionDb(':memory:')
    const projector = createProjector(db, 'c')
    const events = [0, 1, 2, 3, 4].map((i) =>
      dispatchEvent(
        i % 2 ? 'NSW1' : 'QLD1',
        'wind',
        `2026-04-01T00:${String(5 * (i + 1)).padStart(2, '0')}:00Z`,
        100 + i
      )
    )
    await projector.project(batchOf('market.dispatch', 0, 0n, events as never))
    const queries = createReadPort(db)

    const first = queries.dispatch.list({ limit: 2 })
    const second = queries.dispatch.list({ limit: 2, cursor: first.nextCursor! })
    const third = queries.dispatch.list({ limit: 2, cursor: second.nextCursor! })

    expect([...first.data, ...second.data, ...third.data].map((e) => e.value_mw)).toEqual([
      104, 103, 102, 101, 100,
    ])
    expect(third.nextCursor).toBeNull()
    expect(
      queries.dispatch.list({ limit: 10, regionId: 'NSW1' }).data.map((e) => e.value_mw)
    ).toEqual([103, 101])
    expect(queries.dispatch.list({ limit: 10, fuelType: 'gas' }).data).toHaveLength(0)
    expect(
      queries.dispatch
        .list({ limit: 10, from: '2026-04-01T00:10:00Z', to: '2026-04-01T00:20:00Z' })
        .data.map((e) => e.value_mw)
    ).toEqual([102, 101])
  })

  test('events logged before the journal window are projected without journal rows', async () => {
    const db = openProjectionDb(':memory:')
    const now = Date.parse('2026-04-10T00:00:00Z')
    const day = 24 * 3600 * 1000
    const projector = createProjector(db, 'c', () => now, { journalRetentionMs: 7 * day })
    const events = [1, 2, 3].map((i) => priceEvent('NSW1', `2026-04-01T00:0${i}:00Z`, i))
    const loggedAt = [now - 9 * day, now - 8 * day, now - day]
    await projector.project({
      topic: 'market.prices',
      partition: 0,
      records: events.map((event, i) => ({
        offset: 10n + BigInt(i),
        kind: 'event' as const,
        event,
        loggedAt: loggedAt[i],
      })),
    })

    const queries = createReadPort(db)
    expect(queries.prices.list({ limit: 10 }).data).toHaveLength(3)
    // A client resuming below offset 12 is told it lost events, rather than silently skipping them.
    expect(queries.journal.floor('market.prices', 0)).toBe(12)
    expect(queries.journal.read('market.prices', 0, 0, 100, 10).map((e) => e.offset)).toEqual([12])
  })

  test('a big batch widens the page cache, a small one restores the configured size', async () => {
    const db = openProjectionDb(':memory:', { cacheKb: 512 })
    const projector = createProjector(db, 'c', Date.now, { catchUpCacheKb: 4096 })
    const cacheSize = () =>
      (db.sqlite.query('PRAGMA cache_size').get() as { cache_size: number }).cache_size
    const events = (n: number, from: number) =>
      Array.from({ length: n }, (_, i) =>
        dispatchEvent(
          'NSW1',
          'wind',
          new Date(Date.parse('2026-04-01T00:05:00Z') + (from + i) * 300_000).toISOString(),
          i
        )
      )

    await projector.project(batchOf('market.dispatch', 0, 0n, events(1000, 0) as never))
    expect(cacheSize()).toBe(-4096)
    await projector.project(batchOf('market.dispatch', 0, 1000n, events(3, 1000) as never))
    expect(cacheSize()).toBe(-512)
    // A big batch followed by none (the end of a rebuild): restored once the batches stop.
    await projector.project(batchOf('market.dispatch', 0, 1003n, events(1000, 1003) as never))
    expect(cacheSize()).toBe(-4096)
    const until = Date.now() + 10_000
    while (cacheSize() !== -512 && Date.now() < until) await Bun.sleep(50)
    expect(cacheSize()).toBe(-512)
    expect(createReadPort(db).dispatch.list({ limit: 3000 }).data).toHaveLength(2003)
  })
})
