import { afterEach, describe, expect, test } from 'bun:test'
import { toUtcIso } from '@/lib'
import { silentLogger } from '@/observability'
import type { RenewablesInterval } from '@/projection'
import { waitFor } from '../../../tests/support/events'
import { createHarness } from '../../../tests/support/harness'
import { lyingBomb } from '../../../tests/support/hostile-zips'
import {
  AEMO_FIXTURES,
  buildDispatchScadaZip,
  buildRooftopArchiveZip,
  buildRooftopPvZip,
  fixtureCsvText,
  type RooftopType,
  zipMembers,
} from '../../../tests/support/nemweb-fixtures'
import { startNemwebServer } from '../../../tests/support/nemweb-server'
import { createNemwebCycle, NEMWEB, runBackfill } from './nemweb'

// Every rooftop file here is a live-format build of REAL rows of the April 2026 rooftop archive
// month (tests/support/nemweb-fixtures.ts), and every SCADA file one of the April 2026 SCADA month.
const ROOFTOP = NEMWEB.rooftop.current
const SCADA = NEMWEB.scada.current
const halfHour = (iso: string, n: number) => toUtcIso(Date.parse(iso) + n * 1_800_000)
const step = (iso: string, n: number) => toUtcIso(Date.parse(iso) + n * 300_000)

let harness: Awaited<ReturnType<typeof createHarness>>
let nemweb: ReturnType<typeof startNemwebServer>
afterEach(async () => {
  nemweb?.stop()
  await harness?.close()
})

const never = new AbortController().signal
const cycleFor = (kind: 'rooftop' | 'scada') =>
  createNemwebCycle({
    baseUrl: nemweb.url,
    kind,
    sink: harness.bus,
    log: silentLogger(),
    http: { baseDelayMs: 1, attempts: 2 },
    initialLookbackMs: Number.MAX_SAFE_INTEGER,
    maxFilesPerCycle: 1_000,
  })
const publish = (type: RooftopType, intervalEnd: string) => {
  const file = buildRooftopPvZip(type, intervalEnd)
  nemweb.add(ROOFTOP, file)
  return file
}
const rooftopRows = () => harness.queries.stats().totals.rooftop_pv

