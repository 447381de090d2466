/**
 * Kong as code: kong/kong.yaml is generated from the OpenAPI spec (no drift), validates, publishes
 * the seed's public paths with the right upstream rewrite, and carries the security policy.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { select } from '../../kong/lib/jsonpath'
import { publicPath, type PublicPathRules } from '../../kong/lib/public-paths'
import { validate } from '../../kong/lib/validate'
import { findTool, ROOT, run, skipNotice, token, yaml } from './support'

type Obj = Record<string, any>

/** decK: installed, or installable now (scripts/install-tools.sh exits 3 where it cannot be had). */
const deck = (() => {
  const found = findTool('DECK', 'deck', 'deck')
  if (found) return found
  const install = run(['bash', 'scripts/install-tools.sh', 'deck'], { timeout: 300_000 })
  if (install.code === 0) return install.stdout.trim().split('\n').at(-1)
  skipNotice(
    'deck file validate',
    `decK is not installed and cannot be installed here (scripts/install-tools.sh deck: exit ${install.code}, ${install.stderr.trim().split('\n').at(-1)}); kong/lib/validate.ts's checks run instead`
  )
  return undefined
})()
let kong: Obj
/** The API services: `gridpulse` and one per rate-limit class (kong/public-paths.yaml `_services`). */
let apis: Obj[]
let routes: Obj[]

beforeAll(async () => {
  kong = await yaml('kong/kong.yaml')
  apis = kong.services.filter((s: Obj) => s.name === 'gridpulse' || s.name === 'gridpulse-weather')
  routes = kong.services.flatMap((s: Obj) => s.routes.map((r: Obj) => ({ ...r, service: s })))
})

const plugin = (entity: Obj | undefined, name: string) =>
  entity?.plugins?.find((p: Obj) => p.name === name)
const globalPlugin = (name: string) => kong.plugins?.find((p: Obj) => p.name === name)

/** The route Kong would pick for a request (highest regex_priority first), and the upstream path. */
function route(method: string, path: string) {
  const candidates = routes
    .filter((r) => !r.methods || r.methods.includes(method))
    .map((r) => ({
      r,
      m: r.paths
        .map((p: string) => new RegExp(p.startsWith('~') ? p.slice(1) : `^${p}`).exec(path))
        .find(Boolean),
    }))
    .filter((c) => c.m)
    .sort((a, b) => (b.r.regex_priority ?? 0) - (a.r.regex_priority ?? 0))
  const hit = candidates[0]
  if (!hit) return undefined
  const rt = plugin(hit.r.service, 'request-transformer')
  const uriTemplate: string | undefined = rt?.config?.replace?.uri
  const upstream = uriTemplate
    ? uriTemplate.replace(/\$\(uri_captures\.(\w+)\)/g, (_, g: string) => hit.m.groups?.[g] ?? '')
    : path
  return { route: hit.r, upstream }
}

describe('kong/kong.yaml is generated from the spec', () => {
  test('no drift: regenerating it gives the committed file, and it validates', () => {
    const r = run(['bash', 'scripts/kong-check.sh'], { timeout: 120_000 })
    if (r.code !== 0) console.error(r.stdout, r.stderr)
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('up to date and valid')
  })

  test.skipIf(!deck)('deck file validate accepts it', () => {
    const r = run([deck!, 'file', 'validate', 'kong/kong.yaml'])
    if (r.code !== 0) console.error(r.stdout, r.stderr)
    expect(r.code).toBe(0)
  })

  test('the offline validator finds no problem, and catches a literal key', () => {
    expect(validate(kong as any)).toEqual([])
    const broken = structuredClone(kong)
    broken.consumers[0].keyauth_credentials[0].key = token('gpk_')
    expect(validate(broken as any).join('\n')).toContain('never a literal key')
    // Kong's own schema rules the generated config could break (rate-limiting, the anonymous consumer)
    const seed = structuredClone(kong)
    const limit = seed.services[0].plugins.find((p: Obj) => p.name === 'rate-limiting')
    limit.config.second = limit.config.minute + 1
    seed.consumers = seed.consumers.filter((c: Obj) => c.username !== 'anonymous')
    const found = validate(seed as any).join('\n')
    expect(found).toContain('rate-limiting.minute cannot be lower than second')
    expect(found).toContain("key-auth.anonymous names consumer 'anonymous', which does not exist")
  })

  test('every /api/v1 operation of the spec has exactly one route; /health, /ready, /metrics none', async () => {
    const spec = await Bun.file(join(ROOT, 'openapi/gridpulse.openapi.json')).json()
    const ops = Object.entries(spec.paths as Obj).flatMap(([p, item]) =>
      Object.keys(item as Obj)
        .filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
        .map((m) => [m.toUpperCase(), p])
    )
    const apiOps = ops.filter(([, p]) => p!.startsWith('/api/v1/'))
    expect(apis.flatMap((s) => s.routes)).toHaveLength(apiOps.length)
    for (const path of ['/health', '/ready', '/metrics', '/api/v1/prices']) {
      expect(route('GET', path)).toBeUndefined()
    }
  })
})

