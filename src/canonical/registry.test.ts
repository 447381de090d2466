import { describe, expect, test } from 'bun:test'
import {
  createDeadLetter,
  createEvent,
  describeIssues,
  EVENT_REGISTRY,
  EVENT_TOPICS,
  EVENT_TYPES,
  eventIdFor,
  eventTimeOf,
  type GridEvent,
  GridEventSchema,
  keyFor,
  MarketDispatchEventSchema,
  topicFor,
} from '@/canonical'
import { oneEventOfEachType } from '../../tests/support/events'

const envelope = {
  correlation_id: 'c-1',
  source_file: null,
  source_sha256: null,
  ingested_at: '2026-04-01T00:00:01.000Z',
} as const
const T = '2026-04-01T00:05:00Z'

// One valid event of every type, built through the one envelope builder (tests/support/events.ts).
const all = oneEventOfEachType(T)
const samples: GridEvent[] = [
  all.MarketDispatchEvent,
  all.RegionPriceEvent,
  all.WeatherObservation,
  all.ScadaReconciliationEvent,
  all.InterconnectorFlowEvent,
  all.RooftopPvEvent,
  all.RegionFcasPriceEvent,
  all.SourceFileEvent,
]

describe('event registry', () => {
  test('every event type of the canonical union has a spec, and nothing else does', () => {
    const union = GridEventSchema.options.map((o) => o.shape.event_type.value).sort()
    expect([...EVENT_TYPES].sort()).toEqual(union)
    expect(samples.map((e) => e.event_type).sort()).toEqual(union)
  })

  test('the envelope builder yields valid events with the ids deterministic ids have always had', () => {
    // Pinned before the registry existed: ids are a contract (idempotent re-ingestion, replays).
    expect(samples.map((e) => [e.event_type, e.event_id])).toEqual([
      ['MarketDispatchEvent', '21c8335b-e2d5-520e-9d38-8da3ad373b1b'],
      ['RegionPriceEvent', '06cadbda-90e8-50e7-a0e7-8f9ed718c188'],
      ['WeatherObservation', '4627476e-4af8-5479-8069-3ed71e572094'],
      ['ScadaReconciliationEvent', '46978828-1725-5c58-ad3d-72642be03439'],
      ['InterconnectorFlowEvent', '5949f16f-9301-587d-b239-c64aa8bc4b97'],
      ['RooftopPvEvent', '853bcb7d-1d7d-5394-a253-4e4398d90aa7'],
      ['RegionFcasPriceEvent', '40989b32-b1ee-519e-be37-9e144555573e'],
      ['SourceFileEvent', 'd290e6cd-4574-5f29-a190-0477fcf0a959'],
    ])
    for (const e of samples) expect(GridEventSchema.parse(e)).toEqual(e)
  })

  test('manual revisions 2+ get ids of their own; revision 1 keeps the original id', () => {
    const id = { event_type: 'MarketDispatchEvent', source: 'api' } as const
    const key = { region_id: 'SA1', fuel_type: 'wind', interval_end: T }
    expect(eventIdFor({ ...id, ...key, revision: 1 })).toBe('e231e396-229c-558d-8964-2bd990b00536')
    expect(eventIdFor({ ...id, ...key })).toBe('e231e396-229c-558d-8964-2bd990b00536')
    expect(eventIdFor({ ...id, ...key, revision: 3 })).toBe('27d25bb2-548d-51c2-815c-624adcc43471')
  })

  test('a half hour’s two rooftop estimates have ids of their own; a republished one keeps its id', () => {
    const id = { event_type: 'RooftopPvEvent', source: 'aemo.rooftop_pv' } as const
    const key = { region_id: 'SA1' as const, interval_end: '2026-04-01T02:00:00Z' }
    const measurement = eventIdFor({ ...id, ...key, estimate_type: 'MEASUREMENT' })
    const satellite = eventIdFor({ ...id, ...key, estimate_type: 'SATELLITE' })
    expect(measurement).not.toBe(satellite)
    const event = createEvent(
      'RooftopPvEvent',
      { ...envelope, source: 'aemo.rooftop_pv' },
      {
        ...key,
        estimate_type: 'MEASUREMENT',
        power_mw: 1,
        quality_indicator: 1,
        basis: 'region',
        sub_regions: [],
        last_changed: null,
      }
    )
    expect(event.event_id).toBe(measurement)
  })

  test('topic, key and event time come from each type’s spec', () => {
    expect(samples.map((e) => [topicFor(e), keyFor(e), eventTimeOf(e)])).toEqual([
      ['market.dispatch', 'NSW1', T],
      ['market.prices', 'NSW1', T],
      ['weather.observations', 'NSW1', '2026-04-01T00:00:00Z'],
      ['market.dispatch', 'NEM', T],
      ['market.interconnectors', 'VIC1-NSW1', T],
      ['market.rooftop_pv', 'NSW1', '2026-04-01T00:30:00Z'],
      ['market.fcas', 'NSW1', T],
      ['sources.files', 'aemo.dispatchis', T],
    ])
    for (const type of EVENT_TYPES) expect(EVENT_TOPICS).toContain(EVENT_REGISTRY[type].topic)
  })

  test('a RegionPriceEvent written before the price flags and REGIONSUM figures existed still parses, as nulls', () => {
    // What the log holds from before those fields (schema_version 1 then and now): additive,
    // nullable fields are backward compatible, so the version did not change.
    const {
      price_status: _s,
      apc_flag: _a,
      market_suspended_flag: _m,
      ocd_status: _o,
      mii_status: _i,
      ss_solar_uigf_mw: _su,
      ss_wind_uigf_mw: _wu,
      ss_solar_cleared_mw: _sc,
      ss_wind_cleared_mw: _wc,
      bdu_cleared_gen_mw: _g,
      bdu_cleared_load_mw: _l,
      bdu_energy_storage_mwh: _e,
      ...before
    } = all.RegionPriceEvent
    const parsed = GridEventSchema.parse(JSON.parse(JSON.stringify(before)))
    expect(parsed).toEqual({
      ...before,
      price_status: null,
      apc_flag: null,
      market_suspended_flag: null,
      ocd_status: null,
      mii_status: null,
      ss_solar_uigf_mw: null,
      ss_wind_uigf_mw: null,
      ss_solar_cleared_mw: null,
      ss_wind_cleared_mw: null,
      bdu_cleared_gen_mw: null,
      bdu_cleared_load_mw: null,
      bdu_energy_storage_mwh: null,
    })
    expect(parsed.schema_version).toBe(1)
  })

  test('a built event that breaks its schema is caught by the schema, not by the builder', () => {
    const bad = createEvent(
      'MarketDispatchEvent',
      { ...envelope, source: 'api' },
      { region_id: 'NSW1', fuel_type: 'wind', interval_end: T, value_mw: 1e9, unit_count: 1 }
    )
    const result = MarketDispatchEventSchema.safeParse(bad)
    expect(result.success).toBe(false)
    expect(describeIssues(result.error!.issues)).toBe(
      'value_mw: Too big: expected number to be <=50000'
    )
  })
})

