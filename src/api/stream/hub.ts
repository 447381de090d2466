import type { GridEvent } from '@/canonical'
import type { JournalEntry, StreamJournal } from '@/projection/read-port'
import { encodePosition, type Position } from './position'

/** Who is reading a stream: what a visibility rule decides on. */
export interface StreamViewer {
  /** The authenticated consumer (team); absent with AUTH_MODE=none. */
  readonly consumer?: string
  readonly scope?: string
}

/** One event as the stream sends it: its log position, its type, its region and its JSON. */
export type StreamRecord = JournalEntry

/**
 * Whether a viewer may see a record, on top of its filters. The hook for events that belong to
 * one consumer (an alert fired by a rule a key owns): replay and live both ask it.
 */
export type StreamVisibility = (record: StreamRecord, viewer: StreamViewer) => boolean

/** A batch the projection committed: the shape of the bus's ConsumedBatch the hub reads. */
export interface CommittedBatch {
  readonly topic: string
  readonly partition: number
  readonly records: readonly {
    readonly offset: bigint
    readonly kind: string
    readonly event?: GridEvent
  }[]
}

export interface StreamHubOptions {
  readonly journal: Pick<StreamJournal, 'read' | 'floor'>
  /** The streamed topics (the event topics, not the DLQs). */
  readonly topics: readonly string[]
  /** Partitions per topic (DESIGN.md: 3, in both bus modes). */
  readonly partitions: number
  /** The projection's stored next offsets, `topic/partition`: where live starts. */
  readonly positions: () => ReadonlyMap<string, bigint>
  readonly maxConnections: number
  readonly maxPerKey: number
  /** Queued events per client before it is sent `overflow` and closed. */
  readonly bufferEvents: number
  readonly heartbeatMs: number
  readonly visible?: StreamVisibility
  /**
   * The "streamed" stage: called once per event, after it was queued to every live client that
   * wants it, with the time since its projection transaction committed (seconds).
   */
  readonly onStreamed?: (event: GridEvent, seconds: number) => void
  readonly onConnections?: (open: number) => void
  readonly onOverflow?: () => void
  readonly onRefused?: (limit: 'total' | 'per_key') => void
  readonly now?: () => number
}

export interface StreamRequest {
  readonly viewer: StreamViewer
  /** What the per-key limit counts by (the consumer); absent: only the total limit applies. */
  readonly key?: string
  readonly topics: readonly string[]
  /** Only events with one of these `region_id`s (events without one are then left out). */
  readonly regions?: ReadonlySet<string>
  /** Where to resume (Last-Event-ID); topics it does not name start live. */
  readonly resume?: Position
}

export type StreamOpening =
  | { readonly ok: true; readonly body: ReadableStream<Uint8Array> }
  | { readonly ok: false; readonly limit: 'total' | 'per_key'; readonly max: number }

export interface StreamHub {
  open(request: StreamRequest): StreamOpening
  /** Called right after the projection committed `batch` (same tick, before any other batch). */
  publish(batch: CommittedBatch, committedAt: number): void
  connections(): number
  /**
   * Sends one event that is not on the log (an alert fired by a rule `owner` has) to the open
   * streams of `owner` only (`anonymous`: the streams opened without a consumer, AUTH_MODE=none).
   * Live only and without an `id:` line, so a client's Last-Event-ID stays the log position it
   * resumes from; an alert missed while disconnected is not replayed (webhooks are retried).
   */
  notify(owner: string, event: string, data: string): void
  /** Ends every stream (clients reconnect elsewhere with their Last-Event-ID). */
  close(): void
}

interface Client {
  readonly request: StreamRequest
  /** The client's topics, joined: clients with equal keys share frames. */
  readonly topicKey: string
  /** Next offset to send, per partition of its topics. */
  readonly cursor: Position
  controller?: ReadableStreamDefaultController<Uint8Array>
  /** False while it is replayed from the journal (live events then reach it through the journal). */
  live: boolean
  /** Live, and its cursor equals the hub's live point on all its partitions: shared frames fit. */
  inSync: boolean
  /** Its queue was full when the batch being fanned out committed. */
  full: boolean
  closed: boolean
}

