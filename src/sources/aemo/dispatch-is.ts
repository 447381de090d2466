import { z } from 'zod'
import {
  createEvent,
  describeIssues,
  type EventBody,
  REGION_IDS,
  type RegionId,
  type RegionPriceEvent,
  RegionPriceEventSchema,
} from '@/canonical'
import { toUtcIso } from '@/lib'
import type { SourceRejection } from '../rejection'
import { columnIndex, findTables, type MmsRow, type MmsTable } from './csv'
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
type DispatchIsTable = (typeof DISPATCH_IS_TABLES)[number]

export interface NormalizeResult<E> {
  readonly events: E[]
  readonly rejects: SourceRejection[]
}

/** Why a row was not usable; becomes a `SourceRejection` carrying the row's line. */
class Problem {
  constructor(
    readonly code: string,
    readonly reason: string
  ) {}
}

type RegionPriceBody = EventBody<'RegionPriceEvent'>
/** The event fields a table fills: all but the (region, interval) key and the intervention flag. */
type ValueField = Exclude<keyof RegionPriceBody, 'region_id' | 'interval_end' | 'intervention'>
type FieldValue = number | null

/** How one MMS column becomes one event field. */
interface ColumnReader {
  /** AEMO's column name, looked up by name in every version of the table. */
  readonly column: string
  readonly field: ValueField
  /** The field's value from the column's text, or why the row cannot be used. */
  readonly read: (text: string) => FieldValue | Problem
}

/**
 * A numeric column. The bounds and whether an empty field (MMS writes NULL as an empty field) is
 * accepted come from the event schema, so the row-level check, which can name the column, agrees
 * with the final validation.
 */
function numeric(column: string, field: ValueField, unit: string): ColumnReader {
  const schema = RegionPriceEventSchema.shape[field]
  const nullable = schema instanceof z.ZodNullable
  const { min, max } = boundsOf(nullable ? schema.unwrap() : schema)
  return {
    column,
    field,
    read: (text) => {
      if (nullable && text === '') return null
      const v = parseDecimal(text)
      if (v === null)
        return new Problem('non_numeric_value', `${column} ${JSON.stringify(text)} is not a number`)
      if (v < min || v > max)
        return new Problem('out_of_range', `${column} ${v} ${unit} is outside the plausible range`)
      return v
    },
  }
}

/**
 * Per table, the columns read into event fields, in the event's field order. A table's rows are
 * keyed by (SETTLEMENTDATE, REGIONID, INTERVENTION); PRICE rows make the events (priced by the
 * pricing run) and every other table is joined onto them (from the dispatched run): see
 * `normalizeDispatchIsFiles`.
 */
const TABLE_COLUMNS: { readonly [T in DispatchIsTable]: readonly ColumnReader[] } = {
  'DISPATCH.PRICE': [numeric('RRP', 'rrp_aud_mwh', 'AUD/MWh')],
  'DISPATCH.REGIONSUM': [
    numeric('TOTALDEMAND', 'total_demand_mw', 'MW'),
    numeric('AVAILABLEGENERATION', 'available_generation_mw', 'MW'),
    numeric('NETINTERCHANGE', 'net_interchange_mw', 'MW'),
  ],
}
const PRICE_TABLE = 'DISPATCH.PRICE' satisfies DispatchIsTable
const JOINED_TABLES = DISPATCH_IS_TABLES.filter((t) => t !== PRICE_TABLE)

const KEY_COLUMNS = ['SETTLEMENTDATE', 'REGIONID', 'INTERVENTION'] as const
const REGION_INDEX: ReadonlyMap<string, number> = new Map(REGION_IDS.map((r, i) => [r, i]))

/** A row's values, one per column of its table's `TABLE_COLUMNS`. */
type Values = readonly FieldValue[]

/** One row for a (interval, region, run); `file` indexes the input files. */
interface Candidate {
  readonly value: Values
  readonly row: MmsRow
  readonly file: number
  readonly table: string
}

/** The rows of one (interval, region), per INTERVENTION run: `runs[0]` pricing run, `runs[1]` intervention run. */
interface Slot {
  readonly intervalMs: number
  readonly region: RegionId
  readonly runs: readonly [Candidate[], Candidate[]]
}

/**
 * SETTLEMENTDATE has whole seconds, so epoch ms + region index (0..4) is a unique numeric key for
 * (interval, region): cheaper to hash than a concatenated string on the per-row path.
 */
type SlotKey = number

