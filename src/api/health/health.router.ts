import type { ReadinessReport } from '@/observability'
import { problemBody } from '../problem'
import { createRouter } from '../router'
import { getHealth, getReady } from './health.routes'

export const healthRouter = (deps: {
  version: string
  readiness: () => Promise<ReadinessReport>
}) =>
  createRouter()
    .openapi(getHealth, (c) => c.json({ status: 'ok' as const, version: deps.version }, 200))
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
