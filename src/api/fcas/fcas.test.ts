import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { DISPATCH_IS_TABLES, normalizeDispatchIsFiles, readSourceFile } from '@/sources/aemo'
import { expectProblem, json } from '../../../tests/support/api'
import { fcasPriceEvent, waitFor } from '../../../tests/support/events'
import { createHarness } from '../../../tests/support/harness'
import { AEMO_FIXTURES, fixtureFile } from '../../../tests/support/nemweb-fixtures'
import { type RawRow, rawArchiveRows, rawNemTimeToUtc } from '../../../tests/support/raw-archive'
import { PRICES } from '../market/market.routes'
import { FCAS } from './fcas.routes'

const FcasPage = FCAS.page
const PricePage = PRICES.page
type Harness = Awaited<ReturnType<typeof createHarness>>

/** Every row of a list route, following `next_cursor` (pages of 1000), each page checked by its schema. */
async function everyRow<S extends typeof FcasPage | typeof PricePage>(
  harness: Harness,
  path: string,
  schema: S
) {
  const rows: ReturnType<S['parse']>['data'] = []
  let cursor: string | null = null
  do {
    const url = `${path}?limit=1000${cursor ? `&cursor=${cursor}` : ''}`
    const page = schema.parse(await json(harness.api.request(url))) as ReturnType<S['parse']>
    rows.push(...(page.data as never[]))
    cursor = page.meta.next_cursor
  } while (cursor !== null)
  return rows
}

// The services as AEMO names their DISPATCH.PRICE columns, written out here rather than taken from
// the product, so that a wrong mapping there cannot agree with itself.
const SERVICE_COLUMNS = {
  raise_1sec: 'RAISE1SEC',
  raise_6sec: 'RAISE6SEC',
  raise_60sec: 'RAISE60SEC',
  raise_5min: 'RAISE5MIN',
  raise_reg: 'RAISEREG',
  lower_1sec: 'LOWER1SEC',
  lower_6sec: 'LOWER6SEC',
  lower_60sec: 'LOWER60SEC',
  lower_5min: 'LOWER5MIN',
  lower_reg: 'LOWERREG',
} as const

const MONTHS = [
  { price: AEMO_FIXTURES.price202604, regionsum: AEMO_FIXTURES.regionsum202604, services: 10 },
  { price: AEMO_FIXTURES.price202001, regionsum: AEMO_FIXTURES.regionsum202001, services: 8 },
]
const num = (text: string | undefined) => (text === undefined || text === '' ? null : Number(text))

/** What the raw INTERVENTION=0 rows say, one line per FCAS price and per energy price. */
function expectedFromRaw(rows: readonly RawRow[]) {
  const intervened = new Set(
    rows.filter((r) => r.INTERVENTION === '1').map((r) => r.SETTLEMENTDATE)
  )
  const fcas: string[] = []
  const energy: string[] = []
  for (const r of rows) {
    if (r.INTERVENTION !== '0') continue
    const at = `${r.REGIONID}|${rawNemTimeToUtc(r.SETTLEMENTDATE!)}|${intervened.has(r.SETTLEMENTDATE!)}`
    for (const [service, stem] of Object.entries(SERVICE_COLUMNS)) {
      if (!(`${stem}RRP` in r)) continue
      const price = num(r[`${stem}RRP`])
      fcas.push(`${at}|${service}|${price}|${num(r[`${stem}APCFLAG`])}|${r.PRICE_STATUS}`)
    }
    energy.push(
      [at, num(r.RRP), r.PRICE_STATUS, num(r.APCFLAG), num(r.MARKETSUSPENDEDFLAG)]
        .concat([r.OCD_STATUS ?? null, r.MII_STATUS ?? null])
        .join('|')
    )
  }
  return { fcas: fcas.sort(), energy: energy.sort() }
}

