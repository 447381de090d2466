import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { $, type Subprocess } from 'bun'
import { freePort, waitForHttp } from '../tests/support/process'
import { seed, syntheticDispatch } from './seed'

type Report = (name: string, value: string) => void

const EVENTS = 1000
const ROUNDS = 3
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10)
const QUERIES = [
  '/api/v1/dispatch?limit=100',
  '/api/v1/dispatch?region_id=NSW1&limit=100',
  '/api/v1/stats',
]

interface Wrk {
  readonly rps: number
  readonly p99: string
  readonly p99ms: number
  readonly errors: number
  /** The server's CPU time per request (µs), when its process was given. */
  readonly cpuUs?: number
}

const CLK_TCK = 100 // USER_HZ on Linux
/** utime + stime of a process, in seconds (/proc/<pid>/stat fields 14 and 15). */
const cpuSeconds = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK
}

/**
 * One wrk run as the issue measured: 2 threads, 50 connections, `SECONDS` s. With `pid`, also the
 * server's CPU per request: a shared machine moves req/s by ±30 %, CPU per request much less.
 */
async function wrk(url: string, headers: readonly string[] = [], pid?: number): Promise<Wrk> {
  const h = headers.flatMap((x) => ['-H', x])
  const cpu = pid === undefined ? 0 : cpuSeconds(pid)
  const out = (
    await $`wrk -t2 -c50 -d${SECONDS}s --latency ${h} ${url}`.quiet().nothrow()
  ).stdout.toString()
  const requests = Number(out.match(/(\d+) requests in/)?.[1] ?? 0)
  const p99 = out.match(/\s99%\s+([\d.]+)(us|ms|s)/)
  const unit = { us: 0.001, ms: 1, s: 1000 }[(p99?.[2] ?? 'ms') as 'us' | 'ms' | 's']
  return {
    rps: Number(out.match(/Requests\/sec:\s+([\d.]+)/)?.[1] ?? 0),
    p99: p99 ? `${p99[1]}${p99[2]}` : '?',
    p99ms: p99 ? Number(p99[1]) * unit : Number.NaN,
    errors: Number(out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0),
    cpuUs:
      pid === undefined || requests === 0 ? undefined : ((cpuSeconds(pid) - cpu) * 1e6) / requests,
  }
}

/** The run with the median throughput of several (its own p99 with it). */
const median = (runs: Wrk[]): Wrk => [...runs].sort((a, b) => a.rps - b.rps)[runs.length >> 1]!

/** A Python with the seed's packages (Debian's python3-flask python3-gunicorn python3-kafka). */
async function seedPython(): Promise<string | undefined> {
  for (const python of ['/usr/bin/python3', 'python3']) {
    const probe = await $`${python} -c ${'import flask, gunicorn, kafka'}`.quiet().nothrow()
    if (probe.exitCode === 0) return python
  }
  return undefined
}

/**
 * The seed API as its README runs it (gunicorn, 2 workers; no Kafka consumer starts under
 * gunicorn, so it needs no broker), filled with the same 1,000 events by POST: 5,000 of them, so
 * each worker's 1,000-event memory holds its share whichever worker got which.
 */
async function startSeed(dir: string, python: string): Promise<{ url: string; proc: Subprocess }> {
  const port = freePort()
  const proc = Bun.spawn(
    [python, '-m', 'gunicorn', '-w', '2', '-b', `127.0.0.1:${port}`, 'api_server:app'],
    { cwd: dir, stdout: 'ignore', stderr: 'ignore' }
  )
  const url = `http://127.0.0.1:${port}`
  await waitForHttp(`${url}/health`, proc)
  const posts = Array.from({ length: EVENTS * 5 }, (_, i) => {
    const e = syntheticDispatch(i % EVENTS, 'bench-seed')
    return { region_id: e.region_id, fuel_type: e.fuel_type, value_mw: e.value_mw }
  })
  for (let i = 0; i < posts.length; i += 50) {
    await Promise.all(
      posts.slice(i, i + 50).map((body) =>
        fetch(`${url}/api/v1/dispatch`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        })
      )
    )
  }
  return { url, proc }
}

/** Bun serving one fixed body of `bytes` bytes: what an HTTP answer costs with no work at all. */
function startCeiling(body: string): { url: string; proc: Subprocess } {
  const port = freePort()
  const script = `const body = ${JSON.stringify(body)}; Bun.serve({ port: ${port}, hostname: '127.0.0.1', fetch: () => new Response(body, { headers: { 'Content-Type': 'application/json' } }) })`
  const proc = Bun.spawn([process.execPath, '-e', script], { stdout: 'ignore', stderr: 'inherit' })
  return { url: `http://127.0.0.1:${port}`, proc }
}

export interface GridPulseNode {
  readonly start: (dataDir: string, port: number) => Subprocess
  readonly apikey: (dataDir: string, port: number) => string
}

/**
 * Issue 12's table in one run: the seed API and GridPulse side by side on the same three reads
 * (alternating, medians of 3), the fixed-body ceiling, and GridPulse's cached page compressed.
 */
