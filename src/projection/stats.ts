import { getTableName } from 'drizzle-orm'
import type { ProjectionDb } from './db'
import { toUtcIso, toUtcIsoMs } from '@/lib'
import { deadLetters } from './read-models/dead-letters'
import { READ_MODEL_LIST } from './read-models/index'
import type { ReconciliationQueries } from './read-models/scada-reconciliation'

/**
 * The keys of the `/api/v1/stats` totals: every stream's table, in read-model order, then the dead
 * letters. Derived from the read-model list, so a new stream is counted (and documented) by itself.
 */
export const STATS_TOTALS: readonly string[] = [
  ...READ_MODEL_LIST.map((m) => getTableName(m.table)),
  getTableName(deadLetters),
]

/**
 * A span of missing data: `from` is the end of the last interval before it (UTC, ISO-8601), `to`
 * the end of the last missing interval, or null while the gap is still open (nothing since).
 * `intervals`: intervals of the source's cadence (5 minutes; 30 for rooftop PV) in it that should
 * have been published by now (null when the source has no fixed cadence).
 */
export interface GapRange {
  readonly from: string
  readonly to: string | null
  readonly intervals: number | null
}

export interface RegionStats {
  readonly region_id: string
  readonly price_count: number
  readonly rrp_min: number | null
  readonly rrp_avg: number | null
  readonly rrp_max: number | null
  readonly dispatch_count: number
  readonly value_mw_min: number | null
  readonly value_mw_avg: number | null
  readonly value_mw_max: number | null
  readonly weather_count: number
  readonly temperature_c_min: number | null
  readonly temperature_c_avg: number | null
  readonly temperature_c_max: number | null
  readonly rooftop_pv_count: number
  readonly power_mw_min: number | null
  readonly power_mw_avg: number | null
  readonly power_mw_max: number | null
  /** Intervals with curtailment figures (REGIONSUM versions with semi-scheduled columns). */
  readonly curtailment_count: number
  /** Semi-scheduled solar + wind curtailment, MW. */
  readonly curtailment_mw_min: number | null
  readonly curtailment_mw_avg: number | null
  readonly curtailment_mw_max: number | null
  /** Intervals with battery (BDU) storage figures. */
  readonly storage_count: number
  /** Energy stored in the region's bidirectional units, MWh. */
  readonly storage_mwh_min: number | null
  readonly storage_mwh_avg: number | null
  readonly storage_mwh_max: number | null
  /** FCAS prices (one per service and interval). */
  readonly fcas_count: number
  /** Over every service, AUD/MW/h. */
  readonly fcas_price_min: number | null
  readonly fcas_price_avg: number | null
  readonly fcas_price_max: number | null
}

export interface Stats {
  /** Rows per stream (keys: `STATS_TOTALS`). */
  readonly totals: Record<string, number>
  readonly regions: RegionStats[]
  readonly sources: {
    source: string
    events: number
    newest_interval: string | null
    newest_ingested_at: string | null
  }[]
  /** The newest SCADA interval's unmapped remainder (units missing from the DUID map). */
  readonly scada_unmapped: {
    interval_end: string
    unmapped_mw: number
    total_mw: number
    unmapped_units: { duid: string; value_mw: number }[]
  } | null
}

/** The sources with a fixed cadence, and its length: their missing intervals can be counted. */
export const SOURCE_CADENCE_MS = {
  'aemo.dispatchis': 300_000,
  'aemo.dispatch_scada': 300_000,
  'aemo.rooftop_pv': 1_800_000,
} as const
type GapSource = keyof typeof SOURCE_CADENCE_MS

type Statement = ReturnType<ProjectionDb['sqlite']['prepare']>
interface GapOptions {
  readonly limit?: number
  readonly openSinceMs?: number
  readonly down?: boolean
}

/** `compute()`, kept until the projection next commits (its version moves). */
function perCommit<T>(db: ProjectionDb, compute: () => T): () => T {
  let cached: { version: number; value: T } | undefined
  return () => {
    if (cached?.version !== db.version.current)
      cached = { version: db.version.current, value: compute() }
    return cached.value
  }
}

/**
 * A source's interval ends since the start of the window's hour, read once per commit and hour
 * (`/api/v1/sources` asks on every call with a window that moves by the millisecond), with the
 * newest interval ever ingested (older than the window after a long stall).
 */
