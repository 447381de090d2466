import { z } from 'zod'
import {
  type FuelType,
  FuelTypeSchema,
  REGION_IDS,
  type RegionId,
  RegionIdSchema,
} from '@/canonical'

/**
 * How AEMO's NEM Registration and Exemption List (sheet "PU and Scheduled Loads") maps a DUID to a
 * region and one of GridPulse's fuel types. Pure: `scripts/aemo-duid-map.ts` reads the workbook
 * and writes `duid-map.json` with these rules; the tests regenerate it to catch drift.
 */

export const DispatchTypeSchema = z
  .enum(['generating_unit', 'load', 'bidirectional_unit'])
  .describe(
    "AEMO's Dispatch Type: Generating Unit, Load (SCADA positive = consumption) or Bidirectional Unit"
  )
export type DispatchType = z.infer<typeof DispatchTypeSchema>

export const DuidInfoSchema = z
  .object({
    region_id: RegionIdSchema,
    /** For batteries that are not loads, the fuel at or above 0 MW; below 0 MW they report as `battery_charging`. */
    fuel_type: FuelTypeSchema,
    dispatch_type: DispatchTypeSchema,
    station: z.string().min(1),
  })
  .strict()
export type DuidInfo = z.infer<typeof DuidInfoSchema>

/** One sheet row, the columns the rules read, as text (null/blank cells as ''). */
export interface RegistrationRow {
  readonly duid: string
  readonly station: string
  readonly region: string
  readonly dispatchType: string
  readonly fuelPrimary: string
  readonly fuelDescriptor: string
  readonly technologyPrimary: string
  readonly technologyDescriptor: string
}

const DISPATCH_TYPES: Record<string, DispatchType> = {
  'generating unit': 'generating_unit',
  load: 'load',
  'bidirectional unit': 'bidirectional_unit',
}

// Cells carry stray spaces, CR/LF and typos ("Natrual Gas/ Diesel", "Photovoltalic"): compare
// lowercased with whitespace collapsed, and match descriptor keywords rather than whole strings.
const norm = (s: string): string => s.replace(/\s+/g, ' ').trim().toLowerCase()
const blank = (s: string): boolean => norm(s) === '' || norm(s) === '-'

interface FuelRule {
  readonly rule: string
  readonly test: (r: RegistrationRow) => boolean
  readonly fuel: (r: RegistrationRow) => FuelType
}

const fossil = (r: RegistrationRow, pattern: RegExp) =>
  norm(r.fuelPrimary) === 'fossil' && pattern.test(norm(r.fuelDescriptor))

/** Ordered: the first rule that matches decides. Written verbatim into the map's provenance. */
export const FUEL_RULES: readonly FuelRule[] = [
  {
    rule: 'Fuel Source - Primary "Battery Storage": Load → battery_charging; Generating or Bidirectional Unit → battery_discharging (a negative SCADA value of such a unit is reported as battery_charging)',
    test: (r) => norm(r.fuelPrimary) === 'battery storage',
    fuel: (r) => (norm(r.dispatchType) === 'load' ? 'battery_charging' : 'battery_discharging'),
  },
  {
    rule: 'Fossil with a "Black Coal" descriptor → black_coal',
    test: (r) => fossil(r, /black coal/),
    fuel: () => 'black_coal',
  },
  {
    rule: 'Fossil with a "Brown Coal" descriptor → brown_coal',
    test: (r) => fossil(r, /brown coal/),
    fuel: () => 'brown_coal',
  },
  {
    rule: 'Fossil whose descriptor names a gas (Natural Gas, incl. dual-fuel "Natural Gas / Diesel" and "Natural Gas / Fuel Oil" units that burn gas first; Coal Seam Methane; Waste Coal Mine Gas; Ethane) → gas',
    test: (r) => fossil(r, /gas|methane|ethane/),
    fuel: () => 'gas',
  },
  {
    rule: 'Fossil with Diesel, Kerosene or Fuel Oil only → distillate',
    test: (r) => fossil(r, /diesel|kerosene|fuel oil/),
    fuel: () => 'distillate',
  },
  {
    rule: 'Hydro (gravity, run of river, pumped-storage generators) → hydro',
    test: (r) => norm(r.fuelPrimary) === 'hydro',
    fuel: () => 'hydro',
  },
  { rule: 'Wind → wind', test: (r) => norm(r.fuelPrimary) === 'wind', fuel: () => 'wind' },
  {
    rule: 'Solar → utility_solar (the list holds registered plants only; rooftop PV is not in it)',
    test: (r) => norm(r.fuelPrimary) === 'solar',
    fuel: () => 'utility_solar',
  },
  {
    rule: 'Renewable/ Biomass / Waste (bagasse, landfill gas, biogas, sewage; also "Bagasse and Diesel" and the sewage plant whose technology reads "Pump Storage": the fuel decides) → bioenergy',
    test: (r) => norm(r.fuelPrimary).startsWith('renewable/ biomass / waste'),
    fuel: () => 'bioenergy',
  },
]

export const STATION_RULE =
  'Load with fuel "-" (pump loads SHPUMP, PUMP1, PUMP2) → the fuel of the generating units of the same Station Name, which must agree'
export const EXCLUSION_RULE =
  'No fuel and no technology at all (Basslink BLNKTAS/BLNKVIC, an HVDC interconnector registered as generating units) → not mapped: its MW is interconnector flow, not generation, so it stays in the unmapped reconciliation'
