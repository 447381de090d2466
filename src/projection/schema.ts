import { integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core'

// Every drizzle table, for drizzle-kit (drizzle.config.ts) and the typed ORM. A stream's table
// lives in its read model (read-models/<stream>.ts); the tables below belong to no stream.
export { deadLetters } from './read-models/dead-letters'
export { dispatch, dispatchRevisions } from './read-models/dispatch'
export { fcasPrices } from './read-models/fcas-prices'
export { interconnectorFlows } from './read-models/interconnector-flows'
export { prices } from './read-models/prices'
export { rooftopPv } from './read-models/rooftop-pv'
export { scadaReconciliation } from './read-models/scada-reconciliation'
export { sourceFiles } from './read-models/source-files'
export { statsRegions, statsStreams, statsWatermarks } from './stats-table'
export { weather } from './read-models/weather'
export { replacedVersions } from './read-models/replaced-versions'
export { apiRequests } from './request-trace'
export { streamJournal, streamJournalFloor } from './stream-journal'

/** Consumer positions, committed in the same transaction as the rows they produced (effectively-once). */
export const checkpoints = sqliteTable(
  'checkpoints',
  {
    consumer: text('consumer').notNull(),
    topic: text('topic').notNull(),
    partition: integer('partition').notNull(),
    // Offsets stay below 2^53 for centuries at NEM volumes, so a JS number is exact.
    nextOffset: integer('next_offset').notNull(),
  },
  (t) => [primaryKey({ columns: [t.consumer, t.topic, t.partition] })]
)