export async function benchVersusSeed(
  report: Report,
  root: string,
  workDir: string,
  node: GridPulseNode
) {
  if ((await $`which wrk`.nothrow().quiet()).exitCode !== 0) {
    console.log('SKIP seed: wrk not found (apt-get install wrk)')
    return
  }
  const dir = process.env.SEED_API_DIR ?? join(root, '..', 'shared', 'baselines', 'seed-api')
  const python = existsSync(join(dir, 'api_server.py')) ? await seedPython() : undefined
  if (!python)
    console.log(
      `\n*** SKIP seed baseline: ${existsSync(dir) ? 'no python3 with flask, gunicorn and kafka (apt-get install python3-flask python3-gunicorn python3-kafka)' : `no seed API at ${dir} (SEED_API_DIR)`}: GridPulse measured alone ***\n`
    )
  const dataDir = join(workDir, 'versus-seed')
  await seed(
    dataDir,
    Array.from({ length: EVENTS }, (_, i) => syntheticDispatch(i, 'bench-seed'))
  )
  const port = freePort()
  const gp = node.start(dataDir, port)
  const gpUrl = `http://127.0.0.1:${port}`
  await waitForHttp(`${gpUrl}/ready`, gp)
  const apikey = node.apikey(dataDir, port)
  const auth = `apikey: ${apikey}`
  const seedApi = python ? await startSeed(dir, python) : undefined
  const page = await (await fetch(`${gpUrl}${QUERIES[0]}`, { headers: { apikey } })).text()
  const ceiling = startCeiling(page)
  await waitForHttp(ceiling.url, ceiling.proc)
  try {
    await measure(report, {
      pids: { gp: gp.pid, ceiling: ceiling.proc.pid },
      gp: gpUrl,
      seed: seedApi?.url,
      ceiling: ceiling.url,
      auth,
      bytes: page.length,
    })
  } finally {
    for (const proc of [gp, seedApi?.proc, ceiling.proc]) proc?.kill('SIGTERM')
    await Promise.all([gp.exited, seedApi?.proc.exited, ceiling.proc.exited])
  }
}

async function measure(
  report: Report,
  at: {
    pids: { gp: number; ceiling: number }
    gp: string
    seed?: string
    ceiling: string
    auth: string
    bytes: number
  }
) {
  const runs = new Map<string, Wrk[]>()
  const run = async (name: string, url: string, headers: readonly string[] = []) => {
    const pid =
      name === 'ceiling' ? at.pids.ceiling : name.startsWith('gp ') ? at.pids.gp : undefined
    const result = await wrk(url, headers, pid)
    runs.set(name, [...(runs.get(name) ?? []), result])
  }
  // Warm-up: the first cached build and JIT, off the record.
  for (const q of QUERIES) await $`wrk -t2 -c50 -d2s -H ${at.auth} ${at.gp + q}`.quiet().nothrow()
  for (let round = 0; round < ROUNDS; round++) {
    for (const q of QUERIES) {
      if (at.seed) await run(`seed ${q}`, at.seed + q)
      await run(`gp ${q}`, at.gp + q, [at.auth])
    }
    await run('ceiling', at.ceiling)
    for (const coding of ['gzip', 'br'])
      await run(`gp ${coding}`, at.gp + QUERIES[0], [at.auth, `Accept-Encoding: ${coding}`])
  }
  const m = (name: string) => median(runs.get(name)!)
  const line = (w: Wrk) =>
    `${Math.round(w.rps).toLocaleString('en')} req/s p99 ${w.p99}${w.cpuUs === undefined ? '' : ` ${w.cpuUs.toFixed(0)} µs CPU/req`}${w.errors ? ` (${w.errors} non-2xx)` : ''}`
  console.log(
    `\nwrk -t2 -c50 -d${SECONDS}s, medians of ${ROUNDS} alternated runs, ${EVENTS} dispatch events, key auth`
  )
  for (const q of QUERIES) {
    const gp = m(`gp ${q}`)
    const s = at.seed ? m(`seed ${q}`) : undefined
    report(
      `GET ${q.slice(8)}`,
      s
        ? `seed ${line(s)} | GridPulse ${line(gp)} | ${(gp.rps / s.rps).toFixed(1)}× (target ≥ 10×, p99 ≤ 10 ms)`
        : `GridPulse ${line(gp)} (seed skipped)`
    )
  }
  const ceiling = m('ceiling')
  report(`fixed ${(at.bytes / 1024).toFixed(0)} KB body (Bun ceiling)`, line(ceiling))
  const page = m(`gp ${QUERIES[0]}`)
  const cpuRatio =
    page.cpuUs && ceiling.cpuUs
      ? `; CPU per request ${(page.cpuUs / ceiling.cpuUs).toFixed(1)}× the ceiling's`
      : ''
  report(
    '  cached 100-row page / ceiling',
    `${((page.rps / ceiling.rps) * 100).toFixed(0)} % (target ≥ 50 %)${cpuRatio}`
  )
  for (const coding of ['gzip', 'br']) {
    const w = m(`gp ${coding}`)
    report(
      `  same page, Accept-Encoding: ${coding}`,
      `${line(w)} (${((w.rps / ceiling.rps) * 100).toFixed(0)} % of the ceiling)`
    )
  }
}
