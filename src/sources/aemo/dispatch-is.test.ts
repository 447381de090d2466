import { describe, expect, test } from 'bun:test'
import {
  eventIdFor,
  RegionFcasPriceEventSchema,
  type RegionPriceEvent,
  RegionPriceEventSchema,
} from '@/canonical'
import { sha256Hex } from '@/lib'
import {
  AEMO_FIXTURES,
  buildDispatchIsCsv,
  buildDispatchIsZip,
  fixtureCsvText,
  fixtureFile,
} from '../../../tests/support/nemweb-fixtures'
import { DISPATCH_IS_TABLES, normalizeDispatchIs, normalizeDispatchIsFiles } from './dispatch-is'
import { AemoSourceError } from './errors'
import { readSourceFile } from './source-file'

const ctx = { correlationId: 'poll-2026-04-01T14:05Z', ingestedAt: '2026-04-01T14:06:12.345Z' }
const archive = (fixture: string) =>
  readSourceFile(fixtureFile(fixture), DISPATCH_IS_TABLES, { strictFooter: false })

/** A CSV text as a source file; `footer` recomputes `C,"END OF REPORT",n` so strict mode accepts it. */
function textFile(lines: readonly string[], name = 'PUBLIC_DISPATCHIS_TEST.CSV') {
  const body = lines.filter((l) => !l.startsWith('C,"END OF REPORT"'))
  const text = `${[...body, `C,"END OF REPORT",${body.length + 1}`].join('\r\n')}\r\n`
  return { name, bytes: text, sha256: sha256Hex(text) }
}
const linesOf = (intervalEnd: string) => buildDispatchIsCsv(intervalEnd).trimEnd().split('\r\n')

/** Deterministic shuffle (mulberry32), so a failure reproduces. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items]
  let a = seed
  for (let i = out.length - 1; i > 0; i--) {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    const j = Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

/** The CSV text with its D rows in another order (header, I rows and footer kept in place). */
function shuffleRows(text: string, seed: number): string {
  const lines = text.replace(/\r?\n$/, '').split(/\r?\n/)
  const iAt = lines.findIndex((l) => l.startsWith('I,'))
  const data = lines.filter((l) => l.startsWith('D,'))
  return [
    ...lines.slice(0, iAt + 1),
    ...shuffled(data, seed),
    ...lines.slice(iAt + 1 + data.length),
  ].join('\n')
}

