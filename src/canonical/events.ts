import { z } from 'zod'
import { uuidV5 } from '@/lib'
import { envelopeShape, UtcInstantSchema } from './envelope'
import { FuelTypeSchema } from './fuel-type'
import { RegionIdSchema } from './region'

/** Namespace for GridPulse's UUIDv5 event ids. Changing it changes every id: never do. */
const EVENT_ID_NAMESPACE = '3f1c9a52-7c1e-4a8e-9a55-6d1b0f2e8c41'

// Plausibility bounds, not market rules: values outside them are rejected to the DLQ as corrupt.
// The NEM market price cap is $20,300/MWh (FY2025-26) and rises yearly; the floor is -$1,000/MWh.
const MW = z.number().finite().min(-50_000).max(50_000)
const PRICE = z.number().finite().min(-1_000).max(100_000)

/** Revisions per manual reading: corrections are rare; a bound keeps ids and history finite. */
export const MAX_REVISION = 1_000

export const MarketDispatchEventSchema = z
  .object({
    ...envelopeShape,
    event_type: z.literal('MarketDispatchEvent'),
    region_id: RegionIdSchema,
    fuel_type: FuelTypeSchema,
    interval_end: UtcInstantSchema.describe('End of the 5-minute dispatch interval, UTC'),
    value_mw: MW.describe('Generation in MW (negative for loads such as battery charging)'),
    unit_count: z.number().int().min(0).describe('Number of units (DUIDs) summed into value_mw'),
    // Manual writes only (source `api`); absent on AEMO's SCADA-derived events. A manual reading is
    // a chain of immutable revisions per (region, fuel, interval): revision n replaces n − 1.
    revision: z
      .number()
      .int()
      .min(1)
      .max(MAX_REVISION)
      .optional()
      .describe(
        'Manual writes: revision of this (region, fuel, interval) reading; 1 = first write'
      ),
    written_by: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe('Manual writes: the consumer (team) whose key wrote this revision'),
    previous_value_mw: MW.optional().describe(
      'Manual revisions (revision ≥ 2): value_mw of the revision this one replaced'
    ),
  })
  .strict()
export type MarketDispatchEvent = z.infer<typeof MarketDispatchEventSchema>

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

export const WeatherObservationSchema = z
  .object({
    ...envelopeShape,
    event_type: z.literal('WeatherObservation'),
    region_id: RegionIdSchema,
    location: z.string().min(1).max(64).describe('Named location, e.g. Sydney'),
    latitude: z.number().min(-90).max(90),
    longitude: z.number().min(-180).max(180),
    observed_at: UtcInstantSchema.describe('Observation time, UTC'),
    temperature_c: z.number().min(-90).max(60).nullable(),
    relative_humidity_pct: z.number().min(0).max(100).nullable(),
    wind_speed_kmh: z.number().min(0).max(500).nullable(),
    wind_direction_deg: z.number().min(0).max(360).nullable(),
    cloud_cover_pct: z.number().min(0).max(100).nullable(),
    shortwave_radiation_wm2: z.number().min(0).max(2_000).nullable(),
  })
  .strict()
export type WeatherObservation = z.infer<typeof WeatherObservationSchema>

/**
 * Where every MW of one SCADA interval went, NEM-wide: `total_mw` (Σ SCADAVALUE in the file, loads
 * positive as AEMO reports consumption) = `generation_mw` + `load_mw` + `unmapped_mw`. The interval's
 * MarketDispatchEvents sum to `generation_mw − load_mw` (loads are negative generation there).
 */
export const ScadaReconciliationEventSchema = z
  .object({
    ...envelopeShape,
    event_type: z.literal('ScadaReconciliationEvent'),
    interval_end: UtcInstantSchema.describe('End of the 5-minute dispatch interval, UTC'),
    total_mw: z
      .number()
      .finite()
      .describe('Σ SCADAVALUE of every unit in the file for the interval'),
    generation_mw: z.number().finite().describe('Of which mapped generating units'),
    load_mw: z
      .number()
      .finite()
      .describe('Of which mapped scheduled loads (pumps, battery loads), as consumption'),
    unmapped_mw: z.number().finite().describe('Of which units missing from the DUID mapping'),
    unit_count: z.number().int().min(0),
    unmapped_units: z
      .array(z.object({ duid: z.string().min(1).max(32), value_mw: z.number().finite() }).strict())
      .max(2_000)
      .describe('Every unmapped DUID with its MW: nothing is silently dropped'),
  })
  .strict()
