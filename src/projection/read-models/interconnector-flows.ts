import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import type { InterconnectorFlowEvent } from '@/canonical'
import { FIVE_MINUTES_MS, toUtcIso } from '@/lib'
import { countTrue, mean, power } from './aggregate'
import type { RangeQuery } from './pager'
import {
  byApiCorrelation,
  envelopeColumns,
  envelopeOf,
  type ReadModel,
  upsertStatement,
} from './read-model'
import { createSeriesQueries, type SeriesQueries, type SeriesSpec } from './series'

export const interconnectorFlows = sqliteTable(
  'interconnector_flows',
  {
    ...envelopeColumns(),
    interconnectorId: text('interconnector_id').notNull(),
    intervalEnd: integer('interval_end').notNull(),
    mwFlow: real('mw_flow').notNull(),
    meteredMwFlow: real('metered_mw_flow'),
    mwLosses: real('mw_losses'),
    exportLimitMw: real('export_limit_mw'),
    importLimitMw: real('import_limit_mw'),
    intervention: integer('intervention', { mode: 'boolean' }).notNull(),
  },
  (t) => [
    byApiCorrelation('interconnector_flows', t),
    index('interconnector_flows_by_time').on(t.intervalEnd, t.eventId),
    index('interconnector_flows_by_id_time').on(t.interconnectorId, t.intervalEnd, t.eventId),
  ]
)
type FlowRow = typeof interconnectorFlows.$inferSelect

const toFlow = (row: FlowRow): InterconnectorFlowEvent => ({
  ...envelopeOf(row),
  event_type: 'InterconnectorFlowEvent',
  interconnector_id: row.interconnectorId,
  interval_end: toUtcIso(row.intervalEnd),
  mw_flow: row.mwFlow,
  metered_mw_flow: row.meteredMwFlow,
  mw_losses: row.mwLosses,
  export_limit_mw: row.exportLimitMw,
  import_limit_mw: row.importLimitMw,
  // Raw reads return SQLite's 0/1.
  intervention: Boolean(row.intervention),
})

const series: SeriesSpec<FlowRow, InterconnectorFlowEvent> = {
  eventType: 'InterconnectorFlowEvent',
  table: interconnectorFlows,
  time: interconnectorFlows.intervalEnd,
  id: interconnectorFlows.eventId,
  filters: { interconnectorId: interconnectorFlows.interconnectorId },
  toCanonical: toFlow,
  cadenceMs: FIVE_MINUTES_MS,
  aggregate: {
    series: { interconnector_id: interconnectorFlows.interconnectorId },
    measures: [
      // Signed like the flow (first region → second): the net energy moved in that direction.
      power('mw_flow', interconnectorFlows.mwFlow, 'flow_mwh'),
      power('metered_mw_flow', interconnectorFlows.meteredMwFlow, 'metered_flow_mwh'),
      power('mw_losses', interconnectorFlows.mwLosses, 'losses_mwh'),
      mean('export_limit_mw', interconnectorFlows.exportLimitMw, 'MW'),
      mean('import_limit_mw', interconnectorFlows.importLimitMw, 'MW'),
      countTrue(
        'intervention_intervals',
        interconnectorFlows.intervention,
        'the flow from an intervention run'
      ),
    ],
  },
}

export type InterconnectorQueries = SeriesQueries<
  FlowRow,
  InterconnectorFlowEvent,
  RangeQuery & { interconnectorId?: string }
>

export const interconnectorFlowsReadModel: ReadModel<
  'InterconnectorFlowEvent',
  InterconnectorQueries,
  'interconnectors'
> = {
  eventType: 'InterconnectorFlowEvent',
  port: 'interconnectors',
  table: interconnectorFlows,
  time: interconnectorFlows.intervalEnd,
  dispatchIntervals: true,
  regionStats: [],
  writer(db) {
    const upsert = upsertStatement(db, interconnectorFlows, 'update')
    return (event, envelope) => {
      upsert.run({
        ...envelope,
        interconnectorId: event.interconnector_id,
        intervalEnd: Date.parse(event.interval_end),
        mwFlow: event.mw_flow,
        meteredMwFlow: event.metered_mw_flow,
        mwLosses: event.mw_losses,
        exportLimitMw: event.export_limit_mw,
        importLimitMw: event.import_limit_mw,
        intervention: event.intervention ? 1 : 0,
      })
    }
  },
  series,
  queries: (db) => createSeriesQueries(db, series),
}
