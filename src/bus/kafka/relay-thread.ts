import type { Logger } from '@/observability'
import type { KafkaSecurity } from './client'
import type { Relay } from './relay'

/**
 * The outbox relay on a thread of its own (a Bun Worker running ./relay-worker.ts), behind the
 * same {@link Relay} interface as the in-process one (./relay.ts). The relay's work (reading a
 * page, kafkajs encoding and the produce requests) costs about as much CPU per event as the
 * consumer and the projection together; on its own thread it runs beside them on a second core.
 *
 * The worker opens its own connection to the outbox file (WAL: the node appends while the worker
 * reads and deletes) and its own idempotent producer (acks=all), and runs the very same relay loop
 * ({@link createRelay}): order, checkpoints after their events, parking, backoff with jitter are
 * unchanged. Its log records are replayed here through the node's logger, so they are the node's
 * JSON lines with the same components (`bus.kafka.relay`, `bus.kafka.producer`, `kafkajs`).
 */
export interface RelayThreadOptions {
  readonly outboxPath: string
  readonly outboxCacheKb?: number
  readonly nodeId: string
  readonly brokers: readonly string[]
  readonly security?: KafkaSecurity
  readonly clientId: string
  readonly topicPrefix: string
  /** Partition count per physical topic (the partitioner's modulus, for sizing requests). */
  readonly partitions: readonly (readonly [string, number])[]
  readonly pageSize?: number
  /** The logger the bus was given: the worker's records are replayed through its children. */
  readonly log: Logger
  /** Rows not yet relayed, read from the node's own connection to the outbox. */
  readonly depth: () => number
  readonly onSent?: (rows: number) => void
  /** A row was parked by the worker (the node's own outbox connection did not see it happen). */
  readonly onParked?: () => void
  /** How long start-up waits for the worker to open the outbox (default 30 s). */
  readonly startTimeoutMs?: number
}

/** What the node sends the worker. */
export type ToRelayWorker =
  | { readonly t: 'init'; readonly init: RelayWorkerInit }
  | { readonly t: 'wake' }
  | { readonly t: 'stop' }

export interface RelayWorkerInit {
  readonly outboxPath: string
  readonly outboxCacheKb?: number
  readonly nodeId: string
  readonly brokers: readonly string[]
  /** Credentials included: the init message stays inside this process. */
  readonly security?: KafkaSecurity
  readonly clientId: string
  readonly topicPrefix: string
  readonly partitions: readonly (readonly [string, number])[]
  readonly pageSize?: number
  /** Numeric pino level of the node's logger: records below it are not even sent. */
  readonly levelValue: number
}

/** What the worker sends the node. */
export type FromRelayWorker =
  | { readonly t: 'ready' }
  | { readonly t: 'sent'; readonly rows: number }
  | { readonly t: 'failed'; readonly error: string }
  | { readonly t: 'parked' }
  | { readonly t: 'log'; readonly record: ForwardedLog }
  | { readonly t: 'fatal'; readonly error: string }
  | { readonly t: 'stopped' }

export type LogMethod = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'

export interface ForwardedLog {
  /** Child bindings from the bus's logger down to the one that logged. */
  readonly chain: readonly Record<string, unknown>[]
  readonly level: LogMethod
  readonly fields: Record<string, unknown>
  readonly msg: string
}

/** Marks a serialised Error inside forwarded log fields. */
export interface SerializedError {
  readonly __error: true
  readonly type: string
  readonly message: string
  readonly stack?: string
  readonly props: Record<string, unknown>
}

/**
 * Where the worker's code is. From source, the file beside this one. In the compiled binary
 * (scripts/build.ts lists it as an extra entrypoint and defines RELAY_WORKER_ENTRY), the embedded
 * entrypoint's path relative to the common root of the entrypoints (`src/`): a relative path names
 * a file embedded in the executable before anything on disk.
 */
declare const RELAY_WORKER_ENTRY: string | undefined
const workerEntry = (): string | URL =>
  typeof RELAY_WORKER_ENTRY === 'string'
    ? RELAY_WORKER_ENTRY
    : new URL('./relay-worker.ts', import.meta.url)

/** Starts the worker and waits until it has opened the outbox; rejects if it cannot start. */
export async function createRelayThread(options: RelayThreadOptions): Promise<Relay> {
  const worker = new Worker(workerEntry())
  let markEnded!: () => void
  const ended = new Promise<void>((resolve) => {
    markEnded = resolve
  })
  const thread: ThreadState = {
    ok: true,
    error: undefined,
    stopping: false,
    exited: false,
    onReady: undefined,
    onStopped: undefined,
    markEnded,
  }
  listen(worker, thread, options)
  const send = (m: ToRelayWorker) => {
    if (!thread.exited) worker.postMessage(m)
  }
  const ready = new Promise<void>((resolve, reject) => {
    thread.onReady = { resolve, reject }
  })
  send({ t: 'init', init: workerInit(options) })
  await untilReady(worker, thread, ready, options.startTimeoutMs ?? 30_000)

  return {
    ended,
    wake: () => send({ t: 'wake' }),
    healthy: () => thread.ok,
    lastError: () => thread.error,
    async drain(timeoutMs) {
      const deadline = Date.now() + timeoutMs
      while (
        thread.ok &&
        !thread.exited &&
        !thread.stopping &&
        options.depth() > 0 &&
        Date.now() < deadline
      )
        await Bun.sleep(20)
    },
    async stop() {
      if (thread.stopping) return
      thread.stopping = true
      if (!thread.exited) {
        const stopped = new Promise<void>((resolve) => {
          thread.onStopped = resolve
        })
        worker.postMessage({ t: 'stop' } satisfies ToRelayWorker)
        await stopped
      }
      worker.terminate()
      thread.markEnded()
    },
  }
}

