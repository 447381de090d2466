import type { Statement } from 'bun:sqlite'
import {
  asc,
  avg,
  count,
  desc,
  eq,
  getTableColumns,
  getTableName,
  max,
  min,
  sql,
} from 'drizzle-orm'
import type { SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core'
import type {
  DeadLetter,
  FuelType,
  InterconnectorFlowEvent,
  MarketDispatchEvent,
  RegionId,
  RegionPriceEvent,
  ScadaReconciliationEvent,
  SourceName,
  WeatherObservation,
} from '@/canonical'
import { timingSafeEqual } from 'node:crypto'
import { DomainError, sha256Hex, toUtcIso, toUtcIsoMs } from '@/lib'
import type { ProjectionDb } from './db'
import {
  apiKeys,
  interconnectorFlows,
  checkpoints,
  deadLetters,
  dispatch,
  prices,
  scadaReconciliation,
  weather,
} from './schema'

/**
 * A span of missing data: `from` is the end of the last interval before it (UTC, ISO-8601), `to`
 * the end of the last missing interval, or null while the gap is still open (nothing since).
 * `intervals`: 5-minute intervals in it that should have been published by now (null when the
 * source has no 5-minute cadence).
 */
export interface GapRange {
  readonly from: string
  readonly to: string | null
  readonly intervals: number | null
}

export interface Page<T> {
  readonly data: T[]
  /** Opaque cursor for the next (older) page; null on the last page. */
  readonly nextCursor: string | null
}

/** Time-range filter: `from` inclusive, `to` exclusive (half-open, so adjacent ranges never overlap). */
export interface RangeQuery {
  readonly from?: string
  readonly to?: string
  readonly limit: number
  readonly cursor?: string
}

interface Cursor {
  readonly t: number
  readonly id: string
}

// `<t>.<id>`: decimal milliseconds and the row id. The API documents this shape as a pattern
// (src/api/common.ts), and every string of that shape is a valid keyset position.
const CURSOR = /^(0|[1-9][0-9]{0,14})\.([0-9A-Za-z-]{1,64})$/
const encodeCursor = (c: Cursor): string => `${c.t}.${c.id}`

function decodeCursor(raw: string): Cursor {
  const m = CURSOR.exec(raw)
  if (m) return { t: Number(m[1]), id: m[2]! }
  throw new DomainError('validation_failed', 'cursor is not a cursor this API returned')
}

/** Equality filters a list supports, by query field → column. */
type Filters = Record<string, SQLiteColumn>

/**
 * Keyset pagination, newest first: stable under concurrent inserts, O(limit) per page. The hot read
 * path runs one cached bun:sqlite statement per combination of filters present, written from the
 * drizzle schema: per-request query building and statement preparation cost more than the query.
 */
function createPager<Row, T, Q extends RangeQuery>(
  db: ProjectionDb,
  table: SQLiteTable,
  time: SQLiteColumn,
  id: SQLiteColumn,
  filters: Filters,
  toCanonical: (row: Row) => T,
  keyOf: (row: Row) => Cursor
) {
  const statements = new Map<string, Statement>()
  // Many consumers poll the same page ("the latest 100"): serve it from memory until the projection
  // commits again. Bounded, and dropped wholesale on overflow (the pages are cheap to rebuild).
  const pages = new Map<string, { version: number; page: Page<T> }>()
  const columns = Object.entries(getTableColumns(table))
    .map(([key, column]) => `"${column.name}" AS "${key}"`)
    .join(', ')
  const from = `SELECT ${columns} FROM "${getTableName(table)}"`
  const order = `ORDER BY "${time.name}" DESC, "${id.name}" DESC LIMIT $limit`
  const statementFor = (
    present: string[],
    range: { from: boolean; to: boolean; cursor: boolean }
  ) => {
    const key = `${present.join(',')}|${range.from}|${range.to}|${range.cursor}`
    let statement = statements.get(key)
    if (!statement) {
      const where = present.map((name) => `"${filters[name]!.name}" = $${name}`)
      if (range.from) where.push(`"${time.name}" >= $from`)
      if (range.to) where.push(`"${time.name}" < $to`)
      if (range.cursor)
        where.push(
          `("${time.name}" < $cursorT OR ("${time.name}" = $cursorT AND "${id.name}" < $cursorId))`
        )
      statement = db.sqlite.prepare(
        `${from} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ${order}`
      )
      statements.set(key, statement)
    }
    return statement
  }
  return (query: Q): Page<T> => {
    const fields = query as unknown as Record<string, unknown>
    const present = Object.keys(filters).filter((name) => fields[name] !== undefined)
    const values: Record<string, string | number> = { limit: query.limit + 1 }
    for (const name of present) values[name] = fields[name] as string
    if (query.from) values.from = Date.parse(query.from)
    if (query.to) values.to = Date.parse(query.to)
    if (query.cursor) {
      const c = decodeCursor(query.cursor)
      values.cursorT = c.t
      values.cursorId = c.id
    }
    const cacheKey = JSON.stringify(values)
    const cached = pages.get(cacheKey)
    if (cached && cached.version === db.version.current) return cached.page
    const rows = statementFor(present, {
      from: !!query.from,
      to: !!query.to,
      cursor: !!query.cursor,
    }).all(values) as Row[]
    const more = rows.length > query.limit
    const slice = more ? rows.slice(0, query.limit) : rows
    const page = {
      data: slice.map(toCanonical),
      nextCursor: more ? encodeCursor(keyOf(slice[slice.length - 1]!)) : null,
    }
    if (pages.size >= 64) pages.clear()
    pages.set(cacheKey, { version: db.version.current, page })
    return page
  }
}

type DispatchRow = typeof dispatch.$inferSelect
type PriceRow = typeof prices.$inferSelect
type WeatherRow = typeof weather.$inferSelect
type FlowRow = typeof interconnectorFlows.$inferSelect
type EnvelopeRow = DispatchRow | PriceRow | WeatherRow | ReconciliationRow | FlowRow

const envelopeOf = (row: EnvelopeRow) => ({
  event_id: row.eventId,
  schema_version: row.schemaVersion as 1,
  correlation_id: row.correlationId,
  source: row.source as SourceName,
  source_file: row.sourceFile,
  source_sha256: row.sourceSha256,
  ingested_at: toUtcIsoMs(row.ingestedAt),
})

const toDispatch = (row: DispatchRow): MarketDispatchEvent => ({
  ...envelopeOf(row),
  event_type: 'MarketDispatchEvent',
  region_id: row.regionId as RegionId,
  fuel_type: row.fuelType as FuelType,
  interval_end: toUtcIso(row.intervalEnd),
  value_mw: row.valueMw,
  unit_count: row.unitCount,
  // Manual rows only: AEMO's rows keep exactly the fields they always had.
  ...(row.revision === null
    ? {}
    : {
        revision: row.revision,
        ...(row.writtenBy === null ? {} : { written_by: row.writtenBy }),
        ...(row.previousValueMw === null ? {} : { previous_value_mw: row.previousValueMw }),
      }),
})

/** One revision of a manual reading, oldest first in a history. */
export interface DispatchRevision {
  readonly event_id: string
  readonly revision: number
  readonly value_mw: number
  readonly previous_value_mw: number | null
  readonly written_by: string | null
  readonly written_at: string
  readonly correlation_id: string
}

const toPrice = (row: PriceRow): RegionPriceEvent => ({
  ...envelopeOf(row),
  event_type: 'RegionPriceEvent',
  region_id: row.regionId as RegionId,
  interval_end: toUtcIso(row.intervalEnd),
  rrp_aud_mwh: row.rrpAudMwh,
  total_demand_mw: row.totalDemandMw,
  available_generation_mw: row.availableGenerationMw,
  net_interchange_mw: row.netInterchangeMw,
  // Raw reads return SQLite's 0/1.
  intervention: Boolean(row.intervention),
})

const toWeather = (row: WeatherRow): WeatherObservation => ({
  ...envelopeOf(row),
  event_type: 'WeatherObservation',
  region_id: row.regionId as RegionId,
  location: row.location,
  latitude: row.latitude,
  longitude: row.longitude,
  observed_at: toUtcIso(row.observedAt),
  temperature_c: row.temperatureC,
  relative_humidity_pct: row.relativeHumidityPct,
  wind_speed_kmh: row.windSpeedKmh,
  wind_direction_deg: row.windDirectionDeg,
  cloud_cover_pct: row.cloudCoverPct,
  shortwave_radiation_wm2: row.shortwaveRadiationWm2,
})

type ReconciliationRow = typeof scadaReconciliation.$inferSelect
const toFlow = (row: FlowRow): InterconnectorFlowEvent => ({
  ...envelopeOf(row),
  event_type: 'InterconnectorFlowEvent',
  interconnector_id: row.interconnectorId,
  interval_end: toUtcIso(row.intervalEnd),
  mw_flow: row.mwFlow,
  metered_mw_flow: row.meteredMwFlow,
  mw_losses: row.mwLosses,
  export_limit_mw: row.exportLimitMw,
  import_limit_mw: row.importLimitMw,
  // Raw reads return SQLite's 0/1.
  intervention: Boolean(row.intervention),
})

const toReconciliation = (row: ReconciliationRow): ScadaReconciliationEvent => ({
  ...envelopeOf(row),
  event_type: 'ScadaReconciliationEvent',
  interval_end: toUtcIso(row.intervalEnd),
  total_mw: row.totalMw,
  generation_mw: row.generationMw,
  load_mw: row.loadMw,
  unmapped_mw: row.unmappedMw,
  unit_count: row.unitCount,
  unmapped_units: JSON.parse(row.unmappedUnits),
})

export interface GenerationMix {
  readonly region_id: RegionId
  readonly interval_end: string
  readonly total_mw: number
  readonly fuels: { fuel_type: FuelType; value_mw: number; share: number; unit_count: number }[]
}

const toDeadLetter = (row: typeof deadLetters.$inferSelect): DeadLetter => ({
  dead_letter_id: row.id,
  topic: row.topic,
  code: row.code,
  reason: row.reason,
  correlation_id: row.correlationId,
  source: row.source,
  source_file: row.sourceFile,
  row: row.row,
  raw: row.raw,
  failed_at: toUtcIsoMs(row.failedAt),
})

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
}

