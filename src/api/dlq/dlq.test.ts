import { afterEach, describe, expect, test } from 'bun:test'
import type { DeadLetter } from '@/canonical'
import { dispatchEvent, waitFor } from '../../../tests/support/events'
import { createHarness } from '../../../tests/support/harness'

let harness: Awaited<ReturnType<typeof createHarness>>
afterEach(() => harness?.close())

const deadLetter = (id: string, raw: string, code = 'schema_mismatch'): DeadLetter => ({
  dead_letter_id: id,
  topic: 'market.dispatch',
  reason: 'value_mw: Too big',
  code,
  correlation_id: 'corr-1',
  source: 'bus',
  source_file: 'market.dispatch/0@7',
  row: null,
  raw,
  failed_at: '2026-11-28T00:00:00.000Z',
})

describe('dead-letter tools', () => {
  test('a poison message is listed with its reason, topic, time and correlation id', async () => {
    harness = await createHarness()
    const poison = { ...dispatchEvent('SA1', 'wind', '2026-04-01T00:05:00Z', 1), value_mw: 1e9 }
    await harness.bus.publish([poison as never])
    await waitFor(() => harness.queries.stats().totals.dead_letters === 1, 'dead letter')

    const body = (await (
      await harness.api.request('/api/v1/dlq?topic=market.dispatch')
    ).json()) as { data: DeadLetter[] }
    expect(body.data).toEqual([
      expect.objectContaining({
        topic: 'market.dispatch',
        code: 'schema_mismatch',
        correlation_id: 'test-correlation',
        reason: expect.stringContaining('value_mw'),
      }),
    ])
  })

  test('replay re-validates and re-publishes a payload the model now accepts; twice is harmless', async () => {
    harness = await createHarness()
    const event = dispatchEvent('VIC1', 'hydro', '2026-04-01T00:05:00Z', 321)
    const id = '0d7e2f4a-1b3c-5d6e-8f90-a1b2c3d4e5f6'
    await harness.bus.deadLetter([deadLetter(id, JSON.stringify(event))])
    await waitFor(() => harness.queries.stats().totals.dead_letters === 1, 'dead letter')

    const first = await harness.api.request(`/api/v1/dlq/${id}/replay`, { method: 'POST' })
    const second = await harness.api.request(`/api/v1/dlq/${id}/replay`, { method: 'POST' })

    expect(first.status).toBe(202)
    expect(((await first.json()) as { event_id: string }).event_id).toBe(event.event_id)
    expect(second.status).toBe(202)
    await waitFor(() => harness.queries.stats().totals.dispatch === 1, 'replayed event projected')
    expect(harness.queries.dispatch.list({ limit: 5 }).data).toEqual([event])
  })

  test('a payload that is still invalid, or a CSV row, is 422; an unknown id is 404', async () => {
    harness = await createHarness()
    const bad = '0d7e2f4a-1b3c-5d6e-8f90-a1b2c3d4e5f7'
    const csv = '0d7e2f4a-1b3c-5d6e-8f90-a1b2c3d4e5f8'
    await harness.bus.deadLetter([
      deadLetter(
        bad,
        JSON.stringify({
          ...dispatchEvent('SA1', 'wind', '2026-04-01T00:05:00Z', 1),
          value_mw: 1e9,
        })
      ),
      deadLetter(csv, 'D,DISPATCH,PRICE,5,"2026/04/02 10:05:00",1,SA1,0,abc', 'non_numeric_value'),
    ])
    await waitFor(() => harness.queries.stats().totals.dead_letters === 2, 'dead letters')
    const replay = (id: string) =>
      harness.api.request(`/api/v1/dlq/${id}/replay`, { method: 'POST' })

    const stillBad = await replay(bad)
    expect(stillBad.status).toBe(422)
    expect(((await stillBad.json()) as { errors: { pointer: string }[] }).errors[0]!.pointer).toBe(
      '/value_mw'
    )
    expect((await replay(csv)).status).toBe(422)
    expect((await replay('0d7e2f4a-1b3c-5d6e-8f90-a1b2c3d4e5f9')).status).toBe(404)
    expect((await replay('not-a-uuid')).status).toBe(400)
  })
})
