import { createRoute, z } from '@hono/zod-openapi'
import { STATS_TOTALS } from '@/projection/read-port'
import { problemResponses } from '../problem'

const n = z.number().nullable()
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
        price_count: z.number().int(),
        rrp_min: n,
        rrp_avg: n,
        rrp_max: n,
        dispatch_count: z.number().int(),
        value_mw_min: n,
        value_mw_avg: n,
        value_mw_max: n,
        weather_count: z.number().int(),
        temperature_c_min: n,
        temperature_c_avg: n,
        temperature_c_max: n,
        rooftop_pv_count: z
          .number()
          .int()
          .describe('Rooftop PV estimates of the region (both types, half-hourly)'),
        power_mw_min: n.describe('Rooftop PV estimates: lowest MW'),
        power_mw_avg: n,
        power_mw_max: n,
        curtailment_count: z
          .number()
          .int()
          .describe('Intervals with semi-scheduled solar/wind figures (newer REGIONSUM versions)'),
        curtailment_mw_min: n.describe('Solar + wind curtailment, MW'),
        curtailment_mw_avg: n,
        curtailment_mw_max: n,
        storage_count: z.number().int().describe('Intervals with grid battery (BDU) figures'),
        storage_mwh_min: n.describe('Energy stored in grid batteries, MWh'),
        storage_mwh_avg: n,
        storage_mwh_max: n,
        fcas_count: z.number().int().describe('FCAS prices (one per service and interval)'),
        fcas_price_min: n.describe('Over every FCAS service, AUD/MW/h'),
        fcas_price_avg: n,
        fcas_price_max: n,
      })
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
