/**
 * The outbox relay thread (a Bun Worker; see ./relay-thread.ts for the node's side). It is an entry
 * point of its own: scripts/build.ts embeds it in the compiled binary beside src/main.ts.
 */
import type { Logger } from '@/observability'
import { createKafkaClient } from './client'
import { createOutbox, type Outbox } from './outbox'
import { createProducerLane, type ProducerLane } from './producer'
import { createRelay, type Relay } from './relay'
import {
  type FromRelayWorker,
  type LogMethod,
  type RelayWorkerInit,
  serializeFields,
  type ToRelayWorker,
} from './relay-thread'
import { filterTimeoutNegativeWarnings } from './warnings'

interface WorkerScope {
  postMessage(message: FromRelayWorker): void
  onmessage: ((event: MessageEvent<ToRelayWorker>) => void) | null
}
const scope = globalThis as unknown as WorkerScope
const post = (message: FromRelayWorker) => scope.postMessage(message)

const LEVELS: Record<LogMethod, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
}

/**
 * A logger with the pino surface the relay, the producer lane and kafkajs's adapter use. Records
 * go to the node, which logs them through its own logger (same level, format, redaction, stream).
 */
function forwardingLogger(levelValue: number, chain: Record<string, unknown>[] = []): Logger {
  const method =
    (level: LogMethod) =>
    (fieldsOrMsg?: unknown, msg?: string): void => {
      if (LEVELS[level] < levelValue) return
      const fields =
        typeof fieldsOrMsg === 'object' && fieldsOrMsg !== null
          ? serializeFields(
              fieldsOrMsg instanceof Error
                ? { err: fieldsOrMsg }
                : (fieldsOrMsg as Record<string, unknown>)
            )
          : {}
      const text = typeof fieldsOrMsg === 'string' ? fieldsOrMsg : (msg ?? '')
      post({ t: 'log', record: { chain, level, fields, msg: text } })
    }
  const logger = {
    levelVal: levelValue,
    isLevelEnabled: (level: LogMethod) => LEVELS[level] >= levelValue,
    child: (bindings: Record<string, unknown>) =>
      forwardingLogger(levelValue, [...chain, bindings]),
    trace: method('trace'),
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    fatal: method('fatal'),
  }
  return logger as unknown as Logger
}

let state:
  | {
      relay: Relay
      lane: ProducerLane
      outbox: Outbox
      log: Logger
      releaseWarnings: () => void
    }
  | undefined

function start(init: RelayWorkerInit) {
  const releaseWarnings = filterTimeoutNegativeWarnings()
  const root = forwardingLogger(init.levelValue)
  const log = root.child({ component: 'bus.kafka' })
  const outbox = createOutbox({
    path: init.outboxPath,
    nodeId: init.nodeId,
    cacheKb: init.outboxCacheKb,
  })
  const partitions = new Map(init.partitions)
  const kafka = createKafkaClient({
    brokers: init.brokers,
    clientId: init.clientId,
    log: root,
    security: init.security,
  })
  const lane = createProducerLane(
    kafka,
    log.child({ component: 'bus.kafka.producer' }),
    (topic) => partitions.get(topic) ?? 1
  )
  // The node's connection to the outbox does not see this one park a row: tell it.
  const reporting: Outbox = {
    ...outbox,
    park(row, error) {
      outbox.park(row, error)
      post({ t: 'parked' })
    },
  }
  const relay = createRelay({
    outbox: reporting,
    lane,
    physical: (topic) => `${init.topicPrefix}${topic}`,
    log: log.child({ component: 'bus.kafka.relay' }),
    pageSize: init.pageSize,
    onSent: (rows) => post({ t: 'sent', rows }),
    onFailure: (error) => post({ t: 'failed', error }),
  })
  state = { relay, lane, outbox, log, releaseWarnings }
  post({ t: 'ready' })
}

/** As the bus closes the in-process relay: stop the loop, close the producer, then the outbox. */
async function stop() {
  if (state) {
    const { relay, lane, outbox, log, releaseWarnings } = state
    state = undefined
    const stopped = relay.stop()
    await lane.close().catch((error) => log.warn({ err: error }, 'closing the producer failed'))
    await stopped
    outbox.close()
    releaseWarnings()
  }
  post({ t: 'stopped' })
}

scope.onmessage = (event) => {
  const m = event.data
  if (m.t === 'wake') state?.relay.wake()
  else if (m.t === 'init') {
    try {
      start(m.init)
    } catch (error) {
      post({ t: 'fatal', error: error instanceof Error ? error.message : String(error) })
    }
  } else if (m.t === 'stop')
    stop().catch((error) =>
      post({ t: 'fatal', error: error instanceof Error ? error.message : String(error) })
    )
}
