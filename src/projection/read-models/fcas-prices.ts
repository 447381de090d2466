import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import type { FcasService, RegionFcasPriceEvent, RegionId } from '@/canonical'
import { FIVE_MINUTES_MS, toUtcIso } from '@/lib'
import { countTrue, price } from './aggregate'
import type { RangeQuery } from './pager'
import {
  byApiCorrelation,
  envelopeColumns,
  envelopeOf,
  firmStays,
  type ReadModel,
  upsertStatement,
} from './read-model'
import { createSeriesQueries, type SeriesQueries, type SeriesSpec } from './series'

export const fcasPrices = sqliteTable(
  'fcas_prices',
  {
    ...envelopeColumns(),
    regionId: text('region_id').notNull(),
    service: text('service').notNull(),
    intervalEnd: integer('interval_end').notNull(),
    priceAudMwH: real('price_aud_mw_h').notNull(),
    apcFlag: integer('apc_flag'),
    priceStatus: text('price_status'),
    intervention: integer('intervention', { mode: 'boolean' }).notNull(),
  },
  (t) => [
    byApiCorrelation('fcas_prices', t),
    index('fcas_prices_by_time').on(t.intervalEnd, t.eventId),
    index('fcas_prices_by_region_time').on(t.regionId, t.intervalEnd, t.eventId),
    index('fcas_prices_by_service_time').on(t.service, t.intervalEnd, t.eventId),
    index('fcas_prices_by_region_service_time').on(t.regionId, t.service, t.intervalEnd, t.eventId),
  ]
)
type FcasRow = typeof fcasPrices.$inferSelect

const toFcasPrice = (row: FcasRow): RegionFcasPriceEvent => ({
  ...envelopeOf(row),
  event_type: 'RegionFcasPriceEvent',
  region_id: row.regionId as RegionId,
  service: row.service as FcasService,
  interval_end: toUtcIso(row.intervalEnd),
  price_aud_mw_h: row.priceAudMwH,
  apc_flag: row.apcFlag,
  price_status: row.priceStatus,
  // Raw reads return SQLite's 0/1.
  intervention: Boolean(row.intervention),
})

type FcasQuery = RangeQuery & { regionId?: RegionId; service?: FcasService }

const series: SeriesSpec<FcasRow, RegionFcasPriceEvent> = {
  eventType: 'RegionFcasPriceEvent',
  table: fcasPrices,
  time: fcasPrices.intervalEnd,
  id: fcasPrices.eventId,
  filters: { regionId: fcasPrices.regionId, service: fcasPrices.service },
  toCanonical: toFcasPrice,
  cadenceMs: FIVE_MINUTES_MS,
  aggregate: {
    series: { region_id: fcasPrices.regionId, service: fcasPrices.service },
    measures: [
      price('price_aud_mw_h', fcasPrices.priceAudMwH, 'AUD/MW/h'),
      countTrue('intervention_intervals', fcasPrices.intervention, 'an intervention run in effect'),
    ],
  },
}

export type FcasQueries = SeriesQueries<FcasRow, RegionFcasPriceEvent, FcasQuery>

export const fcasPricesReadModel: ReadModel<'RegionFcasPriceEvent', FcasQueries, 'fcas'> = {
  eventType: 'RegionFcasPriceEvent',
  port: 'fcas',
  table: fcasPrices,
  time: fcasPrices.intervalEnd,
  dispatchIntervals: true,
  regionStats: [
    {
      region: fcasPrices.regionId,
      value: fcasPrices.priceAudMwH,
      count: 'fcas_count',
      prefix: 'fcas_price',
      counts: 'rows',
      describe: {
        count: 'FCAS prices (one per service and interval)',
        min: 'Over every FCAS service, AUD/MW/h',
      },
    },
  ],
  writer(db) {
    const upsert = upsertStatement(db, fcasPrices, 'update', firmStays('fcas_prices'))
    return (event, envelope) => {
      upsert.run({
        ...envelope,
        regionId: event.region_id,
        service: event.service,
        intervalEnd: Date.parse(event.interval_end),
        priceAudMwH: event.price_aud_mw_h,
        apcFlag: event.apc_flag,
        priceStatus: event.price_status,
        intervention: event.intervention ? 1 : 0,
      })
    }
  },
  series,
  queries: (db) => createSeriesQueries<FcasRow, RegionFcasPriceEvent, FcasQuery>(db, series),
}
