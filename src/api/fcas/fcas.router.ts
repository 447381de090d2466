import type { ReadPort } from '@/projection/read-port'
import { createRouter } from '../router'
import { serveSeries } from '../series'
import { FCAS, listFcasPrices } from './fcas.routes'

export const fcasRouter = (deps: { queries: Pick<ReadPort, 'fcas'> }) =>
  createRouter().openapi(listFcasPrices, (c) => {
    const q = c.req.valid('query')
    return serveSeries(c, FCAS, deps.queries.fcas, { ...q, regionId: q.region_id })
  })