describe('NEMWeb ROOFTOP_PV/ACTUAL polling', () => {
  test('both estimate types are ingested; the list shows the preferred one (MEASUREMENT) unless asked', async () => {
    harness = await createHarness()
    nemweb = startNemwebServer()
    for (const type of ['MEASUREMENT', 'SATELLITE'] as const)
      for (const n of [0, 1]) publish(type, halfHour('2026-04-01T02:00:00Z', n))

    const result = await cycleFor('rooftop')(never)
    await waitFor(() => rooftopRows() === 8, 'rooftop projected')

    expect(result).toMatchObject({ events: 8, rejected: 0 })
    const list = async (query: string) =>
      (
        (await (await harness.api.request(`/api/v1/generation/rooftop?${query}`)).json()) as {
          data: {
            region_id: string
            interval_end: string
            estimate_type: string
            power_mw: number
          }[]
        }
      ).data.map((e) => [e.region_id, e.interval_end, e.estimate_type, e.power_mw])
    expect(await list('region_id=SA1')).toEqual([
      ['SA1', '2026-04-01T02:30:00Z', 'MEASUREMENT', 1345.793],
      ['SA1', '2026-04-01T02:00:00Z', 'MEASUREMENT', 1311.201],
    ])
    expect(await list('region_id=SA1&estimate=SATELLITE')).toEqual([
      ['SA1', '2026-04-01T02:30:00Z', 'SATELLITE', 1513.4],
      ['SA1', '2026-04-01T02:00:00Z', 'SATELLITE', 1524.355],
    ])
    expect(await list('estimate=all')).toHaveLength(8)
  })

  test('each estimate type keeps its own cursor: a late MEASUREMENT file is not skipped, a restart misses nothing', async () => {
    harness = await createHarness()
    nemweb = startNemwebServer()
    const t0 = '2026-04-29T02:00:00Z'
    // The SATELLITE file of 12:00 appears before its MEASUREMENT file (same time in both names).
    const satellite = publish('SATELLITE', t0)
    await cycleFor('rooftop')(never)
    const measurement = publish('MEASUREMENT', t0)
    await cycleFor('rooftop')(never)
    expect(await harness.bus.readSourceCheckpoint('aemo.rooftop_pv:satellite')).toBe(satellite.name)
    expect(await harness.bus.readSourceCheckpoint('aemo.rooftop_pv:measurement')).toBe(
      measurement.name
    )

    // A new process (no listing validators, only the checkpoints) after two more files.
    const later = [publish('MEASUREMENT', halfHour(t0, 1)), publish('SATELLITE', halfHour(t0, 1))]
    const result = await createNemwebCycle({
      baseUrl: nemweb.url,
      kind: 'rooftop',
      sink: harness.bus,
      log: silentLogger(),
      initialLookbackMs: 0,
    })(never)

    expect(result).toMatchObject({ events: 4, lastItem: later[1]!.name })
    for (const f of [satellite, measurement, ...later]) expect(nemweb.downloads(f.name)).toBe(1)
    await waitFor(() => rooftopRows() === 8, 'both half hours, both types')
  })

  test('MEASUREMENT is preferred whichever arrives first; SATELLITE stands in until it does', async () => {
    harness = await createHarness()
    nemweb = startNemwebServer()
    const t = '2026-04-29T02:00:00Z'
    const cycle = cycleFor('rooftop')
    const preferred = () =>
      harness.queries.rooftop
        .list({ limit: 10, regionId: 'SA1', preferred: true })
        .data.map((e) => [e.estimate_type, e.power_mw])

    publish('SATELLITE', t)
    await cycle(never)
    await waitFor(() => rooftopRows() === 2, 'satellite')
    expect(preferred()).toEqual([['SATELLITE', 1409.229]])

    publish('MEASUREMENT', t)
    await cycle(never)
    await waitFor(() => rooftopRows() === 4, 'measurement')
    expect(preferred()).toEqual([['MEASUREMENT', 1300.062]])

    // The SATELLITE event delivered again (a replay, a backfill) does not take the place back.
    const { preferred: _, ...satellite } = harness.queries.rooftop.list({
      limit: 1,
      regionId: 'SA1',
      estimateType: 'SATELLITE',
    }).data[0]!
    await harness.bus.publish([{ ...satellite, correlation_id: 'replayed' }])
    await waitFor(
      () =>
        harness.queries.rooftop.list({ limit: 1, regionId: 'SA1', estimateType: 'SATELLITE' })
          .data[0]!.correlation_id === 'replayed',
      'the replayed satellite estimate'
    )
    expect(preferred()).toEqual([['MEASUREMENT', 1300.062]])
  })

  test('a truncated file, a malformed row and a lying zip are dead letters on dlq.market.rooftop_pv; the poller goes on', async () => {
    harness = await createHarness()
    nemweb = startNemwebServer()
    const t = '2026-04-01T02:00:00Z'
    const cut = buildRooftopPvZip('MEASUREMENT', t)
    const lines = cut.csv.split('\r\n')
    nemweb.add(ROOFTOP, {
      name: cut.name,
      bytes: zipMembers({ [cut.csvName]: lines.filter((l) => !l.includes(',SA1,')).join('\r\n') }),
    })
    const bad = buildRooftopPvZip('SATELLITE', t)
    nemweb.add(ROOFTOP, {
      name: bad.name,
      bytes: zipMembers({ [bad.csvName]: bad.csv.replace(/,NSW1,[^,]+,/, ',NSW1,n/a,') }),
    })
    const bomb = buildRooftopPvZip('MEASUREMENT', halfHour(t, 1))
    nemweb.add(ROOFTOP, { name: bomb.name, bytes: lyingBomb(bomb.csvName, 64 << 20, 2_000) })
    const good = publish('SATELLITE', halfHour(t, 1))

    const result = await cycleFor('rooftop')(never)

    expect(result).toMatchObject({ rejected: 3, lastItem: good.name })
    await waitFor(() => harness.queries.stats().totals.dead_letters === 3, 'dead letters')
    const dead = harness.queries.deadLetters.list({ limit: 10 }).data
    expect(dead.map((d) => [d.source_file, d.code, d.topic, d.row]).sort()).toEqual(
      [
        [cut.name, 'csv_line_count_mismatch', 'market.rooftop_pv', null],
        [bad.name, 'non_numeric_value', 'market.rooftop_pv', 3],
        [bomb.name, 'zip_size_mismatch', 'market.rooftop_pv', null],
      ].sort()
    )
    await waitFor(() => rooftopRows() === 3, "the bad file's SA1 row and the good file")
  })
})

