import { createRoute, z } from '@hono/zod-openapi'
import { RegionIdSchema, WeatherObservationSchema } from '@/canonical'
import { component, pageOf, rangeQuery } from '../common'
import { problemResponses } from '../problem'

export const listWeather = createRoute({
  operationId: 'listWeatherObservations',
  method: 'get',
  path: '/api/v1/weather',
  tags: ['Weather'],
  summary: 'Weather observations at NEM region centres (Open-Meteo), newest first',
  request: {
    query: z.object({ region_id: RegionIdSchema.optional(), ...rangeQuery }).strict(),
  },
  responses: {
    200: {
      description: 'A page of observations',
      content: {
        'application/json': {
          schema: pageOf(component(WeatherObservationSchema, 'WeatherObservation'), 'WeatherPage'),
        },
      },
    },
    ...problemResponses(400),
  },
})
