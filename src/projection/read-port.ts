import type { GridEventType } from '@/canonical'
import { readPositions } from './checkpoints'
import type { ProjectionDb } from './db'
import { createGenerationQueries } from './generation'
import { createDeadLetterQueries } from './read-models/dead-letters'
import { READ_MODEL_LIST, READ_MODELS } from './read-models/index'
import { createStatsQueries } from './stats'

export type { GenerationMix, RenewablesInterval } from './generation'
export type { DispatchRevision } from './read-models/dispatch'
export type { RooftopPvEstimate } from './read-models/rooftop-pv'
export type { Page, RangeQuery } from './read-models/pager'
export type { RegionCurtailment, RegionStorage } from './read-models/prices'
export {
  type GapRange,
  type RegionStats,
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
