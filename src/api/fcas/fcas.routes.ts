import { createRoute, z } from '@hono/zod-openapi'
import { FcasServiceSchema, RegionFcasPriceEventSchema, RegionIdSchema } from '@/canonical'
import { component, rangeQuery } from '../common'
import { problemResponses } from '../problem'
import { seriesContract, seriesQuery } from '../series'

export const FCAS = seriesContract(
  'fcas',
  component(RegionFcasPriceEventSchema, 'RegionFcasPriceEvent'),
  { page: 'FcasPricePage', bucket: 'FcasPriceBucket' },
  'A page of FCAS prices'
)

export const listFcasPrices = createRoute({
  operationId: 'listFcasPrices',
  method: 'get',
  path: '/api/v1/prices/fcas',
  tags: ['Market'],
  summary: 'FCAS prices (AUD/MW/h) per region, service and 5-minute interval, newest first',
  description:
    'From AEMO `DISPATCH.PRICE` (`RAISE6SECRRP` … `LOWERREGRRP`, and `RAISE1SECRRP`/`LOWER1SECRRP` in the ' +
    'table versions that have them): one `RegionFcasPriceEvent` per region, service and interval, on its own ' +
    'stream (topic `market.fcas`). A service the file does not carry has no row (absent, never zero). ' +
    'Prices are AUD/MW/h (per MW of the service enabled, per hour; energy prices are AUD/MWh) and always ' +
    'come from the pricing run (INTERVENTION=0), like the energy price. A price published NOT FIRM and ' +
    'published again (same region, service and interval: the same event id) is replaced by the later row ' +
    'in log order, except that a FIRM price is never replaced by a NOT FIRM one.',
  request: {
    query: z
      .object({
        region_id: RegionIdSchema.optional(),
        service: FcasServiceSchema.optional(),
        ...rangeQuery,
        ...seriesQuery,
      })
      .strict(),
  },
  responses: {
    200: FCAS.ok,
    ...problemResponses(400),
  },
})