describe("public paths (the seed's) and the upstream rewrite", () => {
  const cases: Array<[string, string, string]> = [
    ['GET', '/v1/market/dispatch', '/api/v1/dispatch'],
    ['POST', '/v1/market/dispatch', '/api/v1/dispatch'],
    ['GET', '/v1/market/prices', '/api/v1/prices'],
    ['GET', '/v1/weather/observations', '/api/v1/weather'],
    ['GET', '/v1/stats', '/api/v1/stats'],
    // "Trace a request": the POST's X-Correlation-ID, then its trace and an event's lineage.
    ['GET', '/v1/trace/demo-42', '/api/v1/trace/demo-42'],
    [
      'GET',
      '/v1/lineage/0b6c9a2e-61d4-5f0e-9a57-1f7b4c2d8e90',
      '/api/v1/lineage/0b6c9a2e-61d4-5f0e-9a57-1f7b4c2d8e90',
    ],
  ]
  for (const [method, path, upstream] of cases) {
    test(`${method} ${path} -> ${upstream}`, () => {
      const hit = route(method, path)
      expect(hit?.route.service.name).toBe(
        path.startsWith('/v1/weather') ? 'gridpulse-weather' : 'gridpulse'
      )
      expect(hit?.upstream).toBe(upstream)
    })
  }

  test('the upstream service is gridpulse:8080 on the compose network', () => {
    for (const s of apis)
      expect(s).toMatchObject({ host: 'gridpulse', port: 8080, protocol: 'http', path: '/' })
  })

  test('the live stream (/v1/stream) is proxied unbuffered, with a read timeout longer than its heartbeat', () => {
    const stream = routes.filter((r) => r.paths[0].includes('(?<api_path>stream)'))
    expect(stream).toHaveLength(1)
    expect(stream[0]).toMatchObject({ response_buffering: false, request_buffering: false })
    // STREAM_HEARTBEAT_SECONDS defaults to 15: several heartbeats fit in one read timeout.
    expect(stream[0]!.service.read_timeout).toBeGreaterThanOrEqual(45_000)
    for (const r of routes.filter((r) => r !== stream[0]))
      expect(r.response_buffering, r.name).toBeUndefined()
  })

  test('later /api/v1 resources follow the rule (sources, generation mix, dlq, path parameters)', async () => {
    const rules = (await yaml('kong/public-paths.yaml')) as PublicPathRules
    const publish = (upstream: string, request: string) => {
      const m = new RegExp(publicPath(upstream, rules).slice(1)).exec(request)
      return m ? `/api/v1/${m.groups!.api_path}` : undefined
    }
    expect(publish('/api/v1/sources', '/v1/sources')).toBe('/api/v1/sources')
    expect(publish('/api/v1/generation/mix', '/v1/market/generation/mix')).toBe(
      '/api/v1/generation/mix'
    )
    expect(publish('/api/v1/dlq', '/v1/dlq')).toBe('/api/v1/dlq')
    expect(publish('/api/v1/traces/{correlation_id}', '/v1/traces/3f2a')).toBe(
      '/api/v1/traces/3f2a'
    )
    expect(publish('/api/v1/traces/{correlation_id}', '/v1/traces/a/b')).toBeUndefined()
    expect(publish('/api/v1/dispatch', '/v1/dispatch')).toBeUndefined()
  })

  test('CSV exports and aggregates take the JSON routes: same route, service (rate-limit class) and upstream', () => {
    // Kong matches routes on the path alone (the query string is never part of it), and no API
    // route matches on headers, so `Accept: text/csv`, `?format=csv` and `?interval=1d` change
    // neither the route nor its service; the request-transformer rewrites the path only.
    for (const r of apis.flatMap((s) => s.routes)) expect(r.headers, r.name).toBeUndefined()
    for (const s of apis) {
      const rt = plugin(s, 'request-transformer').config
      expect(Object.keys(rt.replace)).toEqual(['uri'])
      for (const op of ['remove', 'add', 'append', 'rename'])
        expect(rt[op]?.querystring, `${s.name} ${op}`).toBeUndefined()
    }
    for (const [path, upstream, service] of [
      ['/v1/market/prices', '/api/v1/prices', 'gridpulse'],
      ['/v1/market/dispatch', '/api/v1/dispatch', 'gridpulse'],
      ['/v1/market/interconnectors', '/api/v1/interconnectors', 'gridpulse'],
      ['/v1/market/generation/reconciliation', '/api/v1/generation/reconciliation', 'gridpulse'],
      ['/v1/market/prices/fcas', '/api/v1/prices/fcas', 'gridpulse'],
      ['/v1/market/curtailment', '/api/v1/curtailment', 'gridpulse'],
      ['/v1/market/generation/rooftop', '/api/v1/generation/rooftop', 'gridpulse'],
      ['/v1/weather/observations', '/api/v1/weather', 'gridpulse-weather'],
      ['/v1/dlq', '/api/v1/dlq', 'gridpulse'],
    ]) {
      const hit = route('GET', path!)
      expect(hit?.upstream).toBe(upstream)
      expect(hit?.route.service.name).toBe(service)
    }
  })

  test('/docs, /docs/scalar.js and /openapi.json are routed without a key', () => {
    for (const path of ['/docs', '/docs/scalar.js', '/openapi.json']) {
      const hit = route('GET', path)
      expect(hit?.upstream).toBe(path)
      expect(plugin(hit!.route.service, 'key-auth')).toBeUndefined()
      expect(plugin(hit!.route, 'key-auth')).toBeUndefined()
      // spoofed consumer identity and gateway secret are stripped on anonymous routes
      const removed = plugin(hit!.route.service, 'request-transformer').config.remove.headers
      expect(removed).toEqual(
        expect.arrayContaining(['X-Gateway-Secret', 'X-Consumer-Username', 'X-Consumer-Groups'])
      )
    }
    expect(globalPlugin('key-auth')).toBeUndefined()
  })
})

