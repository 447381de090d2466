/**
 * `bun run bench`: measures and prints numbers (never asserts). Sections can be picked:
 * `bun run bench api startup` — default runs every section (api seed hit startup aemo export durability edge arm64 stream kafka alerts).
 * `scale` is not in the default set: 100k + 1M + 10M dispatch rows take over an hour and ~10 GB
 * of disk at 10M on the 2-core build machine (100k ≈ 1 min, 1M ≈ 6 min): `bun run bench scale`;
 * `SCALE_ROWS=100000,1000000` picks the sizes.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { $ } from 'bun'
import { freePort, waitForHttp } from '../tests/support/process'
import { benchFreshness, benchHostileZip, benchNormalize } from './aemo'
import { seedDispatch } from './seed'

const ROOT = join(import.meta.dir, '..')
const sections = new Set(process.argv.slice(2))
const want = (name: string) => (sections.size === 0 && name !== 'scale') || sections.has(name)
const results: Record<string, string> = {}
const report = (name: string, value: string) => {
  results[name] = value
  console.log(`${name.padEnd(44)} ${value}`)
}

const work = mkdtempSync(join(tmpdir(), 'gridpulse-bench-'))
const binary = join(work, 'gridpulse')
await $`${process.execPath} scripts/build.ts ${binary}`.cwd(ROOT).quiet()
report('binary size', `${(Bun.file(binary).size / 1024 / 1024).toFixed(1)} MB (target ≤ 120 MB)`)

const nodeEnv = (dataDir: string, port: number) => ({
  PATH: process.env.PATH ?? '',
  PORT: String(port),
  HOST: '127.0.0.1',
  DATA_DIR: dataDir,
  SOURCES: 'none',
  LOG_LEVEL: 'warn',
  // The API path is measured with key authentication on, but without the per-team limit.
  RATE_LIMIT_PER_MINUTE: '1000000000',
})
const start = (dataDir: string, port: number) =>
  Bun.spawn([binary, 'serve'], {
    cwd: work,
    env: nodeEnv(dataDir, port),
    stdout: 'ignore',
    stderr: 'inherit',
  })

const rssMb = async (pid: number) => {
  const status = await Bun.file(`/proc/${pid}/status`).text()
  return Number(status.match(/VmRSS:\s+(\d+)/)![1]) / 1024
}

if (want('startup')) {
  const samples: number[] = []
  for (let i = 0; i < 7; i++) {
    const dataDir = join(work, `cold-${i}`)
    const port = freePort()
    const proc = start(dataDir, port)
    samples.push(await waitForHttp(`http://127.0.0.1:${port}/ready`, proc))
    if (i === 0) {
      await Bun.sleep(2000)
      report(
        'idle RSS after start (empty db)',
        `${(await rssMb(proc.pid)).toFixed(1)} MB (target ≤ 80 MB)`
      )
    }
    proc.kill('SIGTERM')
    await proc.exited
  }
  samples.sort((a, b) => a - b)
  report(
    'cold start → /ready 200 (median of 7)',
    `${samples[3]!.toFixed(0)} ms (min ${samples[0]!.toFixed(0)}, max ${samples[6]!.toFixed(0)}; target ≤ 150 ms)`
  )
}

if (want('api')) {
  const dataDir = join(work, 'api')
  const seeded = performance.now()
  await seedDispatch(dataDir, 100_000)
  report(
    'seed 100k events (log → projection)',
    `${((performance.now() - seeded) / 1000).toFixed(1)} s`
  )
  const port = freePort()
  const proc = start(dataDir, port)
  await waitForHttp(`http://127.0.0.1:${port}/ready`, proc)
  const url = `http://127.0.0.1:${port}/api/v1/dispatch?limit=100`
  const created = Bun.spawnSync(
    [binary, 'keys', 'create', '--consumer', 'bench', '--scope', 'read'],
    {
      env: nodeEnv(dataDir, port),
      stderr: 'ignore',
    }
  )
  const auth = `apikey: ${created.stdout.toString().trim()}`
  const hasWrk = (await $`which wrk`.nothrow().quiet()).exitCode === 0
  if (hasWrk) {
    await $`wrk -t2 -c50 -d3s -H ${auth} ${url}`.quiet() // warm-up
    const out = (await $`wrk -t2 -c50 -d15s --latency -H ${auth} ${url}`.quiet()).stdout.toString()
    const rps = out.match(/Requests\/sec:\s+([\d.]+)/)?.[1]
    const p50 = out.match(/\s50%\s+([\d.]+\w+)/)?.[1]
    const p99 = out.match(/\s99%\s+([\d.]+\w+)/)?.[1]
    const errors = out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? '0'
    report(
      'GET /api/v1/dispatch?limit=100, 50 conns',
      `${rps} req/s, p50 ${p50}, p99 ${p99}, non-2xx ${errors} (wrk, 15 s; target ≥ 5000 req/s, p99 ≤ 20 ms)`
    )
    // The same route with a different page per request: the page cache misses every time.
    const script = join(ROOT, 'bench', 'uncached.lua')
    const miss = (
      await $`wrk -t2 -c50 -d15s --latency -H ${auth} -s ${script} ${url}`.quiet()
    ).stdout.toString()
    report(
      '  … every request a different page (no cache)',
      `${miss.match(/Requests\/sec:\s+([\d.]+)/)?.[1]} req/s, p50 ${miss.match(/\s50%\s+([\d.]+\w+)/)?.[1]}, p99 ${miss.match(/\s99%\s+([\d.]+\w+)/)?.[1]}, non-2xx ${miss.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? '0'}`
    )
  } else {
    console.log('wrk not found (apt-get install wrk): API throughput not measured')
  }
  report('RSS after load (100k events)', `${(await rssMb(proc.pid)).toFixed(1)} MB`)
  proc.kill('SIGTERM')
  await proc.exited
}

if (want('seed')) {
  // Issue 12: the seed API (gunicorn -w 2) and GridPulse side by side, with Bun's fixed-body ceiling.
  const { benchVersusSeed } = await import('./versus-seed')
  await benchVersusSeed(report, ROOT, work, {
    start: (dataDir, port) =>
      Bun.spawn([binary, 'serve'], {
        cwd: work,
        // The default log level: every request writes its JSON line (to /dev/null here).
        env: { ...nodeEnv(dataDir, port), LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' },
        stdout: 'ignore',
        stderr: 'inherit',
      }),
    apikey: (dataDir, port) =>
      Bun.spawnSync([binary, 'keys', 'create', '--consumer', 'bench', '--scope', 'read'], {
        env: nodeEnv(dataDir, port),
        stderr: 'ignore',
      })
        .stdout.toString()
        .trim(),
  })
}

if (want('hit')) {
  // CPU per request of a cached answer in process, and of what each request does on the way.
  const { benchHitCost } = await import('./hit-cost')
  await benchHitCost(report)
}

if (want('aemo')) {
  benchNormalize(report)
  await benchHostileZip(report)
  await benchFreshness(report, binary, work)
}

if (want('export')) {
  const { benchExport } = await import('./export')
  await benchExport(report, binary, work)
}

if (want('durability')) {
  const { benchDurability } = await import('./durability')
  await benchDurability(report)
}

if (want('edge')) {
  // The small-node budget (issue 14): a day of NEMWeb files ingested, then 50 req/s of mixed reads.
  // SQLITE_CACHE_KB, READ_CACHE_PAGES and LOG_LEVEL in the bench's environment are passed on.
  const { benchEdge } = await import('./edge')
  const bounds = Object.fromEntries(
    ['SQLITE_CACHE_KB', 'READ_CACHE_PAGES', 'LOG_LEVEL'].flatMap((k) => {
      const value = process.env[k]
      return value ? [[k, value]] : []
    })
  )
  const label =
    Object.entries(bounds)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ') || 'defaults'
  await benchEdge(report, binary, work, label, bounds)
}

if (want('arm64')) {
  const { benchArm64 } = await import('./arm64')
  await benchArm64(report, ROOT, binary, work)
}

if (want('stream')) {
  const { benchStream } = await import('./stream')
  await benchStream(report, binary, work)
}

if (want('kafka')) {
  // End to end on a real broker (KAFKA_BROKERS, else a throwaway one): outbox → relay → Kafka → projection.
  const { benchKafka } = await import('./kafka')
  await benchKafka(report)
}

if (want('scale')) {
  const { benchScale } = await import('./scale')
  const sizes = (process.env.SCALE_ROWS ?? '100000,1000000,10000000').split(',').map(Number)
  await benchScale(report, binary, work, sizes, nodeEnv)
}

if (want('alerts')) {
  // Alert rules on the projection path, and webhooks draining to a loopback receiver.
  const { benchAlerts } = await import('./alerts')
  await benchAlerts(report)
}

rmSync(work, { recursive: true, force: true })
// Sections run separately accumulate in one file (git-ignored), each with its own timestamp.
const resultsFile = Bun.file(join(ROOT, 'bench', 'results', 'latest.json'))
const previous = (await resultsFile.exists())
  ? ((await resultsFile.json()) as Record<string, unknown>)
  : {}
const stamped = Object.fromEntries(
  Object.entries(results).map(([k, v]) => [k, { value: v, at: new Date().toISOString() }])
)
await Bun.write(resultsFile, JSON.stringify({ ...previous, ...stamped }, null, 2))
