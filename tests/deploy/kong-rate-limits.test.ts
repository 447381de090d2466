/**
 * Rate limits in the rendered kong/kong.yaml, by Kong's own rules (no Kong engine runs here, so
 * these semantics over the config are the proof):
 *
 *  - Which instance of a plugin runs: exactly one per plugin and request, the most specific of
 *    consumer+route+service > consumer+route > consumer+service > route+service > consumer > route
 *    > service > global (kong/runloop/plugins_iterator.lua, lookup_cfg). Plugins run in priority
 *    order, and each is looked up when its turn comes, so the consumer key-auth sets is known to
 *    the plugins after it.
 *  - Priorities (each plugin's handler.lua): key-auth 1250 > acl 950 > rate-limiting 910 >
 *    request-termination 2.
 *  - rate-limiting's local counter key: "ratelimit:<route_id>:<service_id>:<identifier>:
 *    <period_date>:<period>" where the ids are those of the entities the INSTANCE is attached to
 *    (nil -> 00000000-…), and the identifier is the consumer's id (limit_by consumer) or the
 *    client ip (limit_by ip, and consumer when there is none) (kong/plugins/rate-limiting/
 *    handler.lua get_identifier, policies/init.lua get_local_key). Windows are fixed calendar
 *    seconds/minutes; a request over any period's limit is refused and counts nowhere.
 *  - key-auth with `anonymous`: no key, a wrong key or a duplicated key header -> that consumer,
 *    without a credential (kong/plugins/key-auth/handler.lua logical_OR_authentication).
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { loadConfig } from '@/config'
import { yaml } from './support'

type Obj = Record<string, any>

const PRIORITY: Record<string, number> = {
  'key-auth': 1250,
  acl: 950,
  'rate-limiting': 910,
  'request-termination': 2,
}
const NIL = '00000000-0000-0000-0000-000000000000'

interface Instance {
  readonly plugin: Obj
  readonly route?: string
  readonly service?: string
  readonly consumer?: string
}
interface Route {
  readonly route: Obj
  readonly service: Obj
}

let kong: Obj
let instances: Instance[]
let apiRoutes: Route[]
let allRoutes: Route[]

/** Every plugin instance with its scope: where a plugin is nested is its scope (decK). */
function scopes(doc: Obj): Instance[] {
  return [
    // A top-level plugin may name its entities; without any it is global.
    ...(doc.plugins ?? []).map((p: Obj) => ({
      plugin: p,
      route: p.route,
      service: p.service,
      consumer: p.consumer,
    })),
    ...doc.services.flatMap((s: Obj) => [
      ...(s.plugins ?? []).map((p: Obj) => ({ plugin: p, service: s.name })),
      ...(s.routes ?? []).flatMap((r: Obj) =>
        (r.plugins ?? []).map((p: Obj) => ({ plugin: p, route: r.name }))
      ),
    ]),
    ...(doc.consumers ?? []).flatMap((c: Obj) =>
      (c.plugins ?? []).map((p: Obj) => ({ plugin: p, consumer: c.username }))
    ),
  ]
}

beforeAll(async () => {
  kong = await yaml('kong/kong.yaml')
  instances = scopes(kong)
  allRoutes = kong.services.flatMap((s: Obj) =>
    s.routes.map((route: Obj) => ({ route, service: s }))
  )
  apiRoutes = allRoutes.filter((r) => r.route.tags?.[0] === 'gridpulse' && r.route.tags?.[1])
})

/** The one instance of `name` Kong runs for this route and consumer (lookup_cfg's order). */
function effective(name: string, at: Route, consumer?: string): Instance | undefined {
  const R = at.route.name as string
  const S = at.service.name as string
  const C = consumer
  const order: Array<[string | undefined, string | undefined, string | undefined]> = [
    [R, S, C],
    [R, undefined, C],
    [undefined, S, C],
    [R, S, undefined],
    [undefined, undefined, C],
    [R, undefined, undefined],
    [undefined, S, undefined],
    [undefined, undefined, undefined],
  ]
  for (const [i, [r, s, c]] of order.entries()) {
    // lookup_cfg tries the combinations with a consumer only when there is one.
    if ([0, 1, 2, 4].includes(i) && C === undefined) continue
    const hit = instances.find(
      (x) =>
        x.plugin.name === name &&
        x.route === r &&
        x.service === s &&
        x.consumer === c &&
        x.plugin.enabled !== false
    )
    if (hit) return hit
  }
  return undefined
}

