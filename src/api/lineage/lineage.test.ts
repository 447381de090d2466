import { afterEach, describe, expect, test } from 'bun:test'
import { expectProblem, json } from '../../../tests/support/api'
import { waitFor } from '../../../tests/support/events'
import { createHarness } from '../../../tests/support/harness'
import { getLineage, getTrace } from './lineage.routes'

const Lineage = getLineage.responses[200].content['application/json'].schema
const Trace = getTrace.responses[200].content['application/json'].schema
const NOW = Date.parse('2026-04-01T00:03:00Z')

let harness: Awaited<ReturnType<typeof createHarness>>
afterEach(() => harness?.close())

const post = (body: unknown, correlationId: string) =>
  harness.api.request('/api/v1/dispatch', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-correlation-id': correlationId },
    body: JSON.stringify(body),
  })

const reading = { region_id: 'SA1', fuel_type: 'wind', interval_end: '2026-04-01T00:05:00Z' }

describe('trace and lineage of a POST', () => {
  test('the trace shows the request, the event and its log position, in time order', async () => {
    harness = await createHarness({ now: () => NOW })
    const written = await json(post({ ...reading, value_mw: 412.5 }, 'demo-trace-1'))
    const eventId = written.event_id as string
    await waitFor(() => harness.queries.lineage.event(eventId) !== undefined, 'the projection')

    const response = await harness.api.request('/api/v1/trace/demo-trace-1')
    expect(response.status).toBe(200)
    const trace = Trace.parse(await response.json())
    expect(trace.items.map((i) => i.kind)).toEqual(['request', 'event'])
    expect(trace.items[0]).toMatchObject({
      method: 'POST',
      path: '/api/v1/dispatch',
      status: 202,
    })
    const ends = await harness.bus.endOffsets(['market.dispatch'])
    const [position] = [...ends].filter(([, end]) => end > 0n)
    expect(trace.items[1]).toMatchObject({
      event_id: eventId,
      event_type: 'MarketDispatchEvent',
      log: {
        topic: 'market.dispatch',
        partition: Number(position![0].split('/')[1]),
        offset: Number(position![1] - 1n),
      },
    })
  })

  test('the lineage of a revision names the revision it replaced', async () => {
    harness = await createHarness({ now: () => NOW })
    const first = await json(post({ ...reading, value_mw: 400 }, 'rev-1'))
    await waitFor(() => harness.queries.lineage.event(first.event_id) !== undefined, 'revision 1')
    const second = await json(post({ ...reading, value_mw: 410, revision: 2 }, 'rev-2'))
    await waitFor(() => harness.queries.lineage.event(second.event_id) !== undefined, 'revision 2')

    const lineage = Lineage.parse(
      await json(harness.api.request(`/api/v1/lineage/${second.event_id}`))
    )
    expect(lineage).toMatchObject({
      event_id: second.event_id,
      correlation_id: 'rev-2',
      source: 'api',
      file: null,
      revision: 2,
      log: { topic: 'market.dispatch' },
      earlier_revisions: [
        { event_id: first.event_id, revision: 1, value_mw: 400, correlation_id: 'rev-1' },
      ],
    })
    // The replaced revision keeps its own lineage, and names what replaced it.
    const old = Lineage.parse(await json(harness.api.request(`/api/v1/lineage/${first.event_id}`)))
    expect(old).toMatchObject({
      revision: 1,
      correlation_id: 'rev-1',
      superseded_by: second.event_id,
      log: { topic: 'market.dispatch', partition: expect.any(Number), offset: expect.any(Number) },
    })
  })

  test('unknown ids are 404 problems, malformed ones 400', async () => {
    harness = await createHarness()
    const api = harness.api
    await expectProblem(
      await api.request(`/api/v1/lineage/${crypto.randomUUID()}`),
      404,
      'not_found'
    )
    await expectProblem(await api.request('/api/v1/lineage/not-a-uuid'), 400, 'validation_failed')
    await expectProblem(await api.request('/api/v1/trace/nobody-sent-this'), 404, 'not_found')
    await expectProblem(await api.request('/api/v1/trace/%20bad%20id'), 400, 'validation_failed')
  })

  test('a failed request is traced; a read is not', async () => {
    harness = await createHarness()
    await harness.api.request('/api/v1/prices', { headers: { 'x-correlation-id': 'read-1' } })
    const bad = await harness.api.request('/api/v1/prices?region_id=XX', {
      headers: { 'x-correlation-id': 'read-2' },
    })
    expect(bad.status).toBe(400)
    expect((await harness.api.request('/api/v1/trace/read-1')).status).toBe(404)
    const trace = Trace.parse(await json(harness.api.request('/api/v1/trace/read-2')))
    expect(trace.items).toEqual([expect.objectContaining({ kind: 'request', status: 400 })])
  })
})