/** Per-call state shared by the table readers and the join. */
interface Reader {
  readonly files: readonly ParsedSourceFile[]
  readonly reject: (file: number, r: Omit<SourceRejection, 'file'>) => void
  readonly intervalMs: (settlementDate: string) => number | null
  /** Intervals with an INTERVENTION=1 row in any table. */
  readonly interventions: Set<number>
}

/** Every row of every version of table `name` in the files, in slots; bad rows are rejected. */
function readSlots(
  reader: Reader,
  name: DispatchIsTable,
  keysSeen?: Set<SlotKey>
): Map<SlotKey, Slot> {
  const columns = TABLE_COLUMNS[name]
  const required = [...KEY_COLUMNS, ...columns.map((c) => c.column)]
  const slots = new Map<SlotKey, Slot>()
  const add = (f: number, table: MmsTable, row: MmsRow, at: readonly number[]) => {
    const key = readRowKey(reader, row, at)
    if (key instanceof Problem) return key
    keysSeen?.add(key.key)
    const value = readValues(columns, row, at)
    if (value instanceof Problem) return value
    let slot = slots.get(key.key)
    if (slot === undefined) {
      slot = { intervalMs: key.ms, region: key.region, runs: [[], []] }
      slots.set(key.key, slot)
    }
    slot.runs[key.run].push({ value, row, file: f, table: table.id })
    return undefined
  }
  const [report = '', sub = ''] = name.split('.')
  reader.files.forEach((file, f) => {
    for (const table of findTables(file.csv, report, sub)) {
      const at = required.map((c) => columnIndex(table, c))
      const missing = required.filter((_, i) => at[i] === -1)
      const header = `${table.id} (I row at line ${table.headerLine})`
      const noColumns =
        missing.length > 0
          ? new Problem('missing_columns', `${header} lacks ${missing.join(', ')}`)
          : undefined
      for (const row of table.rows) {
        const problem = noColumns ?? add(f, table, row, at)
        if (problem === undefined) continue
        const { code, reason } = problem
        reader.reject(f, { code, reason, row: row.line, raw: row.raw, table: table.id })
      }
    }
  })
  return slots
}

interface RowKey {
  readonly key: SlotKey
  readonly ms: number
  readonly region: RegionId
  readonly run: 0 | 1
}

/** A row's (interval, region, run) from the `KEY_COLUMNS` at `at[0..2]`; notes intervention intervals. */
function readRowKey(reader: Reader, row: MmsRow, at: readonly number[]): RowKey | Problem {
  const date = row.fields[at[0]!]!
  const ms = reader.intervalMs(date)
  if (ms === null) {
    const reason = `SETTLEMENTDATE ${JSON.stringify(date)} is not YYYY/MM/DD HH:mm:ss`
    return new Problem('invalid_settlement_date', reason)
  }
  const runText = row.fields[at[2]!]
  if (runText !== '0' && runText !== '1') {
    const reason = `INTERVENTION must be 0 or 1, got ${JSON.stringify(runText)}`
    return new Problem('invalid_intervention', reason)
  }
  const run = runText === '1' ? 1 : 0
  if (run === 1) reader.interventions.add(ms)
  const region = row.fields[at[1]!]!
  const regionIndex = REGION_INDEX.get(region)
  if (regionIndex === undefined) {
    const reason = `REGIONID ${JSON.stringify(region)} is not a NEM region (${REGION_IDS.join(', ')})`
    return new Problem('unknown_region', reason)
  }
  return { key: ms + regionIndex, ms, region: region as RegionId, run }
}

/** The row's value columns (after the key columns in `at`), or the first column's problem. */
function readValues(
  columns: readonly ColumnReader[],
  row: MmsRow,
  at: readonly number[]
): Values | Problem {
  const values: FieldValue[] = []
  for (let i = 0; i < columns.length; i++) {
    const v = columns[i]!.read(row.fields[at[KEY_COLUMNS.length + i]!]!)
    if (v instanceof Problem) return v
    values.push(v)
  }
  return values
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

  // Keys that had any PRICE row, valid or not: a row of a joined table is only reported as
  // orphaned when its price row is truly absent, not when that row was itself rejected.
  const priceKeys = new Set<SlotKey>()
  const prices = readSlots(reader, PRICE_TABLE, priceKeys)
  const joined = JOINED_TABLES.map((table) => ({ table, slots: readSlots(reader, table) }))
  const events = joinPrices(reader, ctx, prices, joined)

  const orphan = `no ${PRICE_TABLE} row for this SETTLEMENTDATE and REGIONID, so no event can carry it`
  for (const { slots } of joined) {
    for (const [key, slot] of slots) {
      if (priceKeys.has(key)) continue
      for (const c of dispatchedRun(slot)) rejectCandidate(reader, c, 'price_row_missing', orphan)
    }
  }

  events.sort(
    (a, b) => compareText(a.interval_end, b.interval_end) || compareText(a.region_id, b.region_id)
  )
  return { events, rejects: sortRejects(rejects, files) }
}

