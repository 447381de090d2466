import { describe, expect, test } from 'bun:test'
import { REGION_IDS, type GridEvent, topicFor } from '@/canonical'
import { normalizeDispatchScada } from '@/sources/aemo'
import { oneEventOfEachType } from '../../tests/support/events'
import { AEMO_FIXTURES, fixtureFile } from '../../tests/support/nemweb-fixtures'
import { createProjector, createReadPort, openProjectionDb } from '.'
import { halfHourEndFor, renewablesOf } from './generation'

async function projected(events: readonly GridEvent[]) {
  const db = openProjectionDb(':memory:')
  const projector = createProjector(db, 'test')
  for (const [topic, batch] of Map.groupBy(events, topicFor))
    await projector.project({
      topic,
      partition: 0,
      records: batch.map((event, i) => ({ offset: BigInt(i), kind: 'event' as const, event })),
    })
  return createReadPort(db)
}

describe('renewables share', () => {
  test('wind, utility and rooftop solar and hydro over the total; batteries on neither side', () => {
    expect(
      renewablesOf([
        { fuel_type: 'black_coal', value_mw: 600 },
        { fuel_type: 'wind', value_mw: 200 },
        { fuel_type: 'rooftop_solar', value_mw: 150 },
        { fuel_type: 'hydro', value_mw: 50 },
        { fuel_type: 'battery_discharging', value_mw: 80 },
        { fuel_type: 'battery_charging', value_mw: -30 },
      ])
    ).toEqual({ renewable_mw: 400, total_mw: 1000, share: 0.4 })
    // Nothing generating (a night without wind, aux load only): no share rather than a division.
    expect(renewablesOf([{ fuel_type: 'wind', value_mw: -0.2 }]).share).toBeNull()
  })

  test('a 5-minute interval belongs to the half hour ending at or after it', () => {
    const half = (iso: string) => new Date(halfHourEndFor(Date.parse(iso))).toISOString()
    expect(half('2026-04-29T02:05:00Z')).toBe('2026-04-29T02:30:00.000Z')
    expect(half('2026-04-29T02:30:00Z')).toBe('2026-04-29T02:30:00.000Z')
    expect(half('2026-04-29T02:35:00Z')).toBe('2026-04-29T03:00:00.000Z')
  })

  test('the live 390-DUID SCADA file: each region’s share from its projected fuels, pumps and batteries included', async () => {
    const scada = normalizeDispatchScada(fixtureFile(AEMO_FIXTURES.liveScada), {
      correlationId: 'c',
      ingestedAt: '2026-11-28T00:00:00.000Z',
    })
    const queries = await projected(scada.events)
    const rows = queries.dispatch.list({ limit: 1000 }).data
    // A pump is negative hydro and a battery is on both sides of nothing: the file has both.
    expect(rows.some((r) => r.fuel_type === 'hydro' && r.value_mw < 0)).toBe(true)
    expect(rows.some((r) => r.fuel_type.startsWith('battery'))).toBe(true)

    for (const region of REGION_IDS) {
      const fuels = rows.filter((r) => r.region_id === region)
      const sum = (pick: (f: string) => boolean) =>
        fuels.filter((r) => pick(r.fuel_type)).reduce((s, r) => s + r.value_mw, 0)
      const renewable = sum((f) => ['wind', 'utility_solar', 'hydro'].includes(f))
      const total = sum((f) => !f.startsWith('battery'))
      const [interval] = queries.generation.renewables({ regionId: region, limit: 10 }).data

      expect(interval).toMatchObject({
        interval_end: '2021-09-02T02:55:00Z',
        renewable_mw: expect.closeTo(renewable, 5),
        total_mw: expect.closeTo(total, 5),
        share: expect.closeTo(renewable / total, 5),
        // No rooftop estimate in the log for that day: the share is SCADA only, and says so.
        rooftop_solar_mw: null,
        rooftop_estimate_type: null,
      })
      const mix = queries.generation.mix(region)!
      expect(mix.renewables).toMatchObject({ share: interval!.share, rooftop_included: false })
      expect(mix.rooftop).toBeNull()
    }
  })

  test('rooftop gaps are counted at the half-hour cadence', async () => {
    const at = (t: string) => oneEventOfEachType(t).RooftopPvEvent
    const queries = await projected([at('2026-04-01T00:30:00Z'), at('2026-04-01T01:30:00Z')])
    expect(
      queries.gaps(
        'aemo.rooftop_pv',
        Date.parse('2026-04-01T00:00:00Z'),
        Date.parse('2026-04-01T02:00:00Z')
      )
    ).toEqual({
      missing: ['2026-04-01T02:00:00Z', '2026-04-01T01:00:00Z'],
      ranges: [
        { from: '2026-04-01T01:30:00Z', to: null, intervals: 1 },
        { from: '2026-04-01T00:30:00Z', to: '2026-04-01T01:00:00Z', intervals: 1 },
      ],
    })
  })
})
