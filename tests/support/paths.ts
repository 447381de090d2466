import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'

/** The repository root, wherever the clone lives. */
export const REPO_ROOT = resolve(import.meta.dir, '../..')
/** Real upstream samples live beside the repository (CI copies shared/ next to its clone). */
export const SHARED_FIXTURES = resolve(REPO_ROOT, '../shared/fixtures')
export const fixturePath = (...parts: string[]) => resolve(SHARED_FIXTURES, ...parts)
/**
 * A release binary from the output of `bun run build:all`, when the caller names that directory
 * (GRIDPULSE_DIST, set by .ci/run after building it), checked against its `.sha256`: the smoke tier
 * then runs the very files CI ships. `undefined` without GRIDPULSE_DIST: the test builds its own.
 */
export function releaseBinary(arch: 'x64' | 'arm64'): string | undefined {
  if (!process.env.GRIDPULSE_DIST) return undefined
  const file = resolve(REPO_ROOT, process.env.GRIDPULSE_DIST, `gridpulse-linux-${arch}`)
  const [sum] = readFileSync(`${file}.sha256`, 'utf8').split(' ')
  const actual = new Bun.CryptoHasher('sha256').update(readFileSync(file)).digest('hex')
  if (actual !== sum) throw new Error(`${file} does not match its .sha256`)
  return file
}

/** The SBOM `bun run build:all` wrote beside the binaries (GRIDPULSE_DIST), if named. */
export const releaseSbom = () =>
  process.env.GRIDPULSE_DIST
    ? resolve(REPO_ROOT, process.env.GRIDPULSE_DIST, 'gridpulse.cdx.json')
    : undefined
