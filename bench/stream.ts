/**
 * `bun run bench stream`: GET /api/v1/stream on the compiled binary (embedded log).
 *  - 1,000 stream clients on one node (raw node:net sockets in two worker threads, see
 *    bench/stream-clients.ts; no EventSource machinery per client): ingest → client latency p50/p99 over every delivered event, RSS per
 *    connection; then the same with one client that never reads (it must not move the others'
 *    p99, and is cut off with `event: overflow`).
 *  - A file appearing on a local NEMWeb → queryable and → streamed (p95).
 * Latency is measured from the event's `ingested_at` (set by the node when it accepted the write,
 * before the log commit and the projection) to its arrival at a client, on one machine's clock:
 * an upper bound of projection commit → client. The node's own commit → queued figure is
 * gridpulse_stream_delivery_seconds, read from /metrics.
 */
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { createEmbeddedBus } from '@/bus'
import { silentLogger } from '@/observability'
import { ingest } from '../tests/integration/support'
import { waitFor } from '../tests/support/events'
import { freePort, waitForHttp } from '../tests/support/process'
import { publishUntilQueryable, startNemwebNode } from './aemo'
import { syntheticDispatch } from './seed'

type Report = (name: string, value: string) => void

const CLIENTS = 1000
const RATE = 50 // events per second
const EVENTS = 500

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
const rssMb = async (pid: number) =>
  Number((await Bun.file(`/proc/${pid}/status`).text()).match(/VmRSS:\s+(\d+)/)![1]) / 1024

/** One SSE reader on a raw socket; records each event's ingest → arrival latency (ms). */
function sseSocket(port: number, path: string, latencies: number[] | undefined, read = true) {
  const state = { socket: undefined as Socket | undefined, events: 0, overflow: false, open: false }
  const socket = connect(port, '127.0.0.1')
  state.socket = socket
  socket.setEncoding('utf8')
  let buffer = ''
  socket.on('data', (chunk: string) => {
    state.open = true
    const at = Date.now()
    buffer += chunk
    let cut = buffer.indexOf('\n\n')
    while (cut >= 0) {
      const frame = buffer.slice(0, cut)
      buffer = buffer.slice(cut + 2)
      const ingested = frame.match(/"ingested_at":"([^"]+)"/)
      if (ingested) {
        state.events++
        latencies?.push(at - Date.parse(ingested[1]!))
      } else if (frame.includes('event: overflow')) state.overflow = true
      cut = buffer.indexOf('\n\n')
    }
  })
  socket.on('error', () => {})
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`)
  if (!read) socket.pause()
  return state
}

/** Quantile of a Prometheus histogram from its cumulative buckets (upper bound of the bucket). */
async function metricQuantile(port: number, name: string, q: number): Promise<string> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  const buckets = new Map<number, number>()
  for (const m of text.matchAll(
    new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\} (\\S+)$`, 'gm')
  )) {
    const le = m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1])
    buckets.set(le, (buckets.get(le) ?? 0) + Number(m[2]))
  }
  const sorted = [...buckets].sort((a, b) => a[0] - b[0])
  const total = sorted.at(-1)?.[1] ?? 0
  const hit = sorted.find(([, count]) => count >= q * total)
  return hit ? `≤ ${hit[0] * 1000} ms` : 'n/a'
}

/** `count` stream clients spread over `threads` workers (bench/stream-clients.ts). */
async function startClients(port: number, path: string, count: number, threads = 2) {
  const workers = Array.from(
    { length: threads },
    () => new Worker(new URL('./stream-clients.ts', import.meta.url).href)
  )
  let opened = 0
  const replies: ((data: Record<string, unknown>) => void)[] = []
  for (const w of workers)
    w.onmessage = (m: MessageEvent) => {
      if (m.data.opened) opened += m.data.opened
      else replies.shift()?.(m.data)
    }
  const ask = (w: Worker, what: string) =>
    new Promise<Record<string, unknown>>((resolve) => {
      replies.push(resolve)
      w.postMessage(what)
    })
  workers.forEach((w, i) =>
    w.postMessage({
      open: { port, path, count: Math.floor(count / threads) + (i < count % threads ? 1 : 0) },
    })
  )
  while (opened < count) await Bun.sleep(20)
  return {
    /** Every latency (ms) since the last collect, sorted. */
    async collect() {
      const all: number[] = []
      for (const w of workers) all.push(...((await ask(w, 'collect')).latencies as number[]))
      return all.sort((a, b) => a - b)
    },
    async close() {
      for (const w of workers) await ask(w, 'close')
      for (const w of workers) w.terminate()
    },
  }
}

const ingestAt = (port: number, from: number, count: number, ratePerSecond?: number) =>
  ingest(
    `http://127.0.0.1:${port}`,
    Array.from({ length: count }, (_, i) => from + i),
    { concurrency: ratePerSecond ? 4 : 16, ratePerSecond }
  )

const streamMetric = async (port: number, name: string) =>
  (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).match(
    new RegExp(`^${name} (\\S+)$`, 'm')
  )?.[1]

