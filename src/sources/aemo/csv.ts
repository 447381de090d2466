import type { SourceRejection } from '../rejection'
import { AemoSourceError } from './errors'

/**
 * Reader for AEMO's MMS "CSV" report format (the files on NEMWeb and in the MMSDM archive):
 *
 *   C,NEMP.WORLD,DISPATCHIS,AEMO,PUBLIC,2021/09/02,12:50:16,…   comment; the first is the file header
 *   I,DISPATCH,PRICE,5,SETTLEMENTDATE,RUNNO,REGIONID,…          column names of table DISPATCH.PRICE v5
 *   D,DISPATCH,PRICE,5,"2021/09/02 12:55:00",1,NSW1,…           a row of the last I with that key
 *   C,"END OF REPORT",393                                       footer: total line count of the file
 *
 * Tables are keyed by (report, sub-report, version) and their columns must be found by name:
 * AEMO appends columns when it bumps a version (PRICE v1 → v5, REGIONSUM v4 → v9, UNIT_SCADA v1
 * gained LASTCHANGED without a version bump).
 */

export interface MmsRow {
  /** 1-based line number in the file (blank lines count). */
  readonly line: number
  /** The line verbatim, without its line ending. */
  readonly raw: string
  /** All fields, quotes removed, including the leading `D,report,sub,version`: use `columnIndex`. */
  readonly fields: readonly string[]
}

export interface MmsTable {
  /** `report.sub.version`, e.g. `DISPATCH.PRICE.5`. */
  readonly id: string
  readonly report: string
  readonly sub: string
  readonly version: string
  readonly headerLine: number
  /** Column names after the four key fields, as the I row lists them. */
  readonly columns: readonly string[]
  readonly rows: MmsRow[]
}

export interface MmsCsv {
  /** Fields of the first line when it is a C row (system, report, publisher, date, time, ids). */
  readonly header: readonly string[] | null
  /** The `n` of `C,"END OF REPORT",n`, or null when the file has no footer. */
  readonly footerCount: number | null
  /** Lines in the file; a final line ending does not start a new line. */
  readonly lineCount: number
  readonly tables: readonly MmsTable[]
  /** Row-level problems: unknown record types, malformed quotes, D rows without or not matching their I row. */
  readonly rejects: readonly SourceRejection[]
}

export interface MmsCsvOptions {
  /**
   * Require a footer whose count equals the file's line count, else throw (`csv_footer_missing`,
   * `csv_line_count_mismatch`). On for live 5-minute files: a cut-off download must be rejected
   * whole, not half ingested. Off for MMSDM archive extracts, whose rows were filtered after the
   * footer was written.
   */
  readonly strictFooter: boolean
  /**
   * Keep only these tables (`REPORT.SUB`, any version). Rows of other tables are skipped without
   * being split, which matters for DispatchIS files that carry a dozen tables.
   */
  readonly tables?: readonly string[]
}

const decoder = new TextDecoder()

/**
 * Splits one CSV line. Fast paths use the native `split`: lines without quotes (archive rows) and
 * lines whose quoted fields hold no comma or escaped quote (live rows: `"2021/09/02 12:55:00"`).
 * Anything else goes through the full scanner.
 */
export function splitCsvLine(line: string): string[] | null {
  let quotes = 0
  for (let q = line.indexOf('"'); q !== -1; q = line.indexOf('"', q + 1)) quotes++
  const fields = line.split(',')
  if (quotes === 0) return fields
  let stripped = 0
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!
    if (f.charCodeAt(0) !== 34) continue
    if (f.length < 2 || f.charCodeAt(f.length - 1) !== 34) return scanCsvLine(line)
    fields[i] = f.slice(1, -1)
    stripped += 2
  }
  // Every quote is one of a wrapping pair, so no field holds an inner or escaped quote.
  return stripped === quotes ? fields : scanCsvLine(line)
}

