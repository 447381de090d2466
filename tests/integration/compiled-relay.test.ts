import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { REPO_ROOT } from '../support/paths'
import { freePort, waitForHttp } from '../support/process'
import {
  announceSkip,
  canRunBroker,
  type DedicatedBroker,
  dispatchEventId,
  ingest,
  KAFKA_BROKERS,
  startDedicatedBroker,
  tempDir,
} from './support'

announceSkip('Kafka relay thread in the compiled binary (tests/integration/compiled-relay.test.ts)')
if (KAFKA_BROKERS && !canRunBroker())
  console.warn('\n### SKIPPED: compiled relay test needs Java 17+ for a broker of its own ###\n')

// The binary has no topic prefix setting: it gets a broker of its own, as the other process tests.
// The outbox relay runs in a Worker whose code is an extra entrypoint embedded in the executable
// (scripts/build.ts); the binary runs from an empty directory, so nothing can come from disk.
describe.skipIf(!KAFKA_BROKERS || !canRunBroker())('compiled binary on Kafka', () => {
  const dir = tempDir('compiled-relay')
  const binary = join(dir.path, 'bin', 'gridpulse')
  const workdir = join(dir.path, 'run')
  const port = freePort()
  const base = `http://127.0.0.1:${port}`
  let broker: DedicatedBroker | undefined
  let proc: Subprocess<'ignore', 'pipe', 'pipe'> | undefined
  let output = ''
  let readers: Promise<void>[] = []

  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder()
    for await (const chunk of stream) output += decoder.decode(chunk, { stream: true })
  }

  beforeAll(async () => {
    const [build, started] = await Promise.all([
      (async () => {
        const p = Bun.spawn([process.execPath, 'scripts/build.ts', binary], {
          cwd: REPO_ROOT,
          stdout: 'ignore',
          stderr: 'pipe',
        })
        const [stderr, code] = await Promise.all([new Response(p.stderr).text(), p.exited])
        return { code, stderr }
      })(),
      startDedicatedBroker(`it-compiled-${process.pid}`),
    ])
    broker = started
    if (build.code !== 0) throw new Error(`build failed: ${build.stderr}`)
    mkdirSync(workdir, { recursive: true })
    proc = Bun.spawn([binary, 'serve'], {
      cwd: workdir,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        KAFKA_BROKERS: broker.brokers,
        DATA_DIR: join(dir.path, 'data'),
        PORT: String(port),
        HOST: '127.0.0.1',
        SOURCES: 'none',
        NODE_ID: 'compiled-1',
        AUTH_MODE: 'none',
        LOG_LEVEL: 'info',
      },
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
    })
    readers = [collect(proc.stdout), collect(proc.stderr)]
    await waitForHttp(`${base}/health`, proc, 60_000)
  }, 240_000)

  afterAll(async () => {
    if (proc && proc.exitCode === null) proc.kill('SIGKILL')
    await broker?.stop()
    dir.remove()
  }, 60_000)

  test('events go outbox → relay thread → Kafka → projection; SIGTERM exits 0', async () => {
    const ks = Array.from({ length: 20 }, (_, k) => k)
    const result = await ingest(base, ks, { concurrency: 4 })
    expect(result.acked.size).toBe(ks.length)

    const expected = ks.map(dispatchEventId).sort()
    const deadline = performance.now() + 60_000
    let seen: string[] = []
    while (performance.now() < deadline) {
      const response = await fetch(`${base}/api/v1/dispatch?limit=1000`, {
        signal: AbortSignal.timeout(10_000),
      })
      const page = (await response.json()) as { data: { event_id: string }[] }
      seen = page.data.map((row) => row.event_id).sort()
      if (expected.every((id) => seen.includes(id))) break
      await Bun.sleep(200)
    }
    expect(seen).toEqual(expected)

    // The relay reports through /ready like the in-process one: healthy, outbox empty.
    const ready = (await (await fetch(`${base}/ready`)).json()) as {
      checks: { event_log: { outbox_depth: number } }
    }
    expect(ready.checks.event_log.outbox_depth).toBe(0)

    proc!.kill('SIGTERM')
    expect(await proc!.exited).toBe(0)
    await Promise.all(readers)
    expect(output).not.toContain('TimeoutNegativeWarning')
    const stray = output.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('{'))
    expect(stray).toEqual([])
    const errors = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: string; msg: string })
      .filter((record) => record.level === 'error' || record.level === 'fatal')
    expect(errors).toEqual([])
  }, 120_000)
})
