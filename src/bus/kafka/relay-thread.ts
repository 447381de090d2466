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
  const log = options.log
  const relayLog = log.child({ component: 'bus.kafka' }).child({ component: 'bus.kafka.relay' })
  const worker = new Worker(workerEntry())
  let ok = true
  let error: string | undefined
  let stopping = false
  let exited = false
  let onReady: { resolve: () => void; reject: (e: Error) => void } | undefined
  let onStopped: (() => void) | undefined
  let markEnded!: () => void
  const ended = new Promise<void>((resolve) => {
    markEnded = resolve
  })
  const children = new Map<string, Logger>()

  const replay = (record: ForwardedLog) => {
    const key = JSON.stringify(record.chain)
    let child = children.get(key)
    if (!child) {
      child = log
      for (const bindings of record.chain) child = child.child(bindings)
      children.set(key, child)
    }
    child[record.level](reviveFields(record.fields), record.msg)
  }

  const fail = (detail: string) => {
    markEnded()
    exited = true
    ok = false
    error = detail
    onReady?.reject(new Error(detail))
    onReady = undefined
    onStopped?.()
    if (!stopping)
      relayLog.error(
        { error: detail },
        'the outbox relay thread failed; the outbox keeps every event until it is restarted'
      )
  }

  worker.onmessage = (event: MessageEvent<FromRelayWorker>) => {
    const m = event.data
    switch (m.t) {
      case 'sent':
        ok = true
        error = undefined
        options.onSent?.(m.rows)
        break
      case 'failed':
        ok = false
        error = m.error
        break
      case 'parked':
        options.onParked?.()
        break
      case 'log':
        replay(m.record)
        break
      case 'ready':
        onReady?.resolve()
        onReady = undefined
        break
      case 'fatal':
        fail(m.error)
        break
      case 'stopped':
        exited = true
        markEnded()
        onStopped?.()
        break
    }
  }
  worker.onerror = (event: ErrorEvent) => {
    event.preventDefault?.()
    fail(`relay thread error: ${event.message}`)
  }
  worker.addEventListener('close', () => {
    if (!exited) fail('the relay thread exited unexpectedly')
  })

  const send = (m: ToRelayWorker) => {
    if (!exited) worker.postMessage(m)
  }

  const ready = new Promise<void>((resolve, reject) => {
    onReady = { resolve, reject }
  })
  send({
    t: 'init',
    init: {
      outboxPath: options.outboxPath,
      outboxCacheKb: options.outboxCacheKb,
      nodeId: options.nodeId,
      brokers: options.brokers,
      security: options.security,
      clientId: options.clientId,
      topicPrefix: options.topicPrefix,
      partitions: options.partitions,
      pageSize: options.pageSize,
      levelValue: log.levelVal,
    },
  })
  const startTimeoutMs = options.startTimeoutMs ?? 30_000
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
    stopping = true
    exited = true
    worker.terminate()
    throw e
  } finally {
    clearTimeout(timer)
  }

  return {
    ended,
    wake: () => send({ t: 'wake' }),
    healthy: () => ok,
    lastError: () => error,
    async drain(timeoutMs) {
      const deadline = Date.now() + timeoutMs
      while (ok && !exited && !stopping && options.depth() > 0 && Date.now() < deadline)
        await Bun.sleep(20)
    },
    async stop() {
      if (stopping) return
      stopping = true
      if (!exited) {
        const stopped = new Promise<void>((resolve) => {
          onStopped = resolve
        })
        worker.postMessage({ t: 'stop' } satisfies ToRelayWorker)
        await stopped
      }
      worker.terminate()
      markEnded()
    },
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
