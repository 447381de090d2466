/**
 * The Bun runtime a cross-compiled binary is built on, fetched from the npm registry only.
 *
 * `bun build --compile --target=bun-linux-arm64` would itself download
 * `@oven/bun-linux-aarch64/-/bun-linux-aarch64-<version>.tgz` from registry.npmjs.org (hard-coded,
 * no integrity check; src/compile_target.zig in Bun 1.4). We fetch the same tarball ourselves from
 * the configured registry, check it against the sha512 that bun.lock already pins for it (the `bun`
 * devDependency lists every platform's runtime as an optional dependency), unpack `bun` and hand
 * its path to Bun.build as `compile.executablePath`. No GitHub, no unverified bytes.
 */
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

export type Arch = 'x64' | 'arm64'

/** npm's name for the runtime package of a Linux architecture (glibc, non-baseline). */
const runtimePackage = (arch: Arch) => `@oven/bun-linux-${arch === 'arm64' ? 'aarch64' : 'x64'}`

interface LockedPackage {
  readonly name: string
  readonly version: string
  /** Subresource-integrity string, `sha512-<base64>`. */
  readonly integrity: string
}

/** bun.lock's entry for a package: `"name": ["name@version", "", {meta}, "sha512-…"]`. */
async function lockedPackage(root: string, name: string): Promise<LockedPackage> {
  const lock = Bun.JSONC.parse(await Bun.file(join(root, 'bun.lock')).text()) as {
    packages: Record<string, [string, string, unknown, string]>
  }
  const entry = lock.packages[name]
  if (!entry) throw new Error(`bun.lock has no entry for ${name}`)
  const version = entry[0].slice(entry[0].lastIndexOf('@') + 1)
  return { name, version, integrity: entry[3] }
}

const registry = () =>
  (
    process.env.NPM_CONFIG_REGISTRY ??
    process.env.npm_config_registry ??
    process.env.BUN_CONFIG_REGISTRY ??
    'https://registry.npmjs.org'
  ).replace(/\/+$/, '')

/** Reads one regular file out of an uncompressed (ustar) tar archive. */
function tarEntry(tar: Uint8Array, wanted: string): Uint8Array | undefined {
  const text = (from: number, length: number) =>
    new TextDecoder().decode(tar.subarray(from, from + length)).replace(/\0.*$/s, '')
  for (let at = 0; at + 512 <= tar.length; ) {
    const name = text(at, 100)
    if (name === '') return undefined // two zero blocks end the archive
    const prefix = text(at + 345, 155)
    const size = Number.parseInt(text(at + 124, 12).trim() || '0', 8)
    const path = prefix ? `${prefix}/${name}` : name
    if (path === wanted && (tar[at + 156] === 0x30 || tar[at + 156] === 0))
      return tar.subarray(at + 512, at + 512 + size)
    at += 512 + Math.ceil(size / 512) * 512
  }
  return undefined
}

interface Runtime {
  /** The `bun` executable. */
  readonly executable: string
  /** Its npm package's own package.json (name, version, license). */
  readonly manifest: { name: string; version: string; license: string }
  readonly locked: LockedPackage
}

/**
 * The Bun runtime for `arch` at the version bun.lock pins, downloaded, verified and cached under
 * `$GRIDPULSE_CACHE/bun-runtime/` on first use. (node_modules has no usable copy even of this
 * machine's: the `bun` package's install script moves it to `bun/bin/bun.exe`.)
 */
export async function bunRuntime(root: string, arch: Arch): Promise<Runtime> {
  const locked = await lockedPackage(root, runtimePackage(arch))
  if (locked.version !== Bun.version)
    throw new Error(
      `bun.lock pins ${locked.name}@${locked.version} but this is Bun ${Bun.version}: build with Bun ${locked.version}`
    )
  const dir = await fetchRuntime(locked)
  return {
    executable: join(dir, 'bin', 'bun'),
    manifest: await Bun.file(join(dir, 'package.json')).json(),
    locked,
  }
}

async function fetchRuntime(pkg: LockedPackage): Promise<string> {
  const base = pkg.name.slice('@oven/'.length)
  const dir = join(
    process.env.GRIDPULSE_CACHE ?? join(homedir(), '.cache', 'gridpulse'),
    'bun-runtime',
    `${base}-${pkg.version}`
  )
  if (existsSync(join(dir, 'bin', 'bun'))) return dir

  const url = `${registry()}/${pkg.name}/-/${base}-${pkg.version}.tgz`
  console.error(`fetching ${pkg.name}@${pkg.version} from ${url}`)
  const response = await fetch(url)
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`)
  const tgz = new Uint8Array(await response.arrayBuffer())
  const digest = `sha512-${new Bun.CryptoHasher('sha512').update(tgz).digest('base64')}`
  if (digest !== pkg.integrity)
    throw new Error(`${url}: integrity ${digest} is not bun.lock's ${pkg.integrity}`)
  const tar = Bun.gunzipSync(tgz)
  const bun = tarEntry(tar, 'package/bin/bun')
  const manifest = tarEntry(tar, 'package/package.json')
  if (!bun || !manifest) throw new Error(`${url}: no package/bin/bun or package.json inside`)
  // Unpacked beside, then renamed: a concurrent or interrupted build never sees half a runtime.
  const partial = `${dir}.${process.pid}.partial`
  mkdirSync(join(partial, 'bin'), { recursive: true })
  await Bun.write(join(partial, 'package.json'), manifest)
  await Bun.write(join(partial, 'bin', 'bun'), bun)
  chmodSync(join(partial, 'bin', 'bun'), 0o755)
  try {
    renameSync(partial, dir)
  } catch (error) {
    // Another build unpacked the same verified tarball first: use its copy.
    rmSync(partial, { recursive: true, force: true })
    if (!existsSync(join(dir, 'bin', 'bun'))) throw error
  }
  return dir
}
