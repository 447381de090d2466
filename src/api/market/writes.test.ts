import { afterEach, describe, expect, test } from 'bun:test'
import { eventIdFor, type FuelType, type MarketDispatchEvent, type RegionId } from '@/canonical'
import { dispatchEvent, waitFor } from '../../../tests/support/events'
import { createHarness } from '../../../tests/support/harness'
import { ProblemSchema } from '../problem'
import { DISPATCH, listDispatchRevisions, submitDispatch } from './market.routes'

// biome-ignore lint: bodies are asserted field by field
type Json = any
const DispatchPage = DISPATCH.page
const Accepted = submitDispatch.responses[202].content['application/json'].schema
const History = listDispatchRevisions.responses[200].content['application/json'].schema
const NOW = Date.parse('2026-04-01T00:03:00Z')
const INTERVAL = '2026-04-01T00:05:00Z'

let harness: Awaited<ReturnType<typeof createHarness>>
afterEach(() => harness?.close())

const post = (body: unknown, key?: string) =>
  harness.api.request('/api/v1/dispatch', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { apikey: key } : {}) },
    body: JSON.stringify(body),
  })

const get = async (path: string, key?: string): Promise<Json> =>
  (await harness.api.request(path, { headers: key ? { apikey: key } : {} })).json()

async function expectProblem(response: Response, status: number, code: string) {
  expect(response.status).toBe(status)
  expect(response.headers.get('content-type')).toBe('application/problem+json')
  const body = ProblemSchema.parse(await response.json())
  expect(body.type).toEndWith(`/${code}`)
  return body
}

async function accepted(response: Response) {
  expect(response.status).toBe(202)
  return Accepted.parse(await response.json())
}

/** Manual rows of one region, once the projection shows `predicate`. */
const manualRows = (
  region: RegionId,
  predicate: (rows: MarketDispatchEvent[]) => boolean,
  key?: string
) =>
  waitFor(async () => {
    const page = DispatchPage.parse(await get(`/api/v1/dispatch?region_id=${region}`, key))
    const rows = page.data.filter((r) => r.source === 'api')
    return predicate(rows) && rows
  }, 'the manual rows')

/** An event as the SCADA source emits it: real numbers from the 2021 live sample's pumps. */
const scadaEvent = (
  region_id: RegionId,
  fuel_type: FuelType,
  value_mw: number
): MarketDispatchEvent => ({
  event_id: eventIdFor({
    event_type: 'MarketDispatchEvent',
    source: 'aemo.dispatch_scada',
    region_id,
    fuel_type,
    interval_end: INTERVAL,
  }),
  event_type: 'MarketDispatchEvent',
  schema_version: 1,
  correlation_id: 'PUBLIC_DISPATCHSCADA_202604011005_0000000000000001.zip',
  source: 'aemo.dispatch_scada',
  source_file: 'PUBLIC_DISPATCHSCADA_202604011005_0000000000000001.zip',
  source_sha256: 'a'.repeat(64),
  source_row: null,
  ingested_at: '2026-04-01T00:05:30.000Z',
  region_id,
  fuel_type,
  interval_end: INTERVAL,
  value_mw,
  unit_count: 2,
})

describe('manual writes follow the model', () => {
  test.each([
    ['battery charging at +500 MW', 'battery_charging', 500],
    ['battery discharging below zero', 'battery_discharging', -20],
    ['negative wind', 'wind', -1],
    ['negative hydro (pumping comes only from SCADA)', 'hydro', -236.86],
  ] as const)('rejects %s with 400 naming value_mw', async (_, fuel_type, value_mw) => {
    harness = await createHarness({ now: () => NOW })
    const problem = await expectProblem(
      await post({ region_id: 'NSW1', fuel_type, value_mw, interval_end: INTERVAL }),
      400,
      'validation_failed'
    )
    expect(problem.errors).toEqual([expect.objectContaining({ pointer: '/value_mw' })])
    const ends = await harness.bus.endOffsets(['market.dispatch'])
    expect([...ends.values()].every((offset) => offset === 0n)).toBe(true)
  })

  test('accepts charging as a negative value and zero for generation', async () => {
    harness = await createHarness({ now: () => NOW })
    await accepted(
      await post({
        region_id: 'SA1',
        fuel_type: 'battery_charging',
        value_mw: -500,
        interval_end: INTERVAL,
      })
    )
    await accepted(
      await post({
        region_id: 'SA1',
        fuel_type: 'utility_solar',
        value_mw: 0,
        interval_end: INTERVAL,
      })
    )
  })
})

