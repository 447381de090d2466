import { describe, expect, test } from 'bun:test'
import { eventIdFor, MarketDispatchEventSchema } from '@/canonical'
import { sha256Hex } from '@/lib'
import {
  AEMO_FIXTURES,
  buildDispatchIsZip,
  buildDispatchScadaZip,
  fixtureCsvText,
  fixtureFile,
} from '../../../tests/support/nemweb-fixtures'
import { normalizeDispatchScada } from './dispatch-scada'
import type { DuidMap } from './duid-map'
import type { DuidInfo } from './duid-rules'
import { AemoSourceError } from './errors'

const ctx = { correlationId: 'poll-scada', ingestedAt: '2021-09-02T02:56:01.000Z' }
const live = fixtureFile(AEMO_FIXTURES.liveScada)
const liveText = fixtureCsvText(AEMO_FIXTURES.liveScada)
const liveRows = liveText.split('\r\n').filter((l) => l.startsWith('D,'))

/** Exact watts of a decimal MW string, computed independently of the code under test (BigInt). */
function watts(text: string): bigint {
  const negative = text.startsWith('-')
  const [whole = '0', fraction = ''] = text.replace(/^[-+]/, '').split('.')
  const value =
    BigInt(whole || '0') * 1_000_000n + BigInt(fraction.padEnd(6, '0').slice(0, 6) || '0')
  return negative ? -value : value
}

function textFile(lines: readonly string[]) {
  const body = lines.filter((l) => !l.startsWith('C,"END OF REPORT"'))
  const text = `${[...body, `C,"END OF REPORT",${body.length + 1}`].join('\r\n')}\r\n`
  return { name: 'PUBLIC_DISPATCHSCADA_TEST.CSV', bytes: text, sha256: sha256Hex(text) }
}
const liveLines = () => liveText.trimEnd().split('\r\n')

describe('normalizeDispatchScada over the live file (2021-09-02 12:55, 390 DUIDs)', () => {
  const { events, reconciliation, rejects } = normalizeDispatchScada(live, ctx)
  const [rec] = reconciliation

  test('every row is read and the interval is converted to UTC', () => {
    expect(liveRows).toHaveLength(390)
    expect(rejects).toEqual([])
    expect(reconciliation).toHaveLength(1)
    expect(rec!.interval_end).toBe('2021-09-02T02:55:00Z')
    for (const e of events) {
      expect(MarketDispatchEventSchema.safeParse(e).success).toBe(true)
      expect(e.event_id).toBe(
        eventIdFor({
          event_type: 'MarketDispatchEvent',
          source: 'aemo.dispatch_scada',
          region_id: e.region_id,
          fuel_type: e.fuel_type,
          interval_end: e.interval_end,
        })
      )
      expect(e).toMatchObject({
        source_file: live.name,
        source_sha256: live.sha256,
        interval_end: '2021-09-02T02:55:00Z',
      })
    }
  })

  test('every MW is accounted for: mapped + unmapped = total, exactly, in watts', () => {
    const total = liveRows.reduce((sum, l) => sum + watts(l.split(',')[6]!), 0n)
    expect(BigInt(rec!.total_w)).toBe(total)
    expect(rec!.mapped_w + rec!.unmapped_w).toBe(rec!.total_w)
    expect(rec!.total_mw).toBe(17941.759438)
    expect(rec!.unmapped_duids.reduce((sum, d) => sum + d.value_w, 0)).toBe(rec!.unmapped_w)
  })

  test('the events sum to the mapped MW with scheduled loads turned negative', () => {
    const eventWatts = events.reduce((sum, e) => sum + Math.round(e.value_mw * 1e6), 0)
    expect(eventWatts).toBe(rec!.mapped_w - 2 * rec!.load_w)
    expect(events.reduce((sum, e) => sum + e.unit_count, 0)).toBe(390 - rec!.unmapped_duids.length)
  })

  test('DUIDs missing from the 2026 registration list are listed, never dropped', () => {
    expect(rec!.unmapped_duids).toHaveLength(60)
    expect(rec!.unmapped_duids.map((d) => d.duid)).toContain('LD01')
    expect(rec!.unmapped_duids.find((d) => d.duid === 'HPRL1')).toEqual({
      duid: 'HPRL1',
      value_mw: 27.3,
      value_w: 27_300_000,
    })
    expect(rec!.unmapped_mw).toBe(1165.466357)
  })

  test('pump loads report consumption as positive SCADA and become negative hydro', () => {
    // Wivenhoe: PUMP2 236.86 MW (Load) and W/HOE#1, W/HOE#2 at 0; QLD1's other hydro units at 0 too.
    expect(events.find((e) => e.region_id === 'QLD1' && e.fuel_type === 'hydro')!.value_mw).toBe(
      -236.86
    )
    // The scheduled loads drawing power: PUMP2, and in NSW1 SHPUMP (Shoalhaven) and SNOWYP (Tumut 3).
    expect(BigInt(rec!.load_w)).toBe(watts('236.86') + watts('121.191910') + watts('190.600010'))
  })

  test('auxiliary loads (negative SCADA of generating units) keep their sign under their fuel', () => {
    // GB01 (Broken Hill, diesel) -0.206753 MW; NSW1 has one other distillate unit, at 0.
    expect(
      events.find((e) => e.region_id === 'NSW1' && e.fuel_type === 'distillate')
    ).toMatchObject({ value_mw: -0.206753, unit_count: 2 })
  })
})

