import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { toUtcIso } from '@/lib'
import { waitFor } from '../support/events'
import { deflateRepeated, zipWithHeaders } from '../support/hostile-zips'
import { buildDispatchIsZip, buildDispatchScadaZip } from '../support/nemweb-fixtures'
import { startNemwebServer } from '../support/nemweb-server'
import { freePort, spawnAemoNode, waitForHttp } from '../support/process'

// Issue 11: hostile NEMWeb files must neither stall nor bloat a node. Served from the local NEMWeb
// stand-in to both pollers (DispatchIS and Dispatch_SCADA) at once, between good files:
//   a) a ~1 MB zip whose CSV member declares 150 kB and inflates to 1 GiB (size and CRC lie),
//   b) an honest zip with a 250 MB CSV member (compresses to under 1 MB),
//   c) a 70 MB download, chunked (no Content-Length to refuse it by).
// While they are processed /health is polled every 200 ms; every answer must come within 100 ms,
// the process's peak RSS (VmHWM) must stay within 256 MB, each file must become one dead letter,
// and the good file after them must be ingested.
const MB = 1000 * 1000
const MiB = 1024 * 1024
const HEALTH_EVERY_MS = 200
const HEALTH_WITHIN_MS = 100
const PEAK_RSS_LIMIT = 256 * MiB
const ROUNDS = 4
const step = (iso: string, n: number) => toUtcIso(Date.parse(iso) + n * 300_000)
const T0 = '2026-04-02T00:05:00Z'

/** The process's peak resident set (bytes), from the kernel's high-water mark. */
function peakRss(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'))
  if (!line) throw new Error(`no VmHWM in /proc/${pid}/status`)
  return Number(line.split(/\s+/)[1]) * 1024 // kB
}

