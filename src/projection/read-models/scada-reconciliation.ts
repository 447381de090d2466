import { desc } from 'drizzle-orm'
import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import type { ScadaReconciliationEvent } from '@/canonical'
import { FIVE_MINUTES_MS, toUtcIso } from '@/lib'
import { power } from './aggregate'
import type { RangeQuery } from './pager'
import {
  byApiCorrelation,
  envelopeColumns,
  envelopeOf,
  type ReadModel,
  upsertStatement,
} from './read-model'
import { createSeriesQueries, type SeriesQueries, type SeriesSpec } from './series'

export const scadaReconciliation = sqliteTable(
  'scada_reconciliation',
  {
    ...envelopeColumns(),
    intervalEnd: integer('interval_end').notNull(),
    totalMw: real('total_mw').notNull(),
    generationMw: real('generation_mw').notNull(),
    loadMw: real('load_mw').notNull(),
    unmappedMw: real('unmapped_mw').notNull(),
    unitCount: integer('unit_count').notNull(),
    /** JSON array of { duid, value_mw }. */
    unmappedUnits: text('unmapped_units').notNull(),
  },
  (t) => [
    index('scada_reconciliation_by_time').on(t.intervalEnd, t.eventId),
    byApiCorrelation('scada_reconciliation', t),
  ]
)
type ReconciliationRow = typeof scadaReconciliation.$inferSelect

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

const series: SeriesSpec<ReconciliationRow, ScadaReconciliationEvent> = {
  eventType: 'ScadaReconciliationEvent',
  table: scadaReconciliation,
  time: scadaReconciliation.intervalEnd,
  id: scadaReconciliation.eventId,
  filters: {},
  toCanonical: toReconciliation,
  cadenceMs: FIVE_MINUTES_MS,
  aggregate: {
    // One row per interval for the whole NEM: a single series.
    series: {},
    measures: [
      power('total_mw', scadaReconciliation.totalMw, 'total_mwh'),
      power('generation_mw', scadaReconciliation.generationMw, 'generation_mwh'),
      power('load_mw', scadaReconciliation.loadMw, 'load_mwh'),
      power('unmapped_mw', scadaReconciliation.unmappedMw, 'unmapped_mwh'),
    ],
  },
}

export interface ReconciliationQueries
  extends SeriesQueries<ReconciliationRow, ScadaReconciliationEvent, RangeQuery> {
  /** The newest interval's reconciliation, or undefined before the first SCADA file. */
  latest(): ScadaReconciliationEvent | undefined
}

export const scadaReconciliationReadModel: ReadModel<
  'ScadaReconciliationEvent',
  ReconciliationQueries,
  'reconciliation'
> = {
  eventType: 'ScadaReconciliationEvent',
  port: 'reconciliation',
  table: scadaReconciliation,
  time: scadaReconciliation.intervalEnd,
  dispatchIntervals: true,
  regionStats: [],
  writer(db) {
    const upsert = upsertStatement(db, scadaReconciliation, 'update')
    return (event, envelope) => {
      upsert.run({
        ...envelope,
        intervalEnd: Date.parse(event.interval_end),
        totalMw: event.total_mw,
        generationMw: event.generation_mw,
        loadMw: event.load_mw,
        unmappedMw: event.unmapped_mw,
        unitCount: event.unit_count,
        unmappedUnits: JSON.stringify(event.unmapped_units),
      })
    }
  },
  series,
  queries(db) {
    return {
      ...createSeriesQueries<ReconciliationRow, ScadaReconciliationEvent, RangeQuery>(db, series),
      latest() {
        const row = db.orm
          .select()
          .from(scadaReconciliation)
          .orderBy(desc(scadaReconciliation.intervalEnd))
          .limit(1)
          .get()
        return row ? toReconciliation(row) : undefined
      },
    }
  },
}
