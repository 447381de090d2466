import { afterEach, describe, expect, test } from 'bun:test'
import { createEmbeddedBus, type EventBus } from '@/bus'
import { silentLogger } from '@/observability'
import {
  batchedForecast,
  openMeteoFixture,
  startOpenMeteoServer,
} from '../../../tests/support/openmeteo-server'
import { createForecastCycle, DEFAULT_LOCATIONS, forecastUrl, parseForecast } from '.'

const ctx = {
  correlationId: 'poll-1',
  sourceFile: 'https://api.open-meteo.com/v1/forecast',
  ingestedAt: Date.parse('2026-10-03T10:31:00Z'),
}
const sydney = DEFAULT_LOCATIONS.slice(0, 1)

describe('parseForecast', () => {
  test('turns local wall time plus utc_offset_seconds into a UTC observation (real response)', async () => {
    // The fixture is Amsterdam (UTC+2 in October): current.time 2026-10-03T12:30 local = 10:30Z.
    const { events, rejects } = parseForecast(await openMeteoFixture('forecast'), sydney, ctx)
    expect(rejects).toEqual([])
    expect(events).toEqual([
      expect.objectContaining({
        region_id: 'NSW1',
        location: 'Sydney',
        observed_at: '2026-10-03T10:30:00Z',
        temperature_c: 17.7,
        relative_humidity_pct: 66,
        wind_speed_kmh: 3.6,
        wind_direction_deg: 259,
        cloud_cover_pct: 73,
        shortwave_radiation_wm2: 458,
        correlation_id: 'poll-1',
        source: 'openmeteo.forecast',
      }),
    ])
    expect(events[0]!.source_sha256).toMatch(/^[0-9a-f]{64}$/)
  })

  test('maps a batched array to the locations in request order', async () => {
    const { events } = parseForecast(await batchedForecast(5), DEFAULT_LOCATIONS, ctx)
    expect(events.map((e) => e.region_id)).toEqual(['NSW1', 'QLD1', 'VIC1', 'SA1', 'TAS1'])
    expect(new Set(events.map((e) => e.event_id)).size).toBe(5)
  })

  test('the same response parsed twice yields the same event ids', async () => {
    const body = await openMeteoFixture('forecast')
    const a = parseForecast(body, sydney, ctx).events[0]!
    const b = parseForecast(body, sydney, { ...ctx, correlationId: 'poll-2' }).events[0]!
    expect(a.event_id).toBe(b.event_id)
  })

  test('invalid JSON (NaN coordinates, a real upstream response) is rejected with the reason', async () => {
    const { events, rejects } = parseForecast(
      await openMeteoFixture('satellite_radiation_not_covered'),
      sydney,
      ctx
    )
    expect(events).toEqual([])
    expect(rejects).toEqual([expect.objectContaining({ code: 'invalid_json', index: null })])
  })

  test('a response without the current block is a schema mismatch', async () => {
    const { rejects } = parseForecast(await openMeteoFixture('forecast_minimal'), sydney, ctx)
    expect(rejects).toEqual([expect.objectContaining({ code: 'schema_mismatch', index: 0 })])
  })

  test('an upstream error body is rejected with its reason', () => {
    const body =
      '{"error":true,"reason":"Cannot initialize WeatherVariable from invalid String value tempeature_2m for key current"}'
    const { rejects } = parseForecast(body, sydney, ctx)
    expect(rejects).toEqual([
      expect.objectContaining({
        code: 'upstream_error',
        reason: expect.stringContaining('tempeature_2m'),
      }),
    ])
  })

  test('one bad location does not lose the valid ones', async () => {
    const good = JSON.parse(await openMeteoFixture('forecast'))
    const hourlyOnly = JSON.parse(await openMeteoFixture('tempi_forecast'))
    const body = JSON.stringify([good, hourlyOnly, good, good, good])
    const { events, rejects } = parseForecast(body, DEFAULT_LOCATIONS, ctx)
    expect(events.map((e) => e.region_id)).toEqual(['NSW1', 'VIC1', 'SA1', 'TAS1'])
    expect(rejects).toEqual([expect.objectContaining({ code: 'schema_mismatch', index: 1 })])
  })

  test('an out-of-range value is rejected, not clamped', async () => {
    const item = JSON.parse(await openMeteoFixture('forecast'))
    item.current.relative_humidity_2m = 140
    const { events, rejects } = parseForecast(JSON.stringify(item), sydney, ctx)
    expect(events).toEqual([])
    expect(rejects[0]).toMatchObject({
      code: 'out_of_range',
      reason: expect.stringContaining('relative_humidity_pct'),
    })
  })

  test('wind in m/s is converted to km/h', async () => {
    const item = JSON.parse(await openMeteoFixture('forecast'))
    item.current_units.wind_speed_10m = 'm/s'
    item.current.wind_speed_10m = 1
    expect(parseForecast(JSON.stringify(item), sydney, ctx).events[0]!.wind_speed_kmh).toBe(3.6)
  })
})