describe('normalizeDispatchIs over the April 2026 archive (PRICE v5 + REGIONSUM v9, separate files)', () => {
  const price = archive(AEMO_FIXTURES.price202604)
  const regionsum = archive(AEMO_FIXTURES.regionsum202604)
  const { events, rejects } = normalizeDispatchIsFiles([price, regionsum], ctx)

  test('one event per region and interval, all valid, none rejected', () => {
    expect(rejects).toEqual([])
    expect(events).toHaveLength(2880)
    expect(new Set(events.map((e) => e.region_id))).toEqual(new Set(['NSW1', 'SA1']))
    for (const e of events) expect(RegionPriceEventSchema.safeParse(e).success).toBe(true)
    expect(events.some((e) => e.intervention)).toBe(false)
  })

  test('the first interval carries the real values of both tables, converted to UTC', () => {
    const nsw = events.find(
      (e) => e.region_id === 'NSW1' && e.interval_end === '2026-03-31T14:05:00Z'
    )
    expect(nsw).toEqual({
      event_id: eventIdFor({
        event_type: 'RegionPriceEvent',
        source: 'aemo.dispatchis',
        region_id: 'NSW1',
        interval_end: '2026-03-31T14:05:00Z',
      }),
      schema_version: 1,
      correlation_id: ctx.correlationId,
      source: 'aemo.dispatchis',
      source_file: 'PUBLIC_ARCHIVE%23DISPATCHPRICE%23FILE01%23202604010000.zip',
      source_sha256: fixtureFile(AEMO_FIXTURES.price202604).sha256,
      // The archive CSV's line 3: `D,DISPATCH,PRICE,5,2026/04/01 00:05:00,1,NSW1,…,65.01005,…`.
      source_row: 3,
      ingested_at: ctx.ingestedAt,
      event_type: 'RegionPriceEvent',
      region_id: 'NSW1',
      interval_end: '2026-03-31T14:05:00Z',
      rrp_aud_mwh: 65.01005,
      total_demand_mw: expect.any(Number),
      available_generation_mw: expect.any(Number),
      net_interchange_mw: expect.any(Number),
      intervention: false,
      price_status: 'FIRM',
      apc_flag: 0,
      market_suspended_flag: 0,
      ocd_status: 'NOT_OCD',
      mii_status: 'MII_PRICE_ACCEPTED',
      ss_solar_uigf_mw: expect.any(Number),
      ss_wind_uigf_mw: expect.any(Number),
      ss_solar_cleared_mw: expect.any(Number),
      ss_wind_cleared_mw: expect.any(Number),
      bdu_cleared_gen_mw: 0,
      bdu_cleared_load_mw: 22,
      bdu_energy_storage_mwh: 1702.03835,
    })
  })

  test('demand fields match the REGIONSUM row of the same interval and region', () => {
    const last = events.find(
      (e) => e.region_id === 'SA1' && e.interval_end === '2026-04-30T14:00:00Z'
    )!
    // D,DISPATCH,REGIONSUM,9,2026/05/01 00:00:00,1,SA1,20260430240,0,1507.69,3816.39486,973,-3,1844.98,9,328.3,…
    expect([
      last.rrp_aud_mwh,
      last.total_demand_mw,
      last.available_generation_mw,
      last.net_interchange_mw,
    ]).toEqual([-2.01, 1507.69, 3816.39486, 328.3])
  })

  test('a PRICE file alone yields events with null demand fields', () => {
    const alone = normalizeDispatchIsFiles([price], ctx)
    expect(alone.rejects).toEqual([])
    expect(alone.events).toHaveLength(2880)
    expect(
      alone.events.every(
        (e) =>
          e.total_demand_mw === null &&
          e.available_generation_mw === null &&
          e.net_interchange_mw === null
      )
    ).toBe(true)
  })

  test('a REGIONSUM file alone yields no events, and says why for every row', () => {
    const alone = normalizeDispatchIsFiles([regionsum], ctx)
    expect(alone.events).toEqual([])
    expect(alone.rejects).toHaveLength(2880)
    expect(new Set(alone.rejects.map((r) => r.code))).toEqual(new Set(['price_row_missing']))
  })

  test('the same file given twice changes nothing (identical rows are not conflicts)', () => {
    expect(normalizeDispatchIsFiles([price, regionsum, regionsum], ctx).events).toEqual(events)
  })
})

