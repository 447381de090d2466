import { z } from 'zod'
import {
  createEvent,
  describeIssues,
  type EventBody,
  type EventEnvelope,
  type EventTopic,
  FCAS_SERVICES,
  type FcasService,
  REGION_IDS,
  type RegionFcasPriceEvent,
  RegionFcasPriceEventSchema,
  type RegionId,
  type RegionPriceEvent,
  RegionPriceEventSchema,
  TOPICS,
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
type FieldValue = number | string | null

/** How one MMS column becomes one value. */
interface ColumnReader<F extends string = string> {
  /** AEMO's column name, looked up by name in every version of the table. */
  readonly column: string
  readonly field: F
  /**
   * A column that only newer versions of the table have: in a version without it the value is
   * null (absent, not zero) and the row is still read.
   */
  readonly optional: boolean
  /** The value from the column's text, or why the row cannot be used. */
  readonly read: (text: string) => FieldValue | Problem
}

/** A canonical field's schema without its default and nullability, and whether it is nullable. */
function innerSchema(schema: z.ZodType): { readonly inner: z.ZodType; readonly nullable: boolean } {
  let inner = schema
  let nullable = false
  for (;;) {
    if (inner instanceof z.ZodDefault) inner = inner.unwrap() as z.ZodType
    else if (inner instanceof z.ZodNullable) {
      nullable = true
      inner = inner.unwrap() as z.ZodType
    } else return { inner, nullable }
  }
}

/**
 * A numeric column. The bounds, integrality and whether an empty field (MMS writes NULL as an empty
 * field) is accepted come from the event schema, so the row-level check, which can name the
 * column, agrees with the final validation.
 */
function numeric<F extends string>(
  column: string,
  field: F,
  schema: z.ZodType,
  unit = ''
): ColumnReader<F> {
  const { inner, nullable } = innerSchema(schema)
  const number = inner as z.ZodNumber
  const { min, max } = boundsOf(number)
  const integer = number.isInt
  return {
    column,
    field,
    optional: false,
    read: (text) => {
      if (nullable && text === '') return null
      const v = parseDecimal(text)
      if (v === null || (integer && !Number.isInteger(v)))
        return new Problem(
          'non_numeric_value',
          `${column} ${JSON.stringify(text)} is not ${integer ? 'an integer' : 'a number'}`
        )
      if (v < min || v > max)
        return new Problem(
          'out_of_range',
          `${column} ${v}${unit && ` ${unit}`} is outside the plausible range`
        )
      return v
    },
  }
}

/** A status text column (PRICE_STATUS…), kept verbatim when the schema accepts it. */
function text<F extends string>(column: string, field: F, schema: z.ZodType): ColumnReader<F> {
  const { nullable } = innerSchema(schema)
  return {
    column,
    field,
    optional: false,
    read: (value) => {
      if (nullable && value === '') return null
      if (schema.safeParse(value).success) return value
      return new Problem(
        'invalid_value',
        `${column} ${JSON.stringify(value)} is not a status AEMO uses`
      )
    },
  }
}

/** Marks a reader's column as one that older table versions lack (see `ColumnReader.optional`). */
const optional = <F extends string>(reader: ColumnReader<F>): ColumnReader<F> => ({
  ...reader,
  optional: true,
})

const PRICE = RegionPriceEventSchema.shape
const energy = <F extends ValueField>(column: string, field: F, unit?: string) =>
  numeric(column, field, PRICE[field], unit)
const status = <F extends ValueField>(column: string, field: F) => text(column, field, PRICE[field])

/**
 * Per table, the columns read into event fields, in the event's field order. A table's rows are
 * keyed by (SETTLEMENTDATE, REGIONID, INTERVENTION); PRICE rows make the events (priced by the
 * pricing run) and every other table is joined onto them (from the dispatched run): see
 * `normalizeDispatchIsFiles`. Fields added to the event after schema_version 1 are optional
 * columns, so every table version is still read and a version without them yields nulls.
 */
const TABLE_COLUMNS: {
  readonly [T in DispatchIsTable]: readonly ColumnReader<ValueField>[]
} = {
  'DISPATCH.PRICE': [
    energy('RRP', 'rrp_aud_mwh', 'AUD/MWh'),
    optional(status('PRICE_STATUS', 'price_status')),
    optional(energy('APCFLAG', 'apc_flag')),
    optional(energy('MARKETSUSPENDEDFLAG', 'market_suspended_flag')),
    optional(status('OCD_STATUS', 'ocd_status')),
    optional(status('MII_STATUS', 'mii_status')),
  ],
  'DISPATCH.REGIONSUM': [
    energy('TOTALDEMAND', 'total_demand_mw', 'MW'),
    energy('AVAILABLEGENERATION', 'available_generation_mw', 'MW'),
    energy('NETINTERCHANGE', 'net_interchange_mw', 'MW'),
    optional(energy('SS_SOLAR_UIGF', 'ss_solar_uigf_mw', 'MW')),
    optional(energy('SS_WIND_UIGF', 'ss_wind_uigf_mw', 'MW')),
    optional(energy('SS_SOLAR_CLEAREDMW', 'ss_solar_cleared_mw', 'MW')),
    optional(energy('SS_WIND_CLEAREDMW', 'ss_wind_cleared_mw', 'MW')),
    optional(energy('BDU_CLEAREDMW_GEN', 'bdu_cleared_gen_mw', 'MW')),
    optional(energy('BDU_CLEAREDMW_LOAD', 'bdu_cleared_load_mw', 'MW')),
    optional(energy('BDU_ENERGY_STORAGE', 'bdu_energy_storage_mwh', 'MWh')),
  ],
}
const PRICE_TABLE = 'DISPATCH.PRICE' satisfies DispatchIsTable
const JOINED_TABLES = DISPATCH_IS_TABLES.filter((t) => t !== PRICE_TABLE)

/** AEMO's column stem of each FCAS service in DISPATCH.PRICE: `<stem>RRP`, `<stem>APCFLAG`. */
const FCAS_STEMS: { readonly [S in FcasService]: string } = {
  raise_1sec: 'RAISE1SEC',
  raise_6sec: 'RAISE6SEC',
  raise_60sec: 'RAISE60SEC',
  raise_5min: 'RAISE5MIN',
  raise_reg: 'RAISEREG',
  lower_1sec: 'LOWER1SEC',
  lower_6sec: 'LOWER6SEC',
  lower_60sec: 'LOWER60SEC',
  lower_5min: 'LOWER5MIN',
  lower_reg: 'LOWERREG',
}
const FCAS = RegionFcasPriceEventSchema.shape

/**
 * What one table contributes to one stream. DISPATCH.PRICE is read twice: for the energy price
 * (`RegionPriceEvent`) and for the FCAS prices (`RegionFcasPriceEvent`), each with its own columns,
 * conflicts and dead letters, so a bad FCAS value never costs the energy price and vice versa.
 */
interface Reading {
  readonly table: DispatchIsTable
  readonly columns: readonly ColumnReader[]
  /** Where problems with this reading's values go (dead letters); default: the source's topic. */
  readonly topic?: EventTopic
  /** Whether row-level problems (key fields, missing columns) are reported by this reading. */
  readonly reportsRows: boolean
}

/** A table's reading for the energy event (`TABLE_COLUMNS`); it reports row-level problems. */
const energyReading = (table: DispatchIsTable): Reading => ({
  table,
  columns: TABLE_COLUMNS[table],
  reportsRows: true,
})

/**
 * The FCAS reading of DISPATCH.PRICE: per service its price and APC flag, then PRICE_STATUS. All
 * optional: the 1-second services exist only in newer table versions, and a service whose column is
 * absent (or NULL) has no event. The row's key problems are reported by the energy reading.
 */
const FCAS_READING: Reading = {
  table: PRICE_TABLE,
  columns: [
    ...FCAS_SERVICES.flatMap((service) => [
      optional(
        numeric(`${FCAS_STEMS[service]}RRP`, service, FCAS.price_aud_mw_h.nullable(), 'AUD/MW/h')
      ),
      optional(numeric(`${FCAS_STEMS[service]}APCFLAG`, service, FCAS.apc_flag)),
    ]),
    optional(text('PRICE_STATUS', 'price_status', FCAS.price_status)),
  ],
  topic: TOPICS.fcas,
  reportsRows: false,
}

const KEY_COLUMNS = ['SETTLEMENTDATE', 'REGIONID', 'INTERVENTION'] as const
const REGION_INDEX: ReadonlyMap<string, number> = new Map(REGION_IDS.map((r, i) => [r, i]))

/** A row's values, one per column of its reading. */
type Values = readonly FieldValue[]

/** One row for a (interval, region, run); `file` indexes the input files. */
interface Candidate {
  readonly value: Values
  readonly row: MmsRow
  readonly file: number
  readonly table: string
  /** The reading's dead-letter topic (see `Reading.topic`). */
  readonly topic?: EventTopic
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
  /** Per input file, the envelope of the events its rows price. */
  readonly envelopes: readonly EventEnvelope[]
  readonly reject: (file: number, r: Omit<SourceRejection, 'file'>) => void
  readonly intervalMs: (settlementDate: string) => number | null
  /** Epoch ms → ISO-8601 UTC, cached: every region (and FCAS service) of an interval shares it. */
  readonly isoTime: (ms: number) => string
  /** Intervals with an INTERVENTION=1 row in any table. */
  readonly interventions: Set<number>
}

/** Every row of every version of the reading's table in the files, in slots; bad rows are rejected. */
function readSlots(reader: Reader, reading: Reading, keysSeen?: Set<SlotKey>): Map<SlotKey, Slot> {
  const { columns, topic, reportsRows } = reading
  const slots = new Map<SlotKey, Slot>()
  const add = (f: number, table: MmsTable, row: MmsRow, at: readonly number[]) => {
    const key = readRowKey(reader, row, at)
    if (key instanceof Problem) return reportsRows ? key : undefined
    keysSeen?.add(key.key)
    const value = readValues(columns, row, at)
    if (value instanceof Problem) return value
    let slot = slots.get(key.key)
    if (slot === undefined) {
      slot = { intervalMs: key.ms, region: key.region, runs: [[], []] }
      slots.set(key.key, slot)
    }
    slot.runs[key.run].push({ value, row, file: f, table: table.id, topic })
    return undefined
  }
  const [report = '', sub = ''] = reading.table.split('.')
  reader.files.forEach((file, f) => {
    for (const table of findTables(file.csv, report, sub)) {
      const at = [...KEY_COLUMNS, ...columns.map((c) => c.column)].map((c) => columnIndex(table, c))
      const missing = [
        ...KEY_COLUMNS,
        ...columns.filter((c) => !c.optional).map((c) => c.column),
      ].filter((c) => columnIndex(table, c) === -1)
      if (missing.length > 0 && !reportsRows) continue
      const header = `${table.id} (I row at line ${table.headerLine})`
      const noColumns =
        missing.length > 0
          ? new Problem('missing_columns', `${header} lacks ${missing.join(', ')}`)
          : undefined
      for (const row of table.rows) {
        const problem = noColumns ?? add(f, table, row, at)
        if (problem === undefined) continue
        const { code, reason } = problem
        reader.reject(f, { code, reason, row: row.line, raw: row.raw, table: table.id, topic })
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

/**
 * The row's value columns (after the key columns in `at`; -1 for an optional column the table
 * version lacks: null), or the first column's problem.
 */
function readValues(
  columns: readonly ColumnReader[],
  row: MmsRow,
  at: readonly number[]
): Values | Problem {
  const values: FieldValue[] = []
  for (let i = 0; i < columns.length; i++) {
    const index = at[KEY_COLUMNS.length + i]!
    const v = index === -1 ? null : columns[i]!.read(row.fields[index]!)
    if (v instanceof Problem) return v
    values.push(v)
  }
  return values
}

/** A DispatchIS file's events: energy prices with the region's figures, and FCAS prices. */
export interface DispatchIsResult extends NormalizeResult<RegionPriceEvent> {
  readonly fcas: RegionFcasPriceEvent[]
}

/**
 * Normalises one DispatchIS file (the NEMWeb zip or its CSV) into one `RegionPriceEvent` per
 * region and interval, from `DISPATCH.PRICE` joined with `DISPATCH.REGIONSUM`, and one
 * `RegionFcasPriceEvent` per region, interval and FCAS service of `DISPATCH.PRICE`. A file with
 * PRICE only yields events whose demand fields are null. Bad rows become `rejects`; the rest is
 * ingested.
 * @throws AemoSourceError for a truncated or corrupt file (nothing is ingested) or a bad context.
 */
export function normalizeDispatchIs(
  file: SourceFile,
  ctx: NormalizeContext,
  options: ReadOptions = {}
): DispatchIsResult {
  checkContext(ctx)
  return normalizeDispatchIsFiles([readSourceFile(file, DISPATCH_IS_TABLES, options)], ctx)
}

/**
 * The join over tables read from one or several files: MMSDM archives ship PRICE and REGIONSUM as
 * separate monthly files. An event's `source_file`/`source_sha256` are those of the file its price
 * row came from. The result does not depend on row order (events sorted by interval, region and,
 * for FCAS, service).
 */
export function normalizeDispatchIsFiles(
  files: readonly ParsedSourceFile[],
  ctx: NormalizeContext
): DispatchIsResult {
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
  const isoTimes = new Map<number, string>()
  const reader: Reader = {
    files,
    envelopes: files.map((file) => envelopeFor('aemo.dispatchis', file, ctx)),
    reject: (file, r) => rejects.push({ ...r, file: files[file]!.name }),
    intervalMs: createMarketTimeParser(),
    isoTime: (ms) => {
      let iso = isoTimes.get(ms)
      if (iso === undefined) isoTimes.set(ms, (iso = toUtcIso(ms)))
      return iso
    },
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
  const prices = readSlots(reader, energyReading(PRICE_TABLE), priceKeys)
  const joined = JOINED_TABLES.map((table) => ({
    table,
    slots: readSlots(reader, energyReading(table)),
  }))
  const events = joinPrices(reader, prices, joined)
  const fcas = fcasPrices(reader, readSlots(reader, FCAS_READING))

  const orphan = `no ${PRICE_TABLE} row for this SETTLEMENTDATE and REGIONID, so no event can carry it`
  for (const { slots } of joined) {
    for (const [key, slot] of slots) {
      if (priceKeys.has(key)) continue
      for (const c of dispatchedRun(slot)) rejectCandidate(reader, c, 'price_row_missing', orphan)
    }
  }

  const byIntervalRegion = (a: RegionPriceEvent | RegionFcasPriceEvent, b: typeof a) =>
    compareText(a.interval_end, b.interval_end) || compareText(a.region_id, b.region_id)
  events.sort(byIntervalRegion)
  fcas.sort((a, b) => byIntervalRegion(a, b) || SERVICE_ORDER[a.service] - SERVICE_ORDER[b.service])
  return { events, fcas, rejects: sortRejects(rejects, files) }
}

/** One event per (interval, region) of the PRICE slots, with the joined tables' fields. */
function joinPrices(
  reader: Reader,
  prices: Map<SlotKey, Slot>,
  joined: readonly { table: DispatchIsTable; slots: Map<SlotKey, Slot> }[]
): RegionPriceEvent[] {
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
    // The row is the price row's: it sets the event's price and identity; joined fields come from
    // other rows of the same file.
    const envelope = { ...reader.envelopes[price.file]!, source_row: price.row.line }
    const event = createEvent('RegionPriceEvent', envelope, {
      region_id: slot.region,
      interval_end: reader.isoTime(slot.intervalMs),
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

const SERVICE_ORDER = Object.fromEntries(FCAS_SERVICES.map((s, i) => [s, i])) as {
  readonly [S in FcasService]: number
}

/**
 * One FCAS event per (interval, region) of the slots and service the row prices (`FCAS_READING`'s
 * values: price and APC flag per service, then PRICE_STATUS). Like the energy price, FCAS prices
 * are the pricing run's (INTERVENTION=0); a slot without one is reported by the energy reading.
 */
function fcasPrices(reader: Reader, slots: Map<SlotKey, Slot>): RegionFcasPriceEvent[] {
  const events: RegionFcasPriceEvent[] = []
  for (const slot of slots.values()) {
    const row = settle(reader, slot.runs[0])
    if (row === null) continue
    const values = row.value
    const priceStatus = values[values.length - 1] as string | null
    FCAS_SERVICES.forEach((service, i) => {
      const price = values[2 * i] as number | null
      // The file's table version has no such service (or AEMO wrote NULL): no event, not a zero.
      if (price === null) return
      const envelope = { ...reader.envelopes[row.file]!, source_row: row.row.line }
      const event = createEvent('RegionFcasPriceEvent', envelope, {
        region_id: slot.region,
        service,
        interval_end: reader.isoTime(slot.intervalMs),
        price_aud_mw_h: price,
        apc_flag: values[2 * i + 1] as number | null,
        price_status: priceStatus,
        intervention: reader.interventions.has(slot.intervalMs),
      })
      const checked = RegionFcasPriceEventSchema.safeParse(event)
      if (checked.success) events.push(checked.data)
      else rejectCandidate(reader, row, 'schema_violation', describeIssues(checked.error.issues))
    })
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
  reader.reject(c.file, {
    code,
    reason,
    row: c.row.line,
    raw: c.row.raw,
    table: c.table,
    topic: c.topic,
  })

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
