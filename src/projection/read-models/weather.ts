import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import type { RegionId, WeatherObservation } from '@/canonical'
import { toUtcIso } from '@/lib'
import { direction, mean } from './aggregate'
import type { RangeQuery } from './pager'
import {
  byApiCorrelation,
  envelopeColumns,
  envelopeOf,
  type ReadModel,
  upsertStatement,
} from './read-model'
import { createSeriesQueries, type SeriesQueries, type SeriesSpec } from './series'

export const weather = sqliteTable(
  'weather',
  {
    ...envelopeColumns(),
    regionId: text('region_id').notNull(),
    location: text('location').notNull(),
    latitude: real('latitude').notNull(),
    longitude: real('longitude').notNull(),
    observedAt: integer('observed_at').notNull(),
    temperatureC: real('temperature_c'),
    relativeHumidityPct: real('relative_humidity_pct'),
    windSpeedKmh: real('wind_speed_kmh'),
    windDirectionDeg: real('wind_direction_deg'),
    cloudCoverPct: real('cloud_cover_pct'),
    shortwaveRadiationWm2: real('shortwave_radiation_wm2'),
  },
  (t) => [
    byApiCorrelation('weather', t),
    index('weather_by_time').on(t.observedAt, t.eventId),
    index('weather_by_region_time').on(t.regionId, t.observedAt, t.eventId),
  ]
)
type WeatherRow = typeof weather.$inferSelect

const toWeather = (row: WeatherRow): WeatherObservation => ({
  ...envelopeOf(row),
  event_type: 'WeatherObservation',
  region_id: row.regionId as RegionId,
  location: row.location,
  latitude: row.latitude,
  longitude: row.longitude,
  observed_at: toUtcIso(row.observedAt),
  temperature_c: row.temperatureC,
  relative_humidity_pct: row.relativeHumidityPct,
  wind_speed_kmh: row.windSpeedKmh,
  wind_direction_deg: row.windDirectionDeg,
  cloud_cover_pct: row.cloudCoverPct,
  shortwave_radiation_wm2: row.shortwaveRadiationWm2,
})

const series: SeriesSpec<WeatherRow, WeatherObservation> = {
  eventType: 'WeatherObservation',
  table: weather,
  time: weather.observedAt,
  id: weather.eventId,
  filters: { regionId: weather.regionId },
  toCanonical: toWeather,
  // Open-Meteo's `current` block is 15-minutely, and it is polled every 15 minutes.
  cadenceMs: 15 * 60_000,
  aggregate: {
    series: { region_id: weather.regionId, location: weather.location },
    measures: [
      mean('temperature_c', weather.temperatureC, '°C', { minMax: true }),
      mean('relative_humidity_pct', weather.relativeHumidityPct, '%'),
      mean('wind_speed_kmh', weather.windSpeedKmh, 'km/h'),
      direction('wind_direction_deg', weather.windDirectionDeg),
      mean('cloud_cover_pct', weather.cloudCoverPct, '%'),
      mean('shortwave_radiation_wm2', weather.shortwaveRadiationWm2, 'W/m²'),
    ],
  },
}

export type WeatherQueries = SeriesQueries<
  WeatherRow,
  WeatherObservation,
  RangeQuery & { regionId?: RegionId }
>

export const weatherReadModel: ReadModel<'WeatherObservation', WeatherQueries, 'weather'> = {
  eventType: 'WeatherObservation',
  port: 'weather',
  table: weather,
  time: weather.observedAt,
  // Hourly-ish model output, not dispatch intervals: no gap report.
  dispatchIntervals: false,
  regionStats: [
    {
      region: weather.regionId,
      value: weather.temperatureC,
      count: 'weather_count',
      prefix: 'temperature_c',
      counts: 'rows',
    },
  ],
  writer(db) {
    const upsert = upsertStatement(db, weather, 'update')
    return (event, envelope) => {
      upsert.run({
        ...envelope,
        regionId: event.region_id,
        location: event.location,
        latitude: event.latitude,
        longitude: event.longitude,
        observedAt: Date.parse(event.observed_at),
        temperatureC: event.temperature_c,
        relativeHumidityPct: event.relative_humidity_pct,
        windSpeedKmh: event.wind_speed_kmh,
        windDirectionDeg: event.wind_direction_deg,
        cloudCoverPct: event.cloud_cover_pct,
        shortwaveRadiationWm2: event.shortwave_radiation_wm2,
      })
    }
  },
  series,
  queries: (db) => createSeriesQueries(db, series),
}
