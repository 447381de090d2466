import type { Context, MiddlewareHandler } from 'hono'
import { addressKey, createSlidingWindowLimiter, type RateLimitDecision } from '@/access'
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
export function rateLimit(limits: RateLimits, now: () => number): MiddlewareHandler<AppEnv> {
  // One counter per consumer and class, shared by every route of the class.
  const byClass = {
    weather: createSlidingWindowLimiter({ limit: limits.perMinute.weather }),
    other: createSlidingWindowLimiter({ limit: limits.perMinute.other }),
  }
  const anonymous = createSlidingWindowLimiter({ limit: limits.anonymousPerMinute })
  return async (c, next) => {
    const principal = c.get('principal')
    if (!principal) return next()
    let decision: RateLimitDecision
    let what: string
    if (principal.kind === 'consumer') {
      const weather = c.req.path.startsWith('/api/v1/weather')
      decision = byClass[weather ? 'weather' : 'other'].hit(principal.consumer, now())
      what = weather ? 'weather routes' : 'market routes'
    } else {
      decision = anonymous.hit(addressKey(principal.address), now())
      what = 'requests without a valid API key'
    }
    if (!decision.allowed) return tooManyRequests(c, decision, what)
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
