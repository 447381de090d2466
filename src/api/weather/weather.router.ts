import type { Queries } from '@/projection/queries'
import { createRouter } from '../router'
import { listWeather } from './weather.routes'

export const weatherRouter = (deps: { queries: Queries }) =>
  createRouter().openapi(listWeather, (c) => {
    const q = c.req.valid('query')
    const page = deps.queries.weather.list({ ...q, regionId: q.region_id })
    return c.json(
      { data: page.data, meta: { count: page.data.length, limit: q.limit, next_cursor: page.nextCursor, correlation_id: c.get('correlationId') } },
      200
    )
  })
