import { type KeyScope, openKeyStore } from '@/access'
import { createApi } from '@/api'
import type { AuthConfig } from '@/api/auth'
import { createEmbeddedBus } from '@/bus'
import { DLQ_TOPICS, EVENT_TOPICS } from '@/canonical'
import { createReadiness, type SourceStatus, silentLogger } from '@/observability'
import { createProjector, createQueries, openProjectionDb } from '@/projection'

/**
 * The real pipeline in memory: embedded log → projector → SQLite → API. No mocks of our own code;
 * only ports and files are left out.
 */
export async function createHarness(
  options: {
    now?: () => number
    maxBodyBytes?: number
    /** The pollers' statuses, as main.ts wires them (for /api/v1/sources). */
    sources?: () => readonly SourceStatus[]
    /** Check `apikey` headers as AUTH_MODE=keys does (create keys with `createKey`). */
    keys?: boolean
    auth?: AuthConfig
  } = {}
) {
  const log = silentLogger()
  const db = openProjectionDb(':memory:')
  const bus = createEmbeddedBus({ path: ':memory:', log, idlePollMs: 20 })
  const projector = createProjector(db, 'gridpulse.projection.v1')
  const queries = createQueries(db)
  const keys = openKeyStore(':memory:')
  const consumer = await bus.subscribe({
    groupId: 'gridpulse.projection.v1',
    topics: [...EVENT_TOPICS, ...DLQ_TOPICS],
    startOffset: projector.startOffset,
    onBatch: projector.project,
  })
  const readiness = createReadiness({
    database: { required: true, run: () => ({ ok: queries.ping() }) },
  })
  const api = createApi({
    queries,
    publish: (events) => bus.publish(events),
    readiness,
    log,
    version: 'test',
    now: options.now,
    maxBodyBytes: options.maxBodyBytes,
    sources: options.sources,
    auth: options.auth ?? (options.keys ? { mode: 'keys', verify: keys.verify } : undefined),
  })
  return {
    db,
    bus,
    queries,
    api,
    /** A new API key for `consumer`, as `gridpulse keys create` makes it. */
    createKey: (consumer: string, scope: KeyScope) => keys.create(consumer, scope).key,
    async close() {
      await consumer.stop()
      await bus.close()
      db.sqlite.close()
      keys.close()
    },
  }
}
