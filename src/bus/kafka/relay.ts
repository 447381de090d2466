import type { Message, TopicMessages } from 'kafkajs'
import { backoffMs, sleep } from '@/lib'
import type { Logger } from '@/observability'
import { createWakeup, type Wakeup } from '../wakeup'
import type { Outbox, OutboxRow } from './outbox'
import { isUndeliverable, type ProducerLane } from './producer'
import { CHECKPOINT_TOPIC } from './topics'

export interface RelayOptions {
  readonly outbox: Outbox
  readonly lane: ProducerLane
  /** Logical topic name → the topic on the broker (adds the configured prefix). */
  readonly physical: (topic: string) => string
  readonly log: Logger
  /**
   * Rows read per page. A page goes out in as few requests as Kafka's batch size limit allows
   * (see ./producer.ts); larger pages mean fewer, larger consumer batches downstream, i.e. fewer
   * projection transactions (bench/kafka.ts: 3000 beats 1000 by about 20% on 2 cores).
   */
  readonly pageSize?: number
  /**
   * Rows per acknowledged unit: after each, the sent rows are deleted from the outbox. A crash
   * between Kafka's acknowledgement and that delete re-sends at most this many rows.
   */
  readonly ackEvery?: number
  /** Fallback poll when no publish wakes the relay (a row written by an earlier process). */
  readonly idleMs?: number
  readonly onSent?: (rows: number) => void
  /** A send failed (the relay retries it after a backoff); `healthy()` is false until `onSent`. */
  readonly onFailure?: (error: string) => void
  readonly random?: () => number
}

export interface Relay {
  /** A publish committed rows: send them now. */
  wake(): void
  /** False from a failed send until the next successful one. */
  healthy(): boolean
  lastError(): string | undefined
  /** Waits (bounded) until the outbox is empty, if the relay is healthy; used on graceful shutdown. */
  drain(timeoutMs: number): Promise<void>
  /** Settles when the relay stopped working, because it was stopped or because it failed. */
  readonly ended: Promise<void>
  stop(): Promise<void>
}

/**
 * The outbox relay: sends the oldest page of rows, then deletes them, forever. Order is the order
 * of acceptance: per partition it is the publish order (kafkajs keeps the array order within a
 * partition and the producer is idempotent with one request in flight). Source checkpoints travel
 * in the same page but in a second request, after every event of the page is acknowledged: a
 * checkpoint on Kafka never runs ahead of the events it covers. When Kafka is down the page is
 * retried with exponential backoff and full jitter, and the outbox grows on disk meanwhile; memory
 * holds one page at most.
 */
export function createRelay(options: RelayOptions): Relay {
  const { outbox } = options
  const controller = new AbortController()
  const wakeup = createWakeup()
  const health: RelayHealth = { ok: true, error: undefined, failures: 0 }
  const loop = relayLoop(options, health, wakeup, controller.signal)
  return {
    wake: wakeup.wake,
    healthy: () => health.ok,
    lastError: () => health.error,
    async drain(timeoutMs) {
      const deadline = Date.now() + timeoutMs
      while (health.ok && outbox.depth() > 0 && Date.now() < deadline && !controller.signal.aborted)
        await Bun.sleep(20)
    },
    ended: loop,
    async stop() {
      controller.abort()
      wakeup.wake()
      await loop
    },
  }
}

/** The relay's health: false from a failed send until the next successful one. */
interface RelayHealth {
  ok: boolean
  error: string | undefined
  /** Failed sends in a row: the backoff's exponent. */
  failures: number
}