/** The node's view of the worker: its relay's health and where its life stands. */
interface ThreadState {
  /** False from a failed send until the next successful one (as the in-process relay's). */
  ok: boolean
  error: string | undefined
  /** The node asked the worker to stop (or gave up starting it): its end is no failure. */
  stopping: boolean
  /** The worker is gone: nothing more is posted to it. */
  exited: boolean
  /** Pending start-up, settled by the worker's `ready` or its failure. */
  onReady: { resolve: () => void; reject: (e: Error) => void } | undefined
  /** Pending stop, settled by the worker's `stopped` or its failure. */
  onStopped: (() => void) | undefined
  /** Settles {@link Relay.ended}. */
  readonly markEnded: () => void
}

const workerInit = (options: RelayThreadOptions): RelayWorkerInit => ({
  outboxPath: options.outboxPath,
  outboxCacheKb: options.outboxCacheKb,
  nodeId: options.nodeId,
  brokers: options.brokers,
  security: options.security,
  clientId: options.clientId,
  topicPrefix: options.topicPrefix,
  partitions: options.partitions,
  pageSize: options.pageSize,
  levelValue: options.log.levelVal,
})

/** Waits for the worker's `ready`; on a timeout or a failure, terminates it and rejects. */
async function untilReady(
  worker: Worker,
  thread: ThreadState,
  ready: Promise<void>,
  startTimeoutMs: number
) {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    await Promise.race([
      ready,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the relay thread did not start within ${startTimeoutMs} ms`)),
          startTimeoutMs
        )
      }),
    ])
  } catch (e) {
    thread.stopping = true
    thread.exited = true
    worker.terminate()
    throw e
  } finally {
    clearTimeout(timer)
  }
}

/** Follows the worker: its messages, an uncaught error in it, its exit. */
function listen(worker: Worker, thread: ThreadState, options: RelayThreadOptions) {
  const relayLog = options.log
    .child({ component: 'bus.kafka' })
    .child({ component: 'bus.kafka.relay' })
  const replay = createLogReplay(options.log)
  const fail = (detail: string) => {
    thread.markEnded()
    thread.exited = true
    thread.ok = false
    thread.error = detail
    thread.onReady?.reject(new Error(detail))
    thread.onReady = undefined
    thread.onStopped?.()
    if (!thread.stopping)
      relayLog.error(
        { error: detail },
        'the outbox relay thread failed; the outbox keeps every event until it is restarted'
      )
  }
  worker.onmessage = (event: MessageEvent<FromRelayWorker>) => {
    const m = event.data
    switch (m.t) {
      case 'sent':
        thread.ok = true
        thread.error = undefined
        options.onSent?.(m.rows)
        break
      case 'failed':
        thread.ok = false
        thread.error = m.error
        break
      case 'parked':
        options.onParked?.()
        break
      case 'log':
        replay(m.record)
        break
      case 'ready':
        thread.onReady?.resolve()
        thread.onReady = undefined
        break
      case 'fatal':
        fail(m.error)
        break
      case 'stopped':
        thread.exited = true
        thread.markEnded()
        thread.onStopped?.()
        break
    }
  }
  worker.onerror = (event: ErrorEvent) => {
    event.preventDefault?.()
    fail(`relay thread error: ${event.message}`)
  }
  worker.addEventListener('close', () => {
    if (!thread.exited) fail('the relay thread exited unexpectedly')
  })
}

/** Logs the worker's records through children of `log` with the same bindings (one per chain). */
function createLogReplay(log: Logger) {
  const children = new Map<string, Logger>()
  return (record: ForwardedLog) => {
    const key = JSON.stringify(record.chain)
    let child = children.get(key)
    if (!child) {
      child = log
      for (const bindings of record.chain) child = child.child(bindings)
      children.set(key, child)
    }
    child[record.level](reviveFields(record.fields), record.msg)
  }
}

/** Errors do not survive postMessage with their class and fields: the worker flattens them. */
export function serializeFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(fields)) out[k] = serializeValue(v, 0)
  return out
}

function serializeValue(value: unknown, depth: number): unknown {
  if (!(value instanceof Error)) {
    try {
      return structuredClone(value)
    } catch {
      return String(value)
    }
  }
  const props: Record<string, unknown> = {}
  if (depth < 5)
    for (const [k, v] of Object.entries(value)) {
      if (k === 'message' || k === 'stack') continue
      props[k] = serializeValue(v, depth + 1)
    }
  if (value.cause !== undefined && !('cause' in props) && depth < 5)
    props.cause = serializeValue(value.cause, depth + 1)
  const serialized: SerializedError = {
    __error: true,
    type: value.constructor?.name ?? value.name,
    message: value.message,
    stack: value.stack,
    props,
  }
  return serialized
}

function reviveFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(fields)) out[k] = reviveValue(v)
  return out
}

const errorClasses = new Map<string, ErrorConstructor>()

function reviveValue(value: unknown): unknown {
  const s = value as SerializedError | undefined
  if (!s || typeof s !== 'object' || s.__error !== true) return value
  // pino's error serializer names an error by its constructor: keep kafkajs's class names.
  let Class = errorClasses.get(s.type)
  if (!Class) {
    Class = { [s.type]: class extends Error {} }[s.type] as unknown as ErrorConstructor
    errorClasses.set(s.type, Class)
  }
  const error = new Class(s.message)
  error.stack = s.stack
  for (const [k, v] of Object.entries(s.props))
    Object.defineProperty(error, k, {
      value: reviveValue(v),
      enumerable: true,
      writable: true,
      configurable: true,
    })
  return error
}
