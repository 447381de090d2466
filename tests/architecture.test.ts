import { expect, test } from 'bun:test'
import * as ts from 'typescript'
import { REPO_ROOT } from './support/paths'

const DOMAIN = [
  'access',
  'alerts',
  'api',
  'bus',
  'canonical',
  'lib',
  'observability',
  'projection',
  'sources',
]
// STYLE.md §9: what may import what. `main.ts` and `config.ts` sit outside the modules. The
// composition roots sit on top: `node` builds a node from every module, `cli` runs the commands
// (with `node` for serve); no module imports either of them.
const ALLOWED: Record<string, readonly string[]> = {
  cli: [...DOMAIN, 'node'],
  node: DOMAIN,
  canonical: ['lib'],
  sources: ['canonical', 'lib', 'observability'],
  bus: ['canonical', 'lib', 'observability'],
  projection: ['canonical', 'lib', 'observability', 'bus'],
  api: ['canonical', 'projection', 'access', 'alerts', 'lib', 'observability'],
  // Alert rules, evaluation and webhooks: fed events and source freshness by the node.
  alerts: ['canonical', 'lib', 'observability'],
  // Keys and rate limits: framework-free, and blind to the read model (keys outlive it).
  access: ['lib'],
  observability: ['lib'],
  lib: [],
}
// Only type imports may cross these edges (projection may know the shape of a consumed batch).
const TYPE_ONLY: Record<string, readonly string[]> = {
  projection: ['bus'],
  // api sees the alerts only through the AlertsPort the node hands it.
  api: ['alerts'],
  sources: ['observability'],
  bus: ['observability'],
}
const OWNED_BY: Record<string, readonly string[]> = {
  kafkajs: ['bus'],
  'drizzle-orm': ['projection'],
  'bun:sqlite': ['bus', 'projection', 'access', 'alerts'],
  hono: ['api'],
  '@hono/zod-openapi': ['api'],
  '@scalar/hono-api-reference': ['api'],
  pino: ['observability'],
  'prom-client': ['observability'],
}
// api may use only the read port of the projection, and access only through its public surface.
const API_PROJECTION_ENTRY = '@/projection/read-port'
const API_ACCESS_ENTRY = '@/access'

const IMPORT = /^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+'([^']+)'/gm

test('modules respect the dependency direction of STYLE.md', async () => {
  const violations: string[] = []
  for await (const file of new Bun.Glob('src/*/**/*.ts').scan(REPO_ROOT)) {
    const owner = file.split('/')[1]!
    const source = await Bun.file(`${REPO_ROOT}/${file}`).text()
    // Tests compose real parts (a bus feeding a projection), as src/node does: they are exempt.
    if (file.endsWith('.test.ts')) continue
    for (const [, , typeOnly, spec] of source.matchAll(IMPORT)) {
      const internal = spec!.match(/^@\/(\w+)/)?.[1]
      if (internal && internal !== owner) {
        if (!ALLOWED[owner]?.includes(internal))
          violations.push(`${file}: ${owner} must not import ${spec}`)
        else if (TYPE_ONLY[owner]?.includes(internal) && !typeOnly)
          violations.push(`${file}: ${owner} may only import types from ${spec}`)
        if (owner === 'api' && internal === 'projection' && spec !== API_PROJECTION_ENTRY)
          violations.push(`${file}: api must use ${API_PROJECTION_ENTRY}, not ${spec}`)
        if (owner === 'api' && internal === 'access' && spec !== API_ACCESS_ENTRY)
          violations.push(`${file}: api must use ${API_ACCESS_ENTRY}, not ${spec}`)
      }
      const pkg = Object.keys(OWNED_BY).find((p) => spec === p || spec!.startsWith(`${p}/`))
      if (pkg && !OWNED_BY[pkg]!.includes(owner))
        violations.push(`${file}: ${pkg} belongs to ${OWNED_BY[pkg]}`)
    }
  }
  expect(violations).toEqual([])
})

test('only config.ts reads the environment', async () => {
  const offenders: string[] = []
  for await (const file of new Bun.Glob('src/**/*.ts').scan(REPO_ROOT)) {
    if (file === 'src/config.ts' || file === 'src/main.ts' || file.endsWith('.test.ts')) continue
    const source = await Bun.file(`${REPO_ROOT}/${file}`).text()
    if (/process\.env|Bun\.env|import\.meta\.env/.test(source)) offenders.push(file)
  }
  expect(offenders).toEqual([])
})

