import { createHash, timingSafeEqual } from 'node:crypto'
import type { Context, MiddlewareHandler } from 'hono'
import { problem } from './problem'
import { addressKey, createSlidingWindowLimiter, type RateLimitDecision } from './rate-limit'
import type { AppEnv } from './router'

export type AuthConfig =
  | { readonly mode: 'none' }
  | {
      readonly mode: 'keys'
      /** Resolves a presented key to its consumer and scope (constant-time on the secret). */
      readonly verify: (key: string) => { consumer: string; scope: 'read' | 'write' } | undefined
      /** Requests per minute per consumer: weather routes and all other API routes (the seed's Kong limits). */
      readonly perMinute?: { readonly weather: number; readonly other: number }
      /** Requests per minute per client address without a valid key (default 30). */
      readonly anonymousPerMinute?: number
    }
  | {
      readonly mode: 'gateway'
      readonly secret: string
      /** Still accepted while Kong is switched to the new secret (GATEWAY_SECRET_PREVIOUS). */
      readonly previousSecret?: string
      /**
       * Kong's consumers again, per GridPulse node: Kong OSS counts fixed windows, this sliding
       * window keeps any 60 s to the limit however a client paces around a minute boundary.
       */
      readonly perMinute?: { readonly weather: number; readonly other: number }
      /** Requests per minute per client address that fail the gateway check (default 30). */
      readonly anonymousPerMinute?: number
    }

export const API_KEY_HEADER = 'apikey'
export const GATEWAY_SECRET_HEADER = 'X-Gateway-Secret'
// Set by Kong's key-auth and acl plugins for the authenticated consumer.
export const CONSUMER_HEADER = 'X-Consumer-Username'
export const CONSUMER_GROUPS_HEADER = 'X-Consumer-Groups'
// Set by key-auth when it maps a keyless request to its `anonymous` consumer (kong/consumers.yaml).
export const ANONYMOUS_CONSUMER_HEADER = 'X-Anonymous-Consumer'
// Set by Kong to the address it saw (overwriting a client's own), like X-Forwarded-For's last hop.
export const REAL_IP_HEADER = 'X-Real-IP'
export const WRITE_GROUP = 'gridpulse-write'

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

const digest = (s: string) => createHash('sha256').update(s).digest()

/**
 * A presented secret against every accepted one. Both sides are hashed first, so the comparison
 * is over 32 bytes whatever the lengths (no early return on a length mismatch leaks the secret's
 * length), and every accepted secret is compared even after a match (no early return either).
 */
export function matchesSecret(presented: string, accepted: readonly string[]): boolean {
  const given = digest(presented)
  let ok = false
  for (const secret of accepted) ok = timingSafeEqual(given, digest(secret)) || ok
  return ok
}

/**
 * Authenticates `/api/*`. `keys`: GridPulse checks the `apikey` header itself and rate-limits per
 * consumer. `gateway`: Kong did both; its consumer headers are trusted only together with the
 * shared gateway secret, so a request that bypasses Kong is refused, and GridPulse limits the
 * consumer again with its sliding window. In both, a request without valid credentials is limited
 * per client address.
 */