export const DUID_RULE =
  'Rows whose DUID is "-" (unnamed units) are skipped; DUIDs are trimmed (some cells end in spaces or CR/LF)'

export interface DuidMapBuild {
  readonly duids: Record<string, DuidInfo>
  readonly excluded: readonly { duid: string; station: string; reason: string }[]
  readonly skippedRows: number
}

/** A Load without a fuel: it takes the fuel of its station's generating units, once all are known. */
interface PendingLoad {
  readonly duid: string
  readonly station: string
  readonly dispatch: DispatchType
  readonly region: RegionId
}

/** What the rules make of one sheet row. */
type RowOutcome =
  | { readonly kind: 'skipped' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'mapped'; readonly duid: string; readonly info: DuidInfo }
  | { readonly kind: 'pending'; readonly load: PendingLoad }
  | { readonly kind: 'excluded'; readonly duid: string; readonly station: string }

/**
 * Applies the rules to every sheet row. Throws (listing every offender) on a row no rule covers,
 * an unknown region or dispatch type, or a DUID listed twice with different mappings, so a new
 * AEMO category can never silently become `other`.
 */
export function buildDuidMap(rows: readonly RegistrationRow[]): DuidMapBuild {
  const errors: string[] = []
  const duids = new Map<string, DuidInfo>()
  const excluded: { duid: string; station: string; reason: string }[] = []
  let skippedRows = 0
  const pending: PendingLoad[] = []

  const put = (duid: string, info: DuidInfo) => {
    const known = duids.get(duid)
    if (known && JSON.stringify(known) !== JSON.stringify(info)) {
      errors.push(
        `${duid}: listed twice with different mappings (${JSON.stringify(known)} vs ${JSON.stringify(info)})`
      )
    }
    duids.set(duid, info)
  }

  for (const row of rows) {
    const outcome = classifyRow(row)
    if (outcome.kind === 'skipped') skippedRows++
    else if (outcome.kind === 'error') errors.push(outcome.message)
    else if (outcome.kind === 'mapped') put(outcome.duid, outcome.info)
    else if (outcome.kind === 'pending') pending.push(outcome.load)
    else {
      const { duid, station } = outcome
      excluded.push({
        duid,
        station,
        reason: 'no fuel or technology: interconnector, not generation',
      })
    }
  }

  for (const load of pending) {
    const fuel = stationFuel(load.station, duids)
    if (typeof fuel === 'string') {
      const { region, dispatch, station } = load
      put(load.duid, { region_id: region, fuel_type: fuel, dispatch_type: dispatch, station })
    } else {
      errors.push(
        `${load.duid}: load without a fuel, and station ${JSON.stringify(load.station)} has generating fuels ${JSON.stringify(fuel)}`
      )
    }
  }

  if (errors.length > 0)
    throw new Error(`DUID map rules do not cover the sheet:\n${errors.join('\n')}`)
  const sorted = Object.fromEntries([...duids].sort(([a], [b]) => (a < b ? -1 : 1)))
  return {
    duids: sorted,
    excluded: excluded.sort((a, b) => (a.duid < b.duid ? -1 : 1)),
    skippedRows,
  }
}

/** One row through the rules: `FUEL_RULES`, then `STATION_RULE` (pending), then `EXCLUSION_RULE`. */
function classifyRow(row: RegistrationRow): RowOutcome {
  const duid = row.duid.trim()
  if (duid === '' || duid === '-') return { kind: 'skipped' }
  const region = row.region.trim()
  if (!(REGION_IDS as readonly string[]).includes(region)) {
    return { kind: 'error', message: `${duid}: unknown region ${JSON.stringify(row.region)}` }
  }
  const dispatch = DISPATCH_TYPES[norm(row.dispatchType)]
  if (dispatch === undefined) {
    const message = `${duid}: unknown dispatch type ${JSON.stringify(row.dispatchType)}`
    return { kind: 'error', message }
  }
  const station = row.station.replace(/\s+/g, ' ').trim()
  const rule = FUEL_RULES.find((r) => r.test(row))
  if (rule) {
    const info: DuidInfo = {
      region_id: region as RegionId,
      fuel_type: rule.fuel(row),
      dispatch_type: dispatch,
      station,
    }
    return { kind: 'mapped', duid, info }
  }
  if (dispatch === 'load' && blank(row.fuelPrimary)) {
    return { kind: 'pending', load: { duid, station, dispatch, region: region as RegionId } }
  }
  if (
    blank(row.fuelPrimary) &&
    blank(row.fuelDescriptor) &&
    blank(row.technologyPrimary) &&
    blank(row.technologyDescriptor)
  ) {
    return { kind: 'excluded', duid, station }
  }
  const cells = [
    row.fuelPrimary,
    row.fuelDescriptor,
    row.technologyPrimary,
    row.technologyDescriptor,
  ]
  return { kind: 'error', message: `${duid}: no rule for ${JSON.stringify(cells)}` }
}

/** The one fuel of a station's generating units, or every fuel found when there is not exactly one. */
function stationFuel(station: string, duids: ReadonlyMap<string, DuidInfo>): FuelType | FuelType[] {
  const fuels = new Set(
    [...duids.values()]
      .filter((d) => d.station === station && d.dispatch_type !== 'load')
      .map((d) => d.fuel_type)
  )
  const [fuel] = fuels
  return fuels.size === 1 && fuel !== undefined ? fuel : [...fuels]
}
