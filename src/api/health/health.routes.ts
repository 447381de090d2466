import { createRoute, z } from '@hono/zod-openapi'
import { problemResponses } from '../problem'

export const getHealth = createRoute({
  operationId: 'getHealth',
  method: 'get',
  path: '/health',
  tags: ['Operations'],
  summary: 'Liveness: the process answers and no supervised loop has stalled',
  description:
    '503 when a critical loop (projection consumer, outbox relay) has been down, or the projection behind and not moving while the log answers, for longer than LIVENESS_STALL_SECONDS: restart the process. A Kafka outage alone never fails liveness.',
  security: [],
  responses: {
    200: {
      description: 'Alive',
      content: {
        'application/json': {
          schema: z
            .object({
              status: z.literal('healthy'),
              service: z.literal('gridpulse-api'),
              version: z.string(),
              timestamp: z.iso.datetime(),
              cache_stats: z
                .object({ dispatch_events: z.number().int(), weather_events: z.number().int() })
                .describe('Rows in the projection, as the seed API reported its cache'),
            })
            .openapi('Health'),
        },
      },
    },
    ...problemResponses(503),
  },
})

const CheckSchema = z
  .object({ ok: z.boolean(), required: z.boolean(), detail: z.string().optional() })
  .catchall(z.unknown())

export const ReadinessSchema = z
  .object({ status: z.enum(['ready', 'not_ready']), checks: z.record(z.string(), CheckSchema) })
  .openapi('Readiness')

export const getReady = createRoute({
  operationId: 'getReady',
  method: 'get',
  path: '/ready',
  tags: ['Operations'],
  summary:
    'Readiness: database migrated, event log reachable, projection caught up; source freshness reported',
  security: [],
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: ReadinessSchema } } },
    ...problemResponses(503),
  },
})
