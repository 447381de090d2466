import { SOURCE_FAILURE_REASONS, type SourceFailureReason } from '@/lib'

/**
 * Freshness of each upstream source, shared by the pollers (writers) and `/ready`, `/metrics` and
 * `/api/v1/sources` (readers). Framework-free on purpose. Times are epoch ms.
 */
export interface SourceStatus {
  readonly source: string
  /** When this node registered the source (its start), so "down since start" can be told. */
  readonly registeredAt: number
  lastAttemptAt: number | null
  lastSuccessAt: number | null
  lastError: string | null
  consecutiveFailures: number
  /** Start of the first failed attempt of the outage going on; null while the source is up. */
  downSince: number | null
  lastFailureReason: SourceFailureReason | null
  /** Failed polls since start by reason: monotonic, the source of gridpulse_source_failures_total. */
  readonly failures: Record<SourceFailureReason, number>
  /** Newest upstream item (file name, response time) ingested. */
  lastItem: string | null
  /** Newest interval / observation time ingested, epoch ms. */
  lastDataAt: number | null
  /** How often the source is expected to succeed, ms; freshness is judged against it. */
  expectedEveryMs: number
}

export interface SourceRegistry {
  register(source: string, expectedEveryMs: number): SourceStatus
  list(): readonly SourceStatus[]
}

export function createSourceRegistry(options: { now?: () => number } = {}): SourceRegistry {
  const now = options.now ?? Date.now
  const sources = new Map<string, SourceStatus>()
  return {
    register(source, expectedEveryMs) {
      const status: SourceStatus = {
        source,
        registeredAt: now(),
        lastAttemptAt: null,
        lastSuccessAt: null,
        lastError: null,
        consecutiveFailures: 0,
        downSince: null,
        lastFailureReason: null,
        failures: Object.fromEntries(SOURCE_FAILURE_REASONS.map((r) => [r, 0])) as Record<
          SourceFailureReason,
          number
        >,
        lastItem: null,
        lastDataAt: null,
        expectedEveryMs,
      }
      sources.set(source, status)
      return status
    },
    list: () => [...sources.values()],
  }
}

/** A source is fresh while its last success is within three of its expected periods. */
export const isFresh = (s: SourceStatus, now: number): boolean =>
  s.lastSuccessAt !== null && now - s.lastSuccessAt <= 3 * s.expectedEveryMs

/**
 * `/ready`'s informational sources check: an edge node without internet keeps serving what it
 * has, so a stale source is reported, never required.
 */
export function sourcesCheck(statuses: readonly SourceStatus[], now: number = Date.now()) {
  const sources = statuses.map((s) => ({
    source: s.source,
    fresh: isFresh(s, now),
    last_success_at: s.lastSuccessAt === null ? null : new Date(s.lastSuccessAt).toISOString(),
    consecutive_failures: s.consecutiveFailures,
    last_error: s.lastError,
  }))
  return { ok: sources.every((s) => s.fresh), sources }
}