const encoder = new TextEncoder()
const HEARTBEAT = encoder.encode(': keep-alive\n\n')
// `retry:` asks EventSource to reconnect after 2 s (its default is ~3 s, browser-dependent).
const PRELUDE = encoder.encode('retry: 2000\n: connected\n\n')
/** Journal rows per read while replaying, and per pull before yielding to other work. */
const REPLAY_CHUNK = 500
const REPLAY_ROWS_PER_TURN = 5_000

const frame = (id: string, event: string, data: string) =>
  encoder.encode(`id: ${id}\nevent: ${event}\ndata: ${data}\n\n`)

const copyOf = (position: Position, topics: readonly string[]): Position =>
  new Map(topics.map((t) => [t, [...(position.get(t) ?? [])]]))

const samePosition = (a: Position, b: Position, topics: readonly string[]) =>
  topics.every((t) => {
    const x = a.get(t)!
    const y = b.get(t)!
    return x.every((o, p) => o === y[p])
  })

/**
 * The live stream's fan-out: one reader of the projection for every client. The node calls
 * `publish` after each committed batch; a client resuming from an older position is first fed
 * from the journal (paced by its own reads), then joins live at the exact offset where the
 * journal ended, with no gap and no duplicate. Order is per partition (as in the log): events of
 * one region of one stream arrive in order; across partitions, in commit order live and
 * partition by partition in a replay.
 */
export function createStreamHub(options: StreamHubOptions): StreamHub {
  const state = createHubState(options)
  const heartbeat = setInterval(() => {
    for (const client of state.clients) if (hasRoom(client)) client.controller!.enqueue(HEARTBEAT)
  }, options.heartbeatMs)
  heartbeat.unref?.()
  return {
    open: (request) => openClient(state, request),
    publish: (batch, committedAt) => publishBatch(state, batch, committedAt),
    connections: () => state.clients.size,
    notify(owner, event, data) {
      const bytes = encoder.encode(`event: ${event}\ndata: ${data}\n\n`)
      for (const client of state.clients)
        if ((client.request.viewer.consumer ?? 'anonymous') === owner && hasRoom(client))
          client.controller!.enqueue(bytes)
    },
    close() {
      clearInterval(heartbeat)
      for (const client of [...state.clients]) {
        state.remove(client)
        try {
          client.controller?.close()
        } catch {} // already closed by its reader
      }
    },
  }
}

type HubState = ReturnType<typeof createHubState>

function createHubState(options: StreamHubOptions) {
  const live: Position = new Map(options.topics.map((t) => [t, Array(options.partitions).fill(0)]))
  for (const [pk, next] of options.positions()) {
    const slash = pk.lastIndexOf('/')
    const offsets = live.get(pk.slice(0, slash))
    if (offsets) offsets[Number(pk.slice(slash + 1))] = Number(next)
  }
  const clients = new Set<Client>()
  const byTopic = new Map<string, Set<Client>>(options.topics.map((t) => [t, new Set()]))
  const perKey = new Map<string, number>()
  return {
    options,
    now: options.now ?? Date.now,
    live,
    clients,
    byTopic,
    perKey,
    add(client: Client) {
      clients.add(client)
      for (const t of client.request.topics) byTopic.get(t)!.add(client)
      const key = client.request.key
      if (key !== undefined) perKey.set(key, (perKey.get(key) ?? 0) + 1)
      options.onConnections?.(clients.size)
    },
    remove(client: Client) {
      if (client.closed) return
      client.closed = true
      clients.delete(client)
      for (const t of client.request.topics) byTopic.get(t)!.delete(client)
      const key = client.request.key
      if (key !== undefined) {
        const left = (perKey.get(key) ?? 1) - 1
        if (left > 0) perKey.set(key, left)
        else perKey.delete(key)
      }
      options.onConnections?.(clients.size)
    },
  }
}

