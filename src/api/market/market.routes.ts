import { createRoute, z } from '@hono/zod-openapi'
import {
  type FuelType,
  FuelTypeSchema,
  InterconnectorFlowEventSchema,
  MarketDispatchEventSchema,
  RegionIdSchema,
  RegionPriceEventSchema,
} from '@/canonical'
import { component, IntervalEndSchema, rangeQuery } from '../common'
import { problemResponses } from '../problem'
import { seriesContract, seriesQuery } from '../series'

export const DISPATCH = seriesContract(
  'dispatch',
  component(MarketDispatchEventSchema, 'MarketDispatchEvent'),
  { page: 'DispatchPage', bucket: 'DispatchBucket' },
  'A page of dispatch events'
)
export const PRICES = seriesContract(
  'prices',
  component(RegionPriceEventSchema, 'RegionPriceEvent'),
  { page: 'PricePage', bucket: 'PriceBucket' },
  'A page of price events'
)
export const INTERCONNECTORS = seriesContract(
  'interconnectors',
  component(InterconnectorFlowEventSchema, 'InterconnectorFlowEvent'),
  { page: 'InterconnectorFlowPage', bucket: 'InterconnectorFlowBucket' },
  'A page of interconnector flows'
)

export const listDispatch = createRoute({
  operationId: 'listDispatch',
  method: 'get',
  path: '/api/v1/dispatch',
  tags: ['Market'],
  summary: 'Generation by region and fuel type per 5-minute interval, newest first',
  request: {
    query: z
      .object({
        region_id: RegionIdSchema.optional(),
        fuel_type: FuelTypeSchema.optional(),
        ...rangeQuery,
        ...seriesQuery,
      })
      .strict(),
  },
  responses: {
    200: DISPATCH.ok,
    ...problemResponses(400),
  },
})

const VALUE_MW = MarketDispatchEventSchema.shape.value_mw

/** One shape per sign rule, so that the contract itself says which values a fuel may carry. */
const submission = <F extends z.ZodType<FuelType>>(fuel: F, value: z.ZodNumber) =>
  z
    .object({
      region_id: RegionIdSchema,
      fuel_type: fuel,
      value_mw: value,
      revision: MarketDispatchEventSchema.shape.revision.describe(
        'Which revision of this (region, fuel, interval) reading the body is (default 1, the first write). ' +
          'To correct a reading, send the current revision + 1: it replaces the current value and keeps it as previous_value_mw'
      ),
      // Defaults to the current interval when absent.
      interval_end: IntervalEndSchema.optional(),
    })
    .strict()

export const DispatchSubmissionSchema = z
  .discriminatedUnion('fuel_type', [
    submission(
      z.literal('battery_charging'),
      VALUE_MW.max(0, 'battery_charging is a load: its value_mw must be ≤ 0').describe(
        'MW; a battery charging is a load: ≤ 0'
      )
    ),
    submission(
      FuelTypeSchema.exclude(['battery_charging']),
      VALUE_MW.min(
        0,
        'a manual value_mw must be ≥ 0 for generation (loads as negative generation come only from AEMO SCADA)'
      ).describe(
        'MW ≥ 0 (battery_discharging included); negative generation of other fuels (pumped hydro, auxiliary load) comes only from AEMO SCADA'
      )
    ),
  ])
  .openapi('DispatchSubmission')
export type DispatchSubmission = z.infer<typeof DispatchSubmissionSchema>

export const AcceptedSchema = z
  .object({
    status: z.literal('accepted'),
    event_id: z.uuid(),
    correlation_id: z.string(),
    interval_end: z.string(),
    revision: z.number().int().min(1).describe('The revision this write is (or already was)'),
  })
  .openapi('Accepted')

export const submitDispatch = createRoute({
  operationId: 'submitDispatch',
  method: 'post',
  path: '/api/v1/dispatch',
  tags: ['Market'],
  summary: 'Submit one dispatch reading; it is published through the event log and projected',
  description:
    "Manual readings have source `api` and never touch AEMO's rows for the same region, fuel and interval. " +
    'Each (region, fuel type, interval) reading is a chain of immutable revisions; the event id derives from ' +
    '(region, fuel type, interval, revision), so the same body twice is one write (202, same event id). ' +
    'A different value for a revision that already exists is 409 `conflict`: to correct a reading, POST the new ' +
    'value with `"revision": <current + 1>` (the current revision is on the row in GET /api/v1/dispatch). ' +
    "The row then shows the new value, its `revision`, `written_by` (the key's consumer) and `previous_value_mw`; " +
    'GET /api/v1/dispatch/revisions lists every revision with who wrote it and when. ' +
    'The response is 202 because the reading becomes queryable once the projection has applied it.',
  request: {
    body: { required: true, content: { 'application/json': { schema: DispatchSubmissionSchema } } },
  },
  responses: {
    202: {
      description: 'Accepted for publication',
      content: { 'application/json': { schema: AcceptedSchema } },
    },
    ...problemResponses(400, 409, 413, 415, 503),
  },
})

