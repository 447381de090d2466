import type { GridEvent } from '@/canonical'
import { toUtcIso } from '@/lib'
import type { ReadPort } from '@/projection/read-port'
import { problem } from '../problem'
import { declareReads } from '../response-cache'
import { createRouter } from '../router'
import { serveSeries } from '../series'
import { createManualWrites, submitManualReading } from './manual-writes'
import {
  DISPATCH,
  INTERCONNECTORS,
  listDispatch,
  listDispatchRevisions,
  listInterconnectorFlows,
  listPrices,
  PRICES,
  submitDispatch,
} from './market.routes'

export interface MarketDeps {
  readonly queries: Pick<ReadPort, 'dispatch' | 'prices' | 'interconnectors'>
  /** Publishes through the event log (embedded or Kafka); resolves once durable. */
  readonly publish: (events: readonly GridEvent[]) => Promise<void>
  readonly now: () => number
}

export const marketRouter = (deps: MarketDeps) => {
  const manual = createManualWrites(deps.queries)
  return createRouter()
    .openapi(listDispatch, (c) => {
      const q = c.req.valid('query')
      return serveSeries(c, DISPATCH, deps.queries.dispatch, {
        ...q,
        regionId: q.region_id,
        fuelType: q.fuel_type,
      })
    })
    .openapi(submitDispatch, async (c) => {
      const outcome = await submitManualReading(manual, deps, c.req.valid('json'), {
        correlation_id: c.get('correlationId'),
        // The canonical field holds at most 128 characters; consumer names are far shorter in practice.
        written_by: c.get('consumer')?.slice(0, 128),
      })
      if (outcome.kind === 'accepted') {
        const { kind: _, ...accepted } = outcome
        return c.json({ status: 'accepted' as const, ...accepted }, 202)
      }
      const status = outcome.kind === 'invalid' ? 400 : 409
      const code = outcome.kind === 'invalid' ? 'validation_failed' : 'conflict'
      return problem(c, status, code, outcome.detail, outcome.errors)
    })
    .openapi(listDispatchRevisions, (c) => {
      const q = c.req.valid('query')
      const interval_end = toUtcIso(Date.parse(q.interval_end))
      declareReads(c, ['MarketDispatchEvent'])
      const data = deps.queries.dispatch.revisions(q.region_id, q.fuel_type, interval_end)
      if (data.length === 0) {
        return problem(
          c,
          404,
          'not_found',
          `no manual reading for ${q.region_id} ${q.fuel_type} at ${interval_end}`
        )
      }
      return c.json(
        {
          region_id: q.region_id,
          fuel_type: q.fuel_type,
          interval_end,
          current_revision: data[data.length - 1]!.revision,
          data,
          correlation_id: c.get('correlationId'),
        },
        200
      )
    })
    .openapi(listPrices, (c) => {
      const q = c.req.valid('query')
      return serveSeries(c, PRICES, deps.queries.prices, { ...q, regionId: q.region_id })
    })
    .openapi(listInterconnectorFlows, (c) => {
      const q = c.req.valid('query')
      return serveSeries(c, INTERCONNECTORS, deps.queries.interconnectors, {
        ...q,
        interconnectorId: q.interconnector_id,
      })
    })
}
