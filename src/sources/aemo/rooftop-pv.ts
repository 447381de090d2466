import {
  createEvent,
  describeIssues,
  type EventEnvelope,
  REGION_IDS,
  type RegionId,
  ROOFTOP_SUB_REGIONS,
  type RooftopEstimateType,
  type RooftopPvEvent,
  RooftopPvEventSchema,
  type RooftopSubRegionId,
} from '@/canonical'
import { toUtcIso } from '@/lib'
import type { SourceRejection } from '../rejection'
import { columnIndex, findTables, type MmsRow, type MmsTable } from './csv'
import { megawattsToWatts, parseDecimal, wattsToMegawatts } from './decimal'
import { AemoSourceError } from './errors'
import { createMarketTimeParser } from './market-time'
import {
  checkContext,
  compareText,
  envelopeFor,
  type NormalizeContext,
  type ParsedSourceFile,
  readSourceFile,
  type ReadOptions,
  type SourceFile,
} from './source-file'

/** The rooftop PV table GridPulse reads (`REPORT.SUB`): AEMO's `ROOFTOP_PV_ACTUAL`. */
export const ROOFTOP_PV_TABLES = ['ROOFTOP.ACTUAL'] as const

// QI and LASTCHANGED are metadata: a version without them gives null, not a rejection.
const REQUIRED = ['INTERVAL_DATETIME', 'REGIONID', 'POWER', 'TYPE'] as const
const HALF_HOUR_MS = 30 * 60 * 1000
const MAX_WATTS = RooftopPvEventSchema.shape.power_mw.maxValue! * 1e6
const ESTIMATE_TYPES: readonly string[] = RooftopPvEventSchema.shape.estimate_type.options

/** One usable row: a region's or sub-region's estimate of one type for one half hour. */
interface Estimate {
  readonly area: string
  readonly region: RegionId
  readonly subRegion: RooftopSubRegionId | null
  readonly type: RooftopEstimateType
  readonly ms: number
  readonly watts: number
  readonly qi: number | null
  readonly lastChanged: number | null
  readonly row: MmsRow
  readonly table: string
}

/** A region's rows of one type and half hour: its own, and its sub-regions'. */
interface Slot {
  readonly region: RegionId
  readonly type: RooftopEstimateType
  readonly ms: number
  own: Estimate | null
  readonly subs: Map<RooftopSubRegionId, Estimate>
}

type Reject = (code: string, reason: string, row: MmsRow, table: string) => void

/** Why a row cannot be used; becomes a `SourceRejection` carrying the row's line. */
class Problem {
  constructor(
    readonly code: string,
    readonly reason: string
  ) {}
}

/**
 * Normalises one `ROOFTOP.ACTUAL` file (a live NEMWeb `PUBLIC_ROOFTOP_PV_ACTUAL_*` zip, a weekly
 * Archive member, or the MMSDM month) into one `RooftopPvEvent` per (region, half hour, estimate
 * type). `INTERVAL_DATETIME` is the END of the half hour in NEM time (the MMSDM month runs from
 * `…/01 00:30:00` to the next month's `00:00:00`); `POWER` is AEMO's estimate for that half hour in
 * MW. Both TYPEs are kept: which one the generation mix uses is the projection's rule.
 *
 * Sub-regions (QLDC/QLDN/QLDS → QLD1, TASN/TASS → TAS1) are a breakdown of their region: when the
 * file has the region's own row, that row is the figure and the sub-regions ride along as detail;
 * only when the region's row is absent is the figure the sum of ALL its sub-regions (an incomplete
 * set is rejected rather than undercounted). A region is never its own row plus its sub-regions.
 * @throws AemoSourceError for a truncated or corrupt file (nothing is ingested) or a bad context.
 */
export function normalizeRooftopPv(
  file: SourceFile,
  ctx: NormalizeContext,
  options: ReadOptions = {}
): { events: RooftopPvEvent[]; rejects: SourceRejection[] } {
  checkContext(ctx)
  const parsed = readSourceFile(file, ROOFTOP_PV_TABLES, options)
  if (findTables(parsed.csv, 'ROOFTOP', 'ACTUAL').length === 0)
    throw new AemoSourceError('table_missing', `no ROOFTOP.ACTUAL table in ${file.name}`)
  const rejects: SourceRejection[] = parsed.csv.rejects.map((r) => ({ ...r, file: file.name }))
  const reject: Reject = (code, reason, row, table) =>
    rejects.push({ code, reason, row: row.line, raw: row.raw, table, file: file.name })

  const envelope = envelopeFor('aemo.rooftop_pv', file, ctx)
  const events: RooftopPvEvent[] = []
  for (const slot of slotsOf(readEstimates(parsed, reject), reject)) {
    const event = eventFor(slot, envelope, reject)
    if (event) events.push(event)
  }
  events.sort(
    (a, b) =>
      compareText(a.interval_end, b.interval_end) ||
      compareText(a.region_id, b.region_id) ||
      compareText(a.estimate_type, b.estimate_type)
  )
  rejects.sort((a, b) => (a.row ?? 0) - (b.row ?? 0) || compareText(a.code, b.code))
  return { events, rejects }
}

