import {
  createEvent,
  describeIssues,
  REGION_IDS,
  type RegionId,
  type RegionPriceEvent,
  RegionPriceEventSchema,
} from '@/canonical'
import { toUtcIso } from '@/lib'
import type { SourceRejection } from '../rejection'
import { columnIndex, findTables, type MmsRow } from './csv'
import { parseDecimal } from './decimal'
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

/** The DispatchIS tables GridPulse reads (`REPORT.SUB`); pass to `readSourceFile` for archive extracts. */
export const DISPATCH_IS_TABLES = ['DISPATCH.PRICE', 'DISPATCH.REGIONSUM'] as const

export interface NormalizeResult<E> {
  readonly events: E[]
  readonly rejects: SourceRejection[]
}

const KEY_COLUMNS = ['SETTLEMENTDATE', 'REGIONID', 'INTERVENTION'] as const
const PRICE_COLUMNS = [...KEY_COLUMNS, 'RRP'] as const
const PHYSICAL_COLUMNS = ['TOTALDEMAND', 'AVAILABLEGENERATION', 'NETINTERCHANGE'] as const
const REGIONSUM_COLUMNS = [...KEY_COLUMNS, ...PHYSICAL_COLUMNS] as const

const REGION_INDEX: ReadonlyMap<string, number> = new Map(REGION_IDS.map((r, i) => [r, i]))
const RRP = boundsOf(RegionPriceEventSchema.shape.rrp_aud_mwh)
const MW = boundsOf(RegionPriceEventSchema.shape.total_demand_mw.unwrap())

/** One row for a (interval, region, run); `file` indexes the input files. */
interface Candidate<V> {
  readonly value: V
  readonly row: MmsRow
  readonly file: number
  readonly table: string
}

type Physical = readonly [
  total_demand_mw: number | null,
  available_generation_mw: number | null,
  net_interchange_mw: number | null,
]

/** The rows of one (interval, region), per INTERVENTION run: `runs[0]` pricing run, `runs[1]` intervention run. */
interface Slot<V> {
  readonly intervalMs: number
  readonly region: RegionId
  readonly runs: readonly [Candidate<V>[], Candidate<V>[]]
}

/**
 * SETTLEMENTDATE has whole seconds, so epoch ms + region index (0..4) is a unique numeric key for
 * (interval, region): cheaper to hash than a concatenated string on the per-row path.
 */
type SlotKey = number

/** Why a row was not usable; becomes a `SourceRejection` carrying the row's line. */
class Problem {
  constructor(
    readonly code: string,
    readonly reason: string
  ) {}
}

/** Per-call state shared by the two table readers. */
interface Reader {
  readonly files: readonly ParsedSourceFile[]
  readonly reject: (file: number, r: Omit<SourceRejection, 'file'>) => void
  readonly intervalMs: (settlementDate: string) => number | null
  /** Intervals with an INTERVENTION=1 row in either table. */
  readonly interventions: Set<number>
}

function readSlots<V>(
  reader: Reader,
  sub: 'PRICE' | 'REGIONSUM',
  required: readonly string[],
  valueOf: (row: MmsRow, at: readonly number[]) => V | Problem,
  keysSeen?: Set<SlotKey>
): Map<SlotKey, Slot<V>> {
  const slots = new Map<SlotKey, Slot<V>>()
  reader.files.forEach((file, f) => {
    for (const table of findTables(file.csv, 'DISPATCH', sub)) {
      const at = required.map((c) => columnIndex(table, c))
      const missing = required.filter((_, i) => at[i] === -1)
      const [dateAt, regionAt, runAt] = at as [number, number, number]

      const readRow = (row: MmsRow): Problem | undefined => {
        if (missing.length > 0) {
          const header = `${table.id} (I row at line ${table.headerLine})`
          return new Problem('missing_columns', `${header} lacks ${missing.join(', ')}`)
        }
        const date = row.fields[dateAt]!
        const ms = reader.intervalMs(date)
        if (ms === null) {
          const reason = `SETTLEMENTDATE ${JSON.stringify(date)} is not YYYY/MM/DD HH:mm:ss`
          return new Problem('invalid_settlement_date', reason)
        }
        const runText = row.fields[runAt]
        if (runText !== '0' && runText !== '1') {
          const reason = `INTERVENTION must be 0 or 1, got ${JSON.stringify(runText)}`
          return new Problem('invalid_intervention', reason)
        }
        const run = runText === '1' ? 1 : 0
        if (run === 1) reader.interventions.add(ms)
        const region = row.fields[regionAt]!
        const regionIndex = REGION_INDEX.get(region)
        if (regionIndex === undefined) {
          const reason = `REGIONID ${JSON.stringify(region)} is not a NEM region (${REGION_IDS.join(', ')})`
          return new Problem('unknown_region', reason)
        }
        const key: SlotKey = ms + regionIndex
        keysSeen?.add(key)
        const value = valueOf(row, at)
        if (value instanceof Problem) return value
        let slot = slots.get(key)
        if (slot === undefined) {
          slot = { intervalMs: ms, region: region as RegionId, runs: [[], []] }
          slots.set(key, slot)
        }
        slot.runs[run].push({ value, row, file: f, table: table.id })
        return undefined
      }

      for (const row of table.rows) {
        const problem = readRow(row)
        if (problem === undefined) continue
        const { code, reason } = problem
        reader.reject(f, { code, reason, row: row.line, raw: row.raw, table: table.id })
      }
    }
  })
  return slots
}

