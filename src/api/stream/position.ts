import { TOPICS } from '@/canonical'

/**
 * A stream position: for each partition of each streamed topic, the NEXT offset to send (Kafka's
 * committed-offset convention). Offsets are per partition of the event log, identical on every
 * node and in both bus modes, so a position taken from one node resumes on another.
 */
export type Position = Map<string, number[]>

/** Stream names of the query and of the event id (`prices`), and their topics (`market.prices`). */
export const STREAM_TOPICS: Readonly<Record<string, string>> = TOPICS
const STREAM_OF: ReadonlyMap<string, string> = new Map(
  Object.entries(TOPICS).map(([name, topic]) => [topic, name])
)

/**
 * The SSE `id:` of a position: `<stream>:<o0>:<o1>:<o2>` per streamed topic, comma-separated, e.g.
 * `prices:120:98:131,dispatch:5120:4980:5001`. Compact (a few bytes per partition), readable in a
 * curl session, and free of what SSE forbids in an id (newlines, NUL).
 */
export function encodePosition(position: Position): string {
  const parts: string[] = []
  for (const [topic, offsets] of position)
    parts.push(`${STREAM_OF.get(topic)}:${offsets.join(':')}`)
  return parts.join(',')
}

/** Parses a Last-Event-ID; undefined when it is not a position this API wrote. */
export function decodePosition(id: string): Position | undefined {
  const position: Position = new Map()
  if (id.length === 0 || id.length > 4096) return undefined
  for (const part of id.split(',')) {
    const [name, ...offsets] = part.split(':')
    const topic = name === undefined ? undefined : STREAM_TOPICS[name]
    if (!topic || offsets.length === 0 || offsets.length > 1024 || position.has(topic))
      return undefined
    const numbers = offsets.map((o) => (/^\d{1,15}$/.test(o) ? Number(o) : Number.NaN))
    if (numbers.some(Number.isNaN)) return undefined
    position.set(topic, numbers)
  }
  return position
}
