import { z } from 'zod'

/**
 * Closed set of fuel types GridPulse reports generation under. Battery charging is a load, so its
 * values are negative MW; every other fuel may also be slightly negative (auxiliary load at zero output).
 */
export const FUEL_TYPES = [
  'black_coal',
  'brown_coal',
  'gas',
  'hydro',
  'wind',
  'utility_solar',
  'rooftop_solar',
  'battery_charging',
  'battery_discharging',
  'bioenergy',
  'distillate',
  'other',
] as const

export const FuelTypeSchema = z.enum(FUEL_TYPES).describe('Fuel type (closed enum)')
export type FuelType = z.infer<typeof FuelTypeSchema>
