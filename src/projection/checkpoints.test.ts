import { describe, expect, test } from 'bun:test'
import { createLagMonitor } from './checkpoints'

describe('lag monitor', () => {
  test('keeps the last known log end through an outage and counts a stall only while the log answers', async () => {
    let clock = 1_000
    let reachable = true
    const ends = new Map([
      ['market.prices/0', 10n],
      ['market.prices/1', 5n],
    ])
    const positions = new Map([['market.prices/0', 4n]])
    const monitor = createLagMonitor({
      endOffsets: async () => {
        if (!reachable) throw new Error('Kafka is down')
        return new Map(ends)
      },
      positions: () => new Map(positions),
      now: () => clock,
    })
    expect(monitor.snapshot()).toMatchObject({ lag: 0, endsReadAt: null })

    await monitor.refresh()
    expect(monitor.snapshot()).toMatchObject({ lag: 11, endsReadAt: 1_000, fresh: true })
    expect(monitor.snapshot().byPartition.get('market.prices/1')).toBe(5)

    // Behind and not moving while the log answers: a stall, measured from the first flat refresh.
    clock = 6_000
    await monitor.refresh()
    clock = 11_000
    await monitor.refresh()
    expect(monitor.stalledForMs()).toBe(5_000)

    // Kafka down: the last known ends still give the lag; no stall is counted.
    reachable = false
    clock = 16_000
    await monitor.refresh()
    expect(monitor.snapshot()).toMatchObject({ lag: 11, endsReadAt: 11_000, fresh: false })
    expect(monitor.stalledForMs()).toBe(0)

    // Back, and the projection moves: no stall.
    reachable = true
    positions.set('market.prices/1', 5n)
    clock = 21_000
    await monitor.refresh()
    expect(monitor.snapshot().lag).toBe(6)
    expect(monitor.stalledForMs()).toBe(0)
  })
})
