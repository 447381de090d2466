import type { SQLiteColumn } from 'drizzle-orm/sqlite-core'

/**
 * Bucket widths a time-series route accepts as `interval`. `5m` is the stored rows themselves (the
 * list, unaggregated); the others are aggregates computed by the rules below.
 */
export const INTERVALS = ['5m', '30m', '1h', '1d', '1M'] as const
export type Interval = (typeof INTERVALS)[number]
export type AggregateInterval = Exclude<Interval, '5m'>

// NEM market time is UTC+10 all year (no daylight saving): a NEM day starts at 14:00Z.
const NEM_OFFSET_MS = 10 * 3_600_000
const HOUR_MS = 3_600_000
const DAY_MS = 24 * HOUR_MS
/** Times outside [0, 9999-12-31] are clamped: no market data lies outside, and Date stays valid. */
export const MIN_TIME = 0
export const MAX_TIME = Date.UTC(9999, 11, 31)

/**
 * Bucket boundaries of one width, aligned to NEM time. Buckets are half-open on the left,
 * (start, end], like AEMO's intervals: an interval belongs to the bucket containing its END, so the
 * interval ending 00:00 NEM closes the previous day and a NEM day holds 00:05 … 24:00 (288).
 */
export interface Bucketing {
  /** The last boundary ≤ t. */
  floor(t: number): number
  /** The first boundary ≥ t: the end of the bucket an interval ending at t belongs to. */
  ceil(t: number): number
  /** The boundary `n` buckets before the boundary `b`. */
  back(b: number, n: number): number
  /** SQL computing `ceil` of an integer epoch-ms column (the bucket end), for GROUP BY. */
  sql(column: string): string
}

/** Fixed widths: boundaries are k × width + alignment (midnight NEM for days, any hour otherwise). */
function fixedWidth(width: number): Bucketing {
  const align = ((-NEM_OFFSET_MS % width) + width) % width
  const floor = (t: number) => Math.floor((t - align) / width) * width + align
  return {
    floor,
    ceil: (t) => {
      const f = floor(t)
      return f === t ? t : f + width
    },
    back: (b, n) => b - n * width,
    // Integer division truncates; interval ends are after 1970, so (t - align - 1) ≥ 0 and it floors.
    sql: (c) => `((${c} - ${align + 1}) / ${width} + 1) * ${width} + ${align}`,
  }
}

/** Calendar months of NEM time: 28 to 31 days, boundaries at 00:00 NEM on the 1st. */
const months: Bucketing = {
  floor(t) {
    const nem = new Date(t + NEM_OFFSET_MS)
    return Date.UTC(nem.getUTCFullYear(), nem.getUTCMonth(), 1) - NEM_OFFSET_MS
  },
  ceil(t) {
    const f = months.floor(t)
    return f === t ? t : months.back(f, -1)
  },
  back(b, n) {
    const nem = new Date(b + NEM_OFFSET_MS)
    return Date.UTC(nem.getUTCFullYear(), nem.getUTCMonth() - n, 1) - NEM_OFFSET_MS
  },
  // (t - 1 ms) in NEM seconds → start of its month → + 1 month → back to UTC milliseconds.
  sql: (c) =>
    `(unixepoch((${c} - 1) / 1000 + ${NEM_OFFSET_MS / 1000}, 'unixepoch', 'start of month', '+1 month') - ${NEM_OFFSET_MS / 1000}) * 1000`,
}

export const BUCKETINGS: { readonly [I in AggregateInterval]: Bucketing } = {
  '30m': fixedWidth(30 * 60_000),
  '1h': fixedWidth(HOUR_MS),
  '1d': fixedWidth(DAY_MS),
  '1M': months,
}

/** One field of a bucket as the API documents it. */
export interface BucketField {
  readonly name: string
  readonly kind: 'series' | 'instant' | 'count' | 'ratio' | 'value'
  readonly description: string
}

/**
 * How one stored column is aggregated: the bucket fields it yields and their SQL (one expression
 * per field, same order). Every rule is over the rows PRESENT in the bucket, and nulls are skipped:
 * nothing is interpolated over a gap, and `completeness` says how much of the bucket was there.
 */
export interface Measure {
  readonly fields: readonly BucketField[]
  /** `hours`: the stream's cadence in hours (5/60 for dispatch intervals), for energies. */
  readonly sql: (hours: number) => readonly string[]
}

const col = (c: SQLiteColumn) => `"${c.name}"`
const value = (name: string, description: string): BucketField => ({
  name,
  kind: 'value',
  description,
})
// Six decimals: far below any quantity AEMO publishes, and free of float noise (88.50000000000001).
const round = (sql: string) => `round(${sql}, 6)`

