import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { toUtcIso } from '@/lib'
import {
  buildDispatchIsZip,
  buildDispatchScadaZip,
  buildRooftopPvZip,
} from '../tests/support/nemweb-fixtures'
import { startNemwebServer } from '../tests/support/nemweb-server'
import { batchedForecast, startOpenMeteoServer } from '../tests/support/openmeteo-server'
import { freePort, waitForHttp } from '../tests/support/process'

type Report = (name: string, value: string) => void

// One NEM market day (2026-04-02, 00:05 → 24:00 NEM time): 288 DispatchIS + 288 Dispatch_SCADA
// + 2 × 48 rooftop PV (MEASUREMENT and SATELLITE per half hour) live-format files built from real
// archive rows (tests/support/nemweb-fixtures.ts).
const DAY_START = '2026-04-01T14:05:00Z'
const INTERVALS = 288
const RATE = 50 // requests per second, paced (open loop: a slow answer does not slow the client)
const SERVE_SECONDS = 60
const WARMUP_SECONDS = 15
const CLK_TCK = 100 // USER_HZ on Linux

/** utime + stime of a process, in seconds (/proc/<pid>/stat fields 14 and 15). */
const cpuSeconds = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK
}
const statusMb = (pid: number, field: 'VmRSS' | 'VmHWM') =>
  Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`${field}:\\s+(\\d+)`))![1]) /
  1024

/**
 * The small-node budget: the host binary with the default configuration (or `env`) ingests a day of
 * NEMWeb files from a local server, then serves a steady 50 req/s of mixed reads for a minute while
 * its pollers keep polling (unchanged listings: 304s). Prints its RSS peak and CPU.
 */
