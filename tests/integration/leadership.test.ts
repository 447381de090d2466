import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { waitFor } from '../support/events'
import {
  expectCleanOutput,
  ingest,
  Node,
  waitUntilDrained,
  skipWithoutOwnBroker,
  useDedicatedBroker,
} from './support'

const skip = skipWithoutOwnBroker('Kafka leadership test (tests/integration/leadership.test.ts)')
describe.skipIf(skip)('two nodes on one broker', () => {
  const { dir, nodes, broker } = useDedicatedBroker('leader')

  const isLeader = async (node: Node): Promise<boolean | undefined> => {
    try {
      return (await node.ready()).body.checks.event_log.leader
    } catch {
      return undefined
    }
  }

  test('exactly one leads; each keeps a full projection; SIGKILL the leader and the other takes over within 30 s', async () => {
    const start = (nodeId: string) => {
      const node = new Node({ brokers: broker().brokers, nodeId, dataDir: join(dir.path, nodeId) })
      nodes.push(node)
      return node
    }
    const a = start('node-a')
    const b = start('node-b')
    await Promise.all([a.start(), b.start()])
    await waitFor(
      async () => {
        const [la, lb] = await Promise.all([isLeader(a), isLeader(b)])
        return la !== undefined && lb !== undefined && la !== lb
      },
      'exactly one leader',
      30_000
    )
    // Never two leaders. The first node may lead before the second has joined the group; its
    // join then rebalances the group, and for that moment nobody leads (a slow machine shows it).
    for (let i = 0; i < 5; i++) {
      const [la, lb] = await Promise.all([isLeader(a), isLeader(b)])
      expect([la, lb].filter(Boolean).length).toBeLessThanOrEqual(1)
      await Bun.sleep(500)
    }
    await waitFor(
      async () => {
        const [la, lb] = await Promise.all([isLeader(a), isLeader(b)])
        return la !== undefined && lb !== undefined && la !== lb
      },
      'exactly one leader again',
      30_000
    )
    const [leader, follower] = (await isLeader(a)) ? [a, b] : [b, a]

    // Events written through either node reach both projections (one consumer group per node).
    const viaLeader = await ingest(
      leader.base,
      Array.from({ length: 300 }, (_, k) => k),
      { concurrency: 8 }
    )
    const viaFollower = await ingest(
      follower.base,
      Array.from({ length: 300 }, (_, k) => 300 + k),
      { concurrency: 8 }
    )
    expect(viaLeader.acked.size + viaFollower.acked.size).toBe(600)
    for (const node of [leader, follower]) {
      await waitFor(
        async () => (await node.json('/api/v1/stats')).totals.dispatch === 600,
        `600 rows on ${node.options.nodeId}`,
        30_000
      )
    }

    leader.kill('SIGKILL')
    const killed = performance.now()
    await leader.exited()
    await waitFor(() => isLeader(follower), 'the follower to take over', 45_000)
    const takeoverMs = performance.now() - killed

    // The killed node comes back as a member; still exactly one leader.
    const again = new Node({ ...leader.options, port: leader.port })
    nodes.push(again)
    await again.start()
    await waitUntilDrained(again, 60_000)
    await waitFor(
      async () => {
        const [x, y] = await Promise.all([isLeader(again), isLeader(follower)])
        return x !== undefined && y !== undefined && x !== y
      },
      'exactly one leader after the restart',
      45_000
    )
    console.log(
      `[leadership] ${leader.options.nodeId} led first; after its SIGKILL ${follower.options.nodeId} took over in ${(takeoverMs / 1000).toFixed(1)} s`
    )
    expect(takeoverMs).toBeLessThan(30_000)

    for (const node of [follower, again]) node.kill('SIGTERM')
    expect(await follower.exited()).toBe(0)
    expect(await again.exited()).toBe(0)
    expectCleanOutput([a, b, again])
  }, 300_000)
})
