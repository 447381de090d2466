import { describe, expect, test } from 'bun:test'
import { UpstreamError } from '@/lib'
import { createLogger, createSourceRegistry, silentLogger } from '@/observability'
import { createPoller, failureDelayMs } from './poller'

test('a skipped cycle (a node that is not the leader) is not reported as a success', async () => {
  const status = createSourceRegistry().register('aemo.dispatchis', 10)
  const controller = new AbortController()
  let cycles = 0
  const poller = createPoller({
    status,
    everyMs: 1,
    log: silentLogger(),
    cycle: async () => {
      if (++cycles === 3) controller.abort()
      return { events: 0, rejected: 0, skipped: true }
    },
  })
  await poller.run(controller.signal)
  expect(cycles).toBe(3)
  expect(status).toMatchObject({ lastSuccessAt: null, lastAttemptAt: null, consecutiveFailures: 0 })
})

test('a failing cycle is counted and the loop keeps going', async () => {
  const status = createSourceRegistry().register('openmeteo.forecast', 10)
  const controller = new AbortController()
  let cycles = 0
  const poller = createPoller({
    status,
    everyMs: 1,
    log: silentLogger(),
    sleep: async () => {
      if (cycles === 2) controller.abort()
    },
    cycle: async () => {
      cycles++
      throw new Error('upstream down')
    },
  })
  await poller.run(controller.signal)
  expect(status).toMatchObject({
    consecutiveFailures: 2,
    lastError: 'upstream down',
    lastSuccessAt: null,
  })
})

/** A virtual clock: `sleep` advances time instead of waiting, so hours run in milliseconds. */
function virtualClock(start = Date.parse('2026-12-01T00:00:00Z')) {
  let t = start
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms
    },
    sleep: async (ms: number) => {
      t += ms
    },
  }
}

/** A pino logger writing JSON lines into an array, at debug so every level is seen. */
function capturingLogger() {
  const lines: { level: string; msg: string; [k: string]: unknown }[] = []
  const log = createLogger({
    level: 'debug',
    destination: { write: (line: string) => void lines.push(JSON.parse(line)) },
  })
  return { log, lines, at: (level: string) => lines.filter((l) => l.level === level) }
}

const refused = () =>
  new UpstreamError('unreachable', 'GET nemweb.test/Reports/Current/ failed: ECONNREFUSED')

describe('failureDelayMs', () => {
  const policy = { backoffInitialMs: 2_000, backoffMaxMs: 300_000 }
  test('doubles from the initial delay, jittered within [half, whole] of the ceiling', () => {
    expect([1, 2, 3, 4].map((n) => failureDelayMs(n, policy, () => 1))).toEqual([
      2_000, 4_000, 8_000, 16_000,
    ])
    expect([1, 2, 3, 4].map((n) => failureDelayMs(n, policy, () => 0))).toEqual([
      1_000, 2_000, 4_000, 8_000,
    ])
  })
  test('is capped, however many failures', () => {
    expect(failureDelayMs(9, policy, () => 1)).toBe(300_000)
    expect(failureDelayMs(10_000, policy, () => 1)).toBe(300_000)
    expect(failureDelayMs(10_000, policy, () => 0)).toBe(150_000)
  })
})

