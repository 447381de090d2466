import type { Statement } from 'bun:sqlite'
import { getTableColumns, getTableName } from 'drizzle-orm'
import type { SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core'
import type { GridEventType } from '@/canonical'
import { toUtcIso } from '@/lib'
import type { ProjectionDb } from '../db'
import {
  type AggregateInterval,
  BUCKET_FIELDS,
  BUCKETINGS,
  type BucketField,
  type Bucketing,
  MAX_TIME,
  MIN_TIME,
  type Measure,
} from './aggregate'
import {
  createListExport,
  createPager,
  decodeCursor,
  type ExportQuery,
  encodeCursor,
  type Filters,
  type Page,
  type RangeQuery,
  type RowStream,
} from './pager'

/**
 * A time series as its read model declares it (in `read-models/<stream>.ts`): the list (table,
 * time, id, filters, row → event), and how its rows aggregate into buckets. Declaring it gives the
 * stream its JSON pages, CSV export, `interval=` aggregates and their CSV, all through
 * `createSeriesQueries`.
 */
export interface SeriesSpec<Row, T> {
  /** The event type whose commits change the table (they invalidate its memoized buckets). */
  readonly eventType: GridEventType
  readonly table: SQLiteTable
  /** Event time (epoch ms, UTC); for dispatch streams the END of the 5-minute interval. */
  readonly time: SQLiteColumn
  readonly id: SQLiteColumn
  /** Equality filters, query field → column (each is also an index's leading column). */
  readonly filters: Filters
  readonly toCanonical: (row: Row) => T
  /** How often one series has a row, ms (5 min; weather 15 min): `expected_intervals` of a bucket. */
  readonly cadenceMs: number
  readonly aggregate: {
    /** The event fields that name one series (GROUP BY), in order: e.g. region and fuel type. */
    readonly series: Readonly<Record<string, SQLiteColumn>>
    readonly measures: readonly Measure[]
  }
}

/** One aggregated bucket: series fields, bucket fields and measures, as `bucketFields` lists them. */
export type Bucket = Record<string, string | number | null>

export type AggregateQuery<Q extends RangeQuery> = Q & { readonly interval: AggregateInterval }

/** Every field of a stream's buckets, in the order JSON and CSV give them. */
export function bucketFields(spec: SeriesSpec<never, unknown>): BucketField[] {
  return [
    ...Object.keys(spec.aggregate.series).map((name) => ({
      name,
      kind: 'series' as const,
      description: `The series this bucket aggregates (\`${name}\` of its rows)`,
    })),
    ...BUCKET_FIELDS,
    ...spec.aggregate.measures.flatMap((m) => m.fields),
  ]
}

/** Rows per aggregate query when streaming CSV: a window covers about this many buckets × series. */
const EXPORT_WINDOW_ROWS = 2000

/** The queries every declared series gets: list, export, aggregate, aggregate export, plans. */
export function createSeriesQueries<Row, T, Q extends RangeQuery>(
  db: ProjectionDb,
  spec: SeriesSpec<Row, T>
) {
  const keys = Object.fromEntries(
    Object.entries(getTableColumns(spec.table)).map(([key, column]) => [column.name, key])
  )
  const timeKey = keys[spec.time.name]!
  const idKey = keys[spec.id.name]!
  const { table, time, id, filters, toCanonical } = spec
  const page = createPager<Row, T, Q>(db, table, time, id, filters, toCanonical, (row) => {
    const r = row as Record<string, unknown>
    return { t: r[timeKey] as number, id: r[idKey] as string }
  })
  const aggregator = createAggregator(db, spec)
  return {
    list: (q: Q): Page<T> => page(q),
    /** Every row of the list (or the first `limit`), streamed: the CSV export. */
    export: createListExport<Row, T, Q>(db, table, time, id, filters, toCanonical),
    /** One JSON page of buckets (at most `limit`), newest first. */
    aggregate(q: AggregateQuery<Q>): Page<Bucket> {
      const rows: Computed[] = []
      for (const window of aggregator.windows(q, q.limit + 1, q.limit + 1)) rows.push(...window)
      const more = rows.length > q.limit
      const data = rows.slice(0, q.limit)
      return {
        data: data.map(strip),
        nextCursor: more ? cursorOf(data[data.length - 1]!) : null,
      }
    },
    /** Every bucket (or the first `limit`), window by window: the CSV export of an aggregate. */
    exportAggregate(q: ExportQuery<AggregateQuery<Q>>): RowStream<Bucket> {
      const windows = aggregator.windows(q, q.limit ?? Number.POSITIVE_INFINITY, EXPORT_WINDOW_ROWS)
      return {
        next() {
          const w = windows.next()
          return w.done ? null : w.value.map(strip)
        },
        close: () => void windows.return(undefined),
      }
    },
    /** EXPLAIN QUERY PLAN of every statement an aggregate of `q` runs (each must be a range scan). */
    explain: (q: AggregateQuery<Q>): string[] => aggregator.explain(q),
  }
}

export type SeriesQueries<Row, T, Q extends RangeQuery> = ReturnType<
  typeof createSeriesQueries<Row, T, Q>
>

/** A bucket as computed: its fields, its end (ms) and its series key, for ordering and cursors. */
type Computed = Bucket & { readonly end: number; readonly key: string }

const cursorOf = (b: Computed) => encodeCursor({ t: b.end, id: b.key })

/**
 * Bucket rows kept in memory per projection database, across every series and view
 * (AGGREGATE_CACHE_BUCKETS; an empty bucket counts as one). Past the bound every memo starts again,
 * rebuilt on demand.
 */
const budgets = new WeakMap<ProjectionDb, { used: number; clears: (() => void)[] }>()
function budgetOf(db: ProjectionDb) {
  let budget = budgets.get(db)
  if (!budget) {
    budget = { used: 0, clears: [] }
    budgets.set(db, budget)
  }
  return budget
}

/**
 * Aggregation in bounded windows of buckets, newest first. A page never scans more than it needs:
 * each window starts at the newest row below the previous one (one index seek, so gaps cost
 * nothing) and spans as many buckets as the rows still wanted need, at the number of series per
 * bucket seen so far (one bucket first). Every query is a range scan of the (series filter, time)
 * index: `time > lo AND time <= hi`, both bounds always bound.
 */
function createAggregator<Row, T>(db: ProjectionDb, spec: SeriesSpec<Row, T>) {
  const sql = aggregateSql(spec, spec.cadenceMs / 3_600_000)
  const prepared = statementCache(db)
  const bucketsIn = createBucketStore(
    db,
    spec,
    (q, bound, lo, hi) =>
      prepared(`buckets|${bound.present}|${q.interval}`, () =>
        sql.buckets(bound.present, BUCKETINGS[q.interval])
      ).all({ ...bound.values, lo, hi }) as Record<string, string | number | null>[]
  )
  return {
    *windows(q: WindowQuery, wanted: number, perWindow: number) {
      const b = BUCKETINGS[q.interval]
      const bound = bindFilters(q, spec.filters)
      const top = prepared(`top|${bound.present}`, () => sql.top(bound.present))
      const range = bucketRange(q, b)
      // Keyset: buckets ending before the cursor's, or at it with a greater series key.
      const cursor = q.cursor ? decodeCursor(q.cursor) : { t: MAX_TIME + 1, id: '' }
      const after = (r: Computed) => r.end < cursor.t || (r.end === cursor.t && r.key > cursor.id)
      let upper = Math.min(range.hi, b.floor(Math.min(cursor.t, MAX_TIME)))
      let perBucket = 0
      while (wanted > 0 && upper > range.lo) {
        const newest = (
          top.get({ ...bound.values, lo: range.lo, hi: upper }) as { t: number | null }
        ).t
        if (newest === null) return
        const end = b.ceil(newest)
        const n = perBucket === 0 ? 1 : Math.ceil(Math.min(wanted, perWindow) / perBucket)
        const start = Math.max(range.lo, b.back(end, n))
        const rows = bucketsIn(q, bound, start, end).filter(after).slice(0, wanted)
        if (rows.length > 0) perBucket = rows.length / new Set(rows.map((r) => r.end)).size
        wanted -= rows.length
        upper = start
        yield rows
      }
    },
    explain(q: WindowQuery): string[] {
      const { present } = bindFilters(q, spec.filters)
      return [sql.top(present), sql.buckets(present, BUCKETINGS[q.interval])].flatMap((text) =>
        (db.sqlite.query(`EXPLAIN QUERY PLAN ${text}`).all() as { detail: string }[]).map(
          (r) => r.detail
        )
      )
    },
  }
}

/** Prepared statements by key, prepared on first use (one per combination of filters and width). */
function statementCache(db: ProjectionDb) {
  const statements = new Map<string, Statement>()
  return (key: string, text: () => string): Statement => {
    let s = statements.get(key)
    if (!s) {
      s = db.sqlite.prepare(text())
      statements.set(key, s)
    }
    return s
  }
}

type Bound = ReturnType<typeof bindFilters>
type GroupedRow = Record<string, string | number | null>

/**
 * Buckets are whole (the range never cuts one), so a computed bucket does not depend on the query
 * that asked for it: it is kept, per filters and width, until the projector commits a change of
 * this stream inside it (`db.changes`). Settled history is aggregated once; a new interval costs
 * one bucket. Returns every bucket ending in (start, end], newest first: kept ones as they are,
 * the others computed by runs of consecutive buckets (one range query each).
 */
function createBucketStore<Row, T>(
  db: ProjectionDb,
  spec: SeriesSpec<Row, T>,
  query: (q: WindowQuery, bound: Bound, lo: number, hi: number) => GroupedRow[]
) {
  const memo = new Map<string, { seq: number; rows: Computed[] }>()
  const budget = budgetOf(db)
  budget.clears.push(() => memo.clear())
  return (q: WindowQuery, bound: Bound, start: number, end: number): Computed[] => {
    const b = BUCKETINGS[q.interval]
    const at = (e: number) => `${q.interval}|${bound.key}|${e}`
    const out: Computed[] = []
    const compute = (lo: number, hi: number) => {
      const seq = db.changes.seq
      const rows = query(q, bound, lo, hi).map((r) => toBucket(r, b, spec))
      const byEnd = Map.groupBy(rows, (r) => r.end)
      if (budget.used > db.aggregateCacheBuckets) {
        for (const clear of budget.clears) clear()
        budget.used = 0
      }
      for (let e = hi; e > lo; e = b.back(e, 1)) {
        const bucket = byEnd.get(e) ?? []
        if (db.aggregateCacheBuckets > 0) {
          memo.set(at(e), { seq, rows: bucket })
          budget.used += Math.max(1, bucket.length)
        }
        out.push(...bucket)
      }
    }
    let runEnd: number | undefined
    for (let e = end; e > start; e = b.back(e, 1)) {
      const hit = memo.get(at(e))
      if (hit && !db.changes.changedSince(spec.eventType, hit.seq, b.back(e, 1), e)) {
        if (runEnd !== undefined) compute(e, runEnd)
        runEnd = undefined
        out.push(...hit.rows)
      } else runEnd ??= e
    }
    if (runEnd !== undefined) compute(start, runEnd)
    return out
  }
}

/** What a window of buckets depends on (the filters are the query's other fields). */
type WindowQuery = Omit<ExportQuery<AggregateQuery<RangeQuery>>, 'limit'>

/** The filters present in a query and their values (the list's filters, same field names). */
function bindFilters(q: object, filters: Filters) {
  const fields = q as Record<string, unknown>
  const present = Object.keys(filters).filter((name) => fields[name] !== undefined)
  const values = Object.fromEntries(present.map((name) => [name, fields[name] as string]))
  return { present, values, key: JSON.stringify(values) }
}

/**
 * Whole buckets only: `from` rounds up and `to` down to bucket boundaries, so a bucket is never cut
 * by the range and `completeness` speaks of the data alone. Rows scanned: time in (lo, hi].
 */
function bucketRange(q: { from?: string; to?: string }, b: Bucketing) {
  const clamp = (t: number) => Math.min(MAX_TIME, Math.max(MIN_TIME, t))
  return {
    lo: b.ceil(q.from ? clamp(Date.parse(q.from)) : MIN_TIME),
    hi: b.floor(q.to ? clamp(Date.parse(q.to)) : MAX_TIME),
  }
}

const strip = ({ end: _e, key: _k, ...bucket }: Computed): Bucket => bucket

/** A grouped row → the bucket the API returns, with its keyset position. */
function toBucket<Row, T>(row: GroupedRow, b: Bucketing, spec: SeriesSpec<Row, T>): Computed {
  const { bucket_end, interval_count, series_key, ...rest } = row
  const end = bucket_end as number
  const present = interval_count as number
  const start = b.back(end, 1)
  const expected = Math.round((end - start) / spec.cadenceMs)
  const series = Object.fromEntries(Object.keys(spec.aggregate.series).map((k) => [k, rest[k]!]))
  return {
    ...series,
    bucket_start: toUtcIso(start),
    bucket_end: toUtcIso(end),
    interval_count: present,
    expected_intervals: expected,
    completeness: Math.round((present / expected) * 1e6) / 1e6,
    ...Object.fromEntries(
      spec.aggregate.measures.flatMap((m) => m.fields).map((f) => [f.name, rest[f.name]!])
    ),
    end,
    key: series_key as string,
  }
}

/**
 * The two statements of an aggregate, written from the declaration. The series key is
 * `s` + hex of the series values joined by U+001F: hex keeps their byte order, and any cursor of
 * the documented shape compares with it, so every such cursor is a valid position.
 */
function aggregateSql<Row, T>(spec: SeriesSpec<Row, T>, hours: number) {
  const table = `"${getTableName(spec.table)}"`
  const t = `"${spec.time.name}"`
  const where = (present: string[]) =>
    [
      ...present.map((name) => `"${spec.filters[name]!.name}" = $${name}`),
      `${t} > $lo`,
      `${t} <= $hi`,
    ].join(' AND ')
  const series = Object.entries(spec.aggregate.series)
  const key = series.length
    ? `'s' || hex(${series.map(([, c]) => `coalesce("${c.name}", '')`).join(' || char(31) || ')})`
    : `'s'`
  const measures = spec.aggregate.measures.flatMap((m) => {
    const exprs = m.sql(hours)
    return m.fields.map((f, i) => `${exprs[i]} AS "${f.name}"`)
  })
  return {
    top: (present: string[]) => `SELECT MAX(${t}) AS t FROM ${table} WHERE ${where(present)}`,
    buckets: (present: string[], b: Bucketing) =>
      `SELECT ${[
        ...series.map(([name, c]) => `"${c.name}" AS "${name}"`),
        `${b.sql(t)} AS bucket_end`,
        `${key} AS series_key`,
        'count(*) AS interval_count',
        ...measures,
      ].join(', ')} FROM ${table} WHERE ${where(present)}
       GROUP BY ${[...series.map(([, c]) => `"${c.name}"`), 'bucket_end'].join(', ')}
       ORDER BY bucket_end DESC, series_key ASC`,
  }
}
