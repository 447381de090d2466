import type { Context } from 'hono'
import type { GridEventType } from '@/canonical'
import type { Freshness, Reads } from '@/projection/read-port'
import { compressedBytes, type EncodedBody, type Encoding } from './encoded-body'
import type { AppEnv } from './router'

/** A route's handler says what its answer reads; without it nothing of the answer is cached. */
export const declareReads = (c: Context<AppEnv>, reads: Reads) => c.set('reads', reads)

/** `meta.timestamp`: when this response was served (the same instant in every field that says so). */
export const servedAt = (c: Context<AppEnv>): string => {
  let ts = c.get('servedAt')
  if (ts === undefined) {
    ts = new Date().toISOString()
    c.set('servedAt', ts)
  }
  return ts
}

interface Entry {
  readonly route: string
  readonly contentType: string
  readonly reads: Reads
  readonly stamp: number
  readonly body: EncodedBody
  bytes: number
}

/** What an entry holds, bytes: each encoding's bytes twice (an array and a Blob), and the rest. */
const entrySize = (key: string, body: EncodedBody) =>
  2 * (body.prefix.byteLength + compressedBytes(body)) + 512 + key.length

/**
 * Encoded answers by request (path and query), each valid until a commit touches a stream it read.
 * Least recently used first out, bounded by bytes (RESPONSE_CACHE_MB): the encoded body and the
 * compressed forms made for it so far.
 */
export function createResponseCache(maxBytes: number, freshness: Freshness) {
  const entries = new Map<string, Entry>()
  let bytes = 0
  const drop = (key: string, entry: Entry) => {
    entries.delete(key)
    bytes -= entry.bytes
  }
  const fit = () => {
    for (const [key, entry] of entries) {
      if (bytes <= maxBytes) break
      drop(key, entry)
    }
  }
  const valid = (key: string) => {
    const entry = entries.get(key)
    if (!entry) return undefined
    if (entry.stamp === freshness.stamp(entry.reads)) return entry
    drop(key, entry)
    return undefined
  }
  return {
    get(key: string): Entry | undefined {
      const entry = valid(key)
      if (!entry) return undefined
      // Most recently used last: Map iterates in insertion order.
      entries.delete(key)
      entries.set(key, entry)
      return entry
    },
    /** Whether `key` has a valid entry, without counting as a use. */
    has: (key: string): boolean => valid(key) !== undefined,
    set(key: string, entry: Omit<Entry, 'bytes'>) {
      const size = entrySize(key, entry.body)
      // One answer may not push out most of the others.
      if (size > maxBytes / 4) return
      const old = entries.get(key)
      if (old) drop(key, old)
      entries.set(key, { ...entry, bytes: size })
      bytes += size
      fit()
    },
    /** After a compressed form was added to `entry`'s body. */
    grew(key: string, entry: Entry) {
      const size = entrySize(key, entry.body)
      if (entries.get(key) !== entry) return
      bytes += size - entry.bytes
      entry.bytes = size
      fit()
    },
    stats: () => ({ entries: entries.size, bytes }),
  }
}
export type ResponseCache = ReturnType<typeof createResponseCache>

/**
 * The cache key: path and query, the query's parameters ordered by name (a stable sort, so
 * repeated names keep their order: the first one is the one read).
 */
export function cacheKey(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2)
  const q = url.indexOf('?', start)
  if (q < 0) return url.slice(start)
  const path = url.slice(start, q)
  const params = url.slice(q + 1).split('&')
  if (params.length < 2) return url.slice(start)
  const name = (p: string) => {
    const eq = p.indexOf('=')
    return eq < 0 ? p : p.slice(0, eq)
  }
  params.sort((a, b) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0))
  return `${path}?${params.join('&')}`
}

/** Whether `If-None-Match` matches `etag` by weak comparison (RFC 9110 §13.1.2): `*` or a list. */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  const opaque = etag.startsWith('W/') ? etag.slice(2) : etag
  for (const raw of header.split(',')) {
    const tag = raw.trim()
    if (tag === '*') return true
    if ((tag.startsWith('W/') ? tag.slice(2) : tag) === opaque) return true
  }
  return false
}

/** The encoding to answer with: the highest q of br, gzip, identity (ties: br, gzip). */
export function chooseEncoding(header: string | undefined): Encoding {
  if (!header) return 'identity'
  let star: number | undefined
  const q: Partial<Record<string, number>> = {}
  for (const raw of header.split(',')) {
    const [coding = '', ...params] = raw.split(';')
    const name = coding.trim().toLowerCase()
    const weight = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('q='))
    const value = weight === undefined ? 1 : Number(weight.slice(2))
    const v = Number.isFinite(value) ? value : 0
    if (name === '*') star = v
    else q[name] = v
  }
  const br = q.br ?? star ?? 0
  const gzip = q.gzip ?? q['x-gzip'] ?? star ?? 0
  // identity is acceptable unless excluded explicitly; it is never preferred over a coding at the
  // same weight (that is what the client asked the coding for).
  const identity = q.identity ?? (star === 0 ? 0 : 1)
  if (br > 0 && br >= gzip && br >= identity) return 'br'
  if (gzip > 0 && gzip >= identity) return 'gzip'
  return 'identity'
}

/**
 * How long a client may reuse an answer without asking (seconds), when that is safe: every stream
 * read is published by AEMO once per interval, for the interval that just ended, and the
 * projection already holds the interval that ended last; so no new interval can exist before the
 * next boundary. The answer then keeps until that boundary (AEMO's publish delay only makes it
 * safer). Streams with manual writes (dispatch), forecasts (rooftop PV), a cadence not tied to
 * interval ends (weather) or everything (`all`: stats, dead letters) are revalidated every time.
 * A re-published file that revises an interval already served can be seen up to one interval late.
 */
const CADENCE_MS: Partial<Record<GridEventType, number>> = {
  RegionPriceEvent: 300_000,
  RegionFcasPriceEvent: 300_000,
  InterconnectorFlowEvent: 300_000,
}

export function maxAgeSeconds(reads: Reads, freshness: Freshness, now: number): number | undefined {
  if (reads === 'all' || reads.length === 0) return undefined
  let seconds = Number.POSITIVE_INFINITY
  for (const type of reads) {
    const cadence = CADENCE_MS[type]
    const newest = freshness.newestOf(type)
    if (cadence === undefined || newest === undefined) return undefined
    const ended = now - (now % cadence)
    if (newest < ended) return undefined
    seconds = Math.min(seconds, Math.floor((ended + cadence - now) / 1000))
  }
  return seconds >= 1 ? seconds : undefined
}
