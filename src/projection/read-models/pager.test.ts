import { describe, expect, test } from 'bun:test'
import { priceEvent } from '../../../tests/support/events'
import { createProjector, createReadPort, openProjectionDb } from '..'

// The memory bounds a small node sets (README: READ_CACHE_PAGES, SQLITE_CACHE_KB).
describe('read caches', () => {
  const projectedPrices = async (readCachePages: number) => {
    const db = openProjectionDb(':memory:', { readCachePages })
    const events = (['NSW1', 'QLD1', 'SA1'] as const).map((r) =>
      priceEvent(r, '2026-04-01T00:05:00Z', 50)
    )
    await createProjector(db, 'test').project({
      topic: 'market.prices',
      partition: 0,
      records: events.map((event, i) => ({ offset: BigInt(i), kind: 'event' as const, event })),
    })
    return createReadPort(db).prices
  }

  test('a repeated list page is served from memory, and at most READ_CACHE_PAGES are kept', async () => {
    const prices = await projectedPrices(2)
    const nsw = prices.list({ regionId: 'NSW1', limit: 10 })
    expect(nsw.data.map((p) => p.region_id)).toEqual(['NSW1'])
    expect(prices.list({ regionId: 'NSW1', limit: 10 })).toBe(nsw)
    prices.list({ regionId: 'QLD1', limit: 10 })
    prices.list({ regionId: 'SA1', limit: 10 }) // a third page: over the bound, the cache is dropped
    const again = prices.list({ regionId: 'NSW1', limit: 10 })
    expect(again).not.toBe(nsw)
    expect(again).toEqual(nsw)
  })

  test('READ_CACHE_PAGES=0 keeps no page', async () => {
    const prices = await projectedPrices(0)
    const first = prices.list({ limit: 10 })
    expect(prices.list({ limit: 10 })).not.toBe(first)
    expect(prices.list({ limit: 10 })).toEqual(first)
  })

  test("SQLITE_CACHE_KB sizes the projection connection's page cache", () => {
    const db = openProjectionDb(':memory:', { cacheKb: 512 })
    expect(db.sqlite.query('PRAGMA cache_size').get()).toEqual({ cache_size: -512 })
    expect(openProjectionDb(':memory:').sqlite.query('PRAGMA cache_size').get()).toEqual({
      cache_size: -2000,
    })
  })
})
