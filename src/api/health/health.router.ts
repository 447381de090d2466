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
}) =>
  createRouter()
    .openapi(getHealth, (c) => {
      const live = deps.liveness()
      if (live.alive) return c.json({ status: 'ok' as const, version: deps.version }, 200)
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
