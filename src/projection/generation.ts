import type { Statement } from 'bun:sqlite'
import type { FuelType, RegionId, RooftopEstimateType, RooftopPvEvent } from '@/canonical'
import { toUtcIso } from '@/lib'
import type { ProjectionDb } from './db'
import { decodeCursor, encodeCursor, type Page, type RangeQuery } from './read-models/pager'

/**
 * The generation mix and the renewables share: AEMO SCADA by fuel (the dispatch read model) with
 * rooftop PV (the rooftop read model) laid over it.
 *
 * Rooftop PV is half-hourly: AEMO's POWER is its estimate of the region's rooftop generation for
 * the half hour ending at INTERVAL_DATETIME ("for each half-hour interval", MMS data model; the
 * column itself reads "at the interval end"). GridPulse takes it as the half hour's MW: each of
 * the six 5-minute intervals of the half hour (ending :05…:30, :35…:00) gets the same MW — a step,
 * not an interpolation, so the half hour's energy stays MW × 0.5 h and the newest half hour needs
 * no later one. The estimate used is the preferred one (MEASUREMENT where it exists, else SATELLITE).
 */

const HALF_HOUR_MS = 30 * 60 * 1000

/** End of the half hour that holds the 5-minute interval ending at `ms` (NEM time is UTC+10: aligned). */
export const halfHourEndFor = (ms: number): number => Math.ceil(ms / HALF_HOUR_MS) * HALF_HOUR_MS

/** Renewable fuels of the share's numerator; batteries are storage, left out of both sides. */
export const RENEWABLE_FUELS: readonly FuelType[] = [
  'wind',
  'utility_solar',
  'rooftop_solar',
  'hydro',
]
const BATTERY_FUELS: readonly FuelType[] = ['battery_charging', 'battery_discharging']

const round6 = (x: number) => Math.round(x * 1e6) / 1e6

/**
 * The renewables share of a set of fuel values: (wind + utility solar + rooftop solar + hydro) over
 * the total, batteries excluded from both sides (charging is a load, discharging re-delivers energy
 * generated earlier by anything). Values are net as SCADA reports them, so a pump drawing power is
 * negative hydro on both sides. Null when the total without batteries is not positive.
 */
export function renewablesOf(fuels: readonly { fuel_type: FuelType; value_mw: number }[]) {
  let renewable = 0
  let total = 0
  for (const f of fuels) {
    if (BATTERY_FUELS.includes(f.fuel_type)) continue
    total += f.value_mw
    if (RENEWABLE_FUELS.includes(f.fuel_type)) renewable += f.value_mw
  }
  return {
    renewable_mw: round6(renewable),
    total_mw: round6(total),
    share: total > 0 ? round6(renewable / total) : null,
  }
}

/** Where a mix's rooftop figure came from. */
export interface RooftopSource {
  /** End of the half hour of the estimate, UTC. */
  readonly interval_end: string
  readonly estimate_type: RooftopEstimateType
  readonly quality_indicator: number | null
  readonly basis: RooftopPvEvent['basis']
}

export interface GenerationMix {
  readonly region_id: RegionId
  readonly interval_end: string
  readonly total_mw: number
  readonly fuels: { fuel_type: FuelType; value_mw: number; share: number; unit_count: number }[]
  /** The rooftop estimate in `fuels` (as `rooftop_solar`), or null before AEMO has published it. */
  readonly rooftop: RooftopSource | null
  readonly renewables: ReturnType<typeof renewablesOf> & { readonly rooftop_included: boolean }
}

/** One 5-minute interval of a region's renewables share. */
export interface RenewablesInterval {
  readonly region_id: RegionId
  readonly interval_end: string
  readonly share: number | null
  readonly renewable_mw: number
  readonly total_mw: number
  readonly wind_mw: number
  readonly utility_solar_mw: number
  readonly hydro_mw: number
  /** Null while the half hour's rooftop estimate is not published: the share is then SCADA only. */
  readonly rooftop_solar_mw: number | null
  readonly rooftop_estimate_type: RooftopEstimateType | null
}

