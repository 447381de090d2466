/** Shared helpers for the deployment tests (tests/deploy/*.test.ts). */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'

export const ROOT = resolve(import.meta.dir, '../..')
export const CACHE_BIN = join(
  process.env.GRIDPULSE_CACHE ?? join(process.env.HOME ?? '/tmp', '.cache/gridpulse'),
  'bin'
)

/** A skipped test must say why, loudly, so a missing tool never looks like a pass. */
export function skipNotice(what: string, why: string): void {
  console.warn(`\n*** SKIPPED: ${what}: ${why} ***\n`)
}

export function run(
  cmd: string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; timeout?: number } = {}
) {
  const r = Bun.spawnSync(cmd, {
    cwd: opts.cwd ?? ROOT,
    env: opts.env ?? process.env,
    stdout: 'pipe',
    stderr: 'pipe',
    timeout: opts.timeout ?? 60_000,
  })
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() }
}

/** First executable found: an explicit env var, the tools cache, then PATH. */
export function findTool(envVar: string, cacheName: string, pathName: string): string | undefined {
  const explicit = process.env[envVar]
  if (explicit && existsSync(explicit)) return explicit
  const cached = join(CACHE_BIN, cacheName)
  if (existsSync(cached)) return cached
  return Bun.which(pathName) ?? undefined
}

export const yaml = async (rel: string) =>
  Bun.YAML.parse(await Bun.file(join(ROOT, rel)).text()) as any

/** A random token like scripts/setup-env.sh makes (built at run time: no literal key in the repo). */
export function token(prefix = ''): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  return prefix + Buffer.from(bytes).toString('base64url')
}
