/**
 * `bun run bench export`: one year of 5-minute prices for one region (105,120 rows) behind the
 * compiled binary with key auth on. Measures the bulk CSV export (first byte, total, peak RSS growth
 * of the server) and `interval=1d` over the year (the first, computed request of a fresh process,
 * then sequential and concurrent requests).
 */
import { join } from 'node:path'
import { $ } from 'bun'
import { freePort, waitForHttp } from '../tests/support/process'
import { seedPrices } from './seed'

type Report = (name: string, value: string) => void

const YEAR = { from: '2025-01-01T00:00:00+10:00', to: '2026-01-01T00:00:00+10:00' }
const ROWS = 365 * 288

const status = async (pid: number, field: 'VmRSS' | 'VmHWM') =>
  Number(
    (await Bun.file(`/proc/${pid}/status`).text()).match(new RegExp(`${field}:\\s+(\\d+)`))![1]
  ) / 1024

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!

export async function benchExport(report: Report, binary: string, workDir: string) {
  const dataDir = join(workDir, 'export')
  const seeded = performance.now()
  await seedPrices(dataDir, 'NSW1', '2025-01-01T00:05:00+10:00', ROWS)
  report(
    'seed 1 year of NSW1 prices (log → projection)',
    `${ROWS} rows in ${((performance.now() - seeded) / 1000).toFixed(1)} s`
  )
  const env = {
    PATH: process.env.PATH ?? '',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    SOURCES: 'none',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '1000000000',
  }
  const key = Bun.spawnSync([binary, 'keys', 'create', '--consumer', 'bench', '--scope', 'read'], {
    env,
    stderr: 'ignore',
  })
    .stdout.toString()
    .trim()
  const start = async () => {
    const port = freePort()
    const proc = Bun.spawn([binary, 'serve'], {
      cwd: workDir,
      env: { ...env, PORT: String(port) },
      stdout: 'ignore',
      stderr: 'inherit',
    })
    await waitForHttp(`http://127.0.0.1:${port}/ready`, proc)
    return { proc, base: `http://127.0.0.1:${port}` }
  }
  const headers = { apikey: key }
  await benchCsv(report, start, headers)
  await benchDaily(report, start, headers)
}

async function benchCsv(
  report: Report,
  start: () => Promise<{ proc: Bun.Subprocess; base: string }>,
  headers: Record<string, string>
) {
  const { proc, base } = await start()
  const runs: {
    first: number
    total: number
    rows: number
    mb: number
    before: number
    growth: number
  }[] = []
  for (let i = 0; i < 3; i++) {
    const before = await status(proc.pid, 'VmRSS')
    // Linux: "5" resets the peak (VmHWM) to the current RSS, so the peak below is this export's.
    await Bun.write(`/proc/${proc.pid}/clear_refs`, '5')
    const started = performance.now()
    const response = await fetch(`${base}/api/v1/prices?region_id=NSW1&format=csv`, { headers })
    const reader = response.body!.getReader()
    let first = 0
    let bytes = 0
    let rows = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      first ||= performance.now() - started
      bytes += value.byteLength
      for (const byte of value) if (byte === 10) rows++
    }
    const total = performance.now() - started
    const growth = (await status(proc.pid, 'VmHWM')) - before
    runs.push({ first, total, rows: rows - 1, mb: bytes / 1024 / 1024, before, growth })
  }
  const worst = (k: 'first' | 'total' | 'growth') => Math.max(...runs.map((r) => r[k]))
  report(
    'CSV export, 1 year of NSW1 prices',
    `${runs[0]!.rows} rows, ${runs[0]!.mb.toFixed(1)} MB; first byte ${runs.map((r) => r.first.toFixed(0)).join('/')} ms (worst ${worst('first').toFixed(0)}; target ≤ 200 ms), total ${runs.map((r) => (r.total / 1000).toFixed(2)).join('/')} s`
  )
  report(
    '  … server peak RSS growth during the export',
    `${runs.map((r) => r.growth.toFixed(1)).join('/')} MB (worst ${worst('growth').toFixed(1)}; target ≤ 50 MB); RSS before ${runs.map((r) => r.before.toFixed(0)).join('/')} MB, after ${(await status(proc.pid, 'VmRSS')).toFixed(0)} MB`
  )
  proc.kill('SIGTERM')
  await proc.exited
}

async function benchDaily(
  report: Report,
  start: () => Promise<{ proc: Bun.Subprocess; base: string }>,
  headers: Record<string, string>
) {
  const query = `region_id=NSW1&interval=1d&from=${encodeURIComponent(YEAR.from)}&to=${encodeURIComponent(YEAR.to)}&limit=366`
  const timed = async (base: string) => {
    const started = performance.now()
    const response = await fetch(`${base}/api/v1/prices?${query}`, { headers })
    const body = (await response.json()) as { data: unknown[] }
    if (body.data.length !== 365) throw new Error(`expected 365 days, got ${body.data.length}`)
    return performance.now() - started
  }
  // The first request of a fresh process aggregates the year; later ones reuse the settled days.
  const cold: number[] = []
  let last: { proc: Bun.Subprocess; base: string } | undefined
  for (let i = 0; i < 5; i++) {
    last?.proc.kill('SIGTERM')
    await last?.proc.exited
    last = await start()
    cold.push(await timed(last.base))
  }
  const warm: number[] = []
  for (let i = 0; i < 300; i++) warm.push(await timed(last!.base))
  cold.sort((a, b) => a - b)
  warm.sort((a, b) => a - b)
  report(
    'GET prices?interval=1d over 1 year (NSW1)',
    `first request of a fresh process ${cold.map((t) => t.toFixed(0)).join('/')} ms; then sequential p50 ${percentile(warm, 50).toFixed(1)} ms, p99 ${percentile(warm, 99).toFixed(1)} ms (target p99 ≤ 100 ms)`
  )
  if ((await $`which wrk`.nothrow().quiet()).exitCode === 0) {
    const url = `${last!.base}/api/v1/prices?${query}`
    const out = (
      await $`wrk -t2 -c10 -d10s --latency -H ${`apikey: ${headers.apikey}`} ${url}`.quiet()
    ).stdout.toString()
    report(
      '  … 10 connections (wrk, 10 s)',
      `${out.match(/Requests\/sec:\s+([\d.]+)/)?.[1]} req/s, p50 ${out.match(/\s50%\s+([\d.]+\w+)/)?.[1]}, p99 ${out.match(/\s99%\s+([\d.]+\w+)/)?.[1]}, non-2xx ${out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? '0'}`
    )
  }
  last!.proc.kill('SIGTERM')
  await last!.proc.exited
}