/**
 * The independent computation: SA1's renewables share per 5-minute interval straight from the two
 * archive CSVs (plain string splitting, not the product's parser). In the SCADA month SA1 has
 * AGLHAL (Hallett, gas) and HDWF2 (Hornsdale Wind Farm 2, wind), per AEMO's registration list.
 */
function expectedShares(day: string, skipMeasurement: Set<string>) {
  const rows = (fixture: string) =>
    fixtureCsvText(fixture)
      .split(/\r?\n/)
      .filter((l) => l.startsWith('D,'))
      .map((l) => l.split(','))
  const nem = (text: string) =>
    toUtcIso(Date.parse(`${text.replaceAll('/', '-').replace(' ', 'T')}+10:00`))
  const scada = new Map<string, { gas: number; wind: number }>()
  for (const f of rows(AEMO_FIXTURES.scada202604)) {
    if (!f[4]!.startsWith(day)) continue
    const slot = scada.get(nem(f[4]!)) ?? { gas: 0, wind: 0 }
    if (f[5] === 'AGLHAL') slot.gas += Number(f[6])
    if (f[5] === 'HDWF2') slot.wind += Number(f[6])
    scada.set(nem(f[4]!), slot)
  }
  // I,ROOFTOP,ACTUAL,2,INTERVAL_DATETIME,REGIONID,POWER,LASTCHANGED,TYPE,QI
  const rooftop = new Map<string, { power: number; type: string }>()
  for (const f of rows(AEMO_FIXTURES.rooftop202604)) {
    const end = nem(f[4]!)
    if (f[5] !== 'SA1' || (f[8] === 'MEASUREMENT' && skipMeasurement.has(end))) continue
    if (f[8] === 'MEASUREMENT' || !rooftop.has(end))
      rooftop.set(end, { power: Number(f[6]), type: f[8]! })
  }
  return [...scada.entries()].map(([end, { gas, wind }]) => {
    const half = toUtcIso(Math.ceil(Date.parse(end) / 1_800_000) * 1_800_000)
    const roof = rooftop.get(half)
    const renewable = wind + (roof?.power ?? 0)
    const total = renewable + gas
    return {
      interval_end: end,
      wind_mw: wind,
      rooftop_solar_mw: roof?.power ?? null,
      rooftop_estimate_type: roof?.type ?? null,
      share: total > 0 ? renewable / total : null,
      total_mw: total,
    }
  })
}

