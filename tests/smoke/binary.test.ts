import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { chmodSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { waitFor } from '../support/events'
import { batchedForecast, startOpenMeteoServer } from '../support/openmeteo-server'
import { REPO_ROOT, releaseBinary } from '../support/paths'
import { freePort, waitForHttp } from '../support/process'

// The compiled binary, run from an empty directory with nothing beside it, exactly as a user would.
describe('compiled binary', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridpulse-smoke-'))
  const binary = join(dir, 'bin', 'gridpulse')
  const workdir = join(dir, 'run')
  const port = freePort()
  const base = `http://127.0.0.1:${port}`
  let proc: Subprocess<'ignore', 'pipe', 'pipe'>
  let openMeteo: ReturnType<typeof startOpenMeteoServer>
  let apikey = ''
  const env = () => ({
    PATH: process.env.PATH ?? '',
    PORT: String(port),
    HOST: '127.0.0.1',
    SOURCES: 'openmeteo',
    OPENMETEO_BASE_URL: openMeteo.url,
    LOG_LEVEL: 'info',
  })
  const authed = (init: RequestInit = {}) => ({
    ...init,
    headers: { ...(init.headers as Record<string, string>), apikey },
  })
  // biome-ignore lint: response bodies are checked field by field below
  const getJson = async (path: string): Promise<any> =>
    (await fetch(`${base}${path}`, authed())).json()

  beforeAll(async () => {
    const shipped = releaseBinary(process.arch === 'arm64' ? 'arm64' : 'x64')
    if (shipped) {
      await Bun.write(binary, Bun.file(shipped))
      chmodSync(binary, 0o755)
    } else {
      const build = Bun.spawnSync([process.execPath, 'scripts/build.ts', binary], {
        cwd: REPO_ROOT,
        stderr: 'pipe',
      })
      if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr}`)
    }
    await Bun.write(join(workdir, '.keep'), '')
    openMeteo = startOpenMeteoServer(async (_, count) => new Response(await batchedForecast(count)))
    const created = Bun.spawnSync(
      [binary, 'keys', 'create', '--consumer', 'smoke', '--scope', 'write'],
      { cwd: workdir, env: env() }
    )
    apikey = created.stdout.toString().trim()
    expect(apikey).toMatch(/^gpk_/)
    proc = Bun.spawn([binary, 'serve'], {
      cwd: workdir,
      env: env(),
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
    })
    await waitForHttp(`${base}/health`, proc)
  }, 120_000)

  afterAll(() => {
    if (proc && proc.exitCode === null) proc.kill('SIGKILL')
    openMeteo?.stop()
  })

  test('the API needs a key; health, docs and the spec do not', async () => {
    expect((await fetch(`${base}/api/v1/stats`)).status).toBe(401)
    expect(
      (await fetch(`${base}/api/v1/stats`, { headers: { apikey: `${apikey}x` } })).status
    ).toBe(401)
    expect((await fetch(`${base}/api/v1/stats`, authed())).status).toBe(200)
    // Keyless requests are limited per socket address (RATE_LIMIT_ANONYMOUS_PER_MINUTE, 30): a
    // client-chosen X-Forwarded-For does not buy a fresh budget; the key still works.
    const statuses: number[] = []
    for (let i = 0; i < 29; i++) {
      const headers = { 'X-Forwarded-For': `198.51.100.${i}` }
      statuses.push((await fetch(`${base}/api/v1/stats`, { headers })).status)
    }
    expect(statuses.slice(0, 28)).toEqual(Array(28).fill(401))
    expect(statuses[28]).toBe(429)
    expect((await fetch(`${base}/api/v1/stats`, authed())).status).toBe(200)
  })

  test('is ready, serves its OpenAPI document and offline docs', async () => {
    expect((await fetch(`${base}/ready`)).status).toBe(200)
    const spec = await getJson('/openapi.json')
    expect(spec.openapi).toBe('3.1.0')
    const html = await (await fetch(`${base}/docs`)).text()
    expect(html).toContain('/docs/scalar.js')
    const script = await fetch(`${base}/docs/scalar.js`)
    expect(script.status).toBe(200)
    expect(script.headers.get('content-type')).toContain('javascript')
  })

  test('ingests weather from the local Open-Meteo with UTC times', async () => {
    const page = await waitFor(async () => {
      const body = await getJson('/api/v1/weather')
      return body.data.length === 5 && body
    }, 'weather observations')
    expect(page.data.map((o: { region_id: string }) => o.region_id).sort()).toEqual([
      'NSW1',
      'QLD1',
      'SA1',
      'TAS1',
      'VIC1',
    ])
    expect(
      page.data.every((o: { observed_at: string }) => o.observed_at === '2026-10-03T10:30:00Z')
    ).toBe(true)
  })

  test('a POSTed reading comes back through the log and the projection', async () => {
    const body = JSON.stringify({
      region_id: 'VIC1',
      fuel_type: 'brown_coal',
      value_mw: 4321.5,
      interval_end: '2026-04-01T00:05:00Z',
    })
    const accepted = await fetch(
      `${base}/api/v1/dispatch`,
      authed({ method: 'POST', headers: { 'content-type': 'application/json' }, body })
    )
    expect(accepted.status).toBe(202)
    const { event_id } = (await accepted.json()) as { event_id: string }
    const page = await waitFor(async () => {
      const list = await getJson('/api/v1/dispatch?region_id=VIC1')
      return list.data.length > 0 && list
    }, 'the posted reading')
    expect(page.data[0]).toMatchObject({ event_id, value_mw: 4321.5 })
  })

  test('bad input never takes the process down', async () => {
    const huge = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(`{"pad":"${'x'.repeat(200_000)}"}`))
        controller.close()
      },
    })
    const chunked = await fetch(
      `${base}/api/v1/dispatch`,
      authed({ method: 'POST', headers: { 'content-type': 'application/json' }, body: huge })
    )
    expect(chunked.status).toBe(413)
    const garbage = await fetch(
      `${base}/api/v1/dispatch`,
      authed({
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '\u0000\u0001{',
      })
    )
    expect(garbage.status).toBe(400)
    expect((await fetch(`${base}/health`)).status).toBe(200)
  })

  test('/metrics is Prometheus text and counts what flowed', async () => {
    const response = await fetch(`${base}/metrics`)
    expect(response.headers.get('content-type')).toContain('text/plain')
    const text = await response.text()
    expect(text).toContain(
      'gridpulse_events_ingested_total{source="openmeteo.forecast",event_type="WeatherObservation"} 5'
    )
    expect(text).toMatch(
      /gridpulse_http_request_duration_seconds_count\{[^}]*route="\/api\/v1\/weather"/
    )
    expect(text).toContain('gridpulse_build_info{version=')
  })

  test('exits 0 on SIGTERM, and the key never reached a log line or a database', async () => {
    proc.kill('SIGTERM')
    expect(await proc.exited).toBe(0)
    const logs = await new Response(proc.stdout).text()
    expect(logs).toContain('"msg":"stopped"')
    // Start-up says where the docs are; every line is JSON (no plain-text warning in between).
    expect(logs).toContain(`"docs_url":"${base}/docs"`)
    expect(logs.split('\n').filter((line) => line.trim() && !line.startsWith('{'))).toEqual([])
    expect(logs).toContain('"consumer":"smoke"')
    // gpk_<id>_<secret>: the secret is base64url and may itself contain '_'.
    const secret = apikey.slice(apikey.indexOf('_', 'gpk_'.length) + 1)
    expect(logs).not.toContain(secret)
    for (const file of ['projection.sqlite', 'log.sqlite', 'access.sqlite']) {
      const bytes = Buffer.from(await Bun.file(join(workdir, 'data', file)).arrayBuffer())
      expect(bytes.includes(secret)).toBe(false)
    }
  })

  test('reports every configuration error in its first run, exit 78', () => {
    const run = Bun.spawnSync([binary, 'serve'], {
      cwd: workdir,
      env: {
        PATH: process.env.PATH ?? '',
        PORT: 'eighty',
        AUTH_MODE: 'gateway',
        WEATHER_LOCATIONS: 'NSW1:Sydney:north',
      },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    expect(run.exitCode).toBe(78)
    const stderr = run.stderr.toString()
    for (const name of ['PORT', 'GATEWAY_SECRET', 'WEATHER_LOCATIONS'])
      expect(stderr).toContain(name)
  })
})