export const DispatchRevisionSchema = z
  .object({
    event_id: z.uuid(),
    revision: z.number().int().min(1),
    value_mw: z.number(),
    previous_value_mw: z
      .number()
      .nullable()
      .describe('The value this revision replaced (null for revision 1)'),
    written_by: z
      .string()
      .nullable()
      .describe('Consumer (team) of the key that wrote it; null when auth is off'),
    written_at: z.string().describe('When the API accepted the write, UTC'),
    correlation_id: z.string().describe('Correlation id of the request that wrote it'),
  })
  .openapi('DispatchRevision')

export const listDispatchRevisions = createRoute({
  operationId: 'listDispatchRevisions',
  method: 'get',
  path: '/api/v1/dispatch/revisions',
  tags: ['Market'],
  summary: 'Every revision of one manual reading: who wrote which value when, oldest first',
  request: {
    query: z
      .object({
        region_id: RegionIdSchema,
        fuel_type: FuelTypeSchema,
        interval_end: z.iso.datetime({ offset: true }).openapi({
          description: 'End of the 5-minute interval',
          example: '2026-04-01T10:05:00+10:00',
        }),
      })
      .strict(),
  },
  responses: {
    200: {
      description: 'The revision history of the manual reading',
      content: {
        'application/json': {
          schema: z
            .object({
              region_id: RegionIdSchema,
              fuel_type: FuelTypeSchema,
              interval_end: z.string(),
              current_revision: z.number().int().min(1),
              data: z.array(DispatchRevisionSchema),
              correlation_id: z.string(),
            })
            .openapi('DispatchRevisionHistory'),
        },
      },
    },
    ...problemResponses(400, 404),
  },
})

export const listPrices = createRoute({
  operationId: 'listPrices',
  method: 'get',
  path: '/api/v1/prices',
  tags: ['Market'],
  summary:
    'Regional prices (RRP, AUD/MWh) with their flags, demand and interchange per 5-minute interval, newest first',
  description:
    'One `RegionPriceEvent` per region and interval (topic `market.prices`): the energy price (AUD/MWh) and ' +
    'the price flags (`price_status`, `apc_flag`, `market_suspended_flag`, `ocd_status`, `mii_status`) of ' +
    'AEMO `DISPATCH.PRICE`’s pricing run (INTERVENTION=0); demand, available generation, net interchange, ' +
    'semi-scheduled solar and wind (also at /api/v1/curtailment) and grid batteries (also at ' +
    '/api/v1/storage) of `DISPATCH.REGIONSUM`’s dispatched run. A column the file’s table version lacks is ' +
    'null, never zero (the flags and REGIONSUM figures were added to the event later: events stored before ' +
    'that read them as null; schema_version stays 1, the change is additive). A price published NOT FIRM ' +
    'and published again (same region and interval: the same event id) is replaced by the later row in log ' +
    'order, except that a FIRM price is never replaced by a NOT FIRM one. FCAS prices: /api/v1/prices/fcas.',
  request: {
    query: z
      .object({ region_id: RegionIdSchema.optional(), ...rangeQuery, ...seriesQuery })
      .strict(),
  },
  responses: {
    200: PRICES.ok,
    ...problemResponses(400),
  },
})

export const listInterconnectorFlows = createRoute({
  operationId: 'listInterconnectorFlows',
  method: 'get',
  path: '/api/v1/interconnectors',
  tags: ['Market'],
  summary: 'Interconnector flows, losses and limits per 5-minute interval, newest first',
  request: {
    query: z
      .object({
        interconnector_id: InterconnectorFlowEventSchema.shape.interconnector_id.optional(),
        ...rangeQuery,
        ...seriesQuery,
      })
      .strict(),
  },
  responses: {
    200: INTERCONNECTORS.ok,
    ...problemResponses(400),
  },
})
