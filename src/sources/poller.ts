import type { DeadLetter, GridEvent } from '@/canonical'
import { classifySourceFailure, sleep } from '@/lib'
import type { Logger, SourceStatus } from '@/observability'

/** Where a source hands what it produced. The event bus satisfies it structurally. */
export interface Sink {
  publish(
    events: readonly GridEvent[],
    options?: { checkpoint?: { source: string; cursor: string } }
  ): Promise<void>
  deadLetter(
    records: readonly DeadLetter[],
    options?: { checkpoint?: { source: string; cursor: string } }
  ): Promise<void>
  readSourceCheckpoint(source: string): Promise<string | undefined>
}

export interface CycleResult {
  readonly events: number
  readonly rejected: number
  /** Newest upstream item handled (file name or response stamp) and its data time, epoch ms. */
  readonly lastItem?: string
  readonly lastDataAt?: number
  /** More work is already waiting (a catch-up backlog): run the next cycle right away. */
  readonly more?: boolean
  /** Nothing was attempted (a node that is not the leader): not a success to report. */
  readonly skipped?: boolean
}

/** What the poller tells a cycle about the source's state. */
export interface CycleContext {
  /**
   * The source is down: this poll is a probe, so one request attempt is enough (the poller's
   * backoff spaces the probes; in-cycle retries are for blips of a source that is up).
   */
  readonly probe: boolean
}

export interface Poller {
  /** Runs until the signal aborts; never throws: a failing cycle is logged, counted and retried. */
  run(signal: AbortSignal): Promise<void>
  /** Runs the next cycle now instead of after the wait (this node just became the leader). */
  wake(): void
}

/** How a failing source is retried and reported. Defaults: 2 s doubling to 5 min; remind every 10 min. */
export interface OutagePolicy {
  /** Delay after the first failed poll, ms; it doubles with each further failure… */
  readonly backoffInitialMs?: number
  /** …up to this cap, ms. The normal period resumes after a success. */
  readonly backoffMaxMs?: number
  /** While a source stays down, one "still down" warning per this many ms (none in between). */
  readonly logEveryMs?: number
}

export const OUTAGE_DEFAULTS = {
  backoffInitialMs: 2_000,
  backoffMaxMs: 5 * 60_000,
  logEveryMs: 10 * 60_000,
} as const satisfies Required<OutagePolicy>

/**
 * Delay before the next poll after `failures` consecutive failed polls (≥ 1): capped exponential
 * with "equal jitter" (half fixed, half random), so the spacing really grows while nodes that
 * failed together still spread out. Always within [ceiling / 2, ceiling].
 */
export function failureDelayMs(
  failures: number,
  policy: { backoffInitialMs: number; backoffMaxMs: number },
  random: () => number = Math.random
): number {
  const ceiling = Math.min(
    policy.backoffMaxMs,
    policy.backoffInitialMs * 2 ** Math.min(Math.max(failures - 1, 0), 40)
  )
  return Math.round(ceiling / 2 + (random() * ceiling) / 2)
}

const iso = (ms: number) => new Date(ms).toISOString()

/**
 * A generic interval loop: run one cycle, record the outcome on the source's status, wait. After a
 * failure the next poll backs off (capped exponential with jitter) and the source counts as down:
 * that is logged once with the reason, then at most once per `logEveryMs` while it lasts, and
 * once more when a poll succeeds again (with the outage's length and failure count). Every single
 * failure is still counted in the status (and so in gridpulse_source_failures_total) and logged
 * at debug.
 */