function priceOf(row: MmsRow, at: readonly number[]): number | Problem {
  const text = row.fields[at[3]!]!
  const rrp = parseDecimal(text)
  if (rrp === null)
    return new Problem('non_numeric_value', `RRP ${JSON.stringify(text)} is not a number`)
  if (rrp < RRP.min || rrp > RRP.max)
    return new Problem('out_of_range', `RRP ${rrp} AUD/MWh is outside the plausible range`)
  return rrp
}

function physicalOf(row: MmsRow, at: readonly number[]): Physical | Problem {
  const values: (number | null)[] = []
  for (let i = 0; i < PHYSICAL_COLUMNS.length; i++) {
    const text = row.fields[at[KEY_COLUMNS.length + i]!]!
    // MMS writes NULL as an empty field; the canonical fields are nullable.
    const v = text === '' ? null : parseDecimal(text)
    if (v === null && text !== '')
      return new Problem(
        'non_numeric_value',
        `${PHYSICAL_COLUMNS[i]} ${JSON.stringify(text)} is not a number`
      )
    if (v !== null && (v < MW.min || v > MW.max))
      return new Problem(
        'out_of_range',
        `${PHYSICAL_COLUMNS[i]} ${v} MW is outside the plausible range`
      )
    values.push(v)
  }
  return values as unknown as Physical
}

/**
 * Normalises one DispatchIS file (the NEMWeb zip or its CSV) into one `RegionPriceEvent` per
 * region and interval, from `DISPATCH.PRICE` joined with `DISPATCH.REGIONSUM`. A file with PRICE
 * only yields events whose demand fields are null. Bad rows become `rejects`; the rest is ingested.
 * @throws AemoSourceError for a truncated or corrupt file (nothing is ingested) or a bad context.
 */
export function normalizeDispatchIs(
  file: SourceFile,
  ctx: NormalizeContext,
  options: ReadOptions = {}
): NormalizeResult<RegionPriceEvent> {
  checkContext(ctx)
  return normalizeDispatchIsFiles([readSourceFile(file, DISPATCH_IS_TABLES, options)], ctx)
}

/**
 * The join over tables read from one or several files: MMSDM archives ship PRICE and REGIONSUM as
 * separate monthly files. An event's `source_file`/`source_sha256` are those of the file its price
 * row came from. The result does not depend on row order (events sorted by interval, region).
 */
