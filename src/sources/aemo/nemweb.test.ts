import { afterEach, describe, expect, test } from 'bun:test'
import { toUtcIso } from '@/lib'
import { createSourceRegistry, type SourceStatus, silentLogger } from '@/observability'
import { createPoller } from '../poller'
import { waitFor } from '../../../tests/support/events'
import { createHarness } from '../../../tests/support/harness'
import {
  AEMO_FIXTURES,
  buildArchiveDayZip,
  buildDispatchIsZip,
  buildDispatchScadaZip,
  fixtureBytes,
  fixtureCsvText,
} from '../../../tests/support/nemweb-fixtures'
import { honestHugeCsv, lyingBomb } from '../../../tests/support/hostile-zips'
import { startNemwebServer } from '../../../tests/support/nemweb-server'
import { parseMmsCsv } from './csv'
import { createNemwebCycle, NEMWEB, NEMWEB_CAPS, runBackfill } from './nemweb'

// Live-format DispatchIS files are not among the fixtures: tests/support/nemweb-fixtures builds them
// from the REAL rows of the April 2026 and January 2020 MMSDM archive extracts (only the packaging
// — CRLF, quoted dates, header and END OF REPORT footer — is rebuilt).
const CURRENT_IS = NEMWEB.dispatchis.current
const CURRENT_SCADA = NEMWEB.scada.current
const step = (iso: string, n: number) => toUtcIso(Date.parse(iso) + n * 300_000)

let harness: Awaited<ReturnType<typeof createHarness>>
let nemweb: ReturnType<typeof startNemwebServer>
afterEach(async () => {
  nemweb?.stop()
  await harness?.close()
})

const never = new AbortController().signal
const cycleFor = (kind: 'dispatchis' | 'scada', extra: { now?: () => number } = {}) =>
  createNemwebCycle({
    baseUrl: nemweb.url,
    kind,
    sink: harness.bus,
    log: silentLogger(),
    http: { baseDelayMs: 1, attempts: 2 },
    initialLookbackMs: Number.MAX_SAFE_INTEGER,
    ...extra,
  })

/** Expected RRP per (region, interval) straight from the file's INTERVENTION=0 rows. */
function rrpFromCsv(csv: string): Map<string, number> {
  const table = parseMmsCsv(csv, { strictFooter: true }).tables.find(
    (t) => t.report === 'DISPATCH' && t.sub === 'PRICE'
  )!
  const col = (name: string) => table.columns.indexOf(name) + 4
  const out = new Map<string, number>()
  for (const row of table.rows) {
    if (row.fields[col('INTERVENTION')] !== '0') continue
    const [d, t] = row.fields[col('SETTLEMENTDATE')]!.replaceAll('"', '').split(' ')
    const utc = toUtcIso(Date.parse(`${d!.replaceAll('/', '-')}T${t}+10:00`))
    out.set(`${row.fields[col('REGIONID')]}|${utc}`, Number(row.fields[col('RRP')]))
  }
  return out
}

