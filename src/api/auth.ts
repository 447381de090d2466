import { createHash, timingSafeEqual } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { problem } from './problem'
import type { AppEnv } from './router'

export type AuthConfig =
  | { readonly mode: 'none' }
  | {
      readonly mode: 'keys'
      /** Resolves a presented key to its consumer and scope (constant-time on the secret). */
      readonly verify: (key: string) => { consumer: string; scope: 'read' | 'write' } | undefined
      /** Requests per minute per consumer: weather routes and all other API routes (the seed's Kong limits). */
      readonly perMinute?: { readonly weather: number; readonly other: number }
    }
  | {
      readonly mode: 'gateway'
      readonly secret: string
      /** Still accepted while Kong is switched to the new secret (GATEWAY_SECRET_PREVIOUS). */
      readonly previousSecret?: string
    }

export const API_KEY_HEADER = 'apikey'
export const GATEWAY_SECRET_HEADER = 'X-Gateway-Secret'
// Set by Kong's key-auth and acl plugins for the authenticated consumer.
export const CONSUMER_HEADER = 'X-Consumer-Username'
export const CONSUMER_GROUPS_HEADER = 'X-Consumer-Groups'
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
 * shared gateway secret, so a request that bypasses Kong is refused.
 */
export function authenticate(auth: AuthConfig, now: () => number): MiddlewareHandler<AppEnv> {
  if (auth.mode === 'none') return (_, next) => next()
  if (auth.mode === 'gateway') {
    const accepted = [auth.secret, ...(auth.previousSecret ? [auth.previousSecret] : [])]
    return async (c, next) => {
      const secret = c.req.header(GATEWAY_SECRET_HEADER)
      const consumer = c.req.header(CONSUMER_HEADER)
      if (!secret || !matchesSecret(secret, accepted) || !consumer) {
        return problem(c, 401, 'unauthorized', 'requests must come through the gateway')
      }
      c.set('consumer', consumer)
      const groups = (c.req.header(CONSUMER_GROUPS_HEADER) ?? '').split(',').map((g) => g.trim())
      if (WRITE_METHODS.has(c.req.method) && !groups.includes(WRITE_GROUP)) {
        return problem(c, 403, 'forbidden', `consumer ${consumer} may not write`)
      }
      return next()
    }
  }
  const limits = auth.perMinute ?? { weather: 60, other: 100 }
  const windows = new Map<string, { start: number; count: number }>()
  return async (c, next) => {
    const key = c.req.header(API_KEY_HEADER)
    const identity = key ? auth.verify(key) : undefined
    if (!identity) {
      return problem(
        c,
        401,
        'unauthorized',
        key ? 'the API key is not valid' : `send your API key in the ${API_KEY_HEADER} header`,
        undefined,
        {
          'WWW-Authenticate': `ApiKey header="${API_KEY_HEADER}"`,
        }
      )
    }
    c.set('consumer', identity.consumer)
    if (WRITE_METHODS.has(c.req.method) && identity.scope !== 'write') {
      return problem(c, 403, 'forbidden', 'this key is read-only')
    }
    // Fixed one-minute windows per consumer and route class, like Kong's rate-limiting (policy local).
    const bucket = c.req.path.startsWith('/api/v1/weather') ? 'weather' : 'other'
    const limit = limits[bucket]
    const t = now()
    const windowStart = t - (t % 60_000)
    const id = `${identity.consumer}|${bucket}`
    let window = windows.get(id)
    if (!window || window.start !== windowStart) {
      window = { start: windowStart, count: 0 }
      windows.set(id, window)
    }
    window.count++
    const reset = Math.ceil((windowStart + 60_000 - t) / 1000)
    const headers = {
      'RateLimit-Limit': String(limit),
      'RateLimit-Remaining': String(Math.max(0, limit - window.count)),
      'RateLimit-Reset': String(reset),
    }
    if (window.count > limit) {
      return problem(
        c,
        429,
        'rate_limited',
        `${limit} requests per minute for ${bucket === 'weather' ? 'weather' : 'market'} routes`,
        undefined,
        {
          ...headers,
          'Retry-After': String(reset),
        }
      )
    }
    await next()
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value)
  }
}