describe('manual writes never rewrite history', () => {
  const body = { region_id: 'SA1', fuel_type: 'wind', value_mw: 812.5, interval_end: INTERVAL }

  test('the same body twice is one write: 202 with the same event id', async () => {
    harness = await createHarness({ now: () => NOW })
    const first = await accepted(await post(body))
    const second = await accepted(await post(body))
    await manualRows('SA1', (rows) => rows.length === 1)
    const third = await accepted(await post(body))

    expect(first.revision).toBe(1)
    // Revision 1 keeps the id readings had before revisions existed.
    expect(first.event_id).toBe(
      eventIdFor({
        event_type: 'MarketDispatchEvent',
        source: 'api',
        region_id: 'SA1',
        fuel_type: 'wind',
        interval_end: INTERVAL,
      })
    )
    expect(second.event_id).toBe(first.event_id)
    expect(third.event_id).toBe(first.event_id)
    const ends = await harness.bus.endOffsets(['market.dispatch'])
    expect([...ends.values()].reduce((a, b) => a + b, 0n)).toBe(1n)
  })

  test('a different value for the same key is 409 saying which event exists and how to revise', async () => {
    harness = await createHarness({ now: () => NOW })
    const first = await accepted(await post(body))
    // Before and after the projection has applied the first write.
    const early = await expectProblem(await post({ ...body, value_mw: 1 }), 409, 'conflict')
    await manualRows('SA1', (rows) => rows.length === 1)
    const late = await expectProblem(await post({ ...body, value_mw: 1 }), 409, 'conflict')

    for (const problem of [early, late]) {
      expect(problem.detail).toContain(first.event_id)
      expect(problem.detail).toContain('812.5 MW')
      expect(problem.detail).toContain('"revision": 2')
    }
    const rows = await manualRows('SA1', (r) => r.length === 1)
    expect(rows[0]).toMatchObject({ event_id: first.event_id, value_mw: 812.5, revision: 1 })
  })

  test('concurrent conflicting POSTs: exactly one is accepted', async () => {
    harness = await createHarness({ now: () => NOW })
    const responses = await Promise.all(
      [100, 200, 300, 400].map((value_mw) => post({ ...body, value_mw }))
    )
    expect(responses.map((r) => r.status).sort()).toEqual([202, 409, 409, 409])
    const ends = await harness.bus.endOffsets(['market.dispatch'])
    expect([...ends.values()].reduce((a, b) => a + b, 0n)).toBe(1n)
  })

  test('an explicit revision is audited: new value, revision, writer and previous value', async () => {
    harness = await createHarness({ now: () => NOW, keys: true })
    const risk = harness.createKey('risk', 'write')
    const operations = harness.createKey('operations', 'write')
    const first = await accepted(await post(body, risk))
    await manualRows('SA1', (rows) => rows.length === 1, risk)

    const revised = await accepted(await post({ ...body, value_mw: 790, revision: 2 }, operations))
    const again = await accepted(await post({ ...body, value_mw: 790, revision: 2 }, operations))
    const rows = await manualRows('SA1', (r) => r[0]?.revision === 2, risk)

    expect(revised.revision).toBe(2)
    expect(revised.event_id).not.toBe(first.event_id)
    expect(again.event_id).toBe(revised.event_id)
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({
      event_id: revised.event_id,
      value_mw: 790,
      revision: 2,
      written_by: 'operations',
      previous_value_mw: 812.5,
    })
    const history = History.parse(
      await get(
        `/api/v1/dispatch/revisions?region_id=SA1&fuel_type=wind&interval_end=${encodeURIComponent('2026-04-01T10:05:00+10:00')}`,
        risk
      )
    )
    expect(history.current_revision).toBe(2)
    expect(history.data).toEqual([
      expect.objectContaining({
        event_id: first.event_id,
        revision: 1,
        value_mw: 812.5,
        previous_value_mw: null,
        written_by: 'risk',
        written_at: '2026-04-01T00:03:00.000Z',
      }),
      expect.objectContaining({
        event_id: revised.event_id,
        revision: 2,
        value_mw: 790,
        previous_value_mw: 812.5,
        written_by: 'operations',
      }),
    ])
    // Revision 1 is history now: replaying its body is still the same write, changing it is not.
    expect((await accepted(await post(body, risk))).event_id).toBe(first.event_id)
    await expectProblem(await post({ ...body, value_mw: 5 }, risk), 409, 'conflict')
    await expectProblem(await post({ ...body, value_mw: 5, revision: 2 }, risk), 409, 'conflict')
    const gap = await expectProblem(
      await post({ ...body, value_mw: 5, revision: 4 }, risk),
      409,
      'conflict'
    )
    expect(gap.detail).toContain('"revision": 3')
  })

  test('a revision of a reading that does not exist is 409; an unknown history is 404', async () => {
    harness = await createHarness({ now: () => NOW })
    const problem = await expectProblem(await post({ ...body, revision: 2 }), 409, 'conflict')
    expect(problem.detail).toContain('without "revision"')
    await expectProblem(
      await harness.api.request(
        `/api/v1/dispatch/revisions?region_id=SA1&fuel_type=wind&interval_end=${INTERVAL}`
      ),
      404,
      'not_found'
    )
  })

  test("AEMO's row for the same region, fuel and interval is a different row and stays untouched", async () => {
    harness = await createHarness({ now: () => NOW })
    const scada = scadaEvent('SA1', 'wind', 1204.37)
    // A pumping load as SCADA reports it: negative generation is legitimate from AEMO.
    const pump = scadaEvent('SA1', 'hydro', -236.86)
    await harness.bus.publish([scada, pump])
    await waitFor(() => harness.queries.stats().totals.dispatch === 2, 'the SCADA rows')

    await accepted(await post(body))
    await manualRows('SA1', (rows) => rows.length === 1)
    await accepted(await post({ ...body, value_mw: 800, revision: 2 }))
    await manualRows('SA1', (rows) => rows[0]?.revision === 2)

    const page = DispatchPage.parse(await get('/api/v1/dispatch?region_id=SA1'))
    expect(page.data.filter((r) => r.source === 'aemo.dispatch_scada')).toEqual(
      expect.arrayContaining([scada, pump])
    )
    expect(page.data).toHaveLength(3)
    // AEMO's rows carry none of the manual audit fields.
    expect(page.data.find((r) => r.event_id === scada.event_id)).toEqual(scada)
  })
})

