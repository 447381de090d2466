import { readPositions } from './checkpoints'
import type { ProjectionDb } from './db'
import { createDeadLetterQueries } from './read-models/dead-letters'
import { READ_MODELS } from './read-models/index'
import { createStatsQueries } from './stats'

export type { DispatchRevision, GenerationMix } from './read-models/dispatch'
export type { Page, RangeQuery } from './read-models/pager'
export { type GapRange, type RegionStats, STATS_TOTALS, type Stats } from './stats'

/**
 * The read port the API uses, assembled from the read models. Every function returns canonical
 * types, never storage rows. Routers take the slice they read (`Pick<Queries, …>`).
 */
export function createQueries(db: ProjectionDb) {
  const dispatch = READ_MODELS.MarketDispatchEvent.queries(db)
  const reconciliation = READ_MODELS.ScadaReconciliationEvent.queries(db)
  return {
    dispatch,
    generationMix: dispatch.generationMix,
    prices: READ_MODELS.RegionPriceEvent.queries(db),
    weather: READ_MODELS.WeatherObservation.queries(db),
    interconnectors: READ_MODELS.InterconnectorFlowEvent.queries(db),
    reconciliation,
    deadLetters: createDeadLetterQueries(db),
    ...createStatsQueries(db, reconciliation),
    /** Stored next offsets of a consumer, keyed `topic/partition`: with the log's end offsets, the lag. */
    positions: (consumer: string) => readPositions(db, consumer),
    ping(): boolean {
      return db.sqlite.query('SELECT 1 AS ok').get() !== null
    },
  }
}

export type Queries = ReturnType<typeof createQueries>
