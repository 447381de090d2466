import { createRoute, z } from '@hono/zod-openapi'
import { RegionIdSchema } from '@/canonical'
import { rangeQuery } from '../common'
import { problemResponses } from '../problem'
import { seriesContract, seriesQuery } from '../series'

const mw = (description: string) => z.number().nullable().describe(description)
const row = {
  event_id: z.uuid().describe('The RegionPriceEvent the figures come from'),
  region_id: RegionIdSchema,
  interval_end: z.string().describe('End of the 5-minute dispatch interval, UTC'),
}
const INTERVENTION = z
  .boolean()
  .describe('True when an intervention run was in effect; the figures are then from that run')

export const CurtailmentSchema = z
  .object({
    ...row,
    solar_available_mw: mw('SS_SOLAR_UIGF: what semi-scheduled solar could have produced, MW'),
    solar_cleared_mw: mw('SS_SOLAR_CLEAREDMW: semi-scheduled solar dispatched, MW'),
    solar_curtailment_mw: mw('max(0, available − cleared), MW, rounded to 5 decimals'),
    wind_available_mw: mw('SS_WIND_UIGF: what semi-scheduled wind could have produced, MW'),
    wind_cleared_mw: mw('SS_WIND_CLEAREDMW: semi-scheduled wind dispatched, MW'),
    wind_curtailment_mw: mw('max(0, available − cleared), MW, rounded to 5 decimals'),
    curtailment_mw: mw('solar + wind curtailment, MW, rounded to 5 decimals'),
    intervention: INTERVENTION,
  })
  .openapi('RegionCurtailment')

export const StorageSchema = z
  .object({
    ...row,
    charge_mw: mw(
      'BDU_CLEAREDMW_LOAD: grid batteries (bidirectional units) cleared to charge, MW ≥ 0'
    ),
    discharge_mw: mw('BDU_CLEAREDMW_GEN: grid batteries cleared to discharge, MW ≥ 0'),
    stored_energy_mwh: mw(
      "BDU_ENERGY_STORAGE: energy stored in the region's grid batteries for the interval, MWh"
    ),
    intervention: INTERVENTION,
  })
  .openapi('RegionStorage')

export const CURTAILMENT = seriesContract(
  'curtailment',
  CurtailmentSchema,
  { page: 'CurtailmentPage', bucket: 'CurtailmentBucket' },
  'A page of curtailment figures'
)
export const STORAGE = seriesContract(
  'storage',
  StorageSchema,
  { page: 'StoragePage', bucket: 'StorageBucket' },
  'A page of storage figures'
)

const NULLS =
  "From AEMO `DISPATCH.REGIONSUM`, carried on the region's `RegionPriceEvent` (topic `market.prices`) and, " +
  'like demand, taken from the dispatched run (INTERVENTION=1 when there is one). Table versions without ' +
  'these columns (before REGIONSUM v9, e.g. the 2020 archive) give null, never zero.'

export const listCurtailment = createRoute({
  operationId: 'listCurtailment',
  method: 'get',
  path: '/api/v1/curtailment',
  tags: ['Market'],
  summary:
    'Semi-scheduled solar and wind curtailment (MW) per region and 5-minute interval, newest first',
  description:
    'Curtailment = availability (the unconstrained intermittent generation forecast, UIGF) − what was ' +
    'dispatched (cleared), never negative: cleared above the forecast counts as 0. AEMO publishes both with ' +
    '5 decimals, and curtailment is rounded to 5 decimals (exact at that precision, no floating-point ' +
    'noise); null when either figure is. Energy curtailed in an interval is curtailment_mw × 5/60 MWh. ' +
    NULLS,
  request: {
    query: z
      .object({ region_id: RegionIdSchema.optional(), ...rangeQuery, ...seriesQuery })
      .strict(),
  },
  responses: {
    200: CURTAILMENT.ok,
    ...problemResponses(400),
  },
})

export const listStorage = createRoute({
  operationId: 'listStorage',
  method: 'get',
  path: '/api/v1/storage',
  tags: ['Market'],
  summary:
    'Grid battery charge and discharge (MW) and stored energy (MWh) per region and 5-minute interval, newest first',
  description:
    "AEMO's regional totals over bidirectional units (BDUs: grid batteries registered as one unit that both " +
    'charges and discharges): `BDU_CLEAREDMW_LOAD` (charge), `BDU_CLEAREDMW_GEN` (discharge) and ' +
    '`BDU_ENERGY_STORAGE` (stored energy). ' +
    NULLS,
  request: {
    query: z
      .object({ region_id: RegionIdSchema.optional(), ...rangeQuery, ...seriesQuery })
      .strict(),
  },
  responses: {
    200: STORAGE.ok,
    ...problemResponses(400),
  },
})