// Modules receive config slices as arguments. main.ts loads the config; the commands and the node
// factory receive the loaded Config, so they may name its type, and only its type.
test('only main.ts imports config.ts; the composition roots may import its type', async () => {
  const offenders: string[] = []
  const root = /^src\/(cli|node)\//
  for await (const file of new Bun.Glob('src/**/*.ts').scan(REPO_ROOT)) {
    if (file === 'src/main.ts' || file.endsWith('.test.ts')) continue
    const source = await Bun.file(`${REPO_ROOT}/${file}`).text()
    for (const [, , typeOnly, spec] of source.matchAll(IMPORT)) {
      if (!/^(\.\.?\/)+config$|^@\/config$/.test(spec!)) continue
      if (!root.test(file) || !typeOnly) offenders.push(`${file}: ${spec}`)
    }
  }
  expect(offenders).toEqual([])
})

test('relative imports stay inside their module (crossing one is an @/ import the rules above see)', async () => {
  const offenders: string[] = []
  for await (const file of new Bun.Glob('src/*/**/*.ts').scan(REPO_ROOT)) {
    const owner = file.split('/')[1]!
    const source = await Bun.file(`${REPO_ROOT}/${file}`).text()
    for (const [, , , spec] of source.matchAll(IMPORT)) {
      if (!spec!.startsWith('.')) continue
      const target = new URL(spec!, `file:///${file}`).pathname.slice(1)
      // config.ts sits outside the modules; who may import it is the rule further down.
      if (target.startsWith(`src/${owner}/`) || target === 'src/config') continue
      // Outside src/: a package's asset embedded by path (the /docs bundle), or, in tests, the
      // shared test support (tests/support, scripts). Never another module of src/.
      const outside = !target.startsWith('src/')
      if (outside && (target.startsWith('node_modules/') || file.endsWith('.test.ts'))) continue
      offenders.push(`${file}: ${spec}`)
    }
  }
  expect(offenders).toEqual([])
})

test('canonical/ does no I/O: loading the model never touches files, network or the process', async () => {
  const offenders: string[] = []
  for await (const file of new Bun.Glob('src/canonical/**/*.ts').scan(REPO_ROOT)) {
    if (file.endsWith('.test.ts')) continue
    const source = await Bun.file(`${REPO_ROOT}/${file}`).text()
    for (const [, , , spec] of source.matchAll(IMPORT))
      if (!/^(zod|@\/lib|\.{1,2}\/)/.test(spec!)) offenders.push(`${file}: imports ${spec}`)
    if (/\b(Bun\.|process\.|fetch\(|require\(|await import\()/.test(source))
      offenders.push(`${file}: uses a runtime API`)
  }
  expect(offenders).toEqual([])
})

// The front door stays readable at a glance: argv, config, dispatch; the rest lives in src/cli/.
test('main.ts is at most 80 lines', async () => {
  const lines = (await Bun.file(`${REPO_ROOT}/src/main.ts`).text()).trimEnd().split('\n')
  expect(lines.length).toBeLessThanOrEqual(80)
})

// Issue 8: every function reads at a glance. Counted from its first line to its last, nested
// closures included (a factory whose closures run long is split into named pieces).
const MAX_FUNCTION_LINES = 80

test(`no function in src/ is longer than ${MAX_FUNCTION_LINES} lines`, async () => {
  const offenders: string[] = []
  for await (const file of new Bun.Glob('src/**/*.ts').scan(REPO_ROOT)) {
    if (file.endsWith('.test.ts') || file.endsWith('.gen.ts')) continue
    const text = await Bun.file(`${REPO_ROOT}/${file}`).text()
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
    const visit = (node: ts.Node) => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const first = source.getLineAndCharacterOfPosition(node.getStart()).line
        const last = source.getLineAndCharacterOfPosition(node.getEnd()).line
        if (last - first + 1 > MAX_FUNCTION_LINES)
          offenders.push(`${file}:${first + 1} (${last - first + 1} lines)`)
      }
      ts.forEachChild(node, visit)
    }
    visit(source)
  }
  expect(offenders).toEqual([])
})
