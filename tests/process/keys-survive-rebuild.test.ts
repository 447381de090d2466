import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hasKeysTable, writeProjectionWithKeys } from '../support/legacy-keys'
import { REPO_ROOT } from '../support/paths'
import { freePort, waitForHttp } from '../support/process'

// Keys live in access.sqlite, beside log.sqlite and projection.sqlite: a projection rebuild
// (stop, delete projection.sqlite, start) must not log every team out. Real `gridpulse` processes,
// AUTH_MODE=keys, no sources (nothing here needs data, only authentication).
describe('API keys survive a projection rebuild', () => {
  const root = mkdtempSync(join(tmpdir(), 'gridpulse-keys-'))
  afterAll(() => rmSync(root, { recursive: true, force: true }))

  const env = (dataDir: string, port = 0) => ({
    PATH: process.env.PATH ?? '',
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    SOURCES: 'none',
    AUTH_MODE: 'keys',
    LOG_LEVEL: 'warn',
  })
  const cli = async (dataDir: string, ...args: string[]) => {
    const proc = Bun.spawn([process.execPath, join(REPO_ROOT, 'src/main.ts'), ...args], {
      env: env(dataDir),
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ])
    if (code !== 0) throw new Error(`gridpulse ${args.join(' ')} exited ${code}: ${err}`)
    return out.trim()
  }
  /** Starts `serve`, answers the status of GET /api/v1/prices with each key, stops with SIGTERM. */
  const statusesWhileServing = async (dataDir: string, keys: readonly string[]) => {
    const port = freePort()
    const proc = Bun.spawn([process.execPath, join(REPO_ROOT, 'src/main.ts'), 'serve'], {
      env: env(dataDir, port),
      stdout: 'ignore',
      stderr: 'ignore',
    })
    try {
      await waitForHttp(`http://127.0.0.1:${port}/health`, proc)
      const statuses: number[] = []
      for (const apikey of keys) {
        const r = await fetch(`http://127.0.0.1:${port}/api/v1/prices`, { headers: { apikey } })
        statuses.push(r.status)
      }
      return statuses
    } finally {
      proc.kill('SIGTERM')
      await proc.exited
    }
  }

  test('a key made with `keys create` still works after projection.sqlite is deleted', async () => {
    const dataDir = join(root, 'rebuild')
    const key = await cli(dataDir, 'keys', 'create', '--consumer', 'analytics', '--scope', 'read')
    expect(key).toStartWith('gpk_')
    expect(await statusesWhileServing(dataDir, [key, 'gpk_not_a_key'])).toEqual([200, 401])

    const projection = join(dataDir, 'projection.sqlite')
    expect(existsSync(projection)).toBe(true)
    for (const file of [projection, `${projection}-wal`, `${projection}-shm`])
      rmSync(file, { force: true })

    expect(await statusesWhileServing(dataDir, [key])).toEqual([200])
    expect(existsSync(projection)).toBe(true) // rebuilt, empty, by that start
    expect(await cli(dataDir, 'keys', 'list')).toContain('\tanalytics\tread\t')
  }, 60_000)

  test('keys a node kept in projection.sqlite before work after its first start', async () => {
    const dataDir = join(root, 'upgrade')
    mkdirSync(dataDir)
    const projection = join(dataDir, 'projection.sqlite')
    const [reader, revoked] = writeProjectionWithKeys(projection, [
      { consumer: 'risk', scope: 'read' },
      { consumer: 'trading', scope: 'read', revoked: true },
    ])

    expect(await statusesWhileServing(dataDir, [reader!, revoked!])).toEqual([200, 401])
    expect(hasKeysTable(projection)).toBe(false)
    // …and they are now in access.sqlite: a rebuild after the upgrade keeps them too.
    rmSync(projection, { force: true })
    expect(await statusesWhileServing(dataDir, [reader!])).toEqual([200])
  }, 60_000)

  test('`gridpulse migrate` on such a node carries the keys over before it drops their table', async () => {
    const dataDir = join(root, 'migrate-first')
    mkdirSync(dataDir)
    const projection = join(dataDir, 'projection.sqlite')
    const [key] = writeProjectionWithKeys(projection, [{ consumer: 'risk', scope: 'write' }])

    expect(await cli(dataDir, 'migrate')).toContain('0005_drop_api_keys')
    expect(hasKeysTable(projection)).toBe(false)
    expect(await cli(dataDir, 'keys', 'list')).toContain('\trisk\twrite\t')
    expect(await statusesWhileServing(dataDir, [key!])).toEqual([200])
  }, 60_000)
})
