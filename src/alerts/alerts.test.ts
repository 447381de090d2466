import { describe, expect, test } from 'bun:test'
import { priceEvent } from '../../tests/support/events'
import { createAllowlist, parseAllowlist } from './allowlist'
import { retryDelayMs } from './deliver'
import { evaluatePrice, evaluateStale, LOOKBACK_MS, type RuleView } from './evaluate'
import { openAlertStore } from './store'

describe('webhook allowlist', () => {
  // A resolver with fixed answers: what DNS says is part of the input here.
  const dns: Record<string, string[]> = {
    'hooks.example.com': ['93.184.215.14'],
    'a.hooks.example.org': ['2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
    'rebind.example.com': ['93.184.215.14', '127.0.0.1'],
    'metadata.example.com': ['169.254.169.254'],
    'mapped.example.com': ['::ffff:10.1.2.3'],
    'corp.example.com': ['10.20.30.40'],
  }
  const resolve = async (host: string) => {
    const found = dns[host]
    if (!found) throw new Error(`ENOTFOUND ${host}`)
    return found
  }
  const allow = (...entries: string[]) => createAllowlist(entries, resolve)

  test('empty denies everything', async () => {
    expect(await allow().check('https://hooks.example.com/x')).toContain('not in')
    expect(await allow().check('http://127.0.0.1:8080/')).toContain('not in')
  })

  test('names and *.domain allow the public addresses they resolve to', async () => {
    const list = allow('hooks.example.com', '*.example.org')
    expect(await list.check('https://hooks.example.com/gridpulse')).toBeUndefined()
    expect(await list.check('https://a.hooks.example.org:8443/')).toBeUndefined()
    expect(await list.check('https://example.org/')).toContain('not in')
    expect(await list.check('https://hooks.example.com.evil.net/')).toContain('not in')
  })

  test('a listed name resolving inside (rebinding, metadata, mapped v6) is refused unless a CIDR lists it', async () => {
    const list = allow('*.example.com')
    expect(await list.check('http://rebind.example.com/')).toContain('internal address 127.0.0.1')
    expect(await list.check('http://metadata.example.com/')).toContain('169.254.169.254')
    expect(await list.check('http://mapped.example.com/')).toContain('internal address')
    expect(await list.check('http://corp.example.com/')).toContain('internal address')
    expect(await list.check('http://nowhere.example.com/')).toContain('does not resolve')
    expect(
      await allow('corp.example.com', '10.0.0.0/8').check('http://corp.example.com/')
    ).toBeUndefined()
  })

  test('IP literals need a CIDR; credentials and other schemes are refused', async () => {
    const list = allow('127.0.0.1/32', '2001:db8::/32')
    expect(await list.check('http://127.0.0.1:9000/hook')).toBeUndefined()
    expect(await list.check('http://127.0.0.2/')).toContain('not in')
    expect(await list.check('http://[2001:db8::1]/')).toBeUndefined()
    expect(await list.check('http://[::1]/')).toContain('not in')
    expect(await list.check('http://169.254.169.254/latest/meta-data')).toContain('not in')
    expect(await list.check('http://user:pw@127.0.0.1/')).toContain('credentials')
    expect(await list.check('file:///etc/passwd')).toContain('not http')
  })

  test('entries that are neither names nor CIDRs are a configuration error', () => {
    expect(() => parseAllowlist(['10.0.0.0/33'])).toThrow()
    expect(() => parseAllowlist(['http://x'])).toThrow()
    expect(parseAllowlist(['Hooks.Example.com', '::1/128']).names).toEqual(['hooks.example.com'])
  })
})

describe('retry delays', () => {
  test('double from the initial delay, capped, with half of each delay jittered', () => {
    const at = (attempt: number, r: number) => retryDelayMs(attempt, 1000, 60_000, () => r)
    expect([1, 2, 3, 4].map((a) => at(a, 0))).toEqual([500, 1000, 2000, 4000])
    expect([1, 2, 3, 4].map((a) => at(a, 1))).toEqual([1000, 2000, 4000, 8000])
    expect(at(20, 1)).toBe(60_000)
    expect(at(1000, 0)).toBe(30_000)
  })
})

const created = Date.parse('2026-04-01T00:00:00Z')
const rule = (condition: RuleView['condition']): RuleView => ({
  id: '0b5f0f5e-2a7c-4b1e-9c55-3d2a1f0e9b11',
  name: 'r',
  condition,
  createdAtMs: created,
})

/** A rule as the store keeps it (the rules topic's record), revision 1 unless changed. */
const storedRule = (
  id: string,
  changes: Partial<Parameters<ReturnType<typeof openAlertStore>['applyRule']>[0]> = {}
) => ({
  id,
  revision: 1,
  consumer: 'ops',
  name: 'n',
  condition: { kind: 'negative_price' as const },
  webhook_url: 'http://127.0.0.1/x' as string | null,
  webhook_secret: 's',
  enabled: true,
  disabled_reason: null as string | null,
  consecutive_failures: 0,
  created_at: 0,
  updated_at: 0,
  ...changes,
})

describe('evaluation', () => {
  const now = created + 600_000

  test('the same subject gives the same delivery id; another interval another', () => {
    const r = rule({ kind: 'price_above', threshold_aud_mwh: 300 })
    const a = evaluatePrice(r, priceEvent('NSW1', '2026-04-01T00:05:00Z', 301), now)!
    const again = evaluatePrice(r, priceEvent('NSW1', '2026-04-01T00:05:00Z', 450), now + 1)!
    const next = evaluatePrice(r, priceEvent('NSW1', '2026-04-01T00:10:00Z', 301), now)!
    expect(again.delivery_id).toBe(a.delivery_id)
    expect(next.delivery_id).not.toBe(a.delivery_id)
    expect(evaluatePrice(r, priceEvent('NSW1', '2026-04-01T00:05:00Z', 300), now)).toBeUndefined()
  })

  test('region filters, and history older than the lookback never fires', () => {
    const r = rule({ kind: 'negative_price', region_id: 'SA1' })
    expect(evaluatePrice(r, priceEvent('VIC1', '2026-04-01T00:05:00Z', -5), now)).toBeUndefined()
    expect(evaluatePrice(r, priceEvent('SA1', '2026-04-01T00:05:00Z', -5), now)?.value).toBe(-5)
    const old = new Date(created - LOOKBACK_MS - 300_000).toISOString().replace('.000', '')
    expect(evaluatePrice(r, priceEvent('SA1', old, -5), now)).toBeUndefined()
  })

  test('NOT FIRM fires; FIRM and an unknown status (older table versions) do not', () => {
    const r = rule({ kind: 'price_not_firm' })
    const at = (status: string | null) =>
      evaluatePrice(
        r,
        { ...priceEvent('QLD1', '2026-04-01T00:05:00Z', 80), price_status: status },
        now
      )
    expect(at('NOT FIRM')?.message).toContain('NOT FIRM')
    expect(at('FIRM')).toBeUndefined()
    expect(at(null)).toBeUndefined()
  })

  test('a stale source fires once per silence: new data starts a new one', () => {
    const r = rule({ kind: 'source_stale', source: 'aemo.dispatchis', minutes: 5 })
    expect(evaluateStale(r, '2026-04-01T00:05:00Z', now)).toBeUndefined()
    const first = evaluateStale(r, '2026-04-01T00:00:00Z', created + 6 * 60_000)!
    expect(first).toMatchObject({ value: 6, threshold: 5, source: 'aemo.dispatchis' })
    expect(evaluateStale(r, '2026-04-01T00:00:00Z', created + 60 * 60_000)!.delivery_id).toBe(
      first.delivery_id
    )
    expect(evaluateStale(r, '2026-04-01T00:30:00Z', created + 60 * 60_000)!.delivery_id).not.toBe(
      first.delivery_id
    )
    // No data at all: counted from the rule's creation.
    expect(evaluateStale(r, null, created + 4 * 60_000)).toBeUndefined()
    expect(evaluateStale(r, null, created + 6 * 60_000)?.message).toContain('no data')
  })
})

describe('alerts.sqlite', () => {
  test('settled firings and log rows older than the cut-off go; undelivered ones stay', () => {
    const store = openAlertStore(':memory:')
    const day = 24 * 3600 * 1000
    const id = '0b5f0f5e-2a7c-4b1e-9c55-3d2a1f0e9b12'
    store.applyRule(storedRule(id), true)
    const r = rule({ kind: 'negative_price' })
    const alert = (interval: string) => ({
      ...evaluatePrice(r, priceEvent('SA1', interval, -1), created)!,
      rule_id: id,
    })
    expect(store.insertFiring(alert('2026-04-01T00:05:00Z'), false, created)).toBe(true)
    expect(store.insertFiring(alert('2026-04-01T00:05:00Z'), false, created)).toBe(false)
    expect(store.insertFiring(alert('2026-04-01T00:10:00Z'), true, created)).toBe(true)
    expect(store.prune(created + day)).toBe(1)
    expect(store.pendingCount()).toBe(1)
    expect(store.due(created + 40 * day, 10).map((d) => d.rule.id)).toEqual([id])
    store.close()
  })

  test('rule changes apply in topic order; a node never goes back to its own older state', () => {
    const store = openAlertStore(':memory:')
    const id = '5c1d1f0e-8a7b-4c2d-9e3f-1a2b3c4d5e6f'
    const v = (revision: number, name: string, enabled = true) =>
      storedRule(id, {
        revision,
        name,
        webhook_url: null,
        enabled,
        disabled_reason: enabled ? null : 'off',
        consecutive_failures: enabled ? 0 : 5,
        updated_at: revision,
      })
    expect(store.applyRule(v(1, 'created'), true)).toBe(true)
    expect(store.applyRule(v(2, 'renamed'), true)).toBe(true)
    // This node's create, read back from the topic after its own rename: ignored.
    expect(store.applyRule(v(1, 'created'), true)).toBe(false)
    expect(store.rule(id)?.name).toBe('renamed')
    // Two nodes' changes from the same revision: the later on the topic wins (on every node).
    expect(store.applyRule(v(3, 'from A'), true)).toBe(true)
    expect(store.applyRule(v(3, 'from B'), true)).toBe(true)
    expect(store.rule(id)?.name).toBe('from B')
    // The failure count follows the writer only when `enabled` changes.
    store.ruleFailed(id)
    expect(store.applyRule(v(4, 'renamed again'), true)).toBe(true)
    expect(store.rule(id)?.consecutive_failures).toBe(1)
    expect(store.applyRule(v(5, 'disabled', false), true)).toBe(true)
    expect(store.rule(id)?.consecutive_failures).toBe(5)
    // Deleted: older records of it, read back, do not bring it back.
    expect(store.applyRule({ id, revision: 6, deleted: true }, true)).toBe(true)
    expect(store.applyRule(v(5, 'disabled', false), true)).toBe(false)
    expect(store.rule(id)).toBeUndefined()
    store.close()
  })

  test("the leader's attempts, read back or from another node, are logged once and settle the firing", () => {
    const store = openAlertStore(':memory:')
    const id = '7d2e3f40-1b2c-4d5e-8f90-a1b2c3d4e5f6'
    store.applyRule(storedRule(id), true)
    const attempt = (n: number, outcome: 'delivered' | 'failed') => ({
      deliveryId: 'd-1',
      ruleId: id,
      attempt: n,
      at: created + n,
      outcome,
      statusCode: outcome === 'delivered' ? 200 : 500,
      error: null,
      latencyMs: 1,
      nextAttemptAt: outcome === 'delivered' ? null : created + 1000,
      body: '{}',
      firedAt: created,
    })
    // Not evaluated here yet: the firing comes with the attempt, pending its retry.
    expect(store.applyAttempt(attempt(1, 'failed'))).toBe(true)
    expect(store.applyAttempt(attempt(1, 'failed'))).toBe(false)
    expect(store.pendingCount()).toBe(1)
    expect(store.due(created + 1000, 10).map((d) => [d.deliveryId, d.attempts])).toEqual([
      ['d-1', 1],
    ])
    expect(store.applyAttempt(attempt(2, 'delivered'))).toBe(true)
    expect(store.pendingCount()).toBe(0)
    expect(store.deliveries(id, 10).map((d) => d.outcome)).toEqual(['delivered', 'failed'])
    // A rule deleted here: nothing to log against.
    store.applyRule({ id, revision: 2, deleted: true }, true)
    expect(store.applyAttempt(attempt(3, 'delivered'))).toBe(false)
    store.close()
  })
})
