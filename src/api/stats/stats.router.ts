import type { Queries } from '@/projection/queries'
import { createRouter } from '../router'
import { getStats } from './stats.routes'

export const statsRouter = (deps: { queries: Pick<Queries, 'stats'> }) =>
  createRouter().openapi(getStats, (c) =>
    c.json({ ...deps.queries.stats(), correlation_id: c.get('correlationId') }, 200)
  )