export function authenticate(auth: AuthConfig, now: () => number): MiddlewareHandler<AppEnv> {
  if (auth.mode === 'none') return (_, next) => next()
  const limits = auth.perMinute ?? { weather: 60, other: 100 }
  // One counter per consumer and class, shared by every route of the class.
  const limiters = {
    weather: createSlidingWindowLimiter({ limit: limits.weather }),
    other: createSlidingWindowLimiter({ limit: limits.other }),
  }
  const limit = (c: Context<AppEnv>, consumer: string) => {
    const bucket = c.req.path.startsWith('/api/v1/weather') ? 'weather' : 'other'
    const decision = limiters[bucket].hit(consumer, now())
    const refused = decision.allowed
      ? undefined
      : tooManyRequests(c, decision, bucket === 'weather' ? 'weather routes' : 'market routes')
    return { decision, refused }
  }
  const anonymous = createSlidingWindowLimiter({ limit: auth.anonymousPerMinute ?? 30 })
  /** 401, or 429 once the client address has failed too often this minute. */
  const refuse = (c: Context<AppEnv>, address: string | undefined, detail: string) => {
    const decision = anonymous.hit(addressKey(address), now())
    if (!decision.allowed) return tooManyRequests(c, decision, 'requests without a valid API key')
    return problem(c, 401, 'unauthorized', detail, undefined, {
      ...rateLimitHeaders(decision),
      ...(auth.mode === 'keys' ? { 'WWW-Authenticate': `ApiKey header="${API_KEY_HEADER}"` } : {}),
    })
  }
  if (auth.mode === 'gateway') {
    const accepted = [auth.secret, ...(auth.previousSecret ? [auth.previousSecret] : [])]
    return async (c, next) => {
      const secret = c.req.header(GATEWAY_SECRET_HEADER)
      const consumer = c.req.header(CONSUMER_HEADER)
      const verified = secret !== undefined && matchesSecret(secret, accepted)
      // Only a request that proves it came through Kong may name the client (Kong's X-Real-IP);
      // anyone else is limited by the address of the socket it connected from.
      const address = verified ? forwardedAddress(c) : socketAddress(c)
      // Kong terminates its anonymous consumer itself (kong/anonymous.yaml); refusing it
      // here too keeps a keyless request out should that plugin ever be missing.
      if (!verified || !consumer || c.req.header(ANONYMOUS_CONSUMER_HEADER) === 'true') {
        return refuse(c, address, 'requests must come through the gateway')
      }
      c.set('consumer', consumer)
      const { decision, refused } = limit(c, consumer)
      if (refused) return refused
      const groups = (c.req.header(CONSUMER_GROUPS_HEADER) ?? '').split(',').map((g) => g.trim())
      if (WRITE_METHODS.has(c.req.method) && !groups.includes(WRITE_GROUP)) {
        return problem(c, 403, 'forbidden', `consumer ${consumer} may not write`)
      }
      await next()
      for (const [name, value] of Object.entries(rateLimitHeaders(decision)))
        c.res.headers.set(name, value)
    }
  }
  return async (c, next) => {
    const key = c.req.header(API_KEY_HEADER)
    const identity = key ? auth.verify(key) : undefined
    if (!identity) {
      return refuse(
        c,
        socketAddress(c),
        key ? 'the API key is not valid' : `send your API key in the ${API_KEY_HEADER} header`
      )
    }
    c.set('consumer', identity.consumer)
    // Counted before the scope check, so a read key cannot hammer write routes for free.
    const { decision, refused } = limit(c, identity.consumer)
    if (refused) return refused
    if (WRITE_METHODS.has(c.req.method) && identity.scope !== 'write') {
      return problem(c, 403, 'forbidden', 'this key is read-only', undefined, {
        ...rateLimitHeaders(decision),
      })
    }
    await next()
    for (const [name, value] of Object.entries(rateLimitHeaders(decision)))
      c.res.headers.set(name, value)
  }
}

const rateLimitHeaders = (d: RateLimitDecision): Record<string, string> => ({
  'RateLimit-Limit': String(d.limit),
  'RateLimit-Remaining': String(d.remaining),
  'RateLimit-Reset': String(d.resetSeconds),
})

const tooManyRequests = (c: Context<AppEnv>, d: RateLimitDecision, what: string) =>
  problem(c, 429, 'rate_limited', `${d.limit} requests per minute for ${what}`, undefined, {
    ...rateLimitHeaders(d),
    // When the oldest counted request leaves the sliding window, one more is allowed.
    'Retry-After': String(d.resetSeconds),
  })

/**
 * The peer address of the TCP connection. Bun.serve hands its server to `fetch` as the second
 * argument, which Hono exposes as `c.env` (main.ts passes `api.fetch` straight to Bun.serve).
 */
function socketAddress(c: Context<AppEnv>): string | undefined {
  const server = c.env as { requestIP?: (r: Request) => { address: string } | null } | undefined
  return typeof server?.requestIP === 'function'
    ? (server.requestIP(c.req.raw)?.address ?? undefined)
    : undefined
}

/** The client address Kong saw: X-Real-IP, else the last X-Forwarded-For hop (Kong appends it). */
function forwardedAddress(c: Context<AppEnv>): string | undefined {
  const real = c.req.header(REAL_IP_HEADER)?.trim()
  if (real) return real
  return c.req.header('X-Forwarded-For')?.split(',').at(-1)?.trim() || socketAddress(c)
}