function createIntervalReader(
  db: ProjectionDb,
  intervals: { since: Statement; newest: Statement }
) {
  const read = new Map<GapSource, { key: string; times: number[]; newest: number | undefined }>()
  return (source: GapSource, sinceMs: number) => {
    const from = sinceMs - (sinceMs % 3_600_000)
    const key = `${db.version.current}/${from}`
    let entry = read.get(source)
    if (entry?.key !== key) {
      const times = (intervals.since.all({ source, since: from }) as { t: number }[]).map(
        (r) => r.t
      )
      const newest =
        times.at(-1) ??
        (intervals.newest.get({ source }) as { t: number | null } | null)?.t ??
        undefined
      entry = { key, times, newest }
      read.set(source, entry)
    }
    return entry
  }
}

/** Statistics and the gap report, over every read model of the list. */
export function createStatsQueries(db: ProjectionDb, reconciliation: ReconciliationQueries) {
  const read = prepareStatsReads(db)
  const intervals = prepareIntervalStatements(db)
  // The stats tables are a few dozen rows kept by the projection's triggers (stats-table.ts), so
  // nothing here scans a stream; between commits the answer cannot change, so it is kept too.
  const totals = perCommit(db, () => {
    const sums = Object.fromEntries(STATS_TOTALS.map((name) => [name, 0]))
    for (const r of read.streams.all() as StreamRow[]) sums[r.stream] = (sums[r.stream] ?? 0) + r.n
    return sums
  })
  const stats = perCommit(db, (): Stats => {
    const latest = reconciliation.latest()
    return {
      totals: totals(),
      regions: regionStats(read.regions.all() as RegionRow[]),
      sources: sourceStats(read.streams.all() as StreamRow[]),
      scada_unmapped: latest
        ? {
            interval_end: latest.interval_end,
            unmapped_mw: latest.unmapped_mw,
            total_mw: latest.total_mw,
            unmapped_units: latest.unmapped_units,
          }
        : null,
    }
  })
  const readIntervals = createIntervalReader(db, intervals)
  return {
    /** Rows per stream (keys: `STATS_TOTALS`), from the stats table. */
    totals,
    /** Every stream's figures, from the stats tables. */
    stats,

    /**
     * Missing intervals of a source (at its cadence, `SOURCE_CADENCE_MS`), from the projection.
     * `missing`: interval ends with no data in the window (holes between ingested intervals, and
     * intervals that should have arrived by `expectedUntilMs` after the newest one: a stall still
     * going on), newest first, at most `limit`. `ranges`: the same as spans, newest first, not bounded by the window: an open span
     * (`to: null`) runs from the newest ingested interval — or, for a source with no data at all,
     * from `openSinceMs` (the node's start) — to now, so a source that never delivered or stalled
     * beyond the window is reported, not `[]`. An open span with nothing overdue yet is reported
     * only when `down` (the source is known to be failing).
     */
    gaps(
      source: GapSource,
      sinceMs: number,
      /** The newest interval end that should exist by now: a stall still going on is a gap too. */
      expectedUntilMs: number,
      options: GapOptions = {}
    ): { missing: string[]; ranges: GapRange[] } {
      const read = readIntervals(source, sinceMs)
      const times = read.times.filter((t) => t >= sinceMs)
      return findGaps(
        times,
        read.newest,
        sinceMs,
        expectedUntilMs,
        SOURCE_CADENCE_MS[source],
        options
      )
    },
  }
}

interface StreamRow {
  stream: string
  source: string
  n: number
  newest: number | null
  ingested: number | null
}
interface RegionRow {
  metric: string
  region: string
  rows: number
  values: number
  sum: number
  lo: number | null
  hi: number | null
}

/** The stats tables (groups emptied by an operator's DELETE are left out, as a scan would). */
function prepareStatsReads(db: ProjectionDb) {
  return {
    streams: db.sqlite.prepare(
      `SELECT stream, source, row_count AS n, last_time AS newest, last_ingested AS ingested
       FROM stats_streams WHERE row_count > 0`
    ),
    regions: db.sqlite.prepare(
      `SELECT metric, region, row_count AS rows, value_count AS "values", value_sum AS sum,
       value_min AS lo, value_max AS hi FROM stats_regions WHERE row_count > 0`
    ),
  }
}

/** A source's intervals are those of every stream it feeds (UNION: distinct, ordered). */
function prepareIntervalStatements(db: ProjectionDb): { since: Statement; newest: Statement } {
  const models = READ_MODEL_LIST.filter((m) => m.dispatchIntervals)
  const from = (m: (typeof models)[number]) => `"${getTableName(m.table)}"`
  return {
    since: db.sqlite.prepare(
      `${models
        .map(
          (m) =>
            `SELECT "${m.time.name}" AS t FROM ${from(m)} WHERE source = $source AND "${m.time.name}" >= $since`
        )
        .join(' UNION ')} ORDER BY t`
    ),
    newest: db.sqlite.prepare(
      `SELECT MAX(t) AS t FROM (${models
        .map((m) => `SELECT MAX("${m.time.name}") AS t FROM ${from(m)} WHERE source = $source`)
        .join(' UNION ALL ')})`
    ),
  }
}

