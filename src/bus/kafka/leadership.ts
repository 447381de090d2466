import type { Consumer, Kafka } from 'kafkajs'
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
  const role = createRole(options)
  let stopped = false
  const supervisor = supervise({
    name: 'leadership',
    log: options.log,
    registry: options.loops,
    run: (signal, up) => runMember(options, role, signal, up),
  })
  return {
    isLeader: () =>
      role.assigned() && !stopped && options.now() - role.lastBeat() < options.sessionTimeoutMs,
    async stop() {
      stopped = true
      await supervisor.stop()
    },
  }
}

/** What this node knows of its role: partition 0 assigned or not, and when the coordinator last answered. */
interface Role {
  assigned(): boolean
  lastBeat(): number
  /** Takes or drops the role; logs and reports only a change. */
  set(value: boolean, why: string): void
  /** The group coordinator answered (a join or a heartbeat). */
  beat(): void
}

function createRole(options: LeadershipOptions): Role {
  let assigned = false
  let lastBeat = 0
  return {
    assigned: () => assigned,
    lastBeat: () => lastBeat,
    set(value, why) {
      if (value === assigned) return
      assigned = value
      options.log.info(
        { leader: value, reason: why },
        value
          ? 'this node is now the leader (polls the sources)'
          : 'this node is no longer the leader'
      )
      options.onChange?.(value)
    },
    beat() {
      lastBeat = options.now()
      options.onContact?.()
    },
  }
}

/** One group member's life, restarted by the supervisor whatever ends it. */
async function runMember(
  options: LeadershipOptions,
  role: Role,
  signal: AbortSignal,
  up: () => void
): Promise<void> {
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
  const death = followRole(c, options.topic, role, up)
  try {
    await c.connect()
    await c.subscribe({ topics: [options.topic], fromBeginning: false })
    c.run({ autoCommit: false, eachBatch: async () => {} }).catch(death.died)
    await Promise.race([death.settled, stopping])
  } finally {
    role.set(false, signal.aborted ? 'stopping' : 'leaving the group to rejoin')
    // Leaving the group hands the role over at once instead of after a session timeout.
    await c.disconnect().catch(() => {})
  }
}

/**
 * Maps the member's group events onto the role. `settled` rejects when the member died in a way
 * kafkajs will not recover from (or `died` is called).
 */
function followRole(c: Consumer, topic: string, role: Role, up: () => void) {
  let died!: (error: unknown) => void
  const settled = new Promise<void>((_, reject) => {
    died = reject
  })
  settled.catch(() => {})
  const { GROUP_JOIN, HEARTBEAT, REBALANCING, CRASH, STOP, DISCONNECT } = c.events
  c.on(GROUP_JOIN, ({ payload }) => {
    role.beat()
    up()
    role.set((payload.memberAssignment[topic] ?? []).includes(0), 'group joined')
  })
  c.on(HEARTBEAT, () => role.beat())
  c.on(REBALANCING, () => role.set(false, 'group rebalancing'))
  c.on(STOP, () => role.set(false, 'stopped'))
  c.on(DISCONNECT, () => role.set(false, 'disconnected'))
  c.on(CRASH, ({ payload }) => {
    role.set(false, 'consumer crashed')
    if (!payload.restart) died(payload.error)
  })
  return { settled, died }
}
