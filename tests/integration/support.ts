import { afterAll, beforeAll, expect } from 'bun:test'
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { Kafka, logLevel } from 'kafkajs'
import { createKafkaBus, type KafkaBus, type KafkaBusOptions, type KafkaSecurity } from '@/bus'
import { eventIdFor, FUEL_TYPES, REGION_IDS } from '@/canonical'
import { silentLogger } from '@/observability'
import { REPO_ROOT } from '../support/paths'
import { freePort, waitForHttp } from '../support/process'

/** The shared broker of this test run (scripts/test.ts starts one), or undefined: Kafka tests skip. */
export const KAFKA_BROKERS = process.env.KAFKA_BROKERS

/** Prints a banner when Kafka tests are skipped, so a skip is never silent. */
export function announceSkip(suite: string): void {
  if (KAFKA_BROKERS) return
  console.warn(
    [
      '',
      '#'.repeat(78),
      `# SKIPPED: ${suite}`,
      '# KAFKA_BROKERS is not set, so the Kafka integration tests did not run.',
      '# `bun run test` starts a throwaway broker (scripts/kafka-broker.sh, needs Java 17+);',
      '# or point KAFKA_BROKERS at a broker yourself.',
      '#'.repeat(78),
      '',
    ].join('\n')
  )
}

export const brokerList = (brokers = KAFKA_BROKERS ?? ''): string[] =>
  brokers.split(',').filter(Boolean)

/** A topic/group prefix of its own, so tests share a broker without seeing each other's data. */
export const uniquePrefix = (): string => `it-${crypto.randomUUID().slice(0, 13)}.`

export function tempDir(name: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `gridpulse-${name}-`))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}

/** A Kafka bus on the shared broker with a unique prefix and its own outbox file. */
export async function openTestBus(
  overrides: Partial<KafkaBusOptions> & { prefix: string; dir: string; nodeId?: string }
) {
  const nodeId = overrides.nodeId ?? 'it'
  const bus = await createKafkaBus({
    brokers: brokerList(),
    nodeId,
    outboxPath: join(overrides.dir, `${nodeId}-log.sqlite`),
    log: silentLogger(),
    topicPrefix: overrides.prefix,
    ...overrides,
  })
  // Start-up no longer waits for the topics; these tests want them (or the mismatch) first.
  return startedWithin(bus, 60_000)
}

/**
 * Waits until the bus has verified its topics; start-up itself never gives up (an edge node may
 * start long before its broker), so a test that expects a failure bounds the wait and gets the
 * last start-up error (the bus's health detail) instead. Closes the bus when it rejects.
 */
export async function startedWithin<B extends KafkaBus>(
  bus: B,
  timeoutMs: number,
  /** Stop waiting as soon as the start-up error is this one (it is retried, never thrown). */
  failOn?: (detail: string) => boolean
): Promise<B> {
  let timer: ReturnType<typeof setTimeout> | undefined
  let poll: ReturnType<typeof setInterval> | undefined
  try {
    await Promise.race([
      bus.started,
      new Promise<never>((_, reject) => {
        const fail = () => reject(new Error(bus.health().detail ?? 'Kafka start-up timed out'))
        timer = setTimeout(fail, timeoutMs)
        if (failOn)
          poll = setInterval(() => {
            if (failOn(bus.health().detail ?? '')) fail()
          }, 100)
      }),
    ])
    return bus
  } catch (error) {
    await bus.close()
    throw error
  } finally {
    clearTimeout(timer)
    clearInterval(poll)
  }
}

/** A plain kafkajs client, for what a test does behind the adapter's back (raw messages, admin). */
export const plainKafka = (brokers = brokerList()) =>
  new Kafka({ clientId: 'gridpulse-it', brokers, logLevel: logLevel.NOTHING })

