import {
  createDeadLetter,
  type DeadLetter,
  DeadLetterSchema,
  describeIssues,
  dlqTopicFor,
  type GridEvent,
  GridEventSchema,
  keyFor,
  SCHEMA_VERSION,
  topicFor,
} from '@/canonical'
import { toUtcIsoMs } from '@/lib'
import type { ConsumedRecord, RawMessage } from './port'

export interface OutgoingMessage {
  readonly topic: string
  readonly key: string
  readonly value: string
  readonly headers: Record<string, string>
}

/** Canonical JSON on the wire, readable by any Kafka client; headers let routers skip parsing. */
export function encodeEvent(event: GridEvent): OutgoingMessage {
  return {
    topic: topicFor(event),
    key: keyFor(event),
    value: JSON.stringify(event),
    headers: {
      'content-type': 'application/json',
      'correlation-id': event.correlation_id,
      'event-type': event.event_type,
      'schema-version': String(event.schema_version),
    },
  }
}

export function encodeDeadLetter(record: DeadLetter): OutgoingMessage {
  return {
    topic: dlqTopicFor(record.topic),
    key: record.dead_letter_id,
    value: JSON.stringify(record),
    headers: {
      'content-type': 'application/json',
      ...(record.correlation_id ? { 'correlation-id': record.correlation_id } : {}),
      'event-type': 'DeadLetter',
      'schema-version': String(SCHEMA_VERSION),
    },
  }
}

/**
 * Parses a consumed message. A message that is not a valid canonical event is poison: it is turned
 * into a dead letter for `dlq.<topic>` (deterministic id from its coordinates, so a redelivery
 * does not duplicate it) and the partition keeps flowing.
 */
export function decodeMessage(
  topic: string,
  partition: number,
  message: RawMessage,
  now: number
): { record: ConsumedRecord; poison?: DeadLetter } {
  if (topic.startsWith('dlq.')) {
    const parsed = safeJson(message.value)
    const result = DeadLetterSchema.safeParse(parsed.ok ? parsed.value : undefined)
    if (result.success)
      return { record: { offset: message.offset, kind: 'dead_letter', deadLetter: result.data } }
    // A broken dead letter cannot go to dlq.dlq.*: skip it; the caller logs it.
    return { record: { offset: message.offset, kind: 'skipped' } }
  }
  const parsed = safeJson(message.value)
  const reason = parsed.ok ? undefined : `invalid JSON: ${parsed.error}`
  const result = parsed.ok ? GridEventSchema.safeParse(parsed.value) : undefined
  if (result?.success && topicFor(result.data) === topic) {
    // Kafka's CreateTime, set by the relay's producer as it sends; the embedded log's append time.
    const record = { offset: message.offset, kind: 'event' as const, event: result.data }
    return { record: { ...record, loggedAt: message.timestamp } }
  }
  const why =
    reason ??
    (result && !result.success
      ? `schema mismatch: ${describeIssues(result.error.issues)}`
      : `event of type ${result?.data?.event_type} does not belong on ${topic}`)
  return {
    record: { offset: message.offset, kind: 'skipped' },
    poison: createDeadLetter({
      origin: 'bus',
      identity: `${topic}|${partition}|${message.offset}`,
      topic,
      reason: why,
      code: reason ? 'invalid_json' : 'schema_mismatch',
      correlation_id: message.headers['correlation-id'] ?? null,
      source: 'bus',
      source_file: `${topic}/${partition}@${message.offset}`,
      row: null,
      raw: message.value,
      failed_at: toUtcIsoMs(now),
    }),
  }
}

function safeJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) }
  }
}
