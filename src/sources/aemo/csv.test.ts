import { describe, expect, test } from 'bun:test'
import { AEMO_FIXTURES, fixtureCsvText } from '../../../tests/support/nemweb-fixtures'
import { columnIndex, findTables, parseMmsCsv, splitCsvLine } from './csv'
import { AemoSourceError } from './errors'

const LIVE_SCADA = fixtureCsvText(AEMO_FIXTURES.liveScada)

function errorOf(fn: () => unknown): AemoSourceError {
  try {
    fn()
  } catch (e) {
    if (e instanceof AemoSourceError) return e
    throw e
  }
  throw new Error('expected an AemoSourceError')
}

describe('parseMmsCsv over the real fixtures', () => {
  test('the live SCADA file (CRLF, quoted dates) passes the strict footer check with 390 rows', () => {
    const csv = parseMmsCsv(LIVE_SCADA, { strictFooter: true })
    expect(csv.footerCount).toBe(393)
    expect(csv.lineCount).toBe(393)
    expect(csv.header?.slice(0, 3)).toEqual(['C', 'NEMP.WORLD', 'DISPATCHSCADA'])
    const [table] = csv.tables
    expect(csv.tables).toHaveLength(1)
    expect(table!.id).toBe('DISPATCH.UNIT_SCADA.1')
    expect(table!.columns).toEqual(['SETTLEMENTDATE', 'DUID', 'SCADAVALUE'])
    expect(table!.rows).toHaveLength(390)
    const first = table!.rows[0]!
    expect(first.line).toBe(3)
    expect(first.raw).toBe('D,DISPATCH,UNIT_SCADA,1,"2021/09/02 12:55:00",BARCSF1,5')
    expect(first.fields[columnIndex(table!, 'SETTLEMENTDATE')]).toBe('2021/09/02 12:55:00')
    expect(first.fields[columnIndex(table!, 'DUID')]).toBe('BARCSF1')
    expect(table!.rows.at(-1)!.line).toBe(392)
    expect(csv.rejects).toEqual([])
  })

  test.each([
    [AEMO_FIXTURES.price202001, 'PRICE', '1', 3024],
    [AEMO_FIXTURES.price202604, 'PRICE', '5', 2880],
    [AEMO_FIXTURES.regionsum202001, 'REGIONSUM', '4', 3024],
    [AEMO_FIXTURES.regionsum202604, 'REGIONSUM', '9', 2880],
    [AEMO_FIXTURES.scada202408, 'UNIT_SCADA', '1', 2880],
    [AEMO_FIXTURES.scada202604, 'UNIT_SCADA', '1', 2880],
  ])('%s: DISPATCH.%s v%s, %d rows, columns found by name', (fixture, sub, version, rows) => {
    const csv = parseMmsCsv(fixtureCsvText(fixture), { strictFooter: false })
    const [table] = findTables(csv, 'DISPATCH', sub)
    expect(table!.version).toBe(version)
    expect(table!.rows).toHaveLength(rows)
    expect(csv.rejects).toEqual([])
    const date = table!.rows[0]!.fields[columnIndex(table!, 'SETTLEMENTDATE')]
    expect(date).toMatch(/^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}$/)
  })

  test('columns move between versions and are still found by name', () => {
    const v1 = findTables(
      parseMmsCsv(fixtureCsvText(AEMO_FIXTURES.price202001), { strictFooter: false }),
      'DISPATCH',
      'PRICE'
    )[0]!
    const v5 = findTables(
      parseMmsCsv(fixtureCsvText(AEMO_FIXTURES.price202604), { strictFooter: false }),
      'DISPATCH',
      'PRICE'
    )[0]!
    expect(v5.columns.length).toBeGreaterThan(v1.columns.length)
    // v5 appended the 1-second FCAS prices (RAISE1SECRRP, …) that v1 does not have.
    expect(columnIndex(v5, 'RAISE1SECRRP')).toBeGreaterThan(0)
    expect(columnIndex(v1, 'RAISE1SECRRP')).toBe(-1)
    expect(v1.rows[0]!.fields[columnIndex(v1, 'RRP')]).toBe('49.00916')
    expect(v5.rows[0]!.fields[columnIndex(v5, 'RRP')]).toBe('65.01005')
  })

  test('UNIT_SCADA v1 has 3 columns in 2024 and 4 (with LASTCHANGED) in 2026, same version', () => {
    const t2024 = parseMmsCsv(fixtureCsvText(AEMO_FIXTURES.scada202408), { strictFooter: false })
      .tables[0]!
    const t2026 = parseMmsCsv(fixtureCsvText(AEMO_FIXTURES.scada202604), { strictFooter: false })
      .tables[0]!
    expect(t2024.columns).toEqual(['SETTLEMENTDATE', 'DUID', 'SCADAVALUE'])
    expect(t2026.columns).toEqual(['SETTLEMENTDATE', 'DUID', 'SCADAVALUE', 'LASTCHANGED'])
    expect(t2024.id).toBe(t2026.id)
  })

  test('archive extracts are row-filtered, so their footer count does not match: strict mode rejects them', () => {
    const text = fixtureCsvText(AEMO_FIXTURES.price202604)
    expect(parseMmsCsv(text, { strictFooter: false }).footerCount).toBe(43203)
    expect(errorOf(() => parseMmsCsv(text, { strictFooter: true })).code).toBe(
      'csv_line_count_mismatch'
    )
  })
})

