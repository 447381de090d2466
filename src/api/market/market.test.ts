import { afterEach, describe, expect, test } from 'bun:test'
import { expectProblem, json } from '../../../tests/support/api'
import { dispatchEvent, priceEvent, waitFor } from '../../../tests/support/events'
import { createHarness } from '../../../tests/support/harness'
import { listDispatch } from './market.routes'

const DispatchPage = listDispatch.responses[200].content['application/json'].schema
const NOW = Date.parse('2026-04-01T00:03:00Z')

let harness: Awaited<ReturnType<typeof createHarness>>
afterEach(() => harness?.close())

const post = (body: unknown, headers: Record<string, string> = {}) =>
  harness.api.request('/api/v1/dispatch', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })

describe('GET /api/v1/dispatch', () => {
  test('returns projected events in the seed envelope, newest first, with a working cursor', async () => {
    harness = await createHarness()
    await harness.bus.publish([
      dispatchEvent('NSW1', 'black_coal', '2026-04-01T00:05:00Z', 5123.4),
      dispatchEvent('NSW1', 'black_coal', '2026-04-01T00:10:00Z', 5101.2),
      dispatchEvent('VIC1', 'wind', '2026-04-01T00:10:00Z', 1500),
    ])
    await waitFor(() => harness.queries.stats().totals.dispatch === 3, 'projection')

    const first = await harness.api.request('/api/v1/dispatch?region_id=NSW1&limit=1')
    expect(first.status).toBe(200)
    const page = DispatchPage.parse(await first.json())
    expect(page.data.map((e) => e.value_mw)).toEqual([5101.2])
    expect(page.meta).toMatchObject({ count: 1, limit: 1 })
    const second = DispatchPage.parse(
      await json(
        harness.api.request(
          `/api/v1/dispatch?region_id=NSW1&limit=1&cursor=${page.meta.next_cursor}`
        )
      )
    )
    expect(second.data.map((e) => e.value_mw)).toEqual([5123.4])
    expect(second.meta.next_cursor).toBeNull()
  })

  test('filters by fuel type and a time range given in NEM time', async () => {
    harness = await createHarness()
    await harness.bus.publish([
      dispatchEvent('QLD1', 'utility_solar', '2026-04-01T00:05:00Z', 10),
      dispatchEvent('QLD1', 'utility_solar', '2026-04-01T00:10:00Z', 20),
      dispatchEvent('QLD1', 'gas', '2026-04-01T00:10:00Z', 30),
    ])
    await waitFor(() => harness.queries.stats().totals.dispatch === 3, 'projection')
    // 10:10 NEM time (UTC+10) is 00:10Z: the half-open range [00:10Z, 00:15Z).
    const response = await harness.api.request(
      `/api/v1/dispatch?fuel_type=utility_solar&from=${encodeURIComponent('2026-04-01T10:10:00+10:00')}&to=2026-04-01T00:15:00Z`
    )
    const page = DispatchPage.parse(await response.json())
    expect(page.data.map((e) => [e.fuel_type, e.value_mw])).toEqual([['utility_solar', 20]])
  })

  test.each([
    ['an unknown query parameter', '/api/v1/dispatch?regoin_id=NSW1', 'regoin_id'],
    ['a wrong type', '/api/v1/dispatch?limit=abc', 'limit'],
    ['an out-of-range limit', '/api/v1/dispatch?limit=100000', 'limit'],
    ['a zero limit', '/api/v1/dispatch?limit=0', 'limit'],
    ['an unknown region', '/api/v1/dispatch?region_id=WA1', 'region_id'],
    ['an unknown fuel', '/api/v1/dispatch?fuel_type=coal', 'fuel_type'],
    ['a date without offset', '/api/v1/dispatch?from=2026-04-01T00:00:00', 'from'],
    ['a repeated parameter', '/api/v1/dispatch?limit=1&limit=2', 'limit'],
  ])('rejects %s with 400 naming the parameter', async (_, url, parameter) => {
    harness = await createHarness()
    const body = await expectProblem(await harness.api.request(url), 400, 'validation_failed')
    expect(body.errors?.map((e) => e.parameter)).toContain(parameter)
  })

  test('rejects a forged cursor with 400', async () => {
    harness = await createHarness()
    await expectProblem(
      await harness.api.request('/api/v1/dispatch?cursor=bm90LWEtY3Vyc29y'),
      400,
      'validation_failed'
    )
  })
})

