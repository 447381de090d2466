import { afterEach, describe, expect, test } from 'bun:test'
import { json } from '../../../tests/support/api'
import { priceEvent, waitFor, weatherEvent } from '../../../tests/support/events'
import { createHarness } from '../../../tests/support/harness'

let harness: Awaited<ReturnType<typeof createHarness>>
afterEach(() => harness?.close())

describe('GET /api/v1/stats', () => {
  test('counts and ranges per region, and the newest data per source', async () => {
    harness = await createHarness()
    await harness.bus.publish([
      priceEvent('NSW1', '2020-01-31T05:35:00Z', 299.99),
      priceEvent('NSW1', '2020-01-31T05:40:00Z', -40),
      weatherEvent('NSW1', 'Sydney', '2026-10-03T10:30:00Z', 17.7),
    ])
    await waitFor(
      () =>
        harness.queries.stats().totals.weather === 1 && harness.queries.stats().totals.prices === 2,
      'projection'
    )
    const stats = await json(harness.api.request('/api/v1/stats'))
    expect(stats.regions).toEqual([
      expect.objectContaining({
        region_id: 'NSW1',
        price_count: 2,
        rrp_min: -40,
        rrp_max: 299.99,
        weather_count: 1,
      }),
    ])
    expect(stats.sources.map((s: { source: string }) => s.source)).toEqual([
      'aemo.dispatchis',
      'openmeteo.forecast',
    ])
  })
})
