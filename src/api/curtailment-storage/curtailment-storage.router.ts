import type { ReadPort } from '@/projection/read-port'
import { envelope } from '../common'
import { createRouter } from '../router'
import { listCurtailment, listStorage } from './curtailment-storage.routes'

/** Curtailment and storage: two views of the region rows of the price stream (DISPATCH.REGIONSUM). */
export const curtailmentStorageRouter = (deps: { queries: Pick<ReadPort, 'prices'> }) =>
  createRouter()
    .openapi(listCurtailment, (c) => {
      const q = c.req.valid('query')
      const page = deps.queries.prices.curtailment({ ...q, regionId: q.region_id })
      return c.json(envelope(c, page, q.limit), 200)
    })
    .openapi(listStorage, (c) => {
      const q = c.req.valid('query')
      const page = deps.queries.prices.storage({ ...q, regionId: q.region_id })
      return c.json(envelope(c, page, q.limit), 200)
    })
