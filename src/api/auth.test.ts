import { describe, expect, test } from 'bun:test'
import { silentLogger } from '@/observability'
import { createApiKey, createQueries, openProjectionDb, revokeApiKey } from '@/projection'
import { createApi } from './app'
import { type AuthConfig, matchesSecret } from './auth'

const T0 = Date.parse('2026-04-01T00:00:10Z')

function setup(
  auth: (verify: ReturnType<typeof createQueries>['apiKeys']['verify']) => AuthConfig,
  now = () => T0
) {
  const db = openProjectionDb(':memory:')
  const queries = createQueries(db)
  const api = createApi({
    queries,
    publish: async () => {},
    readiness: async () => ({ ready: true, checks: {} }),
    log: silentLogger(),
    version: 'test',
    now,
    auth: auth(queries.apiKeys.verify),
  })
  return { db, api }
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
    const { db, api } = setup((verify) => ({ mode: 'keys', verify }))
    const { key } = createApiKey(db, 'analytics', 'read')
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
    const { db, api } = setup((verify) => ({ mode: 'keys', verify }))
    const reader = createApiKey(db, 'risk', 'read').key
    const writer = createApiKey(db, 'operations', 'write').key
    expect((await api.request('/api/v1/dispatch', post({ apikey: reader }))).status).toBe(403)
    expect((await api.request('/api/v1/dispatch', post({ apikey: writer }))).status).toBe(202)
  })

  test('the 101st request in a minute is 429 with Retry-After; the next minute is allowed again', async () => {
    let now = T0
    const { db, api } = setup(
      (verify) => ({ mode: 'keys', verify, perMinute: { other: 100, weather: 60 } }),
      () => now
    )
    const { key } = createApiKey(db, 'analytics', 'read')
    for (let i = 1; i <= 100; i++) {
      const ok = await api.request('/api/v1/prices', { headers: { apikey: key } })
      expect(ok.status).toBe(200)
      if (i === 100) expect(ok.headers.get('RateLimit-Remaining')).toBe('0')
    }
    const limited = await api.request('/api/v1/prices', { headers: { apikey: key } })
    expect(limited.status).toBe(429)
    expect(limited.headers.get('content-type')).toBe('application/problem+json')
    expect(limited.headers.get('Retry-After')).toBe('50')
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

  test('a revoked key stops working at once', async () => {
    const { db, api } = setup((verify) => ({ mode: 'keys', verify }))
    const { key, info } = createApiKey(db, 'risk', 'read')
    expect((await api.request('/api/v1/stats', { headers: { apikey: key } })).status).toBe(200)
    revokeApiKey(db, info.id)
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
    expect(
      (await api.request('/api/v1/dispatch', post({ ...kong, 'X-Gateway-Secret': secret }))).status
    ).toBe(403)
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
