/**
 * The Grafana dashboard only queries metrics that exist: GridPulse's (deploy/metrics.txt, kept in
 * step with src/observability/metrics.ts) and Kong 3.9's prometheus plugin's (below).
 */
import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, yaml } from './support'

type Obj = Record<string, any>
type Kind = 'counter' | 'gauge' | 'histogram'

/**
 * Kong Gateway 3.x prometheus plugin metrics, prefix `kong_`, as registered in
 * Kong/kong kong/plugins/prometheus/exporter.lua (init(): prometheus:counter/gauge/histogram calls)
 * and prometheus.lua (nginx_metric_errors_total). Per-request metrics need the plugin flags:
 * status_code_metrics (http_requests_total), latency_metrics (*_latency_ms), bandwidth_metrics
 * (bandwidth_bytes), per_consumer (the `consumer` label).
 */
const KONG: Record<string, Kind> = {
  kong_http_requests_total: 'counter', // service, route, code, source, consumer
  kong_stream_sessions_total: 'counter',
  kong_kong_latency_ms: 'histogram', // service, route
  kong_upstream_latency_ms: 'histogram', // service, route
  kong_request_latency_ms: 'histogram', // service, route
  kong_session_duration_ms: 'histogram',
  kong_bandwidth_bytes: 'counter', // service, route, direction, consumer
  kong_nginx_connections_total: 'gauge',
  kong_nginx_requests_total: 'gauge',
  kong_nginx_timers: 'gauge',
  kong_datastore_reachable: 'gauge',
  kong_node_info: 'gauge',
  kong_upstream_target_health: 'gauge',
  kong_memory_workers_lua_vms_bytes: 'gauge',
  kong_memory_lua_shared_dict_bytes: 'gauge',
  kong_memory_lua_shared_dict_total_bytes: 'gauge',
  kong_nginx_metric_errors_total: 'counter',
}

function gridpulseMetrics(): Record<string, Kind> {
  const out: Record<string, Kind> = {}
  for (const line of readFileSync(join(ROOT, 'deploy/metrics.txt'), 'utf8').split('\n')) {
    const m = line.match(/^([a-z_:][a-z0-9_:]*)\s+(counter|gauge|histogram)\b/)
    if (m) out[m[1]!] = m[2] as Kind
  }
  return out
}

const KEYWORDS = new Set(
  `sum avg min max count group stddev stdvar topk bottomk quantile count_values rate irate increase delta idelta
   deriv predict_linear histogram_quantile histogram_count histogram_sum histogram_fraction time timestamp vector
   scalar abs ceil floor round exp ln log2 log10 sqrt clamp clamp_min clamp_max absent absent_over_time changes
   resets sort sort_desc label_replace label_join avg_over_time min_over_time max_over_time sum_over_time
   count_over_time last_over_time quantile_over_time stddev_over_time present_over_time by without on ignoring
   group_left group_right bool and or unless offset inf nan`.split(/\s+/)
)

/** Metric names referenced by a PromQL expression. */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges, incl. [$__rate_interval]
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/\$\w+/g, ' ') // Grafana variables
    .replace(/\b\d+(\.\d+)?(e[+-]?\d+)?\b/gi, ' ') // numbers (1e6)
  const names = new Set<string>()
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*(\s*\()?/g)) {
    const [token, call] = [m[0].replace(/\s*\($/, ''), m[1]]
    if (call || KEYWORDS.has(token)) continue
    names.add(token)
  }
  return [...names]
}

const dashboard = JSON.parse(
  readFileSync(join(ROOT, 'deploy/grafana/dashboards/gridpulse.json'), 'utf8')
) as Obj
const panels: Obj[] = dashboard.panels
  .flatMap((p: Obj) => [p, ...(p.panels ?? [])])
  .filter((p: Obj) => p.type !== 'row')
const exprs: string[] = panels.flatMap((p) => (p.targets ?? []).map((t: Obj) => t.expr as string))

