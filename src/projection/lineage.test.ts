import { describe, expect, test } from 'bun:test'
import type { ConsumedBatch } from '@/bus'
import type { GridEvent } from '@/canonical'
import { dispatchEvent, priceEvent } from '../../tests/support/events'
import { createProjector, createReadPort, openProjectionDb } from '.'

const batch = (partition: number, first: bigint, events: GridEvent[]): ConsumedBatch => ({
  topic: 'market.prices',
  partition,
  records: events.map((event, i) => ({ offset: first + BigInt(i), kind: 'event' as const, event })),
})

const fromFile = (event: GridEvent, sha: string, row: number, status: string): GridEvent => ({
  ...event,
  correlation_id: `cycle-${sha}`,
  source_file: `PUBLIC_DISPATCHIS_${sha}.zip`,
  source_sha256: sha.repeat(64),
  source_row: row,
  ...(event.event_type === 'RegionPriceEvent' ? { price_status: status } : {}),
})

describe('lineage of a projected event', () => {
  test('names its file, row, log position and projection time', async () => {
    const db = openProjectionDb(':memory:')
    const projector = createProjector(db, 'c', () => Date.parse('2026-04-01T00:06:00Z'))
    const event = fromFile(priceEvent('SA1', '2026-04-01T00:05:00Z', 91.5), 'a', 7, 'FIRM')
    await projector.project(batch(2, 40n, [event]))

    expect(createReadPort(db).lineage.event(event.event_id)).toEqual({
      event_id: event.event_id,
      event_type: 'RegionPriceEvent',
      correlation_id: 'cycle-a',
      source: 'aemo.dispatchis',
      source_file: 'PUBLIC_DISPATCHIS_a.zip',
      source_sha256: 'a'.repeat(64),
      source_row: 7,
      ingested_at: event.ingested_at,
      projected_at: '2026-04-01T00:06:00.000Z',
      log: { topic: 'market.prices', partition: 2, offset: 40 },
      intervention: false,
      revision: null,
      superseded_by: null,
    })
    expect(createReadPort(db).lineage.event(crypto.randomUUID())).toBeUndefined()
  })

  test('a version from another file replaces the row and is kept; a redelivery is not', async () => {
    const db = openProjectionDb(':memory:')
    const projector = createProjector(db, 'c')
    const base = priceEvent('NSW1', '2026-04-01T00:05:00Z', 65)
    const notFirm = fromFile(base, 'b', 3, 'NOT FIRM')
    const firm = { ...fromFile(base, 'c', 5, 'FIRM'), rrp_aud_mwh: 70 } as GridEvent
    await projector.project(batch(0, 0n, [notFirm]))
    await projector.project(batch(0, 1n, [notFirm])) // the same file again: same version
    await projector.project(batch(0, 2n, [firm]))
    await projector.project(batch(0, 3n, [notFirm])) // a FIRM price stays: nothing replaced

    const { lineage } = createReadPort(db)
    expect(lineage.event(base.event_id)?.source_sha256).toBe('c'.repeat(64))
    const replaced = lineage.replaced(base.event_id)
    expect(replaced).toHaveLength(1)
    expect(replaced[0]).toMatchObject({
      event_id: base.event_id,
      source_sha256: 'b'.repeat(64),
      source_row: 3,
      log: { topic: 'market.prices', partition: 0, offset: 1 },
    })
  })

  test('API-written events are found by their correlation id', async () => {
    const db = openProjectionDb(':memory:')
    const projector = createProjector(db, 'c')
    const manual = dispatchEvent('VIC1', 'wind', '2026-04-01T00:05:00Z', 12.5, 'req-1')
    await projector.project({ ...batch(1, 9n, [manual]), topic: 'market.dispatch' })

    const found = createReadPort(db).lineage.apiEvents('req-1', 10)
    expect(found.map((e) => [e.event_id, e.log])).toEqual([
      [manual.event_id, { topic: 'market.dispatch', partition: 1, offset: 9 }],
    ])
    expect(createReadPort(db).lineage.apiEvents('req-2', 10)).toEqual([])
  })
})
