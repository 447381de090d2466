import { z } from 'zod'
import { envelopeShape, UtcInstantSchema } from '../envelope'
import { defineEvent } from '../event-spec'
import { RegionIdSchema } from '../region'
import { TOPICS } from '../streams'

/**
 * AEMO's rooftop PV sub-regions and the NEM region each belongs to. `ROOFTOP.ACTUAL` files may list
 * them beside their region's own row (a live MEASUREMENT file of 2024-03-03 19:30 has QLD1, QLDC,
 * QLDN, QLDS, TAS1, TASN, TASS together): they are a breakdown of the region, not extra output.
 */
export const ROOFTOP_SUB_REGIONS = {
  QLDC: 'QLD1',
  QLDN: 'QLD1',
  QLDS: 'QLD1',
  TASN: 'TAS1',
  TASS: 'TAS1',
} as const
export type RooftopSubRegionId = keyof typeof ROOFTOP_SUB_REGIONS
export const RooftopSubRegionIdSchema = z
  .enum(Object.keys(ROOFTOP_SUB_REGIONS) as [RooftopSubRegionId, ...RooftopSubRegionId[]])
  .describe('AEMO rooftop PV sub-region (Queensland central/north/south, Tasmania north/south)')

/** AEMO's two estimates (`TYPE`): metered samples, or satellite irradiance through a PV model. */
export const RooftopEstimateTypeSchema = z
  .enum(['MEASUREMENT', 'SATELLITE'])
  .describe(
    'AEMO estimate type: MEASUREMENT (from metered PV systems; preferred) or SATELLITE (from satellite irradiance)'
  )
export type RooftopEstimateType = z.infer<typeof RooftopEstimateTypeSchema>

// Rooftop PV is generation: never negative. The NEM's whole fleet is ~25 GW, a region's far less.
const POWER = z.number().finite().min(0).max(50_000)
const QI = z
  .number()
  .finite()
  .min(0)
  .max(1)
  .nullable()
  .describe('AEMO quality indicator QI of the estimate, 0–1 (null when not published)')

export const RooftopPvEventSchema = z
  .object({
    ...envelopeShape,
    event_type: z.literal('RooftopPvEvent'),
    region_id: RegionIdSchema,
    interval_end: UtcInstantSchema.describe(
      'End of the 30-minute interval (AEMO INTERVAL_DATETIME, NEM time → UTC)'
    ),
    estimate_type: RooftopEstimateTypeSchema,
    power_mw: POWER.describe(
      "AEMO's estimate of the region's rooftop PV generation for the half hour, MW (POWER)"
    ),
    quality_indicator: QI,
    basis: z
      .enum(['region', 'sub_regions'])
      .describe(
        "`region`: the region's own row; `sub_regions`: no row for the region, so the sum of all its sub-regions' rows"
      ),
    sub_regions: z
      .array(
        z
          .object({
            sub_region_id: RooftopSubRegionIdSchema,
            power_mw: POWER,
            quality_indicator: QI,
          })
          .strict()
      )
      .max(3)
      .describe(
        "The region's sub-region rows in the same file, as published: a breakdown of power_mw, never added to it"
      ),
    last_changed: UtcInstantSchema.nullable().describe('AEMO LASTCHANGED, UTC'),
  })
  .strict()
export type RooftopPvEvent = z.infer<typeof RooftopPvEventSchema>

export interface RooftopPvIdentity {
  readonly region_id: string
  readonly interval_end: string
  readonly estimate_type: string
}

export const rooftopPv = defineEvent<typeof RooftopPvEventSchema, RooftopPvIdentity>(
  RooftopPvEventSchema,
  {
    topic: TOPICS.rooftop,
    key: (e) => e.region_id,
    // Both estimates of a half hour are kept side by side: the type is part of the identity. A
    // republished estimate (same region, half hour and type) has the same id and replaces it.
    identity: (id) => [id.region_id, id.interval_end, id.estimate_type],
    time: (e) => e.interval_end,
  }
)
