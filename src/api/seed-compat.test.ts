import { afterEach, describe, expect, test } from 'bun:test'
import { json } from '../../tests/support/api'
import { waitFor, weatherEvent } from '../../tests/support/events'
import { createHarness } from '../../tests/support/harness'

let harness: Awaited<ReturnType<typeof createHarness>>
afterEach(() => harness?.close())

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/

/**
 * What a client written against the seed API (shared/baselines/seed-api/api_server.py) reads, field
 * by field, from GridPulse: the seed's own names beside GridPulse's.
 */
describe('a seed API client', () => {
  test('posts without interval_end and reads lists, stats and health in the seed envelope', async () => {
    harness = await createHarness()
    const posted = await harness.api.request('/api/v1/dispatch', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Correlation-ID': 'seed-client-1' },
      body: JSON.stringify({ region_id: 'NSW1', fuel_type: 'wind', value_mw: 120 }),
    })
    expect(posted.status).toBe(202)
    const accepted = await json(posted)
    expect(accepted).toMatchObject({ status: 'accepted', correlation_id: 'seed-client-1' })
    expect(typeof accepted.event_id).toBe('string')
    await harness.api.request('/api/v1/dispatch', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ region_id: 'VIC1', fuel_type: 'gas', value_mw: 30 }),
    })
    await harness.bus.publish([weatherEvent('NSW1', 'Sydney', '2026-10-03T10:30:00Z', 17.7)])
    await waitFor(() => harness.queries.totals().dispatch === 2, 'projection of the writes')
    await waitFor(() => harness.queries.totals().weather === 1, 'projection of the weather')

    const list = await json(
      harness.api.request('/api/v1/dispatch?region_id=NSW1&limit=100', {
        headers: { 'X-Correlation-ID': 'seed-client-2' },
      })
    )
    expect(list.data.map((e: { value_mw: number }) => e.value_mw)).toEqual([120])
    expect(list.meta).toMatchObject({
      count: 1,
      region_filter: 'NSW1',
      correlation_id: 'seed-client-2',
    })
    expect(list.meta.timestamp).toMatch(ISO)
    const unfiltered = await json(harness.api.request('/api/v1/weather'))
    expect(unfiltered.meta).toMatchObject({ count: 1, region_filter: null })

    const stats = await json(harness.api.request('/api/v1/stats'))
    expect(stats.total_dispatch_events).toBe(2)
    expect(stats.total_weather_events).toBe(1)
    expect(stats.region_stats).toEqual({
      NSW1: { count: 1, avg_mw: 120, max_mw: 120, min_mw: 120 },
      VIC1: { count: 1, avg_mw: 30, max_mw: 30, min_mw: 30 },
    })
    expect(stats.timestamp).toMatch(ISO)

    const health = await json(harness.api.request('/health'))
    expect(health).toMatchObject({
      status: 'healthy',
      service: 'gridpulse-api',
      cache_stats: { dispatch_events: 2, weather_events: 1 },
    })
  })

  test('reads error and message on every JSON error, beside problem+json', async () => {
    harness = await createHarness()
    const missing = await harness.api.request('/api/v1/nothing-here')
    expect(missing.status).toBe(404)
    expect(missing.headers.get('content-type')).toBe('application/problem+json')
    const body = await json(missing)
    expect(body.error).toBe(body.title)
    expect(body.message).toBe(body.detail)
    const invalid = await json(
      harness.api.request('/api/v1/dispatch', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ value_mw: 5 }),
      })
    )
    expect(invalid.error).toBe('Request validation failed')
    expect(invalid.message).toBe(invalid.detail)
  })
})