describe('NEMWeb Current polling', () => {
  test('ingests new files in order; /api/v1/prices holds exactly the INTERVENTION=0 RRP in UTC', async () => {
    harness = await createHarness()
    nemweb = startNemwebServer()
    // 2020-01-31 05:35Z-06:00Z is 15:35-16:00 NEM time: intervention runs exist beside the pricing run.
    const files = [0, 1, 2, 3, 4, 5].map((i) => buildDispatchIsZip(step('2020-01-31T05:35:00Z', i)))
    for (const f of files) nemweb.add(CURRENT_IS, f)

    const result = await cycleFor('dispatchis')(never)
    await waitFor(() => harness.queries.stats().totals.prices === 12, 'prices projected')

    expect(result).toMatchObject({ rejected: 0, lastItem: files[5]!.name })
    const expected = new Map<string, number>()
    for (const f of files) for (const [k, v] of rrpFromCsv(f.csv)) expected.set(k, v)
    const page = harness.queries.prices.list({ limit: 100 })
    expect(page.data).toHaveLength(expected.size)
    for (const p of page.data)
      expect(p.rrp_aud_mwh).toBe(expected.get(`${p.region_id}|${p.interval_end}`)!)
    expect(page.data.every((p) => p.intervention)).toBe(true)
    expect(
      page.data.every(
        (p) => p.source === 'aemo.dispatchis' && p.source_file?.startsWith('PUBLIC_DISPATCHIS_')
      )
    ).toBe(true)
  })

  test('an unchanged listing is answered 304 and nothing is downloaded again', async () => {
    harness = await createHarness()
    nemweb = startNemwebServer()
    const file = buildDispatchIsZip('2026-04-02T00:05:00Z')
    nemweb.add(CURRENT_IS, file)
    const cycle = cycleFor('dispatchis')

    await cycle(never)
    const again = await cycle(never)

    expect(again.events).toBe(0)
    expect(nemweb.downloads(file.name)).toBe(1)
  })

  test('after downtime a restarted poller catches up every missed file, once each, from its checkpoint', async () => {
    harness = await createHarness()
    nemweb = startNemwebServer()
    const first = buildDispatchIsZip('2026-04-02T00:05:00Z')
    nemweb.add(CURRENT_IS, first)
    await cycleFor('dispatchis')(never)

    const missed = [1, 2, 3].map((i) => buildDispatchIsZip(step('2026-04-02T00:05:00Z', i)))
    for (const f of missed) nemweb.add(CURRENT_IS, f)
    // A new process: no listing validators, only the checkpoint committed with the events.
    const result = await cycleFor('dispatchis', { now: () => Date.parse('2026-11-28T00:00:00Z') })(
      never
    )

    expect(result.lastItem).toBe(missed[2]!.name)
    expect(nemweb.downloads(first.name)).toBe(1)
    for (const f of missed) expect(nemweb.downloads(f.name)).toBe(1)
    await waitFor(() => harness.queries.stats().totals.prices === 8, 'all intervals')
  })

  test('a truncated file and a corrupt zip go to the DLQ with the file name; the next file is still ingested', async () => {
    harness = await createHarness()
    nemweb = startNemwebServer()
    const good = buildDispatchIsZip('2026-04-02T00:15:00Z')
    const truncatedCsv = buildDispatchIsZip('2026-04-02T00:05:00Z')
    const { zipMembers } = await import('../../../tests/support/nemweb-fixtures')
    const lines = truncatedCsv.csv.split('\r\n')
    const cut = zipMembers({
      [truncatedCsv.csvName]: lines
        .slice(0, lines.length - 4)
        .concat(lines.slice(-2))
        .join('\r\n'),
    })
    nemweb.add(CURRENT_IS, { name: truncatedCsv.name, bytes: cut })
    const corrupt = buildDispatchIsZip('2026-04-02T00:10:00Z')
    nemweb.add(CURRENT_IS, {
      name: corrupt.name,
      bytes: corrupt.bytes.subarray(0, corrupt.bytes.length - 40),
    })
    nemweb.add(CURRENT_IS, good)

    const result = await cycleFor('dispatchis')(never)

    expect(result.rejected).toBe(2)
    await waitFor(
      () =>
        harness.queries.stats().totals.dead_letters === 2 &&
        harness.queries.stats().totals.prices === 2,
      'projection'
    )
    const dead = harness.queries.deadLetters.list({ limit: 10 }).data
    expect(dead.map((d) => [d.source_file, d.code, d.topic]).sort()).toEqual(
      [
        [truncatedCsv.name, 'csv_line_count_mismatch', 'market.prices'],
        [corrupt.name, 'zip_truncated', 'market.prices'],
      ].sort()
    )
    expect(
      harness.queries.prices
        .list({ limit: 10 })
        .data.every((p) => p.interval_end === '2026-04-02T00:15:00Z')
    ).toBe(true)
    expect(await harness.bus.readSourceCheckpoint('aemo.dispatchis')).toBe(good.name)
  })

  test('a file too large to be a NEMWeb file is dead-lettered and skipped, not retried forever', async () => {
    harness = await createHarness()
    nemweb = startNemwebServer()
    const huge = buildDispatchIsZip('2026-04-02T00:05:00Z')
    nemweb.add(CURRENT_IS, { name: huge.name, bytes: new Uint8Array(200_000) })
    const next = buildDispatchIsZip('2026-04-02T00:10:00Z')
    nemweb.add(CURRENT_IS, next)
    const cycle = createNemwebCycle({
      baseUrl: nemweb.url,
      kind: 'dispatchis',
      sink: harness.bus,
      log: silentLogger(),
      http: { baseDelayMs: 1, attempts: 2, maxBytes: 100_000 },
      initialLookbackMs: Number.MAX_SAFE_INTEGER,
    })

    const result = await cycle(never)

    expect(result).toMatchObject({ rejected: 1, lastItem: next.name })
    expect(nemweb.downloads(huge.name)).toBe(1)
    await waitFor(() => harness.queries.stats().totals.dead_letters === 1, 'dead letter')
    expect(harness.queries.deadLetters.list({ limit: 1 }).data[0]).toMatchObject({
      code: 'file_too_large',
      source_file: huge.name,
    })
  })

  test('hostile files (lying bomb, honest 250 MB member, oversized chunked download) are dead-lettered once each; the files around them are ingested', async () => {
    harness = await createHarness()
    nemweb = startNemwebServer()
    const before = buildDispatchIsZip('2026-04-02T00:05:00Z')
    const [bomb, huge, long] = [1, 2, 3].map((i) =>
      buildDispatchIsZip(step('2026-04-02T00:05:00Z', i))
    )
    const after = buildDispatchIsZip(step('2026-04-02T00:05:00Z', 4))
    nemweb.add(CURRENT_IS, before)
    // 256 MiB of zeros declaring 150 kB (with the CRC of 150 kB of zeros).
    nemweb.add(CURRENT_IS, {
      name: bomb!.name,
      bytes: lyingBomb(bomb!.csvName, 256 << 20, 150_000),
    })
    const csvLine = `${before.csv.split('\r\n').find((l) => l.startsWith('D,DISPATCH,PRICE,'))}\r\n`
    nemweb.add(CURRENT_IS, {
      name: huge!.name,
      bytes: honestHugeCsv(huge!.csvName, csvLine, 250 * 1000 * 1000),
    })
    nemweb.add(CURRENT_IS, {
      name: long!.name,
      bytes: new Uint8Array(NEMWEB_CAPS.current.downloadBytes + 1024 * 1024),
      chunked: true,
    })
    nemweb.add(CURRENT_IS, after)

    const result = await cycleFor('dispatchis')(never)

    expect(result).toMatchObject({ rejected: 3, lastItem: after.name })
    await waitFor(
      () =>
        harness.queries.stats().totals.dead_letters === 3 &&
        harness.queries.stats().totals.prices === 4,
      'dead letters and the good files'
    )
    const dead = harness.queries.deadLetters.list({ limit: 10 }).data
    expect(dead.map((d) => [d.source_file, d.code]).sort()).toEqual(
      [
        [bomb!.name, 'zip_size_mismatch'],
        [huge!.name, 'zip_too_large'],
        [long!.name, 'file_too_large'],
      ].sort()
    )
    // Permanent: each downloaded once, never retried; the cursor is past them.
    for (const f of [bomb!, huge!, long!]) expect(nemweb.downloads(f.name)).toBe(1)
    expect(await harness.bus.readSourceCheckpoint('aemo.dispatchis')).toBe(after.name)
    expect(
      new Set(harness.queries.prices.list({ limit: 10 }).data.map((p) => p.interval_end))
    ).toEqual(new Set([before.intervalEnd, after.intervalEnd]))
  })

  test('a file the server refuses for good (403) is dead-lettered; the next file is ingested', async () => {
    harness = await createHarness()
    nemweb = startNemwebServer({
      refuse: new Set(['PUBLIC_DISPATCHIS_202604021005_0000000000000001.zip']),
    })
    nemweb.add(CURRENT_IS, {
      name: 'PUBLIC_DISPATCHIS_202604021005_0000000000000001.zip',
      bytes: new Uint8Array(10),
    })
    const next = buildDispatchIsZip('2026-04-02T00:10:00Z')
    nemweb.add(CURRENT_IS, next)

    const result = await cycleFor('dispatchis')(never)

    expect(result).toMatchObject({ rejected: 1, lastItem: next.name })
    await waitFor(() => harness.queries.stats().totals.dead_letters === 1, 'dead letter')
    expect(harness.queries.deadLetters.list({ limit: 1 }).data[0]).toMatchObject({
      code: 'http_403',
    })
  })

  test('a bad row is dead-lettered with its row number and the rest of the file is ingested', async () => {
    harness = await createHarness()
    nemweb = startNemwebServer()
    const file = buildDispatchIsZip('2026-04-02T00:05:00Z')
    const lines = file.csv.split('\r\n')
    const priceRow = lines.findIndex(
      (l) => l.startsWith('D,DISPATCH,PRICE,') && l.includes(',SA1,')
    )
    const fields = lines[priceRow]!.split(',')
    const header = lines.find((l) => l.startsWith('I,DISPATCH,PRICE,'))!.split(',')
    fields[header.indexOf('RRP')] = 'abc'
    lines[priceRow] = fields.join(',')
    const { zipMembers } = await import('../../../tests/support/nemweb-fixtures')
    nemweb.add(CURRENT_IS, {
      name: file.name,
      bytes: zipMembers({ [file.csvName]: lines.join('\r\n') }),
    })

    await cycleFor('dispatchis')(never)

    await waitFor(() => harness.queries.stats().totals.dead_letters === 1, 'dead letter')
    const [dead] = harness.queries.deadLetters.list({ limit: 1 }).data
    expect(dead).toMatchObject({ row: priceRow + 1, source_file: file.name, raw: lines[priceRow] })
    await waitFor(() => harness.queries.stats().totals.prices === 1, 'NSW1 still ingested')
    expect(harness.queries.prices.list({ limit: 5 }).data.map((p) => p.region_id)).toEqual(['NSW1'])
  })
})