describe('rooftop PV in the generation mix and the renewables share (the real April 2026 month)', () => {
  test('SA1 on 2026-04-29: every 5-minute interval carries its half hour’s rooftop MW; shares match an independent computation', async () => {
    harness = await createHarness()
    nemweb = startNemwebServer()
    // 2026-04-29 00:00–23:55 NEM time: 288 SCADA intervals and the 49 half hours holding them,
    // except the MEASUREMENT file of 12:30, so that SATELLITE stands in for that half hour.
    const firstInterval = '2026-04-28T14:00:00Z'
    for (let i = 0; i < 288; i++) nemweb.add(SCADA, buildDispatchScadaZip(step(firstInterval, i)))
    const noMeasurement = '2026-04-29T02:30:00Z'
    for (let n = 0; n < 49; n++) {
      const t = halfHour('2026-04-28T14:00:00Z', n)
      if (t !== noMeasurement) publish('MEASUREMENT', t)
      publish('SATELLITE', t)
    }
    await cycleFor('scada')(never)
    await cycleFor('rooftop')(never)
    await waitFor(
      () =>
        harness.queries.stats().totals.scada_reconciliation === 288 && rooftopRows() === 4 * 49 - 2,
      'the day projected',
      30_000
    )

    // Every page of the renewables series, newest first, through the API.
    const series: RenewablesInterval[] = []
    let cursor: string | null = null
    do {
      const page = (await (
        await harness.api.request(
          `/api/v1/generation/renewables?region_id=SA1&from=2026-04-29T00:00:00%2B10:00&to=2026-04-30T00:00:00%2B10:00&limit=100${cursor ? `&cursor=${cursor}` : ''}`
        )
      ).json()) as { data: RenewablesInterval[]; meta: { next_cursor: string | null } }
      series.push(...page.data)
      cursor = page.meta.next_cursor
    } while (cursor)

    const expected = expectedShares('2026/04/29', new Set([noMeasurement]))
    expect(expected).toHaveLength(288)
    expect(series).toHaveLength(288)
    const byEnd = new Map(series.map((s) => [s.interval_end, s]))
    for (const e of expected) {
      const got = byEnd.get(e.interval_end)!
      expect(got).toMatchObject({
        ...e,
        share: e.share === null ? null : expect.closeTo(e.share, 5),
        total_mw: expect.closeTo(e.total_mw, 5),
        wind_mw: expect.closeTo(e.wind_mw, 5),
      })
    }
    // Daylight: rooftop carries the share; every interval of the day has a rooftop estimate.
    expect(series.every((s) => s.rooftop_solar_mw !== null)).toBe(true)
    expect(
      series.filter((s) => s.rooftop_estimate_type === 'SATELLITE').map((s) => s.interval_end)
    ).toEqual([0, 1, 2, 3, 4, 5].map((i) => step('2026-04-29T02:05:00Z', 5 - i)))

    // The mix of 12:00 NEM time: SCADA fuels plus rooftop_solar, the 12:00 half hour's MEASUREMENT.
    const mix = (await (
      await harness.api.request(
        '/api/v1/generation/mix?region_id=SA1&interval_end=2026-04-29T12:00:00%2B10:00'
      )
    ).json()) as {
      total_mw: number
      fuels: { fuel_type: string; value_mw: number; share: number }[]
      rooftop: { estimate_type: string; interval_end: string }
      renewables: { share: number; rooftop_included: boolean }
    }
    const noon = expected.find((e) => e.interval_end === '2026-04-29T02:00:00Z')!
    expect(mix.fuels.find((f) => f.fuel_type === 'rooftop_solar')!.value_mw).toBe(1300.062)
    expect(mix.rooftop).toMatchObject({
      estimate_type: 'MEASUREMENT',
      interval_end: '2026-04-29T02:00:00Z',
    })
    expect(mix.total_mw).toBeCloseTo(noon.total_mw, 5)
    expect(mix.fuels.reduce((s, f) => s + f.share, 0)).toBeCloseTo(1, 5)
    expect(mix.renewables).toMatchObject({
      rooftop_included: true,
      share: expect.closeTo(noon.share!, 5),
    })

    // NSW1 has rooftop PV but no SCADA units in the fixtures: rooftop alone is not a mix.
    expect((await harness.api.request('/api/v1/generation/mix?region_id=NSW1')).status).toBe(404)
  }, 60_000)
})

describe('rooftop PV backfill from the weekly Archive zips', () => {
  test('ingests the weeks covering the dates, per type; resumes; reports dates no zip covers', async () => {
    harness = await createHarness()
    nemweb = startNemwebServer()
    const week = (type: RooftopType, firstDate: string, ends: string[]) => {
      const zip = buildRooftopArchiveZip(
        type,
        firstDate,
        ends.map((t) => buildRooftopPvZip(type, t))
      )
      nemweb.add(NEMWEB.rooftop.archive, zip)
      return zip
    }
    // The fixture month holds 04-01..03 and 04-29..30: the weeks hold what of them falls inside.
    const april2 = [0, 1, 2, 3].map((n) => halfHour('2026-04-02T02:00:00Z', n))
    week('MEASUREMENT', '2026-03-26', ['2026-04-01T02:00:00Z'])
    const m = week('MEASUREMENT', '2026-04-02', april2)
    const s = week('SATELLITE', '2026-04-02', april2)
    const run = (
      from: string,
      to: string,
      signal?: AbortSignal,
      progress: (l: string) => void = () => {}
    ) =>
      runBackfill({
        baseUrl: nemweb.url,
        kind: 'rooftop',
        from,
        to,
        sink: harness.bus,
        signal,
        progress,
      })

    const abort = new AbortController()
    const first = await run('2026-04-02', '2026-04-10', abort.signal, (line) => {
      if (line.includes(' 2/4 ')) abort.abort()
    })
    expect(first).toMatchObject({ files: 2, days: 0 })
    const second = await run('2026-04-02', '2026-04-10')
    expect(second).toMatchObject({ files: 6, days: 2, missing: ['2026-04-09', '2026-04-10'] })
    expect(nemweb.downloads(m.name) + nemweb.downloads(s.name)).toBe(3)
    await waitFor(() => rooftopRows() === 16, 'two regions × four half hours × two types')

    // The week before ends where the next MEASUREMENT week begins: asked only for 04-01, it is taken.
    const third = await run('2026-04-01', '2026-04-02')
    expect(third).toMatchObject({ files: 1, days: 1, missing: [] })
    await waitFor(() => rooftopRows() === 18, 'the 04-01 half hour')
  })
})
