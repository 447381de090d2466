import { createRoute, z } from '@hono/zod-openapi'
import {
  FuelTypeSchema,
  InterconnectorFlowEventSchema,
  MarketDispatchEventSchema,
  RegionIdSchema,
  RegionPriceEventSchema,
} from '@/canonical'
import { component, IntervalEndSchema, pageOf, rangeQuery } from '../common'
import { problemResponses } from '../problem'

const MarketDispatch = component(MarketDispatchEventSchema, 'MarketDispatchEvent')
const RegionPrice = component(RegionPriceEventSchema, 'RegionPriceEvent')

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
      })
      .strict(),
  },
  responses: {
    200: {
      description: 'A page of dispatch events',
      content: { 'application/json': { schema: pageOf(MarketDispatch, 'DispatchPage') } },
    },
    ...problemResponses(400),
  },
})

export const DispatchSubmissionSchema = z
  .object({
    region_id: RegionIdSchema,
    fuel_type: FuelTypeSchema,
    value_mw: MarketDispatchEventSchema.shape.value_mw,
    // Defaults to the current interval when absent.
    interval_end: IntervalEndSchema.optional(),
  })
  .strict()
  .openapi('DispatchSubmission')
export type DispatchSubmission = z.infer<typeof DispatchSubmissionSchema>

export const AcceptedSchema = z
  .object({
    status: z.literal('accepted'),
    event_id: z.uuid(),
    correlation_id: z.string(),
    interval_end: z.string(),
  })
  .openapi('Accepted')

export const submitDispatch = createRoute({
  operationId: 'submitDispatch',
  method: 'post',
  path: '/api/v1/dispatch',
  tags: ['Market'],
  summary: 'Submit one dispatch reading; it is published through the event log and projected',
  description:
    'Idempotent: the event id derives from (region, fuel type, interval), so the same body twice yields one row. ' +
    'The response is 202 because the reading becomes queryable once the projection has applied it.',
  request: {
    body: { required: true, content: { 'application/json': { schema: DispatchSubmissionSchema } } },
  },
  responses: {
    202: {
      description: 'Accepted for publication',
      content: { 'application/json': { schema: AcceptedSchema } },
    },
    ...problemResponses(400, 413, 415, 503),
  },
})

export const listPrices = createRoute({
  operationId: 'listPrices',
  method: 'get',
  path: '/api/v1/prices',
  tags: ['Market'],
  summary: 'Regional prices (RRP), demand and interchange per 5-minute interval, newest first',
  request: {
    query: z.object({ region_id: RegionIdSchema.optional(), ...rangeQuery }).strict(),
  },
  responses: {
    200: {
      description: 'A page of price events',
      content: { 'application/json': { schema: pageOf(RegionPrice, 'PricePage') } },
    },
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
      })
      .strict(),
  },
  responses: {
    200: {
      description: 'A page of interconnector flows',
      content: {
        'application/json': {
          schema: pageOf(
            component(InterconnectorFlowEventSchema, 'InterconnectorFlowEvent'),
            'InterconnectorFlowPage'
          ),
        },
      },
    },
    ...problemResponses(400),
  },
})
