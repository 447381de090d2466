import {
  createEvent,
  type EventOf,
  type FcasService,
  type FuelType,
  type GridEventType,
  type MarketDispatchEvent,
  type RegionFcasPriceEvent,
  type RegionId,
  type RegionPriceEvent,
  type SourceName,
  type WeatherObservation,
} from '@/canonical'
import { toUtcIso } from '@/lib'

// Values below are copied from real AEMO/Open-Meteo fixture rows where a test depends on them;
// elsewhere they only need to be valid canonical events.
const envelope = (source: SourceName, correlation_id = 'test-correlation') => ({
  correlation_id,
  source,
  source_file: null,
  source_sha256: null,
  ingested_at: '2026-04-01T00:00:01.000Z',
})

export function dispatchEvent(
  region_id: RegionId,
  fuel_type: FuelType,
  interval_end: string,
  value_mw: number,
  correlation_id?: string
): MarketDispatchEvent {
  return createEvent('MarketDispatchEvent', envelope('api', correlation_id), {
    region_id,
    fuel_type,
    interval_end,
    value_mw,
    unit_count: 1,
    // What the API writes: a manual reading's first revision.
    revision: 1,
  })
}

export function priceEvent(
  region_id: RegionId,
  interval_end: string,
  rrp_aud_mwh: number
): RegionPriceEvent {
  return createEvent('RegionPriceEvent', envelope('aemo.dispatchis'), {
    region_id,
    interval_end,
    rrp_aud_mwh,
    total_demand_mw: 7000,
    available_generation_mw: 9000,
    net_interchange_mw: -100,
    intervention: false,
    ...NO_REGIONSUM_EXTRAS,
    price_status: 'FIRM',
    apc_flag: 0,
    market_suspended_flag: 0,
    ocd_status: null,
    mii_status: null,
  })
}

/** The REGIONSUM fields older table versions lack (the January 2020 archive's v4). */
const NO_REGIONSUM_EXTRAS = {
  ss_solar_uigf_mw: null,
  ss_wind_uigf_mw: null,
  ss_solar_cleared_mw: null,
  ss_wind_cleared_mw: null,
  bdu_cleared_gen_mw: null,
  bdu_cleared_load_mw: null,
  bdu_energy_storage_mwh: null,
} as const

export function fcasPriceEvent(
  region_id: RegionId,
  service: FcasService,
  interval_end: string,
  price_aud_mw_h: number,
  price_status: string | null = 'FIRM'
): RegionFcasPriceEvent {
  return createEvent('RegionFcasPriceEvent', envelope('aemo.dispatchis'), {
    region_id,
    service,
    interval_end,
    price_aud_mw_h,
    apc_flag: 0,
    price_status,
    intervention: false,
  })
}

export function weatherEvent(
  region_id: RegionId,
  location: string,
  observed_at: string,
  temperature_c: number
): WeatherObservation {
  return createEvent('WeatherObservation', envelope('openmeteo.forecast'), {
    region_id,
    location,
    latitude: -33.87,
    longitude: 151.21,
    observed_at,
    temperature_c,
    relative_humidity_pct: 50,
    wind_speed_kmh: 10,
    wind_direction_deg: 180,
    cloud_cover_pct: 20,
    shortwave_radiation_wm2: 300,
  })
}

/** Waits until `predicate` holds, polling; fails with `what` after the timeout. */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000
): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await predicate()
    if (value) return value as Exclude<T, false | null | undefined | 0 | ''>
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(20)
  }
}

/** One valid event of every canonical type, built through the envelope builder, keyed by type. */
export function oneEventOfEachType(interval_end = '2026-04-01T00:05:00Z'): {
  readonly [T in GridEventType]: EventOf<T>
} {
  return {
    MarketDispatchEvent: createEvent('MarketDispatchEvent', envelope('aemo.dispatch_scada'), {
      region_id: 'NSW1',
      fuel_type: 'black_coal',
      interval_end,
      value_mw: 5000,
      unit_count: 3,
    }),
    RegionPriceEvent: createEvent('RegionPriceEvent', envelope('aemo.dispatchis'), {
      region_id: 'NSW1',
      interval_end,
      rrp_aud_mwh: 88.5,
      total_demand_mw: 7000,
      available_generation_mw: 9000,
      net_interchange_mw: -100,
      intervention: false,
      price_status: 'FIRM',
      apc_flag: 0,
      market_suspended_flag: 0,
      ocd_status: 'NOT_OCD',
      mii_status: 'NOT_MII',
      ss_solar_uigf_mw: 410.5,
      ss_wind_uigf_mw: 1200,
      ss_solar_cleared_mw: 400.25,
      ss_wind_cleared_mw: 1200,
      bdu_cleared_gen_mw: 0,
      bdu_cleared_load_mw: 22,
      bdu_energy_storage_mwh: 1702.03835,
    }),
    SourceFileEvent: createEvent('SourceFileEvent', envelope('aemo.dispatchis'), {
      url: 'https://nemweb.com.au/Reports/Current/DispatchIS_Reports/PUBLIC_DISPATCHIS_202604011005_0000000005924882.zip',
      size_bytes: 20_481,
      listed_at: '2026-04-01T00:05:00.000Z',
      fetched_at: interval_end,
    }),
    RegionFcasPriceEvent: createEvent('RegionFcasPriceEvent', envelope('aemo.dispatchis'), {
      region_id: 'NSW1',
      service: 'raise_reg',
      interval_end,
      price_aud_mw_h: 0.42,
      apc_flag: 0,
      price_status: 'FIRM',
      intervention: false,
    }),
    WeatherObservation: createEvent('WeatherObservation', envelope('openmeteo.forecast'), {
      region_id: 'NSW1',
      location: 'Sydney',
      latitude: -33.87,
      longitude: 151.21,
      observed_at: '2026-04-01T00:00:00Z',
      temperature_c: 21.5,
      relative_humidity_pct: null,
      wind_speed_kmh: null,
      wind_direction_deg: null,
      cloud_cover_pct: null,
      shortwave_radiation_wm2: null,
    }),
    InterconnectorFlowEvent: createEvent('InterconnectorFlowEvent', envelope('aemo.dispatchis'), {
      interconnector_id: 'VIC1-NSW1',
      interval_end,
      mw_flow: 450,
      metered_mw_flow: 440.5,
      mw_losses: null,
      export_limit_mw: null,
      import_limit_mw: null,
      intervention: true,
    }),
    ScadaReconciliationEvent: createEvent(
      'ScadaReconciliationEvent',
      envelope('aemo.dispatch_scada'),
      {
        interval_end,
        total_mw: 100,
        generation_mw: 90,
        load_mw: 5,
        unmapped_mw: 5,
        unit_count: 4,
        unmapped_units: [{ duid: 'NEWUNIT1', value_mw: 5 }],
      }
    ),
    // The half hour holding `interval_end`; NSW1's MEASUREMENT row of 2026/04/01 10:30 (NEM time)
    // in the April 2026 rooftop archive, for the default interval.
    RooftopPvEvent: createEvent('RooftopPvEvent', envelope('aemo.rooftop_pv'), {
      region_id: 'NSW1',
      interval_end: toUtcIso(Math.ceil(Date.parse(interval_end) / 1_800_000) * 1_800_000),
      estimate_type: 'MEASUREMENT',
      power_mw: 4483.887,
      quality_indicator: 1,
      basis: 'region',
      sub_regions: [],
      last_changed: '2026-04-01T00:49:06Z',
    }),
  }
}
