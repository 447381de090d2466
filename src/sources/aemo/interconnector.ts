import {
  createEvent,
  describeIssues,
  type EventEnvelope,
  type InterconnectorFlowEvent,
  InterconnectorFlowEventSchema,
} from '@/canonical'
import { toUtcIso } from '@/lib'
import type { SourceRejection } from '../rejection'
import { columnIndex, findTables, type MmsRow } from './csv'
import { parseDecimal } from './decimal'
import { parseMarketTime } from './market-time'
import { envelopeFor, type NormalizeContext, type ParsedSourceFile } from './source-file'

/** The interconnector table GridPulse reads from DispatchIS files (`REPORT.SUB`). */
export const INTERCONNECTOR_TABLES = ['DISPATCH.INTERCONNECTORRES'] as const

const REQUIRED = ['SETTLEMENTDATE', 'INTERCONNECTORID', 'INTERVENTION', 'MWFLOW'] as const
// Present in every version seen (v1 2020, v3 2026); missing ones become null, not a rejection.
const OPTIONAL = ['METEREDMWFLOW', 'MWLOSSES', 'EXPORTLIMIT', 'IMPORTLIMIT'] as const
const ID = InterconnectorFlowEventSchema.shape.interconnector_id

interface Reading {
  readonly row: MmsRow
  readonly table: string
  readonly values: readonly (number | null)[]
}

/** The readings of one interconnector and interval, per INTERVENTION run (`runs[1]`: intervention). */
interface Slot {
  readonly id: string
  readonly ms: number
  readonly runs: [Reading[], Reading[]]
}

type Reject = (row: MmsRow, table: string, code: string, reason: string) => void

/**
 * `DISPATCH.INTERCONNECTORRES` → one `InterconnectorFlowEvent` per interconnector and interval.
 * Flows are physical quantities, so they come from the intervention run (`INTERVENTION=1`) when
 * there is one — the run that was actually dispatched — else from the pricing run; the same rule as
 * the regions' physical quantities (./dispatch-is.ts). Rows that disagree for the same
 * interconnector, interval and run are all rejected, so the result does not depend on row order.
 */
export function normalizeInterconnectors(
  file: ParsedSourceFile,
  ctx: NormalizeContext
): { events: InterconnectorFlowEvent[]; rejects: SourceRejection[] } {
  const rejects: SourceRejection[] = []
  const reject: Reject = (row, table, code, reason) =>
    rejects.push({ code, reason, row: row.line, raw: row.raw, table })
  const envelope = envelopeFor('aemo.dispatchis', file, ctx)
  const events: InterconnectorFlowEvent[] = []
  for (const slot of readSlots(file, reject).values()) {
    const event = flowEvent(slot, envelope, reject)
    if (event) events.push(event)
  }
  events.sort((a, b) =>
    a.interval_end === b.interval_end
      ? a.interconnector_id < b.interconnector_id
        ? -1
        : 1
      : a.interval_end < b.interval_end
        ? -1
        : 1
  )
  return { events, rejects }
}

/** The valid rows of every version of the table, by interconnector and interval. */
function readSlots(file: ParsedSourceFile, reject: Reject): Map<string, Slot> {
  const slots = new Map<string, Slot>()
  for (const table of findTables(file.csv, 'DISPATCH', 'INTERCONNECTORRES')) {
    const at = REQUIRED.map((c) => columnIndex(table, c))
    const optional = OPTIONAL.map((c) => columnIndex(table, c))
    const missing = REQUIRED.filter((_, i) => at[i] === -1)
    for (const row of table.rows) {
      if (missing.length > 0) {
        reject(row, table.id, 'missing_columns', `${table.id} lacks ${missing.join(', ')}`)
        continue
      }
      const read = readRow(row, at, optional)
      if ('code' in read) {
        reject(row, table.id, read.code, read.reason)
        continue
      }
      const key = `${read.id}|${read.ms}`
      let slot = slots.get(key)
      if (!slot) {
        slot = { id: read.id, ms: read.ms, runs: [[], []] }
        slots.set(key, slot)
      }
      slot.runs[read.run].push({ row, table: table.id, values: read.values })
    }
  }
  return slots
}

/** One row's key and values (MWFLOW, then `OPTIONAL`), or why it cannot be used. */
function readRow(
  row: MmsRow,
  at: readonly number[],
  optional: readonly number[]
):
  | { id: string; ms: number; run: 0 | 1; values: (number | null)[] }
  | { code: string; reason: string } {
  const [dateAt, idAt, runAt, flowAt] = at as [number, number, number, number]
  const ms = parseMarketTime(row.fields[dateAt]!)
  if (ms === null) {
    const reason = `SETTLEMENTDATE ${JSON.stringify(row.fields[dateAt])} is not YYYY/MM/DD HH:mm:ss`
    return { code: 'invalid_settlement_date', reason }
  }
  const id = row.fields[idAt]!
  if (!ID.safeParse(id).success) {
    const reason = `INTERCONNECTORID ${JSON.stringify(id)} is not an interconnector id`
    return { code: 'invalid_interconnector', reason }
  }
  const run = row.fields[runAt]
  if (run !== '0' && run !== '1') {
    return {
      code: 'invalid_intervention',
      reason: `INTERVENTION must be 0 or 1, got ${JSON.stringify(run)}`,
    }
  }
  const texts = [row.fields[flowAt]!, ...optional.map((i) => (i === -1 ? '' : row.fields[i]!))]
  const values = texts.map((t) => (t === '' ? null : parseDecimal(t)))
  const bad = texts.findIndex((t, i) => t !== '' && values[i] === null)
  if (values[0] === null || bad !== -1) {
    const name = bad <= 0 ? 'MWFLOW' : OPTIONAL[bad - 1]
    const reason = `${name} ${JSON.stringify(texts[Math.max(bad, 0)])} is not a number`
    return { code: 'non_numeric_value', reason }
  }
  return { id, ms, run: run === '1' ? 1 : 0, values }
}

/** The slot's event from its dispatched run, or null (with rejects) when its rows disagree or are out of range. */
function flowEvent(
  slot: Slot,
  envelope: EventEnvelope,
  reject: Reject
): InterconnectorFlowEvent | null {
  const intervention = slot.runs[1].length > 0
  const readings = slot.runs[intervention ? 1 : 0]
  const first = readings[0]!
  if (readings.some((r) => r.values.some((v, i) => v !== first.values[i]))) {
    for (const r of readings) {
      reject(
        r.row,
        r.table,
        'conflicting_rows',
        `${slot.id}: ${readings.length} rows disagree for one interval and run`
      )
    }
    return null
  }
  const [mw_flow, metered, losses, exportLimit, importLimit] = first.values
  const candidate = createEvent(
    'InterconnectorFlowEvent',
    { ...envelope, source_row: first.row.line },
    {
      interconnector_id: slot.id,
      interval_end: toUtcIso(slot.ms),
      mw_flow: mw_flow!,
      metered_mw_flow: metered ?? null,
      mw_losses: losses ?? null,
      export_limit_mw: exportLimit ?? null,
      import_limit_mw: importLimit ?? null,
      intervention,
    }
  )
  const parsed = InterconnectorFlowEventSchema.safeParse(candidate)
  if (!parsed.success) {
    reject(first.row, first.table, 'out_of_range', describeIssues(parsed.error.issues))
    return null
  }
  return parsed.data
}
