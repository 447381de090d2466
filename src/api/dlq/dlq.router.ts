import { type GridEvent, GridEventSchema } from '@/canonical'
import type { ReadPort } from '@/projection/read-port'
import { issuesToErrors, problem } from '../problem'
import { declareReads } from '../response-cache'
import { createRouter } from '../router'
import { serveList } from '../series'
import { DEAD_LETTERS, listDeadLetters, replayDeadLetter } from './dlq.routes'

export const dlqRouter = (deps: {
  queries: Pick<ReadPort, 'deadLetters'>
  publish: (events: readonly GridEvent[]) => Promise<void>
}) =>
  createRouter()
    .openapi(listDeadLetters, (c) => {
      // Dead letters have no stream of their own: any commit may change the list.
      declareReads(c, 'all')
      return serveList(c, DEAD_LETTERS, deps.queries.deadLetters, c.req.valid('query'))
    })
    .openapi(replayDeadLetter, async (c) => {
      const { id } = c.req.valid('param')
      const record = deps.queries.deadLetters.byId(id)
      if (!record) return problem(c, 404, 'not_found', `no dead letter ${id}`)
      if (record.code === 'conflict') {
        // Replaying would only be refused again by the projection's first-writer-wins.
        return problem(
          c,
          422,
          'not_replayable',
          `a manual write that conflicted with an earlier one (${record.reason}); POST it again as a new revision`
        )
      }
      let payload: unknown
      try {
        payload = JSON.parse(record.raw)
      } catch {
        return problem(
          c,
          422,
          'not_replayable',
          `${record.code} from ${record.source_file ?? record.source}: the payload is not a canonical event; re-ingest its source file`
        )
      }
      const event = GridEventSchema.safeParse(payload)
      if (!event.success) {
        return problem(
          c,
          422,
          'not_replayable',
          'the payload still does not match the canonical model',
          issuesToErrors(event.error.issues, 'json')
        )
      }
      await deps.publish([event.data])
      return c.json(
        {
          status: 'replayed' as const,
          dead_letter_id: id,
          event_id: event.data.event_id,
          correlation_id: c.get('correlationId'),
        },
        202
      )
    })
