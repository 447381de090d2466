import type { Kafka } from 'kafkajs'
import { type LoopRegistry, supervise } from '@/lib'
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
  /** Resolves once the topics exist; the group is joined after it. */
  readonly ready: Promise<void>
  readonly loops?: LoopRegistry
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

  // One group member's life, restarted by the supervisor whatever ends it.
  async function runOnce(signal: AbortSignal, up: () => void) {
    const stopping = new Promise<void>((resolve) =>
      signal.addEventListener('abort', () => resolve(), { once: true })
    )
    await Promise.race([options.ready, stopping])
    if (signal.aborted) return
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
    let died!: (error: unknown) => void
    const death = new Promise<void>((_, reject) => {
      died = reject
    })
    death.catch(() => {})
    const { GROUP_JOIN, HEARTBEAT, REBALANCING, CRASH, STOP, DISCONNECT } = c.events
    c.on(GROUP_JOIN, ({ payload }) => {
      lastBeat = now()
      options.onContact?.()
      up()
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
      if (!payload.restart) died(payload.error)
    })
    try {
      await c.connect()
      await c.subscribe({ topics: [options.topic], fromBeginning: false })
      c.run({ autoCommit: false, eachBatch: async () => {} }).catch(died)
      await Promise.race([death, stopping])
    } finally {
      set(false, signal.aborted ? 'stopping' : 'leaving the group to rejoin')
      // Leaving the group hands the role over at once instead of after a session timeout.
      await c.disconnect().catch(() => {})
    }
  }

  const supervisor = supervise({
    name: 'leadership',
    log,
    registry: options.loops,
    run: runOnce,
  })

  return {
    isLeader: () => assigned && !stopped && now() - lastBeat < options.sessionTimeoutMs,
    async stop() {
      stopped = true
      await supervisor.stop()
    },
  }
}