/** RFC 4180 scanner: quoted fields may hold commas and doubled quotes. Null when malformed. */
function scanCsvLine(line: string): string[] | null {
  const fields: string[] = []
  const n = line.length
  let i = 0
  for (;;) {
    if (line.charCodeAt(i) === 34) {
      let value = ''
      let from = i + 1
      for (;;) {
        const q = line.indexOf('"', from)
        if (q === -1) return null
        value += line.slice(from, q)
        if (line.charCodeAt(q + 1) === 34) {
          value += '"'
          from = q + 2
          continue
        }
        i = q + 1
        break
      }
      fields.push(value)
      if (i === n) return fields
      if (line.charCodeAt(i) !== 44) return null
      i++
    } else {
      const comma = line.indexOf(',', i)
      const end = comma === -1 ? n : comma
      const value = line.slice(i, end)
      if (value.indexOf('"') !== -1) return null
      fields.push(value)
      if (comma === -1) return fields
      i = comma + 1
    }
  }
}

/** Position of the n-th comma (1-based), or -1. */
function nthComma(s: string, n: number): number {
  let at = -1
  for (let k = 0; k < n; k++) {
    at = s.indexOf(',', at + 1)
    if (at === -1) return -1
  }
  return at
}

/** Index of `name` in `row.fields` for rows of this table, or -1 if the table has no such column. */
export const columnIndex = (table: MmsTable, name: string): number => {
  const at = table.columns.indexOf(name)
  return at === -1 ? -1 : at + 4
}

/** All tables (every version, in file order) of one report/sub-report, e.g. `('DISPATCH', 'PRICE')`. */
export const findTables = (csv: MmsCsv, report: string, sub: string): MmsTable[] =>
  csv.tables.filter((t) => t.report === report && t.sub === sub)

/**
 * Parses an MMS CSV file (CRLF or LF, quoted or unquoted fields) into tables of rows.
 * @throws AemoSourceError `csv_footer_missing` / `csv_line_count_mismatch` with `strictFooter`.
 */
export function parseMmsCsv(input: string | Uint8Array, options: MmsCsvOptions): MmsCsv {
  let text = typeof input === 'string' ? input : decoder.decode(input)
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  const state: ParseState = {
    wanted: options.tables ? new Set(options.tables) : null,
    tables: [],
    current: new Map(),
    skipped: new Set(),
    rejects: [],
    header: null,
    footerCount: null,
    footerLine: 0,
    lastKey: '',
    lastTable: undefined,
  }
  const { lineCount, lastContentLine } = forEachLine(text, (raw, line) =>
    readRecord(state, raw, line)
  )
  if (options.strictFooter) checkFooter(state, lineCount, lastContentLine)
  const { header, footerCount, tables, rejects } = state
  return { header, footerCount, lineCount, tables, rejects }
}

/**
 * Calls `onLine` with every non-blank line (CRLF or LF ending removed) and its 1-based number.
 * Returns the number of lines (a final line ending does not start a new line) and of the last
 * non-blank one.
 */
function forEachLine(
  text: string,
  onLine: (raw: string, line: number) => void
): { lineCount: number; lastContentLine: number } {
  const n = text.length
  let pos = 0
  let line = 0
  let lastContentLine = 0
  while (pos < n) {
    let end = text.indexOf('\n', pos)
    if (end === -1) end = n
    const lineEnd = end > pos && text.charCodeAt(end - 1) === 13 ? end - 1 : end
    const raw = text.slice(pos, lineEnd)
    pos = end + 1
    line++
    if (raw.length === 0) continue
    lastContentLine = line
    onLine(raw, line)
  }
  return { lineCount: line, lastContentLine }
}

/** What `parseMmsCsv` has read so far. */
interface ParseState {
  readonly wanted: ReadonlySet<string> | null
  readonly tables: MmsTable[]
  /** Key `REPORT,SUB,VERSION` (as written in the row prefix) → the table of the last I row with that key. */
  readonly current: Map<string, MmsTable>
  /** Keys of tables filtered out by `options.tables`, so their D rows are not reported as orphans. */
  readonly skipped: Set<string>
  readonly rejects: SourceRejection[]
  header: string[] | null
  footerCount: number | null
  footerLine: number
  /** The table of the previous D row: consecutive D rows nearly always share it. */
  lastKey: string
  lastTable: MmsTable | undefined
}

