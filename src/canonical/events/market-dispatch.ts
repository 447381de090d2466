import { z } from 'zod'
import { envelopeShape, UtcInstantSchema } from '../envelope'
import { defineEvent } from '../event-spec'
import { FuelTypeSchema } from '../fuel-type'
import { MW } from '../quantities'
import { RegionIdSchema } from '../region'
import { TOPICS } from '../streams'

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

export interface MarketDispatchIdentity {
  readonly region_id: string
  readonly fuel_type: string
  readonly interval_end: string
  /** Manual revisions ≥ 2 get ids of their own; revision 1 (or none) keeps the original id. */
  readonly revision?: number
}

export const marketDispatch = defineEvent<typeof MarketDispatchEventSchema, MarketDispatchIdentity>(
  MarketDispatchEventSchema,
  {
    topic: TOPICS.dispatch,
    key: (e) => e.region_id,
    identity: (id) =>
      id.revision !== undefined && id.revision > 1
        ? [id.region_id, id.fuel_type, id.interval_end, `r${id.revision}`]
        : [id.region_id, id.fuel_type, id.interval_end],
    time: (e) => e.interval_end,
  }
)