describe('forecastUrl and WEATHER_LOCATIONS', () => {
  test('one request carries every location and the six current variables', () => {
    const url = new URL(forecastUrl('http://om.local', DEFAULT_LOCATIONS))
    expect(url.searchParams.get('latitude')!.split(',')).toHaveLength(5)
    expect(url.searchParams.get('current')).toBe(
      'temperature_2m,relative_humidity_2m,wind_speed_10m,wind_direction_10m,cloud_cover,shortwave_radiation'
    )
  })
})

describe('forecast poll cycle against a local Open-Meteo', () => {
  let bus: EventBus
  let server: ReturnType<typeof startOpenMeteoServer>
  afterEach(async () => {
    server?.stop()
    await bus?.close()
  })

  const endOffsets = async (topic: string) =>
    [...(await bus.endOffsets([topic])).values()].reduce((a, b) => a + b, 0n)

  test('honours 429 Retry-After, then publishes one observation per location', async () => {
    server = startOpenMeteoServer(async (_, count, n) =>
      n === 1
        ? new Response('{"error":true,"reason":"Too many concurrent requests"}', {
            status: 429,
            headers: { 'Retry-After': '0' },
          })
        : new Response(await batchedForecast(count))
    )
    bus = createEmbeddedBus({ path: ':memory:', log: silentLogger() })
    const cycle = createForecastCycle({
      baseUrl: server.url,
      locations: DEFAULT_LOCATIONS,
      sink: bus,
      http: { baseDelayMs: 1 },
    })

    const result = await cycle(new AbortController().signal)

    expect(server.requests).toHaveLength(2)
    expect(result).toMatchObject({
      events: 5,
      rejected: 0,
      lastItem: 'current@2026-10-03T10:30:00Z',
    })
    expect(await endOffsets('weather.observations')).toBe(5n)
  })

  test('an error body goes to dlq.weather.observations and the cycle reports failure', async () => {
    server = startOpenMeteoServer(
      () =>
        new Response('{"error":true,"reason":"Latitude must be in range of -90 to 90°."}', {
          status: 400,
        })
    )
    bus = createEmbeddedBus({ path: ':memory:', log: silentLogger() })
    const cycle = createForecastCycle({
      baseUrl: server.url,
      locations: DEFAULT_LOCATIONS,
      sink: bus,
      http: { baseDelayMs: 1 },
    })

    await expect(cycle(new AbortController().signal)).rejects.toThrow('Latitude must be in range')

    expect(server.requests).toHaveLength(1) // 400 is not retried
    expect(await endOffsets('dlq.weather.observations')).toBe(1n)
    expect(await endOffsets('weather.observations')).toBe(0n)
  })
})

describe('impossible times', () => {
  test('a well-formed but impossible current.time is a rejection, not a throw', async () => {
    const good = JSON.parse(await openMeteoFixture('forecast'))
    const bad = { ...good, current: { ...good.current, time: '2026-13-45T99:99' } }
    const { events, rejects } = parseForecast(
      JSON.stringify([good, bad, good, good, good]),
      DEFAULT_LOCATIONS,
      ctx
    )
    expect(events).toHaveLength(4)
    expect(rejects).toEqual([expect.objectContaining({ code: 'schema_mismatch', index: 1 })])
  })
})