/** One non-blank line: a D row into its table, a C or I row into the file's state, or a reject. */
function readRecord(state: ParseState, raw: string, line: number): void {
  const kind = raw.charCodeAt(0)
  // Record type by its first character: 67 C, 68 D, 73 I; 44 is the comma after it.
  if (kind === 68 && raw.charCodeAt(1) === 44) return readDataRow(state, raw, line)
  if (raw.charCodeAt(1) !== 44 || (kind !== 67 && kind !== 73)) {
    state.rejects.push({
      code: 'unknown_record_type',
      reason: 'line is not a C, I or D record',
      row: line,
      raw,
    })
    return
  }
  const fields = splitCsvLine(raw)
  if (fields === null) {
    state.rejects.push({
      code: 'malformed_quotes',
      reason: 'unbalanced or misplaced quotes',
      row: line,
      raw,
    })
    return
  }
  if (kind === 67) readComment(state, fields, line)
  else readTableHeader(state, fields, raw, line)
}

/** A D row: appended to the table of the last I row with its key, when it fits that table. */
function readDataRow(state: ParseState, raw: string, line: number): void {
  const prefixEnd = nthComma(raw, 4)
  const key = prefixEnd === -1 ? raw.slice(2) : raw.slice(2, prefixEnd)
  const table = key === state.lastKey ? state.lastTable : state.current.get(key)
  if (table === undefined) {
    if (state.skipped.has(key)) return
    const [report = '', sub = ''] = key.split(',')
    if (state.wanted && !state.wanted.has(`${report}.${sub}`)) return
    state.rejects.push({
      code: 'orphan_data_row',
      reason: `D row for ${key.replaceAll(',', '.')} has no preceding I row with that version`,
      row: line,
      raw,
      table: key.replaceAll(',', '.'),
    })
    return
  }
  state.lastKey = key
  state.lastTable = table
  const fields = splitCsvLine(raw)
  if (fields === null) {
    state.rejects.push({
      code: 'malformed_quotes',
      reason: 'unbalanced or misplaced quotes',
      row: line,
      raw,
      table: table.id,
    })
    return
  }
  if (fields.length !== table.columns.length + 4) {
    state.rejects.push({
      code: 'column_count_mismatch',
      reason: `${fields.length - 4} values for ${table.columns.length} columns of ${table.id} (I row at line ${table.headerLine})`,
      row: line,
      raw,
      table: table.id,
    })
    return
  }
  table.rows.push({ line, raw, fields })
}

/** A C row: the footer `C,"END OF REPORT",n`, the file header when it is line 1, else a comment. */
function readComment(state: ParseState, fields: string[], line: number): void {
  if (fields[1] === 'END OF REPORT') {
    const count = fields[2] ?? ''
    state.footerCount = /^\d{1,9}$/.test(count) ? Number(count) : null
    state.footerLine = line
  } else if (line === 1) {
    state.header = fields
  }
}

/** An I row: a (re)declaration of a table's columns; repeating the same columns changes nothing. */
function readTableHeader(state: ParseState, fields: string[], raw: string, line: number): void {
  if (fields.length < 5) {
    state.rejects.push({
      code: 'malformed_header_row',
      reason: 'I row without column names',
      row: line,
      raw,
    })
    return
  }
  const [, report = '', sub = '', version = ''] = fields
  const key = `${report},${sub},${version}`
  state.lastKey = ''
  if (state.wanted && !state.wanted.has(`${report}.${sub}`)) {
    state.skipped.add(key)
    return
  }
  const columns = fields.slice(4)
  const existing = state.current.get(key)
  if (
    existing &&
    existing.columns.length === columns.length &&
    existing.columns.every((c, i) => c === columns[i])
  )
    return
  const table: MmsTable = {
    id: `${report}.${sub}.${version}`,
    report,
    sub,
    version,
    headerLine: line,
    columns,
    rows: [],
  }
  state.current.set(key, table)
  state.tables.push(table)
}

/** A live file must end with a footer that counts its lines: anything else is a cut-off download. */
function checkFooter(state: ParseState, lineCount: number, lastContentLine: number): void {
  const { footerCount, footerLine } = state
  if (footerLine === 0 || footerCount === null) {
    throw new AemoSourceError(
      'csv_footer_missing',
      `no valid C,"END OF REPORT",n footer in ${lineCount} lines: the file is truncated`
    )
  }
  if (footerCount !== lineCount || footerLine !== lastContentLine) {
    throw new AemoSourceError(
      'csv_line_count_mismatch',
      `footer says ${footerCount} lines (at line ${footerLine}) but the file has ${lineCount}`
    )
  }
}
