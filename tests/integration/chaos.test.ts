import { describe, expect, test } from 'bun:test'
import { formatReport, runChaos } from '../../scripts/chaos'
import { skipWithoutOwnBroker } from './support'

const skip = skipWithoutOwnBroker('Kafka chaos run (tests/integration/chaos.test.ts)')

// The small version of `bun run chaos` (README quotes a full run): same faults, fewer of them.
describe.skipIf(skip)('chaos, small', () => {
  test('node SIGKILLs, broker restarts and a node started during an outage: 0 lost, 0 double-counted, every node ready again on its own', async () => {
    const report = await runChaos({ events: 3_000, nodeKills: 2, brokerRestarts: 2 })
    console.log(formatReport(report))
    expect(report.acked).toBe(3_000)
    expect(report.refused).toBe(0)
    expect(report.nodeKills).toBe(2)
    expect(report.brokerRestarts).toBe(2)
    expect(report.lost).toBe(0)
    expect(report.doubleCounted).toBe(0)
    expect(report.nodesReady).toBe(report.nodes)
    for (const count of Object.values(report.projected)) expect(count).toBe(3_000)
  }, 600_000)
})
