import type { ReadPort } from '@/projection/read-port'
import { problem } from '../problem'
import { declareReads } from '../response-cache'
import { createRouter } from '../router'
import { byPages, serveList, serveSeries } from '../series'
import {
  getGenerationMix,
  listReconciliation,
  listRenewables,
  RECONCILIATION,
  RENEWABLES,
} from './generation.routes'

/** The mix and the renewables share join SCADA (dispatch rows) with rooftop PV estimates. */
const SCADA_AND_ROOFTOP = ['MarketDispatchEvent', 'RooftopPvEvent'] as const

export const generationRouter = (deps: {
  queries: Pick<ReadPort, 'generation' | 'reconciliation'>
}) =>
  createRouter()
    .openapi(getGenerationMix, (c) => {
      const { region_id, interval_end } = c.req.valid('query')
      declareReads(c, SCADA_AND_ROOFTOP)
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
      declareReads(c, SCADA_AND_ROOFTOP)
      const renewables = byPages(deps.queries.generation.renewables)
      return serveList(c, RENEWABLES, renewables, { ...q, regionId: region_id })
    })
    .openapi(listReconciliation, (c) => {
      return serveSeries(c, RECONCILIATION, deps.queries.reconciliation, c.req.valid('query'))
    })
