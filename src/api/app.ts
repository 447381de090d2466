import { HTTPException } from 'hono/http-exception'
import type { GridEvent } from '@/canonical'
import { DomainError } from '@/lib'
import type { Logger, ReadinessReport, SourceStatus } from '@/observability'
import type { Queries } from '@/projection/queries'
import { type AuthConfig, authenticate } from './auth'
import { dlqRouter } from './dlq/dlq.router'
import { docsRouter } from './docs/docs'
import { generationRouter } from './generation/generation.router'
import { healthRouter, type Liveness } from './health/health.router'
import { marketRouter } from './market/market.router'
import { correlationId, jsonBodyGuard, requestLog } from './middleware'
import { type ProblemCode, type ProblemStatus, problem } from './problem'
import { createRouter } from './router'
import { sourcesRouter } from './sources/sources.router'
import { statsRouter } from './stats/stats.router'
import { weatherRouter } from './weather/weather.router'

export interface ApiDeps {
  readonly queries: Queries
  readonly publish: (events: readonly GridEvent[]) => Promise<void>
  readonly readiness: () => Promise<ReadinessReport>
  /** Whether restarting the process could fix something (`/health`); absent = always alive. */
  readonly liveness?: () => Liveness
  readonly log: Logger
  readonly version: string
  readonly now?: () => number
  /** Largest accepted request body, bytes. */
  readonly maxBodyBytes?: number
  readonly generateId?: () => string
  readonly observeRequest?: (route: string, method: string, status: number, seconds: number) => void
  readonly auth?: AuthConfig
  /** The pollers' live status (empty on a node that does not poll). */
  readonly sources?: () => readonly SourceStatus[]
  /** Prometheus exposition for `/metrics`; absent = no metrics route. */
  readonly metrics?: { readonly contentType: string; readonly render: () => Promise<string> }
}

export const OPENAPI_INFO: Parameters<GridPulseApi['getOpenAPI31Document']>[0] = {
  openapi: '3.1.0',
  info: {
    title: 'GridPulse API',
    version: '1.0.0',
    description:
      'Australian NEM market data (AEMO NEMWeb dispatch prices, demand and generation by fuel) and Open-Meteo weather, ' +
      'normalised to one canonical model. Times are ISO-8601 UTC; NEM market time is UTC+10 without daylight saving. ' +
      'Errors are RFC 9457 problem+json. Every response carries X-Correlation-ID.',
  },
  servers: [{ url: 'http://localhost:8080', description: 'GridPulse (direct)' }],
  security: [{ ApiKey: [] }],
  tags: [
    { name: 'Market', description: 'AEMO NEM dispatch data' },
    { name: 'Weather', description: 'Open-Meteo observations at region centres' },
    { name: 'Stats', description: 'Projection statistics' },
    { name: 'Operations', description: 'Health and readiness' },
  ],
}

/**
 * The HTTP API as a pure factory: no ports opened, no environment read. `main.ts` hands `fetch`
 * to `Bun.serve`; tests call `app.request()` directly.
 */
export function createApi(deps: ApiDeps) {
  const now = deps.now ?? Date.now
  const log = deps.log.child({ component: 'api' })
  const app = createRouter()

  app.use('*', correlationId(deps.generateId))
  app.use('*', requestLog(log, deps.observeRequest))
  app.use('/api/*', authenticate(deps.auth ?? { mode: 'none' }, now))
  app.use('/api/*', jsonBodyGuard(deps.maxBodyBytes ?? 64 * 1024))
  app.openAPIRegistry.registerComponent('securitySchemes', 'ApiKey', {
    type: 'apiKey',
    in: 'header',
    name: 'apikey',
    description:
      'A per-team key (`gpk_…`). Behind Kong, Kong checks it; standalone, GridPulse does.',
  })

  app.route(
    '/',
    healthRouter({
      version: deps.version,
      readiness: deps.readiness,
      liveness: deps.liveness ?? (() => ({ alive: true })),
    })
  )
  app.route('/', marketRouter({ queries: deps.queries, publish: deps.publish, now }))
  app.route('/', weatherRouter({ queries: deps.queries }))
  app.route('/', statsRouter({ queries: deps.queries }))
  app.route('/', generationRouter({ queries: deps.queries }))
  app.route('/', dlqRouter({ queries: deps.queries, publish: deps.publish }))
  app.route('/', sourcesRouter({ queries: deps.queries, sources: deps.sources ?? (() => []), now }))
  app.route('/', docsRouter())

  app.doc31('/openapi.json', OPENAPI_INFO)
  const metrics = deps.metrics
  if (metrics) {
    app.get('/metrics', async (c) =>
      c.body(await metrics.render(), 200, { 'Content-Type': metrics.contentType })
    )
  }

  app.notFound((c) => problem(c, 404, 'not_found', `no route for ${c.req.method} ${c.req.path}`))
  app.onError((error, c) => {
    if (error instanceof DomainError) {
      // A retryable refusal (the outbox is full) tells the client when to come back.
      if (error.retryable && error.status === 503) c.header('Retry-After', '30')
      return problem(c, error.status as ProblemStatus, error.code as ProblemCode, error.message)
    }
    if (error instanceof HTTPException) {
      // Hono's validator throws 400 for bodies that are not JSON.
      const code: ProblemCode =
        error.status === 400
          ? 'malformed_json'
          : error.status === 413
            ? 'payload_too_large'
            : 'validation_failed'
      const status = (
        [400, 401, 403, 404, 413, 415, 429].includes(error.status) ? error.status : 400
      ) as ProblemStatus
      return problem(c, status, code, error.message)
    }
    log.error({ err: error, correlation_id: c.get('correlationId') }, 'unhandled error')
    return problem(
      c,
      500,
      'internal',
      'an internal error occurred; quote the correlation id when reporting it'
    )
  })
  return app
}

export type GridPulseApi = ReturnType<typeof createApi>

/** The OpenAPI 3.1 document of the shipped code (what `gridpulse openapi` prints). */
export const openApiDocument = (app: GridPulseApi) => app.getOpenAPI31Document(OPENAPI_INFO)
