import {
  createEvent,
  describeIssues,
  type FuelType,
  type MarketDispatchEvent,
  MarketDispatchEventSchema,
  type RegionId,
} from '@/canonical'
import { toUtcIso } from '@/lib'
import type { SourceRejection } from '../rejection'
import { columnIndex, findTables, type MmsRow } from './csv'
import { megawattsToWatts, wattsToMegawatts } from './decimal'
import { type DuidMap, registrationDuidMap } from './duid-map'
import { AemoSourceError } from './errors'
import { createMarketTimeParser } from './market-time'
import {
  boundsOf,
  checkContext,
  compareText,
  envelopeFor,
  type NormalizeContext,
  type ParsedSourceFile,
  readSourceFile,
  type ReadOptions,
  type SourceFile,
} from './source-file'

/** The SCADA table GridPulse reads (`REPORT.SUB`). */
export const DISPATCH_SCADA_TABLES = ['DISPATCH.UNIT_SCADA'] as const

const REQUIRED = ['SETTLEMENTDATE', 'DUID', 'SCADAVALUE'] as const
const MW = boundsOf(MarketDispatchEventSchema.shape.value_mw)

/**
 * Where every MW of one interval went. SCADA values are summed as integer watts (see
 * `megawattsToWatts`), so `mapped_w + unmapped_w === total_w` holds exactly; the `_mw` fields are
 * the same sums divided by 10⁶ for display and are not guaranteed to add up to the last bit.
 * All sums are of SCADAVALUE as reported (loads positive when consuming).
 */
export interface ScadaReconciliation {
  readonly interval_end: string
  /** Every accepted SCADAVALUE of the interval. */
  readonly total_mw: number
  /** Of which DUIDs found in the DUID map. */
  readonly mapped_mw: number
  /** Of which DUIDs not in the map, listed in `unmapped_duids`. */
  readonly unmapped_mw: number
  /**
   * Of `mapped_mw`, the consumption of scheduled loads (pumps, battery load DUIDs). Events report
   * it as negative generation, so the interval's events sum to `mapped − 2 × load`.
   */
  readonly load_mw: number
  readonly total_w: number
  readonly mapped_w: number
  readonly unmapped_w: number
  readonly load_w: number
  readonly unmapped_duids: readonly {
    readonly duid: string
    readonly value_mw: number
    readonly value_w: number
  }[]
}

export interface DispatchScadaResult {
  readonly events: MarketDispatchEvent[]
  readonly reconciliation: ScadaReconciliation[]
  readonly rejects: SourceRejection[]
}

export interface DispatchScadaOptions extends ReadOptions {
  /** Defaults to the committed map from AEMO's Registration and Exemption List. */
  readonly duidMap?: DuidMap
}

interface Reading {
  readonly watts: number
  readonly row: MmsRow
  readonly table: string
}

interface Group {
  readonly region: RegionId
  readonly fuel: FuelType
  watts: number
  units: number
  readonly rows: MmsRow[]
}

type Reject = (code: string, reason: string, row: MmsRow, table: string) => void

/** One interval's sums in integer watts, and its (region, fuel) groups of mapped DUIDs. */
interface IntervalSums {
  total: number
  mapped: number
  unmapped: number
  load: number
  readonly unmappedDuids: { duid: string; value_mw: number; value_w: number }[]
  readonly groups: Map<string, Group>
}

/**
 * Normalises one Dispatch_SCADA file (the NEMWeb zip or its CSV, live or MMSDM archive) into one
 * `MarketDispatchEvent` per (interval, region, fuel type): the sum of the group's SCADAVALUE in MW
 * and the number of DUIDs in it. Signs follow the canonical model (generation positive):
 * - Generating units keep their sign; a small negative value is auxiliary load at zero output.
 * - Scheduled loads (Dispatch Type "Load": Tumut 3, Shoalhaven and Wivenhoe pumps, battery load
 *   DUIDs) report consumption as a POSITIVE SCADAVALUE (PUMP2 236.86 MW and HPRL1 27.30 MW in the
 *   2021-09-02 12:55 file), so their sign is flipped: a pump drawing 236.86 MW is hydro −236.86 MW.
 * - Batteries that are not loads (bidirectional units since AEMO's 2024 IESS rules, and battery
 *   generating units): ≥ 0 MW is `battery_discharging`, < 0 MW is `battery_charging`, sign kept.
 * DUIDs missing from the map are never dropped: they are listed per interval in `reconciliation`.
 * @throws AemoSourceError for a truncated or corrupt file (nothing is ingested) or a bad context.
 */
