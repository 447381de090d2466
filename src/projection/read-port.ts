import type { GridEventType } from '@/canonical'
import { readPositions } from './checkpoints'
import type { ProjectionDb } from './db'
import { createGenerationQueries } from './generation'
import { createLineageQueries } from './lineage'
import { createDeadLetterQueries } from './read-models/dead-letters'
import { READ_MODEL_LIST, READ_MODELS } from './read-models/index'
import type { BucketField } from './read-models/aggregate'
import { bucketFields } from './read-models/series'
import { createRequestTrace } from './request-trace'
import { createStatsQueries } from './stats'
import { createStreamJournal } from './stream-journal'

export {
  type AggregateInterval,
  type BucketField,
  INTERVALS,
  type Interval,
} from './read-models/aggregate'
export type { GenerationMix, RenewablesInterval } from './generation'
export type { DispatchRevision } from './read-models/dispatch'
export type { ReplacedVersion, StoredEvent } from './lineage'
export { isTraced, type RequestRecord, type TracedRequest } from './request-trace'
export type { ExportQuery, Page, RangeQuery, RowStream } from './read-models/pager'
export type { RegionCurtailment, RegionStorage } from './read-models/prices'
export type { RooftopPvEstimate } from './read-models/rooftop-pv'
export type { AggregateQuery, Bucket } from './read-models/series'
export {
  type GapRange,
  type RegionStats,
  REGION_STATS_SPECS,
  SOURCE_CADENCE_MS,
  STATS_TOTALS,
  type Stats,
} from './stats'
export type { JournalEntry, StreamJournal } from './stream-journal'

type Models = typeof READ_MODELS
/** Every stream's queries under its read model's `port` name: a new read model adds its own. */
export type StreamQueries = {
  readonly [T in GridEventType as Models[T]['port']]: ReturnType<Models[T]['queries']>
}

/**
 * Every field of each time series' buckets, in order (the API's bucket schemas and CSV columns),
 * by the series' name: its read model's port, or the name of a view (`curtailment`, `storage`).
 */
export const BUCKET_FIELDS: Readonly<Record<string, readonly BucketField[]>> = Object.fromEntries(
  READ_MODEL_LIST.flatMap((m) => [
    ...(m.series ? [[m.port, bucketFields(m.series)] as const] : []),
    ...Object.entries(m.views ?? {}).map(([name, view]) => [name, bucketFields(view)] as const),
  ])
)

/**
 * The stream a time series route reads, by the series' name (its read model's port, or a view's
 * name): what a cached answer depends on.
 */
export const STREAM_OF_SERIES: Readonly<Record<string, GridEventType>> = Object.fromEntries(
  READ_MODEL_LIST.flatMap((m) => [
    [m.port, m.eventType] as const,
    ...Object.keys(m.views ?? {}).map((view) => [view, m.eventType] as const),
  ])
)

/** What an answer was read from: some streams, or everything the projection holds. */
export type Reads = readonly GridEventType[] | 'all'

/**
 * When the projection last changed, per stream: `stamp(reads)` moves whenever a commit touches one
 * of `reads` (any commit for `'all'`: dead letters and totals too), and only then.
 */
function createFreshness(db: ProjectionDb) {
  return {
    stamp(reads: Reads): number {
      if (reads === 'all') return db.version.current
      // Every per-stream count only grows, so their sum moves exactly when one of them does.
      let sum = 0
      for (const type of reads) sum += db.changes.versionOf(type)
      return sum
    },
    /** Commits since the process started, any stream. */
    commits: () => db.version.current,
    newestOf: (type: GridEventType) => db.changes.newestOf(type),
  }
}
export type Freshness = ReturnType<typeof createFreshness>

/**
 * The read port the API uses: every stream's queries (from the read-model list), the dead letters,
 * the cross-stream statistics and the consumer positions. Every function returns canonical types,
 * never storage rows. Routers take the slice they read (`Pick<ReadPort, …>`).
 */
export function createReadPort(db: ProjectionDb, options: { traceRequestsMax?: number } = {}) {
  const streams = Object.fromEntries(
    READ_MODEL_LIST.map((model) => [model.port, model.queries(db)])
  ) as unknown as StreamQueries
  return {
    ...streams,
    deadLetters: createDeadLetterQueries(db),
    /** Across streams: the generation mix and renewables share (SCADA with rooftop PV). */
    generation: createGenerationQueries(db),
    ...createStatsQueries(db, streams.reconciliation),
    /** Lineage of one stored event: its file, row, log position and the versions it replaced. */
    lineage: createLineageQueries(db),
    /**
     * API requests by correlation id for `/api/v1/trace` (a write: the request store lives in the
     * projection database, node-local like it; see request-trace.ts).
     */
    requests: createRequestTrace(db, options.traceRequestsMax),
    /** Stored next offsets of a consumer, keyed `topic/partition`: with the log's end offsets, the lag. */
    positions: (consumer: string) => readPositions(db, consumer),
    /** What this node projected, by log position: the live stream's replay source. */
    journal: createStreamJournal(db),
    freshness: createFreshness(db),
    ping(): boolean {
      return db.sqlite.query('SELECT 1 AS ok').get() !== null
    },
  }
}

export type ReadPort = ReturnType<typeof createReadPort>
