import { createRoute, z } from '@hono/zod-openapi'
import { FuelTypeSchema, RegionIdSchema, ScadaReconciliationEventSchema } from '@/canonical'
import { component, rangeQuery } from '../common'
import { problemResponses } from '../problem'
import { seriesContract, seriesQuery } from '../series'

export const RECONCILIATION = seriesContract(
  'reconciliation',
  component(ScadaReconciliationEventSchema, 'ScadaReconciliationEvent'),
  { page: 'ReconciliationPage', bucket: 'ReconciliationBucket' },
  'A page of reconciliations, newest first'
)

export const GenerationMixSchema = z
  .object({
    region_id: RegionIdSchema,
    interval_end: z.string().describe('End of the 5-minute interval, UTC'),
    total_mw: z.number().describe('Net generation of the region (loads count negative)'),
    fuels: z.array(
      z.object({
        fuel_type: FuelTypeSchema,
        value_mw: z.number(),
        share: z.number().describe('Fraction of total_mw (negative for loads)'),
        unit_count: z.number().int(),
      })
    ),
    correlation_id: z.string(),
  })
  .openapi('GenerationMix')

export const getGenerationMix = createRoute({
  operationId: 'getGenerationMix',
  method: 'get',
  path: '/api/v1/generation/mix',
  tags: ['Market'],
  summary: 'MW and share by fuel type for one region and interval (AEMO SCADA)',
  request: {
    query: z
      .object({
        region_id: RegionIdSchema,
        interval_end: z.iso
          .datetime({ offset: true })
          .optional()
          .openapi({ description: 'Defaults to the newest SCADA interval' }),
      })
      .strict(),
  },
  responses: {
    200: {
      description: 'The generation mix',
      content: { 'application/json': { schema: GenerationMixSchema } },
    },
    ...problemResponses(400, 404),
  },
})

export const listReconciliation = createRoute({
  operationId: 'listScadaReconciliation',
  method: 'get',
  path: '/api/v1/generation/reconciliation',
  tags: ['Market'],
  summary:
    'Where every SCADA MW went per interval: generation, loads and the unmapped remainder with its DUIDs',
  request: { query: z.object({ ...rangeQuery, ...seriesQuery }).strict() },
  responses: {
    200: RECONCILIATION.ok,
    ...problemResponses(400),
  },
})
