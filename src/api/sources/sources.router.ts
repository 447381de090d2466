import { toUtcIso } from '@/lib'
import type { SourceStatus } from '@/observability'
import { type ReadPort, SOURCE_CADENCE_MS } from '@/projection/read-port'
import { createRouter } from '../router'
import { listSources } from './sources.routes'

const GAP_WINDOW_MS = 48 * 3600 * 1000 // NEMWeb Current keeps about 48 hours
// An interval's files are on NEMWeb within a few minutes of its end; later than this, it is missing.
// Rooftop PV comes ~20 minutes after its half hour ends (MEASUREMENT ~19, SATELLITE ~20 in the
// LASTCHANGED of the April 2026 archive).
const PUBLICATION_GRACE_MS: Record<keyof typeof SOURCE_CADENCE_MS, number> = {
  'aemo.dispatchis': 10 * 60 * 1000,
  'aemo.dispatch_scada': 10 * 60 * 1000,
  'aemo.rooftop_pv': 45 * 60 * 1000,
}
const hasCadence = (source: string): source is keyof typeof SOURCE_CADENCE_MS =>
  Object.hasOwn(SOURCE_CADENCE_MS, source)

export const sourcesRouter = (deps: {
  queries: Pick<ReadPort, 'stats' | 'gaps'>
  sources: () => readonly SourceStatus[]
  now: () => number
}) =>
  createRouter().openapi(listSources, (c) => {
    const now = deps.now()
    const newest = new Map(deps.queries.stats().sources.map((s) => [s.source, s.newest_interval]))
    const known = new Map(deps.sources().map((s) => [s.source, s]))
    const names = [...new Set([...known.keys(), ...newest.keys()])]
      .filter((s) => s !== 'api')
      .sort()
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())
    const data = names.map((source) => {
      const status = known.get(source)
      const lastInterval = newest.get(source) ?? null
      const down = status?.downSince != null
      const report = hasCadence(source)
        ? deps.queries.gaps(source, now - GAP_WINDOW_MS, now - PUBLICATION_GRACE_MS[source], {
            openSinceMs: status?.registeredAt,
            down,
          })
        : {
            missing: [],
            // No cadence to count against: a down source is one open span since its newest
            // observation, or since start when it has none.
            ranges:
              down && status
                ? [
                    {
                      from: toUtcIso(lastInterval ? Date.parse(lastInterval) : status.registeredAt),
                      to: null,
                      intervals: null,
                    },
                  ]
                : [],
          }
      return {
        source,
        last_file: status?.lastItem ?? null,
        last_interval: lastInterval,
        age_seconds: lastInterval ? Math.round((now - Date.parse(lastInterval)) / 1000) : null,
        last_success_at: iso(status?.lastSuccessAt ?? null),
        last_attempt_at: iso(status?.lastAttemptAt ?? null),
        consecutive_failures: status?.consecutiveFailures ?? 0,
        last_error: status?.lastError ?? null,
        polling: status?.lastAttemptAt != null,
        gaps: report.missing,
        status: down
          ? ('down' as const)
          : status?.lastSuccessAt != null
            ? ('up' as const)
            : ('unknown' as const),
        down_since: iso(status?.downSince ?? null),
        last_failure_reason: status?.lastFailureReason ?? null,
        failures_total: status ? Object.values(status.failures).reduce((a, b) => a + b, 0) : 0,
        gap_ranges: report.ranges,
      }
    })
    return c.json({ data, correlation_id: c.get('correlationId') }, 200)
  })
