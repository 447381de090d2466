import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import type { RegionId, RegionPriceEvent } from '@/canonical'
import { FIVE_MINUTES_MS, toUtcIso } from '@/lib'
import { countTrue, mean, power, price } from './aggregate'
import type { RangeQuery } from './pager'
import { envelopeColumns, envelopeOf, type ReadModel, upsertStatement } from './read-model'
import { createSeriesQueries, type SeriesQueries, type SeriesSpec } from './series'

export const prices = sqliteTable(
  'prices',
  {
    ...envelopeColumns(),
    regionId: text('region_id').notNull(),
    intervalEnd: integer('interval_end').notNull(),
    rrpAudMwh: real('rrp_aud_mwh').notNull(),
    totalDemandMw: real('total_demand_mw'),
    availableGenerationMw: real('available_generation_mw'),
    netInterchangeMw: real('net_interchange_mw'),
    intervention: integer('intervention', { mode: 'boolean' }).notNull(),
  },
  (t) => [
    index('prices_by_time').on(t.intervalEnd, t.eventId),
    index('prices_by_region_time').on(t.regionId, t.intervalEnd, t.eventId),
  ]
)
type PriceRow = typeof prices.$inferSelect

const toPrice = (row: PriceRow): RegionPriceEvent => ({
  ...envelopeOf(row),
  event_type: 'RegionPriceEvent',
  region_id: row.regionId as RegionId,
  interval_end: toUtcIso(row.intervalEnd),
  rrp_aud_mwh: row.rrpAudMwh,
  total_demand_mw: row.totalDemandMw,
  available_generation_mw: row.availableGenerationMw,
  net_interchange_mw: row.netInterchangeMw,
  // Raw reads return SQLite's 0/1.
  intervention: Boolean(row.intervention),
})

const series: SeriesSpec<PriceRow, RegionPriceEvent> = {
  eventType: 'RegionPriceEvent',
  table: prices,
  time: prices.intervalEnd,
  id: prices.eventId,
  filters: { regionId: prices.regionId },
  toCanonical: toPrice,
  cadenceMs: FIVE_MINUTES_MS,
  aggregate: {
    series: { region_id: prices.regionId },
    measures: [
      price('rrp_aud_mwh', prices.rrpAudMwh, 'AUD/MWh', {
        column: prices.totalDemandMw,
        name: 'total_demand_mw',
      }),
      power('total_demand_mw', prices.totalDemandMw, 'total_demand_mwh'),
      // Capacity on offer, not a flow: its "energy" would mean nothing.
      mean('available_generation_mw', prices.availableGenerationMw, 'MW'),
      power('net_interchange_mw', prices.netInterchangeMw, 'net_interchange_mwh'),
      countTrue('intervention_intervals', prices.intervention, 'an intervention run in effect'),
    ],
  },
}

export type PriceQueries = SeriesQueries<
  PriceRow,
  RegionPriceEvent,
  RangeQuery & { regionId?: RegionId }
>

export const pricesReadModel: ReadModel<'RegionPriceEvent', PriceQueries, 'prices'> = {
  eventType: 'RegionPriceEvent',
  port: 'prices',
  table: prices,
  time: prices.intervalEnd,
  dispatchIntervals: true,
  regionStats: {
    region: prices.regionId,
    value: prices.rrpAudMwh,
    count: 'price_count',
    prefix: 'rrp',
  },
  writer(db) {
    const upsert = upsertStatement(db, prices, 'update')
    return (event, envelope) => {
      upsert.run({
        ...envelope,
        regionId: event.region_id,
        intervalEnd: Date.parse(event.interval_end),
        rrpAudMwh: event.rrp_aud_mwh,
        totalDemandMw: event.total_demand_mw,
        availableGenerationMw: event.available_generation_mw,
        netInterchangeMw: event.net_interchange_mw,
        intervention: event.intervention ? 1 : 0,
      })
    }
  },
  series,
  queries: (db) => createSeriesQueries(db, series),
}
