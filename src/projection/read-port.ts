import type { GridEventType } from '@/canonical'
import { readPositions } from './checkpoints'
import type { ProjectionDb } from './db'
import { createGenerationQueries } from './generation'
import { createDeadLetterQueries } from './read-models/dead-letters'
import { READ_MODEL_LIST, READ_MODELS } from './read-models/index'
import type { BucketField } from './read-models/aggregate'
import { bucketFields } from './read-models/series'
import { createStatsQueries } from './stats'

export {
  type AggregateInterval,
  type BucketField,
  INTERVALS,
  type Interval,
} from './read-models/aggregate'
export type { GenerationMix, RenewablesInterval } from './generation'
export type { DispatchRevision } from './read-models/dispatch'
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
 * The read port the API uses: every stream's queries (from the read-model list), the dead letters,
 * the cross-stream statistics and the consumer positions. Every function returns canonical types,
 * never storage rows. Routers take the slice they read (`Pick<ReadPort, …>`).
 */
export function createReadPort(db: ProjectionDb) {
  const streams = Object.fromEntries(
    READ_MODEL_LIST.map((model) => [model.port, model.queries(db)])
  ) as unknown as StreamQueries
  return {
    ...streams,
    deadLetters: createDeadLetterQueries(db),
    /** Across streams: the generation mix and renewables share (SCADA with rooftop PV). */
    generation: createGenerationQueries(db),
    ...createStatsQueries(db, streams.reconciliation),
    /** Stored next offsets of a consumer, keyed `topic/partition`: with the log's end offsets, the lag. */
    positions: (consumer: string) => readPositions(db, consumer),
    ping(): boolean {
      return db.sqlite.query('SELECT 1 AS ok').get() !== null
    },
  }
}

export type ReadPort = ReturnType<typeof createReadPort>
