/**
 * `bun run bench stream`: GET /api/v1/stream on the compiled binary (embedded log).
 *  - 1,000 stream clients on one node (raw node:net sockets in this process: no EventSource
 *    machinery per client): ingest → client latency p50/p99 over every delivered event, RSS per
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
import { ingest } from '../tests/integration/support'
import { buildDispatchIsZip } from '../tests/support/nemweb-fixtures'
import { startNemwebServer } from '../tests/support/nemweb-server'
import { freePort, waitForHttp } from '../tests/support/process'

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

async function phase(port: number, from: number, latencies: number[]) {
  const ks = Array.from({ length: EVENTS }, (_, i) => from + i)
  await ingest(`http://127.0.0.1:${port}`, ks, { concurrency: 4, ratePerSecond: RATE })
  await Bun.sleep(1000)
  latencies.sort((a, b) => a - b)
  return latencies
}

export async function benchStream(report: Report, binary: string, workDir: string) {
  const port = freePort()
  const proc = Bun.spawn([binary, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: join(workDir, 'stream'),
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
  const quiet: number[] = []
  const clients = Array.from({ length: CLIENTS }, () =>
    sseSocket(port, '/api/v1/stream?stream=dispatch', quiet)
  )
  const connectStart = performance.now()
  while (clients.some((c) => !c.open)) await Bun.sleep(20)
  const connectedMs = performance.now() - connectStart
  await Bun.sleep(500)
  const connected = await rssMb(proc.pid)
  report(
    `stream: ${CLIENTS} clients connected`,
    `in ${connectedMs.toFixed(0)} ms; RSS ${idle.toFixed(1)} → ${connected.toFixed(1)} MB (${(((connected - idle) * 1024) / CLIENTS).toFixed(1)} KB per connection)`
  )

  const a = await phase(port, 0, quiet)
  const each = (n: number) => `${(n / CLIENTS).toFixed(0)} per client`
  report(
    `stream: ingest → client, ${EVENTS} events × ${CLIENTS}`,
    `p50 ${percentile(a, 50)} ms, p99 ${percentile(a, 99)} ms, max ${a.at(-1)} ms (${each(a.length)}; goal p99 ≤ 100 ms)`
  )
  for (const c of clients) c.socket!.destroy()
  const withSlow: number[] = []
  const again = Array.from({ length: CLIENTS - 1 }, () =>
    sseSocket(port, '/api/v1/stream?stream=dispatch', withSlow)
  )
  const slow = sseSocket(port, '/api/v1/stream?stream=dispatch', undefined, false)
  while (again.some((c) => !c.open)) await Bun.sleep(20)
  const b = await phase(port, EVENTS, withSlow)
  report(
    `stream: same, one client not reading`,
    `p50 ${percentile(b, 50)} ms, p99 ${percentile(b, 99)} ms, max ${b.at(-1)} ms (${each(b.length)})`
  )
  // The kernel's loopback buffers take ~4 MB before the node's queue (STREAM_BUFFER_EVENTS=64)
  // fills: a burst, with the 999 readers gone so that this process can keep up.
  for (const c of again) c.socket!.destroy()
  const burst = Array.from({ length: 8000 }, (_, i) => 2 * EVENTS + i)
  await ingest(`http://127.0.0.1:${port}`, burst, { concurrency: 16 })
  await Bun.sleep(1000)
  const overflows = (await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).match(
    /^gridpulse_stream_overflows_total (\S+)$/m
  )?.[1]
  report(
    'stream: the client not reading, after 8,000 more events',
    `overflows ${overflows}; node RSS ${(await rssMb(proc.pid)).toFixed(1)} MB`
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
  const nemweb = startNemwebServer()
  const port = freePort()
  const proc = Bun.spawn([binary, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: join(workDir, 'stream-nemweb'),
      SOURCES: 'aemo',
      AEMO_BASE_URL: nemweb.url,
      AEMO_INITIAL_LOOKBACK_MINUTES: '1000000000',
      AUTH_MODE: 'none',
      LOG_LEVEL: 'warn',
    },
    stdout: 'ignore',
    stderr: 'inherit',
  })
  await waitForHttp(`http://127.0.0.1:${port}/ready`, proc)
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
    const file = buildDispatchIsZip(
      new Date(Date.parse('2026-04-02T00:05:00Z') + i * 300_000).toISOString().replace('.000', '')
    )
    await Bun.sleep(Math.random() * 5000) // appear at a random point of the poll period
    const appeared = performance.now()
    nemweb.add('/Reports/Current/DispatchIS_Reports/', file)
    for (;;) {
      const page = (await (
        await fetch(`http://127.0.0.1:${port}/api/v1/prices?limit=1`)
      ).json()) as { data: { interval_end: string }[] }
      if (page.data[0]?.interval_end === file.intervalEnd) break
      await Bun.sleep(20)
    }
    queryable.push((performance.now() - appeared) / 1000)
    while (!arrivals.has(file.intervalEnd)) await Bun.sleep(20)
    streamed.push((arrivals.get(file.intervalEnd)! - appeared) / 1000)
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
