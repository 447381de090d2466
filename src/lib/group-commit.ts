/**
 * Group commit: writes that arrive in the same turn of the event loop share one transaction, so
 * one fsync (SQLite `synchronous = FULL`) covers many API requests instead of one each. A lone
 * write still commits on its own, a moment later (after the current I/O callbacks).
 *
 * `commitAll` must be atomic (one transaction). If it throws, each write is retried alone, so one
 * bad write fails only its own caller.
 */
export function createGroupCommit<T>(options: {
  readonly commitAll: (items: readonly T[]) => void
  readonly commitOne: (item: T) => void
}): (item: T) => Promise<void> {
  let queue: { item: T; resolve: () => void; reject: (error: unknown) => void }[] = []

  const flush = () => {
    const batch = queue
    queue = []
    try {
      options.commitAll(batch.map((w) => w.item))
      for (const w of batch) w.resolve()
    } catch {
      for (const w of batch) {
        try {
          options.commitOne(w.item)
          w.resolve()
        } catch (error) {
          w.reject(error)
        }
      }
    }
  }

  return (item) =>
    new Promise<void>((resolve, reject) => {
      if (queue.length === 0) setImmediate(flush)
      queue.push({ item, resolve, reject })
    })
}
