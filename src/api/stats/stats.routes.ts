import { createRoute, z } from '@hono/zod-openapi'
import { REGION_STATS_SPECS, type RegionStats, STATS_TOTALS } from '@/projection/read-port'
import { problemResponses } from '../problem'

const n = z.number().nullable()
const described = <T extends z.ZodType>(schema: T, description: string | undefined) =>
  description ? schema.describe(description) : schema
export const StatsSchema = z
  .object({
    // One count per stream (its table) and the dead letters: the projection's list decides.
    totals: z.object(
      Object.fromEntries(STATS_TOTALS.map((name) => [name, z.number().int()])) as Record<
        string,
        z.ZodNumber
      >
    ),
    regions: z.array(
      z.object({
        region_id: z.string(),
        // Per region figure of the read models (`regionStats`): a count, then min, mean and max.
        ...Object.fromEntries(
          REGION_STATS_SPECS.flatMap((spec) => [
            [spec.count, described(z.number().int(), spec.describe?.count)],
            [`${spec.prefix}_min`, described(n, spec.describe?.min)],
            [`${spec.prefix}_avg`, n],
            [`${spec.prefix}_max`, n],
          ])
        ),
      }) as z.ZodObject<
        { region_id: z.ZodString } & Record<keyof RegionStats, z.ZodType<number | null>>
      >
    ),
    sources: z.array(
      z.object({
        source: z.string(),
        events: z.number().int(),
        newest_interval: z.string().nullable(),
        newest_ingested_at: z.string().nullable(),
      })
    ),
    scada_unmapped: z
      .object({
        interval_end: z.string(),
        unmapped_mw: z.number(),
        total_mw: z.number(),
        unmapped_units: z.array(z.object({ duid: z.string(), value_mw: z.number() })),
      })
      .nullable()
      .describe('Newest SCADA interval: output of units missing from the DUID mapping'),
    total_dispatch_events: z.number().int().describe('As in the seed API: `totals.dispatch`'),
    total_weather_events: z.number().int().describe('As in the seed API: `totals.weather`'),
    region_stats: z
      .record(
        z.string(),
        z.object({
          count: z.number().int(),
          avg_mw: n,
          max_mw: n,
          min_mw: n,
        })
      )
      .describe(
        'As in the seed API: dispatch rows and their MW per region (regions with dispatch only)'
      ),
    correlation_id: z.string(),
    timestamp: z.iso.datetime().describe('When the figures were served, UTC'),
  })
  .openapi('Stats')

export const getStats = createRoute({
  operationId: 'getStats',
  method: 'get',
  path: '/api/v1/stats',
  tags: ['Stats'],
  summary:
    'Counts per stream; per region min/avg/max of prices, dispatch MW, temperature, curtailment, stored energy and FCAS prices; newest interval per source',
  request: { query: z.object({}).strict() },
  responses: {
    200: {
      description: 'Projection statistics',
      content: { 'application/json': { schema: StatsSchema } },
    },
    ...problemResponses(400),
  },
})
