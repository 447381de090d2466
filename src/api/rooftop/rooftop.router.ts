import type { ReadPort } from '@/projection/read-port'
import { envelope } from '../common'
import { createRouter } from '../router'
import { listRooftopPv } from './rooftop.routes'

export const rooftopRouter = (deps: { queries: Pick<ReadPort, 'rooftop'> }) =>
  createRouter().openapi(listRooftopPv, (c) => {
    const { region_id, estimate, ...q } = c.req.valid('query')
    const page = deps.queries.rooftop.list({
      ...q,
      regionId: region_id,
      ...(estimate === 'preferred'
        ? { preferred: true }
        : estimate === 'all'
          ? {}
          : { estimateType: estimate }),
    })
    return c.json(envelope(c, page, q.limit), 200)
  })
