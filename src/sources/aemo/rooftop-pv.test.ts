import { describe, expect, test } from 'bun:test'
import { sha256Hex, toUtcIso } from '@/lib'
import {
  AEMO_FIXTURES,
  buildRooftopPvZip,
  fixtureCsvText,
  fixtureFile,
  LIVE_ROOFTOP_CSV_20240303,
} from '../../../tests/support/nemweb-fixtures'
import { AemoSourceError } from './errors'
import { normalizeRooftopPv } from './rooftop-pv'

const ctx = { correlationId: 'c-rooftop', ingestedAt: '2026-11-28T00:00:00.000Z' }
const csvFile = (name: string, csv: string) => ({ name, bytes: csv, sha256: sha256Hex(csv) })

/** The archive month's D rows, read with plain string splitting (not the product's parser). */
function archiveRows() {
  const lines = fixtureCsvText(AEMO_FIXTURES.rooftop202604).split(/\r?\n/)
  const header = lines.find((l) => l.startsWith('I,ROOFTOP,ACTUAL,'))!.split(',')
  const col = (name: string) => header.indexOf(name)
  return lines
    .filter((l) => l.startsWith('D,ROOFTOP,ACTUAL,'))
    .map((l) => l.split(','))
    .map((f) => ({
      // NEM time is UTC+10 all year.
      interval_end: toUtcIso(
        Date.parse(`${f[col('INTERVAL_DATETIME')]!.replaceAll('/', '-').replace(' ', 'T')}+10:00`)
      ),
      region_id: f[col('REGIONID')],
      estimate_type: f[col('TYPE')],
      power_mw: Number(f[col('POWER')]),
      quality_indicator: Number(f[col('QI')]),
    }))
}

describe('rooftop PV normalisation', () => {
  test('the real April 2026 archive month: one event per region, half hour and type, POWER and QI as published', () => {
    const rows = archiveRows()
    const result = normalizeRooftopPv(fixtureFile(AEMO_FIXTURES.rooftop202604), ctx, {
      // MMSDM extracts keep the unfiltered month's footer (PROVENANCE.md).
      strictFooter: false,
    })

    expect(result.rejects).toEqual([])
    expect(rows).toHaveLength(960)
    expect(result.events).toHaveLength(rows.length)
    const byKey = new Map(
      result.events.map((e) => [`${e.region_id}|${e.interval_end}|${e.estimate_type}`, e])
    )
    for (const row of rows) {
      const event = byKey.get(`${row.region_id}|${row.interval_end}|${row.estimate_type}`)!
      expect(event).toMatchObject({ ...row, basis: 'region', sub_regions: [] })
    }
    // INTERVAL_DATETIME is the END of the half hour: the month runs 00:30 on the 1st to 00:00 on
    // the 1st of May (NEM time).
    const ends = result.events.map((e) => e.interval_end).sort()
    expect([ends[0], ends.at(-1)]).toEqual(['2026-03-31T14:30:00Z', '2026-04-30T14:00:00Z'])
    expect(new Set(result.events.map((e) => e.source))).toEqual(new Set(['aemo.rooftop_pv']))
  })

  test('a live-format file (built from archive rows) passes the footer check and carries one type', () => {
    const file = buildRooftopPvZip('SATELLITE', '2026-04-29T02:00:00Z')
    const result = normalizeRooftopPv(file, ctx)

    expect(result.rejects).toEqual([])
    expect(
      result.events.map((e) => [e.region_id, e.estimate_type, e.power_mw, e.quality_indicator])
    ).toEqual([
      ['NSW1', 'SATELLITE', 4096.279, 0.6],
      ['SA1', 'SATELLITE', 1409.229, 0.6],
    ])
    expect(result.events[0]!.source_file).toBe(file.name)
  })

  test('a real live file with sub-regions: each region once, from its own row; sub-regions as detail', () => {
    const result = normalizeRooftopPv(
      csvFile(
        'PUBLIC_ROOFTOP_PV_ACTUAL_MEASUREMENT_20240303200000_0000000412707330.CSV',
        LIVE_ROOFTOP_CSV_20240303
      ),
      ctx
    )

    expect(result.rejects).toEqual([])
    expect(result.events.map((e) => [e.region_id, e.power_mw, e.basis])).toEqual([
      ['NSW1', 0, 'region'],
      ['QLD1', 0, 'region'],
      ['SA1', 6.617, 'region'],
      ['TAS1', 0, 'region'],
      ['VIC1', 0, 'region'],
    ])
    const qld = result.events.find((e) => e.region_id === 'QLD1')!
    expect(qld.sub_regions.map((s) => s.sub_region_id)).toEqual(['QLDC', 'QLDN', 'QLDS'])
    expect(qld).toMatchObject({
      interval_end: '2024-03-03T09:30:00Z',
      quality_indicator: 1,
      last_changed: '2024-03-03T09:49:13Z',
    })
  })

  // The real file's sub-regions are all 0 MW at 19:30; the rows below are its rows with one value
  // changed (QLDN given SA1's 6.617) so that adding them up would show.
  const withQldn = LIVE_ROOFTOP_CSV_20240303.replace(',QLDN,0,', ',QLDN,6.617,')

  test('a sub-region never adds to a region that has its own row (no double counting)', () => {
    const result = normalizeRooftopPv(csvFile('x.CSV', withQldn), ctx)

    const qld = result.events.find((e) => e.region_id === 'QLD1')!
    expect(qld.power_mw).toBe(0)
    expect(qld.basis).toBe('region')
    expect(qld.sub_regions.find((s) => s.sub_region_id === 'QLDN')!.power_mw).toBe(6.617)
  })

  test('without a row of its own a region is the sum of all its sub-regions; an incomplete set is rejected', () => {
    const lines = withQldn.split('\r\n').filter((l) => !/,(QLD1|TAS1|TASS),/.test(l))
    // Three lines fewer: the footer follows.
    lines[lines.length - 2] = 'C,"END OF REPORT",10'
    const result = normalizeRooftopPv(csvFile('x.CSV', lines.join('\r\n')), ctx)

    const qld = result.events.find((e) => e.region_id === 'QLD1')!
    expect(qld).toMatchObject({ power_mw: 6.617, basis: 'sub_regions', quality_indicator: 1 })
    expect(qld.sub_regions.map((s) => [s.sub_region_id, s.power_mw])).toEqual([
      ['QLDC', 0],
      ['QLDN', 6.617],
      ['QLDS', 0],
    ])
    // TASN alone is not Tasmania: nothing for TAS1, and the row is dead-lettered with the reason.
    expect(result.events.some((e) => e.region_id === 'TAS1')).toBe(false)
    expect(result.rejects).toMatchObject([{ code: 'incomplete_sub_regions', row: 8 }])
    expect(result.rejects[0]!.reason).toContain('TAS1 has no row of its own')
  })
})

