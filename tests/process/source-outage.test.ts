import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { waitFor } from '../support/events'
import { buildDispatchIsZip, buildDispatchScadaZip } from '../support/nemweb-fixtures'
import { startNemwebServer } from '../support/nemweb-server'
import { freePort, spawnAemoNode, waitForHttp } from '../support/process'

// NEMWeb unreachable from the start (a closed local port), with the outage policy compressed so
// that minutes of behaviour take seconds: polls back off 20 ms doubling to 200 ms (defaults: 2 s
// to 5 min) and a down source is reminded about every 2 s (default: 600 s). The log must grow with
// the reminder period, not with the number of failed polls; /metrics, /api/v1/sources must show
// the source down since start; when NEMWeb appears on that port, one recovery line per source.
const LOG_EVERY_MS = 2_000
const AEMO = ['sources.aemo.dispatchis', 'sources.aemo.scada'] as const
const SOURCE_OF = {
  'sources.aemo.dispatchis': 'aemo.dispatchis',
  'sources.aemo.scada': 'aemo.dispatch_scada',
}

type Line = { level: string; msg: string; component?: string; time: string } & Record<
  string,
  unknown
>

describe('NEMWeb unreachable from start', () => {
  const root = mkdtempSync(join(tmpdir(), 'gridpulse-outage-'))
  let nemweb: ReturnType<typeof startNemwebServer> | undefined
  let proc: ReturnType<typeof Bun.spawn> | undefined
  afterAll(async () => {
    proc?.kill('SIGTERM')
    await proc?.exited
    nemweb?.stop()
    rmSync(root, { recursive: true, force: true })
  })

  test('few log lines, counted failures, down since start; one recovery line when it returns', async () => {
    const nemwebPort = freePort() // nothing listens here until the end of the test
    const port = freePort()
    const spawnedAt = Date.now()
    proc = spawnAemoNode({
      port,
      dataDir: join(root, 'data'),
      nemwebUrl: `http://127.0.0.1:${nemwebPort}`,
      env: {
        SOURCE_BACKOFF_INITIAL_MS: '20',
        SOURCE_BACKOFF_MAX_MS: '200',
        SOURCE_DOWN_LOG_EVERY_SECONDS: String(LOG_EVERY_MS / 1000),
        LOG_LEVEL: 'info',
      },
      stdout: 'pipe',
    })
    const lines: Line[] = []
    void (async () => {
      let rest = ''
      for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
        rest += new TextDecoder().decode(chunk)
        const parts = rest.split('\n')
        rest = parts.pop()!
        for (const part of parts) if (part.trim()) lines.push(JSON.parse(part))
      }
    })()
    const base = `http://127.0.0.1:${port}`
    await waitForHttp(`${base}/health`, proc)
    const from = (component: string) => lines.filter((l) => l.component === component)

    const failures = async (source: string) => {
      const text = await (await fetch(`${base}/metrics`)).text()
      const m = text.match(
        new RegExp(
          `^gridpulse_source_failures_total\\{source="${source}",reason="unreachable"\\} (\\d+)`,
          'm'
        )
      )
      return Number(m?.[1] ?? 0)
    }
    // Many failed polls, and long enough for a reminder.
    await waitFor(
      async () =>
        (await failures('aemo.dispatchis')) >= 40 &&
        (await failures('aemo.dispatch_scada')) >= 40 &&
        AEMO.every((c) => from(c).some((l) => l.msg === 'source still down')),
      'many failed polls and a reminder',
      60_000
    )
    const elapsedMs = Date.now() - spawnedAt
    const snapshot = AEMO.map((c) => from(c))
    const metrics = await (await fetch(`${base}/metrics`)).text()
    const sources = (await (await fetch(`${base}/api/v1/sources`)).json()) as {
      data: (Record<string, unknown> & { source: string })[]
    }
    const servingAt = Date.parse(lines.find((l) => l.msg.startsWith('gridpulse is serving'))!.time)

    for (const [i, component] of AEMO.entries()) {
      const own = snapshot[i]!
      // One "source down", then at most one reminder per LOG_EVERY_MS: the bound is the policy's,
      // however many polls failed (≥ 40 here). At the defaults (600 s) ten minutes give ≤ 2 lines.
      expect(own.length).toBeLessThanOrEqual(1 + Math.floor(elapsedMs / LOG_EVERY_MS))
      expect(own[0]).toMatchObject({ level: 'warn', msg: 'source down', reason: 'unreachable' })
      expect(own.slice(1).every((l) => l.msg === 'source still down' && l.level === 'warn')).toBe(
        true
      )
      // The URL is named once, short (host/path), in the error.
      expect(String(own[0]!.error)).toStartWith(`GET 127.0.0.1:${nemwebPort}/Reports/Current/`)
      const reminder = own.at(-1)!
      expect(Number(reminder.failures)).toBeGreaterThan(1)
      expect(Date.parse(String(reminder.down_since))).toBeLessThanOrEqual(servingAt)

      const source = SOURCE_OF[component]
      expect(metrics).toContain(
        `gridpulse_source_last_success_timestamp_seconds{source="${source}"} 0`
      )
      const status = sources.data.find((s) => s.source === source)!
      expect(status).toMatchObject({
        status: 'down',
        last_success_at: null,
        last_failure_reason: 'unreachable',
        polling: true,
        last_file: null,
      })
      // Down since start: the first poll runs before the HTTP server is up.
      const downSince = Date.parse(String(status.down_since))
      expect(downSince).toBeGreaterThanOrEqual(spawnedAt)
      expect(downSince).toBeLessThanOrEqual(servingAt)
      expect(Number(status.consecutive_failures)).toBeGreaterThanOrEqual(40)
      const ranges = status.gap_ranges as { from: string; to: string | null }[]
      expect(ranges).toHaveLength(1)
      expect(ranges[0]!.to).toBeNull()
      expect(Date.parse(ranges[0]!.from)).toBeGreaterThanOrEqual(spawnedAt - 1000) // second precision
      expect(Date.parse(ranges[0]!.from)).toBeLessThanOrEqual(servingAt)
    }

    // NEMWeb comes back on the same port, with one interval of each report.
    nemweb = startNemwebServer({ port: nemwebPort })
    nemweb.add('/Reports/Current/DispatchIS_Reports/', buildDispatchIsZip('2026-04-02T00:05:00Z'))
    nemweb.add('/Reports/Current/Dispatch_SCADA/', buildDispatchScadaZip('2026-04-02T00:05:00Z'))
    const statusOf = async (source: string) =>
      (
        (await (await fetch(`${base}/api/v1/sources`)).json()) as {
          data: (Record<string, unknown> & { source: string })[]
        }
      ).data.find((s) => s.source === source)!
    await waitFor(
      async () =>
        (await statusOf('aemo.dispatchis')).status === 'up' &&
        (await statusOf('aemo.dispatch_scada')).status === 'up' &&
        AEMO.every((c) => from(c).some((l) => l.msg === 'source recovered')),
      'both sources up again',
      30_000
    )
    for (const component of AEMO) {
      const recovered = from(component).filter((l) => l.msg === 'source recovered')
      expect(recovered).toHaveLength(1)
      expect(recovered[0]).toMatchObject({ level: 'info' })
      expect(Number(recovered[0]!.failures)).toBeGreaterThanOrEqual(40)
      expect(Number(recovered[0]!.outage_ms)).toBeGreaterThan(0)
      const status = await statusOf(SOURCE_OF[component])
      expect(status).toMatchObject({ down_since: null, consecutive_failures: 0, last_error: null })
    }
    const after = await (await fetch(`${base}/metrics`)).text()
    expect(after).not.toContain(
      'gridpulse_source_last_success_timestamp_seconds{source="aemo.dispatchis"} 0\n'
    )
  }, 120_000)
})
