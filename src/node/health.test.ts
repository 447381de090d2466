import { describe, expect, test } from 'bun:test'
import type { BusHealth, EventBus } from '@/bus'
import { createLoopRegistry, supervise } from '@/lib'
import { silentLogger } from '@/observability'
import { createLagMonitor } from '@/projection'
import { createLiveness, startWatchdog } from './health'
import { EX_SOFTWARE } from './version'

/** An event log whose reachability the test sets (only `health` is read by liveness). */
const logWith = (health: () => BusHealth) => ({ health }) as unknown as EventBus

const until = async (condition: () => boolean, what: string) => {
  const deadline = Date.now() + 5_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(5)
  }
}

describe('liveness and its watchdog', () => {
  test('a critical loop down past the stall time fails liveness only while Kafka answers, and the watchdog exits 70', async () => {
    const loops = createLoopRegistry()
    const relay = supervise({
      name: 'outbox relay',
      log: silentLogger(),
      registry: loops,
      critical: true,
      baseMs: 1,
      capMs: 2,
      minMs: 0,
      run: async () => {
        throw new Error('the relay thread died')
      },
    })
    let connected = true
    const lag = createLagMonitor({ endOffsets: async () => new Map(), positions: () => new Map() })
    const liveness = createLiveness({
      bus: logWith(() => ({ kind: 'kafka', connected, outboxDepth: 0 })),
      loops,
      lag,
      stallMs: 50,
    })
    expect(liveness()).toEqual({ alive: true })
    await until(() => !liveness().alive, 'the stall to count')
    const dead = liveness()
    expect(dead.alive).toBe(false)
    if (!dead.alive) expect(dead.detail).toContain('outbox relay has not been running')

    // Kafka itself down: a restart would not help, so liveness holds; when Kafka answers again,
    // the loop gets the stall time anew to come back before liveness gives up on it.
    connected = false
    expect(liveness()).toEqual({ alive: true })
    connected = true
    expect(liveness()).toEqual({ alive: true })
    await until(() => !liveness().alive, 'the stall to count again')

    const codes: number[] = []
    const timer = startWatchdog({
      liveness,
      log: silentLogger(),
      stopping: () => codes.length > 0,
      fail: (code) => codes.push(code),
      everyMs: 10,
    })
    await until(() => codes.length > 0, 'the watchdog to give up')
    clearInterval(timer)
    await relay.stop()
    expect(codes).toEqual([EX_SOFTWARE])
  })
})
