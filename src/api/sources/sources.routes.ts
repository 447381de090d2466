import { createRoute, z } from '@hono/zod-openapi'
import { problemResponses } from '../problem'

export const SourceFreshnessSchema = z
  .object({
    source: z.string(),
    last_file: z
      .string()
      .nullable()
      .describe('Newest upstream file (or response) ingested by this node'),
    last_interval: z
      .string()
      .nullable()
      .describe('Newest interval / observation time in the projection, UTC'),
    age_seconds: z.number().nullable().describe('Now minus last_interval'),
    last_success_at: z.string().nullable(),
    last_attempt_at: z.string().nullable(),
    consecutive_failures: z.number().int(),
    last_error: z.string().nullable(),
    polling: z
      .boolean()
      .describe('Whether this node polls the source (only the leader does when scaled out)'),
    gaps: z
      .array(z.string())
      .describe('Missing 5-minute intervals in the last 48 hours, newest first (at most 100)'),
  })
  .openapi('SourceFreshness')

export const listSources = createRoute({
  operationId: 'listSources',
  method: 'get',
  path: '/api/v1/sources',
  tags: ['Operations'],
  summary: 'Freshness of each upstream source: last file, last interval, age, failures, gaps',
  request: { query: z.object({}).strict() },
  responses: {
    200: {
      description: 'Source freshness',
      content: {
        'application/json': {
          schema: z
            .object({ data: z.array(SourceFreshnessSchema), correlation_id: z.string() })
            .openapi('Sources'),
        },
      },
    },
    ...problemResponses(400),
  },
})
