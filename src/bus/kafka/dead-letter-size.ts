import type { DeadLetter } from '@/canonical'

/**
 * Largest encoded dead letter GridPulse puts on Kafka. A dead letter carries the rejected payload
 * verbatim (up to 1 MB of text, more once JSON-escaped), while Kafka's default limit for a whole
 * record batch is 1 MB: past that the broker refuses it for good. Half a megabyte leaves room.
 */
export const MAX_DEAD_LETTER_BYTES = 512 * 1024

/**
 * Returns the dead letter unchanged when it fits, else with `raw` cut short enough to fit and the
 * cut stated in `reason` (so nobody mistakes the prefix for the whole payload).
 */
export function fitDeadLetter(record: DeadLetter, maxBytes = MAX_DEAD_LETTER_BYTES): DeadLetter {
  let size = Buffer.byteLength(JSON.stringify(record))
  if (size <= maxBytes) return record
  const original = record.raw.length
  let fitted = record
  while (size > maxBytes && fitted.raw.length > 0) {
    const keep = Math.floor(fitted.raw.length * (maxBytes / size) * 0.95)
    const note = ` [raw truncated to ${keep} of ${original} characters to fit a Kafka message]`
    fitted = {
      ...record,
      raw: record.raw.slice(0, keep),
      reason: `${record.reason.slice(0, 2_000 - note.length)}${note}`,
    }
    size = Buffer.byteLength(JSON.stringify(fitted))
  }
  return fitted
}
