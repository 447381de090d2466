import { describe, expect, test } from 'bun:test'
import { AEMO_FIXTURES, fixtureCsvText, fixtureFile } from '../../../tests/support/nemweb-fixtures'
import { parseMmsCsv } from './csv'
import { INTERCONNECTOR_TABLES, normalizeInterconnectors } from './interconnector'
import { readSourceFile } from './source-file'

const ctx = { correlationId: 'test', ingestedAt: '2026-11-28T00:00:00.000Z' }
const read = (fixture: string) =>
  readSourceFile(fixtureFile(fixture), INTERCONNECTOR_TABLES, { strictFooter: false })

/** Every (interval, run) → MWFLOW straight from the CSV, to compare against. */
function flowsFromCsv(fixture: string) {
  const table = parseMmsCsv(fixtureCsvText(fixture), { strictFooter: false }).tables[0]!
  const at = (name: string) => table.columns.indexOf(name) + 4
  const out = new Map<string, number>()
  for (const row of table.rows) {
    const [d, t] = row.fields[at('SETTLEMENTDATE')]!.split(' ')
    const utc = new Date(Date.parse(`${d!.replaceAll('/', '-')}T${t}+10:00`))
      .toISOString()
      .replace('.000', '')
    out.set(`${utc}|${row.fields[at('INTERVENTION')]}`, Number(row.fields[at('MWFLOW')]))
  }
  return out
}

describe('DISPATCH.INTERCONNECTORRES', () => {
  test('v1 (January 2020): flows come from the intervention run when there is one', () => {
    const { events, rejects } = normalizeInterconnectors(
      read(AEMO_FIXTURES.interconnector202001),
      ctx
    )
    const csv = flowsFromCsv(AEMO_FIXTURES.interconnector202001)

    expect(rejects).toEqual([])
    const intervened = events.filter((e) => e.intervention)
    expect(intervened.length).toBeGreaterThan(0)
    for (const e of events) {
      const expected = csv.get(`${e.interval_end}|${e.intervention ? 1 : 0}`)
      expect(e.mw_flow).toBe(expected!)
      expect(e.interconnector_id).toBe('VIC1-NSW1')
    }
    // At least one intervened interval where the two runs really differ, and we took run 1.
    const differing = intervened.filter((e) => csv.get(`${e.interval_end}|0`) !== e.mw_flow)
    expect(differing.length).toBeGreaterThan(0)
    expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length)
  })

  test('v3 (April 2026): columns are found by name among 22', () => {
    const { events, rejects } = normalizeInterconnectors(
      read(AEMO_FIXTURES.interconnector202604),
      ctx
    )
    expect(rejects).toEqual([])
    // The first row of the real file: 2026/04/01 00:05 NEM time, MWFLOW 1052.36504.
    expect(events[0]).toMatchObject({
      interconnector_id: 'VIC1-NSW1',
      interval_end: '2026-03-31T14:05:00Z',
      mw_flow: 1052.36504,
      metered_mw_flow: 1071.52734,
      mw_losses: 116.42667,
      export_limit_mw: 1052.36504,
      import_limit_mw: -84.00126,
      intervention: false,
    })
  })

  test('a non-numeric flow is rejected with its row; the rest of the file is still read', () => {
    const text = fixtureCsvText(AEMO_FIXTURES.interconnector202604).split('\n')
    const row = text.findIndex((l) => l.startsWith('D,'))
    const fields = text[row]!.split(',')
    fields[10] = 'n/a' // MWFLOW in v3
    text[row] = fields.join(',')
    const parsed = {
      name: 'x.CSV',
      sha256: '0'.repeat(64),
      csv: parseMmsCsv(text.join('\n'), { strictFooter: false }),
    }
    const { events, rejects } = normalizeInterconnectors(parsed, ctx)
    expect(rejects).toEqual([expect.objectContaining({ code: 'non_numeric_value', row: row + 1 })])
    expect(events.length).toBeGreaterThan(100)
  })
})
