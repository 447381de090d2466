import type { ReadPort } from '@/projection/read-port'
import { createRouter } from '../router'
import { serveSeries } from '../series'
import { listRooftopPv, ROOFTOP } from './rooftop.routes'

export const rooftopRouter = (deps: { queries: Pick<ReadPort, 'rooftop'> }) =>
  createRouter().openapi(listRooftopPv, (c) => {
    const { region_id, estimate, ...q } = c.req.valid('query')
    return serveSeries(c, ROOFTOP, deps.queries.rooftop, {
      ...q,
      regionId: region_id,
      ...(estimate === 'preferred'
        ? { preferred: true }
        : estimate === 'all'
          ? {}
          : { estimateType: estimate }),
    })
  })