const hasRoom = (client: Client) =>
  !client.closed && client.controller !== undefined && (client.controller.desiredSize ?? 0) > 0

function openClient(state: HubState, request: StreamRequest): StreamOpening {
  const { options } = state
  const refused = (limit: 'total' | 'per_key', max: number): StreamOpening => {
    options.onRefused?.(limit)
    return { ok: false, limit, max }
  }
  if (state.clients.size >= options.maxConnections) return refused('total', options.maxConnections)
  if (request.key !== undefined && (state.perKey.get(request.key) ?? 0) >= options.maxPerKey)
    return refused('per_key', options.maxPerKey)
  const { cursor, expired } = startingCursor(state, request)
  const client: Client = {
    request,
    topicKey: request.topics.join(','),
    cursor,
    live: false,
    inSync: false,
    full: false,
    closed: false,
  }
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        client.controller = controller
        controller.enqueue(PRELUDE)
        if (expired.length > 0)
          controller.enqueue(frame(encodePosition(cursor), 'reset', JSON.stringify(expired)))
      },
      pull: () => replay(state, client),
      cancel: () => state.remove(client),
    },
    { highWaterMark: options.bufferEvents }
  )
  state.add(client)
  // Already at (or past) the live point: live from this very tick, nothing to replay.
  if (request.topics.every((t) => cursor.get(t)!.every((o, p) => o >= state.live.get(t)![p]!)))
    goLive(state, client)
  return { ok: true, body }
}

/**
 * Where a client starts: the live point, or its resume position for the topics it names. Below a
 * partition's journal floor (retention removed those events) it starts at the floor, and the
 * stream opens with `event: reset` listing what was lost.
 */
function startingCursor(state: HubState, request: StreamRequest) {
  const cursor = copyOf(state.live, request.topics)
  const expired: {
    stream_topic: string
    partition: number
    requested: number
    resumed_at: number
  }[] = []
  for (const topic of request.topics) {
    const resume = request.resume?.get(topic)
    if (!resume) continue
    const offsets = cursor.get(topic)!
    for (let p = 0; p < offsets.length; p++) {
      const requested = resume[p]
      if (requested === undefined) continue
      const floor = state.options.journal.floor(topic, p)
      offsets[p] = Math.max(requested, floor)
      if (requested < floor)
        expired.push({ stream_topic: topic, partition: p, requested, resumed_at: floor })
    }
  }
  return { cursor, expired }
}

function goLive(state: HubState, client: Client) {
  client.live = true
  client.inSync = samePosition(client.cursor, state.live, client.request.topics)
}

/**
 * Feeds a replaying client from the journal while its queue has room; once its cursor reaches the
 * live point on every partition it goes live. Synchronous reads between `publish` calls (one
 * thread), so nothing committed in between can fall through the gap.
 */
async function replay(state: HubState, client: Client): Promise<void> {
  let scanned = 0
  while (!client.live && hasRoom(client)) {
    scanned += replayStep(state, client, Math.min(client.controller!.desiredSize!, REPLAY_CHUNK))
    if (scanned >= REPLAY_ROWS_PER_TURN) {
      scanned = 0
      await new Promise((resolve) => setTimeout(resolve, 0))
    }
  }
}

/** One journal read for the first partition behind the live point; rows scanned (≥ 1 unless live). */
function replayStep(state: HubState, client: Client, limit: number): number {
  for (const topic of client.request.topics) {
    const offsets = client.cursor.get(topic)!
    const liveOffsets = state.live.get(topic)!
    for (let p = 0; p < offsets.length; p++) {
      const until = liveOffsets[p] ?? 0
      if (offsets[p]! >= until) continue
      const rows = state.options.journal.read(topic, p, offsets[p]!, until, limit)
      for (const row of rows) {
        offsets[p] = row.offset + 1
        if (wants(state, client, row))
          client.controller!.enqueue(frame(encodePosition(client.cursor), row.eventType, row.data))
      }
      if (rows.length < limit) offsets[p] = until
      return Math.max(rows.length, 1)
    }
  }
  goLive(state, client)
  return 0
}