describe('the projection is the authority when writers race past the API check', () => {
  test('a second value for a filled slot is a conflict dead letter, not an overwrite', async () => {
    harness = await createHarness({ now: () => NOW })
    // Two nodes both passed their check and published revision 1 of the same key.
    const winner = dispatchEvent('VIC1', 'gas', INTERVAL, 300, 'node-a')
    const loser = {
      ...dispatchEvent('VIC1', 'gas', INTERVAL, 450, 'node-b'),
      written_by: 'trading',
    }
    // And a revision written against the value that lost.
    const stale = {
      ...dispatchEvent('VIC1', 'gas', INTERVAL, 460, 'node-b'),
      event_id: eventIdFor({
        event_type: 'MarketDispatchEvent',
        source: 'api',
        region_id: 'VIC1',
        fuel_type: 'gas',
        interval_end: INTERVAL,
        revision: 2,
      }),
      revision: 2,
      previous_value_mw: 450,
    }
    const charging = { ...dispatchEvent('VIC1', 'battery_charging', INTERVAL, 50), revision: 1 }
    await harness.bus.publish([winner, loser, stale, charging])

    const dlq = await waitFor(async () => {
      const page = await get('/api/v1/dlq?topic=market.dispatch')
      return page.data.length === 3 && page.data
    }, 'three dead letters')
    const rows = await manualRows('VIC1', (r) => r.length === 1)

    expect(rows[0]).toMatchObject({ event_id: winner.event_id, value_mw: 300, revision: 1 })
    expect(dlq.map((d: Json) => d.code).sort()).toEqual([
      'conflict',
      'conflict',
      'validation_failed',
    ])
    const lost = dlq.find((d: Json) => d.reason.includes('is already 300 MW'))
    expect(lost.reason).toContain(winner.event_id)
    expect(JSON.parse(lost.raw)).toEqual(loser)
    // Replaying it would only be refused again: the API says how to proceed instead.
    const replay = await harness.api.request(`/api/v1/dlq/${lost.dead_letter_id}/replay`, {
      method: 'POST',
    })
    expect((await expectProblem(replay, 422, 'not_replayable')).detail).toContain('revision')
  })
})
