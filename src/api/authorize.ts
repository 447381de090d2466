import type { MiddlewareHandler } from 'hono'
import { API_KEY_HEADER, type Principal } from './auth'
import { problem } from './problem'
import type { AppEnv } from './router'

/** A problem+json answer a middleware gives instead of the route's. */
export interface Refusal {
  readonly status: 401 | 403 | 429
  readonly code: 'unauthorized' | 'forbidden' | 'rate_limited'
  readonly detail: string
  readonly headers: Record<string, string>
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * Refuses what the principal may not do: 401 for an anonymous client, 403 for a write by a
 * read-only consumer. Runs after `rateLimit`, so refusals count against a budget too (a read key
 * cannot hammer write routes for free, a key guesser gets 429 after its budget).
 */
export function authorize(mode: 'keys' | 'gateway'): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = c.get('principal')
    const refused = principal && refusal(mode, principal, c.req.method)
    if (!refused) return next()
    return problem(c, refused.status, refused.code, refused.detail, undefined, refused.headers)
  }
}

/** Why `principal` may not make a `method` request, or undefined when it may. */
export function refusal(
  mode: 'keys' | 'gateway',
  principal: Principal,
  method: string
): Refusal | undefined {
  if (principal.kind === 'anonymous') {
    return {
      status: 401,
      code: 'unauthorized',
      detail: principal.reason,
      headers:
        mode === 'keys'
          ? { 'WWW-Authenticate': `ApiKey header="${API_KEY_HEADER}"` }
          : ({} as Record<string, string>),
    }
  }
  if (WRITE_METHODS.has(method) && principal.scope !== 'write') {
    return {
      status: 403,
      code: 'forbidden',
      detail:
        mode === 'keys' ? 'this key is read-only' : `consumer ${principal.consumer} may not write`,
      headers: {},
    }
  }
  return undefined
}
