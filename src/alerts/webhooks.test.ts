import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Alert, AlertDelivery, AlertRule } from '@/canonical'
import { createEvent } from '@/canonical'
import { FIVE_MINUTES_MS, intervalEndFor, toUtcIso } from '@/lib'
import { silentLogger } from '@/observability'
import { priceEvent, waitFor } from '../../tests/support/events'
import { readSse } from '../../tests/support/sse'
import { startWebhookReceiver, verifySignature } from '../../tests/support/webhook-receiver'
import { loadConfig } from '../config'
import { createNode, type GridPulseNode } from '@/node'

// Embedded-mode nodes with API keys, real loopback receivers, and prices published on the node's
// own event log: the path an AEMO price takes (log → projection → evaluation → webhook).

const ALLOW_LOOPBACK = { ALERT_WEBHOOK_ALLOWLIST: '127.0.0.1/32' }
// Fast retries so a failing receiver shows them within the test (the defaults are 10 s .. 15 min).
const FAST_RETRIES = { ALERT_RETRY_INITIAL_MS: '20', ALERT_RETRY_MAX_MS: '80' }

/** The interval going on now and the one before (ISO-8601 UTC): what a live poll would bring. */
const liveInterval = (back = 0) => toUtcIso(intervalEndFor(Date.now()) - back * FIVE_MINUTES_MS)