export type ScadaReconciliationEvent = z.infer<typeof ScadaReconciliationEventSchema>

/**
 * Flow on one interconnector for one interval. AEMO's sign convention: positive MW flows from the
 * first region of the id to the second (VIC1-NSW1 > 0 means Victoria exports to New South Wales).
 */
export const InterconnectorFlowEventSchema = z
  .object({
    ...envelopeShape,
    event_type: z.literal('InterconnectorFlowEvent'),
    interconnector_id: z
      .string()
      .regex(/^[A-Z0-9][A-Z0-9-]{1,31}$/)
      .describe('AEMO interconnector id, e.g. VIC1-NSW1, T-V-MNSP1'),
    interval_end: UtcInstantSchema.describe('End of the 5-minute dispatch interval, UTC'),
    mw_flow: MW.describe('Dispatched flow, MW (sign: first region → second)'),
    metered_mw_flow: MW.nullable().describe('Metered flow at the start of the interval, MW'),
    mw_losses: MW.nullable().describe('Losses, MW'),
    export_limit_mw: MW.nullable(),
    import_limit_mw: MW.nullable(),
    intervention: z.boolean().describe('True when the flow comes from an intervention run'),
  })
  .strict()
export type InterconnectorFlowEvent = z.infer<typeof InterconnectorFlowEventSchema>

export const GridEventSchema = z.discriminatedUnion('event_type', [
  InterconnectorFlowEventSchema,
  MarketDispatchEventSchema,
  RegionPriceEventSchema,
  WeatherObservationSchema,
  ScadaReconciliationEventSchema,
])
export type GridEvent = z.infer<typeof GridEventSchema>
export type GridEventType = GridEvent['event_type']

/**
 * Deterministic event id from the event's source identity: re-ingesting the same upstream data
 * (after a crash, a replay or a backfill) yields the same id, so projections stay idempotent.
 *
 * @example eventIdFor({ event_type: 'RegionPriceEvent', source: 'aemo.dispatchis', region_id: 'NSW1', interval_end: '2026-04-01T00:05:00Z' })
 */
export function eventIdFor(
  identity:
    | {
        event_type: 'MarketDispatchEvent'
        source: string
        region_id: string
        fuel_type: string
        interval_end: string
        /** Manual revisions ≥ 2 get ids of their own; revision 1 (or none) keeps the original id. */
        revision?: number
      }
    | { event_type: 'RegionPriceEvent'; source: string; region_id: string; interval_end: string }
    | {
        event_type: 'WeatherObservation'
        source: string
        region_id: string
        location: string
        observed_at: string
      }
    | { event_type: 'ScadaReconciliationEvent'; source: string; interval_end: string }
    | {
        event_type: 'InterconnectorFlowEvent'
        source: string
        interconnector_id: string
        interval_end: string
      }
): string {
  const parts =
    identity.event_type === 'MarketDispatchEvent'
      ? identity.revision !== undefined && identity.revision > 1
        ? [identity.region_id, identity.fuel_type, identity.interval_end, `r${identity.revision}`]
        : [identity.region_id, identity.fuel_type, identity.interval_end]
      : identity.event_type === 'RegionPriceEvent'
        ? [identity.region_id, identity.interval_end]
        : identity.event_type === 'WeatherObservation'
          ? [identity.region_id, identity.location, identity.observed_at]
          : identity.event_type === 'InterconnectorFlowEvent'
            ? [identity.interconnector_id, identity.interval_end]
            : [identity.interval_end]
  return uuidV5([identity.event_type, identity.source, ...parts].join('|'), EVENT_ID_NAMESPACE)
}
