import type { Context, MiddlewareHandler } from 'hono'
import type { Freshness, Reads } from '@/projection/read-port'
import { compressedBytes, compressible, encodeBody, renderBody } from './encoded-body'
import {
  cacheKey,
  chooseEncoding,
  maxAgeSeconds,
  noneMatch,
  type ResponseCache,
} from './response-cache'
import type { AppEnv } from './router'
import { wantsCsv } from './series'

export interface HttpCacheDeps {
  readonly freshness: Freshness
  /** Absent: every answer is built per request (validators and compression still apply). */
  readonly cache?: ResponseCache
  readonly now: () => number
}

// Accept picks CSV or JSON on the series routes; Accept-Encoding picks the coding.
const VARY = 'Accept, Accept-Encoding'
// A CSV export's validator names the process: the per-stream counts restart with it.
const BOOT = Bun.hash(crypto.randomUUID()).toString(36)

export type Built = {
  readonly route: string
  readonly contentType: string
  readonly reads: Reads | undefined
  readonly body: ReturnType<typeof encodeBody>
}

/**
 * Conditional requests, HTTP caching headers, compression and the response cache for `GET
 * /api/*` answers with status 200. JSON answers are encoded once per projection change (when the
 * handler declared what it read) and served from memory; a CSV export streams as before, with a
 * validator made of the stream versions it read. Anything else (an event stream, an error) passes
 * through untouched: never buffered, never stored.
 */
export const httpCache =
  (deps: HttpCacheDeps): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const method = c.req.method
    if (method !== 'GET' && method !== 'HEAD') return next()
    const ts = new Date().toISOString()
    c.set('servedAt', ts)
    const key = jsonCacheKey(c.req.url, c.req.header('accept'))
    const hit = key === undefined ? undefined : deps.cache?.get(key)
    if (hit) {
      c.set('route', hit.route)
      return answer(asked(c), key, hit, deps, ts)
    }
    const commits = deps.freshness.commits()
    await next()
    const res = c.res
    if (res.status !== 200) return
    const contentType = res.headers.get('content-type') ?? ''
    const reads = c.get('reads')
    if (contentType.startsWith('application/json')) {
      const built: Built = {
        route: c.req.routePath,
        contentType,
        reads,
        body: encodeBody(await res.text(), contentType, c.get('correlationId'), ts),
      }
      // A commit between the read and now: the answer may predate it, so it is not kept.
      if (key !== undefined && reads && deps.freshness.commits() === commits)
        deps.cache?.set(key, { ...built, reads, stamp: deps.freshness.stamp(reads) })
      c.res = answer(asked(c), key, built, deps, ts)
    } else if (contentType.startsWith('text/csv') && reads) {
      c.res = await csvValidated(c, res, reads, deps)
    }
  }

/** The response cache's key of a JSON `GET` (undefined: a CSV export, never cached). */
export function jsonCacheKey(url: string, accept: string | undefined): string | undefined {
  const format = url.includes('format=') ? new URL(url).searchParams.get('format') : undefined
  return wantsCsv(accept, format ?? undefined) ? undefined : cacheKey(url)
}

/** What a cached answer depends on in the request. */
export interface Asked {
  readonly ifNoneMatch: string | undefined
  readonly acceptEncoding: string | undefined
  readonly correlationId: string
}
const asked = (c: Context<AppEnv>): Asked => ({
  ifNoneMatch: c.req.header('if-none-match'),
  acceptEncoding: c.req.header('accept-encoding'),
  correlationId: c.get('correlationId'),
})

/**
 * A JSON answer for this request: 304, or the body in the coding the client prefers. The router's
 * `httpCache` and the cached-answer fast path both answer with it.
 */
export function answer(
  req: Asked,
  key: string | undefined,
  built: Built,
  deps: HttpCacheDeps,
  ts: string
): Response {
  const { body } = built
  const headers: Record<string, string> = {
    ETag: body.etag,
    Vary: VARY,
    'Cache-Control': cacheControl(built.reads, deps),
  }
  if (noneMatch(req.ifNoneMatch, body.etag)) return new Response(null, { status: 304, headers })
  headers['Content-Type'] = built.contentType
  const encoding = compressible(body) ? chooseEncoding(req.acceptEncoding) : 'identity'
  if (encoding !== 'identity') headers['Content-Encoding'] = encoding
  const before = compressedBytes(body)
  const bytes = renderBody(body, encoding, req.correlationId, ts)
  if (key !== undefined && compressedBytes(body) !== before) {
    const entry = deps.cache?.get(key)
    if (entry?.body === body) deps.cache?.grew(key, entry)
  }
  return new Response(bytes, { status: 200, headers })
}

function cacheControl(reads: Reads | undefined, deps: HttpCacheDeps): string {
  const seconds = reads && maxAgeSeconds(reads, deps.freshness, deps.now())
  // Private: answers are per key. no-cache: revalidate (cheap: a 304) rather than miss an interval.
  return seconds ? `private, max-age=${seconds}` : 'private, no-cache'
}

/** A CSV export: its validator is the stream versions it read; a match closes the unread export. */
async function csvValidated(
  c: Context<AppEnv>,
  res: Response,
  reads: Reads,
  deps: HttpCacheDeps
): Promise<Response> {
  const tag = Bun.hash(`${cacheKey(c.req.url)}\u0000${c.req.header('accept') ?? ''}`).toString(36)
  const etag = `W/"${BOOT}.${deps.freshness.stamp(reads)}.${tag}"`
  const headers = { ETag: etag, Vary: VARY, 'Cache-Control': cacheControl(reads, deps) }
  if (noneMatch(c.req.header('if-none-match'), etag)) {
    await res.body?.cancel()
    return new Response(null, { status: 304, headers })
  }
  const out = new Response(res.body, res)
  for (const [name, value] of Object.entries(headers)) out.headers.set(name, value)
  return out
}
