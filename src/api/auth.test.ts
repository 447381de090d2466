import { describe, expect, test } from 'bun:test'
import { silentLogger } from '@/observability'
import { type KeyStore, openKeyStore } from '@/access'
import { createReadPort, openProjectionDb } from '@/projection'
import { createApi } from './app'
import { type AuthConfig, matchesSecret } from './auth'

const T0 = Date.parse('2026-04-01T00:00:10Z')

function setup(auth: (verify: KeyStore['verify']) => AuthConfig, now = () => T0) {
  const keys = openKeyStore(':memory:')
  const api = createApi({
    queries: createReadPort(openProjectionDb(':memory:')),
    publish: async () => {},
    readiness: async () => ({ ready: true, checks: {} }),
    log: silentLogger(),
    version: 'test',
    now,
    auth: auth(keys.verify),
  })
  return { keys, api }
}

const post = (headers: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify({
    region_id: 'NSW1',
    fuel_type: 'wind',
    value_mw: 1,
    interval_end: '2026-04-01T00:05:00Z',
  }),
})

describe('AUTH_MODE=keys', () => {
  test('no key or a bad key is 401; a valid key passes; open routes stay open', async () => {
    const { keys, api } = setup((verify) => ({ mode: 'keys', verify }))
    const { key } = keys.create('analytics', 'read')
    // The same key with its last character changed (never to itself).
    const tampered = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`

    const none = await api.request('/api/v1/prices')
    expect(none.status).toBe(401)
    expect(none.headers.get('content-type')).toBe('application/problem+json')
    expect((await api.request('/api/v1/prices', { headers: { apikey: tampered } })).status).toBe(
      401
    )
    expect((await api.request('/api/v1/prices', { headers: { apikey: 'gpk_zzz' } })).status).toBe(
      401
    )
    expect((await api.request('/api/v1/prices', { headers: { apikey: key } })).status).toBe(200)
    for (const open of ['/health', '/ready', '/openapi.json', '/docs'])
      expect((await api.request(open)).status).toBe(200)
  })

  test('a read key may not POST (403); a write key may (202)', async () => {
    const { keys, api } = setup((verify) => ({ mode: 'keys', verify }))
    const reader = keys.create('risk', 'read').key
    const writer = keys.create('operations', 'write').key
    expect((await api.request('/api/v1/dispatch', post({ apikey: reader }))).status).toBe(403)
    expect((await api.request('/api/v1/dispatch', post({ apikey: writer }))).status).toBe(202)
  })

  test('the 101st request in a minute is 429 with Retry-After; the next minute is allowed again', async () => {
    let now = T0
    const { keys, api } = setup(
      (verify) => ({ mode: 'keys', verify, perMinute: { other: 100, weather: 60 } }),
      () => now
    )
    const { key } = keys.create('analytics', 'read')
    for (let i = 1; i <= 100; i++) {
      const ok = await api.request('/api/v1/prices', { headers: { apikey: key } })
      expect(ok.status).toBe(200)
      if (i === 100) expect(ok.headers.get('RateLimit-Remaining')).toBe('0')
    }
    const limited = await api.request('/api/v1/prices', { headers: { apikey: key } })
    expect(limited.status).toBe(429)
    expect(limited.headers.get('content-type')).toBe('application/problem+json')
    // Sliding window: all 100 were counted at T0, so the first slot frees 60 s later.
    expect(limited.headers.get('Retry-After')).toBe('60')
    expect(limited.headers.get('RateLimit-Limit')).toBe('100')
    // Weather has its own, smaller budget.
    expect(
      (await api.request('/api/v1/weather', { headers: { apikey: key } })).headers.get(
        'RateLimit-Limit'
      )
    ).toBe('60')
    now = T0 + 60_000
    expect((await api.request('/api/v1/prices', { headers: { apikey: key } })).status).toBe(200)
  })

  test('one budget per consumer and class, shared by every route of the class', async () => {
    let now = T0
    const { keys, api } = setup(
      (verify) => ({ mode: 'keys', verify, perMinute: { other: 100, weather: 60 } }),
      () => now
    )
    const { key } = keys.create('analytics', 'read')
    const other = keys.create('risk', 'read').key
    const get = (path: string, apikey = key) => api.request(path, { headers: { apikey } })
    const market = [
      '/api/v1/prices',
      '/api/v1/dispatch',
      '/api/v1/interconnectors',
      '/api/v1/generation/reconciliation',
      '/api/v1/stats',
      '/api/v1/sources',
      '/api/v1/dlq',
    ]
    for (let i = 0; i < 100; i++) {
      now = T0 + i * 100
      expect((await get(market[i % market.length]!)).status).toBe(200)
    }
    // Every route of the class is now refused, not just the ones used most.
    for (const path of [...market, '/api/v1/generation/mix?region_id=NSW1']) {
      const r = await get(path)
      expect(r.status).toBe(429)
      expect(r.headers.get('RateLimit-Remaining')).toBe('0')
    }
    // Weather is its own class with its own budget; another consumer has its own.
    for (let i = 0; i < 60; i++) expect((await get('/api/v1/weather')).status).toBe(200)
    expect((await get('/api/v1/weather')).status).toBe(429)
    expect((await get('/api/v1/prices', other)).status).toBe(200)
    // A write counts against the same budget as the reads.
    const writer = keys.create('operations', 'write').key
    for (let i = 0; i < 99; i++) expect((await get('/api/v1/prices', writer)).status).toBe(200)
    expect((await api.request('/api/v1/dispatch', post({ apikey: writer }))).status).toBe(202)
    expect((await api.request('/api/v1/dispatch', post({ apikey: writer }))).status).toBe(429)
  })

  test('a burst straddling a minute boundary gets the limit once, not twice', async () => {
    const boundary = Date.parse('2026-04-01T00:01:00Z')
    let now = boundary - 500
    const { keys, api } = setup(
      (verify) => ({ mode: 'keys', verify, perMinute: { other: 100, weather: 60 } }),
      () => now
    )
    const { key } = keys.create('analytics', 'read')
    const statuses: number[] = []
    // 200 requests in 1.3 s: 100 before the boundary, 100 after it.
    for (let i = 0; i < 200; i++) {
      now = boundary - 500 + Math.floor((i * 1300) / 200)
      statuses.push((await api.request('/api/v1/prices', { headers: { apikey: key } })).status)
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(100)
    expect(statuses.filter((s) => s === 429)).toHaveLength(100)
    // Retry-After says when the first of them leaves the window: 60 s after it was sent.
    now = boundary + 800
    const limited = await api.request('/api/v1/prices', { headers: { apikey: key } })
    expect(limited.status).toBe(429)
    expect(limited.headers.get('Retry-After')).toBe(String(Math.ceil((60_000 - 1300) / 1000)))
    now = boundary - 500 + 60_000
    expect((await api.request('/api/v1/prices', { headers: { apikey: key } })).status).toBe(200)
  })

  test('requests without a valid key are limited per client address: 429 instead of 401', async () => {
    let now = T0
    const { keys, api } = setup(
      (verify) => ({ mode: 'keys', verify, anonymousPerMinute: 30 }),
      () => now
    )
    const { key } = keys.create('analytics', 'read')
    // Bun.serve passes its server to fetch; Hono hands it to the app as the env.
    const from = (address: string) => ({ requestIP: () => ({ address, family: '', port: 1 }) })
    const attacker = from('203.0.113.7')
    for (let i = 0; i < 30; i++) {
      now = T0 + i * 1000
      const headers: Record<string, string> = i % 2 ? { apikey: `gpk_guess${i}` } : {}
      expect((await api.request('/api/v1/prices', { headers }, attacker)).status).toBe(401)
    }
    const limited = await api.request('/api/v1/prices', {}, attacker)
    expect(limited.status).toBe(429)
    expect(limited.headers.get('content-type')).toBe('application/problem+json')
    // The first failure (at T0) leaves the window at T0 + 60 s; it is now T0 + 29 s.
    expect(limited.headers.get('Retry-After')).toBe('31')
    // A key guess is refused the same way, without being checked.
    expect(
      (await api.request('/api/v1/prices', { headers: { apikey: 'gpk_x' } }, attacker)).status
    ).toBe(429)
    // Another address is unaffected; a valid key from the limited address still works.
    expect((await api.request('/api/v1/prices', {}, from('203.0.113.8'))).status).toBe(401)
    expect(
      (await api.request('/api/v1/prices', { headers: { apikey: key } }, attacker)).status
    ).toBe(200)
    // IPv6: one /64 is one client, however many addresses it uses.
    for (let i = 0; i < 30; i++) {
      const r = await api.request('/api/v1/prices', {}, from(`2001:db8:1:2::${i.toString(16)}`))
      expect(r.status).toBe(401)
    }
    expect((await api.request('/api/v1/prices', {}, from('2001:db8:1:2:ffff::1'))).status).toBe(429)
    expect((await api.request('/api/v1/prices', {}, from('2001:db8:1:3::1'))).status).toBe(401)
    now = T0 + 60_000
    expect((await api.request('/api/v1/prices', {}, attacker)).status).toBe(401)
  })

  test('the client address is the socket peer when served by Bun', async () => {
    const { api } = setup((verify) => ({ mode: 'keys', verify, anonymousPerMinute: 3 }))
    const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: api.fetch })
    try {
      const statuses: number[] = []
      for (let i = 0; i < 4; i++) {
        // A client-chosen X-Forwarded-For must not buy a fresh budget.
        const r = await fetch(`${server.url}api/v1/prices`, {
          headers: { 'X-Forwarded-For': `198.51.100.${i}`, 'X-Real-IP': `198.51.100.${i}` },
        })
        statuses.push(r.status)
      }
      expect(statuses).toEqual([401, 401, 401, 429])
    } finally {
      server.stop(true)
    }
  })

  test('a revoked key stops working at once', async () => {
    const { keys, api } = setup((verify) => ({ mode: 'keys', verify }))
    const { key, info } = keys.create('risk', 'read')
    expect((await api.request('/api/v1/stats', { headers: { apikey: key } })).status).toBe(200)
    keys.revoke(info.id)
    expect((await api.request('/api/v1/stats', { headers: { apikey: key } })).status).toBe(401)
  })
})

describe('AUTH_MODE=gateway', () => {
  const secret = 'a-gateway-secret-of-sufficient-length'
  const kong = { 'X-Consumer-Username': 'risk', 'X-Consumer-Groups': 'gridpulse-read' }

  test('consumer headers without the gateway secret are 401', async () => {
    const { api } = setup(() => ({ mode: 'gateway', secret }))
    expect((await api.request('/api/v1/prices', { headers: kong })).status).toBe(401)
    expect(
      (await api.request('/api/v1/prices', { headers: { ...kong, 'X-Gateway-Secret': 'wrong' } }))
        .status
    ).toBe(401)
    expect(
      (await api.request('/api/v1/prices', { headers: { ...kong, 'X-Gateway-Secret': secret } }))
        .status
    ).toBe(200)
  })

  test('requests failing the gateway check are limited by socket address, not by headers they send', async () => {
    const { api } = setup(() => ({ mode: 'gateway', secret, anonymousPerMinute: 5 }))
    const socket = { requestIP: () => ({ address: '10.0.0.9', family: 'IPv4', port: 1 }) }
    for (let i = 0; i < 5; i++) {
      const spoofed = { ...kong, 'X-Real-IP': `198.51.100.${i}` }
      expect((await api.request('/api/v1/prices', { headers: spoofed }, socket)).status).toBe(401)
    }
    expect((await api.request('/api/v1/prices', { headers: kong }, socket)).status).toBe(429)
    // Through Kong (secret verified), Kong's X-Real-IP names the client: Kong's anonymous
    // consumer is refused and limited per client, not per Kong node.
    const anonymous = (ip: string) => ({
      'X-Consumer-Username': 'anonymous',
      'X-Anonymous-Consumer': 'true',
      'X-Gateway-Secret': secret,
      'X-Real-IP': ip,
    })
    for (let i = 0; i < 5; i++) {
      const r = await api.request('/api/v1/prices', { headers: anonymous('192.0.2.1') }, socket)
      expect(r.status).toBe(401)
    }
    expect(
      (await api.request('/api/v1/prices', { headers: anonymous('192.0.2.1') }, socket)).status
    ).toBe(429)
    expect(
      (await api.request('/api/v1/prices', { headers: anonymous('192.0.2.2') }, socket)).status
    ).toBe(401)
    // A real consumer through Kong is not affected by any of it.
    expect(
      (await api.request('/api/v1/prices', { headers: { ...kong, 'X-Gateway-Secret': secret } }))
        .status
    ).toBe(200)
  })

  test('behind Kong, a consumer gets its limit per class in any 60 s, however it paces around a boundary', async () => {
    const boundary = Date.parse('2026-04-01T00:01:00Z')
    let now = boundary - 25_000
    const { api } = setup(
      () => ({ mode: 'gateway', secret, perMinute: { other: 100, weather: 60 } }),
      () => now
    )
    const headers = { ...kong, 'X-Gateway-Secret': secret }
    // The pacing Kong's fixed windows let through (tests/deploy/kong-rate-limits.test.ts):
    // 4 a second from 25 s before the boundary to 25 s after it, 200 requests in 50 s.
    const statuses: number[] = []
    for (let i = 0; i < 200; i++) {
      now = boundary - 25_000 + i * 250
      statuses.push((await api.request('/api/v1/prices', { headers })).status)
    }
    expect(statuses.slice(0, 100)).toEqual(Array(100).fill(200))
    expect(statuses.slice(100)).toEqual(Array(100).fill(429))
    // Weather is its own class, here too.
    expect((await api.request('/api/v1/weather', { headers })).status).toBe(200)
  })

  test('a secret of any other length, a prefix or an extension of it is refused', async () => {
    const { api } = setup(() => ({ mode: 'gateway', secret }))
    for (const presented of [secret.slice(0, -1), `${secret}x`, 'x', secret.repeat(40), ' '])
      expect(
        (
          await api.request('/api/v1/prices', {
            headers: { ...kong, 'X-Gateway-Secret': presented },
          })
        ).status
      ).toBe(401)
    expect(matchesSecret(secret, [secret])).toBe(true)
    expect(matchesSecret(secret.toUpperCase(), [secret])).toBe(false)
    expect(matchesSecret('', [secret])).toBe(false)
  })

  test('during a rotation the previous secret is accepted beside the new one, nothing else', async () => {
    const previous = 'the-secret-kong-still-sends-until-recreated'
    const { api } = setup(() => ({ mode: 'gateway', secret, previousSecret: previous }))
    const status = async (presented: string) =>
      (await api.request('/api/v1/prices', { headers: { ...kong, 'X-Gateway-Secret': presented } }))
        .status
    expect(await status(secret)).toBe(200)
    expect(await status(previous)).toBe(200)
    expect(await status(`${previous}-`)).toBe(401)
    expect(await status('wrong')).toBe(401)
    // Rotation finished (GATEWAY_SECRET_PREVIOUS removed): the old secret is refused.
    const { api: after } = setup(() => ({ mode: 'gateway', secret }))
    expect(
      (
        await after.request('/api/v1/prices', {
          headers: { ...kong, 'X-Gateway-Secret': previous },
        })
      ).status
    ).toBe(401)
  })

  test('only the write group may POST', async () => {
    const { api } = setup(() => ({ mode: 'gateway', secret }))
    const refused = await api.request(
      '/api/v1/dispatch',
      post({ ...kong, 'X-Gateway-Secret': secret })
    )
    expect(refused.status).toBe(403)
    // Counted like any request (as in keys mode), so it says what is left of the budget.
    expect(refused.headers.get('RateLimit-Remaining')).toBe('99')
    const writer = {
      'X-Consumer-Username': 'operations',
      'X-Consumer-Groups': 'gridpulse-read, gridpulse-write',
    }
    expect(
      (await api.request('/api/v1/dispatch', post({ ...writer, 'X-Gateway-Secret': secret })))
        .status
    ).toBe(202)
  })
})
