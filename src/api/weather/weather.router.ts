import type { ReadPort } from '@/projection/read-port'
import { envelope } from '../common'
import { createRouter } from '../router'
import { listWeather } from './weather.routes'

export const weatherRouter = (deps: { queries: Pick<ReadPort, 'weather'> }) =>
  createRouter().openapi(listWeather, (c) => {
    const q = c.req.valid('query')
    const page = deps.queries.weather.list({ ...q, regionId: q.region_id })
    return c.json(envelope(c, page, q.limit), 200)
  })