/** Reads every message of a topic from the start (a throwaway group) until `count` arrived. */
export async function readTopic(kafka: Kafka, topic: string, count: number, timeoutMs = 20_000) {
  const consumer = kafka.consumer({
    groupId: `gridpulse.it.reader.${crypto.randomUUID()}`,
    maxWaitTimeInMs: 200,
  })
  const messages: {
    partition: number
    offset: string
    key: string | null
    value: string
    headers: Record<string, string>
  }[] = []
  await consumer.connect()
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    let done!: () => void
    const enough = new Promise<void>((resolve) => {
      done = resolve
    })
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const headers: Record<string, string> = {}
        for (const [k, v] of Object.entries(message.headers ?? {}))
          if (v !== undefined) headers[k] = v.toString()
        messages.push({
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? null,
          value: message.value?.toString() ?? '',
          headers,
        })
        if (messages.length >= count) done()
      },
    })
    await Promise.race([
      enough,
      Bun.sleep(timeoutMs).then(() =>
        Promise.reject(new Error(`read ${messages.length}/${count} messages of ${topic}`))
      ),
    ])
    return messages
  } finally {
    await consumer.disconnect()
  }
}

// ---------------------------------------------------------------------------------------------
// Process-level tests: a dedicated broker and `bun src/main.ts serve` children.

/** Whether this machine can run a broker of its own (scripts/kafka-broker.sh exits 3 otherwise). */
export const canRunBroker = (): boolean => Bun.which('java') !== null

const BROKER_SCRIPT = join(REPO_ROOT, 'scripts', 'kafka-broker.sh')

async function brokerCommand(
  args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(['bash', BROKER_SCRIPT, ...args], {
    stdout: 'pipe',
    stderr: 'pipe',
    stdin: 'ignore',
  })
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ])
  return { code, stdout, stderr }
}

/**
 * A broker of its own for a test that stops and restarts it. `saslScram`: its client listener
 * takes SASL/SCRAM logins only, for the user and the password kafka-broker.sh generated;
 * `tlsPem` (a PEM file with the key and the certificate chain) makes that listener SASL_SSL.
 */
export async function startDedicatedBroker(
  name: string,
  options: { saslScram?: boolean; tlsPem?: string } = {}
) {
  const started = await brokerCommand([
    'start',
    '--port',
    'auto',
    '--name',
    name,
    ...(options.saslScram ? ['--sasl-scram'] : []),
    ...(options.tlsPem ? ['--tls-pem', options.tlsPem] : []),
  ])
  if (started.code !== 0)
    throw new Error(`kafka-broker.sh start exited ${started.code}: ${started.stderr.slice(-2000)}`)
  const printed: Record<string, string> = Object.fromEntries(
    started.stdout
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)])
  )
  const brokers = printed.KAFKA_BROKERS ?? ''
  const scram: KafkaSecurity['sasl'] | undefined = printed.KAFKA_SASL_PASSWORD
    ? {
        mechanism: printed.KAFKA_SASL_MECHANISM as 'scram-sha-256',
        username: printed.KAFKA_SASL_USERNAME ?? '',
        password: printed.KAFKA_SASL_PASSWORD,
      }
    : undefined
  return {
    brokers,
    scram,
    name,
    /** Stops the JVM, keeping its data (`kill`); `--hard` is a crash. */
    async kill(hard = false) {
      const r = await brokerCommand(['kill', ...(hard ? ['--hard'] : []), '--name', name])
      if (r.code !== 0) throw new Error(`kafka-broker.sh kill exited ${r.code}: ${r.stderr}`)
    },
    async resume() {
      const r = await brokerCommand(['start', '--reuse', '--name', name])
      if (r.code !== 0)
        throw new Error(`kafka-broker.sh start --reuse exited ${r.code}: ${r.stderr.slice(-2000)}`)
    },
    async stop() {
      await brokerCommand(['stop', '--name', name])
    },
  }
}
export type DedicatedBroker = Awaited<ReturnType<typeof startDedicatedBroker>>

// An interrupted `bun test` (Ctrl-C) skips afterAll: the children must not outlive it. Each child's pid
// goes to the file scripts/test.ts names (it reaps leftovers), and every child is killed on exit.
const live = new Set<Subprocess>()
process.once('exit', () => {
  for (const proc of live) proc.kill('SIGKILL')
})

/** One GridPulse process (`bun src/main.ts serve`) in Kafka mode; its whole output is kept. */
export class Node {
  readonly base: string
  proc!: Subprocess<'ignore', 'pipe', 'pipe'>
  output = ''
  private readers: Promise<void>[] = []

