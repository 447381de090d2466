import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { processFile } from '../../src/sources/aemo'
import { waitFor } from '../support/events'
import { buildDispatchIsZip } from '../support/nemweb-fixtures'
import { startNemwebServer } from '../support/nemweb-server'
import { REPO_ROOT, releaseBinary } from '../support/paths'
import { freePort, waitForHttp } from '../support/process'

// The linux-arm64 binary (cross-compiled here, or the release .ci/run built) under qemu-user
// (Debian's qemu-user-static, with libc6-arm64-cross as the board's /lib), from an empty directory:
// what an arm64 edge node runs. .ci/run installs both packages; without them this tier is skipped,
// loudly.
const QEMU = Bun.which('qemu-aarch64-static')
const SYSROOT = '/usr/aarch64-linux-gnu'
const reason = !QEMU
  ? 'qemu-aarch64-static not found (apt-get install qemu-user-static)'
  : !existsSync(join(SYSROOT, 'lib', 'ld-linux-aarch64.so.1'))
    ? `no arm64 glibc in ${SYSROOT} (apt-get install libc6-arm64-cross)`
    : undefined
if (reason) console.warn(`\n*** SKIPPED: the arm64 binary under qemu-user: ${reason} ***\n`)

// Emulation runs the binary 10–20× slower than a board would, more on a busy CI machine.
const SLOW = 180_000

describe.skipIf(!!reason)('the linux-arm64 binary under qemu-user', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridpulse-arm64-'))
  const binary = join(dir, 'bin', 'gridpulse')
  const workdir = join(dir, 'run')
  const port = freePort()
  const base = `http://127.0.0.1:${port}`
  const nemweb = startNemwebServer()
  // One live-format DispatchIS file of real archive rows (NSW1 and SA1; tests/support/nemweb-fixtures.ts).
  const file = buildDispatchIsZip('2026-04-02T00:05:00Z')
  let proc: Subprocess<'ignore', 'pipe', 'pipe'> | undefined
  let apikey = ''

  const arm64 = (args: string[]) => [QEMU!, '-L', SYSROOT, binary, ...args]
  const env = () => ({
    PATH: process.env.PATH ?? '',
    PORT: String(port),
    HOST: '127.0.0.1',
    SOURCES: 'aemo',
    AEMO_BASE_URL: nemweb.url,
    AEMO_POLL_SECONDS: '1',
    AEMO_INITIAL_LOOKBACK_MINUTES: '1000000000',
    LOG_LEVEL: 'warn',
  })
  const authed = (init: RequestInit = {}) => ({
    ...init,
    headers: { ...(init.headers as Record<string, string>), apikey },
  })

  beforeAll(() => {
    let out = releaseBinary('arm64')
    if (!out) {
      out = join(dir, 'build', 'gridpulse-linux-arm64')
      const build = Bun.spawnSync(
        [process.execPath, 'scripts/build.ts', '--target', 'linux-arm64', out],
        { cwd: REPO_ROOT, stderr: 'pipe' }
      )
      if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr}`)
    }
    // Only the binary: no sourcemap, no node_modules, nothing else beside it.
    mkdirSync(join(dir, 'bin'))
    mkdirSync(workdir)
    copyFileSync(out, binary)
    nemweb.add('/Reports/Current/DispatchIS_Reports/', file)
  }, SLOW)

  afterAll(() => {
    if (proc && proc.exitCode === null) proc.kill('SIGKILL')
    nemweb.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  test(
    'is an AArch64 executable that says so',
    () => {
      const elf = readFileSync(binary).subarray(0, 20)
      // ELF header: e_machine (offset 18, little-endian) 183 = EM_AARCH64.
      expect(elf[18]! | (elf[19]! << 8)).toBe(183)
      const run = Bun.spawnSync(arm64(['--version']), { cwd: workdir, env: env() })
      expect(run.exitCode).toBe(0)
      expect(run.stdout.toString()).toMatch(
        /^gridpulse \d+\.\d+\.\d+\+\w+ \(commit [\w-]+, target linux-arm64, bun 1\.4\.4\)\n$/
      )
    },
    SLOW
  )

  test(
    '--help',
    () => {
      const run = Bun.spawnSync(arm64(['--help']), { cwd: workdir, env: env() })
      expect(run.exitCode).toBe(0)
      expect(run.stdout.toString()).toContain('Usage: gridpulse [command]')
    },
    SLOW
  )

  test(
    'keys create, serve → /ready, POST → GET, and one NEMWeb file → prices',
    async () => {
      const created = Bun.spawnSync(
        arm64(['keys', 'create', '--consumer', 'edge', '--scope', 'write']),
        { cwd: workdir, env: env() }
      )
      expect(created.exitCode).toBe(0)
      apikey = created.stdout.toString().trim()
      expect(apikey).toMatch(/^gpk_/)

      proc = Bun.spawn(arm64(['serve']), {
        cwd: workdir,
        env: env(),
        stdin: 'ignore',
        stdout: 'pipe',
        stderr: 'pipe',
      })
      const readyMs = await waitForHttp(`${base}/ready`, proc, SLOW)
      console.log(`arm64 under qemu-user: /ready after ${(readyMs / 1000).toFixed(1)} s`)

      const body = JSON.stringify({
        region_id: 'SA1',
        fuel_type: 'wind',
        value_mw: 1234.5,
        interval_end: '2026-04-01T00:05:00Z',
      })
      const accepted = await fetch(
        `${base}/api/v1/dispatch`,
        authed({ method: 'POST', headers: { 'content-type': 'application/json' }, body })
      )
      expect(accepted.status).toBe(202)
      const { event_id } = (await accepted.json()) as { event_id: string }
      const row = await waitFor(
        async () => {
          const page = (await (
            await fetch(`${base}/api/v1/dispatch?region_id=SA1&fuel_type=wind`, authed())
          ).json()) as { data: { event_id: string; value_mw: number }[] }
          return page.data.find((r) => r.event_id === event_id)
        },
        'the posted reading',
        60_000
      )
      expect(row.value_mw).toBe(1234.5)

      // The arm64 node reads the file exactly as this (x64, from source) normaliser does: the same
      // regions, prices and deterministic event ids.
      type Price = {
        event_id: string
        region_id: string
        interval_end: string
        rrp_aud_mwh: number
      }
      const pick = ({ event_id, region_id, interval_end, rrp_aud_mwh }: Price) =>
        ({ event_id, region_id, interval_end, rrp_aud_mwh }) satisfies Price
      const expected = processFile('dispatchis', file, {
        correlationId: 'arm64-smoke',
        ingestedAt: new Date().toISOString(),
      })
        .events.filter((e) => e.event_type === 'RegionPriceEvent')
        .map((e) => pick(e as unknown as Price))
      expect(expected.map((p) => p.region_id).sort()).toEqual(['NSW1', 'SA1'])
      const prices = await waitFor(
        async () => {
          const page = (await (await fetch(`${base}/api/v1/prices`, authed())).json()) as {
            data: Price[]
          }
          return page.data.length === expected.length && page.data
        },
        'prices from the local NEMWeb',
        60_000
      )
      const byRegion = (a: Price, b: Price) => a.region_id.localeCompare(b.region_id)
      expect(prices.map(pick).sort(byRegion)).toEqual(expected.sort(byRegion))
    },
    3 * SLOW
  )

  test(
    'exits 0 on SIGTERM',
    async () => {
      expect(proc).toBeDefined()
      proc!.kill('SIGTERM')
      expect(await proc!.exited).toBe(0)
    },
    SLOW
  )
})
