import { createRoute, z } from '@hono/zod-openapi'
import { RegionIdSchema, RooftopEstimateTypeSchema, RooftopPvEventSchema } from '@/canonical'
import { rangeQuery } from '../common'
import { problemResponses } from '../problem'
import { seriesContract, seriesQuery } from '../series'

export const RooftopPvEstimateSchema = z
  .object({
    ...RooftopPvEventSchema.shape,
    preferred: z
      .boolean()
      .describe(
        'Whether the generation mix uses this estimate for its region and half hour: MEASUREMENT where it exists, else SATELLITE'
      ),
  })
  .strict()
  .openapi('RooftopPvEstimate')

export const ROOFTOP = seriesContract(
  'rooftop',
  RooftopPvEstimateSchema,
  { page: 'RooftopPvPage', bucket: 'RooftopPvBucket' },
  'A page of rooftop PV estimates'
)

export const listRooftopPv = createRoute({
  operationId: 'listRooftopPv',
  method: 'get',
  path: '/api/v1/generation/rooftop',
  tags: ['Market'],
  summary: 'AEMO rooftop PV estimates by region and half hour, newest first',
  description:
    'AEMO ROOFTOP_PV/ACTUAL: the estimated rooftop PV generation (MW) of each NEM region for the half hour ending at ' +
    '`interval_end`, as a MEASUREMENT estimate (from metered PV systems) and a SATELLITE estimate (from irradiance), ' +
    'each with AEMO’s quality indicator. By default only the preferred estimate per region and half hour ' +
    '(MEASUREMENT where it exists, else SATELLITE: the one the generation mix uses). Sub-regions (QLDC/QLDN/QLDS, ' +
    'TASN/TASS) are listed inside their region as published; they are a breakdown of the region’s figure, which is ' +
    'their sum only when AEMO published no row for the region itself (`basis: sub_regions`).',
  request: {
    query: z
      .object({
        region_id: RegionIdSchema.optional(),
        estimate: z
          .enum(['preferred', 'all', ...RooftopEstimateTypeSchema.options])
          .default('preferred')
          .openapi({
            description:
              '`preferred` (default): one estimate per region and half hour; `all`: both types; or one type',
          }),
        ...rangeQuery,
        ...seriesQuery,
      })
      .strict(),
  },
  responses: {
    200: ROOFTOP.ok,
    ...problemResponses(400),
  },
})
