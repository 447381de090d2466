import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { toUtcIso } from '@/lib'
import { waitFor } from '../support/events'
import { buildDispatchIsZip, buildDispatchScadaZip } from '../support/nemweb-fixtures'
import { startNemwebServer } from '../support/nemweb-server'
import { freePort, spawnAemoNode, waitForHttp } from '../support/process'

// SIGKILL in the middle of ingesting a batch of NEMWeb files, then restart: the projection must
// hold exactly what an uninterrupted run holds (no gaps, no duplicates). Files are live-format
// builds of real archive rows (see tests/support/nemweb-fixtures.ts).
const FILES = 48
const step = (iso: string, n: number) => toUtcIso(Date.parse(iso) + n * 300_000)

describe('AEMO ingestion survives SIGKILL', () => {
  const nemweb = startNemwebServer({ delayMs: 15 })
  const root = mkdtempSync(join(tmpdir(), 'gridpulse-kill-'))
  for (let i = 0; i < FILES; i++) {
    nemweb.add(
      '/Reports/Current/DispatchIS_Reports/',
      buildDispatchIsZip(step('2026-04-02T00:05:00Z', i))
    )
    nemweb.add(
      '/Reports/Current/Dispatch_SCADA/',
      buildDispatchScadaZip(step('2026-04-02T00:05:00Z', i))
    )
  }
  afterAll(() => {
    nemweb.stop()
    rmSync(root, { recursive: true, force: true })
  })

  const start = (dataDir: string, port: number) =>
    spawnAemoNode({ port, dataDir, nemwebUrl: nemweb.url })

  // biome-ignore lint: compared as whole rows
  const everything = async (port: number, path: string): Promise<any[]> => {
    const rows = []
    let cursor: string | null = null
    do {
      const page = (await (
        await fetch(
          `http://127.0.0.1:${port}${path}?limit=1000${cursor ? `&cursor=${cursor}` : ''}`
        )
      ).json()) as { data: unknown[]; meta: { next_cursor: string | null } }
      rows.push(...page.data)
      cursor = page.meta.next_cursor
    } while (cursor)
    return rows
  }
  const snapshot = async (port: number) => {
    const strip = ({ correlation_id: _c, ingested_at: _i, ...rest }: Record<string, unknown>) =>
      rest
    return {
      prices: (await everything(port, '/api/v1/prices')).map(strip),
      dispatch: (await everything(port, '/api/v1/dispatch')).map(strip),
      reconciliation: (await everything(port, '/api/v1/generation/reconciliation')).map(strip),
    }
  }
  const complete = async (port: number) => {
    const stats = await (await fetch(`http://127.0.0.1:${port}/api/v1/stats`)).json()
    return (stats as { totals: { prices: number } }).totals.prices === FILES * 2
  }

  test('a killed and restarted node ends with exactly the rows of an uninterrupted one', async () => {
    // Reference: an uninterrupted run.
    const refPort = freePort()
    const ref = start(join(root, 'ref'), refPort)
    await waitForHttp(`http://127.0.0.1:${refPort}/ready`, ref)
    await waitFor(() => complete(refPort), 'reference run', 60_000)
    await Bun.sleep(1500) // let the SCADA poller finish too
    const expected = await snapshot(refPort)
    ref.kill('SIGTERM')
    await ref.exited

    // The same files, killed mid-way.
    const port = freePort()
    const dataDir = join(root, 'killed')
    let proc: Subprocess = start(dataDir, port)
    await waitForHttp(`http://127.0.0.1:${port}/health`, proc)
    await waitFor(
      async () => {
        const stats = (await (await fetch(`http://127.0.0.1:${port}/api/v1/stats`)).json()) as {
          totals: { prices: number }
        }
        return stats.totals.prices >= 10
      },
      'some files ingested',
      30_000
    )
    proc.kill('SIGKILL')
    await proc.exited
    const before = nemweb.requests.length

    proc = start(dataDir, port)
    await waitForHttp(`http://127.0.0.1:${port}/ready`, proc)
    await waitFor(() => complete(port), 'catch-up after restart', 60_000)
    await Bun.sleep(1500)
    const actual = await snapshot(port)
    proc.kill('SIGTERM')
    await proc.exited

    expect(actual.prices.length).toBe(FILES * 2)
    expect(actual).toEqual(expected)
    expect(new Set(actual.dispatch.map((e) => e.event_id)).size).toBe(actual.dispatch.length)
    // The restart resumed from its checkpoint instead of downloading everything again.
    const redownloaded = nemweb.requests.slice(before).filter((r) => r.endsWith('.zip')).length
    expect(redownloaded).toBeLessThan(FILES * 2)
  }, 180_000)
})