describe('NEMWeb Current polling: FCAS prices', () => {
  test('a polled file feeds market.fcas; a bad FCAS value is its dead letter and costs no energy price', async () => {
    harness = await createHarness()
    nemweb = startNemwebServer()
    const file = buildDispatchIsZip('2026-04-02T00:05:00Z')
    const lines = file.csv.split('\r\n')
    const row = lines.findIndex((l) => l.startsWith('D,DISPATCH,PRICE,') && l.includes(',SA1,'))
    const header = lines.find((l) => l.startsWith('I,DISPATCH,PRICE,'))!.split(',')
    const fields = lines[row]!.split(',')
    fields[header.indexOf('RAISEREGRRP')] = 'abc'
    lines[row] = fields.join(',')
    const { zipMembers } = await import('../../../tests/support/nemweb-fixtures')
    nemweb.add(CURRENT_IS, {
      name: file.name,
      bytes: zipMembers({ [file.csvName]: lines.join('\r\n') }),
    })

    await cycleFor('dispatchis')(never)

    await waitFor(() => harness.queries.stats().totals.dead_letters === 1, 'dead letter')
    const [dead] = harness.queries.deadLetters.list({ limit: 1 }).data
    expect(dead).toMatchObject({ topic: 'market.fcas', row: row + 1, raw: lines[row] })
    await waitFor(() => harness.queries.stats().totals.fcas_prices === 10, 'NSW1 FCAS prices')
    await waitFor(() => harness.queries.stats().totals.prices === 2, 'both energy prices')
    const fcas = harness.queries.fcas.list({ limit: 20 }).data
    expect(new Set(fcas.map((e) => e.region_id))).toEqual(new Set(['NSW1']))
    expect(fcas.every((e) => e.source_file === file.name)).toBe(true)
  })
})

