/**
 * `bun run bench hit`: CPU per request of a cached `/api` answer in process (no sockets), next to
 * `/health` and a fixed-body Response, and the cost of each thing a request does on the way
 * (log line, metrics observation, key check, rate limiter). Numbers, never assertions.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { createSlidingWindowLimiter } from '@/access'
import { createNode } from '@/node'
import { createLogger, createMetrics, type Logger } from '@/observability'
import { loadConfig } from '../src/config'
import { seed, syntheticDispatch } from './seed'

type Report = (name: string, value: string) => void

/** Microseconds per call of `fn`, the median of 5 batches of `n` after a warm-up batch. */
async function perCall(n: number, fn: () => unknown): Promise<number> {
  const batches: number[] = []
  for (let b = 0; b < 6; b++) {
    const t = performance.now()
    for (let i = 0; i < n; i++) {
      const r = fn()
      if (r instanceof Promise) await r
    }
    if (b > 0) batches.push(((performance.now() - t) * 1000) / n)
  }
  return batches.sort((a, b) => a - b)[2]!
}

export async function benchHitCost(report: Report) {
  const dataDir = mkdtempSync(join(tmpdir(), 'gridpulse-hit-'))
  await seed(
    dataDir,
    Array.from({ length: 1000 }, (_, i) => syntheticDispatch(i, 'bench-seed'))
  )
  const config = loadConfig({
    DATA_DIR: dataDir,
    SOURCES: 'none',
    LOG_LEVEL: 'info',
    AUTH_MODE: 'keys',
    RATE_LIMIT_PER_MINUTE: '1000000000',
  })
  // The default level, to /dev/null: every request writes its line, as `bench seed` measures.
  const log = createLogger({
    level: 'info',
    destination: pino.destination({ dest: '/dev/null', sync: true }),
  })
  const node = await createNode(config, { log })
  const apikey = node.keys.create('bench', 'read').key
  const body = await (
    await node.fetch(
      new Request('http://localhost/api/v1/dispatch?limit=100', { headers: { apikey } })
    )
  ).text()
  const n = 20_000
  const fetchOf =
    (path: string, headers: Record<string, string> = {}) =>
    () =>
      node.fetch(new Request(`http://localhost${path}`, { headers }))
  report(
    'fixed-body Response',
    `${(await perCall(n, () => new Response(body, { headers: { 'Content-Type': 'application/json' } }))).toFixed(1)} µs`
  )
  report('GET /health', `${(await perCall(n, fetchOf('/health'))).toFixed(1)} µs`)
  for (const q of [
    '/api/v1/dispatch?limit=100',
    '/api/v1/dispatch?region_id=NSW1&limit=100',
    '/api/v1/stats',
  ])
    report(`GET ${q} (cached, key)`, `${(await perCall(n, fetchOf(q, { apikey }))).toFixed(1)} µs`)
  report(
    '  … Accept-Encoding: gzip',
    `${(await perCall(n, fetchOf('/api/v1/dispatch?limit=100', { apikey, 'Accept-Encoding': 'gzip' }))).toFixed(1)} µs`
  )
  report(
    '  … If-None-Match (304)',
    `${(await perCall(n, fetchOf('/api/v1/dispatch?limit=100', { apikey, 'If-None-Match': '*' }))).toFixed(1)} µs`
  )
  await componentCosts(report, n, log, () => node.keys.verify(apikey))
  await node.close()
  rmSync(dataDir, { recursive: true, force: true })
}

/** What each thing a request does costs alone. */
async function componentCosts(report: Report, n: number, log: Logger, verify: () => unknown) {
  const api = log.child({ component: 'api' })
  const line = {
    'http.method': 'GET',
    'http.route': '/api/v1/dispatch',
    'http.status': 200,
    'http.duration_ms': 0.05,
    correlation_id: crypto.randomUUID(),
    consumer: 'bench',
  }
  report(
    '  request log line (pino, /dev/null)',
    `${(await perCall(n, () => api.info(line, 'request'))).toFixed(2)} µs`
  )
  const metrics = createMetrics({ version: 'bench' })
  report(
    '  metrics observe',
    `${(await perCall(n, () => metrics.httpDuration.observe({ route: '/api/v1/dispatch', method: 'GET', status: '200' }, 0.0001))).toFixed(2)} µs`
  )
  report('  key check', `${(await perCall(n, verify)).toFixed(2)} µs`)
  const limiter = createSlidingWindowLimiter({ limit: 1_000_000_000 })
  let t = Date.now()
  report(
    '  rate limiter hit',
    `${(await perCall(n, () => limiter.hit('bench', t++))).toFixed(2)} µs`
  )
  report('  crypto.randomUUID', `${(await perCall(n, () => crypto.randomUUID())).toFixed(2)} µs`)
  report(
    '  new Date().toISOString()',
    `${(await perCall(n, () => new Date().toISOString())).toFixed(2)} µs`
  )
}

if (import.meta.main)
  await benchHitCost((name, value) => console.log(`${name.padEnd(52)} ${value}`))
