import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import type { RegionId, RooftopEstimateType, RooftopPvEvent } from '@/canonical'
import { toUtcIso } from '@/lib'
import type { ProjectionDb } from '../db'
import { mean, power } from './aggregate'
import type { ExportQuery, RangeQuery } from './pager'
import {
  byApiCorrelation,
  envelopeColumns,
  envelopeOf,
  type ReadModel,
  upsertStatement,
} from './read-model'
import { type AggregateQuery, createSeriesQueries, type SeriesSpec } from './series'

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
    byApiCorrelation('rooftop_pv', t),
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

const series: SeriesSpec<RooftopRow, RooftopPvEstimate> = {
  eventType: 'RooftopPvEvent',
  table: rooftopPv,
  time: rooftopPv.intervalEnd,
  id: rooftopPv.eventId,
  filters: {
    regionId: rooftopPv.regionId,
    estimateType: rooftopPv.estimateType,
    preferred: rooftopPv.preferred,
  },
  toCanonical: toEstimate,
  // Half-hourly: a 30-minute bucket holds one estimate, a NEM day 48.
  cadenceMs: 30 * 60_000,
  aggregate: {
    // The two estimate types are never averaged together (each is the region's whole rooftop
    // output): with only the preferred ones, a bucket that used both types is a row per type.
    series: { region_id: rooftopPv.regionId, estimate_type: rooftopPv.estimateType },
    measures: [
      power('power_mw', rooftopPv.powerMw, 'energy_mwh'),
      mean('quality_indicator', rooftopPv.qualityIndicator, "AEMO's quality indicator (0–1)"),
    ],
  },
}

// SQLite stores the flag as 0/1 and the queries bind filter values as given.
type Stored = Omit<RooftopListQuery, 'preferred'> & { preferred?: 1 }
const stored = <Q extends { preferred?: boolean }>(q: Q) => ({
  ...q,
  preferred: q.preferred ? (1 as const) : undefined,
})

function rooftopQueries(db: ProjectionDb) {
  const s = createSeriesQueries<RooftopRow, RooftopPvEstimate, Stored>(db, series)
  return {
    list: (q: RooftopListQuery) => s.list(stored(q)),
    export: (q: ExportQuery<RooftopListQuery>) => s.export(stored(q)),
    aggregate: (q: AggregateQuery<RooftopListQuery>) => s.aggregate(stored(q)),
    exportAggregate: (q: ExportQuery<AggregateQuery<RooftopListQuery>>) =>
      s.exportAggregate(stored(q)),
    explain: s.explain,
  }
}
export type RooftopQueries = ReturnType<typeof rooftopQueries>

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
      describe: {
        count: 'Rooftop PV estimates of the region (both types, half-hourly)',
        min: 'Rooftop PV estimates: lowest MW',
      },
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
  series,
  queries: rooftopQueries,
}
