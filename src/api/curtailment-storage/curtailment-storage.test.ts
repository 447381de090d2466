import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { DISPATCH_IS_TABLES, normalizeDispatchIsFiles, readSourceFile } from '@/sources/aemo'
import { expectProblem, json } from '../../../tests/support/api'
import { waitFor } from '../../../tests/support/events'
import { createHarness } from '../../../tests/support/harness'
import { AEMO_FIXTURES, fixtureFile } from '../../../tests/support/nemweb-fixtures'
import { rawArchiveRows, rawNemTimeToUtc } from '../../../tests/support/raw-archive'
import { CURTAILMENT, STORAGE } from './curtailment-storage.routes'

const CurtailmentPage = CURTAILMENT.page
const StoragePage = STORAGE.page

/** An AEMO NUMBER(15,5) text as an exact count of 0.00001 (independent of floating point). */
function e5(text: string): bigint {
  const negative = text.startsWith('-')
  const [whole, fraction = ''] = text.replace('-', '').split('.')
  if (fraction.length > 5) throw new Error(`more than 5 decimals: ${text}`)
  const value = BigInt(whole!) * 100_000n + BigInt(fraction.padEnd(5, '0'))
  return negative ? -value : value
}
const mw = (v: bigint) => Number(v) / 1e5
const clamp = (v: bigint) => (v < 0n ? 0n : v)

const MONTHS = [
  [AEMO_FIXTURES.price202604, AEMO_FIXTURES.regionsum202604],
  [AEMO_FIXTURES.price202001, AEMO_FIXTURES.regionsum202001],
] as const

