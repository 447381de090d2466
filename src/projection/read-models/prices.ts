import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { type RegionId, type RegionPriceEvent, regionCurtailmentMw } from '@/canonical'
import { FIVE_MINUTES_MS, toUtcIso } from '@/lib'
import { countTrue, mean, power, price } from './aggregate'
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
    priceStatus: text('price_status'),
    apcFlag: integer('apc_flag'),
    marketSuspendedFlag: integer('market_suspended_flag'),
    ocdStatus: text('ocd_status'),
    miiStatus: text('mii_status'),
    ssSolarUigfMw: real('ss_solar_uigf_mw'),
    ssWindUigfMw: real('ss_wind_uigf_mw'),
    ssSolarClearedMw: real('ss_solar_cleared_mw'),
    ssWindClearedMw: real('ss_wind_cleared_mw'),
    bduClearedGenMw: real('bdu_cleared_gen_mw'),
    bduClearedLoadMw: real('bdu_cleared_load_mw'),
    bduEnergyStorageMwh: real('bdu_energy_storage_mwh'),
    // Derived when the row is written (see `curtailmentMw`), so range queries, stats and
    // aggregates read a column instead of repeating the rule.
    solarCurtailmentMw: real('solar_curtailment_mw'),
    windCurtailmentMw: real('wind_curtailment_mw'),
    curtailmentMw: real('curtailment_mw'),
  },
  (t) => [
    byApiCorrelation('prices', t),
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
  price_status: row.priceStatus,
  apc_flag: row.apcFlag,
  market_suspended_flag: row.marketSuspendedFlag,
  ocd_status: row.ocdStatus,
  mii_status: row.miiStatus,
  ss_solar_uigf_mw: row.ssSolarUigfMw,
  ss_wind_uigf_mw: row.ssWindUigfMw,
  ss_solar_cleared_mw: row.ssSolarClearedMw,
  ss_wind_cleared_mw: row.ssWindClearedMw,
  bdu_cleared_gen_mw: row.bduClearedGenMw,
  bdu_cleared_load_mw: row.bduClearedLoadMw,
  bdu_energy_storage_mwh: row.bduEnergyStorageMwh,
})

/** Semi-scheduled solar and wind of one region and interval: availability, dispatch, curtailment (MW). */
export interface RegionCurtailment {
  readonly event_id: string
  readonly region_id: RegionId
  readonly interval_end: string
  readonly solar_available_mw: number | null
  readonly solar_cleared_mw: number | null
  readonly solar_curtailment_mw: number | null
  readonly wind_available_mw: number | null
  readonly wind_cleared_mw: number | null
  readonly wind_curtailment_mw: number | null
  readonly curtailment_mw: number | null
  readonly intervention: boolean
}

const toCurtailment = (row: PriceRow): RegionCurtailment => ({
  event_id: row.eventId,
  region_id: row.regionId as RegionId,
  interval_end: toUtcIso(row.intervalEnd),
  solar_available_mw: row.ssSolarUigfMw,
  solar_cleared_mw: row.ssSolarClearedMw,
  solar_curtailment_mw: row.solarCurtailmentMw,
  wind_available_mw: row.ssWindUigfMw,
  wind_cleared_mw: row.ssWindClearedMw,
  wind_curtailment_mw: row.windCurtailmentMw,
  curtailment_mw: row.curtailmentMw,
  intervention: Boolean(row.intervention),
})

// Every view of the price rows: one series per region, and how many of a bucket's intervals had an
// intervention run in effect.
const byRegion = { region_id: prices.regionId }
const interventions = countTrue(
  'intervention_intervals',
  prices.intervention,
  'an intervention run in effect'
)

/** The region's grid batteries (bidirectional units) in one interval. */
export interface RegionStorage {
  readonly event_id: string
  readonly region_id: RegionId
  readonly interval_end: string
  readonly charge_mw: number | null
  readonly discharge_mw: number | null
  readonly stored_energy_mwh: number | null
  readonly intervention: boolean
}

const toStorage = (row: PriceRow): RegionStorage => ({
  event_id: row.eventId,
  region_id: row.regionId as RegionId,
  interval_end: toUtcIso(row.intervalEnd),
  charge_mw: row.bduClearedLoadMw,
  discharge_mw: row.bduClearedGenMw,
  stored_energy_mwh: row.bduEnergyStorageMwh,
  intervention: Boolean(row.intervention),
})

type RegionRange = RangeQuery & { regionId?: RegionId }

const series: SeriesSpec<PriceRow, RegionPriceEvent> = {
  eventType: 'RegionPriceEvent',
  table: prices,
  time: prices.intervalEnd,
  id: prices.eventId,
  filters: { regionId: prices.regionId },
  toCanonical: toPrice,
  cadenceMs: FIVE_MINUTES_MS,
  aggregate: {
    series: byRegion,
    measures: [
      price('rrp_aud_mwh', prices.rrpAudMwh, 'AUD/MWh', {
        column: prices.totalDemandMw,
        name: 'total_demand_mw',
      }),
      power('total_demand_mw', prices.totalDemandMw, 'total_demand_mwh'),
      // Capacity on offer, not a flow: its "energy" would mean nothing.
      mean('available_generation_mw', prices.availableGenerationMw, 'MW'),
      power('net_interchange_mw', prices.netInterchangeMw, 'net_interchange_mwh'),
      interventions,
    ],
  },
}