describe('dead-letter builder', () => {
  const base = {
    topic: 'market.prices',
    code: 'schema_mismatch',
    reason: 'r',
    correlation_id: 'c',
    source: 'bus',
    source_file: null,
    row: null,
    raw: 'x',
    failed_at: '2026-04-01T00:00:00.000Z',
  }

  test('ids keep the namespaces each origin has always used', () => {
    const id = (origin: Parameters<typeof createDeadLetter>[0]['origin'], identity: string) =>
      createDeadLetter({ ...base, origin, identity }).dead_letter_id
    expect(id('nemweb', `aemo.dispatchis|${'a'.repeat(64)}|7|non_numeric_value`)).toBe(
      '396e61fc-c017-50e1-9d6c-d1d313595dda'
    )
    expect(id('openmeteo', `openmeteo|${'b'.repeat(64)}|all`)).toBe(
      'ee7b9077-2f2e-5503-b2a3-e500dc66ef87'
    )
    expect(id('bus', 'market.prices|0|42')).toBe('376e5a98-ccec-57bb-ba8b-6cb0e5456377')
    expect(id('projection', '{"x":1}')).toBe('df4e7ace-dff6-50cb-a32b-ec79246c36c3')
  })

  test('oversized fields are cut to the schema’s bounds, an empty correlation id becomes null', () => {
    const record = createDeadLetter({
      ...base,
      origin: 'bus',
      identity: 'i',
      reason: 'r'.repeat(5_000),
      code: 'c'.repeat(100),
      correlation_id: '',
      source_file: 'f'.repeat(1_000),
      raw: 'x'.repeat(1_000_001),
    })
    expect([record.reason.length, record.code.length, record.source_file?.length]).toEqual([
      2_000, 64, 512,
    ])
    expect(record.raw.length).toBe(1_000_000)
    expect(record.correlation_id).toBeNull()
  })
})

test('zod issues read the same wherever they become a reason: five at most, (root) for the whole', () => {
  const issues = Array.from({ length: 7 }, (_, i) => ({ path: [`f${i}`], message: 'bad' }))
  expect(describeIssues([{ path: [], message: 'not an object' }])).toBe('(root): not an object')
  expect(describeIssues(issues).split('; ')).toHaveLength(5)
})
