import { afterEach, describe, expect, test } from 'bun:test'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createEmbeddedBus } from '@/bus'
import { createDeadLetter } from '@/canonical'
import { silentLogger } from '@/observability'
import { priceEvent, waitFor } from '../../tests/support/events'
import { batchedForecast, startOpenMeteoServer } from '../../tests/support/openmeteo-server'
import { loadConfig } from '../config'
import { createNode, type GridPulseNode } from './create-node'
import { PROJECTION_CONSUMER } from './version'

/** The samples of one metric family in a Prometheus text page, by their label set. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    const m = line.match(/^([a-z_]+)(\{[^}]*\})? (\S+)$/)
    if (m && m[1] === name) out.set(m[2] ?? '', Number(m[3]))
  }
  return out
}

describe('createNode', () => {
  const cleanup: (() => unknown)[] = []
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step()
  })
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridpulse-node-'))
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
    return dir
  }
  const start = async (env: Record<string, string>, overrides = {}) => {
    const node = await createNode(loadConfig({ SOURCES: 'none', AUTH_MODE: 'none', ...env }), {
      log: silentLogger(),
      ...overrides,
    })
    cleanup.push(() => node.close())
    return node
  }
  const get = async (node: GridPulseNode, path: string) =>
    node.fetch(new Request(`http://node${path}`))
  const projected = (node: GridPulseNode) =>
    [...node.queries.positions(PROJECTION_CONSUMER).values()].reduce((a, b) => a + b, 0n)

  test('given a data directory, it projects what reaches its log and reports it on /ready and /metrics', async () => {
    const dir = tempDir()
    const node = await start({ DATA_DIR: dir })
    const price = priceEvent('NSW1', '2026-04-01T00:05:00Z', 87.4)
    await node.bus.publish([price])
    await node.bus.deadLetter([
      createDeadLetter({
        origin: 'projection',
        identity: 'node-test',
        topic: 'market.prices',
        code: 'validation_failed',
        reason: 'a test rejection',
        correlation_id: null,
        source: 'api',
        source_file: null,
        row: null,
        raw: '{}',
        failed_at: '2026-04-01T00:00:00.000Z',
      }),
    ])
    await waitFor(() => projected(node) >= 2n, 'both records projected')

    expect(existsSync(join(dir, 'projection.sqlite'))).toBe(true)
    expect(existsSync(join(dir, 'log.sqlite'))).toBe(true)
    const ready = await get(node, '/ready')
    expect(ready.status).toBe(200)
    // biome-ignore lint: the report is checked field by field
    const report: any = await ready.json()
    expect(Object.keys(report.checks)).toEqual([
      'database',
      'event_log',
      'projection',
      'loops',
      'sources',
    ])
    expect(report.checks.projection).toMatchObject({ ok: true, lag: 0 })
    expect((await get(node, '/health')).status).toBe(200)

    const page = await (await get(node, '/metrics')).text()
    expect(
      samples(page, 'gridpulse_projection_events_applied_total').get('{topic="market.prices"}')
    ).toBe(1)
    expect(samples(page, 'gridpulse_dlq_records_total')).toEqual(
      new Map([['{topic="market.prices",code="validation_failed"}', 1]])
    )
    expect(
      samples(page, 'gridpulse_end_to_end_latency_seconds_count').get(
        '{event_type="RegionPriceEvent"}'
      )
    ).toBe(1)
    // Topics nothing reached yet are there at 0, and readiness is on the page for alerting.
    expect(
      samples(page, 'gridpulse_projection_events_applied_total').get(
        '{topic="weather.observations"}'
      )
    ).toBe(0)
    expect(samples(page, 'gridpulse_node_ready')).toEqual(new Map([['', 1]]))
    expect(node.exitCode()).toBeUndefined()
  })

  test('its pollers publish through the counted sink and report their freshness', async () => {
    let calls = 0
    const openMeteo = startOpenMeteoServer(async (_, count) => {
      calls++
      // The first answer is an error body (a dead letter); the next ones are real data.
      return calls === 1
        ? new Response('{"error":true,"reason":"Latitude must be in range of -90 to 90°."}', {
            status: 400,
          })
        : new Response(await batchedForecast(count))
    })
    cleanup.push(() => openMeteo.stop())
    const node = await start({
      DATA_DIR: tempDir(),
      SOURCES: 'openmeteo',
      OPENMETEO_BASE_URL: openMeteo.url,
      SOURCE_BACKOFF_INITIAL_MS: '10',
    })

    await waitFor(
      () => node.sources.list().find((s) => s.lastSuccessAt !== null),
      'a successful weather poll',
      20_000
    )
    const page = await (await get(node, '/metrics')).text()
    const ingested = samples(page, 'gridpulse_events_ingested_total')
    expect(
      ingested.get('{source="openmeteo.forecast",event_type="WeatherObservation"}')
    ).toBeGreaterThanOrEqual(1)
    expect(samples(page, 'gridpulse_events_rejected_total')).toEqual(
      new Map([['{source="openmeteo.forecast",code="upstream_error"}', 1]])
    )
    // biome-ignore lint: the report is checked field by field
    const report: any = await (await get(node, '/ready')).json()
    expect(report.checks.sources.sources).toEqual([
      expect.objectContaining({ source: 'openmeteo.forecast', fresh: true }),
    ])
    expect(report.checks.loops.loops).toEqual([
      expect.objectContaining({ name: 'poller openmeteo.forecast', state: 'running' }),
    ])
    expect(samples(page, 'gridpulse_loop_restarts_total')).toEqual(
      new Map([['{loop="poller openmeteo.forecast"}', 0]])
    )
  })

  test('given its stores in memory, it touches no data directory', async () => {
    const dir = join(tempDir(), 'never-created')
    const node = await start(
      { DATA_DIR: dir },
      {
        bus: createEmbeddedBus({ path: ':memory:', log: silentLogger(), idlePollMs: 20 }),
        projectionPath: ':memory:',
        accessPath: ':memory:',
      }
    )
    expect((await get(node, '/ready')).status).toBe(200)
    expect(existsSync(dir)).toBe(false)
  })
})
