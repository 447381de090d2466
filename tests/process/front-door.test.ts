import { describe, expect, test } from 'bun:test'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT } from '../support/paths'

/** `gridpulse <args>` from source, with only the environment given (plus PATH). */
function run(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawnSync([process.execPath, join(REPO_ROOT, 'src/main.ts'), ...args], {
    cwd: mkdtempSync(join(tmpdir(), 'gridpulse-cli-')),
    env: { PATH: process.env.PATH ?? '', ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() }
}

describe('the front door', () => {
  test('help and version need no valid configuration and exit 0', () => {
    for (const args of [['help'], ['--help'], ['-h']]) {
      const out = run(args, { PORT: 'not-a-port' })
      expect(out.code).toBe(0)
      expect(out.stdout).toContain('Usage: gridpulse [command]')
    }
    expect(run(['--version'], { PORT: 'not-a-port' })).toMatchObject({
      code: 0,
      stdout: `gridpulse dev (commit unknown, target ${process.platform}-${process.arch}, bun ${Bun.version})\n`,
    })
  }, 30_000)

  test('a bad environment exits 78 naming the variable, before any command runs', () => {
    const out = run(['migrate'], { PORT: 'not-a-port' })
    expect(out.code).toBe(78)
    expect(out.stderr).toContain('PORT')
  }, 30_000)

  test('an unknown command or stray arguments exit 64 with the usage', () => {
    const unknown = run(['frobnicate'])
    expect(unknown.code).toBe(64)
    expect(unknown.stderr).toContain('unknown command: frobnicate')
    expect(unknown.stderr).toContain('Usage: gridpulse [command]')
    const stray = run(['migrate', 'now'])
    expect(stray.code).toBe(64)
    expect(stray.stderr).toContain('unexpected arguments: now')
    expect(run(['keys', 'rotate']).code).toBe(64)
    expect(run(['backfill', '--source', 'dispatch', '--from', '2026-13-45']).code).toBe(64)
  }, 30_000)

  test('migrate and keys work on the data directory they are given', () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'gridpulse-cli-data-')), 'data')
    const migrated = run(['migrate'], { DATA_DIR: dataDir })
    expect(migrated.code).toBe(0)
    expect(migrated.stdout).toStartWith('applied 0000_init')
    expect(run(['migrate'], { DATA_DIR: dataDir }).stdout).toBe('database is up to date\n')
    const created = run(['keys', 'create', '--consumer', 'ops', '--scope', 'read'], {
      DATA_DIR: dataDir,
    })
    expect(created.code).toBe(0)
    expect(created.stdout).toMatch(/^gpk_/)
    expect(run(['keys', 'list'], { DATA_DIR: dataDir }).stdout).toContain('\tops\tread\t')
  }, 30_000)
})
