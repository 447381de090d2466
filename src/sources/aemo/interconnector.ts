import {
  createEvent,
  describeIssues,
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
  const slots = new Map<string, { id: string; ms: number; runs: [Reading[], Reading[]] }>()
  const reject = (row: MmsRow, table: string, code: string, reason: string) =>
    rejects.push({ code, reason, row: row.line, raw: row.raw, table })

  for (const table of findTables(file.csv, 'DISPATCH', 'INTERCONNECTORRES')) {
    const at = REQUIRED.map((c) => columnIndex(table, c))
    const optional = OPTIONAL.map((c) => columnIndex(table, c))
    const missing = REQUIRED.filter((_, i) => at[i] === -1)
    const [dateAt, idAt, runAt, flowAt] = at as [number, number, number, number]
    for (const row of table.rows) {
      if (missing.length > 0) {
        reject(row, table.id, 'missing_columns', `${table.id} lacks ${missing.join(', ')}`)
        continue
      }
      const ms = parseMarketTime(row.fields[dateAt]!)
      if (ms === null) {
        reject(
          row,
          table.id,
          'invalid_settlement_date',
          `SETTLEMENTDATE ${JSON.stringify(row.fields[dateAt])} is not YYYY/MM/DD HH:mm:ss`
        )
        continue
      }
      const id = row.fields[idAt]!
      if (!ID.safeParse(id).success) {
        reject(
          row,
          table.id,
          'invalid_interconnector',
          `INTERCONNECTORID ${JSON.stringify(id)} is not an interconnector id`
        )
        continue
      }
      const run = row.fields[runAt]
      if (run !== '0' && run !== '1') {
        reject(
          row,
          table.id,
          'invalid_intervention',
          `INTERVENTION must be 0 or 1, got ${JSON.stringify(run)}`
        )
        continue
      }
      const texts = [row.fields[flowAt]!, ...optional.map((i) => (i === -1 ? '' : row.fields[i]!))]
      const values = texts.map((t) => (t === '' ? null : parseDecimal(t)))
      const bad = texts.findIndex((t, i) => t !== '' && values[i] === null)
      if (values[0] === null || bad !== -1) {
        const name = bad <= 0 ? 'MWFLOW' : OPTIONAL[bad - 1]
        reject(
          row,
          table.id,
          'non_numeric_value',
          `${name} ${JSON.stringify(texts[Math.max(bad, 0)])} is not a number`
        )
        continue
      }
      const key = `${id}|${ms}`
      let slot = slots.get(key)
      if (!slot) {
        slot = { id, ms, runs: [[], []] }
        slots.set(key, slot)
      }
      slot.runs[run === '1' ? 1 : 0].push({ row, table: table.id, values })
    }
  }

  const events: InterconnectorFlowEvent[] = []
  for (const slot of slots.values()) {
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
      continue
    }
    const [mw_flow, metered, losses, exportLimit, importLimit] = first.values
    const interval_end = toUtcIso(slot.ms)
    const candidate = createEvent(
      'InterconnectorFlowEvent',
      envelopeFor('aemo.dispatchis', file, ctx),
      {
        interconnector_id: slot.id,
        interval_end,
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
      continue
    }
    events.push(parsed.data)
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