describe('parseMmsCsv truncation (strict footer)', () => {
  test('a live file cut before its footer is rejected whole', () => {
    const cut = LIVE_SCADA.slice(0, LIVE_SCADA.indexOf('YWPS4'))
    const error = errorOf(() => parseMmsCsv(cut, { strictFooter: true }))
    expect(error.code).toBe('csv_footer_missing')
    expect(error.retryable).toBe(true)
  })

  test('a file cut inside its footer is rejected', () => {
    expect(errorOf(() => parseMmsCsv(LIVE_SCADA.slice(0, -8), { strictFooter: true })).code).toBe(
      'csv_footer_missing'
    )
  })

  test('a footer whose count does not match the lines received is rejected', () => {
    const lines = LIVE_SCADA.split('\r\n')
    const missingRow = [...lines.slice(0, 10), ...lines.slice(11)].join('\r\n')
    expect(errorOf(() => parseMmsCsv(missingRow, { strictFooter: true })).code).toBe(
      'csv_line_count_mismatch'
    )
  })

  test('content after the footer is rejected', () => {
    expect(
      errorOf(() =>
        parseMmsCsv(`${LIVE_SCADA}D,DISPATCH,UNIT_SCADA,1,"2021/09/02 12:55:00",X,1\r\n`, {
          strictFooter: true,
        })
      ).code
    ).toBe('csv_line_count_mismatch')
  })

  test('LF line endings and a missing final line ending are accepted', () => {
    const lf = LIVE_SCADA.replaceAll('\r\n', '\n')
    expect(parseMmsCsv(lf, { strictFooter: true }).tables[0]!.rows).toHaveLength(390)
    expect(parseMmsCsv(lf.trimEnd(), { strictFooter: true }).lineCount).toBe(393)
  })

  test('bytes are accepted as well as text', () => {
    expect(
      parseMmsCsv(new TextEncoder().encode(LIVE_SCADA), { strictFooter: true }).tables[0]!.rows
    ).toHaveLength(390)
  })
})