describe('SCADA: generation by fuel, every MW accounted for', () => {
  test('the live 390-DUID file: fuels + loads + unmapped remainder equal the file total exactly', async () => {
    harness = await createHarness()
    nemweb = startNemwebServer()
    const name = AEMO_FIXTURES.liveScada.slice(AEMO_FIXTURES.liveScada.lastIndexOf('/') + 1)
    nemweb.add(CURRENT_SCADA, { name, bytes: fixtureBytes(AEMO_FIXTURES.liveScada) })

    const result = await cycleFor('scada')(never)
    expect(result.rejected).toBe(0)
    await waitFor(
      () => harness.queries.reconciliation.list({ limit: 1 }).data.length === 1,
      'reconciliation'
    )

    // Σ SCADAVALUE straight from the CSV, in integer micro-MW so float error cannot hide a loss.
    const table = parseMmsCsv(fixtureCsvText(AEMO_FIXTURES.liveScada), { strictFooter: true })
      .tables[0]!
    const valueAt = table.columns.indexOf('SCADAVALUE') + 4
    const micro = (x: number) => Math.round(x * 1e6)
    const fileTotal = table.rows.reduce((sum, r) => sum + micro(Number(r.fields[valueAt])), 0)
    const [rec] = harness.queries.reconciliation.list({ limit: 1 }).data
    const events = harness.queries.dispatch.list({ limit: 1000 }).data
    const eventSum = events.reduce((sum, e) => sum + micro(e.value_mw), 0)

    expect(table.rows).toHaveLength(390)
    expect(micro(rec!.total_mw)).toBe(fileTotal)
    expect(micro(rec!.generation_mw) + micro(rec!.load_mw) + micro(rec!.unmapped_mw)).toBe(
      fileTotal
    )
    expect(eventSum).toBe(micro(rec!.generation_mw) - micro(rec!.load_mw))
    expect(rec!.unmapped_units.length).toBeGreaterThan(0)
    expect(rec!.unmapped_units.reduce((s, u) => s + micro(u.value_mw), 0)).toBe(
      micro(rec!.unmapped_mw)
    )
    expect(rec!.interval_end).toBe('2021-09-02T02:55:00Z')
  })

  test('generation mix and stats report the region view and the unmapped remainder', async () => {
    harness = await createHarness()
    nemweb = startNemwebServer()
    nemweb.add(CURRENT_SCADA, buildDispatchScadaZip('2026-04-02T00:05:00Z'))
    await cycleFor('scada')(never)
    await waitFor(
      () => harness.queries.reconciliation.list({ limit: 1 }).data.length === 1,
      'projection'
    )

    const mix = await (await harness.api.request('/api/v1/generation/mix?region_id=SA1')).json()
    expect(mix).toMatchObject({ region_id: 'SA1', interval_end: '2026-04-02T00:05:00Z' })
    expect(
      (mix as { fuels: { share: number }[] }).fuels.reduce((s, f) => s + f.share, 0)
    ).toBeCloseTo(1, 5)
    const missing = await harness.api.request('/api/v1/generation/mix?region_id=TAS1')
    expect(missing.status).toBe(404)
  })
})

