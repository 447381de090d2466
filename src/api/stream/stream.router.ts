import { problem } from '../problem'
import { createRouter } from '../router'
import type { StreamHub } from './hub'
import { decodePosition, STREAM_TOPICS } from './position'
import { streamEvents } from './stream.routes'

/** What Bun passes as Hono's `env`: the server, whose per-request idle timeout a stream lifts. */
interface BunServerEnv {
  readonly timeout?: (request: Request, seconds: number) => void
}

export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  // no-transform: no proxy may compress or rewrite (buffer) the stream. X-Accel-Buffering: nginx,
  // and so Kong, passes each event on at once instead of filling its proxy buffer first.
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
} as const

export const streamRouter = (deps: { hub?: StreamHub }) =>
  createRouter().openapi(streamEvents, (c) => {
    const { hub } = deps
    if (!hub) return problem(c, 503, 'upstream_unavailable', 'this node does not stream')
    const query = c.req.valid('query')
    const lastEventId = c.req.valid('header')['last-event-id'] ?? query.last_event_id
    const resume = lastEventId === undefined ? undefined : decodePosition(lastEventId)
    if (lastEventId !== undefined && !resume)
      return problem(c, 400, 'validation_failed', 'Last-Event-ID is not a stream position', [
        { parameter: 'Last-Event-ID', detail: 'expected the id: of an event from this API' },
      ])
    const names = query.stream?.split(',') ?? Object.keys(STREAM_TOPICS)
    const principal = c.get('principal')
    const consumer = principal?.kind === 'consumer' ? principal : undefined
    const opening = hub.open({
      viewer: { consumer: consumer?.consumer, scope: consumer?.scope },
      key: consumer?.consumer,
      topics: [...new Set(names.map((n) => STREAM_TOPICS[n]!))],
      regions: query.region_id ? new Set(query.region_id.split(',')) : undefined,
      resume,
    })
    if (!opening.ok) {
      const detail =
        opening.limit === 'total'
          ? `this node serves at most ${opening.max} streams; try again later or another node`
          : `at most ${opening.max} open streams per key; close one first`
      return problem(c, 429, 'rate_limited', detail, undefined, { 'Retry-After': '30' })
    }
    // Bun closes a connection idle for 10 s by default; heartbeats keep proxies, not Bun, happy.
    ;(c.env as BunServerEnv | undefined)?.timeout?.(c.req.raw, 0)
    return new Response(opening.body, { status: 200, headers: SSE_HEADERS }) as never
  })