describe('parseMmsCsv row-level problems', () => {
  const file = (...lines: string[]) => `${lines.join('\r\n')}\r\n`

  test('D rows belong to the last I row of the same report, sub-report and version', () => {
    const csv = parseMmsCsv(
      file(
        'C,NEMP.WORLD,X',
        'I,DISPATCH,PRICE,1,SETTLEMENTDATE,REGIONID,RRP',
        'D,DISPATCH,PRICE,1,"2021/09/02 12:55:00",NSW1,10',
        'I,DISPATCH,PRICE,2,SETTLEMENTDATE,REGIONID,RRP,NEWCOL',
        'D,DISPATCH,PRICE,2,"2021/09/02 12:55:00",SA1,20,x',
        'D,DISPATCH,PRICE,1,"2021/09/02 13:00:00",NSW1,11',
        'D,DISPATCH,PRICE,3,"2021/09/02 13:00:00",NSW1,11',
        'D,DISPATCH,PRICE,2,"2021/09/02 13:00:00",SA1,21',
        'X,garbage',
        'C,"END OF REPORT",10'
      ),
      { strictFooter: true }
    )
    expect(csv.tables.map((t) => [t.id, t.rows.map((r) => r.line)])).toEqual([
      ['DISPATCH.PRICE.1', [3, 6]],
      ['DISPATCH.PRICE.2', [5]],
    ])
    expect(csv.rejects.map((r) => [r.code, r.row, r.table])).toEqual([
      ['orphan_data_row', 7, 'DISPATCH.PRICE.3'],
      ['column_count_mismatch', 8, 'DISPATCH.PRICE.2'],
      ['unknown_record_type', 9, undefined],
    ])
    expect(csv.rejects[1]!.raw).toBe('D,DISPATCH,PRICE,2,"2021/09/02 13:00:00",SA1,21')
  })

  test('the table filter skips other tables without reporting their rows', () => {
    const text = file(
      'I,DISPATCH,CASE_SOLUTION,2,SETTLEMENTDATE,RUNNO',
      'D,DISPATCH,CASE_SOLUTION,2,"2021/09/02 12:55:00",1',
      'I,DISPATCH,PRICE,5,SETTLEMENTDATE,RRP',
      'D,DISPATCH,PRICE,5,"2021/09/02 12:55:00",10'
    )
    const csv = parseMmsCsv(text, { strictFooter: false, tables: ['DISPATCH.PRICE'] })
    expect(csv.tables.map((t) => t.id)).toEqual(['DISPATCH.PRICE.5'])
    expect(csv.rejects).toEqual([])
  })
})

describe('splitCsvLine', () => {
  test('handles quoted fields, embedded commas and doubled quotes', () => {
    expect(splitCsvLine('D,"a,b","say ""hi""",,x')).toEqual(['D', 'a,b', 'say "hi"', '', 'x'])
    expect(splitCsvLine('C,"END OF REPORT",393')).toEqual(['C', 'END OF REPORT', '393'])
    expect(splitCsvLine('"",""')).toEqual(['', ''])
  })

  test('rejects unbalanced or misplaced quotes', () => {
    expect(splitCsvLine('D,"open')).toBeNull()
    expect(splitCsvLine('D,"a"b')).toBeNull()
    expect(splitCsvLine('D,a"b"')).toBeNull()
  })
})

describe('splitCsvLine fast paths agree with the scanner', () => {
  test.each([
    'D,DISPATCH,UNIT_SCADA,1,"2021/09/02 12:55:00",BARCSF1,5',
    'D,"2021/09/02 12:55:00",x,"2021/09/02 12:50:07"',
    'D,"",""',
    'D,"a,b",c',
    'D,"a""b",c',
    'D,"a"b",c',
    'D,"a',
    'D,a"b',
    'D,"',
    'D,"""',
    'D,"a,"',
  ])('%p', (line) => {
    const expected: Record<string, string[] | null> = {
      'D,DISPATCH,UNIT_SCADA,1,"2021/09/02 12:55:00",BARCSF1,5': [
        'D',
        'DISPATCH',
        'UNIT_SCADA',
        '1',
        '2021/09/02 12:55:00',
        'BARCSF1',
        '5',
      ],
      'D,"2021/09/02 12:55:00",x,"2021/09/02 12:50:07"': [
        'D',
        '2021/09/02 12:55:00',
        'x',
        '2021/09/02 12:50:07',
      ],
      'D,"",""': ['D', '', ''],
      'D,"a,b",c': ['D', 'a,b', 'c'],
      'D,"a""b",c': ['D', 'a"b', 'c'],
      'D,"a,"': ['D', 'a,'],
    }
    expect(splitCsvLine(line)).toEqual(expected[line] ?? null)
  })
})
