import type { GridEventType } from '@/canonical'
import { readPositions } from './checkpoints'
import type { ProjectionDb } from './db'
import { createDeadLetterQueries } from './read-models/dead-letters'
import { READ_MODEL_LIST, READ_MODELS } from './read-models/index'
import { createStatsQueries } from './stats'
import type { BucketField } from './read-models/aggregate'

import { bucketFields } from './read-models/series'

export {
  type AggregateInterval,
  type BucketField,
  INTERVALS,
  type Interval,
} from './read-models/aggregate'
export type { DispatchRevision, GenerationMix } from './read-models/dispatch'
export type { ExportQuery, Page, RangeQuery, RowStream } from './read-models/pager'
export type { AggregateQuery, Bucket } from './read-models/series'
export { type GapRange, type RegionStats, STATS_TOTALS, type Stats } from './stats'

type Models = typeof READ_MODELS
/** Every stream's queries under its read model's `port` name: a new read model adds its own. */
export type StreamQueries = {
  readonly [T in GridEventType as Models[T]['port']]: ReturnType<Models[T]['queries']>
}

/** The streams that are time series (`series` declared): the API gives them `interval=` and CSV. */
export type SeriesPort = {
  [T in GridEventType]: ReturnType<Models[T]['queries']> extends { aggregate: unknown }
    ? Models[T]['port']
    : never
}[GridEventType]

/** Every field of each time series' buckets, in order (the API's bucket schemas and CSV columns). */
export const BUCKET_FIELDS = Object.fromEntries(
  READ_MODEL_LIST.flatMap((m) =>
    'series' in m && m.series ? [[m.port, bucketFields(m.series)]] : []
  )
) as unknown as Record<SeriesPort, readonly BucketField[]>

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
    ...createStatsQueries(db, streams.reconciliation),
    /** Stored next offsets of a consumer, keyed `topic/partition`: with the log's end offsets, the lag. */
    positions: (consumer: string) => readPositions(db, consumer),
    ping(): boolean {
      return db.sqlite.query('SELECT 1 AS ok').get() !== null
    },
  }
}

export type ReadPort = ReturnType<typeof createReadPort>