describe('hostile AEMO files neither stall nor bloat a node', () => {
  const nemweb = startNemwebServer()
  const root = mkdtempSync(join(tmpdir(), 'gridpulse-hostile-'))
  afterAll(() => {
    nemweb.stop()
    rmSync(root, { recursive: true, force: true })
  })

  const kinds = [
    {
      dir: '/Reports/Current/DispatchIS_Reports/',
      build: buildDispatchIsZip,
      row: 'D,DISPATCH,PRICE,',
    },
    {
      dir: '/Reports/Current/Dispatch_SCADA/',
      build: buildDispatchScadaZip,
      row: 'D,DISPATCH,UNIT_SCADA,',
    },
  ] as const

  test('a lying bomb, an honest 250 MB member and a 70 MB download: /health answers, RSS stays low, each is a dead letter, the next good file is ingested', async () => {
    const before = kinds.map((k) => k.build(step(T0, 0)))
    for (const [i, k] of kinds.entries()) nemweb.add(k.dir, before[i]!)

    const port = freePort()
    const proc = spawnAemoNode({ port, dataDir: join(root, 'data'), nemwebUrl: nemweb.url })
    const api = `http://127.0.0.1:${port}`
    const getJson = async <T>(path: string): Promise<T> =>
      (await (await fetch(`${api}${path}`)).json()) as T
    const pricesAt = (iso: string) =>
      getJson<{ data: unknown[] }>(`/api/v1/prices?from=${iso}&to=${step(iso, 1)}`)
    const dispatchAt = (iso: string) =>
      getJson<{ data: unknown[] }>(`/api/v1/dispatch?from=${iso}&to=${step(iso, 1)}`)
    try {
      await waitForHttp(`${api}/ready`, proc, 30_000)
      await waitFor(
        async () =>
          (await pricesAt(step(T0, 0))).data.length > 0 &&
          (await dispatchAt(step(T0, 0))).data.length > 0,
        'the good files before the hostile ones',
        30_000
      )
      const settledRss = peakRss(proc.pid)

      // Built before polling starts, so building them does not slow this process's own clock.
      // ROUNDS of each hostile file per report kind, so the pollers are busy with them for a while;
      // one deflate stream per content, wrapped under each file's own name (distinct files).
      const bombStream = deflateRepeated(new Uint8Array(1), 1024 * MiB).packed
      const declaredCrc = Bun.hash.crc32(new Uint8Array(150_000)) >>> 0
      const seventyMb = new Uint8Array(70 * MB)
      const names: { name: string; code: string }[] = []
      const serve: { dir: string; file: { name: string; bytes: Uint8Array; chunked?: boolean } }[] =
        []
      for (const [i, k] of kinds.entries()) {
        // A real D row, padded with spaces: runs of one byte are what deflate packs tightest
        // (a repeat at the row's own distance costs ~9 bits per 258 bytes), so 250 MB fits in < 1 MB.
        const row = before[i]!.csv.split('\r\n').find((l) => l.startsWith(k.row))
        const huge = deflateRepeated(
          new TextEncoder().encode(`${row}${' '.repeat(2048)}\r\n`),
          250 * MB
        )
        for (let r = 0; r < ROUNDS; r++) {
          const [bomb, honest, long] = [1, 2, 3].map((n) => k.build(step(T0, 3 * r + n)))
          const bombBytes = zipWithHeaders(bomb!.csvName, bombStream, {
            declaredSize: 150_000,
            crc: declaredCrc,
          })
          const hugeBytes = zipWithHeaders(honest!.csvName, huge.packed, {
            declaredSize: 250 * MB,
            crc: huge.crc,
          })
          expect(bombBytes.length).toBeGreaterThan(MB)
          expect(bombBytes.length).toBeLessThan(1.2 * MB)
          expect(hugeBytes.length).toBeLessThan(MB)
          serve.push(
            { dir: k.dir, file: { name: bomb!.name, bytes: bombBytes } },
            { dir: k.dir, file: { name: honest!.name, bytes: hugeBytes } },
            { dir: k.dir, file: { name: long!.name, bytes: seventyMb, chunked: true } }
          )
          names.push(
            { name: bomb!.name, code: 'zip_size_mismatch' },
            { name: honest!.name, code: 'zip_too_large' },
            { name: long!.name, code: 'file_too_large' }
          )
        }
        serve.push({ dir: k.dir, file: k.build(step(T0, 3 * ROUNDS + 1)) })
      }
      const lastGood = step(T0, 3 * ROUNDS + 1)

      // The /health poller: one request every 200 ms until the hostile files are through.
      const latencies: number[] = []
      const failures: string[] = []
      let polling = true
      const poller = (async () => {
        while (polling) {
          const started = performance.now()
          try {
            const response = await fetch(`${api}/health`, { signal: AbortSignal.timeout(10_000) })
            await response.arrayBuffer()
            if (response.status !== 200) failures.push(`HTTP ${response.status}`)
          } catch (error) {
            failures.push(String(error))
          }
          const took = performance.now() - started
          latencies.push(took)
          await Bun.sleep(Math.max(0, HEALTH_EVERY_MS - took))
        }
      })()

      // The hostile files go live, and a good file after them in each folder.
      for (const { dir, file } of serve) nemweb.add(dir, file)
      try {
        // Counted through /api/v1/stats: the poll itself should not be what loads the node.
        await waitFor(
          async () =>
            (await getJson<{ totals: { dead_letters: number } }>('/api/v1/stats')).totals
              .dead_letters >= names.length &&
            (await pricesAt(lastGood)).data.length > 0 &&
            (await dispatchAt(lastGood)).data.length > 0,
          'hostile files dead-lettered and the good files after them ingested',
          60_000
        )
      } finally {
        polling = false
        await poller
      }
      const peak = peakRss(proc.pid)

      const dlq = await getJson<{ data: { source_file: string; code: string; reason: string }[] }>(
        '/api/v1/dlq?limit=100'
      )
      for (const n of names) {
        const letters = dlq.data.filter((d) => d.source_file === n.name)
        expect(letters.map((d) => d.code)).toEqual([n.code])
        // Permanent: downloaded once, not retried.
        expect(nemweb.downloads(n.name)).toBe(1)
      }
      const slow = latencies.filter((ms) => ms > HEALTH_WITHIN_MS)
      console.log(
        `hostile AEMO files: ${latencies.length} /health polls, max ${Math.max(...latencies).toFixed(1)} ms, ` +
          `${slow.length} over ${HEALTH_WITHIN_MS} ms; peak RSS ${(peak / MiB).toFixed(0)} MiB ` +
          `(${(settledRss / MiB).toFixed(0)} MiB before the hostile files)`
      )
      expect(failures).toEqual([])
      expect(latencies.length).toBeGreaterThan(0)
      expect(slow).toEqual([])
      expect(peak).toBeLessThanOrEqual(PEAK_RSS_LIMIT)
    } finally {
      proc.kill('SIGTERM')
      await proc.exited
    }
  }, 180_000)
})