export function createPoller(options: {
  readonly status: SourceStatus
  readonly everyMs: number
  readonly log: Logger
  readonly cycle: (signal: AbortSignal, context: CycleContext) => Promise<CycleResult>
  readonly outage?: OutagePolicy
  readonly now?: () => number
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>
  readonly random?: () => number
}): Poller {
  const { status, log } = options
  const now = options.now ?? Date.now
  const policy = { ...OUTAGE_DEFAULTS, ...definedOnly(options.outage ?? {}) }
  const recordFailure = createFailureRecorder(status, log, policy, now, options.random)
  const { pause, wake } = createWakeablePause(options.sleep ?? sleep)
  return {
    wake,
    async run(signal) {
      while (!signal.aborted) {
        let delay = options.everyMs
        const attemptAt = now()
        try {
          const result = await options.cycle(signal, { probe: status.downSince !== null })
          if (result.skipped) {
            await pause(delay, signal)
            continue
          }
          recordSuccess(status, log, result, attemptAt, now())
          if (result.more) delay = 0
        } catch (error) {
          if (signal.aborted) break // a poll cut short by shutdown is not an outage
          delay = recordFailure(error, attemptAt)
        }
        await pause(delay, signal)
      }
    },
  }
}

/** A sleep that `wake()` cuts short; a wake during a cycle is not lost: it skips the next wait. */
function createWakeablePause(wait: (ms: number, signal: AbortSignal) => Promise<void>) {
  let woken = false
  let interrupt = () => {}
  return {
    pause(ms: number, signal: AbortSignal): Promise<void> {
      if (woken) {
        woken = false
        return Promise.resolve()
      }
      const early = new AbortController()
      interrupt = () => early.abort()
      return wait(ms, AbortSignal.any([signal, early.signal])).finally(() => {
        interrupt = () => {}
        woken = false
      })
    },
    wake() {
      woken = true
      interrupt()
    },
  }
}

/** A successful poll: the status is healthy again (a recovery is logged) and carries the result. */
function recordSuccess(
  status: SourceStatus,
  log: Logger,
  result: CycleResult,
  attemptAt: number,
  at: number
): void {
  status.lastAttemptAt = attemptAt
  status.lastSuccessAt = at
  if (status.downSince !== null) {
    log.info(
      {
        outage_ms: status.lastSuccessAt - status.downSince,
        failures: status.consecutiveFailures,
        down_since: iso(status.downSince),
      },
      'source recovered'
    )
  }
  status.downSince = null
  status.consecutiveFailures = 0
  status.lastError = null
  status.lastFailureReason = null
  if (result.lastItem) status.lastItem = result.lastItem
  if (result.lastDataAt !== undefined)
    status.lastDataAt = Math.max(status.lastDataAt ?? 0, result.lastDataAt)
  if (result.events > 0 || result.rejected > 0) {
    log.info(
      { events: result.events, rejected: result.rejected, item: result.lastItem },
      'poll cycle done'
    )
  }
}

/**
 * Records a failed poll on the status and returns the backoff delay before the next one. The
 * first failure of an outage is logged as "source down", later ones as "source still down" at
 * most once per `logEveryMs`, the rest at debug.
 */
function createFailureRecorder(
  status: SourceStatus,
  log: Logger,
  policy: Required<OutagePolicy>,
  now: () => number,
  random?: () => number
): (error: unknown, attemptAt: number) => number {
  let lastOutageLogAt = 0
  return (error, attemptAt) => {
    const reason = classifySourceFailure(error)
    status.lastAttemptAt = attemptAt
    status.consecutiveFailures++
    status.failures[reason]++
    status.lastFailureReason = reason
    status.lastError = (error instanceof Error ? error.message : String(error)).slice(0, 500)
    const delay = failureDelayMs(status.consecutiveFailures, policy, random)
    const fields = {
      reason,
      error: status.lastError,
      failures: status.consecutiveFailures,
      retry_in_ms: delay,
    }
    const at = now()
    if (status.downSince === null) {
      status.downSince = attemptAt
      lastOutageLogAt = at
      log.warn(fields, 'source down')
    } else if (at - lastOutageLogAt >= policy.logEveryMs) {
      lastOutageLogAt = at
      log.warn({ ...fields, down_since: iso(status.downSince) }, 'source still down')
    } else {
      log.debug(fields, 'poll failed')
    }
    return delay
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