/** The counter a rate-limiting instance increments for this client (period parts left off). */
function counter(i: Instance, client: { consumer?: string; ip: string }) {
  const by = i.plugin.config.limit_by ?? 'consumer'
  const identifier =
    by === 'consumer' && client.consumer ? `consumer:${client.consumer}` : client.ip
  return `ratelimit:${i.route ?? NIL}:${i.service ?? NIL}:${identifier}`
}

const consumer = (username: string) => kong.consumers.find((c: Obj) => c.username === username)
const teams = () =>
  kong.consumers.filter((c: Obj) => (c.keyauth_credentials ?? []).length > 0) as Obj[]
const classOf = (r: Route) => (r.route.tags[1] === 'gridpulse-weather' ? 'weather' : 'market')

/**
 * One request through Kong's access phase for the plugins that decide its fate, in priority
 * order, with rate-limiting's local policy over `counters`. Returns the status Kong answers
 * (200 = proxied to GridPulse).
 */
function request(
  counters: Map<string, number>,
  at: Route,
  client: { key?: string; ip: string },
  nowMs: number
): number {
  let who: string | undefined
  let credential = false
  const plugins = Object.keys(PRIORITY).sort((a, b) => PRIORITY[b]! - PRIORITY[a]!)
  for (const name of plugins) {
    const i = effective(name, at, who)
    if (!i) continue
    const conf = i.plugin.config ?? {}
    if (name === 'key-auth') {
      const owner = kong.consumers.find((c: Obj) =>
        (c.keyauth_credentials ?? []).some((k: Obj) => client.key && k.key === client.key)
      )
      if (owner) {
        who = owner.username
        credential = true
      } else if (conf.anonymous) who = conf.anonymous
      else return 401
    } else if (name === 'acl') {
      const groups = (consumer(who!)?.acls ?? []).map((a: Obj) => a.group)
      if (!groups.some((g: string) => conf.allow.includes(g))) return credential ? 403 : 401
    } else if (name === 'rate-limiting') {
      const key = counter(i, { consumer: who, ip: client.ip })
      const periods = (['second', 'minute'] as const).filter((p) => conf[p] !== undefined)
      const start = (p: 'second' | 'minute') =>
        p === 'second' ? Math.floor(nowMs / 1000) : Math.floor(nowMs / 60_000)
      const windowKey = (p: 'second' | 'minute') => `${key}:${start(p)}:${p}`
      if (periods.some((p) => (counters.get(windowKey(p)) ?? 0) >= conf[p])) return 429
      for (const p of periods) counters.set(windowKey(p), (counters.get(windowKey(p)) ?? 0) + 1)
    } else if (name === 'request-termination') {
      return conf.status_code ?? 503
    }
  }
  return 200
}

