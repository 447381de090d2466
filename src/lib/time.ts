/**
 * `format`, remembering its last answer: a page of rows repeats the same instants (60 dispatch rows
 * share an interval end, a file's rows its ingest time), and formatting a Date is most of turning
 * a stored row back into an event.
 */
function lastOne(format: (ms: number) => string): (ms: number) => string {
  let last = Number.NaN
  let text = ''
  return (ms) => {
    if (ms !== last) {
      text = format(ms)
      last = ms
    }
    return text
  }
}

/** ISO-8601 UTC with second precision and a `Z` suffix: fixed width, so strings sort like instants. */
export const toUtcIso = lastOne((ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'))

/** ISO-8601 UTC with millisecond precision, for wall-clock stamps such as `ingested_at`. */
export const toUtcIsoMs = lastOne((ms) => new Date(ms).toISOString())

export const FIVE_MINUTES_MS = 5 * 60 * 1000

/** End of the 5-minute dispatch interval that contains `ms` (an instant exactly on a boundary ends that interval). */
export const intervalEndFor = (ms: number): number =>
  Math.ceil(ms / FIVE_MINUTES_MS) * FIVE_MINUTES_MS

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