export async function benchEdge(
  report: Report,
  binary: string,
  workDir: string,
  label = 'defaults',
  env: Record<string, string> = {}
) {
  const nemweb = startNemwebServer()
  const openMeteo = startOpenMeteoServer(
    async (_, count) => new Response(await batchedForecast(count))
  )
  for (let i = 0; i < INTERVALS; i++) {
    const end = toUtcIso(Date.parse(DAY_START) + i * 300_000)
    nemweb.add('/Reports/Current/DispatchIS_Reports/', buildDispatchIsZip(end))
    nemweb.add('/Reports/Current/Dispatch_SCADA/', buildDispatchScadaZip(end))
    if (i % 6 === 5)
      for (const type of ['MEASUREMENT', 'SATELLITE'] as const)
        nemweb.add('/Reports/Current/ROOFTOP_PV/ACTUAL/', buildRooftopPvZip(type, end))
  }
  const port = freePort()
  const base = `http://127.0.0.1:${port}`
  const nodeEnv = {
    PATH: process.env.PATH ?? '',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: join(workDir, `edge-${label}`),
    AEMO_BASE_URL: nemweb.url,
    AEMO_INITIAL_LOOKBACK_MINUTES: '1000000000',
    OPENMETEO_BASE_URL: openMeteo.url,
    // The default level: one JSON line per request, as a node logging to journald writes them.
    LOG_LEVEL: 'info',
    // Key authentication stays on; one bench key must not be rate limited into cheap 429s.
    RATE_LIMIT_PER_MINUTE: '1000000000',
    RATE_LIMIT_WEATHER_PER_MINUTE: '1000000000',
    ...env,
  }
  const created = Bun.spawnSync(
    [binary, 'keys', 'create', '--consumer', 'edge-bench', '--scope', 'read'],
    { env: nodeEnv }
  )
  const apikey = created.stdout.toString().trim()
  const proc = Bun.spawn([binary, 'serve'], { env: nodeEnv, stdout: 'ignore', stderr: 'inherit' })
  const get = (path: string) => fetch(`${base}${path}`, { headers: { apikey } })

  await waitForHttp(`${base}/ready`, proc)
  const ingestStarted = performance.now()
  // Done when every DispatchIS file's prices are in and the totals stop moving (1.5 s unchanged).
  let last = ''
  let changedAt = ingestStarted
  for (let unchanged = 0; unchanged < 3; ) {
    await Bun.sleep(500)
    const { totals } = (await (await get('/api/v1/stats')).json()) as {
      totals: Record<string, number>
    }
    const now = JSON.stringify(totals)
    unchanged = (totals.prices ?? 0) >= 2 * INTERVALS && now === last ? unchanged + 1 : 0
    if (now !== last) changedAt = performance.now()
    last = now
  }
  const ingestSeconds = (changedAt - ingestStarted) / 1000
  const afterIngest = { rss: statusMb(proc.pid, 'VmRSS'), hwm: statusMb(proc.pid, 'VmHWM') }

  // The mix, per second (50 requests): what teams poll (latest pages, a region's day, hour ranges
  // of the day that miss the read cache, the generation mix, weather) and, once each, the
  // monitoring reads /api/v1/stats and /api/v1/sources (a few ms each: see the per-route costs).
  // The archive fixtures hold SCADA units of SA1 only: dispatch and mix are asked for SA1.
  const hour = (h: number) => toUtcIso(Date.parse(DAY_START) - 300_000 + h * 3_600_000)
  const range = (h: number) => `from=${hour(h)}&to=${hour(h + 1)}`
  const MIX: readonly [string, number, (h: number) => string][] = [
    ['prices latest 100', 8, () => '/api/v1/prices?limit=100'],
    [
      'prices, a region’s day',
      6,
      (h) => `/api/v1/prices?region_id=${h % 2 ? 'SA1' : 'NSW1'}&limit=288`,
    ],
    ['dispatch latest 100', 8, () => '/api/v1/dispatch?limit=100'],
    ['dispatch, an hour', 8, (h) => `/api/v1/dispatch?region_id=SA1&${range(h)}&limit=1000`],
    ['generation mix', 6, () => '/api/v1/generation/mix?region_id=SA1'],
    ['interconnectors, an hour', 5, (h) => `/api/v1/interconnectors?${range(h)}`],
    ['reconciliation, last hour', 3, () => '/api/v1/generation/reconciliation?limit=12'],
    ['weather', 4, () => '/api/v1/weather'],
    ['stats', 1, () => '/api/v1/stats'],
    ['sources', 1, () => '/api/v1/sources'],
  ]
  const perSecond = MIX.flatMap(([, n, path]) => Array<typeof path>(n).fill(path))
  /** `seconds` of the mix at RATE, paced; each answer is timed, or counted by status if not 200. */
  const load = async (seconds: number, latencies: number[], failures: Map<string, number>) => {
    const started = performance.now()
    const inflight: Promise<void>[] = []
    const fail = (what: string) => failures.set(what, (failures.get(what) ?? 0) + 1)
    for (let i = 0; i < RATE * seconds; i++) {
      const wait = started + (i * 1000) / RATE - performance.now()
      if (wait > 0) await Bun.sleep(wait)
      const path = perSecond[i % RATE]!(Math.floor(i / RATE) % 24)
      const t0 = performance.now()
      inflight.push(
        get(path).then(
          async (r) => {
            await r.arrayBuffer()
            if (r.status === 200) latencies.push(performance.now() - t0)
            else fail(`${r.status} ${path.split('?')[0]}`)
          },
          (error) => void fail(String(error))
        )
      )
    }
    await Promise.all(inflight)
  }
  // Steady state: the read paths compiled and the ingest's garbage collected before measuring.
  await load(WARMUP_SECONDS, [], new Map())
  const latencies: number[] = []
  const failures = new Map<string, number>()
  let peakRss = 0
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, statusMb(proc.pid, 'VmRSS'))
  }, 100)
  const cpuBefore = cpuSeconds(proc.pid)
  const started = performance.now()
  await load(SERVE_SECONDS, latencies, failures)
  const wall = (performance.now() - started) / 1000
  const cpu = cpuSeconds(proc.pid) - cpuBefore
  clearInterval(sampler)
  // A busy machine inflates CPU time (shared caches, preemption): say how busy it was.
  const loadAverage = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')

  // The same minute without requests: what polling alone costs.
  const idleCpuBefore = cpuSeconds(proc.pid)
  const idleStarted = performance.now()
  await Bun.sleep(30_000)
  const idleCpu =
    (cpuSeconds(proc.pid) - idleCpuBefore) / ((performance.now() - idleStarted) / 1000)
  // What each kind of read costs the node, one request at a time.
  const costs: string[] = []
  for (const [name, , path] of MIX) {
    const before = cpuSeconds(proc.pid)
    for (let i = 0; i < 100; i++) await (await get(path(i % 24))).arrayBuffer()
    costs.push(`${name} ${(((cpuSeconds(proc.pid) - before) / 100) * 1000).toFixed(2)}`)
  }
  const hwm = statusMb(proc.pid, 'VmHWM')
  proc.kill('SIGTERM')
  await proc.exited
  nemweb.stop()
  openMeteo.stop()

  latencies.sort((a, b) => a - b)
  const p = (q: number) => latencies[Math.floor(q * (latencies.length - 1))]!.toFixed(1)
  const name = (what: string) => `edge (${label}): ${what}`
  report(
    name('ingest a day of NEMWeb files'),
    `${ingestSeconds.toFixed(1)} s for ${INTERVALS} DispatchIS + ${INTERVALS} SCADA + ${INTERVALS / 3} rooftop PV files (${last}); RSS then ${afterIngest.rss.toFixed(0)} MB, peak so far ${afterIngest.hwm.toFixed(0)} MB`
  )
  report(
    name(`${RATE} req/s mixed reads, ${SERVE_SECONDS} s`),
    `CPU ${((cpu / wall) * 100).toFixed(1)} % of one core (target ≤ 5 %), RSS peak ${peakRss.toFixed(0)} MB; ${RATE * SERVE_SECONDS} requests, ${failures.size ? [...failures].map(([k, n]) => `${n}× ${k}`).join(', ') : 'all 200'}, p50 ${p(0.5)} ms, p99 ${p(0.99)} ms; load average ${loadAverage}`
  )
  report(name('CPU per request, ms'), costs.join(', '))
  report(
    name('polling only, 30 s'),
    `CPU ${(idleCpu * 100).toFixed(1)} % of one core; lifetime RSS peak (VmHWM, ingest included) ${hwm.toFixed(0)} MB (target ≤ 150 MB)`
  )
}