describe('Kong rate limits: one counter per consumer and class, across all routes', () => {
  test('every API route of a class shares ONE counter per consumer, with the documented limits', () => {
    // GridPulse's own defaults are the contract (README configuration table).
    const gridpulse = loadConfig({}).auth
    if (gridpulse.mode === 'gateway') throw new Error('default auth mode changed')
    const limits = {
      market: gridpulse.perMinute.other,
      weather: gridpulse.perMinute.weather,
    }
    expect(apiRoutes.map(classOf).sort()).toContain('weather')
    for (const team of teams()) {
      const keys = { market: new Set<string>(), weather: new Set<string>() }
      for (const r of apiRoutes) {
        const i = effective('rate-limiting', r, team.username)
        expect(i, `${r.route.name}: no rate-limiting for ${team.username}`).toBeDefined()
        expect(i!.route, `${r.route.name}: a route-level limit counts that route alone`).toBe(
          undefined
        )
        expect(i!.plugin.config).toMatchObject({
          limit_by: 'consumer',
          policy: 'local',
          minute: limits[classOf(r)],
          second: Math.ceil(limits[classOf(r)] / 60) * 2,
        })
        keys[classOf(r)].add(counter(i!, { consumer: team.username, ip: '192.0.2.1' }))
      }
      expect(keys.market.size).toBe(1)
      expect(keys.weather.size).toBe(1)
      expect([...keys.market][0]).not.toBe([...keys.weather][0])
    }
  })

  test("the check catches the seed's mistake: a route-level limit makes that route a counter of its own", () => {
    const seed = structuredClone(kong)
    const listPrices = seed.services
      .flatMap((s: Obj) => s.routes)
      .find((r: Obj) => r.name === 'gridpulse_listprices')
    listPrices.plugins.push({
      name: 'rate-limiting',
      config: { minute: 100, limit_by: 'consumer', policy: 'local' },
    })
    const saved = instances
    try {
      instances = scopes(seed)
      const keys = new Set(
        apiRoutes
          .filter((r) => classOf(r) === 'market')
          .map((r) =>
            counter(effective('rate-limiting', r, 'analytics')!, {
              consumer: 'analytics',
              ip: '192.0.2.1',
            })
          )
      )
      expect(keys.size).toBe(2)
    } finally {
      instances = saved
    }
  })

  test('one consumer cycling through every market route gets 100 a minute, not 100 per route', () => {
    const counters = new Map<string, number>()
    const market = apiRoutes.filter((r) => classOf(r) === 'market' && r.route.methods[0] === 'GET')
    expect(market.length).toBeGreaterThanOrEqual(7)
    const key = consumer('analytics').keyauth_credentials[0].key
    const minute = Date.parse('2026-04-01T00:01:00Z')
    const statuses: number[] = []
    // 4 a second (the per-second cap) for the whole minute: 240 requests, 30 or so per route.
    for (let i = 0; i < 240; i++) {
      const at = minute + Math.floor(i / 4) * 1000 + (i % 4) * 10
      statuses.push(request(counters, market[i % market.length]!, { key, ip: '192.0.2.1' }, at))
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(100)
    expect(statuses.filter((s) => s === 429)).toHaveLength(140)
    // The weather class is a separate budget, and another team has its own.
    const weather = apiRoutes.find((r) => classOf(r) === 'weather')!
    expect(request(counters, weather, { key, ip: '192.0.2.1' }, minute + 59_500)).toBe(200)
    const risk = consumer('risk').keyauth_credentials[0].key
    expect(request(counters, market[0]!, { key: risk, ip: '192.0.2.1' }, minute + 59_500)).toBe(200)
  })

  test('across a minute boundary: a burst gets 2 × second, 60 s hold at most min(2 × minute, 61 × second)', () => {
    const key = consumer('analytics').keyauth_credentials[0].key
    const prices = apiRoutes.find((r) => r.route.name === 'gridpulse_listprices')!
    const boundary = Date.parse('2026-04-01T00:01:00Z')
    // The attack the issue saw: 200 requests within 1.3 s across the boundary.
    const counters = new Map<string, number>()
    let ok = 0
    for (let i = 0; i < 200; i++) {
      const at = boundary - 500 + Math.floor((i * 1300) / 200)
      if (request(counters, prices, { key, ip: '192.0.2.1' }, at) === 200) ok++
    }
    expect(ok).toBe(8)
    // The most a patient client can get from Kong alone: pace at exactly the per-second cap from
    // minute / second seconds before the boundary, so both minute windows fill inside 60 s.
    // (Fixed windows cannot do better; GridPulse's sliding window behind Kong holds it to 1×.)
    for (const [route, minute] of [
      [prices, 100],
      [apiRoutes.find((r) => classOf(r) === 'weather')!, 60],
    ] as const) {
      const counters = new Map<string, number>()
      const second = Math.ceil(minute / 60) * 2
      const accepted: number[] = []
      const from = boundary - (minute / second) * 1000
      for (let t = from; t < boundary + 60_000; t += 1000 / second) {
        if (request(counters, route, { key, ip: '192.0.2.1' }, t) === 200) accepted.push(t)
      }
      let worst = 0
      for (let i = 0, j = 0; i < accepted.length; i++) {
        while (accepted[i]! - accepted[j]! >= 60_000) j++
        worst = Math.max(worst, i - j + 1)
      }
      expect(worst).toBe(Math.min(2 * minute, 61 * second))
      // …and it takes the whole per-second pace to get there: no 1 s holds more than 2 × second.
      for (let i = 0, j = 0; i < accepted.length; i++) {
        while (accepted[i]! - accepted[j]! >= 1000) j++
        expect(i - j + 1).toBeLessThanOrEqual(2 * second)
      }
    }
  })
})

describe('Kong: requests without a valid key', () => {
  test('key-auth maps them to a keyless anonymous consumer on every API route', () => {
    for (const r of apiRoutes) {
      const auth = effective('key-auth', r)
      expect(auth?.plugin.config.anonymous, r.route.name).toBe('anonymous')
      expect(auth?.plugin.config.hide_credentials).toBe(true)
    }
    const anonymous = consumer('anonymous')
    expect(anonymous.keyauth_credentials ?? []).toEqual([])
  })

  test('on every API route they reach a per-address limit, then a 401 problem', () => {
    const counters = new Map<string, number>()
    for (const r of apiRoutes) {
      // acl (950) runs before rate-limiting (910): it must let the anonymous consumer through.
      const acl = effective('acl', r, 'anonymous')
      const groups = consumer('anonymous').acls.map((a: Obj) => a.group)
      expect(
        groups.some((g: string) => acl!.plugin.config.allow.includes(g)),
        r.route.name
      ).toBe(true)
      const limit = effective('rate-limiting', r, 'anonymous')!
      expect(limit.consumer).toBe('anonymous')
      expect(limit.plugin.config).toMatchObject({ limit_by: 'ip', minute: 30, policy: 'local' })
      const termination = effective('request-termination', r, 'anonymous')!
      expect(termination.plugin.config.status_code).toBe(401)
      expect(termination.plugin.config.content_type).toBe('application/problem+json')
      expect(JSON.parse(termination.plugin.config.body)).toMatchObject({
        status: 401,
        type: 'https://gridpulse.dev/problems/unauthorized',
      })
      counters.set(counter(limit, { ip: '198.51.100.7' }), 0)
      // A real team never meets the anonymous plugins.
      expect(effective('request-termination', r, 'analytics')).toBeUndefined()
    }
    // One counter per address across all API routes and services.
    expect(counters.size).toBe(1)
  })

  test('an address guessing keys across routes gets 30 × 401, then 429; another address is unaffected', () => {
    const counters = new Map<string, number>()
    const start = Date.parse('2026-04-01T00:01:00Z')
    const statuses: number[] = []
    for (let i = 0; i < 40; i++) {
      const r = apiRoutes[i % apiRoutes.length]!
      const key = i % 2 ? `gpk_guess${i}` : undefined
      statuses.push(request(counters, r, { key, ip: '198.51.100.7' }, start + i * 1000))
    }
    expect(statuses.slice(0, 30)).toEqual(Array(30).fill(401))
    expect(statuses.slice(30)).toEqual(Array(10).fill(429))
    expect(request(counters, apiRoutes[0]!, { ip: '198.51.100.8' }, start + 40_000)).toBe(401)
    // A valid key from the limited address still works.
    const key = consumer('analytics').keyauth_credentials[0].key
    const prices = apiRoutes.find((r) => r.route.name === 'gridpulse_listprices')!
    expect(request(counters, prices, { key, ip: '198.51.100.7' }, start + 41_000)).toBe(200)
  })

  test('GridPulse defaults match: RATE_LIMIT_ANONYMOUS_PER_MINUTE is the anonymous minute limit', () => {
    const limit = instances.find(
      (i) => i.consumer === 'anonymous' && i.plugin.name === 'rate-limiting'
    )
    const auth = loadConfig({}).auth
    expect(auth.mode).toBe('keys')
    expect(limit!.plugin.config.minute).toBe(
      (auth as { anonymousPerMinute: number }).anonymousPerMinute
    )
  })
})