describe('POST /api/v1/dispatch', () => {
  test('publishes through the log; the same body twice yields one row', async () => {
    harness = await createHarness({ now: () => NOW })
    const body = {
      region_id: 'SA1',
      fuel_type: 'wind',
      value_mw: 812.5,
      interval_end: '2026-04-01T10:05:00+10:00',
    }

    const first = await post(body, { 'X-Correlation-ID': 'risk-team-42' })
    const second = await post(body)

    expect(first.status).toBe(202)
    const accepted = await json(first)
    expect(accepted).toMatchObject({
      status: 'accepted',
      correlation_id: 'risk-team-42',
      interval_end: '2026-04-01T00:05:00Z',
    })
    expect((await json(second)).event_id).toBe(accepted.event_id)
    const page = await waitFor(async () => {
      const p = DispatchPage.parse(
        await json(harness.api.request('/api/v1/dispatch?region_id=SA1'))
      )
      return p.data.length > 0 && p
    }, 'the posted reading')
    expect(page.data).toHaveLength(1)
    expect(page.data[0]).toMatchObject({
      event_id: accepted.event_id,
      value_mw: 812.5,
      source: 'api',
    })
  })

  test('defaults interval_end to the current 5-minute interval', async () => {
    harness = await createHarness({ now: () => NOW })
    const response = await post({ region_id: 'TAS1', fuel_type: 'hydro', value_mw: 900 })
    expect(response.status).toBe(202)
    expect((await json(response)).interval_end).toBe('2026-04-01T00:05:00Z')
  })

  test.each([
    ['malformed JSON', '{"region_id": "NSW1",', 400, 'malformed_json'],
    ['a missing field', { region_id: 'NSW1', fuel_type: 'wind' }, 400, 'validation_failed'],
    [
      'a wrong type',
      { region_id: 'NSW1', fuel_type: 'wind', value_mw: '12' },
      400,
      'validation_failed',
    ],
    [
      'an unknown field',
      { region_id: 'NSW1', fuel_type: 'wind', value_mw: 1, extra: true },
      400,
      'validation_failed',
    ],
    [
      'an out-of-range value',
      { region_id: 'NSW1', fuel_type: 'wind', value_mw: 1e9 },
      400,
      'validation_failed',
    ],
    [
      'an unaligned interval',
      { region_id: 'NSW1', fuel_type: 'wind', value_mw: 1, interval_end: '2026-04-01T00:07:00Z' },
      400,
      'validation_failed',
    ],
    ['a JSON array', '[]', 400, 'validation_failed'],
  ])('rejects %s', async (_, body, status, code) => {
    harness = await createHarness({ now: () => NOW })
    await expectProblem(await post(body), status, code)
  })

  test('names the bad field with a JSON pointer', async () => {
    harness = await createHarness({ now: () => NOW })
    const problem = await expectProblem(
      await post({ region_id: 'WA1', fuel_type: 'wind', value_mw: 1 }),
      400,
      'validation_failed'
    )
    expect(problem.errors).toEqual([expect.objectContaining({ pointer: '/region_id' })])
  })

  test('rejects a non-JSON content type with 415 and an oversized body with 413', async () => {
    harness = await createHarness({ now: () => NOW, maxBodyBytes: 1024 })
    await expectProblem(
      await post('region_id=NSW1', { 'content-type': 'application/x-www-form-urlencoded' }),
      415,
      'unsupported_media_type'
    )
    await expectProblem(
      await post({ region_id: 'NSW1', fuel_type: 'wind', value_mw: 1, pad: 'x'.repeat(5000) }),
      413,
      'payload_too_large'
    )
  })

  test('nothing invalid reaches the log', async () => {
    harness = await createHarness({ now: () => NOW })
    await post('{oops')
    await post({ region_id: 'NSW1' })
    const ends = await harness.bus.endOffsets(['market.dispatch'])
    expect([...ends.values()].every((offset) => offset === 0n)).toBe(true)
  })
})

describe('GET /api/v1/prices', () => {
  test('serves the projected prices of a region, newest first', async () => {
    harness = await createHarness()
    await harness.bus.publish([
      priceEvent('NSW1', '2020-01-31T05:35:00Z', 299.99),
      priceEvent('NSW1', '2020-01-31T05:40:00Z', -40),
    ])
    await waitFor(() => harness.queries.stats().totals.prices === 2, 'projection')
    const prices = await json(harness.api.request('/api/v1/prices?region_id=NSW1'))
    expect(prices.data.map((p: { rrp_aud_mwh: number }) => p.rrp_aud_mwh)).toEqual([-40, 299.99])
  })
})
