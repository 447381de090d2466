import type { Queries } from '@/projection/queries'
import { problem } from '../problem'
import { envelope } from '../common'
import { createRouter } from '../router'
import { getGenerationMix, listReconciliation } from './generation.routes'

export const generationRouter = (deps: {
  queries: Pick<Queries, 'generationMix' | 'reconciliation'>
}) =>
  createRouter()
    .openapi(getGenerationMix, (c) => {
      const { region_id, interval_end } = c.req.valid('query')
      const mix = deps.queries.generationMix(region_id, interval_end)
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
      const q = c.req.valid('query')
      const page = deps.queries.reconciliation.list(q)
      return c.json(envelope(c, page, q.limit), 200)
    })
