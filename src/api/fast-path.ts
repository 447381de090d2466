import { type AuthConfig, identify, socketAddress } from './auth'
import { refusal } from './authorize'
import { answer, type HttpCacheDeps, jsonCacheKey } from './http-cache'
import {
  acceptCorrelationId,
  CORRELATION_HEADER,
  type RequestRecorder,
  secureHeaders,
} from './middleware'
import { problemResponse } from './problem'
import { type RateLimiter, rateLimitHeaders, tooManyRequests } from './rate-limit'
import type { ResponseCache } from './response-cache'

export interface FastPathDeps {
  readonly http: HttpCacheDeps & { readonly cache: ResponseCache }
  readonly auth: AuthConfig
  /** The router's own counter (one budget per consumer, whichever path answers). */
  readonly count: RateLimiter
  readonly record: RequestRecorder
  readonly generateId: () => string
  readonly now: () => number
}

/**
 * A `GET`/`HEAD` of `/api/*` whose answer is in the response cache, answered without the router:
 * routing and a dozen middleware layers cost more than the answer (a cached hit is a lookup and a
 * copy). It runs the router's own functions, in the router's order: correlation id, key or gateway
 * authentication, rate limit, authorization, the cached answer (304, coding), security headers,
 * the request log line, metrics and trace. Returns undefined for anything else (no hit, another
 * method, a CSV export, an encoded path), which the router then answers as it always did; the
 * decision is made before anything is counted, so no request is counted twice.
 */
export function createFastPath(deps: FastPathDeps) {
  const { http, record } = deps
  const auth = deps.auth.mode === 'none' ? undefined : deps.auth
  const who = auth && identify(auth)
  const count = auth && deps.count
  return (request: Request, server: unknown): Response | undefined => {
    const method = request.method
    if (method !== 'GET' && method !== 'HEAD') return undefined
    const url = request.url
    const path = apiPathOf(url)
    if (path === undefined) return undefined
    const headers = request.headers
    const header = (name: string) => headers.get(name) ?? undefined
    const key = jsonCacheKey(url, header('accept'))
    if (key === undefined || !http.cache.has(key)) return undefined
    const at = deps.now()
    const started = performance.now()
    const correlationId = acceptCorrelationId(header(CORRELATION_HEADER), deps.generateId)
    const principal = who?.({ header, socket: () => socketAddress(server, request) })
    let res: Response
    let route = '/api/*'
    const counted = principal && count?.(principal, path)
    // Every answer past the limiter carries the budget it counted against (a 401 too).
    const limited = counted?.decision.allowed ? rateLimitHeaders(counted.decision) : undefined
    const refused =
      counted && !counted.decision.allowed
        ? tooManyRequests(counted)
        : principal && auth && refusal(auth.mode, principal, method)
    if (refused) res = problemResponse({ path, correlationId }, refused)
    else {
      const hit = http.cache.get(key)!
      route = hit.route
      const ts = new Date().toISOString()
      const asked = {
        ifNoneMatch: header('if-none-match'),
        acceptEncoding: header('accept-encoding'),
        correlationId,
      }
      res = answer(asked, key, hit, http, ts)
    }
    const out = res.headers
    out.set(CORRELATION_HEADER, correlationId)
    if (limited) for (const name in limited) out.set(name, limited[name]!)
    secureHeaders(out, path, res.status)
    const consumer = principal?.kind === 'consumer' ? principal.consumer : undefined
    record({ at, started, method, path, route, status: res.status, correlationId, consumer })
    // As the router answers HEAD: the GET's status and headers, no body.
    return method === 'HEAD' ? new Response(null, res) : res
  }
}

/** The path of an absolute `/api/…` URL, or undefined (another path, or one the router decodes). */
function apiPathOf(url: string): string | undefined {
  const start = url.indexOf('/', url.indexOf('//') + 2)
  if (start < 0 || !url.startsWith('/api/', start)) return undefined
  const q = url.indexOf('?', start)
  const path = q < 0 ? url.slice(start) : url.slice(start, q)
  return path.includes('%') ? undefined : path
}