export async function benchStream(report: Report, binary: string, workDir: string) {
  const port = freePort()
  const dataDir = join(workDir, 'stream')
  const proc = Bun.spawn([binary, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      SOURCES: 'none',
      AUTH_MODE: 'none',
      LOG_LEVEL: 'warn',
      STREAM_MAX_CONNECTIONS: String(CLIENTS + 10),
      STREAM_BUFFER_EVENTS: '64',
    },
    stdout: 'ignore',
    stderr: 'inherit',
  })
  await waitForHttp(`http://127.0.0.1:${port}/ready`, proc)
  await Bun.sleep(500)
  const idle = await rssMb(proc.pid)
  const path = '/api/v1/stream?stream=dispatch'
  const connectStart = performance.now()
  const clients = await startClients(port, path, CLIENTS)
  const connectedMs = performance.now() - connectStart
  await Bun.sleep(500)
  const connected = await rssMb(proc.pid)
  report(
    `stream: ${CLIENTS} clients connected`,
    `in ${connectedMs.toFixed(0)} ms; RSS ${idle.toFixed(1)} → ${connected.toFixed(1)} MB (${(((connected - idle) * 1024) / CLIENTS).toFixed(1)} KB per connection)`
  )
  const summary = (l: number[]) =>
    `p50 ${percentile(l, 50)} ms, p99 ${percentile(l, 99)} ms, max ${l.at(-1)} ms (${(l.length / CLIENTS).toFixed(0)} events per client)`

  await ingestAt(port, 0, EVENTS, RATE)
  await Bun.sleep(1000)
  report(
    `stream: ingest → client, ${EVENTS} events × ${CLIENTS}`,
    `${summary(await clients.collect())}; goal p99 ≤ 100 ms`
  )

  // The same again with one more client that never reads (in this thread).
  const slow = sseSocket(port, path, undefined, false)
  await Bun.sleep(200)
  await ingestAt(port, EVENTS, EVENTS, RATE)
  await Bun.sleep(1000)
  report('stream: same, plus one client not reading', summary(await clients.collect()))
  await clients.close()

  // The kernel's loopback buffers take several MB before the node's queue
  // (STREAM_BUFFER_EVENTS=64) fills: a burst of 20,000 events appended to the node's log by this
  // process (as a backfill would), with the readers gone.
  const log = createEmbeddedBus({ path: join(dataDir, 'log.sqlite'), log: silentLogger() })
  await log.publish(Array.from({ length: 20_000 }, (_, i) => syntheticDispatch(i, 'bench-burst')))
  await log.close()
  await waitFor(
    async () => (await streamMetric(port, 'gridpulse_stream_overflows_total')) !== '0',
    'the overflow',
    30_000
  ).catch(() => {})
  report(
    'stream: the client not reading, after 20,000 more events',
    `overflows ${await streamMetric(port, 'gridpulse_stream_overflows_total')}; node RSS ${(await rssMb(proc.pid)).toFixed(1)} MB`
  )
  report(
    'stream: projection commit → queued (node metric)',
    `p50 ${await metricQuantile(port, 'gridpulse_stream_delivery_seconds', 0.5)}, p99 ${await metricQuantile(port, 'gridpulse_stream_delivery_seconds', 0.99)}`
  )
  slow.socket!.destroy()
  proc.kill('SIGTERM')
  await proc.exited
  await benchFileToStream(report, binary, workDir)
}

/** NEMWeb file appears → its prices queryable and streamed (20 files, at random poll phases). */
async function benchFileToStream(report: Report, binary: string, workDir: string) {
  const { nemweb, port, proc } = await startNemwebNode(binary, join(workDir, 'stream-nemweb'))
  const arrivals = new Map<string, number>()
  const client = connect(port, '127.0.0.1')
  client.setEncoding('utf8')
  client.on('data', (chunk: string) => {
    for (const m of chunk.matchAll(/"interval_end":"([^"]+)"/g))
      if (!arrivals.has(m[1]!)) arrivals.set(m[1]!, performance.now())
  })
  client.write('GET /api/v1/stream?stream=prices HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  const queryable: number[] = []
  const streamed: number[] = []
  for (let i = 0; i < 20; i++) {
    const { intervalEnd, appeared, queryableSeconds } = await publishUntilQueryable(nemweb, port, i)
    queryable.push(queryableSeconds)
    while (!arrivals.has(intervalEnd)) await Bun.sleep(20)
    streamed.push((arrivals.get(intervalEnd)! - appeared) / 1000)
  }
  client.destroy()
  proc.kill('SIGTERM')
  await proc.exited
  nemweb.stop()
  for (const s of [queryable, streamed]) s.sort((x, y) => x - y)
  const show = (s: number[]) =>
    `p50 ${percentile(s, 50).toFixed(1)} s, p95 ${percentile(s, 95).toFixed(1)} s`
  report(
    'NEMWeb file appears → queryable / → streamed',
    `${show(queryable)} / ${show(streamed)} (20 files, AEMO_POLL_SECONDS=5; goal p95 ≤ 10 s)`
  )
}
