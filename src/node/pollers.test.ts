import { afterEach, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '@/observability'
import { waitFor } from '../../tests/support/events'
import { buildRooftopPvZip } from '../../tests/support/nemweb-fixtures'
import { startNemwebServer } from '../../tests/support/nemweb-server'
import { loadConfig } from '../config'
import { createNode } from './create-node'

const cleanup: (() => unknown)[] = []
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step()
})

test('SOURCES=rooftop polls ROOFTOP_PV/ACTUAL and reports it like every source: /api/v1/sources, /metrics, /ready', async () => {
  const nemweb = startNemwebServer()
  cleanup.push(() => nemweb.stop())
  // Real archive rows (April 2026), packaged as the live MEASUREMENT file of 12:00 NEM time.
  nemweb.add(
    '/Reports/Current/ROOFTOP_PV/ACTUAL/',
    buildRooftopPvZip('MEASUREMENT', '2026-04-01T02:00:00Z')
  )
  const dir = mkdtempSync(join(tmpdir(), 'gridpulse-rooftop-'))
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
  const node = await createNode(
    loadConfig({
      DATA_DIR: dir,
      SOURCES: 'rooftop',
      AUTH_MODE: 'none',
      AEMO_BASE_URL: nemweb.url,
      AEMO_ROOFTOP_POLL_SECONDS: '1',
      AEMO_INITIAL_LOOKBACK_MINUTES: '1000000000',
    }),
    { log: silentLogger(), now: () => Date.parse('2026-04-01T03:00:00Z') }
  )
  cleanup.push(() => node.close())
  const get = async (path: string) => (await node.fetch(new Request(`http://node${path}`))).json()

  await waitFor(() => node.queries.stats().totals.rooftop_pv === 2, 'rooftop projected', 20_000)

  // biome-ignore lint: the report is checked field by field
  const sources: any = await get('/api/v1/sources')
  expect(sources.data).toEqual([
    expect.objectContaining({
      source: 'aemo.rooftop_pv',
      status: 'up',
      last_interval: '2026-04-01T02:00:00Z',
      last_file: expect.stringMatching(/^PUBLIC_ROOFTOP_PV_ACTUAL_MEASUREMENT_20260401123000_/),
      // 30-minute cadence with 45 minutes' grace: at 13:00 NEM time nothing is overdue yet.
      gaps: [],
    }),
  ])
  const metrics = await (await node.fetch(new Request('http://node/metrics'))).text()
  expect(metrics).toContain(
    'gridpulse_events_ingested_total{source="aemo.rooftop_pv",event_type="RooftopPvEvent"} 2'
  )
  expect(metrics).toMatch(
    /gridpulse_source_last_success_timestamp_seconds\{source="aemo.rooftop_pv"\} [1-9]/
  )
  // biome-ignore lint: the report is checked field by field
  const ready: any = await get('/ready')
  expect(ready.checks.loops.loops).toEqual([
    expect.objectContaining({ name: 'poller aemo.rooftop_pv', state: 'running' }),
  ])
})
