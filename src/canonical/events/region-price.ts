import { z } from 'zod'
import { envelopeShape, UtcInstantSchema } from '../envelope'
import { defineEvent } from '../event-spec'
import { MW, PRICE } from '../quantities'
import { RegionIdSchema } from '../region'
import { TOPICS } from '../streams'

export const RegionPriceEventSchema = z
  .object({
    ...envelopeShape,
    event_type: z.literal('RegionPriceEvent'),
    region_id: RegionIdSchema,
    interval_end: UtcInstantSchema.describe('End of the 5-minute dispatch interval, UTC'),
    rrp_aud_mwh: PRICE.describe('Regional reference price, AUD/MWh (may be negative)'),
    total_demand_mw: MW.nullable().describe('Total demand, MW'),
    available_generation_mw: MW.nullable().describe('Available generation, MW'),
    net_interchange_mw: MW.nullable().describe(
      'Net interchange into the region, MW (positive = export)'
    ),
    intervention: z
      .boolean()
      .describe('True when an intervention run was in effect for the interval'),
  })
  .strict()
export type RegionPriceEvent = z.infer<typeof RegionPriceEventSchema>

export interface RegionPriceIdentity {
  readonly region_id: string
  readonly interval_end: string
}

export const regionPrice = defineEvent<typeof RegionPriceEventSchema, RegionPriceIdentity>(
  RegionPriceEventSchema,
  {
    topic: TOPICS.prices,
    key: (e) => e.region_id,
    identity: (id) => [id.region_id, id.interval_end],
    time: (e) => e.interval_end,
  }
)
