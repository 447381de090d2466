import type { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { AlertsPort } from '@/alerts'
import type { GridEvent } from '@/canonical'
import { DomainError } from '@/lib'
import type { Logger, ReadinessReport, SourceStatus } from '@/observability'
import type { ReadPort } from '@/projection/read-port'
import { alertsRouter } from './alerts/alerts.router'
import { type AuthConfig, authenticate } from './auth'
import { authorize } from './authorize'
import { curtailmentStorageRouter } from './curtailment-storage/curtailment-storage.router'
import { dlqRouter } from './dlq/dlq.router'
import { docsRouter } from './docs/docs'
import { fcasRouter } from './fcas/fcas.router'
import { generationRouter } from './generation/generation.router'
import { httpCache } from './http-cache'
import { healthRouter, type Liveness } from './health/health.router'
import { lineageRouter } from './lineage/lineage.router'
import { marketRouter } from './market/market.router'
import { createFastPath } from './fast-path'
import {
  correlationId,
  jsonBodyGuard,
  methodGuard,
  newCorrelationId,
  type RequestTraceSink,
  requestLog,
  requestRecorder,
  securityHeaders,
} from './middleware'
import { accessResponses, type ProblemCode, type ProblemStatus, problem } from './problem'
import { rateLimit, rateLimiter } from './rate-limit'
import { createResponseCache } from './response-cache'
import { rooftopRouter } from './rooftop/rooftop.router'
import { type AppEnv, createRouter } from './router'
import { sourcesRouter } from './sources/sources.router'
import { statsRouter } from './stats/stats.router'
import type { StreamHub } from './stream/hub'
import { streamRouter } from './stream/stream.router'
import { weatherRouter } from './weather/weather.router'

export interface ApiDeps {
  readonly queries: ReadPort
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
  /** Where writes and failed requests are kept for `/api/v1/trace`; absent = not kept. */
  readonly traceRequests?: RequestTraceSink
  readonly auth?: AuthConfig
  /** The pollers' live status (empty on a node that does not poll). */
  readonly sources?: () => readonly SourceStatus[]
  /** Bytes of encoded answers kept between projection commits (RESPONSE_CACHE_MB); 0: none. */
  readonly responseCacheBytes?: number
  /** Prometheus exposition for `/metrics`; absent = no metrics route. */
  readonly metrics?: { readonly contentType: string; readonly render: () => Promise<string> }
  /** The live stream's fan-out (GET /api/v1/stream); absent: the route answers 503. */
  readonly stream?: StreamHub
  /** Alert rules of the calling consumer; absent: the routes exist, no rule can be created. */
  readonly alerts?: AlertsPort
}

/** The alerts of an API without a node behind it (the OpenAPI export, API-only tests). */
const NO_ALERTS: AlertsPort = {
  create: async () => {
    throw new DomainError('webhook_not_allowed', 'alerts are not enabled on this server')
  },
  list: () => [],
  get: () => undefined,
  update: async () => undefined,
  remove: async () => false,
  deliveries: () => undefined,
}

/** RESPONSE_CACHE_MB's default, as bytes: a few hundred 100-row pages with their compressed forms. */
export const DEFAULT_RESPONSE_CACHE_BYTES = 16 * 1024 * 1024

export const OPENAPI_INFO: Parameters<GridPulseApi['getOpenAPI31Document']>[0] = {
  openapi: '3.1.0',
  info: {
    title: 'GridPulse API',
    version: '1.0.0',
    description:
      'Australian NEM market data (AEMO NEMWeb dispatch prices, FCAS prices, demand, curtailment, storage and generation by fuel) and Open-Meteo weather, ' +
      'normalised to one canonical model. Times are ISO-8601 UTC; NEM market time is UTC+10 without daylight saving. ' +
      'Units are in the field names and descriptions: energy prices AUD/MWh, FCAS prices AUD/MW/h, power MW, stored energy MWh. ' +
      'Errors are RFC 9457 problem+json. Every response carries X-Correlation-ID.',
  },
  // Relative: /docs "Try it" and other clients call whatever host and port served the document
  // (a node on any port, a load balancer, or Kong, which serves its own copy with its paths).
  servers: [{ url: '/', description: 'The server that served this document' }],
  security: [{ ApiKey: [] }],
  tags: [
    { name: 'Market', description: 'AEMO NEM dispatch data' },
    { name: 'Weather', description: 'Open-Meteo observations at region centres' },
    { name: 'Stats', description: 'Projection statistics' },
    { name: 'Operations', description: 'Health and readiness' },
    {
      name: 'Alerts',
      description:
        "A consumer's own alert rules, delivered on the live stream and by signed webhooks",
    },
  ],
}

type Router = ReturnType<typeof createRouter>

/**
 * Every resource, in the order the OpenAPI document lists them: a new resource is one line here.
 * Each router receives only the slice of the read port it reads.
 */
type Resource = (deps: ApiDeps, now: () => number) => Hono<AppEnv>
const RESOURCES: readonly Resource[] = [
  (deps) =>
    healthRouter({
      version: deps.version,
      readiness: deps.readiness,
      liveness: deps.liveness ?? (() => ({ alive: true })),
      totals: deps.queries.totals,
    }),
  (deps, now) => marketRouter({ queries: deps.queries, publish: deps.publish, now }),
  (deps) => fcasRouter({ queries: deps.queries }),
  (deps) => curtailmentStorageRouter({ queries: deps.queries }),
  (deps) => weatherRouter({ queries: deps.queries }),
  (deps) => statsRouter({ queries: deps.queries }),
  (deps) => generationRouter({ queries: deps.queries }),
  (deps) => rooftopRouter({ queries: deps.queries }),
  (deps) => dlqRouter({ queries: deps.queries, publish: deps.publish }),
  (deps) => lineageRouter({ queries: deps.queries }),
  (deps) => streamRouter({ hub: deps.stream }),
  (deps, now) => sourcesRouter({ queries: deps.queries, sources: deps.sources ?? (() => []), now }),
  (deps) => alertsRouter({ alerts: deps.alerts ?? NO_ALERTS }),
  () => docsRouter(),
]

/**
 * The HTTP API as a pure factory: no ports opened, no environment read. `gridpulse serve` hands `fetch`
 * to `Bun.serve`; tests call `app.request()` directly.
 */
export function createApi(deps: ApiDeps) {
  const now = deps.now ?? Date.now
  const log = deps.log.child({ component: 'api' })
  const app = createRouter()
  const shared = sharedParts(deps, log, now)
  useMiddleware(app, deps, shared)
  for (const resource of RESOURCES) app.route('/', resource(deps, now))
  documentAccess(app)
  serveDocumentAndMetrics(app, deps)
  app.notFound((c) => problem(c, 404, 'not_found', `no route for ${c.req.method} ${c.req.path}`))
  app.onError(errorHandler(log))
  const { cache } = shared.http
  const fast = cache
    ? createFastPath({ ...shared, http: { ...shared.http, cache }, auth: shared.auth })
    : undefined
  return acceptBarePaths(app, fast, log)
}

/**
 * What the router's middleware and the cached-answer fast path share: one request recorder, one
 * rate limiter (one budget per consumer whichever path answers), one response cache.
 */
function sharedParts(deps: ApiDeps, log: Logger, now: () => number) {
  const auth = deps.auth ?? { mode: 'none' }
  const limits = auth.mode === 'none' ? undefined : auth
  const cacheBytes = deps.responseCacheBytes ?? DEFAULT_RESPONSE_CACHE_BYTES
  const freshness = deps.queries.freshness
  return {
    auth,
    now,
    generateId: deps.generateId ?? newCorrelationId,
    record: requestRecorder(log, deps.observeRequest, deps.traceRequests),
    count: rateLimiter(
      {
        perMinute: limits?.perMinute ?? { weather: 60, other: 100 },
        anonymousPerMinute: limits?.anonymousPerMinute ?? 30,
      },
      now
    ),
    http: {
      freshness,
      cache: cacheBytes > 0 ? createResponseCache(cacheBytes, freshness) : undefined,
      now,
    },
  }
}

/** Cross-cutting concerns, in order; one concern per middleware. */
function useMiddleware(app: Router, deps: ApiDeps, shared: ReturnType<typeof sharedParts>) {
  app.use('*', correlationId(shared.generateId))
  app.use('*', requestLog(shared.record, shared.now))
  app.use('*', securityHeaders())
  // Before authentication: a wrong method is wrong whoever asks (405 with Allow, not 401/403).
  app.use(
    '*',
    methodGuard(() => app.routes)
  )
  // Who is calling → how much they may call → what they may do.
  const { auth } = shared
  if (auth.mode !== 'none') {
    app.use('/api/*', authenticate(auth))
    app.use('/api/*', rateLimit(shared.count))
    app.use('/api/*', authorize(auth.mode))
  }
  app.use('/api/*', jsonBodyGuard(deps.maxBodyBytes ?? 64 * 1024))
  // Last: a cached answer is served after the caller was identified, limited and authorized.
  app.use('/api/*', httpCache(shared.http))
  app.openAPIRegistry.registerComponent('securitySchemes', 'ApiKey', {
    type: 'apiKey',
    in: 'header',
    name: 'apikey',
    description:
      'A per-team key (`gpk_…`). Behind Kong, Kong checks it; standalone, GridPulse does.',
  })
}

/** `/openapi.json` (built once, on first request), `/` → `/docs`, and `/metrics` when given. */
function serveDocumentAndMetrics(app: Router, deps: ApiDeps) {
  let document: string | undefined
  app.get('/openapi.json', (c) => {
    document ??= JSON.stringify(openApiDocument(app))
    return c.body(document, 200, {
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-cache',
    })
  })
  app.get('/', (c) => c.redirect('/docs', 302))
  const metrics = deps.metrics
  if (metrics) {
    app.get('/metrics', async (c) =>
      c.body(await metrics.render(), 200, { 'Content-Type': metrics.contentType })
    )
  }
}

/** Every error as problem+json: domain errors by their code, framework errors by their status. */
function errorHandler(log: Logger): Parameters<Router['onError']>[0] {
  return (error, c) => {
    if (error instanceof DomainError) {
      // A retryable refusal (the outbox is full) tells the client when to come back.
      if (error.retryable && error.status === 503) c.header('Retry-After', '30')
      return problem(c, error.status, error.code, error.message)
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
    // The client closed the connection while its body was being read: nothing failed here, and
    // nobody will read the answer; log it as the client error it is (not a 500 with a stack).
    if (error instanceof DOMException && error.name === 'AbortError') {
      return problem(c, 400, 'malformed_json', 'the request body ended before it was complete')
    }
    log.error({ err: error, correlation_id: c.get('correlationId') }, 'unhandled error')
    return problem(
      c,
      500,
      'internal',
      'an internal error occurred; quote the correlation id when reporting it'
    )
  }
}

/**
 * HTTP/1.0 without Host (or with a Host that is not a valid authority): Bun then hands over a bare
 * path as `request.url`, which Hono cannot route (every such request was a 404). Give it an origin;
 * nothing in the API depends on the host. Then a cached answer goes the fast path, the rest to
 * the router.
 */
function acceptBarePaths(
  app: Router,
  fast: ReturnType<typeof createFastPath> | undefined,
  log: Logger
): Router {
  const fetch = app.fetch
  app.fetch = (request, ...rest) => {
    const r = request.url.startsWith('/')
      ? new Request(`http://localhost${request.url}`, request)
      : request
    return fastOrUndefined(fast, r, rest[0], log) ?? fetch(r, ...rest)
  }
  return app
}

/**
 * The fast path's answer, or undefined for the router. Should it ever throw, the router answers
 * (its error handler makes the problem+json a client expects; the budget may then count twice).
 */
function fastOrUndefined(
  fast: ReturnType<typeof createFastPath> | undefined,
  request: Request,
  server: unknown,
  log: Logger
): Response | undefined {
  try {
    return fast?.(request, server)
  } catch (error) {
    log.error({ err: error }, 'cached-answer fast path failed; the router answers')
    return undefined
  }
}

/**
 * Every `/api/*` operation documents the responses its middleware can give (see accessResponses),
 * and a JSON read its validator and caching headers (see http-cache.ts).
 */
function documentAccess(app: Router) {
  for (const def of app.openAPIRegistry.definitions) {
    if (def.type !== 'route' || !def.route.path.startsWith('/api/')) continue
    const responses: typeof def.route.responses = {
      ...accessResponses(def.route.method),
      ...def.route.responses,
    }
    const ok = responses[200]
    if (def.route.method === 'get' && ok && 'content' in ok && ok.content?.['application/json']) {
      responses[200] = { ...ok, headers: { ...CACHING_HEADERS, ...ok.headers } }
      responses[304] = {
        description:
          'Not Modified: `If-None-Match` matched the current `ETag` (weak comparison); no body',
        headers: CACHING_HEADERS,
      }
    }
    def.route = { ...def.route, responses }
  }
}

const CACHING_HEADERS = {
  ETag: {
    description:
      'Weak validator of the answer (the data; not `meta.correlation_id` or `meta.timestamp`): send it back as `If-None-Match`',
    schema: { type: 'string' as const },
  },
  'Cache-Control': {
    description:
      '`private, max-age=<s until the next interval ends>` on price, FCAS and interconnector answers once the last interval is in; else `private, no-cache`',
    schema: { type: 'string' as const },
  },
  Vary: { description: '`Accept, Accept-Encoding`', schema: { type: 'string' as const } },
}

export type GridPulseApi = ReturnType<typeof createApi>

/** The OpenAPI 3.1 document of the shipped code (what `gridpulse openapi` prints). */
export const openApiDocument = (app: GridPulseApi) => app.getOpenAPI31Document(OPENAPI_INFO)