  constructor(
    readonly options: {
      brokers: string
      nodeId: string
      dataDir: string
      port?: number
      env?: Record<string, string>
    },
    readonly port = options.port ?? freePort()
  ) {
    this.base = `http://127.0.0.1:${this.port}`
  }

  async start(timeoutMs = 60_000): Promise<void> {
    this.proc = Bun.spawn([process.execPath, 'src/main.ts', 'serve'], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        KAFKA_BROKERS: this.options.brokers,
        DATA_DIR: this.options.dataDir,
        PORT: String(this.port),
        HOST: '127.0.0.1',
        SOURCES: 'none',
        NODE_ID: this.options.nodeId,
        AUTH_MODE: 'none',
        LOG_LEVEL: 'info',
        ...this.options.env,
      },
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
    })
    live.add(this.proc)
    const proc = this.proc
    proc.exited.then(() => live.delete(proc))
    if (process.env.GRIDPULSE_TEST_PIDS)
      appendFileSync(process.env.GRIDPULSE_TEST_PIDS, `${proc.pid}\n`)
    this.readers = [this.collect(this.proc.stdout), this.collect(this.proc.stderr)]
    await waitForHttp(`${this.base}/health`, this.proc, timeoutMs)
  }

  private async collect(stream: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder()
    for await (const chunk of stream) this.output += decoder.decode(chunk, { stream: true })
  }

  /** Waits for the process to exit and its output to be read. */
  async exited(): Promise<number> {
    const code = await this.proc.exited
    await Promise.all(this.readers)
    return code
  }

  kill(signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL') {
    if (this.proc && this.proc.exitCode === null) this.proc.kill(signal)
  }

  // biome-ignore lint: JSON shapes are checked by the tests
  async json(path: string): Promise<any> {
    const response = await fetch(`${this.base}${path}`, { signal: AbortSignal.timeout(10_000) })
    return response.json()
  }

  /** The /ready report (200 or 503 alike). */
  // biome-ignore lint: JSON shapes are checked by the tests
  async ready(): Promise<{ status: number; body: any }> {
    const response = await fetch(`${this.base}/ready`, { signal: AbortSignal.timeout(10_000) })
    return { status: response.status, body: await response.json() }
  }

  /** Every event_id in the projection's dispatch table, by paging the API. */
  async dispatchIds(): Promise<string[]> {
    const ids: string[] = []
    let cursor: string | null = null
    do {
      const page: { data: { event_id: string }[]; meta: { next_cursor: string | null } } =
        await this.json(
          `/api/v1/dispatch?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
        )
      for (const row of page.data) ids.push(row.event_id)
      cursor = page.meta.next_cursor
    } while (cursor)
    return ids
  }
}

/** The k-th distinct POST body: every (region, fuel, interval) combination once. */
export function dispatchBody(k: number) {
  const region_id = REGION_IDS[k % REGION_IDS.length]!
  const fuel_type = FUEL_TYPES[Math.floor(k / REGION_IDS.length) % FUEL_TYPES.length]!
  const interval = Math.floor(k / (REGION_IDS.length * FUEL_TYPES.length))
  const interval_end = new Date(Date.UTC(2025, 0, 1) + interval * 300_000)
    .toISOString()
    .replace('.000Z', 'Z')
  return {
    region_id,
    fuel_type,
    // Manual writes follow the model's sign rules: charging is a load (≤ 0), the rest generation.
    value_mw:
      (fuel_type === 'battery_charging' ? -1 : 1) * (Math.round(((k * 7919) % 100_000) / 10) / 10),
    interval_end,
  }
}

/** The event id the API assigns to body `k` (deterministic: type, source, region, fuel, interval). */
export function dispatchEventId(k: number): string {
  const { region_id, fuel_type, interval_end } = dispatchBody(k)
  return eventIdFor({
    event_type: 'MarketDispatchEvent',
    source: 'api',
    region_id,
    fuel_type,
    interval_end,
  })
}

export interface IngestResult {
  /** Bodies the API answered 202 for: each must end up in the projection. */
  readonly acked: Set<number>
  /** Bodies sent whose answer never came (the process died): they may or may not have been accepted. */
  readonly unanswered: Set<number>
  /** Bodies answered with anything but 202, by status. */
  readonly rejected: Map<number, number>
  /** Bodies not sent at all (stopped early). */
  readonly notSent: number[]
}

/**
 * POSTs the bodies `ks` to /api/v1/dispatch with bounded concurrency, optionally paced. Stops early
 * (without failing) when `stop` aborts or the process stops answering.
 */
export async function ingest(
  base: string,
  ks: readonly number[],
  options: {
    concurrency?: number
    ratePerSecond?: number
    stop?: AbortSignal
    onAck?: (acked: number) => void
  } = {}
): Promise<IngestResult> {
  const acked = new Set<number>()
  const unanswered = new Set<number>()
  const rejected = new Map<number, number>()
  let next = 0
  let dead = false
  const started = performance.now()
  const worker = async () => {
    while (next < ks.length && !dead && !options.stop?.aborted) {
      const index = next++
      const k = ks[index]!
      if (options.ratePerSecond) {
        const due = started + (index * 1000) / options.ratePerSecond
        const wait = due - performance.now()
        if (wait > 0) await Bun.sleep(wait)
      }
      try {
        const response = await fetch(`${base}/api/v1/dispatch`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(dispatchBody(k)),
          signal: AbortSignal.timeout(15_000),
        })
        if (response.status === 202) {
          await response.body?.cancel()
          acked.add(k)
          options.onAck?.(acked.size)
        } else {
          rejected.set(k, response.status)
          await response.body?.cancel()
        }
      } catch {
        unanswered.add(k)
        dead = true
      }
    }
  }
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker))
  const done = new Set([...acked, ...unanswered, ...rejected.keys()])
  return { acked, unanswered, rejected, notSent: ks.filter((k) => !done.has(k)) }
}

/** Waits until the node is ready with an empty outbox and no projection lag; returns the time taken. */
export async function waitUntilDrained(node: Node, timeoutMs: number): Promise<number> {
  const started = performance.now()
  let last: unknown
  while (performance.now() - started < timeoutMs) {
    try {
      const { status, body } = await node.ready()
      last = body.checks
      if (
        status === 200 &&
        body.checks.event_log.outbox_depth === 0 &&
        body.checks.projection.lag === 0
      )
        return performance.now() - started
    } catch (error) {
      last = String(error)
    }
    await Bun.sleep(100)
  }
  throw new Error(
    `node ${node.options.nodeId} did not drain within ${timeoutMs} ms; last /ready: ${JSON.stringify(last)}`
  )
}

/** Logs stay clean: JSON lines only, and never Bun's TimeoutNegativeWarning (kafkajs's negative timers). */
export function expectCleanOutput(nodes: readonly Node[]): void {
  for (const node of nodes) {
    expect(node.output).not.toContain('TimeoutNegativeWarning')
    const stray = node.output
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('{'))
    expect(stray).toEqual([])
  }
}

/**
 * For the fault tests that stop, kill or crowd a broker: true when they cannot run here, with a
 * loud banner either way it is skipped (no KAFKA_BROKERS, or no Java for a broker of their own).
 */
export function skipWithoutOwnBroker(suite: string): boolean {
  announceSkip(suite)
  if (KAFKA_BROKERS && !canRunBroker())
    console.warn(`\n### SKIPPED: ${suite} needs Java 17+ for a broker of its own ###\n`)
  return !KAFKA_BROKERS || !canRunBroker()
}

/**
 * Inside a describe: a broker of the suite's own (named it-<scenario>-<pid>, which scripts/test.ts
 * cleans up after a crash), a temp dir, and a list of GridPulse nodes killed at the end.
 */
export function useDedicatedBroker(scenario: string) {
  const dir = tempDir(scenario)
  const nodes: Node[] = []
  let broker: DedicatedBroker | undefined
  beforeAll(async () => {
    broker = await startDedicatedBroker(`it-${scenario}-${process.pid}`)
  }, 180_000)
  afterAll(async () => {
    for (const node of nodes) node.kill()
    await broker?.stop()
    dir.remove()
  }, 60_000)
  return { dir, nodes, broker: () => broker! }
}
