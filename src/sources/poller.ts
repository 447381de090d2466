import type { DeadLetter, GridEvent } from '@/canonical'
import { backoffMs, sleep } from '@/lib'
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

export interface Poller {
  /** Runs until the signal aborts; never throws: a failing cycle is logged, counted and retried. */
  run(signal: AbortSignal): Promise<void>
  /** Runs the next cycle now instead of after the wait (this node just became the leader). */
  wake(): void
}

/**
 * A generic interval loop: run one cycle, record the outcome on the source's status, wait. After a
 * failure the next attempt backs off (with jitter) instead of waiting a whole period, capped at it.
 */
export function createPoller(options: {
  readonly status: SourceStatus
  readonly everyMs: number
  readonly log: Logger
  readonly cycle: (signal: AbortSignal) => Promise<CycleResult>
  readonly now?: () => number
}): Poller {
  const { status, log } = options
  const now = options.now ?? Date.now
  // A wake during a cycle must not be lost: it cuts the wait after that cycle.
  let woken = false
  let interrupt = () => {}
  const pause = (ms: number, signal: AbortSignal) => {
    if (woken) {
      woken = false
      return Promise.resolve()
    }
    const early = new AbortController()
    interrupt = () => early.abort()
    return sleep(ms, AbortSignal.any([signal, early.signal])).finally(() => {
      interrupt = () => {}
      woken = false
    })
  }
  return {
    wake() {
      woken = true
      interrupt()
    },
    async run(signal) {
      while (!signal.aborted) {
        let wait = options.everyMs
        try {
          const attemptAt = now()
          const result = await options.cycle(signal)
          if (result.skipped) {
            await pause(wait, signal)
            continue
          }
          status.lastAttemptAt = attemptAt
          status.lastSuccessAt = now()
          status.consecutiveFailures = 0
          status.lastError = null
          if (result.lastItem) status.lastItem = result.lastItem
          if (result.lastDataAt !== undefined)
            status.lastDataAt = Math.max(status.lastDataAt ?? 0, result.lastDataAt)
          if (result.more) wait = 0
          if (result.events > 0 || result.rejected > 0) {
            log.info(
              { events: result.events, rejected: result.rejected, item: result.lastItem },
              'poll cycle done'
            )
          }
        } catch (error) {
          status.lastAttemptAt = now()
          status.consecutiveFailures++
          status.lastError = error instanceof Error ? error.message : String(error)
          wait = Math.min(
            options.everyMs,
            1000 + backoffMs(status.consecutiveFailures, 2_000, options.everyMs)
          )
          log.warn(
            { error: status.lastError, failures: status.consecutiveFailures, retry_in_ms: wait },
            'poll cycle failed'
          )
        }
        await pause(wait, signal)
      }
    },
  }
}
