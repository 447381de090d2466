import { afterAll, describe, expect, test } from 'bun:test'
import type { Alert, AlertDelivery, AlertRule } from '@/canonical'
import { FIVE_MINUTES_MS, intervalEndFor, toUtcIso } from '@/lib'
import { createNode, type GridPulseNode } from '@/node'
import { silentLogger } from '@/observability'
import { loadConfig } from '../../src/config'
import { priceEvent, waitFor } from '../support/events'
import { startWebhookReceiver } from '../support/webhook-receiver'
import { announceSkip, KAFKA_BROKERS, openTestBus, tempDir, uniquePrefix } from './support'

announceSkip('alerts in Kafka mode (tests/integration/alerts.test.ts)')

// Kafka-mode nodes on the same topics, each with its own projection and alerts.sqlite: a rule made
// on one node is on every node (the rules topic), and only the leader sends its webhooks.
const GATEWAY = 'a-gateway-secret-of-sufficient-length'
const KONG = {
  'X-Gateway-Secret': GATEWAY,
  'X-Consumer-Username': 'trading',
  'X-Consumer-Groups': 'gridpulse-write',
}

describe.skipIf(!KAFKA_BROKERS)('alerts on Kafka', () => {
  const dir = tempDir('alerts-kafka')
  const nodes: GridPulseNode[] = []
  afterAll(async () => {
    await Promise.all(nodes.splice(0).map((node) => node.close()))
    dir.remove()
  }, 60_000)

  const configFor = (nodeId: string) =>
    loadConfig({
      SOURCES: 'none',
      // As behind Kong: the consumer is Kong's, the same on every node.
      AUTH_MODE: 'gateway',
      GATEWAY_SECRET: GATEWAY,
      DATA_DIR: `${dir.path}/${nodeId}`,
      NODE_ID: nodeId,
      ALERT_WEBHOOK_ALLOWLIST: '127.0.0.1/32',
      // The first retry 6–12 s after a failure: long enough to stop the leader before it, even on
      // a busy machine (the new leader keeps the time the old one planned).
      ALERT_RETRY_INITIAL_MS: '12000',
    })
  const start = async (prefix: string, nodeId: string) => {
    const config = configFor(nodeId)
    const bus = await openTestBus({ prefix, dir: dir.path, nodeId })
    const node = await createNode(config, { log: silentLogger(), bus })
    nodes.push(node)
    return node
  }
  const stop = async (node: GridPulseNode) => {
    nodes.splice(nodes.indexOf(node), 1)
    await node.close()
  }
  /** Two nodes, the first one the leader. */
  const cluster = async () => {
    const prefix = uniquePrefix()
    const run = crypto.randomUUID().slice(0, 8)
    const a = await start(prefix, `alerts-a-${run}`)
    await waitFor(() => a.bus.isLeader(), 'node A to lead', 60_000)
    const b = await start(prefix, `alerts-b-${run}`)
    return { a, b }
  }
  const call = (node: GridPulseNode, path: string, method = 'GET', body?: unknown) =>
    node.fetch(
      new Request(`http://node/api/v1/alerts${path}`, {
        method,
        headers: { ...KONG, 'Content-Type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
    )
  const ruleOn = async (node: GridPulseNode, id: string) => {
    const response = await call(node, `/${id}`)
    return response.status === 200 ? ((await response.json()) as { data: AlertRule }).data : null
  }
  const deliveriesOn = async (node: GridPulseNode, id: string) => {
    const response = await call(node, `/${id}/deliveries`)
    return ((await response.json()) as { data?: AlertDelivery[] }).data ?? []
  }
  const createRule = async (node: GridPulseNode, url: string) => {
    const created = await call(node, '', 'POST', {
      condition: { kind: 'price_above', region_id: 'VIC1', threshold_aud_mwh: 1000 },
      webhook_url: url,
    })
    expect(created.status).toBe(201)
    return (await created.json()) as { data: AlertRule; webhook_secret: string }
  }
  const interval = toUtcIso(intervalEndFor(Date.now()))
  const at = (n: number) => toUtcIso(Date.parse(interval) + n * FIVE_MINUTES_MS)
  const deliveryIds = (hook: ReturnType<typeof startWebhookReceiver>) =>
    hook.received.map((r) => r.headers.get('GridPulse-Delivery'))

  test('a rule made on one node is read, patched and deleted on the other; one node delivers', async () => {
    const { a, b } = await cluster()
    expect(b.bus.isLeader()).toBe(false)
    let secret: string | undefined
    const hook = startWebhookReceiver({ secret: () => secret, answer: () => 200 })
    try {
      const { data: rule, webhook_secret } = await createRule(a, hook.url)
      secret = webhook_secret
      // Read-your-writes where it was accepted; on the other node once it has read the topic.
      expect((await ruleOn(a, rule.id))?.name).toBe('price_above')
      await waitFor(() => ruleOn(b, rule.id), 'the rule on node B', 60_000)
      const patched = await call(b, `/${rule.id}`, 'PATCH', { name: 'vic spikes' })
      expect(patched.status).toBe(200)
      await waitFor(
        async () => (await ruleOn(a, rule.id))?.name === 'vic spikes',
        'the patch on node A',
        60_000
      )

      // Both nodes evaluate the same prices (published twice: at-least-once), only the leader
      // sends; once the later spike's webhook arrived, the repeat has been evaluated.
      const spike = priceEvent('VIC1', interval, 14_500)
      await b.bus.publish([spike, priceEvent('VIC1', at(-1), 90)])
      await b.bus.publish([spike])
      await b.bus.publish([priceEvent('VIC1', at(1), 2_300)])
      await waitFor(() => hook.received.length >= 2, 'the webhooks', 60_000)
      const alerts = hook.received.map((r) => JSON.parse(r.body) as Alert)
      expect(hook.received.map((r) => r.verified)).toEqual([true, true])
      expect(alerts.map((a) => [a.rule_name, a.interval_end, a.value]).sort()).toEqual([
        ['vic spikes', interval, 14_500],
        ['vic spikes', at(1), 2_300],
      ])
      expect(new Set(deliveryIds(hook)).size).toBe(2)
      // The delivery log is the leader's, copied to every node through the deliveries topic.
      for (const node of [a, b]) {
        const log = await waitFor(
          async () => {
            const rows = await deliveriesOn(node, rule.id)
            return rows.length === 2 && rows
          },
          'the delivery log on both nodes',
          60_000
        )
        expect(log.map((d) => d.outcome)).toEqual(['delivered', 'delivered'])
        expect(log.map((d) => d.delivery_id).sort()).toEqual(deliveryIds(hook).sort() as string[])
      }

      expect((await call(b, `/${rule.id}`, 'DELETE')).status).toBe(204)
      expect((await call(b, `/${rule.id}`)).status).toBe(404)
      await waitFor(async () => (await ruleOn(a, rule.id)) === null, 'the delete on A', 60_000)
      expect(hook.received).toHaveLength(2)
    } finally {
      hook.stop()
    }
  }, 240_000)

  test('when the leader stops, the other node keeps the rule, resumes its retry and delivers', async () => {
    const { a, b } = await cluster()
    let secret: string | undefined
    // The first attempt fails: its retry is pending when the leader stops.
    let answered = 0
    const hook = startWebhookReceiver({
      secret: () => secret,
      answer: () => (answered++ === 0 ? 500 : 200),
    })
    try {
      const { data: rule, webhook_secret } = await createRule(a, hook.url)
      secret = webhook_secret
      await waitFor(() => ruleOn(b, rule.id), 'the rule on node B', 60_000)
      await a.bus.publish([priceEvent('VIC1', interval, 5_000)])
      await waitFor(() => hook.received.length >= 1, 'the first attempt', 60_000)
      await waitFor(
        async () => (await deliveriesOn(b, rule.id)).length === 1,
        "the leader's failed attempt on B",
        60_000
      )

      await stop(a)
      await waitFor(() => b.bus.isLeader(), 'node B to take over', 60_000)
      await waitFor(() => hook.received.length >= 2, 'the retry', 60_000)
      await b.bus.publish([priceEvent('VIC1', at(1), 6_000)])
      await waitFor(() => hook.received.length >= 3, 'the webhook from node B', 60_000)
      const sent = hook.received.map((r) => {
        const alert = JSON.parse(r.body) as Alert
        return [alert.interval_end, r.headers.get('GridPulse-Attempt'), r.status]
      })
      expect(sent).toEqual([
        [interval, '1', 500],
        [interval, '2', 200],
        [at(1), '1', 200],
      ])
      // The retry is the same delivery; the new alert another.
      const ids = deliveryIds(hook)
      expect(ids[1]).toBe(ids[0]!)
      expect(ids[2]).not.toBe(ids[0]!)
      const log = await waitFor(
        async () => {
          const rows = await deliveriesOn(b, rule.id)
          return rows.length === 3 && rows
        },
        "node B's delivery log",
        60_000
      )
      expect(log.map((d) => [d.attempt, d.outcome])).toEqual([
        [1, 'delivered'],
        [2, 'delivered'],
        [1, 'failed'],
      ])
      expect((await ruleOn(b, rule.id))?.enabled).toBe(true)
    } finally {
      hook.stop()
    }
  }, 240_000)

  test('rules a node made while it ran alone reach the other nodes when it joins', async () => {
    const prefix = uniquePrefix()
    const nodeId = `alerts-solo-${crypto.randomUUID().slice(0, 8)}`
    // The same DATA_DIR, first with the embedded log (one node), then in Kafka mode.
    const solo = await createNode(configFor(nodeId), { log: silentLogger() })
    nodes.push(solo)
    const { data: rule } = await createRule(solo, 'http://127.0.0.1:9/hook')
    await stop(solo)
    const a = await start(prefix, nodeId)
    const b = await start(prefix, `alerts-b-${crypto.randomUUID().slice(0, 8)}`)
    expect((await ruleOn(a, rule.id))?.name).toBe('price_above')
    const shared = await waitFor(() => ruleOn(b, rule.id), 'the rule on node B', 60_000)
    expect(shared.webhook_url).toBe('http://127.0.0.1:9/hook')
  }, 240_000)
})
