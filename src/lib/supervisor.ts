import { backoffMs } from './retry'
import { sleep } from './time'

/** The slice of a pino logger a supervisor uses (lib depends on nothing, so it names it here). */
export interface SupervisorLog {
  child(bindings: Record<string, unknown>): SupervisorLog
  debug(fields: object, message: string): void
  info(fields: object, message: string): void
  warn(fields: object, message: string): void
}

export type LoopState = 'starting' | 'running' | 'restarting' | 'stopped'

/** What liveness, readiness and `/metrics` see of one supervised loop. */
export interface LoopStatus {
  readonly name: string
  /** A critical loop that stays down fails liveness (`/health`), so the orchestrator restarts the node. */
  readonly critical: boolean
  readonly state: LoopState
  /** When the loop entered its current state, epoch ms. */
  readonly since: number
  /**
   * Since when the loop has not been running, epoch ms (its start, until it first comes up); null
   * while it runs. Unlike `since` it survives the starting ↔ restarting flips of a crash loop.
   */
  readonly downSince: number | null
  readonly restarts: number
  readonly lastError: string | null
}

/** Every supervised loop of a process: one list for `/health`, `/ready` and `/metrics`. */
export interface LoopRegistry {
  add(status: () => LoopStatus): void
  list(): LoopStatus[]
}

export function createLoopRegistry(): LoopRegistry {
  const loops: (() => LoopStatus)[] = []
  return {
    add: (status) => {
      loops.push(status)
    },
    list: () => loops.map((s) => s()),
  }
}

export interface SuperviseOptions {
  readonly name: string
  readonly log: SupervisorLog
  readonly registry?: LoopRegistry
  readonly critical?: boolean
  /**
   * Runs the loop once. It calls `up()` when the loop is doing its work (a consumer joined its
   * group), and settles when the loop has died, for any reason: resolving or rejecting both mean
   * "restart me". `signal` aborts when the supervisor stops; the run must then wind down.
   */
  readonly run: (signal: AbortSignal, up: () => void) => Promise<void>
  /** Restart backoff: full jitter between 0 and min(cap, base·2^n), plus `minMs`. */
  readonly baseMs?: number
  readonly capMs?: number
  readonly minMs?: number
  /** A loop that stayed up this long starts its next failure series from the first backoff step. */
  readonly healthyAfterMs?: number
  readonly now?: () => number
  readonly random?: () => number
}

export interface Supervisor {
  status(): LoopStatus
  stop(): Promise<void>
}

/**
 * Keeps one long-running loop alive forever (Erlang's one-for-one "permanent" child, without a
 * restart intensity limit: an edge node must outlast any outage). Whatever ends the loop — a
 * retriable error, a non-retriable one (kafkajs's "will not restart"), or a plain return — it is
 * started again after a capped exponential backoff with full jitter.
 *
 * Logs one line per state change, not per attempt: `warn` when a running loop goes down, `info`
 * when it is back up (with how many restarts it took); attempts in between log at debug, so a
 * broker that stays down for a day does not fill the disk.
 */
export function supervise(options: SuperviseOptions): Supervisor {
  const now = options.now ?? Date.now
  const abort = new AbortController()
  const tracker = createLoopTracker(options, now)
  options.registry?.add(tracker.status)

  const done = (async () => {
    while (!abort.signal.aborted) {
      tracker.starting()
      let upAt: number | undefined
      const up = () => {
        if (abort.signal.aborted || upAt !== undefined) return
        upAt = now()
        tracker.up(upAt)
      }
      let error: unknown
      try {
        await options.run(abort.signal, up)
      } catch (e) {
        error = e
      }
      if (abort.signal.aborted) break
      await sleep(tracker.down(error, upAt), abort.signal)
    }
    tracker.stopped()
  })()

  return {
    status: tracker.status,
    async stop() {
      abort.abort()
      await done
    },
  }
}

/**
 * One supervised loop's bookkeeping: its state as `/health` and `/metrics` see it, the log line of
 * each state change, and the backoff before the next start.
 */
function createLoopTracker(options: SuperviseOptions, now: () => number) {
  const baseMs = options.baseMs ?? 500
  const capMs = options.capMs ?? 30_000
  const minMs = options.minMs ?? 100
  const healthyAfterMs = options.healthyAfterMs ?? 60_000
  const log = options.log.child({ loop: options.name })
  let state: LoopState = 'starting'
  let since = now()
  let downSince: number | null = since
  let restarts = 0
  let lastError: string | null = null
  /** Failed attempts since the loop was last up long enough to count as healthy. */
  let attempt = 0
  /** The loop went down and has not been up since: its recovery is worth a log line. */
  let down = false

  const enter = (next: LoopState) => {
    if (state !== next) since = now()
    state = next
  }
  return {
    status: (): LoopStatus => ({
      name: options.name,
      critical: options.critical ?? false,
      state,
      since,
      downSince,
      restarts,
      lastError,
    }),
    starting: () => enter('starting'),
    stopped: () => enter('stopped'),
    /** The run called `up()` at `upAt`. */
    up(upAt: number) {
      // Down from the first failure of this outage, across its restart flips.
      const downMs = upAt - (downSince ?? upAt)
      enter('running')
      downSince = null
      if (down) log.info({ restarts, down_ms: downMs }, `${options.name} is running again`)
      down = false
      lastError = null
    },
    /** The run settled (with `error`, or undefined for a plain return): the backoff before the next, ms. */
    down(error: unknown, upAt: number | undefined): number {
      downSince ??= now()
      if (upAt !== undefined && now() - upAt >= healthyAfterMs) attempt = 0
      attempt++
      restarts++
      lastError = describeEnd(error)
      const retryInMs = minMs + backoffMs(attempt, baseMs, capMs, options.random)
      const fields = { err: error, restarts, retry_in_ms: retryInMs }
      if (!down) log.warn(fields, `${options.name} stopped; restarting it`)
      else log.debug(fields, `${options.name} is still down; restarting it`)
      down = true
      enter('restarting')
      return retryInMs
    },
  }
}

const describeEnd = (error: unknown): string =>
  error === undefined ? 'the loop ended' : error instanceof Error ? error.message : String(error)

/**
 * Liveness of a set of loops: the critical loops that have been down for longer than `stallMs`.
 * Empty means alive. Restarting the process is the last resort, for a loop that its supervisor
 * could not bring back (e.g. a wedged client library); the caller decides whether a restart could
 * help at all (restarting the node while Kafka itself is down would only stop it serving reads).
 */
export function stalledLoops(
  loops: readonly LoopStatus[],
  stallMs: number,
  now: number,
  /** Downtime before this moment does not count (e.g. before Kafka answered again). */
  countFrom = Number.NEGATIVE_INFINITY
): LoopStatus[] {
  return loops.filter(
    (l) =>
      l.critical &&
      l.downSince !== null &&
      l.state !== 'stopped' &&
      now - Math.max(l.downSince, countFrom) > stallMs
  )
}
