import { z } from 'zod'
import { envelopeShape, UtcInstantSchema } from '../envelope'
import { defineEvent } from '../event-spec'
import { RegionIdSchema } from '../region'
import { TOPICS } from '../streams'

export const WeatherObservationSchema = z
  .object({
    ...envelopeShape,
    event_type: z.literal('WeatherObservation'),
    region_id: RegionIdSchema,
    location: z.string().min(1).max(64).describe('Named location, e.g. Sydney'),
    latitude: z.number().min(-90).max(90),
    longitude: z.number().min(-180).max(180),
    observed_at: UtcInstantSchema.describe('Observation time, UTC'),
    temperature_c: z.number().min(-90).max(60).nullable(),
    relative_humidity_pct: z.number().min(0).max(100).nullable(),
    wind_speed_kmh: z.number().min(0).max(500).nullable(),
    wind_direction_deg: z.number().min(0).max(360).nullable(),
    cloud_cover_pct: z.number().min(0).max(100).nullable(),
    shortwave_radiation_wm2: z.number().min(0).max(2_000).nullable(),
  })
  .strict()
export type WeatherObservation = z.infer<typeof WeatherObservationSchema>

export interface WeatherObservationIdentity {
  readonly region_id: string
  readonly location: string
  readonly observed_at: string
}

export const weatherObservation = defineEvent<
  typeof WeatherObservationSchema,
  WeatherObservationIdentity
>(WeatherObservationSchema, {
  topic: TOPICS.weather,
  key: (e) => e.region_id,
  identity: (id) => [id.region_id, id.location, id.observed_at],
  time: (e) => e.observed_at,
})