describe('intervention (January 2020 archive: PRICE v1 + REGIONSUM v4 with real INTERVENTION=1 runs)', () => {
  const priceText = fixtureCsvText(AEMO_FIXTURES.price202001)
  const regionsumText = fixtureCsvText(AEMO_FIXTURES.regionsum202001)
  const { events, rejects } = normalizeDispatchIsFiles(
    [archive(AEMO_FIXTURES.price202001), archive(AEMO_FIXTURES.regionsum202001)],
    ctx
  )

  // RRP of every INTERVENTION=0 and =1 row, by "interval|region", straight from the CSV text.
  const runs = new Map<string, { 0?: number; 1?: number }>()
  for (const line of priceText.split(/\r?\n/)) {
    const f = line.split(',')
    if (f[0] !== 'D') continue
    const key = `${f[4]}|${f[6]}`
    runs.set(key, { ...runs.get(key), [Number(f[8])]: Number(f[9]) })
  }
  const rawKey = (e: { interval_end: string; region_id: string }) => {
    const t = new Date(Date.parse(e.interval_end) + 10 * 3600_000).toISOString()
    return `${t.slice(0, 10).replaceAll('-', '/')} ${t.slice(11, 19)}|${e.region_id}`
  }

  test('every interval gets one event per region; the 144 INTERVENTION=1 rows add none', () => {
    expect(rejects).toEqual([])
    expect(events).toHaveLength(3024 - 144)
    expect(events.filter((e) => e.intervention)).toHaveLength(144)
    const flagged = new Set(events.filter((e) => e.intervention).map((e) => e.interval_end))
    expect([...flagged].sort()[0]).toBe('2020-01-31T05:35:00Z')
    expect([...flagged].sort().at(-1)).toBe('2020-01-31T11:30:00Z')
  })

  test('prices equal the INTERVENTION=0 (pricing run) RRP exactly', () => {
    let differing = 0
    for (const e of events) {
      const run = runs.get(rawKey(e))!
      expect(e.rrp_aud_mwh).toBe(run[0]!)
      if (e.intervention) {
        expect(run[1]).toBeNumber()
        if (run[1] !== run[0]) differing++
      } else {
        expect(run[1]).toBeUndefined()
      }
    }
    expect(differing).toBeGreaterThan(100)
  })

  test('physical quantities come from the intervention run when there is one', () => {
    const sa1 = events.find(
      (e) => e.region_id === 'SA1' && e.interval_end === '2020-01-31T05:35:00Z'
    )!
    // REGIONSUM SA1 2020/01/31 15:35: NETINTERCHANGE 94.58 in run 0, 43.93 in run 1.
    expect(sa1).toMatchObject({
      rrp_aud_mwh: 87.86281,
      total_demand_mw: 2743.51,
      available_generation_mw: 4140.397,
      net_interchange_mw: 43.93,
      intervention: true,
    })
  })

  test('the result does not depend on row order', () => {
    for (const seed of [1, 2, 3]) {
      const files = [
        readSourceFile(
          { ...fixtureFile(AEMO_FIXTURES.price202001), bytes: shuffleRows(priceText, seed) },
          DISPATCH_IS_TABLES,
          { strictFooter: false }
        ),
        readSourceFile(
          {
            ...fixtureFile(AEMO_FIXTURES.regionsum202001),
            bytes: shuffleRows(regionsumText, seed + 10),
          },
          DISPATCH_IS_TABLES,
          { strictFooter: false }
        ),
      ]
      expect(files[0]!.csv.tables[0]!.rows[0]!.raw).not.toBe(
        archive(AEMO_FIXTURES.price202001).csv.tables[0]!.rows[0]!.raw
      )
      const again = normalizeDispatchIsFiles(files, ctx)
      expect(again.rejects).toEqual([])
      // Each event names its price row's line, which moves with the shuffle; nothing else may.
      const lineless = (e: RegionPriceEvent) => ({ ...e, source_row: null })
      expect(again.events.map(lineless)).toEqual(events.map(lineless))
      expect(again.events.map((e) => e.source_row)).not.toEqual(events.map((e) => e.source_row))
    }
  })

  test('an INTERVENTION=1 price without its pricing-run row is rejected, not used as the price', () => {
    const lines = linesOf('2020-01-31T05:35:00Z').filter(
      (l) => !/^D,DISPATCH,PRICE,1,[^,]+,1,SA1,\d+,0,/.test(l)
    )
    const result = normalizeDispatchIs(textFile(lines), ctx)
    expect(result.events.map((e) => e.region_id)).toEqual(['NSW1'])
    expect(result.rejects.map((r) => [r.code, r.table])).toEqual([
      ['pricing_run_missing', 'DISPATCH.PRICE.1'],
    ])
  })
})

