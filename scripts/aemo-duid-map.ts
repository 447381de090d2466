/**
 * Generates `src/sources/aemo/duid-map.json` (DUID → region, fuel type, dispatch type, station)
 * from AEMO's NEM Registration and Exemption List, sheet "PU and Scheduled Loads".
 *
 *   bun scripts/aemo-duid-map.ts [path/to/NEM-Registration-and-Exemption-List.xlsx]
 *   bun scripts/aemo-duid-map.ts --report     # distinct fuel/technology combinations and their fuel type,
 *                                             # plus how the live SCADA fixture's DUIDs map
 *
 * The default workbook is the fixture in `<repo>/../shared/fixtures/aemo/duid/`. The output is
 * deterministic (no timestamps), so re-running it on the same workbook changes nothing.
 */
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { basename } from 'node:path'
import * as XLSX from 'xlsx'
import { parseMmsCsv } from '../src/sources/aemo/csv'
import {
  buildDuidMap,
  DUID_RULE,
  EXCLUSION_RULE,
  FUEL_RULES,
  type RegistrationRow,
  STATION_RULE,
} from '../src/sources/aemo/duid-rules'
import { singleCsvEntry } from '../src/sources/aemo/zip'

export const SHEET = 'PU and Scheduled Loads'
const DEFAULT_WORKBOOK = new URL(
  '../../shared/fixtures/aemo/duid/NEM-Registration-and-Exemption-List.xlsx',
  import.meta.url
)
const OUTPUT = new URL('../src/sources/aemo/duid-map.json', import.meta.url)
const LIVE_SCADA = new URL(
  '../../shared/fixtures/aemo/scada/PUBLIC_DISPATCHSCADA_202109021255_0000000348376188.zip',
  import.meta.url
)

const text = (v: unknown): string => (v === null || v === undefined ? '' : String(v))

/** The sheet's rows as the rules read them. */
export function readRegistrationRows(workbook: Uint8Array): RegistrationRow[] {
  const book = XLSX.read(workbook, { type: 'array' })
  const sheet = book.Sheets[SHEET]
  if (sheet === undefined)
    throw new Error(
      `workbook has no sheet ${JSON.stringify(SHEET)} (sheets: ${book.SheetNames.join(', ')})`
    )
  return XLSX.utils.sheet_to_json<Record<string, unknown>>(sheet, { defval: null }).map((r) => ({
    duid: text(r['DUID']),
    station: text(r['Station Name']),
    region: text(r['Region']),
    dispatchType: text(r['Dispatch Type']),
    fuelPrimary: text(r['Fuel Source - Primary']),
    fuelDescriptor: text(r['Fuel Source - Descriptor']),
    technologyPrimary: text(r['Technology Type - Primary']),
    technologyDescriptor: text(r['Technology Type - Descriptor']),
  }))
}

/** The JSON file's exact text for a workbook: provenance header, then one DUID per line. */
export function renderDuidMapJson(workbook: Uint8Array, sourcePath: string): string {
  const rows = readRegistrationRows(workbook)
  const built = buildDuidMap(rows)
  const provenance = {
    source_file: basename(sourcePath),
    source_path: sourcePath,
    source_sha256: createHash('sha256').update(workbook).digest('hex'),
    sheet: SHEET,
    generated_by: 'scripts/aemo-duid-map.ts',
    sheet_rows: rows.length,
    skipped_rows_without_duid: built.skippedRows,
    duid_count: Object.keys(built.duids).length,
    rules: [DUID_RULE, ...FUEL_RULES.map((r) => r.rule), STATION_RULE, EXCLUSION_RULE],
    excluded: built.excluded,
  }
  const entries = Object.entries(built.duids).map(
    ([duid, info]) => `    ${JSON.stringify(duid)}: ${JSON.stringify(info)}`
  )
  const head = JSON.stringify({ provenance }, null, 2).slice(0, -2)
  return `${head},\n  "duids": {\n${entries.join(',\n')}\n  }\n}\n`
}

function report(workbook: Uint8Array): string {
  const rows = readRegistrationRows(workbook)
  const { duids, excluded } = buildDuidMap(rows)
  const fuelOf = (duid: string): string => {
    if (duid === '' || duid === '-') return '(row without a DUID)'
    if (excluded.some((e) => e.duid === duid)) return '(excluded)'
    return duids[duid]?.fuel_type ?? '(not mapped)'
  }
  const combos = new Map<string, { count: number; fuels: Set<string> }>()
  for (const r of rows) {
    const key = [
      r.dispatchType,
      r.fuelPrimary,
      r.fuelDescriptor,
      r.technologyPrimary,
      r.technologyDescriptor,
    ]
      .map((s) => s.trim())
      .join(' | ')
    const entry = combos.get(key) ?? { count: 0, fuels: new Set<string>() }
    entry.count++
    entry.fuels.add(fuelOf(r.duid.trim()))
    combos.set(key, entry)
  }
  const lines = [
    'count  dispatch type | fuel primary | fuel descriptor | technology primary | technology descriptor → fuel type',
  ]
  for (const [key, { count, fuels }] of [...combos].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`${String(count).padStart(5)}  ${key} → ${[...fuels].join(', ')}`)
  }
  const csv = parseMmsCsv(singleCsvEntry(new Uint8Array(readFileSync(LIVE_SCADA))).bytes, {
    strictFooter: true,
  })
  const live = csv.tables.flatMap((t) =>
    t.rows.map((row) => row.fields[t.columns.indexOf('DUID') + 4]!)
  )
  const unmapped = live.filter((d) => duids[d] === undefined)
  lines.push(
    '',
    `live SCADA fixture: ${live.length} DUIDs, ${live.length - unmapped.length} mapped, ${unmapped.length} unmapped:`,
    unmapped.join(' ')
  )
  return `${lines.join('\n')}\n`
}

if (import.meta.main) {
  const args = process.argv.slice(2)
  const path = args.find((a) => !a.startsWith('--'))
  const workbookUrl = path ? new URL(path, `file://${process.cwd()}/`) : DEFAULT_WORKBOOK
  const workbook = new Uint8Array(readFileSync(workbookUrl))
  if (args.includes('--report')) {
    process.stdout.write(report(workbook))
  } else {
    writeFileSync(
      OUTPUT,
      renderDuidMapJson(
        workbook,
        path ?? 'shared/fixtures/aemo/duid/NEM-Registration-and-Exemption-List.xlsx'
      )
    )
    process.stdout.write(`wrote ${OUTPUT.pathname}\n`)
  }
}
