import { createRoute, z } from '@hono/zod-openapi'
import { DeadLetterSchema } from '@/canonical'
import { component, rangeQuery } from '../common'
import { problemResponses } from '../problem'
import { FormatSchema, listContract } from '../series'

export const DEAD_LETTERS = listContract(
  'dlq',
  component(DeadLetterSchema, 'DeadLetter'),
  'DeadLetterPage',
  'A page of dead letters'
)

export const listDeadLetters = createRoute({
  operationId: 'listDeadLetters',
  method: 'get',
  path: '/api/v1/dlq',
  tags: ['Operations'],
  summary:
    'Rejected input (dead letters) with reason, topic, time and correlation id, newest first',
  request: {
    query: z
      .object({
        topic: z
          .string()
          .max(64)
          .optional()
          .openapi({ description: 'Original topic, e.g. market.prices' }),
        ...rangeQuery,
        format: FormatSchema,
      })
      .strict(),
  },
  responses: {
    200: DEAD_LETTERS.ok,
    ...problemResponses(400),
  },
})

export const ReplayResultSchema = z
  .object({
    status: z.literal('replayed'),
    dead_letter_id: z.uuid(),
    event_id: z.uuid(),
    correlation_id: z.string(),
  })
  .openapi('ReplayResult')

export const replayDeadLetter = createRoute({
  operationId: 'replayDeadLetter',
  method: 'post',
  path: '/api/v1/dlq/{id}/replay',
  tags: ['Operations'],
  summary: 'Re-validate a dead letter against the current canonical model and re-publish it',
  description:
    'For payloads that are canonical events (poison messages, API input). The event id is deterministic, so ' +
    'replaying twice is harmless. Upstream files rejected whole (truncated, corrupt) are replayed by re-polling ' +
    'or `gridpulse backfill`, and single CSV rows by re-ingesting their file: those answer 422.',
  request: { params: z.object({ id: z.uuid() }) },
  responses: {
    202: {
      description: 'Re-published',
      content: { 'application/json': { schema: ReplayResultSchema } },
    },
    ...problemResponses(400, 404, 422),
  },
})
