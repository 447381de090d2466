import { type GridEvent, eventIdFor, type MarketDispatchEvent } from '@/canonical'
import { DomainError, FIVE_MINUTES_MS, intervalEndFor, toUtcIso, toUtcIsoMs } from '@/lib'
import type { Queries } from '@/projection/queries'
import { problem } from '../problem'
import { envelope } from '../common'
import { createRouter } from '../router'
import { listDispatch, listInterconnectorFlows, listPrices, submitDispatch } from './market.routes'

export interface MarketDeps {
  readonly queries: Queries
  /** Publishes through the event log (embedded or Kafka); resolves once durable. */
  readonly publish: (events: readonly GridEvent[]) => Promise<void>
  readonly now: () => number
}

// The NEM started on 1998-12-13; a reading may be at most one day ahead (clock skew, pre-dispatch).
const NEM_START_MS = Date.parse('1998-12-13T00:00:00Z')
const MAX_AHEAD_MS = 24 * 3600 * 1000

export const marketRouter = (deps: MarketDeps) =>
  createRouter()
    .openapi(listDispatch, (c) => {
      const q = c.req.valid('query')
      const page = deps.queries.dispatch.list({
        ...q,
        regionId: q.region_id,
        fuelType: q.fuel_type,
      })
      return c.json(envelope(c, page, q.limit), 200)
    })
    .openapi(submitDispatch, async (c) => {
      const body = c.req.valid('json')
      const now = deps.now()
      const end = body.interval_end ? Date.parse(body.interval_end) : intervalEndFor(now)
      if (end % FIVE_MINUTES_MS !== 0 || end < NEM_START_MS || end > now + MAX_AHEAD_MS) {
        return problem(
          c,
          400,
          'validation_failed',
          'interval_end must be a 5-minute boundary between 1998-12-13 and one day ahead',
          [{ pointer: '/interval_end', detail: 'not a dispatch interval end' }]
        )
      }
      const interval_end = toUtcIso(end)
      const correlation_id = c.get('correlationId')
      const event: MarketDispatchEvent = {
        event_id: eventIdFor({
          event_type: 'MarketDispatchEvent',
          source: 'api',
          region_id: body.region_id,
          fuel_type: body.fuel_type,
          interval_end,
        }),
        event_type: 'MarketDispatchEvent',
        schema_version: 1,
        correlation_id,
        source: 'api',
        source_file: null,
        source_sha256: null,
        ingested_at: toUtcIsoMs(now),
        region_id: body.region_id,
        fuel_type: body.fuel_type,
        interval_end,
        value_mw: body.value_mw,
        unit_count: 1,
      }
      try {
        await deps.publish([event])
      } catch (error) {
        if (error instanceof DomainError) throw error // outbox_full: its own code and Retry-After
        throw new DomainError(
          'upstream_unavailable',
          'the event log did not accept the event; retry',
          503,
          true,
          { cause: error }
        )
      }
      return c.json(
        { status: 'accepted' as const, event_id: event.event_id, correlation_id, interval_end },
        202
      )
    })
    .openapi(listPrices, (c) => {
      const q = c.req.valid('query')
      const page = deps.queries.prices.list({ ...q, regionId: q.region_id })
      return c.json(envelope(c, page, q.limit), 200)
    })
    .openapi(listInterconnectorFlows, (c) => {
      const q = c.req.valid('query')
      const page = deps.queries.interconnectors.list({
        ...q,
        interconnectorId: q.interconnector_id,
      })
      return c.json(envelope(c, page, q.limit), 200)
    })