/** Every per-region figure of `/api/v1/stats`, in read-model order: its keys and descriptions. */
export const REGION_STATS_SPECS = READ_MODEL_LIST.flatMap((m) => m.regionStats)
const REGION_SPECS = REGION_STATS_SPECS
const NO_FIGURES: Record<string, number | null> = Object.fromEntries(
  REGION_SPECS.flatMap((spec) => [
    [spec.count, 0],
    [`${spec.prefix}_min`, null],
    [`${spec.prefix}_avg`, null],
    [`${spec.prefix}_max`, null],
  ])
)

/** One row per region; a region absent from one stream gets that stream's zero count and null bounds. */
function regionStats(figures: readonly RegionRow[]): RegionStats[] {
  const specs = new Map(REGION_SPECS.map((spec) => [spec.prefix as string, spec]))
  const rows = new Map<string, Record<string, string | number | null>>()
  for (const r of figures) {
    const spec = specs.get(r.metric)
    if (!spec) continue // a figure of a read model no longer in the list (until the next rebuild)
    const row = rows.get(r.region) ?? {}
    row[spec.count] = spec.counts === 'rows' ? r.rows : r.values
    row[`${spec.prefix}_min`] = r.lo
    row[`${spec.prefix}_avg`] = r.values > 0 ? r.sum / r.values : null
    row[`${spec.prefix}_max`] = r.hi
    rows.set(r.region, row)
  }
  return [...rows.keys()]
    .sort()
    .map(
      (region_id) =>
        ({ region_id, ...NO_FIGURES, ...rows.get(region_id) }) as unknown as RegionStats
    )
}

// File records (lineage) are not events of their source, and their time is a fetch, not an interval.
const STREAMS = new Set(
  READ_MODEL_LIST.filter((m) => m.lineage !== true).map((m) => getTableName(m.table))
)

/** Events, newest interval and newest ingest per source, over every stream it feeds. */
function sourceStats(figures: readonly StreamRow[]): Stats['sources'] {
  const merged = new Map<string, { events: number; newest: number; ingested: number }>()
  for (const r of figures) {
    if (!STREAMS.has(r.stream)) continue // dead letters and file records count in the totals only
    const m = merged.get(r.source) ?? { events: 0, newest: -Infinity, ingested: -Infinity }
    m.events += r.n
    m.newest = Math.max(m.newest, Number(r.newest ?? -Infinity))
    m.ingested = Math.max(m.ingested, Number(r.ingested ?? -Infinity))
    merged.set(r.source, m)
  }
  return [...merged.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([source, m]) => ({
      source,
      events: m.events,
      newest_interval: Number.isFinite(m.newest) ? toUtcIso(m.newest) : null,
      newest_ingested_at: Number.isFinite(m.ingested) ? toUtcIsoMs(m.ingested) : null,
    }))
}

/** The gap report from a source's ingested interval ends (ascending) and its newest one. */
function findGaps(
  times: readonly number[],
  newest: number | undefined,
  sinceMs: number,
  expectedUntilMs: number,
  step: number,
  options: GapOptions
): { missing: string[]; ranges: GapRange[] } {
  const limit = options.limit ?? 100
  const missing: string[] = []
  const ranges: GapRange[] = []
  const until = expectedUntilMs - (expectedUntilMs % step)
  const openFrom = newest ?? options.openSinceMs
  if (openFrom !== undefined) {
    // Interval ends after openFrom, up to `until`: overdue and missing.
    const first = openFrom - (openFrom % step) + step
    const overdue = until >= first ? (until - first) / step + 1 : 0
    if (overdue > 0 || options.down)
      ranges.push({ from: toUtcIso(openFrom), to: null, intervals: overdue })
    for (let t = until; t >= first && t >= sinceMs && missing.length < limit; t -= step)
      missing.push(toUtcIso(t))
  }
  for (let i = times.length - 1; i > 0; i--) {
    const [prev, next] = [times[i - 1]!, times[i]!]
    if (next - prev <= step) continue
    if (ranges.length < limit)
      ranges.push({
        from: toUtcIso(prev),
        to: toUtcIso(next - step),
        intervals: (next - prev) / step - 1,
      })
    for (let t = next - step; t > prev && missing.length < limit; t -= step)
      missing.push(toUtcIso(t))
  }
  return { missing, ranges }
}
