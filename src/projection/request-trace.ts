import { index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core'
import { toUtcIsoMs } from '@/lib'
import type { ProjectionDb } from './db'

/**
 * API requests kept for `/api/v1/trace/{correlation_id}`: the writes (they produce events) and the
 * failures (what one traces), not every read. Behind Kong every request carries a correlation id,
 * and reads are most of the traffic (hundreds a second at the rate limits): recording them would
 * turn each read into a write and fill the table with requests nobody traces; the request log line
 * has them all. Bounded: the oldest rows go once `TRACE_REQUESTS_MAX` is exceeded. Node-local, like
 * the request log: a request is in the trace of the node that served it.
 */
export const apiRequests = sqliteTable(
  'api_requests',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    correlationId: text('correlation_id').notNull(),
    /** When the request arrived (epoch ms). */
    at: integer('at').notNull(),
    method: text('method').notNull(),
    path: text('path').notNull(),
    route: text('route').notNull(),
    status: integer('status').notNull(),
    durationMs: real('duration_ms'),
    consumer: text('consumer'),
  },
  (t) => [index('api_requests_by_correlation').on(t.correlationId, t.id)]
)

export interface TracedRequest {
  readonly correlation_id: string
  readonly at: string
  readonly method: string
  readonly path: string
  readonly route: string
  readonly status: number
  readonly duration_ms: number | null
  readonly consumer: string | null
}

export interface RequestRecord {
  readonly correlationId: string
  readonly at: number
  readonly method: string
  readonly path: string
  readonly route: string
  readonly status: number
  readonly durationMs: number
  readonly consumer: string | null
}

/**
 * Whether a request belongs in the trace store: writes and failures (see `apiRequests`), except
 * 429s: a client over its limit sends them by the thousand, and the limiter's metrics count them.
 */
export const isTraced = (method: string, status: number): boolean =>
  status !== 429 &&
  (status >= 400 || !(method === 'GET' || method === 'HEAD' || method === 'OPTIONS'))

export interface RequestTrace {
  record(request: RequestRecord): void
  byCorrelation(correlationId: string, limit: number): TracedRequest[]
}

/** Prunes in steps of 1 % of the cap, so the delete runs once per many inserts. */
export function createRequestTrace(db: ProjectionDb, max = 100_000): RequestTrace {
  const insert = db.sqlite.prepare(
    `INSERT INTO api_requests (correlation_id, at, method, path, route, status, duration_ms, consumer)
     VALUES ($correlationId, $at, $method, $path, $route, $status, $durationMs, $consumer)`
  )
  const prune = db.sqlite.prepare('DELETE FROM api_requests WHERE id <= ?')
  const select = db.sqlite.prepare(
    'SELECT * FROM api_requests WHERE correlation_id = ? ORDER BY id LIMIT ?'
  )
  const step = Math.max(1, Math.floor(max / 100))
  return {
    record(request) {
      const { lastInsertRowid } = insert.run({ ...request, path: request.path.slice(0, 512) })
      const id = Number(lastInsertRowid)
      if (id > max && id % step === 0) prune.run(id - max)
    },
    byCorrelation(correlationId, limit) {
      return (select.all(correlationId, limit) as Record<string, unknown>[]).map((r) => ({
        correlation_id: String(r.correlation_id),
        at: toUtcIsoMs(Number(r.at)),
        method: String(r.method),
        path: String(r.path),
        route: String(r.route),
        status: Number(r.status),
        duration_ms: r.duration_ms === null ? null : Number(r.duration_ms),
        consumer: (r.consumer as string | null) ?? null,
      }))
    },
  }
}
