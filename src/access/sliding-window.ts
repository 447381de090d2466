/**
 * A sliding-log rate limiter: a key may have at most `limit` accepted requests in any `windowMs`
 * interval, wherever the interval starts. A fixed one-minute window (what Kong OSS and the seed
 * use) lets a client send `limit` requests just before a minute boundary and `limit` more just
 * after it; a sliding log admits none of the second batch until the first one ages out.
 *
 * Memory: per key, a ring of the timestamps inside the window (8 bytes each, grown on demand up to
 * `limit`, so a huge configured limit costs only what is used), and at most `maxKeys` keys.
 * Keys are kept in least-recently-used order (a JavaScript Map iterates in insertion order and a
 * touched key is re-inserted), so idle keys (no request inside the window) are dropped from the
 * front as new keys arrive. When every one of `maxKeys` keys is active, the least recently used one
 * is evicted: a client rotating keys or addresses can only reset the counters of whoever has been
 * quiet the longest, never grow the map.
 */
export interface RateLimitDecision {
  readonly allowed: boolean
  readonly limit: number
  /** Requests still allowed right now (after this one, when it was allowed). */
  readonly remaining: number
  /** Seconds until the oldest counted request leaves the window, i.e. until one more is allowed (0 = nothing counted). */
  readonly resetSeconds: number
}

export interface SlidingWindowLimiter {
  /** Counts one request for `key` at `now` (epoch ms) when it is within the limit. */
  hit(key: string, now: number): RateLimitDecision
  /** Keys currently held (for tests and metrics). */
  readonly size: number
}

interface Log {
  /** Accepted request times, epoch ms, a ring of up to `limit` slots. */
  times: Float64Array
  /** Index of the oldest counted time. */
  head: number
  count: number
}

export function createSlidingWindowLimiter(options: {
  readonly limit: number
  readonly windowMs?: number
  readonly maxKeys?: number
}): SlidingWindowLimiter {
  const { limit } = options
  const windowMs = options.windowMs ?? 60_000
  const maxKeys = options.maxKeys ?? 10_000
  if (!Number.isInteger(limit) || limit < 1) throw new Error('limit must be a positive integer')
  const logs = new Map<string, Log>()

  /** Drops the times that left the window [now - windowMs, now]. */
  const expire = (log: Log, now: number) => {
    while (log.count > 0 && log.times[log.head]! <= now - windowMs) {
      log.head = (log.head + 1) % log.times.length
      log.count--
    }
  }
  const at = (log: Log, i: number) => log.times[(log.head + i) % log.times.length]!
  const newest = (log: Log) => at(log, log.count - 1)
  const grow = (log: Log) => {
    const times = new Float64Array(Math.min(limit, log.times.length * 2))
    for (let i = 0; i < log.count; i++) times[i] = at(log, i)
    log.times = times
    log.head = 0
  }

  const idle = (log: Log, now: number) => log.count === 0 || newest(log) <= now - windowMs

  const makeRoom = (now: number) => {
    // The front of the Map is the least recently touched key: idle ones go first…
    for (const [key, log] of logs) {
      if (!idle(log, now)) break
      logs.delete(key)
    }
    // …and when all are active, the least recently used one.
    while (logs.size >= maxKeys) logs.delete(logs.keys().next().value!)
  }

  return {
    hit(key, now) {
      let log = logs.get(key)
      if (log) logs.delete(key)
      else {
        makeRoom(now)
        log = { times: new Float64Array(Math.min(limit, 16)), head: 0, count: 0 }
      }
      logs.set(key, log)
      expire(log, now)
      const allowed = log.count < limit
      if (allowed) {
        if (log.count === log.times.length) grow(log)
        log.times[(log.head + log.count) % log.times.length] = now
        log.count++
      }
      const resetSeconds =
        log.count === 0 ? 0 : Math.max(1, Math.ceil((log.times[log.head]! + windowMs - now) / 1000))
      return { allowed, limit, remaining: limit - log.count, resetSeconds }
    },
    get size() {
      return logs.size
    },
  }
}

/**
 * The key an unauthenticated client is limited by: an IPv4 address as is, an IPv6 address by its
 * /64 (one subscriber's prefix; a single host can use billions of addresses inside it).
 */
export function addressKey(address: string | undefined): string {
  if (!address) return 'unknown'
  const v4mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (v4mapped) return v4mapped[1]!
  if (!address.includes(':')) return address
  const [head = '', tail = ''] = address.toLowerCase().split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const groups = address.includes('::')
    ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`
}