export function normalizeDispatchScada(
  file: SourceFile,
  ctx: NormalizeContext,
  options: DispatchScadaOptions = {}
): DispatchScadaResult {
  checkContext(ctx)
  const parsed = readSourceFile(file, DISPATCH_SCADA_TABLES, options)
  if (findTables(parsed.csv, 'DISPATCH', 'UNIT_SCADA').length === 0) {
    throw new AemoSourceError('table_missing', `no DISPATCH.UNIT_SCADA table in ${file.name}`)
  }
  const duids = options.duidMap ?? registrationDuidMap()
  const rejects: SourceRejection[] = parsed.csv.rejects.map((r) => ({ ...r, file: file.name }))
  const reject: Reject = (code, reason, row, table) =>
    rejects.push({ code, reason, row: row.line, raw: row.raw, table, file: file.name })

  const envelope = envelopeFor('aemo.dispatch_scada', file, ctx)
  const events: MarketDispatchEvent[] = []
  const reconciliation: ScadaReconciliation[] = []
  const intervals = [...readReadings(parsed, reject)].sort(([a], [b]) => a - b)
  for (const [ms, byDuid] of intervals) {
    const intervalEnd = toUtcIso(ms)
    const sums = sumInterval(byDuid, duids, reject)
    reconciliation.push(reconcile(intervalEnd, sums))
    const sorted = [...sums.groups.values()].sort(
      (a, b) => compareText(a.region, b.region) || compareText(a.fuel, b.fuel)
    )
    for (const g of sorted) {
      const event = createEvent('MarketDispatchEvent', envelope, {
        region_id: g.region,
        fuel_type: g.fuel,
        interval_end: intervalEnd,
        value_mw: wattsToMegawatts(g.watts),
        unit_count: g.units,
      })
      const checked = MarketDispatchEventSchema.safeParse(event)
      if (checked.success) {
        events.push(checked.data)
      } else {
        // A group sum out of range concerns all of its rows, not one line.
        const raw = g.rows.map((r) => r.raw).join('\n')
        const reason = describeIssues(checked.error.issues)
        rejects.push({
          code: 'schema_violation',
          reason,
          row: null,
          raw,
          table: 'DISPATCH.UNIT_SCADA',
          file: file.name,
        })
      }
    }
  }

  rejects.sort((a, b) => (a.row ?? 0) - (b.row ?? 0) || compareText(a.code, b.code))
  return { events, reconciliation, rejects }
}

/** Sums one interval's readings: unmapped DUIDs aside, mapped ones by (region, fuel), loads as negative generation. */
function sumInterval(byDuid: Map<string, Reading[]>, duids: DuidMap, reject: Reject): IntervalSums {
  const sums: IntervalSums = {
    total: 0,
    mapped: 0,
    unmapped: 0,
    load: 0,
    unmappedDuids: [],
    groups: new Map(),
  }
  for (const [duid, readings] of byDuid) {
    const reading = single(duid, readings, reject)
    if (reading === null) continue
    const { watts } = reading
    sums.total += watts
    const info = duids.get(duid)
    if (info === undefined) {
      sums.unmappedDuids.push({ duid, value_mw: wattsToMegawatts(watts), value_w: watts })
      sums.unmapped += watts
      continue
    }
    sums.mapped += watts
    const isLoad = info.dispatch_type === 'load'
    if (isLoad) sums.load += watts
    const generation = isLoad && watts !== 0 ? -watts : watts
    const fuel: FuelType =
      info.fuel_type === 'battery_discharging' && generation < 0
        ? 'battery_charging'
        : info.fuel_type
    const key = `${info.region_id}|${fuel}`
    const group = sums.groups.get(key)
    if (group) {
      group.watts += generation
      group.units++
      group.rows.push(reading.row)
    } else {
      sums.groups.set(key, {
        region: info.region_id,
        fuel,
        watts: generation,
        units: 1,
        rows: [reading.row],
      })
    }
  }
  sums.unmappedDuids.sort((a, b) => compareText(a.duid, b.duid))
  return sums
}

