import { createRoute, z } from '@hono/zod-openapi'
import { SOURCE_FAILURE_REASONS } from '@/lib'
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
      .describe(
        'Missing intervals (5-minute; 30-minute for aemo.rooftop_pv) in the last 48 hours, newest first (at most 100)'
      ),
    status: z
      .enum(['up', 'down', 'unknown'])
      .describe(
        "This node's view: `down` from a failed poll until the next successful one; `unknown` before the first poll, or when this node does not poll the source"
      ),
    down_since: z
      .string()
      .nullable()
      .describe(
        'Start of the first failed poll of the outage going on (for a source that never succeeded: the first poll after start), UTC; null when not down'
      ),
    last_failure_reason: z
      .enum(SOURCE_FAILURE_REASONS)
      .nullable()
      .describe(
        'Class of the last failure while down (the `reason` of gridpulse_source_failures_total)'
      ),
    failures_total: z.number().int().describe('Failed polls since this node started'),
    gap_ranges: z
      .array(
        z.object({
          from: z
            .string()
            .describe(
              'End of the last interval with data before the gap, UTC (or the node start, for a source with no data at all)'
            ),
          to: z
            .string()
            .nullable()
            .describe(
              'End of the last missing interval, UTC; null while the gap is still open (nothing has arrived since `from`)'
            ),
          intervals: z
            .number()
            .int()
            .nullable()
            .describe(
              'Intervals of the source’s cadence (5 minutes; 30 for aemo.rooftop_pv) in the gap that should have been published by now; null for sources without a fixed cadence'
            ),
        })
      )
      .describe(
        'Missing data as spans, newest first, not limited to 48 hours: a source that never delivered, or stalled longer than NEMWeb Current keeps files, shows one open span'
      ),
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