describe('live-format files (real April 2026 rows in NEMWeb packaging)', () => {
  const built = buildDispatchIsZip('2026-04-01T14:05:00Z')

  test('the zip itself can be given; strict footer passes; other tables are ignored', () => {
    const { events, rejects } = normalizeDispatchIs(built, ctx)
    expect(rejects).toEqual([])
    expect(
      events.map((e) => [
        e.region_id,
        e.interval_end,
        e.rrp_aud_mwh,
        e.source_file,
        e.source_sha256,
      ])
    ).toEqual([
      ['NSW1', '2026-04-01T14:05:00Z', expect.any(Number), built.name, built.sha256],
      ['SA1', '2026-04-01T14:05:00Z', expect.any(Number), built.name, built.sha256],
    ])
  })

  test('a truncated CSV is rejected whole: no half ingest', () => {
    const cut = built.csv.slice(0, Math.floor(built.csv.length * 0.7))
    const error = (() => {
      try {
        normalizeDispatchIs({ name: built.csvName, bytes: cut, sha256: sha256Hex(cut) }, ctx)
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(AemoSourceError)
    expect((error as AemoSourceError).code).toBe('csv_footer_missing')
  })

  test('a truncated or corrupt zip is rejected with a typed error', () => {
    expect(() =>
      normalizeDispatchIs(
        { ...built, bytes: built.bytes.subarray(0, built.bytes.length - 40) },
        ctx
      )
    ).toThrow(expect.objectContaining({ code: 'zip_truncated' }))
    const corrupt = built.bytes.slice()
    corrupt[200] = corrupt[200]! ^ 0x55
    expect(() => normalizeDispatchIs({ ...built, bytes: corrupt }, ctx)).toThrow(AemoSourceError)
  })

  test('a bad context fails fast instead of failing every event', () => {
    expect(() => normalizeDispatchIs(built, { ...ctx, ingestedAt: 'yesterday' })).toThrow(
      expect.objectContaining({ code: 'invalid_input' })
    )
    expect(() => normalizeDispatchIs({ ...built, sha256: 'ABC' }, ctx)).toThrow(
      expect.objectContaining({ code: 'invalid_input' })
    )
  })
})

describe('bad rows are rejected and the rest of the file is still ingested', () => {
  const base = linesOf('2026-04-01T14:05:00Z')
  const priceRow = (region: string) =>
    base.findIndex((l) => l.startsWith('D,DISPATCH,PRICE,') && l.includes(`,${region},`))
  const regionsumRow = (region: string) =>
    base.findIndex((l) => l.startsWith('D,DISPATCH,REGIONSUM,') && l.includes(`,${region},`))
  const withField = (line: string, index: number, value: string) => {
    const f = line.split(',')
    f[index] = value
    return f.join(',')
  }
  // Field positions in these rows: 4 SETTLEMENTDATE, 6 REGIONID, 8 INTERVENTION, 9 RRP / TOTALDEMAND.

  test('a non-numeric RRP rejects that row only', () => {
    const lines = [...base]
    lines[priceRow('SA1')] = withField(lines[priceRow('SA1')]!, 9, 'n/a')
    const { events, rejects } = normalizeDispatchIs(textFile(lines), ctx)
    expect(events.map((e) => e.region_id)).toEqual(['NSW1'])
    expect(rejects).toEqual([
      {
        code: 'non_numeric_value',
        reason: 'RRP "n/a" is not a number',
        row: priceRow('SA1') + 1,
        raw: lines[priceRow('SA1')]!,
        table: 'DISPATCH.PRICE.5',
        file: 'PUBLIC_DISPATCHIS_TEST.CSV',
      },
    ])
  })

  test('an unknown region (WA1) is rejected; NEM regions still produce events', () => {
    const wa = withField(base[priceRow('SA1')]!, 6, 'WA1')
    const lines = [...base.slice(0, priceRow('SA1') + 1), wa, ...base.slice(priceRow('SA1') + 1)]
    const { events, rejects } = normalizeDispatchIs(textFile(lines), ctx)
    expect(events.map((e) => e.region_id)).toEqual(['NSW1', 'SA1'])
    expect(rejects.map((r) => [r.code, r.row, r.raw])).toEqual([
      ['unknown_region', priceRow('SA1') + 2, wa],
    ])
  })

  test('out-of-range values are rejected where they are; a bad REGIONSUM row leaves the price event with null demand', () => {
    const lines = [...base]
    lines[priceRow('NSW1')] = withField(lines[priceRow('NSW1')]!, 9, '250000')
    lines[regionsumRow('SA1')] = withField(lines[regionsumRow('SA1')]!, 9, '-999999')
    const { events, rejects } = normalizeDispatchIs(textFile(lines), ctx)
    expect(rejects.map((r) => [r.code, r.table])).toEqual([
      ['out_of_range', 'DISPATCH.PRICE.5'],
      ['out_of_range', 'DISPATCH.REGIONSUM.9'],
    ])
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({
      region_id: 'SA1',
      total_demand_mw: null,
      available_generation_mw: null,
      net_interchange_mw: null,
    })
  })

  test('a negative price within the market floor is accepted', () => {
    const lines = [...base]
    lines[priceRow('SA1')] = withField(lines[priceRow('SA1')]!, 9, '-1000')
    expect(
      normalizeDispatchIs(textFile(lines), ctx).events.find((e) => e.region_id === 'SA1')!
        .rrp_aud_mwh
    ).toBe(-1000)
  })

  test('an unknown table version missing required columns rejects its rows; a new version with them is read by name', () => {
    const v99 = [
      'I,DISPATCH,PRICE,99,SETTLEMENTDATE,REGIONID,INTERVENTION,PRICE_IN_CENTS',
      'D,DISPATCH,PRICE,99,"2026/04/02 00:10:00",NSW1,0,7000',
    ]
    const v6 = [
      'I,DISPATCH,PRICE,6,NEWFIRST,REGIONID,RRP,INTERVENTION,SETTLEMENTDATE',
      'D,DISPATCH,PRICE,6,x,VIC1,71.5,0,"2026/04/02 00:10:00"',
    ]
    const { events, rejects } = normalizeDispatchIs(textFile([...base, ...v99, ...v6]), ctx)
    expect(events.map((e) => [e.region_id, e.interval_end, e.rrp_aud_mwh])).toEqual([
      ['NSW1', '2026-04-01T14:05:00Z', expect.any(Number)],
      ['SA1', '2026-04-01T14:05:00Z', expect.any(Number)],
      ['VIC1', '2026-04-01T14:10:00Z', 71.5],
    ])
    expect(rejects.map((r) => [r.code, r.table, r.raw])).toEqual([
      ['missing_columns', 'DISPATCH.PRICE.99', v99[1]],
    ])
    expect(rejects[0]!.reason).toContain('RRP')
  })

  test('rows that disagree for the same interval, region and run are all rejected, whatever their order', () => {
    const twin = withField(base[priceRow('SA1')]!, 9, '12.34')
    const lines = [...base, twin]
    const { events, rejects } = normalizeDispatchIs(textFile(lines), ctx)
    expect(events.map((e) => e.region_id)).toEqual(['NSW1'])
    expect(rejects.map((r) => r.code)).toEqual(['conflicting_rows', 'conflicting_rows'])
  })

  test('malformed dates and intervention flags are rejected', () => {
    const lines = [...base]
    lines[priceRow('SA1')] = withField(lines[priceRow('SA1')]!, 4, '"2026/04/31 00:05:00"')
    lines[priceRow('NSW1')] = withField(lines[priceRow('NSW1')]!, 8, '2')
    const { events, rejects } = normalizeDispatchIs(textFile(lines), ctx)
    expect(events).toEqual([])
    expect(rejects.map((r) => r.code).sort()).toEqual(
      [
        'invalid_intervention',
        'invalid_settlement_date',
        'price_row_missing',
        'price_row_missing',
      ].sort()
    )
  })
})

describe('FCAS prices and price flags (DISPATCH.PRICE)', () => {
  const april = normalizeDispatchIsFiles(
    [archive(AEMO_FIXTURES.price202604), archive(AEMO_FIXTURES.regionsum202604)],
    ctx
  )
  const january = normalizeDispatchIsFiles(
    [archive(AEMO_FIXTURES.price202001), archive(AEMO_FIXTURES.regionsum202001)],
    ctx
  )

  test('PRICE v5 (April 2026): ten services per region and interval, all valid, in a stable order', () => {
    expect(april.fcas).toHaveLength(2880 * 10)
    for (const e of april.fcas) expect(RegionFcasPriceEventSchema.safeParse(e).success).toBe(true)
    const first = april.fcas.slice(0, 10)
    // D,DISPATCH,PRICE,5,2026/04/01 00:05:00,1,NSW1,…: RAISE6SECRRP 0.09, RAISE60SECRRP 0.09,
    // RAISE5MINRRP 0.05, RAISEREGRRP 0.42, LOWER6SEC/60SEC/5MIN 0, LOWERREGRRP 0.42,
    // RAISE1SECRRP 0.03, LOWER1SECRRP 0; every APC flag 0; FIRM.
    expect(first.map((e) => [e.region_id, e.interval_end, e.service, e.price_aud_mw_h])).toEqual(
      (
        [
          ['raise_1sec', 0.03],
          ['raise_6sec', 0.09],
          ['raise_60sec', 0.09],
          ['raise_5min', 0.05],
          ['raise_reg', 0.42],
          ['lower_1sec', 0],
          ['lower_6sec', 0],
          ['lower_60sec', 0],
          ['lower_5min', 0],
          ['lower_reg', 0.42],
        ] as const
      ).map(([service, price]) => ['NSW1', '2026-03-31T14:05:00Z', service, price])
    )
    expect(first.every((e) => e.apc_flag === 0 && e.price_status === 'FIRM')).toBe(true)
    expect(first[1]!.event_id).toBe(
      eventIdFor({
        event_type: 'RegionFcasPriceEvent',
        source: 'aemo.dispatchis',
        region_id: 'NSW1',
        service: 'raise_6sec',
        interval_end: '2026-03-31T14:05:00Z',
      })
    )
  })

  test('PRICE v1 (January 2020) has no 1-second columns: those services are absent, not zero', () => {
    expect(january.rejects).toEqual([])
    expect(january.fcas).toHaveLength(2880 * 8)
    expect(january.fcas.some((e) => e.service.endsWith('_1sec'))).toBe(false)
  })

  test('FCAS prices are the pricing run’s, with their own APC flags, at up to the price cap', () => {
    // D,DISPATCH,PRICE,1,2020/02/01 00:00:00,1,SA1,…,0,200.4,0,200.4,0,0,…,14700,14870.67,4,…
    const sa1 = january.fcas.filter(
      (e) => e.region_id === 'SA1' && e.interval_end === '2020-01-31T14:00:00Z'
    )
    expect(sa1.find((e) => e.service === 'raise_6sec')).toMatchObject({
      price_aud_mw_h: 14700,
      apc_flag: 4,
      intervention: false,
    })
    // 15:35 NEM time has an INTERVENTION=1 row too: FCAS, like energy, comes from INTERVENTION=0.
    const during = january.fcas.filter((e) => e.interval_end === '2020-01-31T05:35:00Z')
    expect(during).toHaveLength(2 * 8)
    expect(during.every((e) => e.intervention)).toBe(true)
  })

  test('energy price flags are read; columns a version lacks are null, never zero', () => {
    const nsw = (r: typeof april) => r.events.find((e) => e.region_id === 'NSW1')!
    expect(nsw(april)).toMatchObject({
      price_status: 'FIRM',
      apc_flag: 0,
      market_suspended_flag: 0,
      ocd_status: 'NOT_OCD',
      mii_status: 'MII_PRICE_ACCEPTED',
    })
    // PRICE v1 has PRICE_STATUS and the flags but no OCD/MII columns; REGIONSUM v4 no SS_/BDU_.
    expect(nsw(january)).toMatchObject({
      price_status: 'FIRM',
      apc_flag: 0,
      ocd_status: null,
      mii_status: null,
      ss_solar_uigf_mw: null,
      ss_wind_cleared_mw: null,
      bdu_energy_storage_mwh: null,
    })
    // APCFLAG is a bit field: 20 = 16 (loss-factor scaling) + 4 (market price cap binding). The
    // file's one APCFLAG 16 is on an INTERVENTION=1 row, which prices nothing.
    expect(new Set(january.events.map((e) => e.apc_flag))).toEqual(new Set([0, 4, 20]))
  })

  test('REGIONSUM v9: semi-scheduled solar and wind, and batteries, from the same row as demand', () => {
    // D,DISPATCH,REGIONSUM,9,2026/04/01 00:05:00,1,NSW1,…: SS_SOLAR_UIGF 0, SS_WIND_UIGF 698.151,
    // SS_SOLAR_CLEAREDMW 0, SS_WIND_CLEAREDMW 698.151, BDU_ENERGY_STORAGE 1702.03835,
    // BDU_CLEAREDMW_GEN 0, BDU_CLEAREDMW_LOAD 22.
    expect(april.events[0]).toMatchObject({
      region_id: 'NSW1',
      ss_solar_uigf_mw: 0,
      ss_wind_uigf_mw: 698.151,
      ss_solar_cleared_mw: 0,
      ss_wind_cleared_mw: 698.151,
      bdu_energy_storage_mwh: 1702.03835,
      bdu_cleared_gen_mw: 0,
      bdu_cleared_load_mw: 22,
    })
  })

  describe('in a live-format file', () => {
    const base = linesOf('2026-04-01T14:05:00Z')
    const header = base.find((l) => l.startsWith('I,DISPATCH,PRICE,'))!.split(',')
    const at = base.findIndex((l) => l.startsWith('D,DISPATCH,PRICE,') && l.includes(',SA1,'))
    const withColumns = (values: Record<string, string>) => {
      const fields = base[at]!.split(',')
      for (const [column, value] of Object.entries(values)) fields[header.indexOf(column)] = value
      const lines = [...base]
      lines[at] = fields.join(',')
      return normalizeDispatchIs(textFile(lines), ctx)
    }

    test('a NOT FIRM price is read as such, on the energy and the FCAS prices', () => {
      const { events, fcas } = withColumns({
        PRICE_STATUS: 'NOT FIRM',
        MII_STATUS: 'MII_SUBJECT_TO_REVIEW',
      })
      expect(events.find((e) => e.region_id === 'SA1')).toMatchObject({
        price_status: 'NOT FIRM',
        mii_status: 'MII_SUBJECT_TO_REVIEW',
      })
      const sa1 = fcas.filter((e) => e.region_id === 'SA1')
      expect(sa1).toHaveLength(10)
      expect(sa1.every((e) => e.price_status === 'NOT FIRM')).toBe(true)
    })

    test('a bad FCAS price costs that row’s FCAS prices only, with a dead letter for the FCAS stream', () => {
      const { events, fcas, rejects } = withColumns({ RAISEREGRRP: 'n/a' })
      expect(events.map((e) => e.region_id)).toEqual(['NSW1', 'SA1'])
      expect(new Set(fcas.map((e) => e.region_id))).toEqual(new Set(['NSW1']))
      expect(rejects).toEqual([
        expect.objectContaining({
          code: 'non_numeric_value',
          reason: 'RAISEREGRRP "n/a" is not a number',
          row: at + 1,
          table: 'DISPATCH.PRICE.5',
          topic: 'market.fcas',
        }),
      ])
    })

    test('a bad RRP costs the energy price only; the FCAS prices of the row stay', () => {
      const { events, fcas, rejects } = withColumns({ RRP: 'n/a' })
      expect(events.map((e) => e.region_id)).toEqual(['NSW1'])
      expect(fcas.filter((e) => e.region_id === 'SA1')).toHaveLength(10)
      expect(rejects.map((r) => [r.code, r.topic])).toEqual([['non_numeric_value', undefined]])
    })

    test('an empty (NULL) FCAS price is no event for that service; an unknown status is rejected', () => {
      const empty = withColumns({ RAISE1SECRRP: '', RAISE1SECAPCFLAG: '' })
      expect(empty.rejects).toEqual([])
      expect(empty.fcas.filter((e) => e.region_id === 'SA1').map((e) => e.service)).not.toContain(
        'raise_1sec'
      )
      const odd = withColumns({ PRICE_STATUS: 'firm?' })
      expect(odd.rejects.map((r) => [r.code, r.topic])).toEqual([
        ['invalid_value', undefined],
        ['invalid_value', 'market.fcas'],
      ])
    })

    test('an APC flag that is not an integer is rejected, naming the column', () => {
      const { rejects } = withColumns({ APCFLAG: '1.5' })
      expect(rejects.map((r) => r.reason)).toEqual(['APCFLAG "1.5" is not an integer'])
    })
  })
})

describe('wrong files', () => {
  test('a file with none of the DispatchIS tables is refused, not silently empty', () => {
    expect(() => normalizeDispatchIs(fixtureFile(AEMO_FIXTURES.liveScada), ctx)).toThrow(
      expect.objectContaining({ code: 'table_missing', retryable: false })
    )
  })
})
