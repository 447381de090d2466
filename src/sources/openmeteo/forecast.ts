import { z } from 'zod'
import {
  createDeadLetter,
  createEvent,
  describeIssues,
  type RegionId,
  TOPICS,
  type WeatherObservation,
  WeatherObservationSchema,
} from '@/canonical'
import { sha256Hex, toUtcIso, toUtcIsoMs, UpstreamError } from '@/lib'
import { type HttpOptions, httpGet } from '../http'
import type { CycleContext, CycleResult, Sink } from '../poller'

export interface WeatherLocation {
  readonly region_id: RegionId
  readonly name: string
  readonly latitude: number
  readonly longitude: number
}

/** NEM region centres: the state capital of each region (BOM station coordinates, rounded). */
export const DEFAULT_LOCATIONS: readonly WeatherLocation[] = [
  { region_id: 'NSW1', name: 'Sydney', latitude: -33.87, longitude: 151.21 },
  { region_id: 'QLD1', name: 'Brisbane', latitude: -27.47, longitude: 153.03 },
  { region_id: 'VIC1', name: 'Melbourne', latitude: -37.81, longitude: 144.96 },
  { region_id: 'SA1', name: 'Adelaide', latitude: -34.93, longitude: 138.6 },
  { region_id: 'TAS1', name: 'Hobart', latitude: -42.88, longitude: 147.33 },
]

export const CURRENT_VARIABLES = [
  'temperature_2m',
  'relative_humidity_2m',
  'wind_speed_10m',
  'wind_direction_10m',
  'cloud_cover',
  'shortwave_radiation',
] as const

/** One batched request for every location (comma-separated coordinates return an array, in order). */
export function forecastUrl(baseUrl: string, locations: readonly WeatherLocation[]): string {
  const url = new URL('/v1/forecast', baseUrl)
  url.searchParams.set('latitude', locations.map((l) => l.latitude).join(','))
  url.searchParams.set('longitude', locations.map((l) => l.longitude).join(','))
  url.searchParams.set('current', CURRENT_VARIABLES.join(','))
  url.searchParams.set('wind_speed_unit', 'kmh')
  url.searchParams.set('temperature_unit', 'celsius')
  url.searchParams.set('timezone', 'GMT')
  return url.toString()
}

const num = z.number().nullable().optional()
const LocationResponseSchema = z.object({
  latitude: z.number(),
  longitude: z.number(),
  utc_offset_seconds: z.number().int().min(-86_400).max(86_400),
  current_units: z.record(z.string(), z.string()).optional(),
  current: z
    .object({
      time: z.union([
        z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/),
        z.number().int(),
      ]),
      temperature_2m: num,
      relative_humidity_2m: num,
      wind_speed_10m: num,
      wind_direction_10m: num,
      cloud_cover: num,
      shortwave_radiation: num,
    })
    .loose(),
})
type LocationResponse = z.infer<typeof LocationResponseSchema>

/**
 * Open-Meteo reports `current.time` as local wall time in the requested timezone, plus
 * `utc_offset_seconds`; unix-time responses are already UTC seconds.
 */
export function observedAtMs(
  current: LocationResponse['current'],
  utcOffsetSeconds: number
): number {
  if (typeof current.time === 'number') return current.time * 1000
  const wall = Date.parse(`${current.time.length === 16 ? `${current.time}:00` : current.time}Z`)
  return wall - utcOffsetSeconds * 1000
}

// Unit conversions for responses that ignored our unit parameters (seen with cached proxies).
const WIND_TO_KMH: Record<string, number> = {
  'km/h': 1,
  'm/s': 3.6,
  'mp/h': 1.609344,
  mph: 1.609344,
  kn: 1.852,
}

export interface ParsedForecast {
  readonly events: WeatherObservation[]
  readonly rejects: {
    readonly code: string
    readonly reason: string
    readonly index: number | null
    readonly raw: string
  }[]
}

type ForecastReject = ParsedForecast['rejects'][number]
type ForecastContext = { correlationId: string; sourceFile: string; ingestedAt: number }

/**
 * Turns one Open-Meteo response body into observations. Pure: every failure is a rejection with a
 * reason (upstream error body, invalid JSON, schema mismatch, wrong array length), never a throw;
 * valid locations in a partly bad response still produce events.
 */
export function parseForecast(
  body: string,
  locations: readonly WeatherLocation[],
  ctx: ForecastContext
): ParsedForecast {
  const items = responseItems(body, locations.length)
  if (!Array.isArray(items)) return { events: [], rejects: [items] }
  const sha = sha256Hex(body)
  const events: WeatherObservation[] = []
  const rejects: ForecastReject[] = []
  items.forEach((item, index) => {
    const result = readLocation(item, locations[index]!, ctx, sha)
    if ('code' in result) rejects.push({ ...result, index, raw: JSON.stringify(item) })
    else events.push(result)
  })
  return { events, rejects }
}

/** The body's per-location items (one per requested location, in order), or why there are none. */
function responseItems(body: string, expected: number): unknown[] | ForecastReject {
  const whole = (code: string, reason: string) => ({ code, reason, index: null, raw: body })
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch (error) {
    return whole('invalid_json', `invalid JSON: ${(error as Error).message}`)
  }
  if (
    json &&
    typeof json === 'object' &&
    !Array.isArray(json) &&
    (json as { error?: unknown }).error === true
  ) {
    const reason = String((json as { reason?: unknown }).reason ?? 'unspecified')
    return whole('upstream_error', `Open-Meteo error: ${reason}`)
  }
  const items = Array.isArray(json) ? json : [json]
  if (items.length !== expected) {
    return whole('schema_mismatch', `expected ${expected} locations, got ${items.length}`)
  }
  return items
}

