import { mkdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { $ } from 'bun'
import { createEmbeddedBus } from '@/bus'
import { FUEL_TYPES, REGION_IDS } from '@/canonical'
import { silentLogger } from '@/observability'
import { openProjectionDb } from '@/projection'
import { installStatsTriggers } from '@/projection/stats-table'
import { freePort } from '../tests/support/process'
import { syntheticDispatch } from './seed'

type Report = (name: string, value: string) => void

const FIRST_INTERVAL_END = Date.parse('2026-01-01T00:05:00Z')
/** Rows per 5-minute interval of the synthetic load: every region × fuel. */
const PER_INTERVAL = REGION_IDS.length * FUEL_TYPES.length
const BATCH = 20_000
const WRK_SECONDS = 10

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`
const fileSize = (path: string) => {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}
const rssMb = (pid: number) =>
  Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)![1]) / 1024

/**
 * Writes `rows` synthetic dispatch events into a data directory's embedded log, through the log's
 * own publish path (big batches, synchronous NORMAL: a benchmark's durability), with nothing
 * projected: the node started on it projects them all.
 */
async function generateLog(dataDir: string, rows: number): Promise<number> {
  mkdirSync(dataDir, { recursive: true })
  const bus = createEmbeddedBus({
    path: join(dataDir, 'log.sqlite'),
    log: silentLogger(),
    synchronous: 'NORMAL',
  })
  const started = performance.now()
  for (let k = 0; k < rows; k += BATCH)
    await bus.publish(
      Array.from({ length: Math.min(BATCH, rows - k) }, (_, i) =>
        syntheticDispatch(k + i, 'bench-scale')
      )
    )
  await bus.close()
  return rows / ((performance.now() - started) / 1000)
}

/**
 * `SCALE_FILL=sql`: the same rows written straight into the projection by SQL (in event_id order,
 * the secondary indexes built afterwards by sorting, the stats recounted as an upgraded node
 * would), for the read side at sizes whose rebuild through the projector takes hours. The rows
 * do not go through the projector, so no rebuild rate is measured; their event ids are sequential.
 */
function fillBySql(dataDir: string, rows: number) {
  mkdirSync(dataDir, { recursive: true })
  const db = openProjectionDb(join(dataDir, 'projection.sqlite'))
  const indexes = db.sqlite
    .query(
      `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'dispatch' AND sql IS NOT NULL`
    )
    .all() as { name: string; sql: string }[]
  for (const i of indexes) db.sqlite.run(`DROP INDEX "${i.name}"`)
  const pick = (list: readonly string[], of: string) =>
    `CASE ${of} ${list.map((v, i) => `WHEN ${i} THEN '${v}'`).join(' ')} END`
  const insert = db.sqlite.prepare(
    `WITH RECURSIVE k(i) AS (SELECT $from UNION ALL SELECT i + 1 FROM k WHERE i + 1 < $to)
     INSERT INTO dispatch (event_id, correlation_id, source, schema_version, ingested_at, projected_at,
       region_id, fuel_type, interval_end, value_mw, unit_count)
     SELECT printf('00000000-0000-5000-8000-%012x', i), 'bench-scale', 'aemo.dispatch_scada', 1, $now, $now,
       ${pick(REGION_IDS, `i % ${REGION_IDS.length}`)},
       ${pick(FUEL_TYPES, `(i / ${REGION_IDS.length}) % ${FUEL_TYPES.length}`)},
       ${FIRST_INTERVAL_END} + (i / ${PER_INTERVAL}) * 300000, (i % 5000) + 0.5, 1 FROM k`
  )
  for (let from = 0; from < rows; from += 1_000_000)
    db.sqlite.transaction(() =>
      insert.run({ from, to: Math.min(rows, from + 1_000_000), now: Date.now() })
    )()
  for (const i of indexes) db.sqlite.run(i.sql)
  // As a database from before the stats tables: recounted by the node's own start-up code.
  db.sqlite.run('DROP TRIGGER stats_dispatch_update')
  installStatsTriggers(db)
  db.sqlite.run('PRAGMA wal_checkpoint(TRUNCATE)')
  db.sqlite.close()
}

/** wrk's req/s, p50 and p99 (and non-2xx), with the serving process's highest RSS meanwhile. */
async function wrk(
  pid: number,
  auth: string,
  url: string,
  env: Record<string, string> = {},
  script?: string
) {
  let rss = 0
  const sampler = setInterval(() => {
    rss = Math.max(rss, rssMb(pid))
  }, 200)
  const args = script ? ['-s', script] : []
  const out = (
    await $`wrk -t2 -c50 -d${WRK_SECONDS}s --latency -H ${auth} ${args} ${url}`
      .env({ ...process.env, ...env })
      .quiet()
  ).stdout.toString()
  clearInterval(sampler)
  const rps = out.match(/Requests\/sec:\s+([\d.]+)/)?.[1] ?? '?'
  const p50 = out.match(/\s50%\s+([\d.]+\w+)/)?.[1] ?? '?'
  const p99 = out.match(/\s99%\s+([\d.]+\w+)/)?.[1] ?? '?'
  const errors = out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? '0'
  return { text: `${Number(rps).toFixed(0)} req/s, p50 ${p50}, p99 ${p99}, non-2xx ${errors}`, rss }
}

/** Polls `/health` until the projection holds `rows` dispatch rows; the seconds it took. */
async function projected(base: string, rows: number, proc: { exitCode: number | null }) {
  const started = performance.now()
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`node exited (${proc.exitCode}) while projecting`)
    const body = (await fetch(`${base}/health`)
      .then((r) => r.json())
      .catch(() => null)) as { cache_stats?: { dispatch_events: number } } | null
    if ((body?.cache_stats?.dispatch_events ?? 0) >= rows)
      return (performance.now() - started) / 1000
    await Bun.sleep(100)
  }
}

/**
 * The scale curve (issue 12): for each size, a log of synthetic dispatch rows, projected by the
 * compiled binary from scratch (the rebuild rate), then read with wrk: a cached page, an uncached
 * page at a random time, a random day's hourly aggregate, `/api/v1/stats`; database size and RSS.
 */
export async function benchScale(
  report: Report,
  binary: string,
  workDir: string,
  sizes: readonly number[],
  env: (dataDir: string, port: number) => Record<string, string>
) {
  for (const rows of sizes) {
    const label = `scale ${rows >= 1e6 ? `${rows / 1e6}M` : `${rows / 1e3}k`}`
    const dataDir = join(workDir, `scale-${rows}`)
    const bySql = process.env.SCALE_FILL === 'sql'
    if (bySql) {
      const started = performance.now()
      fillBySql(dataDir, rows)
      report(
        `${label}: rows written by SQL, not projected`,
        `${((performance.now() - started) / 1000).toFixed(0)} s (no rebuild rate)`
      )
    } else {
      const generated = await generateLog(dataDir, rows)
      report(`${label}: log written`, `${generated.toFixed(0)} events/s (publish path)`)
    }
    const port = freePort()
    const base = `http://127.0.0.1:${port}`
    const proc = Bun.spawn([binary, 'serve'], {
      cwd: workDir,
      env: env(dataDir, port),
      stdout: 'ignore',
      stderr: 'inherit',
    })
    const seconds = await projected(base, rows, proc)
    if (!bySql)
      report(
        `${label}: rebuild (start → all projected)`,
        `${(rows / seconds).toFixed(0)} events/s (${seconds.toFixed(1)} s; target ≥ 100k events/s)`
      )
    await measureReads(report, label, { binary, dataDir, base, port, pid: proc.pid, rows, env })
    proc.kill('SIGTERM')
    await proc.exited
    const projection = join(dataDir, 'projection.sqlite')
    report(
      `${label}: on disk`,
      `projection ${mb(fileSize(projection) + fileSize(`${projection}-wal`))}, log ${mb(fileSize(join(dataDir, 'log.sqlite')))}`
    )
    await $`rm -rf ${dataDir}`
  }
}

