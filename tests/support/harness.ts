import type { KeyScope } from '@/access'
import type { AuthConfig } from '@/api/auth'
import { createEmbeddedBus } from '@/bus'
import { createNode } from '@/node'
import { type SourceStatus, silentLogger } from '@/observability'
import { loadConfig } from '../../src/config'

/**
 * The real pipeline in memory, built by the same `createNode` as `gridpulse serve`: embedded log →
 * projector → SQLite → API, with the node's readiness, liveness and metrics. No mocks of our own
 * code; only the HTTP listener and files are left out, and no poller runs (SOURCES=none).
 */
export async function createHarness(
  options: {
    now?: () => number
    maxBodyBytes?: number
    /** The pollers' statuses, as a polling node reports them (for /api/v1/sources). */
    sources?: () => readonly SourceStatus[]
    /** Check `apikey` headers as AUTH_MODE=keys does (create keys with `createKey`). */
    keys?: boolean
    auth?: AuthConfig
    /** RESPONSE_CACHE_MB (the default otherwise). */
    responseCacheMb?: number
  } = {}
) {
  const log = silentLogger()
  const config = loadConfig({
    SOURCES: 'none',
    AUTH_MODE: options.keys ? 'keys' : 'none',
    MAX_BODY_BYTES: options.maxBodyBytes === undefined ? undefined : String(options.maxBodyBytes),
    LOG_LEVEL: 'silent',
    RESPONSE_CACHE_MB:
      options.responseCacheMb === undefined ? undefined : String(options.responseCacheMb),
  })
  const node = await createNode(config, {
    log,
    bus: createEmbeddedBus({ path: ':memory:', log, idlePollMs: 20 }),
    projectionPath: ':memory:',
    accessPath: ':memory:',
    now: options.now,
    sourceStatuses: options.sources,
    auth: options.auth,
  })
  return {
    db: node.db,
    bus: node.bus,
    queries: node.queries,
    api: node.api,
    /** A new API key for `consumer`, as `gridpulse keys create` makes it. */
    createKey: (consumer: string, scope: KeyScope) => node.keys.create(consumer, scope).key,
    close: () => node.close(),
  }
}
