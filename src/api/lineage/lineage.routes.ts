import { createRoute, z } from '@hono/zod-openapi'
import { EVENT_TYPES, UtcInstantSchema } from '@/canonical'
import { WELL_FORMED_CORRELATION_ID } from '../middleware'
import { problemResponses } from '../problem'

/** Where the projector read an event: its topic, partition and offset on the log. */
const LogPositionSchema = z
  .object({
    topic: z.string().describe('Kafka topic (or the embedded log topic of the same name)'),
    partition: z.number().int().nullable(),
    offset: z.number().int().nullable(),
  })
  .openapi('LogPosition')

const versionShape = {
  event_id: z.uuid(),
  correlation_id: z.string(),
  source: z.string(),
  file: z
    .object({
      name: z.string().describe('The upstream file (or URL) the event was derived from'),
      sha256: z.string().nullable().describe('sha256 of the file as fetched'),
      row: z
        .number()
        .int()
        .nullable()
        .describe('Line in the file (1-based); null when the event aggregates several rows'),
      url: z.string().nullable().describe('Where it was downloaded from'),
      size_bytes: z.number().int().nullable().describe('Size as downloaded, bytes'),
      listed_at: UtcInstantSchema.nullable().describe(
        "When the publisher's listing dated it (NEMWeb: minute precision)"
      ),
      fetched_at: UtcInstantSchema.nullable().describe('When its download ended'),
    })
    .nullable()
    .describe(
      'Null for events written through the API. url, size, listed_at and fetched_at are null for files GridPulse has no record of (Archive backfills, Open-Meteo responses, events from before file records)'
    ),
  ingested_at: UtcInstantSchema.describe('When GridPulse normalised the event'),
  projected_at: UtcInstantSchema.nullable().describe(
    'When this node projected it (made it queryable); null only for a replaced manual revision written before lineage existed'
  ),
  log: LogPositionSchema,
}

const ReplacedVersionSchema = z
  .object({
    ...versionShape,
    replaced_at: UtcInstantSchema.describe('When the newer version was projected'),
  })
  .openapi('ReplacedVersion')

const ManualRevisionSchema = z
  .object({
    event_id: z.uuid(),
    revision: z.number().int(),
    value_mw: z.number(),
    written_by: z.string().nullable(),
    written_at: UtcInstantSchema,
    correlation_id: z.string(),
  })
  .openapi('ManualRevision')

export const LineageSchema = z
  .object({
    ...versionShape,
    event_type: z.enum(EVENT_TYPES as [string, ...string[]]),
    intervention: z
      .boolean()
      .nullable()
      .describe('An intervention run was in effect (streams that have the flag; null elsewhere)'),
    revision: z.number().int().nullable().describe('Manual readings: revision (1 = first write)'),
    superseded_by: z
      .uuid()
      .nullable()
      .describe('Manual readings no longer current: the event id of the revision that replaced it'),
    replaced: z
      .array(ReplacedVersionSchema)
      .describe(
        'Earlier versions of this event id from other files (a revised or re-published AEMO file, a NOT FIRM price made FIRM), oldest first'
      ),
    earlier_revisions: z
      .array(ManualRevisionSchema)
      .describe('Manual readings: the revisions this one replaced, oldest first'),
  })
  .openapi('Lineage')

export const getLineage = createRoute({
  operationId: 'getLineage',
  method: 'get',
  path: '/api/v1/lineage/{event_id}',
  tags: ['Operations'],
  summary:
    'Where an event came from: its file and row, log position, projection and replaced versions',
  request: { params: z.object({ event_id: z.uuid().describe('The event id') }) },
  responses: {
    200: {
      description: 'The stored event’s lineage',
      content: { 'application/json': { schema: LineageSchema } },
    },
    ...problemResponses(400, 404),
  },
})

const TraceItemSchema = z
  .discriminatedUnion('kind', [
    z.object({
      kind: z.literal('request'),
      at: UtcInstantSchema,
      method: z.string(),
      path: z.string(),
      route: z.string(),
      status: z.number().int(),
      duration_ms: z.number().nullable(),
      consumer: z.string().nullable(),
    }),
    z.object({
      kind: z.literal('event'),
      at: UtcInstantSchema.describe('When the event was ingested'),
      event_id: z.uuid(),
      event_type: z.string(),
      source: z.string(),
      projected_at: UtcInstantSchema.nullable(),
      log: LogPositionSchema,
    }),
    z.object({
      kind: z.literal('file'),
      at: UtcInstantSchema.describe('When the file was fetched'),
      event_id: z.uuid().describe("The file record's event id (topic sources.files)"),
      name: z.string(),
      url: z.string(),
      sha256: z.string().nullable(),
      size_bytes: z.number().int(),
      listed_at: UtcInstantSchema.nullable(),
      projected_at: UtcInstantSchema,
      log: LogPositionSchema,
    }),
    z.object({
      kind: z.literal('dead_letter'),
      at: UtcInstantSchema.describe('When the input was rejected'),
      dead_letter_id: z.uuid(),
      topic: z.string(),
      code: z.string(),
      reason: z.string(),
      source_file: z.string().nullable(),
      row: z.number().int().nullable(),
    }),
  ])
  .openapi('TraceItem')

export const TraceSchema = z
  .object({
    correlation_id: z.string(),
    items: z.array(TraceItemSchema).describe('In time order'),
  })
  .openapi('Trace')

export const getTrace = createRoute({
  operationId: 'getTrace',
  method: 'get',
  path: '/api/v1/trace/{correlation_id}',
  tags: ['Operations'],
  summary: 'Everything that carried a correlation id: API requests, events, dead letters',
  description:
    'Requests are the writes and failed requests this node served (reads are in the request log ' +
    'only), kept up to TRACE_REQUESTS_MAX. Events are those written through the API with the id. ' +
    'A polled file’s id (one per file) gives the file record (URL, sha256, size, listing and fetch ' +
    'times, log position) and its dead letters; its events are reached by event id ' +
    '(`/api/v1/lineage`). Dead letters of any origin.',
  request: {
    params: z.object({
      correlation_id: z
        .string()
        .regex(WELL_FORMED_CORRELATION_ID)
        .describe('As sent or received in X-Correlation-ID'),
    }),
  },
  responses: {
    200: {
      description: 'What carried the id, in time order',
      content: { 'application/json': { schema: TraceSchema } },
    },
    ...problemResponses(400, 404),
  },
})