/** Every usable row of every version of the table, keyed by half hour, type and area. */
function readEstimates(parsed: ParsedSourceFile, reject: Reject): Map<string, Estimate[]> {
  const time = createMarketTimeParser()
  const estimates = new Map<string, Estimate[]>()
  for (const table of findTables(parsed.csv, 'ROOFTOP', 'ACTUAL')) {
    const missing = REQUIRED.filter((c) => columnIndex(table, c) === -1)
    for (const row of table.rows) {
      if (missing.length > 0) {
        reject('missing_columns', `${table.id} lacks ${missing.join(', ')}`, row, table.id)
        continue
      }
      const read = readRow(table, row, time)
      if (read instanceof Problem) {
        reject(read.code, read.reason, row, table.id)
        continue
      }
      const key = `${read.ms}|${read.type}|${read.area}`
      const list = estimates.get(key)
      if (list) list.push(read)
      else estimates.set(key, [read])
    }
  }
  return estimates
}

/** One D row → an estimate, or why it cannot be used. */
function readRow(
  table: MmsTable,
  row: MmsRow,
  time: (text: string) => number | null
): Estimate | Problem {
  const field = (name: string) => {
    const at = columnIndex(table, name)
    return at === -1 ? undefined : (row.fields[at] ?? '')
  }
  const date = field('INTERVAL_DATETIME')!
  const ms = time(date)
  if (ms === null || ms % HALF_HOUR_MS !== 0)
    return new Problem(
      'invalid_interval',
      `INTERVAL_DATETIME ${JSON.stringify(date)} is not a half-hour end (YYYY/MM/DD HH:00|30:00)`
    )
  const area = field('REGIONID')!
  const place = areaOf(area)
  if (!place)
    return new Problem(
      'unknown_region',
      `REGIONID ${JSON.stringify(area)} is not a NEM region or rooftop sub-region`
    )
  const type = field('TYPE')!
  if (!ESTIMATE_TYPES.includes(type))
    return new Problem(
      'unknown_estimate_type',
      `TYPE ${JSON.stringify(type)} is not MEASUREMENT or SATELLITE`
    )
  const watts = readPower(field('POWER')!)
  if (watts instanceof Problem) return watts
  const qi = readQi(field('QI'))
  if (qi instanceof Problem) return qi
  const changed = field('LASTCHANGED')
  const lastChanged = changed ? time(changed) : null
  if (changed && lastChanged === null)
    return new Problem(
      'invalid_last_changed',
      `LASTCHANGED ${JSON.stringify(changed)} is not YYYY/MM/DD HH:mm:ss`
    )
  return {
    area,
    ...place,
    type: type as RooftopEstimateType,
    ms,
    watts,
    qi,
    lastChanged,
    row,
    table: table.id,
  }
}

const areaOf = (area: string): { region: RegionId; subRegion: RooftopSubRegionId | null } | null =>
  (REGION_IDS as readonly string[]).includes(area)
    ? { region: area as RegionId, subRegion: null }
    : Object.hasOwn(ROOFTOP_SUB_REGIONS, area)
      ? {
          region: ROOFTOP_SUB_REGIONS[area as RooftopSubRegionId],
          subRegion: area as RooftopSubRegionId,
        }
      : null

/** POWER in integer watts (exact sums of sub-regions), or why it is unusable. */
function readPower(text: string): number | Problem {
  if (text === '') return new Problem('missing_value', 'POWER is empty')
  const watts = megawattsToWatts(text)
  if (watts === null)
    return new Problem('non_numeric_value', `POWER ${JSON.stringify(text)} is not a number`)
  if (watts < 0 || watts > MAX_WATTS)
    return new Problem('out_of_range', `POWER ${text} MW is outside 0–${MAX_WATTS / 1e6} MW`)
  return watts
}