describe('curtailment and storage of the archive months', () => {
  let harness: Awaited<ReturnType<typeof createHarness>>
  const april = rawArchiveRows(AEMO_FIXTURES.regionsum202604)

  beforeAll(async () => {
    harness = await createHarness()
    for (const month of MONTHS) {
      const files = month.map((f) =>
        readSourceFile(fixtureFile(f), DISPATCH_IS_TABLES, { strictFooter: false })
      )
      const { events } = normalizeDispatchIsFiles(files, {
        correlationId: 'archive-test',
        ingestedAt: '2026-05-08T01:24:43.000Z',
      })
      await harness.bus.publish(events)
    }
    await waitFor(() => harness.queries.stats().totals.prices === 5760, 'projected', 60_000)
  }, 90_000)
  afterAll(() => harness?.close())

  /** Every row of a list route (pages of 1000), each page checked by its schema. */
  async function everyRow<S extends typeof CurtailmentPage | typeof StoragePage>(
    path: string,
    schema: S
  ) {
    const rows: ReturnType<S['parse']>['data'] = []
    let cursor: string | null = null
    do {
      const page = schema.parse(
        await json(harness.api.request(`${path}?limit=1000${cursor ? `&cursor=${cursor}` : ''}`))
      ) as ReturnType<S['parse']>
      rows.push(...(page.data as never[]))
      cursor = page.meta.next_cursor
    } while (cursor !== null)
    return rows
  }

  test('curtailment is max(0, UIGF − cleared) of the raw REGIONSUM rows, exact to 5 decimals; null in 2020', async () => {
    // April 2026 has no intervention run, so every row is the dispatched one.
    expect(april.every((r) => r.INTERVENTION === '0')).toBe(true)
    const expected = april.map((r) => {
      const solar = clamp(e5(r.SS_SOLAR_UIGF!) - e5(r.SS_SOLAR_CLEAREDMW!))
      const wind = clamp(e5(r.SS_WIND_UIGF!) - e5(r.SS_WIND_CLEAREDMW!))
      return [
        r.REGIONID,
        rawNemTimeToUtc(r.SETTLEMENTDATE!),
        Number(r.SS_SOLAR_UIGF),
        Number(r.SS_SOLAR_CLEAREDMW),
        mw(solar),
        Number(r.SS_WIND_UIGF),
        Number(r.SS_WIND_CLEAREDMW),
        mw(wind),
        mw(solar + wind),
      ].join('|')
    })
    const served = await everyRow('/api/v1/curtailment', CurtailmentPage)
    const [recent, old] = [
      served.filter((c) => c.interval_end >= '2026'),
      served.filter((c) => c.interval_end < '2026'),
    ]
    const lines = recent.map((c) =>
      [c.region_id, c.interval_end, c.solar_available_mw, c.solar_cleared_mw]
        .concat([c.solar_curtailment_mw, c.wind_available_mw, c.wind_cleared_mw])
        .concat([c.wind_curtailment_mw, c.curtailment_mw])
        .join('|')
    )
    expect(lines.sort()).toEqual(expected.sort())
    // Cleared above the forecast is no curtailment (3 solar intervals of the month).
    expect(april.filter((r) => e5(r.SS_SOLAR_UIGF!) < e5(r.SS_SOLAR_CLEAREDMW!))).toHaveLength(3)
    expect(recent.every((c) => c.solar_curtailment_mw! >= 0 && c.wind_curtailment_mw! >= 0)).toBe(
      true
    )
    // REGIONSUM v4 (January 2020) has no semi-scheduled columns: null, not zero.
    expect(old).toHaveLength(2880)
    expect(old.every((c) => c.solar_available_mw === null && c.curtailment_mw === null)).toBe(true)
  })

  test('storage is the raw BDU charge, discharge and stored energy; null in 2020', async () => {
    const expected = april.map((r) =>
      [
        r.REGIONID,
        rawNemTimeToUtc(r.SETTLEMENTDATE!),
        Number(r.BDU_CLEAREDMW_LOAD),
        Number(r.BDU_CLEAREDMW_GEN),
        Number(r.BDU_ENERGY_STORAGE),
      ].join('|')
    )
    const served = await everyRow('/api/v1/storage', StoragePage)
    const recent = served.filter((s) => s.interval_end >= '2026')
    expect(
      recent
        .map((s) =>
          [s.region_id, s.interval_end, s.charge_mw, s.discharge_mw, s.stored_energy_mwh].join('|')
        )
        .sort()
    ).toEqual(expected.sort())
    const old = served.filter((s) => s.interval_end < '2026')
    expect(old.every((s) => s.charge_mw === null && s.stored_energy_mwh === null)).toBe(true)
  })

  test('both filter by region and range, newest first', async () => {
    const page = StoragePage.parse(
      await json(
        harness.api.request(
          '/api/v1/storage?region_id=SA1&from=2026-04-30T23:50:00%2B10:00&to=2026-05-01T00:00:01%2B10:00'
        )
      )
    )
    // D,DISPATCH,REGIONSUM,9,2026/05/01 00:00:00,1,SA1,…: BDU_ENERGY_STORAGE …
    expect(page.data.map((s) => [s.region_id, s.interval_end])).toEqual([
      ['SA1', '2026-04-30T14:00:00Z'],
      ['SA1', '2026-04-30T13:55:00Z'],
      ['SA1', '2026-04-30T13:50:00Z'],
    ])
    expect(page.meta.region_filter).toBe('SA1')
    await expectProblem(
      await harness.api.request('/api/v1/curtailment?region_id=WA1'),
      400,
      'validation_failed'
    )
  })

  test('/api/v1/stats reports curtailment and storage per region', async () => {
    const stats = await json(harness.api.request('/api/v1/stats'))
    const sa1 = stats.regions.find((r: { region_id: string }) => r.region_id === 'SA1')
    const rows = april.filter((r) => r.REGIONID === 'SA1')
    const stored = rows.map((r) => Number(r.BDU_ENERGY_STORAGE))
    expect(sa1).toMatchObject({
      // 1,440 intervals of SA1 in each month; only April's REGIONSUM has the columns.
      price_count: 2880,
      curtailment_count: 1440,
      storage_count: 1440,
      storage_mwh_min: Math.min(...stored),
      storage_mwh_max: Math.max(...stored),
    })
  })
})
