import { describe, expect, test } from 'bun:test'
import { getTableName } from 'drizzle-orm'
import {
  EVENT_TYPES,
  type GridEvent,
  type GridEventType,
  GridEventSchema,
  topicFor,
} from '@/canonical'
import { oneEventOfEachType } from '../../../tests/support/events'
import { createProjector, createReadPort, openProjectionDb } from '..'
import * as schema from '../schema'
import { READ_MODELS } from './index'

/** Given events → when projected (through the projector, one batch per topic) → the read port. */
async function projected(events: readonly GridEvent[]) {
  const db = openProjectionDb(':memory:')
  const projector = createProjector(db, 'test')
  const byTopic = Map.groupBy(events, topicFor)
  for (const [topic, batch] of byTopic)
    await projector.project({
      topic,
      partition: 0,
      records: batch.map((event, i) => ({ offset: BigInt(i), kind: 'event' as const, event })),
    })
  return createReadPort(db)
}

describe('read-model list', () => {
  test('covers every event type of the registry, each with its own table in the schema', () => {
    const union = GridEventSchema.options.map((o) => o.shape.event_type.value).sort()
    expect(Object.keys(READ_MODELS).sort()).toEqual(union)
    expect([...EVENT_TYPES].sort()).toEqual(union)
    const tables = new Set(
      Object.values(schema).map((t) => getTableName(t as Parameters<typeof getTableName>[0]))
    )
    for (const [type, model] of Object.entries(READ_MODELS)) {
      expect(model.eventType).toBe(type as GridEventType)
      expect(tables.has(getTableName(model.table))).toBe(true)
    }
    const names = Object.values(READ_MODELS).map((m) => getTableName(m.table))
    expect(new Set(names).size).toBe(names.length)
  })
})

describe('given one event of every type, when projected', () => {
  const events = oneEventOfEachType()

  test('each stream’s read port returns the event as it was published', async () => {
    const queries = await projected(Object.values(events))
    const all = { limit: 10 }
    expect(queries.dispatch.list(all).data).toEqual([events.MarketDispatchEvent])
    expect(queries.prices.list(all).data).toEqual([events.RegionPriceEvent])
    expect(queries.weather.list(all).data).toEqual([events.WeatherObservation])
    expect(queries.interconnectors.list(all).data).toEqual([events.InterconnectorFlowEvent])
    expect(queries.reconciliation.list(all).data).toEqual([events.ScadaReconciliationEvent])
    expect(queries.rooftop.list(all).data).toEqual([{ ...events.RooftopPvEvent, preferred: true }])
    expect(queries.fcas.list(all).data).toEqual([events.RegionFcasPriceEvent])
    expect(queries.dispatch.byEventId(events.MarketDispatchEvent.event_id)).toEqual(
      events.MarketDispatchEvent
    )
  })

  test('the stats count every stream, interconnector flows, SCADA reconciliation and rooftop PV included', async () => {
    const stats = (await projected(Object.values(events))).stats()
    expect(stats.totals).toEqual({
      dispatch: 1,
      prices: 1,
      weather: 1,
      interconnector_flows: 1,
      scada_reconciliation: 1,
      rooftop_pv: 1,
      fcas_prices: 1,
      source_files: 1,
      dead_letters: 0,
    })
    // Each source's events: all the streams it feeds (its file records are not events of it).
    expect(stats.sources.map((s) => [s.source, s.events])).toEqual([
      ['aemo.dispatch_scada', 2],
      ['aemo.dispatchis', 3],
      ['aemo.rooftop_pv', 1],
      ['openmeteo.forecast', 1],
    ])
    expect(stats.regions).toEqual([
      {
        region_id: 'NSW1',
        price_count: 1,
        rrp_min: 88.5,
        rrp_avg: 88.5,
        rrp_max: 88.5,
        dispatch_count: 1,
        value_mw_min: 5000,
        value_mw_avg: 5000,
        value_mw_max: 5000,
        weather_count: 1,
        temperature_c_min: 21.5,
        temperature_c_avg: 21.5,
        temperature_c_max: 21.5,
        rooftop_pv_count: 1,
        power_mw_min: 4483.887,
        power_mw_avg: 4483.887,
        power_mw_max: 4483.887,
        // (410.5 − 400.25) + (1200 − 1200)
        curtailment_count: 1,
        curtailment_mw_min: 10.25,
        curtailment_mw_avg: 10.25,
        curtailment_mw_max: 10.25,
        storage_count: 1,
        storage_mwh_min: 1702.03835,
        storage_mwh_avg: 1702.03835,
        storage_mwh_max: 1702.03835,
        fcas_count: 1,
        fcas_price_min: 0.42,
        fcas_price_avg: 0.42,
        fcas_price_max: 0.42,
      },
    ])
    expect(stats.scada_unmapped).toEqual({
      interval_end: '2026-04-01T00:05:00Z',
      unmapped_mw: 5,
      total_mw: 100,
      unmapped_units: [{ duid: 'NEWUNIT1', value_mw: 5 }],
    })
  })

  test('a source’s intervals are those of every stream it feeds: flows alone close a price gap', async () => {
    const at = (t: string) => oneEventOfEachType(t)
    const queries = await projected([
      at('2026-04-01T00:05:00Z').RegionPriceEvent,
      at('2026-04-01T00:10:00Z').InterconnectorFlowEvent,
      at('2026-04-01T00:20:00Z').RegionPriceEvent,
    ])
    const since = Date.parse('2026-04-01T00:00:00Z')
    const until = Date.parse('2026-04-01T00:20:00Z')
    expect(queries.gaps('aemo.dispatchis', since, until)).toEqual({
      missing: ['2026-04-01T00:15:00Z'],
      ranges: [{ from: '2026-04-01T00:10:00Z', to: '2026-04-01T00:15:00Z', intervals: 1 }],
    })
    // Nothing from SCADA yet: no intervals, no open span without a start or a known outage.
    expect(queries.gaps('aemo.dispatch_scada', since, until)).toEqual({ missing: [], ranges: [] })
  })
})