async function measureReads(
  report: Report,
  label: string,
  run: {
    binary: string
    dataDir: string
    base: string
    port: number
    pid: number
    rows: number
    env: (dataDir: string, port: number) => Record<string, string>
  }
) {
  const key = Bun.spawnSync(
    [run.binary, 'keys', 'create', '--consumer', 'bench', '--scope', 'read'],
    { env: run.env(run.dataDir, run.port), stderr: 'ignore' }
  )
  const auth = `apikey: ${key.stdout.toString().trim()}`
  const script = join(import.meta.dir, 'scale.lua')
  const range = {
    FIRST_S: String(FIRST_INTERVAL_END / 1000),
    SPAN_S: String(Math.floor(run.rows / PER_INTERVAL) * 300),
  }
  const page = `${run.base}/api/v1/dispatch?limit=100`
  await wrk(run.pid, auth, page) // warm-up: the page cache, SQLite's pages, the JIT
  let rss = 0
  for (const [name, url, mode] of [
    ['cached page (limit=100)', page, undefined],
    ['uncached page, random time', page, 'page'],
    ['one-day hourly aggregate, random day', run.base, 'day'],
    ['/api/v1/stats', `${run.base}/api/v1/stats`, undefined],
  ] as const) {
    const result = await wrk(run.pid, auth, url, { ...range, MODE: mode ?? '' }, mode && script)
    rss = Math.max(rss, result.rss)
    report(`${label}: ${name}`, result.text)
  }
  report(`${label}: RSS under load (max)`, `${rss.toFixed(0)} MB (target ≤ 150 MB at 10M)`)
}