describe('FCAS prices and price flags equal the raw rows of the archive months (INTERVENTION = 0)', () => {
  let harness: Harness
  const raw = MONTHS.map((m) => expectedFromRaw(rawArchiveRows(m.price)))

  beforeAll(async () => {
    harness = await createHarness()
    // The product's path: its CSV reader and normaliser, the event log, the projection.
    for (const month of MONTHS) {
      const files = [month.price, month.regionsum].map((f) =>
        readSourceFile(fixtureFile(f), DISPATCH_IS_TABLES, { strictFooter: false })
      )
      const { events, fcas } = normalizeDispatchIsFiles(files, {
        correlationId: 'archive-test',
        ingestedAt: '2026-05-08T01:24:36.000Z',
      })
      await harness.bus.publish([...events, ...fcas])
    }
    const fcasRows = raw.reduce((n, r) => n + r.fcas.length, 0)
    await waitFor(
      () => harness.queries.stats().totals.fcas_prices === fcasRows,
      'both months projected',
      120_000
    )
    // Two archive months are ~58k events: more than a hook's default 5 s on a busy machine.
  }, 150_000)
  afterAll(() => harness?.close())

  test('the raw months hold 2,880 pricing-run rows each: ten services in 2026-04, eight in 2020-01', () => {
    expect(raw.map((r) => r.energy.length)).toEqual([2880, 2880])
    expect(raw.map((r) => r.fcas.length)).toEqual(MONTHS.map((m) => 2880 * m.services))
  })

  test('GET /api/v1/prices/fcas returns exactly the raw FCAS prices, APC flags and PRICE_STATUS', async () => {
    const served = await everyRow(harness, '/api/v1/prices/fcas', FcasPage)
    const lines = served.map(
      (e) =>
        `${e.region_id}|${e.interval_end}|${e.intervention}|${e.service}|${e.price_aud_mw_h}|${e.apc_flag}|${e.price_status}`
    )
    expect(lines.sort()).toEqual(raw.flatMap((r) => r.fcas).sort())
  })

  test('GET /api/v1/prices returns exactly the raw RRP and price flags, null where a version has no column', async () => {
    const served = await everyRow(harness, '/api/v1/prices', PricePage)
    const lines = served.map((e) =>
      [`${e.region_id}|${e.interval_end}|${e.intervention}`, e.rrp_aud_mwh, e.price_status]
        .concat([e.apc_flag, e.market_suspended_flag, e.ocd_status, e.mii_status])
        .join('|')
    )
    expect(lines.sort()).toEqual(raw.flatMap((r) => r.energy).sort())
  })
})

describe('GET /api/v1/prices/fcas', () => {
  let harness: Harness
  afterEach(() => harness?.close())
  const T = '2026-04-01T00:05:00Z'

  test('filters by region, service and time range; newest first with a working cursor', async () => {
    harness = await createHarness()
    await harness.bus.publish([
      fcasPriceEvent('NSW1', 'raise_6sec', T, 0.09),
      fcasPriceEvent('NSW1', 'raise_6sec', '2026-04-01T00:10:00Z', 0.1),
      fcasPriceEvent('NSW1', 'lower_reg', T, 0.42),
      fcasPriceEvent('SA1', 'raise_6sec', T, 0.04),
    ])
    await waitFor(() => harness.queries.stats().totals.fcas_prices === 4, 'projection')
    const first = FcasPage.parse(
      await json(
        harness.api.request('/api/v1/prices/fcas?region_id=NSW1&service=raise_6sec&limit=1')
      )
    )
    expect(first.data.map((e) => [e.interval_end, e.price_aud_mw_h])).toEqual([
      ['2026-04-01T00:10:00Z', 0.1],
    ])
    expect(first.meta.region_filter).toBe('NSW1')
    const second = FcasPage.parse(
      await json(
        harness.api.request(
          `/api/v1/prices/fcas?region_id=NSW1&service=raise_6sec&limit=1&cursor=${first.meta.next_cursor}`
        )
      )
    )
    expect(second.data.map((e) => e.price_aud_mw_h)).toEqual([0.09])
    expect(second.meta.next_cursor).toBeNull()
    const range = FcasPage.parse(
      await json(
        harness.api.request(`/api/v1/prices/fcas?service=raise_6sec&to=2026-04-01T00:10:00Z`)
      )
    )
    expect(range.data.map((e) => e.region_id).sort()).toEqual(['NSW1', 'SA1'])
  })

  test('an unknown service is a 400 problem naming the parameter', async () => {
    harness = await createHarness()
    const body = await expectProblem(
      await harness.api.request('/api/v1/prices/fcas?service=raise_9sec'),
      400,
      'validation_failed'
    )
    expect(body.errors?.map((e) => e.parameter)).toEqual(['service'])
  })

  test('a price published again replaces the earlier row, but a FIRM price is never un-firmed', async () => {
    harness = await createHarness()
    const nsw = (price: number, status: string | null) =>
      fcasPriceEvent('NSW1', 'raise_reg', T, price, status)
    const served = async () =>
      FcasPage.parse(await json(harness.api.request('/api/v1/prices/fcas'))).data.map((e) => [
        e.price_aud_mw_h,
        e.price_status,
      ])
    // Published NOT FIRM, revised while still under review (the later row wins), then FIRM.
    await harness.bus.publish([nsw(9.5, 'NOT FIRM'), nsw(8, 'NOT FIRM')])
    await waitFor(async () => (await served())[0]?.[0] === 8, 'the later NOT FIRM row')
    await harness.bus.publish([nsw(0.42, 'FIRM')])
    await waitFor(async () => (await served())[0]?.[1] === 'FIRM', 'the FIRM row')
    // An older file re-ingested (a backfill) cannot put the NOT FIRM price back. The second event
    // (same region: same partition, applied in order) shows when the first has been applied.
    await harness.bus.publish([nsw(9.5, 'NOT FIRM'), fcasPriceEvent('NSW1', 'lower_reg', T, 1)])
    await waitFor(() => harness.queries.stats().totals.fcas_prices === 2, 'the later batch')
    expect((await served()).filter(([price]) => price !== 1)).toEqual([[0.42, 'FIRM']])
  })
})