export interface Stats {
  readonly totals: { dispatch: number; prices: number; weather: number; dead_letters: number }
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

/**
 * The read port the API uses. Every function returns canonical types, never storage rows.
 */
export function createQueries(db: ProjectionDb) {
  const orm = db.orm
  const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v))

  const dispatchPage = createPager<
    DispatchRow,
    MarketDispatchEvent,
    RangeQuery & { regionId?: RegionId; fuelType?: FuelType }
  >(
    db,
    dispatch,
    dispatch.intervalEnd,
    dispatch.eventId,
    { regionId: dispatch.regionId, fuelType: dispatch.fuelType },
    toDispatch,
    (r) => ({ t: r.intervalEnd, id: r.eventId })
  )
  const pricePage = createPager<PriceRow, RegionPriceEvent, RangeQuery & { regionId?: RegionId }>(
    db,
    prices,
    prices.intervalEnd,
    prices.eventId,
    { regionId: prices.regionId },
    toPrice,
    (r) => ({ t: r.intervalEnd, id: r.eventId })
  )
  const weatherPage = createPager<
    WeatherRow,
    WeatherObservation,
    RangeQuery & { regionId?: RegionId }
  >(
    db,
    weather,
    weather.observedAt,
    weather.eventId,
    { regionId: weather.regionId },
    toWeather,
    (r) => ({ t: r.observedAt, id: r.eventId })
  )
  const deadLetterPage = createPager<
    typeof deadLetters.$inferSelect,
    DeadLetter,
    RangeQuery & { topic?: string }
  >(
    db,
    deadLetters,
    deadLetters.failedAt,
    deadLetters.id,
    { topic: deadLetters.topic },
    toDeadLetter,
    (r) => ({ t: r.failedAt, id: r.id })
  )

  const flowPage = createPager<
    FlowRow,
    InterconnectorFlowEvent,
    RangeQuery & { interconnectorId?: string }
  >(
    db,
    interconnectorFlows,
    interconnectorFlows.intervalEnd,
    interconnectorFlows.eventId,
    { interconnectorId: interconnectorFlows.interconnectorId },
    toFlow,
    (r) => ({ t: r.intervalEnd, id: r.eventId })
  )
  const reconciliationPage = createPager<ReconciliationRow, ScadaReconciliationEvent, RangeQuery>(
    db,
    scadaReconciliation,
    scadaReconciliation.intervalEnd,
    scadaReconciliation.eventId,
    {},
    toReconciliation,
    (r) => ({ t: r.intervalEnd, id: r.eventId })
  )
  const revisionsOf = db.sqlite.prepare(
    `SELECT event_id, revision, value_mw, previous_value_mw, written_by, written_at, correlation_id
     FROM dispatch_revisions WHERE region_id = $regionId AND fuel_type = $fuelType AND interval_end = $intervalEnd
     ORDER BY revision`
  )
  const latestScadaInterval = db.sqlite.prepare(
    "SELECT MAX(interval_end) AS t FROM dispatch WHERE region_id = $region AND source = 'aemo.dispatch_scada'"
  )
  const mixRows = db.sqlite.prepare(
    `SELECT fuel_type AS fuelType, SUM(value_mw) AS valueMw, SUM(unit_count) AS unitCount FROM dispatch
     WHERE region_id = $region AND interval_end = $t AND source = 'aemo.dispatch_scada'
     GROUP BY fuel_type ORDER BY SUM(value_mw) DESC`
  )
  const intervalsSince = (table: 'prices' | 'dispatch', source: string) =>
    db.sqlite.prepare(
      `SELECT DISTINCT interval_end AS t FROM ${table} WHERE source = '${source}' AND interval_end >= $since ORDER BY interval_end`
    )
  const sourceIntervals = {
    'aemo.dispatchis': intervalsSince('prices', 'aemo.dispatchis'),
    'aemo.dispatch_scada': intervalsSince('dispatch', 'aemo.dispatch_scada'),
  }
  const newestOf = (table: 'prices' | 'dispatch', source: string) =>
    db.sqlite.prepare(`SELECT MAX(interval_end) AS t FROM ${table} WHERE source = '${source}'`)
  const sourceNewest = {
    'aemo.dispatchis': newestOf('prices', 'aemo.dispatchis'),
    'aemo.dispatch_scada': newestOf('dispatch', 'aemo.dispatch_scada'),
  }

  const verifyKey = orm
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.id, sql.placeholder('id')))
    .prepare()

  return {
    dispatch: {
      list: (
        q: RangeQuery & { regionId?: RegionId; fuelType?: FuelType }
      ): Page<MarketDispatchEvent> => dispatchPage(q),
      /** Every revision of the manual reading for (region, fuel, interval), oldest first. */
      revisions(regionId: RegionId, fuelType: FuelType, intervalEnd: string): DispatchRevision[] {
        const rows = revisionsOf.all({
          regionId,
          fuelType,
          intervalEnd: Date.parse(intervalEnd),
        }) as (Omit<DispatchRevision, 'written_at'> & { written_at: number })[]
        return rows.map((r) => ({ ...r, written_at: toUtcIsoMs(r.written_at) }))
      },
      byEventId(eventId: string): MarketDispatchEvent | undefined {
        const row = orm.select().from(dispatch).where(eq(dispatch.eventId, eventId)).get()
        return row ? toDispatch(row) : undefined
      },
    },
    prices: {
      list: (q: RangeQuery & { regionId?: RegionId }): Page<RegionPriceEvent> => pricePage(q),
    },
    weather: {
      list: (q: RangeQuery & { regionId?: RegionId }): Page<WeatherObservation> => weatherPage(q),
    },
    deadLetters: {
      list: (q: RangeQuery & { topic?: string }): Page<DeadLetter> => deadLetterPage(q),
      byId(id: string): DeadLetter | undefined {
        const row = orm.select().from(deadLetters).where(eq(deadLetters.id, id)).get()
        return row ? toDeadLetter(row) : undefined
      },
    },
    stats(): Stats {
      const totals = {
        dispatch: orm.select({ n: count() }).from(dispatch).get()!.n,
        prices: orm.select({ n: count() }).from(prices).get()!.n,
        weather: orm.select({ n: count() }).from(weather).get()!.n,
        dead_letters: orm.select({ n: count() }).from(deadLetters).get()!.n,
      }
      const latestReconciliation = orm
        .select()
        .from(scadaReconciliation)
        .orderBy(desc(scadaReconciliation.intervalEnd))
        .limit(1)
        .get()
      const priceStats = orm
        .select({
          region: prices.regionId,
          n: count(),
          lo: min(prices.rrpAudMwh),
          mean: avg(prices.rrpAudMwh),
          hi: max(prices.rrpAudMwh),
        })
        .from(prices)
        .groupBy(prices.regionId)
        .all()
      const dispatchStats = orm
        .select({
          region: dispatch.regionId,
          n: count(),
          lo: min(dispatch.valueMw),
          mean: avg(dispatch.valueMw),
          hi: max(dispatch.valueMw),
        })
        .from(dispatch)
        .groupBy(dispatch.regionId)
        .all()
      const weatherStats = orm
        .select({
          region: weather.regionId,
          n: count(),
          lo: min(weather.temperatureC),
          mean: avg(weather.temperatureC),
          hi: max(weather.temperatureC),
        })
        .from(weather)
        .groupBy(weather.regionId)
        .all()
      const regionIds = [
        ...new Set([...priceStats, ...dispatchStats, ...weatherStats].map((r) => r.region)),
      ].sort()
      const regions = regionIds.map((region_id): RegionStats => {
        const p = priceStats.find((r) => r.region === region_id)
        const d = dispatchStats.find((r) => r.region === region_id)
        const w = weatherStats.find((r) => r.region === region_id)
        return {
          region_id,
          price_count: p?.n ?? 0,
          rrp_min: num(p?.lo),
          rrp_avg: num(p?.mean),
          rrp_max: num(p?.hi),
          dispatch_count: d?.n ?? 0,
          value_mw_min: num(d?.lo),
          value_mw_avg: num(d?.mean),
          value_mw_max: num(d?.hi),
          weather_count: w?.n ?? 0,
          temperature_c_min: num(w?.lo),
          temperature_c_avg: num(w?.mean),
          temperature_c_max: num(w?.hi),
        }
      })
      const perSource = (table: typeof dispatch | typeof prices, time: SQLiteColumn) =>
        orm
          .select({
            source: table.source,
            n: count(),
            newest: max(time),
            ingested: max(table.ingestedAt),
          })
          .from(table)
          .groupBy(table.source)
          .all()
      const sourceRows = [
        ...perSource(dispatch, dispatch.intervalEnd),
        ...perSource(prices, prices.intervalEnd),
        ...orm
          .select({
            source: weather.source,
            n: count(),
            newest: max(weather.observedAt),
            ingested: max(weather.ingestedAt),
          })
          .from(weather)
          .groupBy(weather.source)
          .all(),
      ]
      const merged = new Map<
        string,
        { events: number; newest: number | null; ingested: number | null }
      >()
      for (const r of sourceRows) {
        const m = merged.get(r.source) ?? { events: 0, newest: null, ingested: null }
        m.events += r.n
        m.newest = Math.max(m.newest ?? -Infinity, Number(r.newest ?? -Infinity))
        m.ingested = Math.max(m.ingested ?? -Infinity, Number(r.ingested ?? -Infinity))
        merged.set(r.source, m)
      }
      const sources = [...merged.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([source, m]) => ({
          source,
          events: m.events,
          newest_interval: Number.isFinite(m.newest) ? toUtcIso(m.newest!) : null,
          newest_ingested_at: Number.isFinite(m.ingested) ? toUtcIsoMs(m.ingested!) : null,
        }))
      return {
        totals,
        regions,
        sources,
        scada_unmapped: latestReconciliation
          ? {
              interval_end: toUtcIso(latestReconciliation.intervalEnd),
              unmapped_mw: latestReconciliation.unmappedMw,
              total_mw: latestReconciliation.totalMw,
              unmapped_units: JSON.parse(latestReconciliation.unmappedUnits),
            }
          : null,
      }
    },
    /** Stored next offsets of a consumer, keyed `topic/partition`: with the log's end offsets, the lag. */
    positions(consumer: string): Map<string, bigint> {
      const rows = orm
        .select()
        .from(checkpoints)
        .where(eq(checkpoints.consumer, consumer))
        .orderBy(asc(checkpoints.topic))
        .all()
      return new Map(rows.map((r) => [`${r.topic}/${r.partition}`, BigInt(r.nextOffset)]))
    },
    interconnectors: {
      list: (q: RangeQuery & { interconnectorId?: string }): Page<InterconnectorFlowEvent> =>
        flowPage(q),
    },
    reconciliation: {
      list: (q: RangeQuery): Page<ScadaReconciliationEvent> => reconciliationPage(q),
    },
    /**
     * MW and share by fuel type for one region and interval (the newest SCADA interval by default).
     * Shares are of the region's net total, so loads (negative) reduce the denominator.
     */
    generationMix(regionId: RegionId, intervalEnd?: string): GenerationMix | undefined {
      const t = intervalEnd
        ? Date.parse(intervalEnd)
        : (latestScadaInterval.get({ region: regionId }) as { t: number | null }).t
      if (t === null || t === undefined) return undefined
      const rows = mixRows.all({ region: regionId, t }) as {
        fuelType: FuelType
        valueMw: number
        unitCount: number
      }[]
      if (rows.length === 0) return undefined
      const total = rows.reduce((sum, r) => sum + r.valueMw, 0)
      return {
        region_id: regionId,
        interval_end: toUtcIso(t),
        total_mw: Math.round(total * 1e6) / 1e6,
        fuels: rows.map((r) => ({
          fuel_type: r.fuelType,
          value_mw: r.valueMw,
          unit_count: r.unitCount,
          share: total === 0 ? 0 : Math.round((r.valueMw / total) * 1e6) / 1e6,
        })),
      }
    },
    /**
     * Missing 5-minute intervals of a source, from the projection. `missing`: interval ends with no
     * data in the window (holes between ingested intervals, and intervals that should have arrived
     * by `expectedUntilMs` after the newest one: a stall still going on), newest first, at most
     * `limit`. `ranges`: the same as spans, newest first, not bounded by the window: an open span
     * (`to: null`) runs from the newest ingested interval — or, for a source with no data at all,
     * from `openSinceMs` (the node's start) — to now, so a source that never delivered or stalled
     * beyond the window is reported, not `[]`. An open span with nothing overdue yet is reported
     * only when `down` (the source is known to be failing).
     */
    gaps(
      source: 'aemo.dispatchis' | 'aemo.dispatch_scada',
      sinceMs: number,
      /** The newest interval end that should exist by now: a stall still going on is a gap too. */
      expectedUntilMs: number,
      options: { limit?: number; openSinceMs?: number; down?: boolean } = {}
    ): { missing: string[]; ranges: GapRange[] } {
      const limit = options.limit ?? 100
      const STEP = 300_000
      const times = (sourceIntervals[source].all({ since: sinceMs }) as { t: number }[]).map(
        (r) => r.t
      )
      const missing: string[] = []
      const ranges: GapRange[] = []
      const until = expectedUntilMs - (expectedUntilMs % STEP)
      // The newest interval ever ingested, even when it is older than the window (a long stall).
      const newest =
        times.at(-1) ?? (sourceNewest[source].get() as { t: number | null } | null)?.t ?? undefined
      const openFrom = newest ?? options.openSinceMs
      if (openFrom !== undefined) {
        // Interval ends after openFrom, up to `until`: overdue and missing.
        const first = openFrom - (openFrom % STEP) + STEP
        const overdue = until >= first ? (until - first) / STEP + 1 : 0
        if (overdue > 0 || options.down)
          ranges.push({ from: toUtcIso(openFrom), to: null, intervals: overdue })
        for (let t = until; t >= first && t >= sinceMs && missing.length < limit; t -= STEP)
          missing.push(toUtcIso(t))
      }
      for (let i = times.length - 1; i > 0; i--) {
        const [prev, next] = [times[i - 1]!, times[i]!]
        if (next - prev <= STEP) continue
        if (ranges.length < limit)
          ranges.push({
            from: toUtcIso(prev),
            to: toUtcIso(next - STEP),
            intervals: (next - prev) / STEP - 1,
          })
        for (let t = next - STEP; t > prev && missing.length < limit; t -= STEP)
          missing.push(toUtcIso(t))
      }
      return { missing, ranges }
    },
    apiKeys: {
      /**
       * Resolves a presented `gpk_<id>_<secret>` key to its consumer and scope, or undefined when
       * unknown, malformed or revoked. The secret's hash is compared in constant time.
       */
      verify(
        presented: string
      ): { id: string; consumer: string; scope: 'read' | 'write' } | undefined {
        const match = /^gpk_([0-9a-f]{12})_([A-Za-z0-9_-]{32})$/.exec(presented)
        if (!match) return undefined
        const row = verifyKey.get({ id: match[1]! })
        if (!row || row.revokedAt !== null) return undefined
        const expected = Buffer.from(row.secretSha256, 'hex')
        const actual = Buffer.from(sha256Hex(match[2]!), 'hex')
        return timingSafeEqual(expected, actual)
          ? { id: row.id, consumer: row.consumer, scope: row.scope }
          : undefined
      },
      count: (): number => orm.select({ n: count() }).from(apiKeys).get()!.n,
    },
    /** Newest projected_at − ingested_at, for the freshness metric. */
    ping(): boolean {
      return db.sqlite.query('SELECT 1 AS ok').get() !== null
    },
  }
}

export type Queries = ReturnType<typeof createQueries>
