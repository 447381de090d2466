import type { ReadPort } from '@/projection/read-port'
import { createRouter } from '../router'
import { serveSeries } from '../series'
import { listWeather, WEATHER } from './weather.routes'

export const weatherRouter = (deps: { queries: Pick<ReadPort, 'weather'> }) =>
  createRouter().openapi(listWeather, (c) => {
    const q = c.req.valid('query')
    return serveSeries(c, WEATHER, deps.queries.weather, { ...q, regionId: q.region_id })
  })
