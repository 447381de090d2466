import {
  createEvent,
  FUEL_TYPES,
  type GridEvent,
  type MarketDispatchEvent,
  REGION_IDS,
  type RegionId,
} from '@/canonical'
import { toUtcIso } from '@/lib'
import { createNode, PROJECTION_CONSUMER } from '@/node'
import { silentLogger } from '@/observability'
import { loadConfig } from '../src/config'

/**
 * Fills a data directory with `count` dispatch events through the real path (log → projector of a
 * node built as `gridpulse serve` builds it), so a benchmark starts the binary on a realistic
 * database. Values are synthetic load, not data.
 */
export async function seedDispatch(dataDir: string, count: number): Promise<void> {
  await seed(
    dataDir,
    Array.from({ length: count }, (_, i) => syntheticDispatch(i, 'bench-seed'))
  )
}

/** `count` consecutive 5-minute prices of one region from `firstIntervalEnd` (synthetic load). */
export async function seedPrices(
  dataDir: string,
  region_id: RegionId,
  firstIntervalEnd: string,
  count: number
): Promise<void> {
  const first = Date.parse(firstIntervalEnd)
  const envelope = {
    correlation_id: 'bench-seed',
    source: 'aemo.dispatchis' as const,
    source_file: null,
    source_sha256: null,
    ingested_at: new Date().toISOString(),
  }
  await seed(
    dataDir,
    Array.from({ length: count }, (_, i) =>
      createEvent('RegionPriceEvent', envelope, {
        region_id,
        interval_end: toUtcIso(first + i * 300_000),
        // A daily shape (288 intervals) with some spread: plausible numbers, not data.
        rrp_aud_mwh:
          Math.round((80 + 60 * Math.sin((i / 288) * 2 * Math.PI) + (i % 7)) * 100) / 100,
        total_demand_mw: 7000 + 1500 * Math.sin(((i + 72) / 288) * 2 * Math.PI),
        available_generation_mw: 12_000,
        net_interchange_mw: -300 + (i % 600),
        intervention: false,
        price_status: 'FIRM',
        apc_flag: 0,
        market_suspended_flag: 0,
        ocd_status: null,
        mii_status: null,
        ss_solar_uigf_mw: 900,
        ss_wind_uigf_mw: 1200,
        ss_solar_cleared_mw: 850,
        ss_wind_cleared_mw: 1100 + (i % 50),
        bdu_cleared_gen_mw: 40,
        bdu_cleared_load_mw: 0,
        bdu_energy_storage_mwh: 300 + (i % 100),
      })
    )
  )
}

/** Publishes `events` through a node built on `dataDir` and waits until they are projected. */
export async function seed(dataDir: string, events: readonly GridEvent[]): Promise<void> {
  const count = events.length
  const config = loadConfig({ DATA_DIR: dataDir, SOURCES: 'none', LOG_LEVEL: 'silent' })
  const node = await createNode(config, { log: silentLogger() })
  for (let i = 0; i < events.length; i += 10_000)
    await node.bus.publish(events.slice(i, i + 10_000))
  // Dense offsets: the positions over every partition add up to the records projected.
  const projected = () =>
    [...node.queries.positions(PROJECTION_CONSUMER).values()].reduce((a, b) => a + b, 0n)
  while (projected() < BigInt(count)) await Bun.sleep(20)
  await node.close()
}

/**
 * Synthetic load (not data): the k-th distinct (region, fuel, interval) reading. Labelled as SCADA
 * ingestion, the high-volume path; manual (source `api`) writes are rare revision chains with sign
 * rules and are not what these benchmarks measure.
 */
export function syntheticDispatch(k: number, correlation: string): MarketDispatchEvent {
  const region_id = REGION_IDS[k % REGION_IDS.length]!
  const fuel_type = FUEL_TYPES[Math.floor(k / REGION_IDS.length) % FUEL_TYPES.length]!
  const interval_end = toUtcIso(
    Date.parse('2026-01-01T00:05:00Z') +
      Math.floor(k / (REGION_IDS.length * FUEL_TYPES.length)) * 300_000
  )
  return createEvent(
    'MarketDispatchEvent',
    {
      correlation_id: correlation,
      source: 'aemo.dispatch_scada',
      source_file: null,
      source_sha256: null,
      ingested_at: new Date().toISOString(),
    },
    { region_id, fuel_type, interval_end, value_mw: (k % 5000) + 0.5, unit_count: 1 }
  )
}
