import type { ReadPort } from '@/projection/read-port'
import { problem } from '../problem'
import { createRouter } from '../router'
import { serveSeries } from '../series'
import { getGenerationMix, listReconciliation, RECONCILIATION } from './generation.routes'

export const generationRouter = (deps: {
  queries: Pick<ReadPort, 'dispatch' | 'reconciliation'>
}) =>
  createRouter()
    .openapi(getGenerationMix, (c) => {
      const { region_id, interval_end } = c.req.valid('query')
      const mix = deps.queries.dispatch.generationMix(region_id, interval_end)
      if (!mix)
        return problem(
          c,
          404,
          'not_found',
          `no SCADA generation for ${region_id}${interval_end ? ` at ${interval_end}` : ''}`
        )
      return c.json({ ...mix, correlation_id: c.get('correlationId') }, 200)
    })
    .openapi(listReconciliation, (c) => {
      return serveSeries(c, RECONCILIATION, deps.queries.reconciliation, c.req.valid('query'))
    })