export interface GenerationQueries {
  /**
   * MW and share by fuel type for one region and 5-minute interval (the newest SCADA interval by
   * default), rooftop PV included when its half hour's estimate is in. Shares are of the region's
   * net total, so loads (negative) reduce the denominator. Undefined without SCADA rows.
   */
  mix(regionId: RegionId, intervalEnd?: string): GenerationMix | undefined
  /** The renewables share of a region per 5-minute SCADA interval, newest first. */
  renewables(q: RangeQuery & { regionId: RegionId }): Page<RenewablesInterval>
}

/** One fuel's SCADA sum for an interval (its share comes with the mix's total). */
type FuelRow = Omit<GenerationMix['fuels'][number], 'share'>

interface PreferredRooftop {
  readonly t: number
  readonly power: number
  readonly type: RooftopEstimateType
  readonly qi: number | null
  readonly basis: RooftopPvEvent['basis']
}

export function createGenerationQueries(db: ProjectionDb): GenerationQueries {
  const q = (sql: string) => db.sqlite.prepare(sql)
  const scada = "region_id = $region AND source = 'aemo.dispatch_scada'"
  const latestScadaInterval = q(`SELECT MAX(interval_end) AS t FROM dispatch WHERE ${scada}`)
  const mixRows = q(
    `SELECT fuel_type AS fuel_type, SUM(value_mw) AS value_mw, SUM(unit_count) AS unit_count
     FROM dispatch WHERE ${scada} AND interval_end = $t GROUP BY fuel_type`
  )
  const rooftopBetween = q(
    `SELECT interval_end AS t, power_mw AS power, estimate_type AS type, quality_indicator AS qi,
     basis FROM rooftop_pv WHERE region_id = $region AND preferred = 1 AND interval_end BETWEEN $lo AND $hi`
  )
  const preferredRooftop = (region: RegionId, lo: number, hi: number) =>
    new Map((rooftopBetween.all({ region, lo, hi }) as PreferredRooftop[]).map((r) => [r.t, r]))
  const series = renewableSeriesStatements(db, scada)

  return {
    mix(regionId, intervalEnd) {
      const t = intervalEnd
        ? Date.parse(intervalEnd)
        : (latestScadaInterval.get({ region: regionId }) as { t: number | null }).t
      if (t === null || t === undefined) return undefined
      const rows = mixRows.all({ region: regionId, t }) as FuelRow[]
      if (rows.length === 0) return undefined
      const half = halfHourEndFor(t)
      const rooftop = preferredRooftop(regionId, half, half).get(half)
      return mixOf(regionId, t, rows, rooftop)
    },
    renewables(query) {
      const rows = series(query)
      const more = rows.length > query.limit
      const slice = more ? rows.slice(0, query.limit) : rows
      const rooftop =
        slice.length === 0
          ? new Map<number, PreferredRooftop>()
          : preferredRooftop(
              query.regionId,
              halfHourEndFor(slice.at(-1)!.t),
              halfHourEndFor(slice[0]!.t)
            )
      return {
        data: slice.map((r) =>
          renewablesInterval(query.regionId, r, rooftop.get(halfHourEndFor(r.t)))
        ),
        nextCursor: more ? encodeCursor({ t: slice.at(-1)!.t, id: query.regionId }) : null,
      }
    },
  }
}

