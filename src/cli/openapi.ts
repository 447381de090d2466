import { createApi, openApiDocument } from '@/api'
import { VERSION } from '@/node'
import { silentLogger } from '@/observability'
import { createReadPort, openProjectionDb } from '@/projection'

/** `gridpulse openapi`: prints the OpenAPI 3.1 document of this build (no data directory needed). */
export function openapi(): number {
  const db = openProjectionDb(':memory:')
  const api = createApi({
    queries: createReadPort(db),
    publish: async () => {},
    readiness: async () => ({ ready: true, checks: {} }),
    log: silentLogger(),
    version: VERSION,
  })
  process.stdout.write(`${JSON.stringify(openApiDocument(api), null, 2)}\n`)
  return 0
}
