import type { Subprocess } from 'bun'

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
