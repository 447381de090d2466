import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Spec, Validation } from '@cyclonedx/cyclonedx-library'
import { REPO_ROOT, releaseSbom } from '../support/paths'

// The SBOM that `bun run build:all` ships (dist/gridpulse.cdx.json; generated here the same way,
// `scripts/build.ts --sbom`, unless GRIDPULSE_DIST names a build), checked against bun.lock, read
// independently of the build script: what the binaries bundle must be what the lockfile resolved
// for the runtime dependencies. The converse does not hold and is not checked: bun.lock also lists
// what tree-shaking drops and what @scalar/api-reference's prebuilt browser bundle already inlines
// (Vue, CodeMirror…); that bundle ships as one component, @scalar/api-reference.

type Meta = {
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
}
type LockEntry = [id: string, registry: string, meta: Meta, integrity: string]
type Component = {
  group?: string
  name: string
  version: string
  licenses?: { license?: { id?: string; name?: string }; expression?: string }[]
  hashes?: { alg: string; content: string }[]
}

const lock = Bun.JSONC.parse(readFileSync(join(REPO_ROOT, 'bun.lock'), 'utf8')) as {
  packages: Record<string, LockEntry>
}
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>
}
const versionOf = (entry: LockEntry) => entry[0].slice(entry[0].lastIndexOf('@') + 1)
const fullName = (c: Component) => (c.group ? `${c.group}/${c.name}` : c.name)

/**
 * name → version of everything `dependencies` pulls in, as bun.lock resolved it. A package that
 * needs another version than the hoisted one has a nested key `<parent>/<name>`.
 */
function runtimeClosure(): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>()
  const seen = new Set<string>()
  const queue = Object.keys(pkg.dependencies).map((name) => ({ key: name, name }))
  while (queue.length > 0) {
    const { key, name } = queue.pop()!
    if (seen.has(key)) continue
    seen.add(key)
    const entry = lock.packages[key]
    if (!entry) continue // an optional peer nobody installed
    found.set(name, (found.get(name) ?? new Set()).add(versionOf(entry)))
    const { dependencies, optionalDependencies, peerDependencies } = entry[2] ?? {}
    for (const dep of Object.keys({
      ...dependencies,
      ...optionalDependencies,
      ...peerDependencies,
    })) {
      const nested = `${key}/${dep}`
      queue.push({ key: lock.packages[nested] ? nested : dep, name: dep })
    }
  }
  return found
}

describe('the CycloneDX SBOM', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridpulse-sbom-'))
  const shipped = releaseSbom()
  const file = shipped ?? join(dir, 'gridpulse.cdx.json')
  // biome-ignore lint: a CycloneDX document, checked field by field below
  let bom: any
  let components: Component[] = []

  beforeAll(async () => {
    if (!shipped) {
      const build = Bun.spawnSync([process.execPath, 'scripts/build.ts', '--sbom', file], {
        cwd: REPO_ROOT,
        stderr: 'pipe',
      })
      if (build.exitCode !== 0) throw new Error(`SBOM generation failed: ${build.stderr}`)
    }
    bom = await Bun.file(file).json()
    components = bom.components
  }, 120_000)

  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  test('is valid CycloneDX 1.6 JSON describing gridpulse', async () => {
    const errors = await new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(
      JSON.stringify(bom)
    )
    expect(errors).toBeNull()
    expect(bom.metadata.component).toMatchObject({ name: 'gridpulse', type: 'application' })
  })

  test('every shipped package is a runtime dependency at the exact version bun.lock resolved', () => {
    const closure = runtimeClosure()
    const npm = components.filter((c) => !fullName(c).startsWith('@oven/bun-'))
    expect(npm.length).toBeGreaterThan(0)
    const disagreements = npm
      .filter((c) => !closure.get(fullName(c))?.has(c.version))
      .map(
        (c) =>
          `${fullName(c)}@${c.version} (bun.lock: ${[...(closure.get(fullName(c)) ?? ['not a runtime dependency'])].join(', ')})`
      )
    expect(disagreements).toEqual([])
  })

  test("every dependency package.json declares is shipped, at bun.lock's version", () => {
    const shipped = new Map(components.map((c) => [fullName(c), c.version]))
    for (const name of Object.keys(pkg.dependencies))
      expect(`${name}@${shipped.get(name)}`).toBe(`${name}@${versionOf(lock.packages[name]!)}`)
  })

  test('the Bun runtime of both targets is listed with the sha512 bun.lock pins', () => {
    for (const name of ['@oven/bun-linux-x64', '@oven/bun-linux-aarch64']) {
      const entry = lock.packages[name]!
      const component = components.find((c) => fullName(c) === name)
      expect(component?.version).toBe(versionOf(entry))
      const sha512 = Buffer.from(entry[3].replace(/^sha512-/, ''), 'base64').toString('hex')
      expect(component?.hashes).toEqual([{ alg: 'SHA-512', content: sha512 }])
    }
  })

  test('every component names its license', () => {
    const unlicensed = components
      .filter((c) => !c.licenses?.some((l) => l.expression || l.license?.id || l.license?.name))
      .map((c) => `${fullName(c)}@${c.version}`)
    expect(unlicensed).toEqual([])
  })
})