/** The rows as curtailment figures; curtailed energy is the `…_mwh` beside each power. */
const curtailmentSeries: SeriesSpec<PriceRow, RegionCurtailment> = {
  ...series,
  toCanonical: toCurtailment,
  aggregate: {
    series: byRegion,
    measures: [
      power('solar_available_mw', prices.ssSolarUigfMw, 'solar_available_mwh'),
      power('solar_cleared_mw', prices.ssSolarClearedMw, 'solar_cleared_mwh'),
      power('solar_curtailment_mw', prices.solarCurtailmentMw, 'solar_curtailment_mwh'),
      power('wind_available_mw', prices.ssWindUigfMw, 'wind_available_mwh'),
      power('wind_cleared_mw', prices.ssWindClearedMw, 'wind_cleared_mwh'),
      power('wind_curtailment_mw', prices.windCurtailmentMw, 'wind_curtailment_mwh'),
      power('curtailment_mw', prices.curtailmentMw, 'curtailment_mwh'),
      interventions,
    ],
  },
}

/** The rows as battery figures: charge and discharge are flows, stored energy a level. */
const storageSeries: SeriesSpec<PriceRow, RegionStorage> = {
  ...series,
  toCanonical: toStorage,
  aggregate: {
    series: byRegion,
    measures: [
      power('charge_mw', prices.bduClearedLoadMw, 'charge_mwh'),
      power('discharge_mw', prices.bduClearedGenMw, 'discharge_mwh'),
      mean('stored_energy_mwh', prices.bduEnergyStorageMwh, 'MWh', { minMax: true }),
      interventions,
    ],
  },
}

export interface PriceQueries extends SeriesQueries<PriceRow, RegionPriceEvent, RegionRange> {
  /** The same rows as curtailment figures (null where the file's REGIONSUM version had none). */
  readonly curtailment: SeriesQueries<PriceRow, RegionCurtailment, RegionRange>
  /** The same rows as battery figures (null where the file's REGIONSUM version had none). */
  readonly storage: SeriesQueries<PriceRow, RegionStorage, RegionRange>
}

export const pricesReadModel: ReadModel<'RegionPriceEvent', PriceQueries, 'prices'> = {
  eventType: 'RegionPriceEvent',
  port: 'prices',
  table: prices,
  time: prices.intervalEnd,
  dispatchIntervals: true,
  regionStats: [
    {
      region: prices.regionId,
      value: prices.rrpAudMwh,
      count: 'price_count',
      prefix: 'rrp',
      counts: 'rows',
    },
    {
      region: prices.regionId,
      value: prices.curtailmentMw,
      count: 'curtailment_count',
      prefix: 'curtailment_mw',
      counts: 'values',
      describe: {
        count: 'Intervals with semi-scheduled solar/wind figures (newer REGIONSUM versions)',
        min: 'Solar + wind curtailment, MW',
      },
    },
    {
      region: prices.regionId,
      value: prices.bduEnergyStorageMwh,
      count: 'storage_count',
      prefix: 'storage_mwh',
      counts: 'values',
      describe: {
        count: 'Intervals with grid battery (BDU) figures',
        min: 'Energy stored in grid batteries, MWh',
      },
    },
  ],
  writer(db) {
    const upsert = upsertStatement(db, prices, 'update', firmStays('prices'))
    return (event, envelope) => {
      const curtailed = regionCurtailmentMw(event)
      upsert.run({
        ...envelope,
        regionId: event.region_id,
        intervalEnd: Date.parse(event.interval_end),
        rrpAudMwh: event.rrp_aud_mwh,
        totalDemandMw: event.total_demand_mw,
        availableGenerationMw: event.available_generation_mw,
        netInterchangeMw: event.net_interchange_mw,
        intervention: event.intervention ? 1 : 0,
        priceStatus: event.price_status,
        apcFlag: event.apc_flag,
        marketSuspendedFlag: event.market_suspended_flag,
        ocdStatus: event.ocd_status,
        miiStatus: event.mii_status,
        ssSolarUigfMw: event.ss_solar_uigf_mw,
        ssWindUigfMw: event.ss_wind_uigf_mw,
        ssSolarClearedMw: event.ss_solar_cleared_mw,
        ssWindClearedMw: event.ss_wind_cleared_mw,
        bduClearedGenMw: event.bdu_cleared_gen_mw,
        bduClearedLoadMw: event.bdu_cleared_load_mw,
        bduEnergyStorageMwh: event.bdu_energy_storage_mwh,
        solarCurtailmentMw: curtailed.solar,
        windCurtailmentMw: curtailed.wind,
        curtailmentMw: curtailed.total,
      })
    }
  },
  series,
  views: { curtailment: curtailmentSeries, storage: storageSeries },
  queries: (db) => ({
    ...createSeriesQueries<PriceRow, RegionPriceEvent, RegionRange>(db, series),
    curtailment: createSeriesQueries<PriceRow, RegionCurtailment, RegionRange>(
      db,
      curtailmentSeries
    ),
    storage: createSeriesQueries<PriceRow, RegionStorage, RegionRange>(db, storageSeries),
  }),
}
