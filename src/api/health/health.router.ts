import type { ReadinessReport } from '@/observability'
import { problemBody } from '../problem'
import { createRouter } from '../router'
import { getHealth, getReady } from './health.routes'

/** Liveness: `alive: false` means only a restart of the process can help (a stalled loop). */
export type Liveness = { readonly alive: true } | { readonly alive: false; readonly detail: string }

export const healthRouter = (deps: {
  version: string
  readiness: () => Promise<ReadinessReport>
  liveness: () => Liveness
  /** Rows per stream (recounted only after a projection commit: cheap enough for every probe). */
  totals: () => Record<string, number>
}) =>
  createRouter()
    .openapi(getHealth, (c) => {
      const live = deps.liveness()
      if (live.alive) {
        const totals = deps.totals()
        // The seed API's body (status "healthy", service, cache_stats), plus the version.
        return c.json(
          {
            status: 'healthy' as const,
            service: 'gridpulse-api' as const,
            version: deps.version,
            timestamp: new Date().toISOString(),
            cache_stats: {
              dispatch_events: totals.dispatch ?? 0,
              weather_events: totals.weather ?? 0,
            },
          },
          200
        )
      }
      return c.json(problemBody(c, 503, 'stalled', live.detail), 503, {
        'Content-Type': 'application/problem+json',
      })
    })
    .openapi(getReady, async (c) => {
      const report = await deps.readiness()
      if (report.ready)
        return c.json(
          {
            status: 'ready' as const,
            checks: report.checks as Record<
              string,
              { ok: boolean; required: boolean; detail?: string }
            >,
          },
          200
        )
      const failing = Object.entries(report.checks)
        .filter(([, r]) => r.required && !r.ok)
        .map(([name, r]) => `${name}: ${r.detail ?? 'failing'}`)
      // problem+json, with the full report so an operator sees every check at once.
      return c.json(
        {
          ...problemBody(c, 503, 'upstream_unavailable', failing.join('; ')),
          checks: report.checks,
        },
        503,
        {
          'Content-Type': 'application/problem+json',
          'Retry-After': '5',
        }
      )
    })
