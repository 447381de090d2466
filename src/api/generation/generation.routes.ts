import { createRoute, z } from '@hono/zod-openapi'
import {
  FuelTypeSchema,
  RegionIdSchema,
  RooftopEstimateTypeSchema,
  RooftopPvEventSchema,
  ScadaReconciliationEventSchema,
} from '@/canonical'
import { component, rangeQuery } from '../common'
import { problemResponses } from '../problem'
import { FormatSchema, listContract, seriesContract, seriesQuery } from '../series'

export const RECONCILIATION = seriesContract(
  'reconciliation',
  component(ScadaReconciliationEventSchema, 'ScadaReconciliationEvent'),
  { page: 'ReconciliationPage', bucket: 'ReconciliationBucket' },
  'A page of reconciliations, newest first'
)

const RooftopSourceSchema = z
  .object({
    interval_end: z.string().describe('End of the half hour of the rooftop estimate, UTC'),
    estimate_type: RooftopEstimateTypeSchema,
    quality_indicator: z.number().nullable().describe("AEMO's QI of the estimate (0–1)"),
    basis: RooftopPvEventSchema.shape.basis,
  })
  .describe(
    'The rooftop PV estimate in `fuels` as `rooftop_solar`: the preferred estimate (MEASUREMENT where it exists, ' +
      'else SATELLITE) of the half hour holding the interval; its MW applies to each of the six 5-minute intervals. ' +
      'Null until AEMO publishes the half hour (about 20 minutes after it ends)'
  )

const renewables = {
  share: z
    .number()
    .nullable()
    .describe(
      '(wind + utility_solar + rooftop_solar + hydro) / total_mw; batteries are excluded from both sides. ' +
        'Net values as SCADA reports them (a pump drawing power is negative hydro). Null when total_mw ≤ 0'
    ),
  renewable_mw: z.number().describe('wind + utility_solar + rooftop_solar + hydro, MW'),
  total_mw: z.number().describe('Net generation without batteries, MW (the share’s denominator)'),
}

export const GenerationMixSchema = z
  .object({
    region_id: RegionIdSchema,
    interval_end: z.string().describe('End of the 5-minute interval, UTC'),
    total_mw: z
      .number()
      .describe(
        'Net generation of the region, rooftop PV included when `rooftop` is not null (loads count negative)'
      ),
    fuels: z.array(
      z.object({
        fuel_type: FuelTypeSchema,
        value_mw: z.number(),
        share: z.number().describe('Fraction of total_mw (negative for loads)'),
        unit_count: z
          .number()
          .int()
          .describe('DUIDs summed (0 for rooftop_solar: an AEMO estimate, not units)'),
      })
    ),
    rooftop: RooftopSourceSchema.nullable(),
    renewables: z
      .object({
        ...renewables,
        rooftop_included: z
          .boolean()
          .describe(
            'False while the half hour’s rooftop estimate is not published: the share is SCADA only'
          ),
      })
      .describe('Renewables share of the interval'),
    correlation_id: z.string(),
  })
  .openapi('GenerationMix')

export const getGenerationMix = createRoute({
  operationId: 'getGenerationMix',
  method: 'get',
  path: '/api/v1/generation/mix',
  tags: ['Market'],
  summary: 'MW and share by fuel type for one region and interval (AEMO SCADA and rooftop PV)',
  description:
    'SCADA generation by fuel for the 5-minute interval, plus `rooftop_solar`: AEMO’s half-hourly rooftop PV ' +
    'estimate of the half hour holding the interval (each of its six 5-minute intervals carries the half hour’s MW). ' +
    'Also the renewables share of the interval.',
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

export const RenewablesIntervalSchema = z
  .object({
    region_id: RegionIdSchema,
    interval_end: z.string().describe('End of the 5-minute interval, UTC'),
    ...renewables,
    wind_mw: z.number(),
    utility_solar_mw: z.number(),
    hydro_mw: z.number().describe('Net of pumping'),
    rooftop_solar_mw: z
      .number()
      .nullable()
      .describe(
        'The half hour’s preferred rooftop PV estimate, MW; null while AEMO has not published it (the share is then SCADA only)'
      ),
    rooftop_estimate_type: RooftopEstimateTypeSchema.nullable(),
  })
  .openapi('RenewablesInterval')

export const RENEWABLES = listContract(
  'renewables',
  RenewablesIntervalSchema,
  'RenewablesPage',
  'A page of intervals, newest first'
)

export const listRenewables = createRoute({
  operationId: 'listRenewablesShare',
  method: 'get',
  path: '/api/v1/generation/renewables',
  tags: ['Market'],
  summary: 'Renewables share of a region per 5-minute interval, newest first',
  description:
    'Share = (wind + utility_solar + rooftop_solar + hydro) / total, from AEMO SCADA by fuel and the half hour’s ' +
    'rooftop PV estimate (MEASUREMENT where it exists, else SATELLITE). Batteries are excluded from both sides: ' +
    'charging is a load and discharging returns energy generated earlier. One row per interval with SCADA data.',
  request: {
    query: z.object({ region_id: RegionIdSchema, ...rangeQuery, format: FormatSchema }).strict(),
  },
  responses: {
    200: RENEWABLES.ok,
    ...problemResponses(400),
  },
})
