import type { Consumer, Kafka } from 'kafkajs'
import { backoffMs, sleep } from '@/lib'
import type { Logger } from '@/observability'

export interface LeadershipOptions {
  readonly kafka: Kafka
  /** Physical names. */
  readonly groupId: string
  readonly topic: string
  readonly log: Logger
  /** How long a dead leader keeps the role before the group coordinator gives it to another node. */
  readonly sessionTimeoutMs: number
  readonly heartbeatIntervalMs: number
  readonly now: () => number
  /** Called on every change of role (true: this node just became the leader). */
  readonly onChange?: (leader: boolean) => void
  /** Any successful exchange with the group coordinator. */
  readonly onContact?: () => void
}

export interface Leadership {
  isLeader(): boolean
  stop(): Promise<void>
}

/**
 * Leader election through a Kafka consumer group: every node joins `gridpulse.leader` on the
 * one-partition `gridpulse.leadership` topic, and the member the group assigns partition 0 to is
 * the leader. Kafka's group protocol does the rest: when the leader leaves (shutdown) the group
 * rebalances at once; when it dies (SIGKILL, network partition) the coordinator evicts it after
 * the session timeout and assigns the partition to a live member.
 *
 * A leader that stops hearing from the coordinator for a session timeout steps down on its own
 * (it may already have been replaced), so two nodes poll at the same time only briefly, and even
 * then the deterministic event ids make the duplicate harmless.
 */
export function createLeadership(options: LeadershipOptions): Leadership {
  const { log, now } = options
  let assigned = false
  let lastBeat = 0
  let stopped = false
  let consumer: Consumer | undefined
  const abort = new AbortController()

  const set = (value: boolean, why: string) => {
    if (value === assigned) return
    assigned = value
    log.info(
      { leader: value, reason: why },
      value
        ? 'this node is now the leader (polls the sources)'
        : 'this node is no longer the leader'
    )
    options.onChange?.(value)
  }

  async function start() {
    let attempt = 0
    while (!stopped) {
      const c = options.kafka.consumer({
        groupId: options.groupId,
        sessionTimeout: options.sessionTimeoutMs,
        heartbeatInterval: options.heartbeatIntervalMs,
        rebalanceTimeout: Math.max(options.sessionTimeoutMs, 10_000),
        // The fetch loop is what heartbeats: keep it short on this idle topic.
        maxWaitTimeInMs: Math.min(1_000, options.heartbeatIntervalMs),
        allowAutoTopicCreation: false,
        retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 5_000 },
      })
      const { GROUP_JOIN, HEARTBEAT, REBALANCING, CRASH, STOP, DISCONNECT } = c.events
      c.on(GROUP_JOIN, ({ payload }) => {
        lastBeat = now()
        options.onContact?.()
        set((payload.memberAssignment[options.topic] ?? []).includes(0), 'group joined')
      })
      c.on(HEARTBEAT, () => {
        lastBeat = now()
        options.onContact?.()
      })
      c.on(REBALANCING, () => set(false, 'group rebalancing'))
      c.on(STOP, () => set(false, 'stopped'))
      c.on(DISCONNECT, () => set(false, 'disconnected'))
      c.on(CRASH, ({ payload }) => {
        set(false, 'consumer crashed')
        if (!payload.restart)
          log.error(
            { err: payload.error },
            'leadership consumer crashed for good; this node will not lead'
          )
      })
      try {
        await c.connect()
        await c.subscribe({ topics: [options.topic], fromBeginning: false })
        await c.run({ autoCommit: false, eachBatch: async () => {} })
        consumer = c
        if (stopped) await c.disconnect()
        return
      } catch (error) {
        attempt++
        const retryInMs = 500 + backoffMs(attempt, 500, 10_000)
        log.warn(
          { err: error, retry_in_ms: retryInMs },
          'joining the leadership group failed; will retry'
        )
        await c.disconnect().catch(() => {})
        await sleep(retryInMs, abort.signal)
      }
    }
  }
  const started = start()

  return {
    isLeader: () => assigned && !stopped && now() - lastBeat < options.sessionTimeoutMs,
    async stop() {
      stopped = true
      abort.abort()
      set(false, 'stopping')
      await started
      // Leaving the group hands the role over at once instead of after a session timeout.
      await consumer?.disconnect()
    },
  }
}
