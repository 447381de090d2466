import { createRoute, z } from '@hono/zod-openapi'
import { REGION_IDS } from '@/canonical'
import { problemResponses } from '../problem'
import { STREAM_TOPICS } from './position'

const STREAM_NAMES = Object.keys(STREAM_TOPICS)
const csvOf = (allowed: readonly string[], what: string) =>
  z
    .string()
    .regex(
      new RegExp(`^(${allowed.join('|')})(,(${allowed.join('|')}))*$`),
      `a comma-separated list of ${what}: ${allowed.join(', ')}`
    )

const EVENT_ID =
  'The `id:` of the last event received (`<stream>:<offset of partition 0>:<1>:<2>` per stream, comma-separated: for each partition, the next offset to send)'

export const streamEvents = createRoute({
  operationId: 'streamEvents',
  method: 'get',
  path: '/api/v1/stream',
  tags: ['Market'],
  summary: 'Live events as Server-Sent Events, resumable with Last-Event-ID',
  description: [
    'A `text/event-stream` of the canonical events this node has projected (so everything streamed can already be read through the API). Each event: `id:` its log position, `event:` its event type (`RegionPriceEvent`, …), `data:` the canonical JSON.',
    '',
    'Reconnect with the `Last-Event-ID` header (EventSource does it itself) or `last_event_id`: the events missed since that position are replayed from this node, then live ones follow — none missing, none twice, across node restarts and in both bus modes. Order is per log partition (per stream and region); a replay sends each partition in turn.',
    '',
    'Other events: `reset` first, when the position is older than the replay retention (STREAM_RETENTION_HOURS; data: the partitions and where they resumed); `overflow` last, when the client reads too slowly and STREAM_BUFFER_EVENTS events are queued (data.last_event_id says where to resume), after which the stream is closed; `alert` (no `id:`, live only), an alert of a rule the calling consumer owns (/api/v1/alerts; data: the alert). Comment lines (`: keep-alive`) every STREAM_HEARTBEAT_SECONDS keep idle connections open through proxies.',
    '',
    'Connections are limited per key (STREAM_MAX_PER_KEY) and per node (STREAM_MAX_CONNECTIONS): 429 beyond. Try it with `curl -N -H "apikey: …" …/api/v1/stream?stream=prices`.',
  ].join('\n'),
  request: {
    query: z
      .object({
        stream: csvOf(STREAM_NAMES, 'streams')
          .optional()
          .describe('Streams to receive, comma-separated (default: all)')
          .openapi({ example: 'prices,dispatch' }),
        region_id: csvOf(REGION_IDS, 'regions')
          .optional()
          .describe(
            'Regions to receive, comma-separated (default: all). Events with no region (interconnector flows, NEM-wide SCADA reconciliation) are then left out'
          )
          .openapi({ example: 'NSW1,VIC1' }),
        last_event_id: z
          .string()
          .max(4096)
          .optional()
          .describe(`${EVENT_ID}; for clients that cannot set headers (the header wins)`),
      })
      .strict(),
    headers: z.object({
      'last-event-id': z.string().max(4096).optional().describe(EVENT_ID),
    }),
  },
  responses: {
    200: {
      description:
        'An endless Server-Sent Events stream (`id:` / `event:` / `data:` lines; `:` comments are heartbeats)',
      content: {
        'text/event-stream': {
          schema: z.string().openapi({
            example:
              'id: prices:1021:998:1003\nevent: RegionPriceEvent\ndata: {"event_type":"RegionPriceEvent","region_id":"NSW1",…}\n\n',
          }),
        },
      },
    },
    ...problemResponses(400, 503),
  },
})
