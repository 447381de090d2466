import {
  createEvent,
  type GridEvent,
  type MarketDispatchEvent,
  manualSignViolation,
} from '@/canonical'
import { DomainError, FIVE_MINUTES_MS, intervalEndFor, toUtcIso, toUtcIsoMs } from '@/lib'
import type { ReadPort } from '@/projection/read-port'
import { problem } from '../problem'
import { envelope } from '../common'
import { createRouter } from '../router'
import { createManualWrites } from './manual-writes'
import {
  listDispatch,
  listDispatchRevisions,
  listInterconnectorFlows,
  listPrices,
  submitDispatch,
} from './market.routes'

export interface MarketDeps {
  readonly queries: Pick<ReadPort, 'dispatch' | 'prices' | 'interconnectors'>
  /** Publishes through the event log (embedded or Kafka); resolves once durable. */
  readonly publish: (events: readonly GridEvent[]) => Promise<void>
  readonly now: () => number
}

// The NEM started on 1998-12-13; a reading may be at most one day ahead (clock skew, pre-dispatch).
const NEM_START_MS = Date.parse('1998-12-13T00:00:00Z')
const MAX_AHEAD_MS = 24 * 3600 * 1000

export const marketRouter = (deps: MarketDeps) => {
  const manual = createManualWrites(deps.queries)
  return createRouter()
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
      const sign = manualSignViolation(body.fuel_type, body.value_mw)
      if (sign) {
        return problem(c, 400, 'validation_failed', sign, [{ pointer: '/value_mw', detail: sign }])
      }
      const key = {
        region_id: body.region_id,
        fuel_type: body.fuel_type,
        interval_end: toUtcIso(end),
      }
      const { interval_end } = key
      const revision = body.revision ?? 1
      const correlation_id = c.get('correlationId')
      // The canonical field holds at most 128 characters; consumer names are far shorter in practice.
      const written_by = c.get('consumer')?.slice(0, 128)
      const what = `${body.region_id} ${body.fuel_type} at ${interval_end}`
      // Check-then-publish runs one at a time per key on this node and sees this node's writes that
      // are not projected yet, so one node never accepts two values for a revision. Two nodes can
      // still both accept (each checks only its own projection): the projection then keeps the
      // first in log order and records the other as a `conflict` dead letter (projection/apply.ts).
      return manual.exclusive(key, async () => {
        const slots = manual.slots(key)
        const current = Math.max(0, ...slots.keys())
        const next = `to change it, POST the new value with "revision": ${current + 1}`
        const taken = slots.get(revision)
        if (taken) {
          // The same body again is the same write (a retry): idempotent, same event id.
          if (taken.value_mw === body.value_mw) {
            return c.json(
              {
                status: 'accepted' as const,
                event_id: taken.event_id,
                correlation_id,
                interval_end,
                revision,
              },
              202
            )
          }
          return problem(
            c,
            409,
            'conflict',
            `revision ${revision} of ${what} is already ${taken.value_mw} MW (event ${taken.event_id}, ` +
              `written by ${taken.written_by ?? 'an unauthenticated client'} at ${taken.written_at}); ` +
              `the current revision is ${current}; ${next}`,
            [{ pointer: body.revision === undefined ? '/value_mw' : '/revision', detail: next }]
          )
        }
        const previous = slots.get(revision - 1)
        if (revision > 1 && !previous) {
          const detail =
            current === 0
              ? 'there is no reading to revise yet: POST it without "revision"'
              : `the current revision is ${current}; ${next}`
          return problem(
            c,
            409,
            'conflict',
            `revision ${revision} of ${what} would replace revision ${revision - 1}, which does not exist; ${detail}`,
            [{ pointer: '/revision', detail }]
          )
        }
        const event: MarketDispatchEvent = createEvent(
          'MarketDispatchEvent',
          {
            correlation_id,
            source: 'api',
            source_file: null,
            source_sha256: null,
            ingested_at: toUtcIsoMs(now),
          },
          {
            region_id: body.region_id,
            fuel_type: body.fuel_type,
            interval_end,
            value_mw: body.value_mw,
            unit_count: 1,
            revision,
            ...(written_by ? { written_by } : {}),
            ...(previous ? { previous_value_mw: previous.value_mw } : {}),
          }
        )
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
        manual.published(key, revision, {
          event_id: event.event_id,
          value_mw: event.value_mw,
          written_by: written_by ?? null,
          written_at: event.ingested_at,
        })
        return c.json(
          {
            status: 'accepted' as const,
            event_id: event.event_id,
            correlation_id,
            interval_end,
            revision,
          },
          202
        )
      })
    })
    .openapi(listDispatchRevisions, (c) => {
      const q = c.req.valid('query')
      const interval_end = toUtcIso(Date.parse(q.interval_end))
      const data = deps.queries.dispatch.revisions(q.region_id, q.fuel_type, interval_end)
      if (data.length === 0) {
        return problem(
          c,
          404,
          'not_found',
          `no manual reading for ${q.region_id} ${q.fuel_type} at ${interval_end}`
        )
      }
      return c.json(
        {
          region_id: q.region_id,
          fuel_type: q.fuel_type,
          interval_end,
          current_revision: data[data.length - 1]!.revision,
          data,
          correlation_id: c.get('correlationId'),
        },
        200
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
}
