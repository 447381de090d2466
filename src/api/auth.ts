import { createHash, timingSafeEqual } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import type { KeyScope } from '@/access'
import type { AppEnv } from './router'

export type AuthConfig =
  | { readonly mode: 'none' }
  | {
      readonly mode: 'keys'
      /** Resolves a presented key to its consumer and scope (constant-time on the secret). */
      readonly verify: (key: string) => { consumer: string; scope: KeyScope } | undefined
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
 * Who is calling: a consumer with a scope, or an anonymous client (no key, a bad key, or a request
 * that did not prove it came through Kong) known only by its address. Authentication decides this
 * and nothing else; `rateLimit` counts by it and `authorize` refuses by it.
 */
export type Principal =
  | { readonly kind: 'consumer'; readonly consumer: string; readonly scope: KeyScope }
  | {
      readonly kind: 'anonymous'
      /** The client address it is limited by (undefined when unknown). */
      readonly address: string | undefined
      /** Why it is not a consumer, for the 401's detail. */
      readonly reason: string
    }

/** What authentication reads of a request: its headers (by name, any case) and peer address. */
export interface Caller {
  readonly header: (name: string) => string | undefined
  /** The peer address of the TCP connection, when the server says. */
  readonly socket: () => string | undefined
}

/**
 * Who is calling. `keys`: GridPulse checks the `apikey` header itself. `gateway`: Kong did; its
 * consumer headers are trusted only together with the shared gateway secret, so a request that
 * bypasses Kong is anonymous. Used by `authenticate` and by the cached-answer fast path.
 */
export function identify(
  auth: Exclude<AuthConfig, { mode: 'none' }>
): (caller: Caller) => Principal {
  if (auth.mode === 'gateway') {
    const accepted = [auth.secret, ...(auth.previousSecret ? [auth.previousSecret] : [])]
    return (caller) => {
      const secret = caller.header(GATEWAY_SECRET_HEADER)
      const consumer = caller.header(CONSUMER_HEADER)
      const verified = secret !== undefined && matchesSecret(secret, accepted)
      // Kong terminates its anonymous consumer itself (kong/anonymous.yaml); treating it as
      // anonymous here too keeps a keyless request out should that plugin ever be missing.
      if (!verified || !consumer || caller.header(ANONYMOUS_CONSUMER_HEADER) === 'true') {
        // Only a request that proves it came through Kong may name the client (Kong's
        // X-Real-IP); anyone else is limited by the address of the socket it connected from.
        const address = verified ? forwardedAddress(caller) : caller.socket()
        return { kind: 'anonymous', address, reason: 'requests must come through the gateway' }
      }
      const groups = (caller.header(CONSUMER_GROUPS_HEADER) ?? '').split(',').map((g) => g.trim())
      return { kind: 'consumer', consumer, scope: groups.includes(WRITE_GROUP) ? 'write' : 'read' }
    }
  }
  return (caller) => {
    const key = caller.header(API_KEY_HEADER)
    const identity = key ? auth.verify(key) : undefined
    if (identity) return { kind: 'consumer', consumer: identity.consumer, scope: identity.scope }
    return {
      kind: 'anonymous',
      address: caller.socket(),
      reason: key
        ? 'the API key is not valid'
        : `send your API key in the ${API_KEY_HEADER} header`,
    }
  }
}

/**
 * Authenticates `/api/*` (see `identify`). Sets `principal` (and `consumer` for the request log);
 * never answers by itself.
 */
export function authenticate(
  auth: Exclude<AuthConfig, { mode: 'none' }>
): MiddlewareHandler<AppEnv> {
  const who = identify(auth)
  return (c, next) => {
    const principal = who({
      header: (name) => c.req.header(name),
      socket: () => socketAddress(c.env, c.req.raw),
    })
    c.set('principal', principal)
    if (principal.kind === 'consumer') c.set('consumer', principal.consumer)
    return next()
  }
}

/**
 * The peer address of the TCP connection. Bun.serve hands its server to `fetch` as the second
 * argument, which Hono exposes as `c.env` (main.ts passes `api.fetch` straight to Bun.serve).
 */
export function socketAddress(server: unknown, request: Request): string | undefined {
  const s = server as { requestIP?: (r: Request) => { address: string } | null } | undefined
  return typeof s?.requestIP === 'function'
    ? (s.requestIP(request)?.address ?? undefined)
    : undefined
}

/** The client address Kong saw: X-Real-IP, else the last X-Forwarded-For hop (Kong appends it). */
function forwardedAddress(caller: Caller): string | undefined {
  const real = caller.header(REAL_IP_HEADER)?.trim()
  if (real) return real
  return caller.header('X-Forwarded-For')?.split(',').at(-1)?.trim() || caller.socket()
}