/** Pages through the outbox until `signal` aborts: send, delete, repeat; back off while Kafka fails. */
async function relayLoop(
  options: RelayOptions,
  health: RelayHealth,
  wakeup: Wakeup,
  signal: AbortSignal
): Promise<void> {
  const { outbox, log } = options
  const pageSize = options.pageSize ?? 3000
  const idleMs = options.idleMs ?? 1000
  while (!signal.aborted) {
    const waitFor = wakeup.next()
    let rows: OutboxRow[]
    try {
      rows = outbox.page(pageSize)
    } catch (e) {
      log.error({ err: e }, 'reading the outbox failed')
      await sleep(idleMs, signal)
      continue
    }
    if (rows.length === 0) {
      await Promise.race([waitFor, sleep(idleMs, signal)])
      continue
    }
    try {
      await relayPage(options, rows)
      if (!health.ok)
        log.info(
          { failures: health.failures, outbox_depth: outbox.depth() },
          'Kafka is reachable again; relaying the outbox backlog'
        )
      health.ok = true
      health.error = undefined
      health.failures = 0
      options.onSent?.(rows.length)
    } catch (e) {
      if (signal.aborted) break
      await backOff(options, health, e, signal)
    }
  }
}

/**
 * A page is read at once (one query) but acknowledged in small units: each unit's rows are deleted
 * as soon as Kafka has them, so a crash re-sends one unit at most, not a page.
 */
async function relayPage(options: RelayOptions, rows: readonly OutboxRow[]) {
  const ackEvery = options.ackEvery ?? 250
  for (let i = 0; i < rows.length; i += ackEvery) {
    const unit = rows.slice(i, i + ackEvery)
    await sendPage(options, unit)
    options.outbox.remove(unit[unit.length - 1]!.id)
  }
}

/** A send failed: records why, logs it and sleeps a backoff with full jitter before the retry. */
async function backOff(
  options: RelayOptions,
  health: RelayHealth,
  e: unknown,
  signal: AbortSignal
) {
  health.failures++
  health.ok = false
  health.error = e instanceof Error ? e.message : String(e)
  options.onFailure?.(health.error)
  const retryInMs = 100 + backoffMs(health.failures, 250, 15_000, options.random)
  options.log.warn(
    {
      err: e,
      failures: health.failures,
      outbox_depth: options.outbox.depth(),
      retry_in_ms: retryInMs,
    },
    'relaying the outbox to Kafka failed; will retry'
  )
  await sleep(retryInMs, signal)
}

const toMessage = (row: OutboxRow): Message => ({
  key: row.key,
  value: row.value,
  headers: JSON.parse(row.headers),
})

/** Sends rows in order: the events first, then the checkpoints they complete. */
async function sendPage(options: RelayOptions, rows: readonly OutboxRow[]) {
  const { lane, physical } = options
  const data: TopicMessages[] = []
  const byTopic = new Map<string, Message[]>()
  // Latest cursor per source wins; the topic is compacted by the same key anyway.
  const checkpoints = new Map<string, Message>()
  for (const row of rows) {
    if (row.topic === CHECKPOINT_TOPIC) {
      checkpoints.set(row.key ?? '', toMessage(row))
      continue
    }
    let messages = byTopic.get(row.topic)
    if (!messages) {
      messages = []
      byTopic.set(row.topic, messages)
      data.push({ topic: physical(row.topic), messages })
    }
    messages.push(toMessage(row))
  }
  if (data.length > 0) {
    try {
      await lane.send(data)
    } catch (error) {
      if (!isUndeliverable(error)) throw error
      await isolate(
        options,
        rows.filter((r) => r.topic !== CHECKPOINT_TOPIC)
      )
    }
  }
  if (checkpoints.size > 0)
    await lane.send([{ topic: physical(CHECKPOINT_TOPIC), messages: [...checkpoints.values()] }])
}

/** Kafka refused part of a page for good: send it row by row and park each row it refuses. */
async function isolate(options: RelayOptions, rows: readonly OutboxRow[]) {
  for (const row of rows) {
    try {
      await options.lane.send([{ topic: options.physical(row.topic), messages: [toMessage(row)] }])
    } catch (error) {
      if (!isUndeliverable(error)) throw error
      options.outbox.park(row, error instanceof Error ? error.message : String(error))
      options.log.error(
        { err: error, 'outbox.id': row.id, 'kafka.topic': row.topic, bytes: row.value.length },
        'Kafka refuses this outbox row for good; parked in kafka_outbox_parked so the rows behind it keep flowing'
      )
    }
  }
}