/** One location's item as an observation, or why it cannot be one. */
function readLocation(
  item: unknown,
  location: WeatherLocation,
  ctx: ForecastContext,
  sha: string
): WeatherObservation | { code: string; reason: string } {
  const parsed = LocationResponseSchema.safeParse(item)
  if (!parsed.success) {
    return {
      code: 'schema_mismatch',
      reason: `${location.name}: ${describeIssues(parsed.error.issues)}`,
    }
  }
  const { current, current_units: units = {}, utc_offset_seconds } = parsed.data
  const windFactor = WIND_TO_KMH[units.wind_speed_10m ?? 'km/h']
  if (windFactor === undefined) {
    return {
      code: 'schema_mismatch',
      reason: `${location.name}: unknown wind unit ${units.wind_speed_10m}`,
    }
  }
  const observedMs = observedAtMs(current, utc_offset_seconds)
  // The format check lets through impossible dates (2026-13-45T99:99): reject, do not throw.
  if (!Number.isFinite(observedMs)) {
    return {
      code: 'schema_mismatch',
      reason: `${location.name}: current.time ${JSON.stringify(current.time)} is not a time`,
    }
  }
  const envelope = {
    correlation_id: ctx.correlationId,
    source: 'openmeteo.forecast',
    source_file: ctx.sourceFile,
    source_sha256: sha,
    ingested_at: toUtcIsoMs(ctx.ingestedAt),
  } as const
  const candidate = createEvent('WeatherObservation', envelope, {
    region_id: location.region_id,
    location: location.name,
    latitude: location.latitude,
    longitude: location.longitude,
    observed_at: toUtcIso(observedMs),
    ...measurements(current, windFactor, units.temperature_2m === '°F'),
  })
  const event = WeatherObservationSchema.safeParse(candidate)
  if (!event.success) {
    return {
      code: 'out_of_range',
      reason: `${location.name}: ${describeIssues(event.error.issues)}`,
    }
  }
  return event.data
}

/** The observation's measurements in canonical units (°C, km/h); absent variables are null. */
function measurements(
  current: LocationResponse['current'],
  windFactor: number,
  fahrenheit: boolean
) {
  const v = (x: number | null | undefined) => (x === undefined ? null : x)
  return {
    temperature_c:
      current.temperature_2m == null
        ? null
        : fahrenheit
          ? round1(((current.temperature_2m - 32) * 5) / 9)
          : current.temperature_2m,
    relative_humidity_pct: v(current.relative_humidity_2m),
    wind_speed_kmh:
      current.wind_speed_10m == null ? null : round1(current.wind_speed_10m * windFactor),
    wind_direction_deg: v(current.wind_direction_10m),
    cloud_cover_pct: v(current.cloud_cover),
    shortwave_radiation_wm2: v(current.shortwave_radiation),
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10

/** One poll: fetch, parse, publish the observations and dead-letter the rest. */
export function createForecastCycle(options: {
  readonly baseUrl: string
  readonly locations: readonly WeatherLocation[]
  readonly sink: Sink
  readonly http?: HttpOptions
  readonly now?: () => number
  readonly newId?: () => string
}) {
  const now = options.now ?? Date.now
  const newId = options.newId ?? (() => crypto.randomUUID())
  const url = forecastUrl(options.baseUrl, options.locations)
  return async (signal: AbortSignal, context?: CycleContext): Promise<CycleResult> => {
    // While the source is down each poll is one probe: the poller's backoff spaces them out.
    const response = await httpGet(url, {
      ...options.http,
      ...(context?.probe ? { attempts: 1 } : {}),
      signal,
    })
    const body = new TextDecoder().decode(response.body)
    const correlationId = newId()
    const ingestedAt = now()
    const parsed =
      response.status === 200 || isErrorBody(body)
        ? parseForecast(body, options.locations, { correlationId, sourceFile: url, ingestedAt })
        : {
            events: [],
            rejects: [
              { code: 'upstream_error', reason: `HTTP ${response.status}`, index: null, raw: body },
            ],
          }
    if (parsed.rejects.length > 0) {
      const sha = sha256Hex(body)
      await options.sink.deadLetter(
        parsed.rejects.map((r) =>
          createDeadLetter({
            origin: 'openmeteo',
            identity: `openmeteo|${sha}|${r.index ?? 'all'}`,
            topic: TOPICS.weather,
            reason: r.reason,
            code: r.code,
            correlation_id: correlationId,
            source: 'openmeteo.forecast',
            source_file: url,
            row: r.index === null ? null : r.index + 1,
            raw: r.raw,
            failed_at: toUtcIsoMs(ingestedAt),
          })
        )
      )
    }
    if (parsed.events.length > 0) await options.sink.publish(parsed.events)
    if (
      parsed.events.length === 0 &&
      parsed.rejects.length > 0 &&
      parsed.rejects[0]!.index === null
    ) {
      // A whole-response reject: an error status or a body that cannot be used.
      throw new UpstreamError(
        response.status === 200 ? 'invalid_response' : 'http_status',
        `Open-Meteo response rejected: ${parsed.rejects[0]!.reason.slice(0, 200)}`
      )
    }
    const newest = parsed.events.reduce((m, e) => Math.max(m, Date.parse(e.observed_at)), 0)
    return {
      events: parsed.events.length,
      rejected: parsed.rejects.length,
      lastItem: newest ? `current@${toUtcIso(newest)}` : undefined,
      lastDataAt: newest || undefined,
    }
  }
}

const isErrorBody = (body: string) => /^\s*\{\s*"error"\s*:\s*true/.test(body)
