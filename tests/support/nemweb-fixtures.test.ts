import { describe, expect, test } from 'bun:test'
import {
  normalizeDispatchIs,
  parseCurrentListing,
  parseMmsCsv,
  singleCsvEntry,
  unzipNested,
} from '@/sources/aemo'
import {
  buildArchiveDayZip,
  buildDispatchIsZip,
  buildListingHtml,
  buildRooftopPvZip,
  buildableIntervals,
  fixtureCsvText,
  AEMO_FIXTURES,
} from './nemweb-fixtures'

const ctx = { correlationId: 'helpers', ingestedAt: '2026-04-01T14:06:00.000Z' }

describe('live-format files built from real archive rows', () => {
  const built = buildDispatchIsZip('2026-04-01T14:05:00Z')

  test('are packaged like NEMWeb: name, member, CRLF, quoted dates, header, correct footer', () => {
    expect(built.name).toMatch(/^PUBLIC_DISPATCHIS_202604020005_\d{16}\.zip$/)
    expect(built.csvName).toBe(built.name.replace(/\.zip$/, '.CSV'))
    expect(singleCsvEntry(built.bytes).name).toBe(built.csvName)
    const lines = built.csv.split('\r\n')
    expect(lines.at(-1)).toBe('')
    expect(lines.slice(0, -1).every((l) => !l.includes('\n'))).toBe(true)
    expect(lines[0]).toMatch(
      /^C,NEMP\.WORLD,DISPATCHIS,AEMO,PUBLIC,2026\/04\/02,00:00:\d\d,\d{16},DISPATCHIS,\d{16}$/
    )
    expect(lines.at(-2)).toBe(`C,"END OF REPORT",${lines.length - 1}`)
    expect(
      lines.filter((l) => l.startsWith('D,')).every((l) => l.includes(',"2026/04/02 00:05:00",'))
    ).toBe(true)
    const csv = parseMmsCsv(built.csv, { strictFooter: true })
    expect(csv.tables.map((t) => t.id)).toEqual([
      'DISPATCH.PRICE.5',
      'DISPATCH.INTERCONNECTORRES.3',
      'DISPATCH.REGIONSUM.9',
    ])
  })

  test('carry the archive rows unchanged apart from the date quotes', () => {
    const archiveRows = fixtureCsvText(AEMO_FIXTURES.price202604)
      .split('\n')
      .filter((l) => l.startsWith('D,DISPATCH,PRICE,5,2026/04/02 00:05:00,'))
    const builtRows = built.csv.split('\r\n').filter((l) => l.startsWith('D,DISPATCH,PRICE,'))
    expect(builtRows.map((l) => l.replaceAll('"', ''))).toEqual(archiveRows)
  })

  test('round-trip through the normaliser with the strict footer', () => {
    const { events, rejects } = normalizeDispatchIs(built, ctx)
    expect(rejects).toEqual([])
    expect(events.map((e) => e.region_id)).toEqual(['NSW1', 'SA1'])
  })

  test('January 2020 intervals carry both runs', () => {
    const { events } = normalizeDispatchIs(buildDispatchIsZip('2020-01-31T05:35:00Z'), ctx)
    expect(events.map((e) => [e.region_id, e.rrp_aud_mwh, e.intervention])).toEqual([
      ['NSW1', 102.16999, true],
      ['SA1', 87.86281, true],
    ])
  })

  test('are reproducible byte for byte, and refuse intervals no fixture covers', () => {
    expect(buildDispatchIsZip('2026-04-01T14:05:00Z').sha256).toBe(built.sha256)
    expect(() => buildDispatchIsZip('2023-01-01T00:00:00Z')).toThrow(
      /no dispatchis archive fixture/
    )
    expect(buildableIntervals('dispatchis')[1]).toEqual({
      from: '2026-03-31T14:05:00Z',
      to: '2026-04-30T14:00:00Z',
    })
  })
})

describe('listing and archive helpers', () => {
  test('a built listing parses back to the files it lists', () => {
    const files = ['2026-04-01T14:05:00Z', '2026-04-01T14:10:00Z'].map(buildDispatchIsZip)
    const page = buildListingHtml('/Reports/Current/DispatchIS_Reports/', files)
    expect(page).toContain('Thursday, April 2, 2026 12:00 AM')
    const entries = parseCurrentListing(
      page,
      'http://127.0.0.1:9999/Reports/Current/DispatchIS_Reports/',
      'PUBLIC_DISPATCHIS'
    )
    expect(entries.map((e) => [e.name, e.interval_end, e.size, e.modified])).toEqual(
      files.map((f) => [
        f.name,
        f.intervalEnd,
        f.bytes.length,
        new Date(Date.parse(f.intervalEnd) - 300_000).toISOString().replace('.000', ''),
      ])
    )
  })

  test('a built Archive day zip holds the 5-minute zips', () => {
    const files = ['2026-04-01T14:05:00Z', '2026-04-01T14:10:00Z'].map(buildDispatchIsZip)
    const day = buildArchiveDayZip('PUBLIC_DISPATCHIS', '2026-04-02', files)
    expect(day.name).toBe('PUBLIC_DISPATCHIS_20260402.zip')
    expect(unzipNested(day.bytes).map((m) => m.name)).toEqual(files.map((f) => f.name))
  })
})

describe('live-format rooftop PV files built from the real archive month', () => {
  const built = buildRooftopPvZip('SATELLITE', '2026-04-29T02:00:00Z')

  test('are named for their publication batch (30 min after the half hour) and carry one type', () => {
    // 12:00 NEM time is 02:00Z; the batch is 12:30 NEM.
    expect(built.name).toMatch(/^PUBLIC_ROOFTOP_PV_ACTUAL_SATELLITE_20260429123000_\d{16}\.zip$/)
    expect(singleCsvEntry(built.bytes).name).toBe(built.csvName)
    const lines = built.csv.split('\r\n')
    expect(lines[0]).toMatch(
      /^C,NEMP\.WORLD,ROOFTOP_PV_ACTUAL_SATELLITE,AEMO,PUBLIC,2026\/04\/29,12:30:00,/
    )
    expect(lines.at(-2)).toBe(`C,"END OF REPORT",${lines.length - 1}`)
    const rows = lines.filter((l) => l.startsWith('D,'))
    expect(rows).toHaveLength(2)
    expect(
      rows.every((l) => l.includes(',"2026/04/29 12:00:00",') && l.includes(',SATELLITE,'))
    ).toBe(true)
  })

  test('carry the archive rows unchanged apart from the date quotes', () => {
    const archive = fixtureCsvText(AEMO_FIXTURES.rooftop202604).split(/\r?\n/)
    for (const row of built.csv.split('\r\n').filter((l) => l.startsWith('D,')))
      expect(archive).toContain(row.replaceAll('"', ''))
  })

  test('refuse half hours the month does not hold', () => {
    expect(() => buildRooftopPvZip('MEASUREMENT', '2026-04-10T02:00:00Z')).toThrow(
      'no MEASUREMENT rows'
    )
    expect(() => buildRooftopPvZip('MEASUREMENT', '2026-04-29T02:05:00Z')).toThrow(
      'not a half-hour end'
    )
  })
})