describe('alerts', () => {
  const cleanup: (() => unknown)[] = []
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step()
  })
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridpulse-alerts-'))
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
    return dir
  }
  const start = async (env: Record<string, string>) => {
    const node = await createNode(
      loadConfig({ SOURCES: 'none', AUTH_MODE: 'keys', DATA_DIR: tempDir(), ...env }),
      { log: silentLogger() }
    )
    cleanup.push(() => node.close())
    return node
  }
  const receiver = (answer: () => number) => {
    let secret: string | undefined
    const r = startWebhookReceiver({ secret: () => secret, answer })
    cleanup.push(() => r.stop())
    return Object.assign(r, { setSecret: (s: string) => (secret = s) })
  }
  const client = (node: GridPulseNode, key: string) => {
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await node.fetch(
        new Request(`http://node${path}`, {
          method,
          headers: { apikey: key, 'Content-Type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        })
      )
      const text = await response.text()
      return {
        status: response.status,
        type: response.headers.get('Content-Type'),
        json: text ? JSON.parse(text) : undefined,
      }
    }
    return {
      call,
      create: async (body: unknown) => {
        const r = await call('POST', '/api/v1/alerts', body)
        expect(r.status).toBe(201)
        return r.json as { data: AlertRule; webhook_secret: string }
      },
      rule: async (id: string) =>
        (await call('GET', `/api/v1/alerts/${id}`)).json.data as AlertRule,
      deliveries: async (id: string) =>
        (await call('GET', `/api/v1/alerts/${id}/deliveries`)).json.data as AlertDelivery[],
    }
  }
  const keyOf = (node: GridPulseNode, consumer: string, scope: 'read' | 'write' = 'write') =>
    node.keys.create(consumer, scope).key

  test('a price rule fires once per interval, signed as the README says, and the log shows it', async () => {
    const node = await start(ALLOW_LOOPBACK)
    const hook = receiver(() => 204)
    const team = client(node, keyOf(node, 'trading'))
    const created = await team.create({
      name: 'NSW spike',
      condition: { kind: 'price_above', region_id: 'NSW1', threshold_aud_mwh: 300 },
      webhook_url: hook.url,
    })
    hook.setSecret(created.webhook_secret)
    expect(created.webhook_secret).toStartWith('whsec_')

    const spike = priceEvent('NSW1', liveInterval(), 512.3)
    await node.bus.publish([
      spike,
      priceEvent('VIC1', liveInterval(), 900),
      priceEvent('NSW1', liveInterval(1), 120),
    ])
    await waitFor(() => hook.received.length >= 1, 'the webhook')
    const [first] = hook.received
    expect(first!.verified).toBe(true)
    const alert = JSON.parse(first!.body) as Alert
    expect(alert).toMatchObject({
      rule_id: created.data.id,
      kind: 'price_above',
      region_id: 'NSW1',
      interval_end: spike.interval_end,
      value: 512.3,
      threshold: 300,
    })
    expect(first!.headers.get('GridPulse-Delivery')).toBe(alert.delivery_id)
    expect(first!.headers.get('GridPulse-Attempt')).toBe('1')

    // The same data again (a re-published file) is the same delivery id: not sent again. A new
    // spike is: once it has arrived, the first one has had every chance to arrive twice.
    await node.bus.publish([spike, priceEvent('NSW1', liveInterval(-1), 301)])
    await waitFor(() => hook.received.length >= 2, 'the second spike')
    await waitFor(async () => (await team.deliveries(created.data.id)).length === 2, 'its log row')
    expect(hook.received.length).toBe(2)
    const log = await team.deliveries(created.data.id)
    expect(log.map((d) => [d.outcome, d.status_code, d.attempt, d.next_attempt_at])).toEqual([
      ['delivered', 204, 1, null],
      ['delivered', 204, 1, null],
    ])
    expect(log[1]!.delivery_id).toBe(alert.delivery_id)
    // The secret is shown once: never in a later answer.
    expect(JSON.stringify(await team.rule(created.data.id))).not.toContain('whsec_')

    // The receiver's own checks: a changed body, another secret or an old timestamp fail.
    const signature = first!.headers.get('GridPulse-Signature')
    expect(await verifySignature(created.webhook_secret, signature, first!.body)).toBe(true)
    expect(await verifySignature(created.webhook_secret, signature, `${first!.body} `)).toBe(false)
    expect(await verifySignature('whsec_other', signature, first!.body)).toBe(false)
    const later = Math.floor(Date.now() / 1000) + 301
    expect(await verifySignature(created.webhook_secret, signature, first!.body, later)).toBe(false)
  })

  test('a failing receiver: capped retries, a row per attempt, the rule disabled, re-enabled by PATCH', async () => {
    const node = await start({
      ...ALLOW_LOOPBACK,
      ...FAST_RETRIES,
      ALERT_DISABLE_AFTER_FAILURES: '3',
    })
    let status = 500
    const hook = receiver(() => status)
    const team = client(node, keyOf(node, 'ops'))
    const created = await team.create({
      condition: { kind: 'negative_price', region_id: 'SA1' },
      webhook_url: hook.url,
    })
    hook.setSecret(created.webhook_secret)
    await node.bus.publish([priceEvent('SA1', liveInterval(), -42.17)])

    const disabled = await waitFor(async () => {
      const rule = await team.rule(created.data.id)
      return !rule.enabled && rule
    }, 'the rule to be disabled')
    expect(disabled.disabled_reason).toContain('3 consecutive failed webhook attempts')
    expect(disabled.consecutive_failures).toBe(3)
    expect(hook.received.map((r) => [r.verified, r.headers.get('GridPulse-Attempt')])).toEqual([
      [true, '1'],
      [true, '2'],
      [true, '3'],
    ])
    const log = await team.deliveries(created.data.id)
    expect(log.map((d) => [d.attempt, d.outcome, d.status_code, d.error])).toEqual([
      [3, 'failed', 500, 'HTTP 500'],
      [2, 'failed', 500, 'HTTP 500'],
      [1, 'failed', 500, 'HTTP 500'],
    ])
    expect(new Set(log.map((d) => d.delivery_id)).size).toBe(1)
    // Retried while enabled (at most ALERT_RETRY_MAX_MS later), not once disabled.
    expect(log[0]!.next_attempt_at).toBeNull()
    for (const d of log.slice(1)) {
      const delay = Date.parse(d.next_attempt_at!) - Date.parse(d.attempted_at)
      expect(delay).toBeGreaterThanOrEqual(10)
      expect(delay).toBeLessThanOrEqual(80)
    }

    status = 200
    const patched = await team.call('PATCH', `/api/v1/alerts/${created.data.id}`, { enabled: true })
    expect(patched.json.data).toMatchObject({
      enabled: true,
      disabled_reason: null,
      consecutive_failures: 0,
    })
    await waitFor(
      async () => (await team.deliveries(created.data.id))[0]?.outcome === 'delivered',
      'the resumed delivery'
    )
    expect((await team.deliveries(created.data.id))[0]).toMatchObject({
      attempt: 4,
      status_code: 200,
    })
    const metrics = await (await node.fetch(new Request('http://node/metrics'))).text()
    expect(metrics).toContain('gridpulse_alert_deliveries_total{outcome="failed"} 3')
    expect(metrics).toContain('gridpulse_alert_rules_disabled_total 1')
  })

  test("rules are their consumer's own: another key gets 404, a read key cannot create", async () => {
    const node = await start(ALLOW_LOOPBACK)
    const owner = client(node, keyOf(node, 'risk'))
    const other = client(node, keyOf(node, 'analytics'))
    const { data } = await owner.create({ condition: { kind: 'price_not_firm' } })
    for (const [method, path, body] of [
      ['GET', `/api/v1/alerts/${data.id}`],
      ['PATCH', `/api/v1/alerts/${data.id}`, { enabled: false }],
      ['DELETE', `/api/v1/alerts/${data.id}`],
      ['GET', `/api/v1/alerts/${data.id}/deliveries`],
    ] as const) {
      const r = await other.call(method, path, body)
      expect([method, r.status, r.type]).toEqual([method, 404, 'application/problem+json'])
    }
    expect((await other.call('GET', '/api/v1/alerts')).json.data).toEqual([])
    expect((await owner.call('GET', '/api/v1/alerts')).json.data).toEqual([data])
    const reader = client(node, keyOf(node, 'risk', 'read'))
    expect(
      (await reader.call('POST', '/api/v1/alerts', { condition: { kind: 'negative_price' } }))
        .status
    ).toBe(403)
    expect((await owner.call('DELETE', `/api/v1/alerts/${data.id}`)).status).toBe(204)
    expect((await owner.call('GET', `/api/v1/alerts/${data.id}`)).status).toBe(404)
  })

  test('bad rules are problem+json: unknown kinds, negative N, webhooks the allowlist refuses', async () => {
    const node = await start({ ALERT_WEBHOOK_ALLOWLIST: 'hooks.example.com,127.0.0.1/32' })
    const team = client(node, keyOf(node, 'trading'))
    const cases: [unknown, number, string][] = [
      [{ condition: { kind: 'price_sideways' } }, 400, 'validation_failed'],
      [
        { condition: { kind: 'source_stale', source: 'aemo.dispatchis', minutes: -5 } },
        400,
        'validation_failed',
      ],
      [{ condition: { kind: 'curtailment_above', threshold_mw: -1 } }, 400, 'validation_failed'],
      [{ condition: { kind: 'price_above' } }, 400, 'validation_failed'],
      [
        { condition: { kind: 'negative_price' }, webhook_url: 'ftp://127.0.0.1/x' },
        400,
        'validation_failed',
      ],
      [
        { condition: { kind: 'negative_price' }, webhook_url: 'http://169.254.169.254/latest' },
        422,
        'webhook_not_allowed',
      ],
      [
        { condition: { kind: 'negative_price' }, webhook_url: 'https://evil.example.net/' },
        422,
        'webhook_not_allowed',
      ],
      [
        { condition: { kind: 'negative_price' }, webhook_url: 'http://10.0.0.7:8080/' },
        422,
        'webhook_not_allowed',
      ],
    ]
    for (const [body, status, code] of cases) {
      const r = await team.call('POST', '/api/v1/alerts', body)
      expect([body, r.status, r.type, r.json.type]).toEqual([
        body,
        status,
        'application/problem+json',
        `https://gridpulse.dev/problems/${code}`,
      ])
    }
    expect((await team.call('GET', '/api/v1/alerts')).json.data).toEqual([])
    // A PATCH that sends nothing (no body, no content type) is not an empty change.
    const { data: rule } = await team.create({ condition: { kind: 'negative_price' } })
    const empty = await node.fetch(
      new Request(`http://node/api/v1/alerts/${rule.id}`, {
        method: 'PATCH',
        headers: { apikey: keyOf(node, 'trading') },
      })
    )
    expect([empty.status, ((await empty.json()) as { type: string }).type]).toEqual([
      400,
      'https://gridpulse.dev/problems/validation_failed',
    ])
  })

  test('a consumer has at most ALERT_MAX_RULES_PER_CONSUMER rules; another consumer is not limited by them', async () => {
    const node = await start({ ALERT_MAX_RULES_PER_CONSUMER: '3' })
    const team = client(node, keyOf(node, 'trading'))
    const body = { condition: { kind: 'negative_price' } }
    for (let i = 0; i < 3; i++) await team.create(body)
    const refused = await team.call('POST', '/api/v1/alerts', body)
    expect([refused.status, refused.type, refused.json.type]).toEqual([
      422,
      'application/problem+json',
      'https://gridpulse.dev/problems/alert_rule_limit',
    ])
    await client(node, keyOf(node, 'risk')).create(body)
  })

  test('rules and pending retries survive a restart on the same DATA_DIR', async () => {
    const dir = tempDir()
    const env = { ...ALLOW_LOOPBACK, ...FAST_RETRIES, DATA_DIR: dir, ALERT_RETRY_INITIAL_MS: '300' }
    let status = 503
    const hook = receiver(() => status)
    const first = await start(env)
    const key = keyOf(first, 'ops')
    const created = await client(first, key).create({
      condition: { kind: 'price_below', threshold_aud_mwh: 0, region_id: 'QLD1' },
      webhook_url: hook.url,
    })
    hook.setSecret(created.webhook_secret)
    await first.bus.publish([priceEvent('QLD1', liveInterval(), -12.5)])
    await waitFor(
      async () => (await client(first, key).deliveries(created.data.id)).length === 1,
      'a failed attempt'
    )
    await first.close()

    status = 200
    const second = await start(env)
    const team = client(second, key)
    expect(await team.rule(created.data.id)).toMatchObject({ id: created.data.id, enabled: true })
    await waitFor(
      async () => (await team.deliveries(created.data.id))[0]?.outcome === 'delivered',
      'the retry after restart'
    )
    const log = await team.deliveries(created.data.id)
    expect(log.map((d) => [d.attempt, d.outcome, d.status_code])).toEqual([
      [2, 'delivered', 200],
      [1, 'failed', 503],
    ])
    expect(hook.received.filter((r) => r.verified).length).toBe(2)
  })

  test('stale sources and curtailment fire too, and every alert reaches the stream hook with its owner', async () => {
    const node = await start({})
    const fired: { consumer: string; alert: Alert }[] = []
    node.alerts.subscribe((f) => fired.push(f))
    // An April 2026 price: the projection's newest dispatchis data is months old.
    await node.bus.publish([priceEvent('NSW1', '2026-04-01T00:05:00Z', 87.4)])
    await waitFor(() => node.queries.stats().sources.length > 0, 'the projection')
    const team = client(node, keyOf(node, 'ops'))
    const stale = await team.create({
      condition: { kind: 'source_stale', source: 'aemo.dispatchis', minutes: 10 },
    })
    expect(fired).toMatchObject([
      {
        consumer: 'ops',
        alert: {
          rule_id: stale.data.id,
          kind: 'source_stale',
          source: 'aemo.dispatchis',
          threshold: 10,
        },
      },
    ])
    // Real REGIONSUM figures (April 2026 sample): 4268.80845 − 3329.75799 = 939.05046 MW solar.
    const curtailed = await team.create({
      condition: { kind: 'curtailment_above', threshold_mw: 900 },
    })
    const price = priceEvent('SA1', liveInterval(), 35)
    await node.bus.publish([
      createEvent('RegionPriceEvent', price, {
        ...price,
        ss_solar_uigf_mw: 4268.80845,
        ss_solar_cleared_mw: 3329.75799,
        ss_wind_uigf_mw: 1200,
        ss_wind_cleared_mw: 1200,
      }),
    ])
    await waitFor(() => fired.length === 2, 'the curtailment alert')
    expect(fired[1]).toMatchObject({
      consumer: 'ops',
      alert: {
        rule_id: curtailed.data.id,
        kind: 'curtailment_above',
        region_id: 'SA1',
        value: 939.05046,
      },
    })
    // No webhook: nothing pending, nothing in the log.
    expect(await team.deliveries(curtailed.data.id)).toEqual([])
  })

  test("the live stream carries event: alert to the rule owner's streams only, without an id", async () => {
    const node = await start({})
    const open = async (key: string) => {
      const response = await node.fetch(
        new Request('http://node/api/v1/stream?stream=prices', { headers: { apikey: key } })
      )
      expect(response.status).toBe(200)
      const sse = readSse(response.body!)
      cleanup.push(() => sse.cancel())
      return sse
    }
    const ownerKey = keyOf(node, 'trading')
    const owner = await open(ownerKey)
    const other = await open(keyOf(node, 'risk'))
    const { data: rule } = await client(node, ownerKey).create({
      condition: { kind: 'negative_price', region_id: 'SA1' },
    })
    await node.bus.publish([priceEvent('SA1', liveInterval(), -30.5)])
    await waitFor(() => owner.events.some((e) => e.event === 'alert'), "the owner's alert")
    const alert = owner.events.find((e) => e.event === 'alert')!
    expect(alert.id).toBeUndefined()
    expect(JSON.parse(alert.data)).toMatchObject({ rule_id: rule.id, value: -30.5 })
    // A later batch reaches the other stream after the alert would have: it got none.
    await node.bus.publish([priceEvent('SA1', liveInterval(-1), 40)])
    await waitFor(() => other.events.length === 2, 'both prices on the other stream')
    expect(other.events.map((e) => e.event)).toEqual(['RegionPriceEvent', 'RegionPriceEvent'])
  })
})
