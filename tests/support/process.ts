import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { REPO_ROOT } from './paths'

/** A free TCP port on loopback (bind to 0, read it back, release it). */
export function freePort(): number {
  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = server.port!
  server.stop(true)
  return port
}

/** Waits until `url` answers 200; fails with the process output if it exits or times out. */
export async function waitForHttp(
  url: string,
  proc: Subprocess,
  timeoutMs = 15_000
): Promise<number> {
  const started = performance.now()
  while (performance.now() - started < timeoutMs) {
    if (proc.exitCode !== null)
      throw new Error(`process exited with ${proc.exitCode} before ${url} answered`)
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) })
      if (response.ok) return performance.now() - started
    } catch {}
    await Bun.sleep(10)
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`)
}

/**
 * `bun src/main.ts serve` polling only AEMO from a local NEMWeb, every second, catching up all it
 * lists, no auth, warnings only; `env` adds or overrides variables.
 */
export function spawnAemoNode(options: {
  readonly port: number
  readonly dataDir: string
  readonly nemwebUrl: string
  readonly env?: Record<string, string>
  readonly stdout?: 'pipe' | 'ignore'
}) {
  return Bun.spawn([process.execPath, join(REPO_ROOT, 'src/main.ts'), 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(options.port),
      HOST: '127.0.0.1',
      DATA_DIR: options.dataDir,
      SOURCES: 'aemo',
      AEMO_BASE_URL: options.nemwebUrl,
      AEMO_POLL_SECONDS: '1',
      AEMO_INITIAL_LOOKBACK_MINUTES: '1000000000',
      AUTH_MODE: 'none',
      LOG_LEVEL: 'warn',
      ...options.env,
    },
    stdout: options.stdout ?? 'ignore',
    stderr: 'ignore',
  })
}