const reconcile = (intervalEnd: string, sums: IntervalSums): ScadaReconciliation => ({
  interval_end: intervalEnd,
  total_mw: wattsToMegawatts(sums.total),
  mapped_mw: wattsToMegawatts(sums.mapped),
  unmapped_mw: wattsToMegawatts(sums.unmapped),
  load_mw: wattsToMegawatts(sums.load),
  total_w: sums.total,
  mapped_w: sums.mapped,
  unmapped_w: sums.unmapped,
  load_w: sums.load,
  unmapped_duids: sums.unmappedDuids,
})

/** The file's valid readings: interval end (epoch ms) → DUID → its rows (normally one). */
function readReadings(
  parsed: ParsedSourceFile,
  reject: Reject
): Map<number, Map<string, Reading[]>> {
  const intervalMs = createMarketTimeParser()
  const intervals = new Map<number, Map<string, Reading[]>>()
  for (const table of findTables(parsed.csv, 'DISPATCH', 'UNIT_SCADA')) {
    const [dateAt, duidAt, valueAt] = REQUIRED.map((c) => columnIndex(table, c)) as [
      number,
      number,
      number,
    ]
    const missing = REQUIRED.filter((c) => columnIndex(table, c) === -1)
    const noColumns = `${table.id} (I row at line ${table.headerLine}) lacks ${missing.join(', ')}`
    for (const row of table.rows) {
      if (missing.length > 0) {
        reject('missing_columns', noColumns, row, table.id)
        continue
      }
      const date = row.fields[dateAt]!
      const ms = intervalMs(date)
      if (ms === null) {
        reject(
          'invalid_settlement_date',
          `SETTLEMENTDATE ${JSON.stringify(date)} is not YYYY/MM/DD HH:mm:ss`,
          row,
          table.id
        )
        continue
      }
      const duid = row.fields[duidAt]!
      if (duid.length === 0) {
        reject('invalid_duid', 'empty DUID', row, table.id)
        continue
      }
      const text = row.fields[valueAt]!
      const watts = megawattsToWatts(text)
      if (watts === null) {
        reject(
          'non_numeric_value',
          `SCADAVALUE ${JSON.stringify(text)} is not a number`,
          row,
          table.id
        )
        continue
      }
      if (watts / 1e6 < MW.min || watts / 1e6 > MW.max) {
        reject(
          'out_of_range',
          `SCADAVALUE ${text} MW is outside the plausible range`,
          row,
          table.id
        )
        continue
      }
      let byDuid = intervals.get(ms)
      if (byDuid === undefined) {
        byDuid = new Map()
        intervals.set(ms, byDuid)
      }
      const readings = byDuid.get(duid)
      if (readings) readings.push({ watts, row, table: table.id })
      else byDuid.set(duid, [{ watts, row, table: table.id }])
    }
  }
  return intervals
}

/**
 * The one reading of a DUID in an interval. Exact repeats count once (the extra lines are
 * rejected as duplicates); different values cannot be ordered, so all of them are rejected and
 * the DUID's MW is left out of the totals rather than picked by row order.
 */
function single(duid: string, readings: Reading[], reject: Reject): Reading | null {
  if (readings.length === 1) return readings[0]!
  const sorted = [...readings].sort((a, b) => a.row.line - b.row.line)
  const first = sorted[0]!
  if (sorted.every((r) => r.watts === first.watts)) {
    const reason = `${duid} repeats line ${first.row.line} for the same SETTLEMENTDATE`
    for (const r of sorted.slice(1)) reject('duplicate_row', reason, r.row, r.table)
    return first
  }
  const reason = `${readings.length} different SCADAVALUEs for ${duid} in the same interval`
  for (const r of sorted) reject('conflicting_rows', reason, r.row, r.table)
  return null
}
