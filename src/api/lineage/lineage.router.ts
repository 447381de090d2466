import { TOPICS } from '@/canonical'
import { toUtcIsoMs } from '@/lib'
import type { ReadPort, ReplacedVersion, StoredEvent } from '@/projection/read-port'
import { problem } from '../problem'
import { createRouter } from '../router'
import { getLineage, getTrace } from './lineage.routes'

/** Bound per kind: a correlation id is one request or one file, far below it. */
const TRACE_LIMIT = 1_000

type Version = StoredEvent | ReplacedVersion

type Queries = Pick<ReadPort, 'lineage' | 'requests' | 'deadLetters' | 'sourceFiles'>

/** The event's file: what the event names, and the file's own record when one was published. */
function fileOf(v: Version, queries: Queries) {
  if (v.source_file === null) return null
  const record = v.source_sha256 ? queries.sourceFiles.bySha256(v.source_sha256) : undefined
  return {
    name: v.source_file,
    sha256: v.source_sha256,
    row: v.source_row,
    url: record?.url ?? null,
    size_bytes: record?.size_bytes ?? null,
    listed_at: record?.listed_at ?? null,
    fetched_at: record?.fetched_at ?? null,
  }
}

const versionOf = (v: Version, queries: Queries) => ({
  event_id: v.event_id,
  correlation_id: v.correlation_id,
  source: v.source,
  file: fileOf(v, queries),
  ingested_at: v.ingested_at,
  projected_at: v.projected_at,
  log: v.log,
})

export const lineageRouter = (deps: { queries: Queries }) =>
  createRouter()
    .openapi(getLineage, (c) => {
      const { event_id } = c.req.valid('param')
      const { lineage } = deps.queries
      const event = lineage.event(event_id)
      if (!event) return problem(c, 404, 'not_found', `no event ${event_id} in the projection`)
      return c.json(
        {
          ...versionOf(event, deps.queries),
          event_type: event.event_type,
          intervention: event.intervention,
          revision: event.revision,
          superseded_by: event.superseded_by,
          replaced: lineage
            .replaced(event_id)
            .map((v) => ({ ...versionOf(v, deps.queries), replaced_at: v.replaced_at })),
          earlier_revisions: lineage.earlierRevisions(event_id),
        },
        200
      )
    })
    .openapi(getTrace, (c) => {
      const { correlation_id: id } = c.req.valid('param')
      const items = [
        ...deps.queries.requests
          .byCorrelation(id, TRACE_LIMIT)
          .map(({ correlation_id: _, ...r }) => ({ kind: 'request' as const, ...r })),
        ...deps.queries.lineage.apiEvents(id, TRACE_LIMIT).map((e) => ({
          kind: 'event' as const,
          at: e.ingested_at,
          event_id: e.event_id,
          event_type: e.event_type,
          source: e.source,
          projected_at: e.projected_at,
          log: e.log,
        })),
        ...deps.queries.sourceFiles.byCorrelation(id, TRACE_LIMIT).map((f) => ({
          kind: 'file' as const,
          at: f.fetched_at,
          event_id: f.event_id,
          name: f.source_file ?? f.url,
          url: f.url,
          sha256: f.source_sha256,
          size_bytes: f.size_bytes,
          listed_at: f.listed_at,
          projected_at: toUtcIsoMs(f.projected_at),
          log: { topic: TOPICS.files, partition: f.log_partition, offset: f.log_offset },
        })),
        ...deps.queries.deadLetters.byCorrelation(id, TRACE_LIMIT).map((d) => ({
          kind: 'dead_letter' as const,
          at: d.failed_at,
          dead_letter_id: d.dead_letter_id,
          topic: d.topic,
          code: d.code,
          reason: d.reason,
          source_file: d.source_file,
          row: d.row,
        })),
      ]
      if (items.length === 0)
        return problem(c, 404, 'not_found', `nothing carried correlation id ${id} on this node`)
      // A request comes before the event it wrote when both fall in the same millisecond.
      const order = { request: 0, file: 1, event: 2, dead_letter: 3 }
      items.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : order[a.kind] - order[b.kind]))
      return c.json({ correlation_id: id, items }, 200)
    })
