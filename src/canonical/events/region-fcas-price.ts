import { z } from 'zod'
import { envelopeShape, UtcInstantSchema } from '../envelope'
import { defineEvent } from '../event-spec'
import { FCAS_PRICE, MMS_FLAG, MMS_STATUS } from '../quantities'
import { RegionIdSchema } from '../region'
import { TOPICS } from '../streams'

/**
 * The NEM's ten frequency control ancillary services (FCAS) markets: raise and lower for very fast
 * (1 s, since October 2023), fast (6 s), slow (60 s) and delayed (5 min) contingency, and
 * regulation. Files of older table versions have no 1-second columns: those services are absent.
 */
export const FCAS_SERVICES = [
  'raise_1sec',
  'raise_6sec',
  'raise_60sec',
  'raise_5min',
  'raise_reg',
  'lower_1sec',
  'lower_6sec',
  'lower_60sec',
  'lower_5min',
  'lower_reg',
] as const
export const FcasServiceSchema = z.enum(FCAS_SERVICES).describe('FCAS market (service)')
export type FcasService = z.infer<typeof FcasServiceSchema>

/**
 * One FCAS service's regional price for one 5-minute interval: one event per region, service and
 * interval, so a service a file does not carry has no event (rather than a null or a zero), and the
 * price is one number whatever the service.
 */
export const RegionFcasPriceEventSchema = z
  .object({
    ...envelopeShape,
    event_type: z.literal('RegionFcasPriceEvent'),
    region_id: RegionIdSchema,
    service: FcasServiceSchema,
    interval_end: UtcInstantSchema.describe('End of the 5-minute dispatch interval, UTC'),
    price_aud_mw_h: FCAS_PRICE.describe(
      'Regional FCAS price (DISPATCH.PRICE `<service>RRP`), AUD/MW/h: per MW of the service enabled, per hour; ≥ 0'
    ),
    apc_flag: MMS_FLAG.nullable().describe(
      '`<service>APCFLAG`, bits: 1 administered price cap/floor binding, 4 market price cap/floor binding, 8 price manually overwritten; 0 = none'
    ),
    price_status: MMS_STATUS.nullable().describe(
      "PRICE_STATUS of the region's prices for the interval: `FIRM` or `NOT FIRM`"
    ),
    intervention: z
      .boolean()
      .describe(
        'True when an intervention run was in effect; the price is always the pricing run (INTERVENTION=0)'
      ),
  })
  .strict()
export type RegionFcasPriceEvent = z.infer<typeof RegionFcasPriceEventSchema>

export interface RegionFcasPriceIdentity {
  readonly region_id: string
  readonly service: string
  readonly interval_end: string
}

export const regionFcasPrice = defineEvent<
  typeof RegionFcasPriceEventSchema,
  RegionFcasPriceIdentity
>(RegionFcasPriceEventSchema, {
  topic: TOPICS.fcas,
  key: (e) => e.region_id,
  identity: (id) => [id.region_id, id.service, id.interval_end],
  time: (e) => e.interval_end,
})