describe('a source that stays down', () => {
  test('ten minutes unreachable with the defaults: few polls, one warning, every failure counted', async () => {
    const clock = virtualClock()
    const registry = createSourceRegistry({ now: clock.now })
    const status = registry.register('aemo.dispatchis', 5_000)
    const { log, lines, at } = capturingLogger()
    const controller = new AbortController()
    const probes: boolean[] = []
    const started = clock.now()
    const poller = createPoller({
      status,
      everyMs: 5_000,
      log,
      now: clock.now,
      sleep: async (ms) => {
        await clock.sleep(ms)
        if (clock.now() - started >= 10 * 60_000) controller.abort()
      },
      random: () => 1, // the longest waits: the fewest polls
      cycle: async (_signal, context) => {
        probes.push(context.probe)
        clock.advance(10) // a refused connection is quick
        throw refused()
      },
    })
    await poller.run(controller.signal)

    // Polls at 0, 2, 6, 14, 30, 62, 126, 254 and 510 s; the next would be at 810 s.
    // (At the 5 s period without backoff it was 120 polls, each of up to 4 requests.)
    expect(probes.length).toBe(9)
    // Only the first poll retries inside the HTTP client; after that the source is down and
    // each poll is a single probe.
    expect(probes).toEqual([false, ...Array(8).fill(true)])
    expect(status.failures.unreachable).toBe(9)
    expect(status).toMatchObject({
      consecutiveFailures: 9,
      downSince: started,
      lastSuccessAt: null,
      lastFailureReason: 'unreachable',
    })
    // One "source down" with the reason and the short URL; every other failure is at debug.
    expect(at('warn')).toHaveLength(1)
    expect(at('warn')[0]).toMatchObject({
      msg: 'source down',
      reason: 'unreachable',
      failures: 1,
      error: 'GET nemweb.test/Reports/Current/ failed: ECONNREFUSED',
    })
    expect(lines.filter((l) => l.level !== 'debug').length).toBeLessThanOrEqual(20)
    expect(at('debug')).toHaveLength(8)
  })

  test('reminders come once per logEveryMs, with the count and since when, however fast the polls', async () => {
    const clock = virtualClock()
    const status = createSourceRegistry({ now: clock.now }).register('openmeteo.forecast', 60_000)
    const { log, at } = capturingLogger()
    const controller = new AbortController()
    const started = clock.now()
    const poller = createPoller({
      status,
      everyMs: 60_000,
      log,
      now: clock.now,
      sleep: async (ms) => {
        await clock.sleep(ms)
        if (clock.now() - started >= 3_600_000) controller.abort()
      },
      outage: { backoffInitialMs: 100, backoffMaxMs: 200, logEveryMs: 600_000 },
      cycle: async () => {
        throw new Error('boom')
      },
    })
    await poller.run(controller.signal)
    // An hour of polls 100-200 ms apart: ≥ 18,000 failures; 1 "down" + 5 reminders (10, 20, …, 50
    // min; the one due at 60 min falls on the abort).
    expect(status.failures.internal).toBeGreaterThanOrEqual(18_000)
    const warnings = at('warn')
    expect(warnings.map((l) => l.msg)).toEqual([
      'source down',
      ...Array(5).fill('source still down'),
    ])
    expect(warnings[5]).toMatchObject({
      reason: 'internal',
      error: 'boom',
      down_since: new Date(started).toISOString(),
    })
    expect(warnings[5]!.failures).toBeGreaterThanOrEqual(15_000)
  })

  test('a success logs one recovery with the outage length, and the normal period resumes', async () => {
    const clock = virtualClock()
    const status = createSourceRegistry({ now: clock.now }).register('aemo.dispatchis', 5_000)
    const { log, at } = capturingLogger()
    const controller = new AbortController()
    const waits: number[] = []
    let polls = 0
    const poller = createPoller({
      status,
      everyMs: 5_000,
      log,
      now: clock.now,
      sleep: async (ms) => {
        waits.push(ms)
        await clock.sleep(ms)
      },
      random: () => 1,
      cycle: async () => {
        polls++
        if (polls <= 3) throw refused()
        if (polls === 6) controller.abort()
        return { events: 1, rejected: 0 }
      },
    })
    await poller.run(controller.signal)
    expect(waits).toEqual([2_000, 4_000, 8_000, 5_000, 5_000, 5_000])
    const recovered = at('info').filter((l) => l.msg === 'source recovered')
    expect(recovered).toHaveLength(1)
    expect(recovered[0]).toMatchObject({ outage_ms: 14_000, failures: 3 })
    expect(at('warn').map((l) => l.msg)).toEqual(['source down'])
    expect(status).toMatchObject({
      downSince: null,
      consecutiveFailures: 0,
      lastError: null,
      lastFailureReason: null,
    })
    expect(status.failures.unreachable).toBe(3)
  })

  test('failures are classified: timeout, HTTP status, unusable answer, anything else', async () => {
    const status = createSourceRegistry().register('openmeteo.forecast', 10)
    const controller = new AbortController()
    const errors: unknown[] = [
      new UpstreamError('timeout', 'GET x failed: timed out'),
      new UpstreamError('http_status', 'listing x: HTTP 503'),
      new SyntaxError('Unexpected token'),
      new Error('outbox full'),
    ]
    let i = 0
    const poller = createPoller({
      status,
      everyMs: 1,
      log: silentLogger(),
      sleep: async () => {
        if (i === errors.length) controller.abort()
      },
      cycle: async () => {
        throw errors[i++]
      },
    })
    await poller.run(controller.signal)
    expect(status.failures).toEqual({
      unreachable: 0,
      timeout: 1,
      http_status: 1,
      invalid_response: 1,
      internal: 1,
    })
  })
})

test('a poll cut short by shutdown is not an outage: not counted, not logged', async () => {
  const status = createSourceRegistry().register('aemo.dispatchis', 5_000)
  const { log, lines } = capturingLogger()
  const controller = new AbortController()
  await createPoller({
    status,
    everyMs: 5_000,
    log,
    cycle: async (signal) => {
      controller.abort()
      throw signal.reason
    },
  }).run(controller.signal)
  expect(status).toMatchObject({ consecutiveFailures: 0, downSince: null, lastError: null })
  expect(Object.values(status.failures).every((n) => n === 0)).toBe(true)
  expect(lines).toEqual([])
})