describe('archive backfill', () => {
  test('ingests daily zips of 5-minute zips, resumes after an interruption, and never duplicates', async () => {
    harness = await createHarness()
    nemweb = startNemwebServer()
    const files = Array.from({ length: 6 }, (_, i) =>
      buildDispatchIsZip(step('2026-04-02T00:05:00Z', i))
    )
    const day = buildArchiveDayZip('PUBLIC_DISPATCHIS', '2026-04-02', files)
    nemweb.add(NEMWEB.dispatchis.archive, { name: day.name, bytes: day.bytes })
    const lines: string[] = []

    // Interrupt after the third file.
    const abort = new AbortController()
    const first = await runBackfill({
      baseUrl: nemweb.url,
      kind: 'dispatchis',
      from: '2026-04-01',
      to: '2026-04-02',
      sink: harness.bus,
      signal: abort.signal,
      progress: (line) => {
        lines.push(line)
        if (line.includes(' 3/6 ')) abort.abort()
      },
    })
    const second = await runBackfill({
      baseUrl: nemweb.url,
      kind: 'dispatchis',
      from: '2026-04-01',
      to: '2026-04-02',
      sink: harness.bus,
      progress: (l) => lines.push(l),
    })
    const third = await runBackfill({
      baseUrl: nemweb.url,
      kind: 'dispatchis',
      from: '2026-04-02',
      to: '2026-04-02',
      sink: harness.bus,
      progress: (l) => lines.push(l),
    })

    expect(first).toMatchObject({ files: 3, days: 0, missing: ['2026-04-01'] })
    expect(second).toMatchObject({ files: 3, days: 1 })
    expect(third).toMatchObject({ files: 0, days: 0 })
    expect(lines).toContain('dispatchis 2026-04-02: already ingested, skipped')
    await waitFor(
      () => harness.queries.stats().totals.prices === 12,
      'all six intervals for NSW1 and SA1'
    )
    const ends = await harness.bus.endOffsets(['market.prices', 'market.interconnectors'])
    // Each interval published once: 2 regions' prices and the VIC1-NSW1 flow, 6 intervals.
    expect([...ends.values()].reduce((a, b) => a + b)).toBe(18n)
  })
})

