import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import type { RegionId, RooftopEstimateType, RooftopPvEvent } from '@/canonical'
import { toUtcIso } from '@/lib'
import { createPager, type Page, type RangeQuery } from './pager'
import { envelopeColumns, envelopeOf, type ReadModel, upsertStatement } from './read-model'

export const rooftopPv = sqliteTable(
  'rooftop_pv',
  {
    ...envelopeColumns(),
    regionId: text('region_id').notNull(),
    /** End of the half hour, epoch ms. */
    intervalEnd: integer('interval_end').notNull(),
    estimateType: text('estimate_type').notNull(),
    powerMw: real('power_mw').notNull(),
    qualityIndicator: real('quality_indicator'),
    basis: text('basis').notNull(),
    /** JSON array of { sub_region_id, power_mw, quality_indicator }. */
    subRegions: text('sub_regions').notNull(),
    lastChanged: integer('last_changed'),
    /**
     * 1 on the estimate the generation mix uses for the region's half hour: MEASUREMENT where it
     * exists, else SATELLITE. Kept by the writer whatever order the two arrive in.
     */
    preferred: integer('preferred', { mode: 'boolean' }).notNull(),
  },
  (t) => [
    index('rooftop_pv_by_time').on(t.intervalEnd, t.eventId),
    index('rooftop_pv_by_region_time').on(t.regionId, t.intervalEnd, t.eventId),
  ]
)
type RooftopRow = typeof rooftopPv.$inferSelect

/** A stored estimate: the canonical event and whether the generation mix uses it. */
export type RooftopPvEstimate = RooftopPvEvent & { readonly preferred: boolean }

const toEstimate = (row: RooftopRow): RooftopPvEstimate => ({
  ...envelopeOf(row),
  event_type: 'RooftopPvEvent',
  region_id: row.regionId as RegionId,
  interval_end: toUtcIso(row.intervalEnd),
  estimate_type: row.estimateType as RooftopEstimateType,
  power_mw: row.powerMw,
  quality_indicator: row.qualityIndicator,
  basis: row.basis as RooftopPvEvent['basis'],
  sub_regions: JSON.parse(row.subRegions),
  last_changed: row.lastChanged === null ? null : toUtcIso(row.lastChanged),
  // Raw reads return SQLite's 0/1.
  preferred: Boolean(row.preferred),
})

export type RooftopListQuery = RangeQuery & {
  regionId?: RegionId
  estimateType?: RooftopEstimateType
  /** Only the estimates the generation mix uses (one per region and half hour). */
  preferred?: boolean
}

export interface RooftopQueries {
  list(q: RooftopListQuery): Page<RooftopPvEstimate>
}

export const rooftopPvReadModel: ReadModel<'RooftopPvEvent', RooftopQueries, 'rooftop'> = {
  eventType: 'RooftopPvEvent',
  port: 'rooftop',
  table: rooftopPv,
  time: rooftopPv.intervalEnd,
  dispatchIntervals: true,
  regionStats: [
    {
      region: rooftopPv.regionId,
      value: rooftopPv.powerMw,
      count: 'rooftop_pv_count',
      prefix: 'power_mw',
      counts: 'rows',
    },
  ],
  writer(db) {
    const upsert = upsertStatement(db, rooftopPv, 'update')
    const measured = db.sqlite.prepare(
      `SELECT 1 AS found FROM rooftop_pv
       WHERE region_id = $region AND interval_end = $t AND estimate_type = 'MEASUREMENT' LIMIT 1`
    )
    const demoteSatellite = db.sqlite.prepare(
      `UPDATE rooftop_pv SET preferred = 0
       WHERE region_id = $region AND interval_end = $t AND estimate_type = 'SATELLITE'`
    )
    return (event, envelope) => {
      const key = { region: event.region_id, t: Date.parse(event.interval_end) }
      // MEASUREMENT is preferred where both exist (AEMO's estimate from metered systems; SATELLITE
      // models PV output from irradiance), whichever arrived first.
      const isMeasurement = event.estimate_type === 'MEASUREMENT'
      upsert.run({
        ...envelope,
        regionId: event.region_id,
        intervalEnd: key.t,
        estimateType: event.estimate_type,
        powerMw: event.power_mw,
        qualityIndicator: event.quality_indicator,
        basis: event.basis,
        subRegions: JSON.stringify(event.sub_regions),
        lastChanged: event.last_changed === null ? null : Date.parse(event.last_changed),
        preferred: isMeasurement || measured.get(key) === null ? 1 : 0,
      })
      if (isMeasurement) demoteSatellite.run(key)
    }
  },
  queries(db) {
    // SQLite stores the flag as 0/1 and the pager binds filter values as given.
    type Stored = Omit<RooftopListQuery, 'preferred'> & { preferred?: 1 }
    const page = createPager<RooftopRow, RooftopPvEstimate, Stored>(
      db,
      rooftopPv,
      rooftopPv.intervalEnd,
      rooftopPv.eventId,
      {
        regionId: rooftopPv.regionId,
        estimateType: rooftopPv.estimateType,
        preferred: rooftopPv.preferred,
      },
      toEstimate,
      (r) => ({ t: r.intervalEnd, id: r.eventId })
    )
    return { list: (q) => page({ ...q, preferred: q.preferred ? 1 : undefined }) }
  },
}