function wants(state: HubState, client: Client, record: StreamRecord): boolean {
  const { regions, viewer } = client.request
  if (regions && (record.regionId === null || !regions.has(record.regionId))) return false
  return state.options.visible?.(record, viewer) ?? true
}

/** Fans one committed batch out to the live clients of its topic. */
function publishBatch(state: HubState, batch: CommittedBatch, committedAt: number) {
  const offsets = state.live.get(batch.topic)
  if (!offsets) return // a DLQ topic: not streamed
  const { partition } = batch
  // More partitions than the layout said (a topic grown on the broker): they start at 0.
  while (offsets.length <= partition) offsets.push(0)
  const clients = state.byTopic.get(batch.topic)!
  // A batch goes to a client whole if its queue had room when the batch came: the bound is
  // STREAM_BUFFER_EVENTS plus one batch, and a batch larger than the buffer cuts off no one.
  for (const client of clients) client.full = !hasRoom(client)
  for (const record of batch.records) {
    const offset = Number(record.offset)
    // Redelivered after a rebalance or a retry: the projection skipped it, and so does the stream.
    if (offset < (offsets[partition] ?? 0)) continue
    offsets[partition] = offset + 1
    if (record.kind !== 'event' || !record.event) continue
    const event = record.event
    if (clients.size > 0)
      deliver(state, clients, {
        topic: batch.topic,
        partition,
        offset,
        eventType: event.event_type,
        regionId: 'region_id' in event ? event.region_id : null,
        data: JSON.stringify(event),
      })
    // Observed with no client too: the stage then measures the hub's own delay after the commit.
    state.options.onStreamed?.(event, (state.now() - committedAt) / 1000)
  }
  for (const client of clients) {
    if (!client.live || client.inSync) continue
    const cursor = client.cursor.get(batch.topic)!
    cursor[partition] = Math.max(cursor[partition] ?? 0, offsets[partition] ?? 0)
    client.inSync = samePosition(client.cursor, state.live, client.request.topics)
  }
}

/** One record to every live client that wants it: one frame per topic set for clients in sync. */
function deliver(state: HubState, clients: ReadonlySet<Client>, record: StreamRecord) {
  const shared = new Map<string, Uint8Array>()
  for (const client of clients) {
    if (!client.live) continue
    if (!client.inSync) {
      const cursor = client.cursor.get(record.topic)!
      if (record.offset < cursor[record.partition]!) continue // it is ahead of this node
      cursor[record.partition] = record.offset + 1
    }
    if (!wants(state, client, record)) continue
    if (client.full) {
      overflow(state, client, record)
      continue
    }
    let bytes = client.inSync ? shared.get(client.topicKey) : undefined
    if (!bytes) {
      const at = client.inSync ? copyOf(state.live, client.request.topics) : client.cursor
      bytes = frame(encodePosition(at), record.eventType, record.data)
      if (client.inSync) shared.set(client.topicKey, bytes)
    }
    client.controller!.enqueue(bytes)
  }
}

/**
 * A client whose queue is full: told where to resume (the position just before the event it could
 * not take) and closed. Its queue is bounded, so it costs the node nothing more; a reader that
 * never drains it is cut off after one heartbeat period.
 */
function overflow(state: HubState, client: Client, record: StreamRecord) {
  const at = copyOf(client.inSync ? state.live : client.cursor, client.request.topics)
  at.get(record.topic)![record.partition] = record.offset
  const id = encodePosition(at)
  const controller = client.controller!
  state.remove(client)
  state.options.onOverflow?.()
  const data = JSON.stringify({
    reason: 'slow_client',
    detail: `more than ${state.options.bufferEvents} events queued; reconnect with Last-Event-ID to resume`,
    last_event_id: id,
  })
  controller.enqueue(frame(id, 'overflow', data))
  controller.close()
  const cutOff = setTimeout(() => {
    try {
      controller.error(new Error('stream overflow'))
    } catch {} // drained and closed meanwhile
  }, state.options.heartbeatMs)
  cutOff.unref?.()
}
