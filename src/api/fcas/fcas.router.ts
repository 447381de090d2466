import type { ReadPort } from '@/projection/read-port'
import { envelope } from '../common'
import { createRouter } from '../router'
import { listFcasPrices } from './fcas.routes'

export const fcasRouter = (deps: { queries: Pick<ReadPort, 'fcas'> }) =>
  createRouter().openapi(listFcasPrices, (c) => {
    const q = c.req.valid('query')
    const page = deps.queries.fcas.list({ ...q, regionId: q.region_id })
    return c.json(envelope(c, page, q.limit), 200)
  })
