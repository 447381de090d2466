import { createRoute, z } from '@hono/zod-openapi'
import { RegionIdSchema, WeatherObservationSchema } from '@/canonical'
import { component, rangeQuery } from '../common'
import { problemResponses } from '../problem'
import { seriesContract, seriesQuery } from '../series'

export const WEATHER = seriesContract(
  'weather',
  component(WeatherObservationSchema, 'WeatherObservation'),
  { page: 'WeatherPage', bucket: 'WeatherBucket' },
  'A page of observations'
)

export const listWeather = createRoute({
  operationId: 'listWeatherObservations',
  method: 'get',
  path: '/api/v1/weather',
  tags: ['Weather'],
  summary: 'Weather observations at NEM region centres (Open-Meteo), newest first',
  request: {
    query: z
      .object({ region_id: RegionIdSchema.optional(), ...rangeQuery, ...seriesQuery })
      .strict(),
  },
  responses: {
    200: WEATHER.ok,
    ...problemResponses(400),
  },
})