describe('battery sign rules (real SCADA values, test DUID map)', () => {
  const unit = (
    fuel_type: DuidInfo['fuel_type'],
    dispatch_type: DuidInfo['dispatch_type']
  ): DuidInfo => ({ region_id: 'SA1', fuel_type, dispatch_type, station: 'test' })
  // Real rows from the live file: HPRL1 27.30 (a battery LOAD DUID, charging), LBBG1 7.050220
  // (battery generating unit, discharging), CLOVER -0.01, PIONEER -1.40, HPRG1 0.
  const map: DuidMap = new Map([
    ['HPRL1', unit('battery_charging', 'load')],
    ['LBBG1', unit('battery_discharging', 'bidirectional_unit')],
    ['CLOVER', unit('battery_discharging', 'bidirectional_unit')],
    ['PIONEER', unit('battery_discharging', 'bidirectional_unit')],
    ['HPRG1', unit('battery_discharging', 'bidirectional_unit')],
  ])
  const keep = new Set(map.keys())
  const lines = liveLines().filter((l) => !l.startsWith('D,') || keep.has(l.split(',')[5]!))
  const { events, reconciliation } = normalizeDispatchScada(textFile(lines), ctx, { duidMap: map })

  test('positive is discharging, negative is charging, signs kept; a battery load counts as charging', () => {
    expect(events.map((e) => [e.fuel_type, e.value_mw, e.unit_count])).toEqual([
      ['battery_charging', -28.71, 3],
      ['battery_discharging', 7.05022, 2],
    ])
    expect(reconciliation[0]).toMatchObject({
      total_w: 27_300_000 + 7_050_220 - 10_000 - 1_400_000,
      load_w: 27_300_000,
    })
  })
})

