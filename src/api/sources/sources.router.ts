import type { SourceStatus } from '@/observability'
import type { Queries } from '@/projection/queries'
import { createRouter } from '../router'
import { listSources } from './sources.routes'

const GAP_WINDOW_MS = 48 * 3600 * 1000 // NEMWeb Current keeps about 48 hours
// An interval's files are on NEMWeb within a few minutes of its end; later than this, it is missing.
const PUBLICATION_GRACE_MS = 10 * 60 * 1000

export const sourcesRouter = (deps: {
  queries: Queries
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
      const gaps =
        source === 'aemo.dispatchis' || source === 'aemo.dispatch_scada'
          ? deps.queries.gaps(source, now - GAP_WINDOW_MS, now - PUBLICATION_GRACE_MS)
          : []
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
        gaps,
      }
    })
    return c.json({ data, correlation_id: c.get('correlationId') }, 200)
  })
