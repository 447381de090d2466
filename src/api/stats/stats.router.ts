import type { ReadPort } from '@/projection/read-port'
import { createRouter } from '../router'
import { getStats } from './stats.routes'

export const statsRouter = (deps: { queries: Pick<ReadPort, 'stats'> }) =>
  createRouter().openapi(getStats, (c) =>
    c.json({ ...deps.queries.stats(), correlation_id: c.get('correlationId') }, 200)
  )