/**
 * Power, MW: the mean over the intervals present, and the energy beside it. Energy is
 * Σ MW × cadence hours over the intervals present (5/60 h each): equal to mean × bucket hours when
 * the bucket is complete, and never extrapolated over missing intervals when it is not.
 */
export function power(field: string, column: SQLiteColumn, energy: string): Measure {
  return {
    fields: [
      value(field, `Mean over the intervals present, MW (from \`${field}\`)`),
      value(
        energy,
        `Energy, MWh: Σ \`${field}\` × interval hours over the intervals present (= mean × bucket hours when completeness is 1; missing intervals count zero, never an average)`
      ),
    ],
    sql: (hours) => [round(`avg(${col(column)})`), round(`sum(${col(column)}) * ${hours}`)],
  }
}

/** A level that is not a flow (a limit, a capacity): the mean only, no energy. */
export function mean(
  field: string,
  column: SQLiteColumn,
  unit: string,
  options: { minMax?: boolean } = {}
): Measure {
  const c = col(column)
  return {
    fields: [
      value(field, `Mean over the intervals present, ${unit}`),
      ...(options.minMax
        ? [
            value(`${field}_min`, `Lowest value in the bucket, ${unit}`),
            value(`${field}_max`, `Highest value in the bucket, ${unit}`),
          ]
        : []),
    ],
    sql: () => [round(`avg(${c})`), ...(options.minMax ? [`min(${c})`, `max(${c})`] : [])],
  }
}

/**
 * Price: the time-weighted mean (every interval lasts the same 5 minutes, so the plain mean of the
 * prices present: since 5-minute settlement the 30-minute price is the mean of its six 5-minute
 * prices), min and max, and with a `weight` (demand) the demand-weighted mean Σ p·d / Σ d.
 */
export function price(
  field: string,
  column: SQLiteColumn,
  unit: string,
  weight?: { readonly column: SQLiteColumn; readonly name: string }
): Measure {
  const c = col(column)
  return {
    fields: [
      value(field, `Time-weighted mean over the intervals present, ${unit}`),
      value(`${field}_min`, `Lowest interval price in the bucket, ${unit}`),
      value(`${field}_max`, `Highest interval price in the bucket, ${unit}`),
      ...(weight
        ? [
            value(
              `${field}_demand_weighted`,
              `Mean weighted by \`${weight.name}\`: Σ price × demand / Σ demand over the intervals with both, ${unit} (null when Σ demand is 0)`
            ),
          ]
        : []),
    ],
    sql: () => {
      const w = weight ? col(weight.column) : ''
      return [
        round(`avg(${c})`),
        `min(${c})`,
        `max(${c})`,
        ...(weight
          ? [round(`sum(${c} * ${w}) / nullif(sum(CASE WHEN ${c} IS NOT NULL THEN ${w} END), 0)`)]
          : []),
      ]
    },
  }
}

/** A compass direction, degrees: the direction of the mean unit vector (350° and 10° average to 0°, not 180°). */
export function direction(field: string, column: SQLiteColumn): Measure {
  const r = `radians(${col(column)})`
  return {
    fields: [
      value(
        field,
        'Direction of the mean of the unit vectors of the directions present, degrees [0, 360)'
      ),
    ],
    sql: () => [
      `CASE WHEN count(${col(column)}) = 0 THEN NULL ELSE ${round(`mod(degrees(atan2(avg(sin(${r})), avg(cos(${r})))) + 360, 360)`)} END`,
    ],
  }
}

/** A boolean column (0/1): how many intervals of the bucket had it set. */
export function countTrue(field: string, column: SQLiteColumn, what: string): Measure {
  return {
    fields: [{ name: field, kind: 'count', description: `Intervals present with ${what}` }],
    sql: () => [`CAST(total(${col(column)}) AS INTEGER)`],
  }
}

/** The fields every bucket carries, between its series fields and its measures. */
export const BUCKET_FIELDS: readonly BucketField[] = [
  {
    name: 'bucket_start',
    kind: 'instant',
    description:
      'Start of the bucket, UTC (exclusive: an interval ending here is in the bucket before)',
  },
  {
    name: 'bucket_end',
    kind: 'instant',
    description: 'End of the bucket, UTC (inclusive: the interval ending here is in this bucket)',
  },
  {
    name: 'interval_count',
    kind: 'count',
    description: 'Intervals (or observations) present in the bucket',
  },
  {
    name: 'expected_intervals',
    kind: 'count',
    description:
      "Intervals a complete bucket holds at the stream's cadence (5 min; weather 15 min): 6 per 30 minutes, 288 per NEM day",
  },
  {
    name: 'completeness',
    kind: 'ratio',
    description:
      'interval_count / expected_intervals (rounded to 6 decimals): below 1, part of the bucket is missing and the means cover only what is present',
  },
]