describe('normalizeDispatchScada over the MMSDM archives (UNIT_SCADA v1, 3 and 4 columns)', () => {
  test.each([
    [AEMO_FIXTURES.scada202408, '2024-07-31T14:05:00Z', 99.7],
    [AEMO_FIXTURES.scada202604, '2026-03-31T14:05:00Z', 74.2],
  ])('%s: two DUIDs per interval, all mapped', (fixture, first, hdwf2) => {
    const { events, reconciliation, rejects } = normalizeDispatchScada(fixtureFile(fixture), ctx, {
      strictFooter: false,
    })
    expect(rejects).toEqual([])
    expect(reconciliation).toHaveLength(1440)
    expect(reconciliation.every((r) => r.unmapped_w === 0 && r.mapped_w === r.total_w)).toBe(true)
    expect(events).toHaveLength(2880)
    expect(
      events
        .slice(0, 2)
        .map((e) => [e.interval_end, e.region_id, e.fuel_type, e.value_mw, e.unit_count])
    ).toEqual([
      [first, 'SA1', 'gas', 0, 1],
      [first, 'SA1', 'wind', hdwf2, 1],
    ])
  })

  test('a live-format file built from the archive rows round-trips with the strict footer', () => {
    const built = buildDispatchScadaZip('2026-04-01T14:05:00Z')
    const { events } = normalizeDispatchScada(built, ctx)
    expect(events.map((e) => [e.fuel_type, e.source_file])).toEqual([
      ['gas', built.name],
      ['wind', built.name],
    ])
  })
})

describe('bad SCADA rows', () => {
  const lines = liveLines()
  const at = (duid: string) => lines.findIndex((l) => l.includes(`,${duid},`))

  test('a non-numeric SCADAVALUE is rejected; the rest of the file is still ingested and reconciled', () => {
    const broken = [...lines]
    broken[at('BARCSF1')] = broken[at('BARCSF1')]!.replace(/,5$/, ',#N/A')
    const { events, reconciliation, rejects } = normalizeDispatchScada(textFile(broken), ctx)
    expect(rejects.map((r) => [r.code, r.row, r.raw])).toEqual([
      ['non_numeric_value', at('BARCSF1') + 1, broken[at('BARCSF1')]!],
    ])
    expect(events.length).toBeGreaterThan(20)
    expect(reconciliation[0]!.total_w).toBe(17_941_759_438 - 5_000_000)
  })

  test('an empty SCADAVALUE is not zero: it is rejected', () => {
    const broken = [...lines]
    broken[at('BARCSF1')] = broken[at('BARCSF1')]!.replace(/,5$/, ',')
    expect(normalizeDispatchScada(textFile(broken), ctx).rejects.map((r) => r.code)).toEqual([
      'non_numeric_value',
    ])
  })

  test('an unknown DUID is kept in the reconciliation', () => {
    const extra = lines[at('BARCSF1')]!.replace('BARCSF1', 'NOTAUNIT1')
    const { reconciliation } = normalizeDispatchScada(
      textFile([...lines.slice(0, -1), extra, lines.at(-1)!]),
      ctx
    )
    expect(reconciliation[0]!.unmapped_duids).toContainEqual({
      duid: 'NOTAUNIT1',
      value_mw: 5,
      value_w: 5_000_000,
    })
    expect(reconciliation[0]!.mapped_w + reconciliation[0]!.unmapped_w).toBe(
      reconciliation[0]!.total_w
    )
  })

  test('a repeated row counts once; disagreeing rows for one DUID are all rejected', () => {
    const repeat = lines[at('BARCSF1')]!
    const conflict = lines[at('YWPS3')]!.replace('221.072160', '1')
    const { reconciliation, rejects } = normalizeDispatchScada(
      textFile([...lines.slice(0, -1), repeat, conflict, lines.at(-1)!]),
      ctx
    )
    expect(rejects.map((r) => r.code).sort()).toEqual([
      'conflicting_rows',
      'conflicting_rows',
      'duplicate_row',
    ])
    expect(reconciliation[0]!.total_w).toBe(17_941_759_438 - 221_072_160)
  })

  test('a truncated live file is rejected whole', () => {
    const cut = liveText.slice(0, liveText.length / 2)
    expect(() => normalizeDispatchScada({ ...live, bytes: cut }, ctx)).toThrow(AemoSourceError)
  })
})

describe('wrong files', () => {
  test('a file without DISPATCH.UNIT_SCADA is refused, not silently empty', () => {
    expect(() => normalizeDispatchScada(buildDispatchIsZip('2026-04-01T14:05:00Z'), ctx)).toThrow(
      expect.objectContaining({ code: 'table_missing' })
    )
  })
})