/** One event per (interval, region) of the PRICE slots, with the joined tables' fields. */
function joinPrices(
  reader: Reader,
  ctx: NormalizeContext,
  prices: Map<SlotKey, Slot>,
  joined: readonly { table: DispatchIsTable; slots: Map<SlotKey, Slot> }[]
): RegionPriceEvent[] {
  const envelopes = reader.files.map((file) => envelopeFor('aemo.dispatchis', file, ctx))
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
      for (const c of interventionRun) rejectCandidate(reader, c, 'pricing_run_missing', reason)
      continue
    }
    const price = settle(reader, pricingRun)
    if (price === null) continue
    const fields: Partial<Record<ValueField, FieldValue>> = {}
    assignFields(fields, PRICE_TABLE, price.value)
    // Physical quantities describe what the grid actually did, which is the dispatched run: the
    // INTERVENTION=1 run whenever one exists (its targets are what units were told to do, and
    // interconnector flows and NETINTERCHANGE follow them), else the only run. In the January 2020
    // fixture TOTALDEMAND and AVAILABLEGENERATION are equal in both runs (demand is an input), while
    // SA1 NETINTERCHANGE is 94.58 MW in the pricing run and 43.93 MW in the intervention run.
    // If the chosen run's rows conflict, the fields are null (with rejects), never the other run's.
    for (const { table, slots } of joined) {
      const joinedSlot = slots.get(key)
      const chosen = joinedSlot ? settle(reader, dispatchedRun(joinedSlot)) : null
      assignFields(fields, table, chosen?.value ?? null)
    }
    let intervalEnd = isoTimes.get(slot.intervalMs)
    if (intervalEnd === undefined) {
      intervalEnd = toUtcIso(slot.intervalMs)
      isoTimes.set(slot.intervalMs, intervalEnd)
    }
    const event = createEvent('RegionPriceEvent', envelopes[price.file]!, {
      region_id: slot.region,
      interval_end: intervalEnd,
      // Every value field belongs to one table's columns; a gap would fail the schema check below.
      ...(fields as Pick<RegionPriceBody, ValueField>),
      intervention: reader.interventions.has(slot.intervalMs),
    })
    const checked = RegionPriceEventSchema.safeParse(event)
    if (checked.success) {
      events.push(checked.data)
    } else {
      rejectCandidate(reader, price, 'schema_violation', describeIssues(checked.error.issues))
    }
  }
  return events
}

/** The table's fields from a row's values, or all null when the table had no usable row. */
function assignFields(
  fields: Partial<Record<ValueField, FieldValue>>,
  table: DispatchIsTable,
  values: Values | null
): void {
  const columns = TABLE_COLUMNS[table]
  for (let i = 0; i < columns.length; i++) fields[columns[i]!.field] = values ? values[i]! : null
}

const rejectCandidate = (reader: Reader, c: Candidate, code: string, reason: string) =>
  reader.reject(c.file, { code, reason, row: c.row.line, raw: c.row.raw, table: c.table })

/**
 * The one value of a run's rows. Repeats of the same values (a file given twice) are harmless;
 * different values for the same interval, region and run cannot be ordered, so all of them
 * are rejected rather than letting row order pick a winner.
 */
function settle(reader: Reader, candidates: Candidate[]): Candidate | null {
  if (candidates.length <= 1) return candidates[0] ?? null
  const first = candidates.reduce((a, b) =>
    b.file < a.file || (b.file === a.file && b.row.line < a.row.line) ? b : a
  )
  if (candidates.every((c) => c.value.every((v, i) => v === first.value[i]))) return first
  const reason = `${candidates.length} rows with different values for the same SETTLEMENTDATE, REGIONID and INTERVENTION`
  for (const c of candidates) rejectCandidate(reader, c, 'conflicting_rows', reason)
  return null
}

/** The run that was dispatched: the intervention run when there is one, else the only run. */
const dispatchedRun = (slot: Slot): Candidate[] =>
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
