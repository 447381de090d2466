import { describe, expect, test } from 'bun:test'
import { createReadiness, silentLogger } from '@/observability'
import { createReadPort, openProjectionDb } from '@/projection'
import { expectProblem } from '../../../tests/support/api'
import { createApi } from '../app'

describe('GET /ready', () => {
  test('is 503 problem+json listing the failing check', async () => {
    const db = openProjectionDb(':memory:')
    const api = createApi({
      queries: createReadPort(db),
      publish: async () => {},
      readiness: createReadiness({
        database: { required: true, run: () => ({ ok: true }) },
        event_log: { required: true, run: () => ({ ok: false, detail: 'broker unreachable' }) },
      }),
      log: silentLogger(),
      version: 'test',
    })
    const body = await expectProblem(await api.request('/ready'), 503, 'upstream_unavailable')
    expect(body.detail).toContain('event_log: broker unreachable')
  })
})