function readQi(text: string | undefined): number | null | Problem {
  if (text === undefined || text === '') return null
  const qi = parseDecimal(text)
  if (qi === null)
    return new Problem('non_numeric_value', `QI ${JSON.stringify(text)} is not a number`)
  if (qi < 0 || qi > 1) return new Problem('out_of_range', `QI ${text} is outside 0–1`)
  return qi
}

/**
 * The one row of an area, type and half hour. Exact repeats count once (the extra lines are
 * rejected as duplicates); rows that disagree cannot be ordered, so all are rejected.
 */
function single(rows: Estimate[], reject: Reject): Estimate | null {
  const sorted = [...rows].sort((a, b) => a.row.line - b.row.line)
  const first = sorted[0]!
  if (sorted.length === 1) return first
  const what = `${first.area} ${first.type} at ${toUtcIso(first.ms)}`
  if (sorted.every((r) => r.watts === first.watts && r.qi === first.qi)) {
    for (const r of sorted.slice(1))
      reject('duplicate_row', `${what} repeats line ${first.row.line}`, r.row, r.table)
    return first
  }
  const reason = `${sorted.length} different estimates for ${what}`
  for (const r of sorted) reject('conflicting_rows', reason, r.row, r.table)
  return null
}

/** The rows grouped by region, type and half hour. */
function slotsOf(estimates: Map<string, Estimate[]>, reject: Reject): Slot[] {
  const slots = new Map<string, Slot>()
  for (const rows of estimates.values()) {
    const e = single(rows, reject)
    if (e === null) continue
    const key = `${e.ms}|${e.type}|${e.region}`
    let slot = slots.get(key)
    if (!slot) {
      slot = { region: e.region, type: e.type, ms: e.ms, own: null, subs: new Map() }
      slots.set(key, slot)
    }
    if (e.subRegion) slot.subs.set(e.subRegion, e)
    else slot.own = e
  }
  return [...slots.values()]
}

const subRegionsOf = (region: RegionId) =>
  (Object.keys(ROOFTOP_SUB_REGIONS) as RooftopSubRegionId[]).filter(
    (s) => ROOFTOP_SUB_REGIONS[s] === region
  )

/** The region's event: its own row, else the sum of all its sub-regions; null when neither. */
function eventFor(slot: Slot, envelope: EventEnvelope, reject: Reject): RooftopPvEvent | null {
  const subs = [...slot.subs.values()].sort((a, b) => compareText(a.area, b.area))
  const expected = subRegionsOf(slot.region)
  if (!slot.own && subs.length < expected.length) {
    const reason = `${slot.region} has no row of its own and only ${subs.map((s) => s.area).join(', ')} of its sub-regions ${expected.join(', ')}: its total would be short`
    for (const s of subs) reject('incomplete_sub_regions', reason, s.row, s.table)
    return null
  }
  const figure = slot.own
    ? { watts: slot.own.watts, qi: slot.own.qi, lastChanged: slot.own.lastChanged }
    : {
        watts: subs.reduce((sum, s) => sum + s.watts, 0),
        // The sum is only as good as its weakest part.
        qi: subs.some((s) => s.qi === null) ? null : Math.min(...subs.map((s) => s.qi!)),
        lastChanged: subs.some((s) => s.lastChanged === null)
          ? null
          : Math.max(...subs.map((s) => s.lastChanged!)),
      }
  // A region's own row is the event's row; a sum of sub-regions has none.
  const row = slot.own ? { source_row: slot.own.row.line } : {}
  const event = createEvent(
    'RooftopPvEvent',
    { ...envelope, ...row },
    {
      region_id: slot.region,
      interval_end: toUtcIso(slot.ms),
      estimate_type: slot.type,
      power_mw: wattsToMegawatts(figure.watts),
      quality_indicator: figure.qi,
      basis: slot.own ? 'region' : 'sub_regions',
      sub_regions: subs.map((s) => ({
        sub_region_id: s.subRegion!,
        power_mw: wattsToMegawatts(s.watts),
        quality_indicator: s.qi,
      })),
      last_changed: figure.lastChanged === null ? null : toUtcIso(figure.lastChanged),
    }
  )
  const checked = RooftopPvEventSchema.safeParse(event)
  if (checked.success) return checked.data
  const rows = [slot.own, ...subs].filter((e): e is Estimate => e !== null)
  for (const r of rows)
    reject('schema_violation', describeIssues(checked.error.issues), r.row, r.table)
  return null
}
