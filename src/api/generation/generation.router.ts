import type { ReadPort } from '@/projection/read-port'
import { problem } from '../problem'
import { envelope } from '../common'
import { createRouter } from '../router'
import { getGenerationMix, listReconciliation, listRenewables } from './generation.routes'

export const generationRouter = (deps: {
  queries: Pick<ReadPort, 'generation' | 'reconciliation'>
}) =>
  createRouter()
    .openapi(getGenerationMix, (c) => {
      const { region_id, interval_end } = c.req.valid('query')
      const mix = deps.queries.generation.mix(region_id, interval_end)
      if (!mix)
        return problem(
          c,
          404,
          'not_found',
          `no SCADA generation for ${region_id}${interval_end ? ` at ${interval_end}` : ''}`
        )
      return c.json({ ...mix, correlation_id: c.get('correlationId') }, 200)
    })
    .openapi(listRenewables, (c) => {
      const { region_id, ...q } = c.req.valid('query')
      const page = deps.queries.generation.renewables({ ...q, regionId: region_id })
      return c.json(envelope(c, page, q.limit), 200)
    })
    .openapi(listReconciliation, (c) => {
      const q = c.req.valid('query')
      const page = deps.queries.reconciliation.list(q)
      return c.json(envelope(c, page, q.limit), 200)
    })
