/**
 * The MMSDM archive fixtures read with nothing of GridPulse's: fflate unzips the one member and the
 * lines are split on commas. That is enough for these extracts, which quote nothing in their D rows
 * (checked: a quoted field throws), so tests can hold the product's parser and normaliser to an
 * independent reading of the same bytes.
 */
import { unzipSync } from 'fflate'
import { fixtureBytes } from './nemweb-fixtures'

export type RawRow = Readonly<Record<string, string>>

/** Every D row of the archive's table, as column name → text (columns from the row's I row). */
export function rawArchiveRows(relative: string): RawRow[] {
  const members = Object.values(unzipSync(fixtureBytes(relative)))
  if (members.length !== 1) throw new Error(`${relative}: expected one member`)
  const text = new TextDecoder().decode(members[0])
  let columns: string[] = []
  const rows: RawRow[] = []
  for (const line of text.split('\n')) {
    const fields = line.replace(/\r$/, '').split(',')
    if (fields[0] === 'I') columns = fields.slice(4)
    if (fields[0] !== 'D') continue
    if (line.includes('"')) throw new Error(`${relative}: quoted field in ${line}`)
    rows.push(Object.fromEntries(columns.map((c, i) => [c, fields[i + 4]!])))
  }
  return rows
}

/** `2026/04/01 00:05:00` (NEM time, UTC+10 all year) → `2026-03-31T14:05:00Z`. */
export function rawNemTimeToUtc(text: string): string {
  const [y, mo, d, h, mi, s] = text.split(/[/ :]/).map(Number) as [number, ...number[]]
  const ms = Date.UTC(y, mo! - 1, d, h, mi, s) - 10 * 3_600_000
  return new Date(ms).toISOString().replace('.000Z', 'Z')
}
