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

/**
 * Sign rules for readings written by hand (source `api`): charging is a load, so
 * `battery_charging` ≤ 0; every other fuel, `battery_discharging` included, is generation ≥ 0.
 * Negative generation of other fuels (pumped-hydro and other scheduled loads, auxiliary load at zero
 * output) is what AEMO's SCADA reports and comes only from there: these rules do not apply to it.
 * Returns why the value breaks the rule, or undefined when it is allowed.
 */
export function manualSignViolation(fuel: FuelType, valueMw: number): string | undefined {
  if (fuel === 'battery_charging')
    return valueMw > 0 ? 'battery_charging is a load: its value_mw must be ≤ 0' : undefined
  return valueMw < 0
    ? `${fuel} is generation: a manual value_mw must be ≥ 0 (loads as negative generation come only from AEMO SCADA)`
    : undefined
}
