import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { createNode } from '@/node'
import { createLogger } from '@/observability'
import { loadConfig } from '../src/config'
import { seed, syntheticDispatch } from './seed'
const dataDir = mkdtempSync(join(tmpdir(), 'gridpulse-hit-'))
await seed(
  dataDir,
  Array.from({ length: 1000 }, (_, i) => syntheticDispatch(i, 'bench-seed'))
)
const config = loadConfig({
  DATA_DIR: dataDir,
  SOURCES: 'none',
  LOG_LEVEL: 'info',
  AUTH_MODE: 'keys',
  RATE_LIMIT_PER_MINUTE: '1000000000',
})
const log = createLogger({
  level: 'info',
  destination: pino.destination({ dest: '/dev/null', sync: true }),
})
const node = await createNode(config, { log })
const apikey = node.keys.create('bench', 'read').key
for (let i = 0; i < 200_000; i++)
  await node.fetch(
    new Request('http://localhost/api/v1/dispatch?limit=100', { headers: { apikey } })
  )
await node.close()