describe('archive backfill of hostile days', () => {
  test('a lying or oversized daily zip is one dead letter and is not fetched again; the next day is ingested', async () => {
    harness = await createHarness()
    nemweb = startNemwebServer()
    const good = buildArchiveDayZip('PUBLIC_DISPATCHIS', '2026-04-03', [
      buildDispatchIsZip('2026-04-02T14:05:00Z'),
    ])
    // 2026-04-01: a member declaring 1 MB that inflates to 512 MiB (over the archive cap too).
    nemweb.add(NEMWEB.dispatchis.archive, {
      name: 'PUBLIC_DISPATCHIS_20260401.zip',
      bytes: lyingBomb('PUBLIC_DISPATCHIS_202604010005_0000000000000001.zip', 512 << 20, 1 << 20),
    })
    // 2026-04-02: more than an archive day may be on the wire, with no length to refuse it by.
    nemweb.add(NEMWEB.dispatchis.archive, {
      name: 'PUBLIC_DISPATCHIS_20260402.zip',
      bytes: new Uint8Array(NEMWEB_CAPS.archiveDay.downloadBytes + 1),
      chunked: true,
    })
    nemweb.add(NEMWEB.dispatchis.archive, good)
    const run = () =>
      runBackfill({
        baseUrl: nemweb.url,
        kind: 'dispatchis',
        from: '2026-04-01',
        to: '2026-04-03',
        sink: harness.bus,
        progress: () => {},
      })

    const first = await run()
    const second = await run()

    expect(first).toMatchObject({ days: 1, files: 1, rejected: 2 })
    expect(second).toMatchObject({ days: 0, files: 0, rejected: 0 })
    expect(nemweb.downloads('PUBLIC_DISPATCHIS_20260401.zip')).toBe(1)
    expect(nemweb.downloads('PUBLIC_DISPATCHIS_20260402.zip')).toBe(1)
    await waitFor(
      () =>
        harness.queries.stats().totals.dead_letters === 2 &&
        harness.queries.stats().totals.prices === 2,
      'two dead letters and the good day'
    )
    expect(
      harness.queries.deadLetters
        .list({ limit: 10 })
        .data.map((d) => [d.source_file, d.code])
        .sort()
    ).toEqual([
      ['PUBLIC_DISPATCHIS_20260401.zip', 'zip_size_mismatch'],
      ['PUBLIC_DISPATCHIS_20260402.zip', 'file_too_large'],
    ])
  })
})

