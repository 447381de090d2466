import type { MiddlewareHandler } from 'hono'
import { addressKey, createSlidingWindowLimiter, type RateLimitDecision } from '@/access'
import type { Principal } from './auth'
import type { Refusal } from './authorize'
import { problem } from './problem'
import type { AppEnv } from './router'

export interface RateLimits {
  /** Requests per minute per consumer: weather routes and all other API routes (the seed's Kong limits). */
  readonly perMinute: { readonly weather: number; readonly other: number }
  /** Requests per minute per client address without a valid key or gateway proof. */
  readonly anonymousPerMinute: number
}

/**
 * Limits `/api/*` by the principal `authenticate` set: a consumer per class of routes, an
 * anonymous client per address (so guessing keys or bypassing Kong costs a budget, then 429
 * instead of 401). Every answer past this point carries the `RateLimit-*` headers of the budget
 * it counted against. In `gateway` mode this is Kong's consumer limit again, per node: Kong OSS
 * counts fixed windows, this sliding window keeps any 60 s to the limit however a client paces
 * around a minute boundary. Without a principal (AUTH_MODE=none) nothing is limited.
 */
export function rateLimit(count: RateLimiter): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = c.get('principal')
    if (!principal) return next()
    const counted = count(principal, c.req.path)
    if (!counted.decision.allowed) {
      const refused = tooManyRequests(counted)
      return problem(c, refused.status, refused.code, refused.detail, undefined, refused.headers)
    }
    await next()
    for (const [name, value] of Object.entries(rateLimitHeaders(counted.decision)))
      c.res.headers.set(name, value)
  }
}

export interface Counted {
  readonly decision: RateLimitDecision
  /** The budget it counted against, as the 429 names it. */
  readonly what: string
}

/**
 * Counts one request of `principal` on `path` against its budget: a consumer per class of routes
 * (one counter per consumer and class, shared by every route of the class), an anonymous client
 * per address. Used by `rateLimit` and by the cached-answer fast path.
 */
export type RateLimiter = (principal: Principal, path: string) => Counted
export function rateLimiter(limits: RateLimits, now: () => number): RateLimiter {
  const byClass = {
    weather: createSlidingWindowLimiter({ limit: limits.perMinute.weather }),
    other: createSlidingWindowLimiter({ limit: limits.perMinute.other }),
  }
  const anonymous = createSlidingWindowLimiter({ limit: limits.anonymousPerMinute })
  return (principal, path) => {
    if (principal.kind === 'consumer') {
      const weather = path.startsWith('/api/v1/weather')
      return {
        decision: byClass[weather ? 'weather' : 'other'].hit(principal.consumer, now()),
        what: weather ? 'weather routes' : 'market routes',
      }
    }
    return {
      decision: anonymous.hit(addressKey(principal.address), now()),
      what: 'requests without a valid API key',
    }
  }
}

export const rateLimitHeaders = (d: RateLimitDecision): Record<string, string> => ({
  'RateLimit-Limit': String(d.limit),
  'RateLimit-Remaining': String(d.remaining),
  'RateLimit-Reset': String(d.resetSeconds),
})

/** The 429 of a refused count. */
export const tooManyRequests = ({ decision: d, what }: Counted): Refusal => ({
  status: 429,
  code: 'rate_limited',
  detail: `${d.limit} requests per minute for ${what}`,
  headers: {
    ...rateLimitHeaders(d),
    // When the oldest counted request leaves the sliding window, one more is allowed.
    'Retry-After': String(d.resetSeconds),
  },
})
