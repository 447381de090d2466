import { afterEach, describe, expect, test } from 'bun:test'
import { json } from '../../../tests/support/api'
import { waitFor, weatherEvent } from '../../../tests/support/events'
import { createHarness } from '../../../tests/support/harness'

let harness: Awaited<ReturnType<typeof createHarness>>
afterEach(() => harness?.close())

describe('GET /api/v1/weather', () => {
  test('serves the projected observations in UTC', async () => {
    harness = await createHarness()
    await harness.bus.publish([weatherEvent('NSW1', 'Sydney', '2026-10-03T10:30:00Z', 17.7)])
    await waitFor(() => harness.queries.stats().totals.weather === 1, 'projection')
    const weather = await json(harness.api.request('/api/v1/weather'))
    expect(weather.data[0]).toMatchObject({
      location: 'Sydney',
      observed_at: '2026-10-03T10:30:00Z',
      temperature_c: 17.7,
    })
  })
})