describe('bad rooftop PV input', () => {
  const live = buildRooftopPvZip('MEASUREMENT', '2026-04-01T02:00:00Z').csv
  const lines = live.split('\r\n')
  const at = (region: string) => lines.findIndex((l) => l.includes(`,${region},`))
  /** The live file with `edit` applied and its footer recounted (so only the edit is wrong). */
  const file = (edit: (l: string[]) => void) => {
    const copy = lines.slice(0, -2)
    edit(copy)
    copy.push(`C,"END OF REPORT",${copy.length + 1}`, '')
    return csvFile(
      'PUBLIC_ROOFTOP_PV_ACTUAL_MEASUREMENT_20260401123000_0000000000000000.CSV',
      copy.join('\r\n')
    )
  }

  test('a bad row is one dead letter with its line and reason; the other region is still ingested', () => {
    const cases: [string, (line: string) => string, string][] = [
      ['non-numeric POWER', (l) => l.replace(/,NSW1,[^,]+,/, ',NSW1,#N/A,'), 'non_numeric_value'],
      ['empty POWER', (l) => l.replace(/,NSW1,[^,]+,/, ',NSW1,,'), 'missing_value'],
      ['negative POWER', (l) => l.replace(/,NSW1,[^,]+,/, ',NSW1,-5,'), 'out_of_range'],
      ['unknown region', (l) => l.replace(',NSW1,', ',NSW9,'), 'unknown_region'],
      ['unknown TYPE', (l) => l.replace('MEASUREMENT', 'GUESS'), 'unknown_estimate_type'],
      ['off-grid time', (l) => l.replace('12:00:00', '12:05:00'), 'invalid_interval'],
      ['QI above 1', (l) => l.replace(/,1$/, ',7'), 'out_of_range'],
    ]
    for (const [what, edit, code] of cases) {
      const result = normalizeRooftopPv(
        file((l) => {
          l[at('NSW1')] = edit(l[at('NSW1')]!)
        }),
        ctx
      )
      expect([what, result.events.map((e) => e.region_id)]).toEqual([what, ['SA1']])
      expect([what, result.rejects.map((r) => [r.code, r.row])]).toEqual([
        what,
        [[code, at('NSW1') + 1]],
      ])
      expect(result.rejects[0]!.raw).not.toBe(lines[at('NSW1')])
    }
  })

  test('a repeated row counts once; rows that disagree are all rejected, whatever their order', () => {
    const repeated = normalizeRooftopPv(
      file((l) => l.splice(at('SA1') + 1, 0, l[at('SA1')]!)),
      ctx
    )
    expect(repeated.events.map((e) => [e.region_id, e.power_mw])).toEqual([
      ['NSW1', 4936.735],
      ['SA1', 1311.201],
    ])
    expect(repeated.rejects.map((r) => [r.code, r.row])).toEqual([['duplicate_row', at('SA1') + 2]])

    const other = lines[at('SA1')]!.replace(',1311.201,', ',1524.355,')
    for (const order of [
      [lines[at('SA1')]!, other],
      [other, lines[at('SA1')]!],
    ]) {
      const conflicting = normalizeRooftopPv(
        file((l) => l.splice(at('SA1'), 1, ...order)),
        ctx
      )
      expect(conflicting.events.map((e) => e.region_id)).toEqual(['NSW1'])
      expect(conflicting.rejects.map((r) => r.code)).toEqual([
        'conflicting_rows',
        'conflicting_rows',
      ])
    }
  })

  test('a truncated file is refused whole with a retryable error; nothing is half ingested', () => {
    const cut = lines.filter((_, i) => i !== at('SA1')).join('\r\n')
    expect(() => normalizeRooftopPv(csvFile('cut.CSV', cut), ctx)).toThrow(AemoSourceError)
    try {
      normalizeRooftopPv(csvFile('cut.CSV', cut), ctx)
    } catch (error) {
      expect((error as AemoSourceError).code).toBe('csv_line_count_mismatch')
      expect((error as AemoSourceError).retryable).toBe(true)
    }
  })

  test('a file without the ROOFTOP.ACTUAL table is refused as table_missing', () => {
    const other = 'C,NEMP.WORLD,X,AEMO,PUBLIC,2026/04/01,12:30:00,1,X,1\r\nC,"END OF REPORT",2\r\n'
    expect(() => normalizeRooftopPv(csvFile('x.CSV', other), ctx)).toThrow(
      'no ROOFTOP.ACTUAL table'
    )
  })
})
