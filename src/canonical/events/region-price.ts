import { z } from 'zod'
import { envelopeShape, UtcInstantSchema } from '../envelope'
import { defineEvent } from '../event-spec'
import { MMS_FLAG, MMS_STATUS, MW, MWH, PRICE } from '../quantities'
import { RegionIdSchema } from '../region'
import { TOPICS } from '../streams'

/**
 * A field added to the event after schema_version 1 shipped. Null when the upstream file's table
 * version lacks the column (absent is null, never zero); absent from events written before the
 * field existed, which therefore still parse (as null): an additive, backward-compatible change,
 * so schema_version stays 1.
 */
const added = <T extends z.ZodType>(schema: T, description: string) =>
  schema.nullable().default(null).describe(description)

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
    // DISPATCH.PRICE flags of the pricing run (AEMO MMS data model, DISPATCHPRICE).
    price_status: added(
      MMS_STATUS,
      'PRICE_STATUS: `FIRM`, or `NOT FIRM` while the interval is under review (manifestly incorrect inputs, over-constrained dispatch); a later FIRM row replaces it'
    ),
    apc_flag: added(
      MMS_FLAG,
      'APCFLAG, bits: 1 administered price cap/floor binding, 2 VoLL override, 4 market price cap/floor binding, 8 price manually overwritten, 16 scaled by inter-regional loss factor; 0 = none'
    ),
    market_suspended_flag: added(MMS_FLAG, 'MARKETSUSPENDEDFLAG: 0 = market not suspended'),
    ocd_status: added(
      MMS_STATUS,
      'OCD_STATUS: `NOT_OCD`, `OCD_UNRESOLVED` or `OCD_RESOLVED` (over-constrained dispatch rerun)'
    ),
    mii_status: added(
      MMS_STATUS,
      'MII_STATUS: `NOT_MII`, `MII_SUBJECT_TO_REVIEW`, `MII_PRICE_REJECTED` or `MII_PRICE_ACCEPTED` (manifestly incorrect inputs)'
    ),
    // DISPATCH.REGIONSUM, from the dispatched run like the demand fields (see sources/aemo).
    ss_solar_uigf_mw: added(
      MW,
      'SS_SOLAR_UIGF: what semi-scheduled solar could have produced (unconstrained intermittent generation forecast), MW'
    ),
    ss_wind_uigf_mw: added(MW, 'SS_WIND_UIGF: the same for semi-scheduled wind, MW'),
    ss_solar_cleared_mw: added(
      MW,
      'SS_SOLAR_CLEAREDMW: semi-scheduled solar dispatched (cleared), MW'
    ),
    ss_wind_cleared_mw: added(MW, 'SS_WIND_CLEAREDMW: semi-scheduled wind dispatched, MW'),
    bdu_cleared_gen_mw: added(
      MW,
      'BDU_CLEAREDMW_GEN: bidirectional units (grid batteries) cleared to discharge, MW'
    ),
    bdu_cleared_load_mw: added(
      MW,
      'BDU_CLEAREDMW_LOAD: bidirectional units cleared to charge, MW (a load, reported ≥ 0)'
    ),
    bdu_energy_storage_mwh: added(
      MWH,
      "BDU_ENERGY_STORAGE: energy stored in the bidirectional units as dispatched for the interval (AEMO's regional total), MWh"
    ),
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