describe('policy', () => {
  test('key-auth: apikey header only, credentials hidden from the upstream', () => {
    for (const s of apis) {
      expect(plugin(s, 'key-auth').config).toMatchObject({
        key_names: ['apikey'],
        hide_credentials: true,
        key_in_query: false,
        key_in_body: false,
        // keyless requests: see tests/deploy/kong-rate-limits.test.ts
        anonymous: 'anonymous',
      })
      for (const r of s.routes) expect(plugin(r, 'key-auth')).toBeUndefined()
    }
  })

  test('acl: GET for readers and writers, POST only for writers', () => {
    // gridpulse-anonymous only reaches the anonymous consumer's per-address limit and its 401
    // (kong/anonymous.yaml; tests/deploy/kong-rate-limits.test.ts).
    for (const s of apis) {
      expect(plugin(s, 'acl').config.allow.sort()).toEqual([
        'gridpulse-anonymous',
        'gridpulse-read',
        'gridpulse-write',
      ])
      expect(plugin(s, 'acl').config.hide_groups_header).toBe(false)
      for (const r of s.routes.filter((r: Obj) => r.methods.includes('GET')))
        expect(plugin(r, 'acl')).toBeUndefined()
    }
    const post = route('POST', '/v1/market/dispatch')!.route
    expect(plugin(post, 'acl').config.allow).toEqual(['gridpulse-write', 'gridpulse-anonymous'])
  })

  test('correlation-id, request-size-limiting and prometheus are global', () => {
    expect(globalPlugin('correlation-id').config).toEqual({
      header_name: 'X-Correlation-ID',
      generator: 'uuid',
      echo_downstream: true,
    })
    expect(globalPlugin('request-size-limiting').config).toMatchObject({
      allowed_payload_size: 64,
      size_unit: 'kilobytes',
    })
    expect(globalPlugin('prometheus').config).toMatchObject({
      per_consumer: true,
      status_code_metrics: true,
      latency_metrics: true,
    })
  })

  test('the API service adds X-Gateway-Secret (from the env vault name) and keeps consumer headers', () => {
    for (const s of apis) {
      const rt = plugin(s, 'request-transformer').config
      expect(rt.add.headers).toEqual(['X-Gateway-Secret:{vault://env/gridpulse-gateway-secret}'])
      expect(rt.remove.headers).toEqual(['X-Gateway-Secret'])
      for (const r of s.routes) expect(plugin(r, 'request-transformer')).toBeUndefined()
    }
  })

  test('consumers analytics, operations, risk with their groups; keys only as vault references', () => {
    const byName = Object.fromEntries(kong.consumers.map((c: Obj) => [c.username, c]))
    const groups = (n: string) => byName[n].acls.map((a: Obj) => a.group).sort()
    expect(groups('analytics')).toEqual(['gridpulse-read'])
    expect(groups('risk')).toEqual(['gridpulse-read'])
    expect(groups('operations')).toEqual(['gridpulse-read', 'gridpulse-write'])
    for (const c of kong.consumers) {
      // key-auth's anonymous consumer has no key at all (kong/anonymous.yaml).
      if (c.username === 'anonymous') expect(c.keyauth_credentials).toBeUndefined()
      else
        expect(c.keyauth_credentials).toEqual([
          { key: `{vault://env/gridpulse-key-${c.username}}` },
        ])
    }
    expect(readFileSync(join(ROOT, 'kong/kong.yaml'), 'utf8')).not.toMatch(/gpk_[A-Za-z0-9_-]{16,}/)
  })
})

