import type { ReadPort, Stats } from '@/projection/read-port'
import { declareReads, servedAt } from '../response-cache'
import { createRouter } from '../router'
import { getStats } from './stats.routes'

/**
 * The seed API's figures, kept for its clients: dispatch and weather totals, and per region the
 * count, mean, max and min of dispatch MW (regions with dispatch rows only).
 */
function seedFigures(stats: Stats) {
  return {
    total_dispatch_events: stats.totals.dispatch ?? 0,
    total_weather_events: stats.totals.weather ?? 0,
    region_stats: Object.fromEntries(
      stats.regions
        .filter((r) => r.dispatch_count > 0)
        .map((r) => [
          r.region_id,
          {
            count: r.dispatch_count,
            avg_mw: r.value_mw_avg,
            max_mw: r.value_mw_max,
            min_mw: r.value_mw_min,
          },
        ])
    ),
  }
}

export const statsRouter = (deps: { queries: Pick<ReadPort, 'stats'> }) =>
  createRouter().openapi(getStats, (c) => {
    // Totals count every stream and the dead letters: any commit changes the answer.
    declareReads(c, 'all')
    const stats = deps.queries.stats()
    return c.json(
      {
        ...stats,
        ...seedFigures(stats),
        correlation_id: c.get('correlationId'),
        timestamp: servedAt(c),
      },
      200
    )
  })