describe('gap detection', () => {
  test('an interval that never arrived, and a stall still going on, are reported by /api/v1/sources', async () => {
    harness = await createHarness({ now: () => Date.parse('2026-04-02T00:42:00Z') })
    nemweb = startNemwebServer()
    for (const i of [0, 1, 3])
      nemweb.add(CURRENT_IS, buildDispatchIsZip(step('2026-04-02T00:05:00Z', i)))
    await cycleFor('dispatchis')(never)
    await waitFor(() => harness.queries.stats().totals.prices === 6, 'projection')

    const body = (await (await harness.api.request('/api/v1/sources')).json()) as {
      data: { source: string; gaps: string[]; last_interval: string; gap_ranges: unknown[] }[]
    }
    const is = body.data.find((s) => s.source === 'aemo.dispatchis')!
    // Data through 00:20; by 00:42 (10 min grace) 00:25 and 00:30 should have arrived too.
    expect(is).toMatchObject({
      last_interval: '2026-04-02T00:20:00Z',
      gaps: ['2026-04-02T00:30:00Z', '2026-04-02T00:25:00Z', '2026-04-02T00:15:00Z'],
      gap_ranges: [
        { from: '2026-04-02T00:20:00Z', to: null, intervals: 2 },
        { from: '2026-04-02T00:10:00Z', to: '2026-04-02T00:15:00Z', intervals: 1 },
      ],
    })
  })

  test('a stall longer than NEMWeb Current keeps files is still a gap, not []', async () => {
    // Data through 2026-04-02 00:20; four days later the 48-hour window holds none of it.
    const now = Date.parse('2026-04-06T00:02:00Z')
    harness = await createHarness({ now: () => now })
    nemweb = startNemwebServer()
    for (const i of [0, 1, 2, 3])
      nemweb.add(CURRENT_IS, buildDispatchIsZip(step('2026-04-02T00:05:00Z', i)))
    await cycleFor('dispatchis')(never)
    await waitFor(() => harness.queries.stats().totals.prices === 8, 'projection')

    const body = (await (await harness.api.request('/api/v1/sources')).json()) as {
      data: { source: string; gaps: string[]; gap_ranges: unknown[] }[]
    }
    const is = body.data.find((s) => s.source === 'aemo.dispatchis')!
    // 00:20 on the 2nd to 23:50 on the 5th (10 minutes' grace): 24 * 12 * 4 - 6 intervals overdue.
    expect(is.gap_ranges).toEqual([
      { from: '2026-04-02T00:20:00Z', to: null, intervals: 4 * 288 - 6 },
    ])
    expect(is.gaps).toHaveLength(100)
    expect(is.gaps[0]).toBe('2026-04-05T23:50:00Z')
  })

  test('a source that never succeeded is down since start, with one open gap from the start', async () => {
    const started = Date.parse('2026-04-02T00:02:00Z')
    let clock = started
    const registry = createSourceRegistry({ now: () => clock })
    harness = await createHarness({ now: () => clock, sources: () => registry.list() })
    // Nothing listens on the port: every poll is refused.
    nemweb = startNemwebServer()
    const deadUrl = nemweb.url
    nemweb.stop()
    const status = registry.register(NEMWEB.dispatchis.source, 5_000)
    const controller = new AbortController()
    await createPoller({
      status,
      everyMs: 5_000,
      log: silentLogger(),
      now: () => clock,
      sleep: async (ms) => {
        clock += ms
        if (status.consecutiveFailures >= 3) controller.abort()
      },
      cycle: createNemwebCycle({
        baseUrl: deadUrl,
        kind: 'dispatchis',
        sink: harness.bus,
        log: silentLogger(),
        http: { baseDelayMs: 1, attempts: 2 },
      }),
    }).run(controller.signal)
    clock = Date.parse('2026-04-02T01:00:00Z')

    const body = (await (await harness.api.request('/api/v1/sources')).json()) as {
      data: (Record<string, unknown> & { source: string })[]
    }
    const is = body.data.find((s) => s.source === 'aemo.dispatchis')!
    expect(is).toMatchObject({
      status: 'down',
      down_since: '2026-04-02T00:02:00.000Z',
      last_success_at: null,
      consecutive_failures: 3,
      failures_total: 3,
      last_failure_reason: 'unreachable',
      polling: true,
      // Interval ends 00:05 … 00:50 should have been published by 01:00 (10 minutes' grace).
      gap_ranges: [{ from: '2026-04-02T00:02:00Z', to: null, intervals: 10 }],
    })
    expect(is.last_error).toStartWith('GET 127.0.0.1:')
    expect(is.gaps).toHaveLength(10)
    expect((is.gaps as string[]).at(-1)).toBe('2026-04-02T00:05:00Z')
  })

  test('a source down for a moment reports an open span even before anything is overdue', async () => {
    const clock = Date.parse('2026-04-02T00:02:00Z')
    const registry = createSourceRegistry({ now: () => clock })
    harness = await createHarness({ now: () => clock, sources: () => registry.list() })
    const status: SourceStatus = registry.register(NEMWEB.scada.source, 5_000)
    const body = async () =>
      (
        (await (await harness.api.request('/api/v1/sources')).json()) as {
          data: (Record<string, unknown> & { source: string })[]
        }
      ).data.find((s) => s.source === NEMWEB.scada.source)!
    expect(await body()).toMatchObject({ status: 'unknown', gap_ranges: [], gaps: [] })
    const weather = registry.register('openmeteo.forecast', 900_000)
    weather.downSince = clock
    status.downSince = clock
    const all = (await (await harness.api.request('/api/v1/sources')).json()) as {
      data: (Record<string, unknown> & { source: string })[]
    }
    // No 5-minute cadence to count: one open span since start, without an interval count.
    expect(all.data.find((s) => s.source === 'openmeteo.forecast')).toMatchObject({
      status: 'down',
      gap_ranges: [{ from: '2026-04-02T00:02:00Z', to: null, intervals: null }],
      gaps: [],
    })
    expect(await body()).toMatchObject({
      status: 'down',
      gap_ranges: [{ from: '2026-04-02T00:02:00Z', to: null, intervals: 0 }],
      gaps: [],
    })
  })
})