describe('kong/docker-start.sh', () => {
  const env = () => ({
    PATH: process.env.PATH,
    GRIDPULSE_KONG_TEMPLATE: join(ROOT, 'kong/kong.yaml'),
    GRIDPULSE_GATEWAY_SECRET: token(),
    GRIDPULSE_KEY_ANALYTICS: token('gpk_'),
    GRIDPULSE_KEY_OPERATIONS: token('gpk_'),
    GRIDPULSE_KEY_RISK: token('gpk_'),
  })

  test('resolves every placeholder from the environment into a private file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kong-render-'))
    try {
      const e = env()
      const out = join(dir, 'kong.yaml')
      const r = run(['sh', 'kong/docker-start.sh', '--render-only', out], { env: e })
      expect(r.code).toBe(0)
      const text = readFileSync(out, 'utf8')
      expect(text).not.toContain('{vault://')
      expect(text).toContain(`X-Gateway-Secret:${e.GRIDPULSE_GATEWAY_SECRET}`)
      const rendered = Bun.YAML.parse(text) as Obj
      const keys = Object.fromEntries(
        rendered.consumers
          .filter((c: Obj) => c.keyauth_credentials)
          .map((c: Obj) => [c.username, c.keyauth_credentials[0].key])
      )
      expect(keys).toEqual({
        analytics: e.GRIDPULSE_KEY_ANALYTICS,
        operations: e.GRIDPULSE_KEY_OPERATIONS,
        risk: e.GRIDPULSE_KEY_RISK,
      })
      expect(Bun.spawnSync(['stat', '-c', '%a', out]).stdout.toString().trim()).toBe('600')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('refuses to start (78) when a key is missing or malformed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kong-render-'))
    try {
      const missing = { ...env(), GRIDPULSE_KEY_RISK: undefined }
      const r1 = run(['sh', 'kong/docker-start.sh', '--render-only', join(dir, 'a.yaml')], {
        env: missing,
      })
      expect(r1.code).toBe(78)
      expect(r1.stderr).toContain('GRIDPULSE_KEY_RISK is not set')
      const bad = { ...env(), GRIDPULSE_KEY_RISK: `${token('gpk_')}"|x` }
      expect(
        run(['sh', 'kong/docker-start.sh', '--render-only', join(dir, 'b.yaml')], { env: bad }).code
      ).toBe(78)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

test('kong-add-consumer.sh adds a team in seconds: consumer, regenerated config, key in the env file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kong-team-'))
  try {
    for (const p of ['kong', 'scripts', 'openapi'])
      cpSync(join(ROOT, p), join(dir, p), { recursive: true })
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
    const envFile = join(dir, 'deploy/.env')
    const started = performance.now()
    const r = run(['bash', 'scripts/kong-add-consumer.sh', 'trading', 'write'], {
      cwd: dir,
      env: { ...process.env, GRIDPULSE_ENV_FILE: envFile },
    })
    const seconds = (performance.now() - started) / 1000
    if (r.code !== 0) console.error(r.stdout, r.stderr)
    expect(r.code).toBe(0)
    expect(seconds).toBeLessThan(300)
    console.info(`kong-add-consumer.sh took ${seconds.toFixed(1)} s`)
    const generated = Bun.YAML.parse(readFileSync(join(dir, 'kong/kong.yaml'), 'utf8')) as Obj
    const trading = generated.consumers.find((c: Obj) => c.username === 'trading')
    expect(trading.acls.map((a: Obj) => a.group)).toEqual(['gridpulse-read', 'gridpulse-write'])
    expect(trading.keyauth_credentials).toEqual([{ key: '{vault://env/gridpulse-key-trading}' }])
    const envText = readFileSync(envFile, 'utf8')
    expect(envText).toMatch(/^GRIDPULSE_KEY_TRADING=gpk_[A-Za-z0-9_-]{43}$/m)
    expect(envText).toMatch(/^GRIDPULSE_GATEWAY_SECRET=[A-Za-z0-9_-]{43}$/m)
    expect(r.stdout).toContain('--force-recreate kong')
    // idempotent setup-env: a second run keeps every value
    const again = run(['bash', 'scripts/setup-env.sh'], {
      cwd: dir,
      env: { ...process.env, GRIDPULSE_ENV_FILE: envFile },
    })
    expect(again.code).toBe(0)
    expect(readFileSync(envFile, 'utf8')).toBe(envText)
    // a team twice is refused
    expect(
      run(['bash', 'scripts/kong-add-consumer.sh', 'trading'], {
        cwd: dir,
        env: { ...process.env, GRIDPULSE_ENV_FILE: envFile },
      }).code
    ).toBe(1)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a new /api/v1 operation in the spec is drift until kong.yaml is regenerated, then routed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kong-drift-'))
  try {
    for (const p of ['kong', 'scripts', 'openapi'])
      cpSync(join(ROOT, p), join(dir, p), { recursive: true })
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'))
    const specFile = join(dir, 'openapi/gridpulse.openapi.json')
    const spec = JSON.parse(readFileSync(specFile, 'utf8'))
    // Operations that do not exist (yet): the drift check must notice them.
    spec.paths['/api/v1/constraints'] = {
      get: { operationId: 'listBindingConstraints', responses: { 200: { description: 'ok' } } },
    }
    spec.paths['/api/v1/generation/rooftop'] = {
      get: { operationId: 'listRooftopPv', responses: { 200: { description: 'ok' } } },
    }
    await Bun.write(specFile, JSON.stringify(spec, null, 2))
    const stale = run(['bash', 'scripts/kong-check.sh'], { cwd: dir })
    expect(stale.code).toBe(1)
    expect(stale.stderr).toContain('kong/kong.yaml is stale')
    expect(run(['sh', 'kong/build.sh'], { cwd: dir }).code).toBe(0)
    expect(run(['bash', 'scripts/kong-check.sh'], { cwd: dir }).code).toBe(0)
    const regenerated = Bun.YAML.parse(readFileSync(join(dir, 'kong/kong.yaml'), 'utf8')) as Obj
    const paths = regenerated.services[0].routes.map((r: Obj) => `${r.name} ${r.paths[0]}`)
    expect(paths).toContain('gridpulse_listbindingconstraints ~/v1/(?<api_path>constraints)$')
    expect(paths).toContain('gridpulse_listrooftoppv ~/v1/market/(?<api_path>generation/rooftop)$')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('selectors: the JSONPath subset decK files use', () => {
  const doc = {
    services: [
      {
        name: 'a',
        routes: [
          { name: 'r1', methods: ['POST'], tags: ['x', 'y'] },
          { name: 'r2', methods: ['GET'] },
        ],
      },
    ],
  }
  expect(select(doc, "$.services[?(@.name == 'a')].routes[?(@.methods[0] == 'POST')]")).toEqual([
    doc.services[0]!.routes[0],
  ])
  expect(select(doc, "$..routes[?(@.tags[1] == 'y')]")).toHaveLength(1)
  expect(select(doc, '$..routes[*]')).toHaveLength(2)
  expect(select(doc, '$.services[*].routes[?(@.name =~ /^r/)]')).toHaveLength(2)
  expect(() => select(doc, '$.services[?(@.name < 3)]')).toThrow()
})

describe('the spec Kong serves at /openapi.json (for /docs through Kong)', () => {
  test('Kong answers it itself, keyless, with its public paths and a relative server', async () => {
    const hit = route('GET', '/openapi.json')
    expect(hit?.route.service.name).toBe('gridpulse-docs')
    const termination = plugin(hit!.route, 'request-termination')
    expect(termination?.config).toMatchObject({ status_code: 200 })
    expect(termination.config.content_type).toStartWith('application/json')
    expect(plugin(hit!.route.service, 'key-auth')).toBeUndefined()
    const spec = JSON.parse(termination.config.body)
    expect(spec.servers.map((s: Obj) => s.url)).toEqual(['/'])
    expect(Object.keys(spec.paths)).toContain('/v1/market/prices')
    expect(Object.keys(spec.paths)).toContain('/v1/weather/observations')
  })

  test('every operation it documents reaches that same operation on GridPulse', async () => {
    const served = JSON.parse(
      plugin(route('GET', '/openapi.json')!.route, 'request-termination').config.body
    )
    const upstream = await Bun.file(join(ROOT, 'openapi/gridpulse.openapi.json')).json()
    const templateRe = (p: string) => new RegExp(`^${p.replace(/\{[^}]+\}/g, '[^/]+')}$`)
    let checked = 0
    for (const [path, item] of Object.entries(served.paths as Obj)) {
      for (const [method, op] of Object.entries(item as Obj)) {
        const concrete = path.replace(/\{[^}]+\}/g, '3f0f8f8e-6a43-4ac3-9d5e-0e8e1f7f6a21')
        const hit = route(method.toUpperCase(), concrete)
        // Both services (one per rate-limit class) point at GridPulse.
        expect(['gridpulse', 'gridpulse-weather']).toContain(hit?.route.service.name)
        const target = Object.entries(upstream.paths as Obj).find(([p]) =>
          templateRe(p).test(hit!.upstream)
        )
        expect(target?.[1]?.[method]?.operationId).toBe((op as Obj).operationId)
        checked++
      }
    }
    // Every /api/v1 operation of GridPulse's spec, and nothing Kong does not route.
    const apiOps = Object.entries(upstream.paths as Obj)
      .filter(([p]) => p.startsWith('/api/v1/'))
      .flatMap(([, item]) => Object.keys(item as Obj))
    expect(checked).toBe(apiOps.length)
  })
})
