import type { ReadPort } from '@/projection/read-port'
import { createRouter } from '../router'
import { serveSeries } from '../series'
import { CURTAILMENT, listCurtailment, listStorage, STORAGE } from './curtailment-storage.routes'

/** Curtailment and storage: two views of the region rows of the price stream (DISPATCH.REGIONSUM). */
export const curtailmentStorageRouter = (deps: { queries: Pick<ReadPort, 'prices'> }) =>
  createRouter()
    .openapi(listCurtailment, (c) => {
      const q = c.req.valid('query')
      const curtailment = deps.queries.prices.curtailment
      return serveSeries(c, CURTAILMENT, curtailment, { ...q, regionId: q.region_id })
    })
    .openapi(listStorage, (c) => {
      const q = c.req.valid('query')
      return serveSeries(c, STORAGE, deps.queries.prices.storage, { ...q, regionId: q.region_id })
    })
