import { afterAll, describe, expect, test } from 'bun:test'
import type { Alert, AlertDelivery } from '@/canonical'
import { FIVE_MINUTES_MS, intervalEndFor, toUtcIso } from '@/lib'
import { createNode, type GridPulseNode } from '@/node'
import { silentLogger } from '@/observability'
import { loadConfig } from '../../src/config'
import { priceEvent, waitFor } from '../support/events'
import { startWebhookReceiver } from '../support/webhook-receiver'
import { announceSkip, KAFKA_BROKERS, openTestBus, tempDir, uniquePrefix } from './support'

announceSkip('alerts in Kafka mode (tests/integration/alerts.test.ts)')

// Two Kafka-mode nodes on the same topics, each with its own projection and alerts.sqlite: a rule
// lives on the node it was created on, and that node alone evaluates it, whichever node published
// the price; every node projects it, so the rule's node sees it.
describe.skipIf(!KAFKA_BROKERS)('alerts on Kafka', () => {
  const dir = tempDir('alerts-kafka')
  const prefix = uniquePrefix()
  const nodes: GridPulseNode[] = []
  afterAll(async () => {
    for (const node of nodes.splice(0)) await node.close()
    dir.remove()
  })

  const start = async (nodeId: string) => {
    const config = loadConfig({
      SOURCES: 'none',
      AUTH_MODE: 'keys',
      DATA_DIR: `${dir.path}/${nodeId}`,
      NODE_ID: nodeId,
      ALERT_WEBHOOK_ALLOWLIST: '127.0.0.1/32',
    })
    const bus = await openTestBus({ prefix, dir: dir.path, nodeId })
    const node = await createNode(config, { log: silentLogger(), bus })
    nodes.push(node)
    return node
  }

  test('a price published by one node fires the rule of the other once, signed', async () => {
    const [one, two] = [await start('alerts-1'), await start('alerts-2')]
    let secret: string | undefined
    const hook = startWebhookReceiver({ secret: () => secret, answer: () => 200 })
    try {
      const key = one.keys.create('trading', 'write').key
      const created = await one.fetch(
        new Request('http://node/api/v1/alerts', {
          method: 'POST',
          headers: { apikey: key, 'Content-Type': 'application/json' },
          body: JSON.stringify({
            condition: { kind: 'price_above', region_id: 'VIC1', threshold_aud_mwh: 1000 },
            webhook_url: hook.url,
          }),
        })
      )
      expect(created.status).toBe(201)
      const { data: rule, webhook_secret } = (await created.json()) as {
        data: { id: string }
        webhook_secret: string
      }
      secret = webhook_secret

      const interval = toUtcIso(intervalEndFor(Date.now()))
      const at = (n: number) => toUtcIso(Date.parse(interval) + n * FIVE_MINUTES_MS)
      const spike = priceEvent('VIC1', interval, 14_500)
      // Through the other node, twice (at-least-once publishing: the same event, the same
      // delivery id), then a later spike: one key, one partition, so once the later spike's
      // webhook arrived the repeat has been evaluated, and it sent nothing.
      await two.bus.publish([spike, priceEvent('VIC1', at(-1), 90)])
      await two.bus.publish([spike])
      await two.bus.publish([priceEvent('VIC1', at(1), 2_300)])
      await waitFor(() => hook.received.length >= 2, 'the webhooks', 60_000)
      const alerts = hook.received.map((r) => JSON.parse(r.body) as Alert)
      expect(hook.received.map((r) => r.verified)).toEqual([true, true])
      expect(alerts.map((a) => [a.rule_id, a.interval_end, a.value]).sort()).toEqual([
        [rule.id, interval, 14_500],
        [rule.id, at(1), 2_300],
      ])
      const log = (await (
        await one.fetch(
          new Request(`http://node/api/v1/alerts/${rule.id}/deliveries`, {
            headers: { apikey: key },
          })
        )
      ).json()) as { data: AlertDelivery[] }
      expect(log.data.map((d) => d.outcome)).toEqual(['delivered', 'delivered'])
      expect(new Set(log.data.map((d) => d.delivery_id))).toEqual(
        new Set(alerts.map((a) => a.delivery_id))
      )
    } finally {
      hook.stop()
    }
  })
})
