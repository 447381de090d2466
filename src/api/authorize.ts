import type { MiddlewareHandler } from 'hono'
import { API_KEY_HEADER } from './auth'
import { problem } from './problem'
import type { AppEnv } from './router'

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

/**
 * Refuses what the principal may not do: 401 for an anonymous client, 403 for a write by a
 * read-only consumer. Runs after `rateLimit`, so refusals count against a budget too (a read key
 * cannot hammer write routes for free, a key guesser gets 429 after its budget).
 */
export function authorize(mode: 'keys' | 'gateway'): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = c.get('principal')
    if (!principal) return next()
    if (principal.kind === 'anonymous') {
      return problem(
        c,
        401,
        'unauthorized',
        principal.reason,
        undefined,
        mode === 'keys' ? { 'WWW-Authenticate': `ApiKey header="${API_KEY_HEADER}"` } : {}
      )
    }
    if (WRITE_METHODS.has(c.req.method) && principal.scope !== 'write') {
      return problem(
        c,
        403,
        'forbidden',
        mode === 'keys' ? 'this key is read-only' : `consumer ${principal.consumer} may not write`
      )
    }
    return next()
  }
}