describe('deploy/grafana/dashboards/gridpulse.json', () => {
  test('the PromQL parser finds the metric names', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, route) (rate(x_bucket{a="b"}[$__rate_interval])))'
      )
    ).toEqual(['x_bucket'])
    expect(metricNames('time() - max by (source) (y_seconds) / 1e6')).toEqual(['y_seconds'])
  })

  test('every panel query uses only metrics GridPulse or Kong emit', () => {
    const known: Record<string, Kind> = { ...gridpulseMetrics(), ...KONG }
    expect(Object.keys(gridpulseMetrics())).toContain('gridpulse_end_to_end_latency_seconds')
    const unknown: string[] = []
    for (const expr of exprs) {
      for (const name of metricNames(expr)) {
        const base = name.replace(/_(bucket|sum|count)$/, '')
        const ok = known[name] !== undefined || (base !== name && known[base] === 'histogram')
        if (!ok) unknown.push(`${name} in ${expr}`)
      }
    }
    expect(unknown).toEqual([])
  })

  test('deploy/metrics.txt names what src/observability/metrics.ts registers', () => {
    const source = readFileSync(join(ROOT, 'src/observability/metrics.ts'), 'utf8')
    const registered = [...source.matchAll(/name: '(gridpulse_[a-z0-9_]+)'/g)]
      .map((m) => m[1]!)
      .sort()
    const listed = Object.keys(gridpulseMetrics())
      .filter((n) => n.startsWith('gridpulse_'))
      .sort()
    expect(listed).toEqual(registered)
  })

  test('it has the panels operations asked for', () => {
    const used = new Set(exprs.flatMap(metricNames))
    for (const name of [
      'gridpulse_events_ingested_total',
      'gridpulse_events_rejected_total',
      'gridpulse_dlq_records_total',
      'gridpulse_outbox_depth',
      'gridpulse_consumer_lag',
      'gridpulse_end_to_end_latency_seconds_bucket',
      'gridpulse_http_request_duration_seconds_bucket',
      'gridpulse_http_request_duration_seconds_count',
      'gridpulse_source_last_success_timestamp_seconds',
      'gridpulse_source_failures_total',
      'kong_http_requests_total',
      'kong_request_latency_ms_bucket',
      'kong_kong_latency_ms_bucket',
      'kong_upstream_latency_ms_bucket',
    ]) {
      expect(used).toContain(name)
    }
    expect(
      exprs.some((e) => e.includes('histogram_quantile(0.5,') && e.includes('end_to_end'))
    ).toBe(true)
    expect(
      exprs.some((e) => e.includes('histogram_quantile(0.99,') && e.includes('end_to_end'))
    ).toBe(true)
    expect(
      exprs.some(
        (e) =>
          e.includes('kong_http_requests_total') &&
          /by \([^)]*consumer/.test(e) &&
          /by \([^)]*code/.test(e)
      )
    ).toBe(true)
  })

  test('a source that never succeeded shows as down, and failures show as a rate', () => {
    // last success is exported as 0 until the first success: the up/down expression must turn
    // that into "down" (a comparison on time() - last_success), not filter it out (`> 0`).
    const upDown = exprs.find(
      (e) =>
        /time\(\) - gridpulse_source_last_success_timestamp_seconds\) < bool \d+/.test(e) &&
        /max by \(source\)/.test(e)
    )
    expect(upDown).toBeDefined()
    expect(upDown).not.toMatch(/last_success_timestamp_seconds\s*>/)
    const panel = panels.find((p) => p.targets.some((t: Obj) => t.expr === upDown))!
    expect(panel.fieldConfig.defaults.mappings[0].options).toMatchObject({
      '0': { text: 'DOWN' },
      '1': { text: 'UP' },
    })
    expect(
      exprs.some((e) =>
        /sum by \(source, reason\) \(rate\(gridpulse_source_failures_total\[/.test(e)
      )
    ).toBe(true)
  })

  test('the FCAS stream and the price, FCAS, curtailment and storage routes have panels of their own', () => {
    const spec = JSON.parse(readFileSync(join(ROOT, 'openapi/gridpulse.openapi.json'), 'utf8'))
    const has = (...parts: string[]) => exprs.some((e) => parts.every((p) => e.includes(p)))
    expect(has('gridpulse_events_ingested_total', 'event_type="RegionFcasPriceEvent"')).toBe(true)
    expect(has('gridpulse_dlq_records_total', 'market.fcas')).toBe(true)
    expect(has('gridpulse_end_to_end_latency_seconds_bucket', 'RegionFcasPriceEvent')).toBe(true)
    expect(has('gridpulse_consumer_lag', 'fcas')).toBe(true)
    for (const route of ['/api/v1/prices/fcas', '/api/v1/curtailment', '/api/v1/storage']) {
      expect(Object.keys(spec.paths)).toContain(route)
      expect(has('gridpulse_http_request_duration_seconds_count', route)).toBe(true)
      expect(has('gridpulse_http_request_duration_seconds_bucket', route)).toBe(true)
    }
  })

  test('panels use the provisioned datasource, unique ids, and fit the 24-column grid', async () => {
    const ds = (await yaml('deploy/grafana/provisioning/datasources/prometheus.yaml'))
      .datasources[0]
    const ids = dashboard.panels.map((p: Obj) => p.id)
    expect(new Set(ids).size).toBe(ids.length)
    for (const p of panels) {
      expect(p.datasource).toEqual({ type: 'prometheus', uid: ds.uid })
      expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24)
      expect(p.targets.length).toBeGreaterThan(0)
    }
    expect(dashboard.uid).toBe('gridpulse-overview')
  })

  test('the Kong plugin config turns on the metrics the dashboard needs', async () => {
    const kong = await yaml('kong/kong.yaml')
    const prom = kong.plugins.find((p: Obj) => p.name === 'prometheus').config
    expect(prom).toMatchObject({
      per_consumer: true,
      status_code_metrics: true,
      latency_metrics: true,
      bandwidth_metrics: true,
    })
  })
})
