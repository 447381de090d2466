import { afterEach, describe, expect, test } from 'bun:test'
import { sha256Hex } from '@/lib'
import { normalizeRooftopPv } from '@/sources/aemo'
import { expectProblem, json } from '../../../tests/support/api'
import { waitFor } from '../../../tests/support/events'
import { createHarness } from '../../../tests/support/harness'
import {
  buildRooftopPvZip,
  LIVE_ROOFTOP_CSV_20240303,
} from '../../../tests/support/nemweb-fixtures'
import { pageOf } from '../common'
import { RooftopPvEstimateSchema } from './rooftop.routes'

let harness: Awaited<ReturnType<typeof createHarness>>
afterEach(() => harness?.close())

const ctx = { correlationId: 'c-api', ingestedAt: '2026-11-28T00:00:00.000Z' }
const PageSchema = pageOf(RooftopPvEstimateSchema, 'RooftopPvPageTest')

/** Both estimate types of 2026-04-01 12:00–13:30 NEM time (real archive rows), projected. */
async function withApril() {
  harness = await createHarness()
  const events = [
    '2026-04-01T02:00:00Z',
    '2026-04-01T02:30:00Z',
    '2026-04-01T03:00:00Z',
    '2026-04-01T03:30:00Z',
  ].flatMap((t) =>
    (['MEASUREMENT', 'SATELLITE'] as const).flatMap(
      (type) => normalizeRooftopPv(buildRooftopPvZip(type, t), ctx).events
    )
  )
  await harness.bus.publish(events)
  await waitFor(() => harness.queries.stats().totals.rooftop_pv === 16, 'projection')
}

describe('GET /api/v1/generation/rooftop', () => {
  test('by default one estimate per region and half hour, the preferred MEASUREMENT; newest first', async () => {
    await withApril()
    const page = PageSchema.parse(
      await json(harness.api.request('/api/v1/generation/rooftop?region_id=SA1'))
    )
    expect(page.data.map((e) => [e.interval_end, e.estimate_type, e.preferred])).toEqual([
      ['2026-04-01T03:30:00Z', 'MEASUREMENT', true],
      ['2026-04-01T03:00:00Z', 'MEASUREMENT', true],
      ['2026-04-01T02:30:00Z', 'MEASUREMENT', true],
      ['2026-04-01T02:00:00Z', 'MEASUREMENT', true],
    ])
    expect(page.meta).toMatchObject({ count: 4, region_filter: 'SA1', next_cursor: null })
  })

  test('`estimate` selects both types or one; paging walks every row once', async () => {
    await withApril()
    const satellite = PageSchema.parse(
      await json(harness.api.request('/api/v1/generation/rooftop?estimate=SATELLITE&limit=100'))
    )
    expect(satellite.data).toHaveLength(8)
    expect(satellite.data.every((e) => e.estimate_type === 'SATELLITE' && !e.preferred)).toBe(true)

    const seen: string[] = []
    let cursor: string | null = null
    do {
      const page = PageSchema.parse(
        await json(
          harness.api.request(
            `/api/v1/generation/rooftop?estimate=all&limit=3${cursor ? `&cursor=${cursor}` : ''}`
          )
        )
      )
      seen.push(...page.data.map((e) => e.event_id))
      cursor = page.meta.next_cursor
    } while (cursor)
    expect(seen).toHaveLength(16)
    expect(new Set(seen).size).toBe(16)
  })

  test('sub-regions are listed inside their region, as published', async () => {
    harness = await createHarness()
    const csv = LIVE_ROOFTOP_CSV_20240303
    const { events } = normalizeRooftopPv(
      { name: 'live.CSV', bytes: csv, sha256: sha256Hex(csv) },
      ctx
    )
    await harness.bus.publish(events)
    await waitFor(() => harness.queries.stats().totals.rooftop_pv === 5, 'projection')

    const page = PageSchema.parse(
      await json(harness.api.request('/api/v1/generation/rooftop?region_id=TAS1'))
    )
    expect(page.data).toHaveLength(1)
    expect(page.data[0]).toMatchObject({
      region_id: 'TAS1',
      power_mw: 0,
      basis: 'region',
      sub_regions: [
        { sub_region_id: 'TASN', power_mw: 0, quality_indicator: 1 },
        { sub_region_id: 'TASS', power_mw: 0, quality_indicator: 1 },
      ],
    })
  })

  test('bad queries are 400 problems: an unknown estimate, a sub-region as region, a bad cursor', async () => {
    harness = await createHarness()
    for (const query of ['estimate=BEST', 'region_id=QLDN', 'cursor=abc', 'limit=0', 'type=x'])
      await expectProblem(
        await harness.api.request(`/api/v1/generation/rooftop?${query}`),
        400,
        'validation_failed'
      )
  })
})

describe('GET /api/v1/generation/renewables', () => {
  test('needs a region; an empty log is an empty page', async () => {
    harness = await createHarness()
    await expectProblem(
      await harness.api.request('/api/v1/generation/renewables'),
      400,
      'validation_failed'
    )
    const page = await json(harness.api.request('/api/v1/generation/renewables?region_id=VIC1'))
    expect(page).toMatchObject({ data: [], meta: { count: 0, next_cursor: null } })
  })
})
