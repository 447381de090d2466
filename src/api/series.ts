import { z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import {
  type AggregateInterval,
  BUCKET_FIELDS,
  type Bucket,
  type BucketField,
  type ExportQuery,
  INTERVALS,
  type Interval,
  type Page,
  type RangeQuery,
  type RowStream,
  STREAM_OF_SERIES,
} from '@/projection/read-port'
import { envelope, MAX_LIMIT, MetaSchema, pageOf } from './common'
import { CSV_CONTENT_TYPE, csvBody } from './csv'
import { declareReads } from './response-cache'
import type { AppEnv } from './router'

export const FORMATS = ['json', 'csv'] as const
export type Format = (typeof FORMATS)[number]

export const FormatSchema = z
  .enum(FORMATS)
  .optional()
  .openapi({
    description:
      '`csv` answers text/csv (as `Accept: text/csv` does), for spreadsheets and curl; `json` answers JSON whatever ' +
      '`Accept` says. Without it, `Accept` decides (JSON unless text/csv is preferred).',
  })

export const IntervalSchema = z
  .enum(INTERVALS)
  .default('5m')
  .openapi({
    description:
      'Bucket width. `5m` (the default) is the stored rows, unaggregated, exactly as without the parameter; ' +
      '`30m`, `1h`, `1d` and `1M` (calendar month) answer buckets, one per series (the bucket schema names the ' +
      'fields of a series, e.g. region, or region and fuel type and source). Buckets are aligned to NEM time ' +
      '(UTC+10, no daylight saving: a day runs 00:00–24:00 NEM = 14:00Z–14:00Z, a month from 00:00 NEM on the ' +
      '1st) and are (start, end]: an interval belongs to the bucket holding its END (weather: its observation ' +
      'time), so the interval ending 00:00 closes the day before. `from` rounds up and `to` down to bucket ' +
      'boundaries: only whole buckets are answered, and `completeness` (intervals present / expected at the ' +
      "stream's cadence: 5 min, weather 15 min, rooftop PV 30 min) tells a gap from a full bucket. Rules: power " +
      '(MW) is the mean over the intervals present, with energy (MWh) = Σ MW × interval hours over the intervals ' +
      'present beside it (mean × bucket hours when complete; a missing interval adds nothing and is never filled ' +
      'with an average); prices are the time-weighted mean with min and max (energy prices also the ' +
      'demand-weighted mean); levels (limits, available generation, stored energy) and weather are means ' +
      '(temperature and stored energy also min/max; wind direction is the direction of the mean vector). Newest ' +
      'bucket first; `limit` counts buckets; `next_cursor` is `<bucket_end ms>.s<hex of the series key>`.',
    example: '1d',
  })

/** The query parameters of a time-series route, beside its filters and `rangeQuery`. */
export const seriesQuery = { interval: IntervalSchema, format: FormatSchema }

const CSV_DESCRIPTION =
  'RFC 4180, UTF-8, CRLF: a header row with the JSON field names in the order of the schema (the ' +
  'list item, or the bucket with `interval`), then one record per item, newest first, with the same ' +
  'filters as JSON. Null is an empty field; a nested value (e.g. `unmapped_units`) is its JSON text ' +
  'in one field; a field holding `"`, `,`, CR or LF is quoted, inner quotes doubled; a text starting ' +
  "with `=`, `+`, `-`, `@`, tab or CR gets a leading `'` (spreadsheets would run it as a formula). A " +
  'bulk export: the body streams every matching row without the page size (`limit` applies only when ' +
  'given; `cursor` starts after that position, as in JSON, and can be made from a row: ' +
  '`<interval_end ms>.<event_id>`).'

const csvContent = { 'text/csv': { schema: z.string().openapi({ description: CSV_DESCRIPTION }) } }

const BucketMetaSchema = MetaSchema.extend({
  interval: z.enum(INTERVALS).exclude(['5m']).describe('The bucket width asked for'),
}).openapi('BucketPageMeta')

function bucketFieldSchema(field: BucketField, item: z.ZodObject): z.ZodType {
  switch (field.kind) {
    case 'series':
      return item.shape[field.name] as z.ZodType
    case 'instant':
      return z.iso.datetime().describe(field.description)
    case 'count':
      return z.number().int().min(0).describe(field.description)
    case 'ratio':
      return z.number().min(0).describe(field.description)
    case 'value':
      return z.number().nullable().describe(field.description)
  }
}

/**
 * A time series' HTTP contract, from its read model's declaration (`name`: its port, or a view's
 * name): the 200 response (a JSON page of items or of buckets, or CSV) and the CSV columns, which
 * are the JSON fields, in order.
 */
export function seriesContract<S extends z.ZodObject>(
  name: string,
  item: S,
  names: { readonly page: string; readonly bucket: string },
  description: string
) {
  const fields = BUCKET_FIELDS[name]
  if (!fields) throw new Error(`no read model declares a series or view named ${name}`)
  const bucket = z
    .object(Object.fromEntries(fields.map((f) => [f.name, bucketFieldSchema(f, item)])))
    .strict()
    .openapi(names.bucket)
  const page = pageOf(item, names.page)
  const buckets = z
    .object({ data: z.array(bucket), meta: BucketMetaSchema })
    .openapi(`${names.bucket}Page`)
  return {
    name,
    /** The JSON page of list items (without `interval`). */
    page,
    listColumns: Object.keys(item.shape),
    bucketColumns: Object.keys(bucket.shape),
    ok: {
      description: `${description}; with \`interval\` other than 5m, a page of buckets; with CSV, every row`,
      content: {
        'application/json': { schema: z.union([page, buckets]) },
        ...csvContent,
      },
    },
  }
}

/** A plain list's contract (no aggregates): a JSON page, or CSV. */
export function listContract<S extends z.ZodObject>(
  name: string,
  item: S,
  page: string,
  description: string
) {
  return {
    name,
    listColumns: Object.keys(item.shape),
    ok: {
      description: `${description}; with CSV, every row`,
      content: { 'application/json': { schema: pageOf(item, page) }, ...csvContent },
    },
  }
}

type ListContract = { readonly name: string; readonly listColumns: readonly string[] }
type SeriesContract = ReturnType<typeof seriesContract>

/** What a list route reads: its JSON page and its streamed export (the read port's queries). */
interface ListReader<T, Q extends RangeQuery> {
  list(q: Q): Page<T>
  export(q: ExportQuery<Q>): RowStream<T>
}

/** …and a time series' aggregates. */
interface SeriesReader<T, Q extends RangeQuery> extends ListReader<T, Q> {
  aggregate(q: Q & { interval: AggregateInterval }): Page<Bucket>
  exportAggregate(q: ExportQuery<Q & { interval: AggregateInterval }>): RowStream<Bucket>
}

/** A list route's answer: its JSON page, or with `format=csv` / `Accept: text/csv` the export. */
export function serveList<T extends object, Q extends RangeQuery>(
  c: Context<AppEnv>,
  contract: ListContract,
  reader: ListReader<T, Q>,
  q: Q & { format?: Format }
): Response {
  readsSeries(c, contract.name)
  if (!wantsCsv(c.req.header('accept'), q.format))
    return c.json(envelope(c, reader.list(q), q.limit), 200)
  return csv(c, contract.name, contract.listColumns, () => reader.export(exportQuery(c, q)))
}

/** A time-series route's answer: the list, or buckets of `interval`; JSON or CSV. */
export function serveSeries<T extends object, Q extends RangeQuery>(
  c: Context<AppEnv>,
  contract: SeriesContract,
  reader: SeriesReader<T, Q>,
  q: Q & { format?: Format; interval: Interval }
): Response {
  const { interval } = q
  if (interval === '5m') return serveList(c, contract, reader, q)
  readsSeries(c, contract.name)
  const aggregate = { ...q, interval }
  if (!wantsCsv(c.req.header('accept'), q.format)) {
    const page = envelope(c, reader.aggregate(aggregate), q.limit)
    return c.json({ ...page, meta: { ...page.meta, interval } }, 200)
  }
  return csv(c, `${contract.name}-${interval}`, contract.bucketColumns, () =>
    reader.exportAggregate(exportQuery(c, aggregate))
  )
}

/**
 * The export of a list that has no statement of its own (computed across streams): its pages one
 * after another by its own cursor, 1,000 rows at a time, so it streams like the others.
 */
export function byPages<T, Q extends RangeQuery>(list: (q: Q) => Page<T>): ListReader<T, Q> {
  return {
    list,
    export(q) {
      let cursor = q.cursor
      let left = q.limit ?? Number.POSITIVE_INFINITY
      let done = false
      return {
        next() {
          if (done || left <= 0) return null
          const page = list({ ...q, cursor, limit: Math.min(MAX_LIMIT, left) } as Q)
          left -= page.data.length
          cursor = page.nextCursor ?? undefined
          done = page.nextCursor === null
          return page.data
        },
        close: () => {
          done = true
        },
      }
    },
  }
}

/** CSV has no page size: `limit` (which defaults to 100 for JSON) counts only when it was given. */
const exportQuery = <Q extends RangeQuery>(c: Context<AppEnv>, q: Q): ExportQuery<Q> => ({
  ...q,
  limit: c.req.query('limit') === undefined ? undefined : q.limit,
})

function csv(
  c: Context<AppEnv>,
  name: string,
  columns: readonly string[],
  rows: () => RowStream<object>
): Response {
  const headers = {
    'Content-Type': CSV_CONTENT_TYPE,
    'Content-Disposition': `attachment; filename="gridpulse-${name}.csv"`,
  }
  // HEAD answers the headers without opening a statement nobody would read.
  if (c.req.method === 'HEAD') return c.body(null, 200, headers)
  return c.body(csvBody(columns, rows() as RowStream<Record<string, unknown>>), 200, headers)
}

/** A series' answer reads its stream; a list across streams declares its own (`declareReads`). */
function readsSeries(c: Context<AppEnv>, name: string) {
  const stream = STREAM_OF_SERIES[name]
  if (stream) declareReads(c, [stream])
}

/** `format` decides; else CSV only when `Accept` rates text/csv above application/json. */
export function wantsCsv(accept: string | undefined, format: string | undefined): boolean {
  if (format) return format === 'csv'
  if (!accept) return false
  return quality(accept, 'text', 'csv') > quality(accept, 'application', 'json')
}

/** The q value the most specific matching range of an Accept header gives a media type (RFC 9110 §12.5.1). */
function quality(accept: string, type: string, subtype: string): number {
  let specificity = -1
  let q = 0
  for (const range of accept.split(',')) {
    const [media = '', ...params] = range.split(';').map((p) => p.trim().toLowerCase())
    const [t, s] = media.split('/')
    const level =
      t === type && s === subtype
        ? 2
        : t === type && s === '*'
          ? 1
          : t === '*' && s === '*'
            ? 0
            : -1
    if (level <= specificity) continue
    specificity = level
    const weight = params.find((p) => p.startsWith('q='))
    const value = weight ? Number(weight.slice(2)) : 1
    q = Number.isFinite(value) ? value : 0
  }
  return q
}