export function normalizeDispatchIsFiles(
  files: readonly ParsedSourceFile[],
  ctx: NormalizeContext
): NormalizeResult<RegionPriceEvent> {
  checkContext(ctx)
  const tables = DISPATCH_IS_TABLES.map((t) => t.split('.') as [string, string])
  if (
    !files.some((f) => tables.some(([report, sub]) => findTables(f.csv, report, sub).length > 0))
  ) {
    const names = files.map((f) => f.name).join(', ')
    throw new AemoSourceError(
      'table_missing',
      `no ${DISPATCH_IS_TABLES.join(' or ')} table in ${names}`
    )
  }
  const rejects: SourceRejection[] = []
  const reader: Reader = {
    files,
    reject: (file, r) => rejects.push({ ...r, file: files[file]!.name }),
    intervalMs: createMarketTimeParser(),
    // AEMO's intervention run is a whole-NEM NEMDE run: an interval has one for every region or none.
    interventions: new Set(),
  }
  // The files were parsed with only the DispatchIS tables kept, so every CSV-level reject
  // (orphan D rows, column count mismatches, unknown record types) concerns data we would ingest.
  files.forEach((file, f) => {
    for (const r of file.csv.rejects) reader.reject(f, r)
  })

  // Keys that had any PRICE row, valid or not: a REGIONSUM row is only reported as orphaned when
  // its price row is truly absent, not when that row was itself rejected.
  const priceKeys = new Set<SlotKey>()
  const prices = readSlots(reader, 'PRICE', PRICE_COLUMNS, priceOf, priceKeys)
  const physicals = readSlots(reader, 'REGIONSUM', REGIONSUM_COLUMNS, physicalOf)

  const rejectCandidate = (c: Candidate<unknown>, code: string, reason: string) =>
    reader.reject(c.file, { code, reason, row: c.row.line, raw: c.row.raw, table: c.table })

  /**
   * The one value of a run's rows. Repeats of the same values (a file given twice) are harmless;
   * different values for the same interval, region and run cannot be ordered, so all of them
   * are rejected rather than letting row order pick a winner.
   */
  function settle<V>(
    candidates: Candidate<V>[],
    same: (a: V, b: V) => boolean
  ): Candidate<V> | null {
    if (candidates.length <= 1) return candidates[0] ?? null
    const first = candidates.reduce((a, b) =>
      b.file < a.file || (b.file === a.file && b.row.line < a.row.line) ? b : a
    )
    if (candidates.every((c) => same(c.value, first.value))) return first
    const reason = `${candidates.length} rows with different values for the same SETTLEMENTDATE, REGIONID and INTERVENTION`
    for (const c of candidates) rejectCandidate(c, 'conflicting_rows', reason)
    return null
  }
  const samePhysical = (a: Physical, b: Physical) => a[0] === b[0] && a[1] === b[1] && a[2] === b[2]

  const envelopes = files.map((file) => envelopeFor('aemo.dispatchis', file, ctx))
  const isoTimes = new Map<number, string>()
  const events: RegionPriceEvent[] = []
  for (const [key, slot] of prices) {
    const [pricingRun, interventionRun] = slot.runs
    // Intervention pricing (NER 3.9.3; AEMO "Guide to Intervention Pricing"): when AEMO intervenes
    // (directions, RERT, instructions) NEMDE solves each interval twice. The INTERVENTION=1 run
    // includes the intervention and is the one dispatched; the INTERVENTION=0 "pricing run" solves
    // as if there had been no intervention, and it sets the settlement price. So the price is
    // always the INTERVENTION=0 RRP.
    if (pricingRun.length === 0) {
      const reason =
        'INTERVENTION=1 price without the INTERVENTION=0 (pricing run) row that sets it'
      for (const c of interventionRun) rejectCandidate(c, 'pricing_run_missing', reason)
      continue
    }
    const price = settle(pricingRun, (a, b) => a === b)
    if (price === null) continue
    // Physical quantities describe what the grid actually did, which is the dispatched run: the
    // INTERVENTION=1 run whenever one exists (its targets are what units were told to do, and
    // interconnector flows and NETINTERCHANGE follow them), else the only run. In the January 2020
    // fixture TOTALDEMAND and AVAILABLEGENERATION are equal in both runs (demand is an input), while
    // SA1 NETINTERCHANGE is 94.58 MW in the pricing run and 43.93 MW in the intervention run.
    // If the chosen run's rows conflict, the fields are null (with rejects), never the other run's.
    const physicalSlot = physicals.get(key)
    const physical = physicalSlot ? settle(dispatchedRun(physicalSlot), samePhysical)?.value : null
    let intervalEnd = isoTimes.get(slot.intervalMs)
    if (intervalEnd === undefined) {
      intervalEnd = toUtcIso(slot.intervalMs)
      isoTimes.set(slot.intervalMs, intervalEnd)
    }
    const envelope = envelopes[price.file]!
    const event = createEvent('RegionPriceEvent', envelope, {
      region_id: slot.region,
      interval_end: intervalEnd,
      rrp_aud_mwh: price.value,
      total_demand_mw: physical ? physical[0] : null,
      available_generation_mw: physical ? physical[1] : null,
      net_interchange_mw: physical ? physical[2] : null,
      intervention: reader.interventions.has(slot.intervalMs),
    })
    const checked = RegionPriceEventSchema.safeParse(event)
    if (checked.success) {
      events.push(checked.data)
    } else {
      rejectCandidate(price, 'schema_violation', describeIssues(checked.error.issues))
    }
  }

  const orphan =
    'no DISPATCH.PRICE row for this SETTLEMENTDATE and REGIONID, so no event can carry it'
  for (const [key, slot] of physicals) {
    if (priceKeys.has(key)) continue
    for (const c of dispatchedRun(slot)) rejectCandidate(c, 'price_row_missing', orphan)
  }

  events.sort(
    (a, b) => compareText(a.interval_end, b.interval_end) || compareText(a.region_id, b.region_id)
  )
  return { events, rejects: sortRejects(rejects, files) }
}

/** The run that was dispatched: the intervention run when there is one, else the only run. */
const dispatchedRun = <V>(slot: Slot<V>): Candidate<V>[] =>
  slot.runs[1].length > 0 ? slot.runs[1] : slot.runs[0]

/** Rejects in file order, then line order, so the output does not depend on processing order. */
function sortRejects(
  rejects: SourceRejection[],
  files: readonly { name: string }[]
): SourceRejection[] {
  const order = new Map(files.map((f, i) => [f.name, i]))
  const fileOf = (r: SourceRejection) => order.get(r.file ?? '') ?? -1
  return rejects.sort(
    (a, b) => fileOf(a) - fileOf(b) || (a.row ?? 0) - (b.row ?? 0) || compareText(a.code, b.code)
  )
}
