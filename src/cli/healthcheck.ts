import type { Config } from '../config'

/** `gridpulse healthcheck`: 0 when this host's node answers `/health` (distroless has no curl). */
export async function healthcheck(config: Config): Promise<number> {
  try {
    const response = await fetch(`http://127.0.0.1:${config.http.port}/health`, {
      signal: AbortSignal.timeout(3000),
    })
    return response.ok ? 0 : 1
  } catch {
    return 1
  }
}