function mixOf(
  regionId: RegionId,
  t: number,
  scadaRows: FuelRow[],
  rooftop: PreferredRooftop | undefined
): GenerationMix {
  // Rooftop PV is an estimate for the region, not units: no DUIDs behind it.
  const rows: FuelRow[] = rooftop
    ? [...scadaRows, { fuel_type: 'rooftop_solar', value_mw: rooftop.power, unit_count: 0 }]
    : scadaRows
  const total = rows.reduce((sum, r) => sum + r.value_mw, 0)
  return {
    region_id: regionId,
    interval_end: toUtcIso(t),
    total_mw: round6(total),
    fuels: rows
      .map((r) => ({
        fuel_type: r.fuel_type,
        value_mw: r.value_mw,
        unit_count: r.unit_count,
        share: total === 0 ? 0 : round6(r.value_mw / total),
      }))
      .sort((a, b) => b.value_mw - a.value_mw),
    rooftop: rooftop
      ? {
          interval_end: toUtcIso(rooftop.t),
          estimate_type: rooftop.type,
          quality_indicator: rooftop.qi,
          basis: rooftop.basis,
        }
      : null,
    renewables: { ...renewablesOf(rows), rooftop_included: rooftop !== undefined },
  }
}

/** One interval's SCADA sums by the fuels the share needs. */
interface SeriesRow {
  readonly t: number
  readonly total: number
  readonly battery: number
  readonly wind: number
  readonly utility_solar: number
  readonly hydro: number
}

function renewablesInterval(
  regionId: RegionId,
  r: SeriesRow,
  rooftop: PreferredRooftop | undefined
): RenewablesInterval {
  const fuels: { fuel_type: FuelType; value_mw: number }[] = [
    // Everything neither renewable nor a battery (coal, gas, …), summed: only the total matters.
    { fuel_type: 'other', value_mw: r.total - r.battery - r.wind - r.utility_solar - r.hydro },
    { fuel_type: 'wind', value_mw: r.wind },
    { fuel_type: 'utility_solar', value_mw: r.utility_solar },
    { fuel_type: 'hydro', value_mw: r.hydro },
  ]
  if (rooftop) fuels.push({ fuel_type: 'rooftop_solar', value_mw: rooftop.power })
  return {
    region_id: regionId,
    interval_end: toUtcIso(r.t),
    ...renewablesOf(fuels),
    wind_mw: round6(r.wind),
    utility_solar_mw: round6(r.utility_solar),
    hydro_mw: round6(r.hydro),
    rooftop_solar_mw: rooftop ? rooftop.power : null,
    rooftop_estimate_type: rooftop ? rooftop.type : null,
  }
}

/**
 * Keyset pages of one region's SCADA intervals with the sums the share needs, newest first: one
 * cached statement per combination of bounds present (as the pager does for lists).
 */
function renewableSeriesStatements(db: ProjectionDb, scada: string) {
  const statements = new Map<string, Statement>()
  const sum = (fuels: string) => `SUM(CASE WHEN fuel_type IN (${fuels}) THEN value_mw ELSE 0 END)`
  return (query: RangeQuery & { regionId: RegionId }): SeriesRow[] => {
    const bounds = { from: !!query.from, to: !!query.to, cursor: !!query.cursor }
    const key = `${bounds.from}|${bounds.to}|${bounds.cursor}`
    let statement = statements.get(key)
    if (!statement) {
      const where = [scada]
      if (bounds.from) where.push('interval_end >= $from')
      if (bounds.to) where.push('interval_end < $to')
      if (bounds.cursor) where.push('interval_end < $cursorT')
      statement = db.sqlite.prepare(
        `SELECT interval_end AS t, SUM(value_mw) AS total,
         ${sum("'battery_charging', 'battery_discharging'")} AS battery, ${sum("'wind'")} AS wind,
         ${sum("'utility_solar'")} AS utility_solar, ${sum("'hydro'")} AS hydro
         FROM dispatch WHERE ${where.join(' AND ')}
         GROUP BY interval_end ORDER BY interval_end DESC LIMIT $limit`
      )
      statements.set(key, statement)
    }
    const values: Record<string, string | number> = {
      region: query.regionId,
      limit: query.limit + 1,
    }
    if (query.from) values.from = Date.parse(query.from)
    if (query.to) values.to = Date.parse(query.to)
    // One row per interval of the region: the interval alone orders the keyset.
    if (query.cursor) values.cursorT = decodeCursor(query.cursor).t
    return statement.all(values) as SeriesRow[]
  }
}
