/**
 * The Grafana dashboard only queries what exists: GridPulse's metrics (deploy/metrics.txt, kept in
 * step with src/observability/metrics.ts), Kong 3.9's prometheus plugin's (tests/deploy/promql.ts),
 * the recording rules of deploy/prometheus/rules/ and Prometheus's ALERTS, with the labels those
 * carry once deploy/prometheus/prometheus.yml has scraped them. tests/deploy/prometheus.test.ts
 * evaluates every query against a real Prometheus.
 */
import { describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  dashboard,
  type Exported,
  exportedAs,
  exprs,
  gridpulseMetrics,
  KONG,
  labelUses,
  metricNames,
  panels,
  rules,
  underlyingNames,
} from './promql'
import { ROOT, yaml } from './support'

type Obj = Record<string, any>

describe('deploy/grafana/dashboards/gridpulse.json', () => {
  test('the PromQL parser finds the metric names', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le, route) (rate(x_bucket{a="b"}[$__rate_interval])))'
      )
    ).toEqual(['x_bucket'])
    expect(metricNames('time() - max by (source) (y_seconds) / 1e6')).toEqual(['y_seconds'])
  })

  test('every panel query and rule reads only what GridPulse or Kong export (through recording rules too)', () => {
    const known: Record<string, Exported> = { ...gridpulseMetrics(), ...KONG }
    expect(Object.keys(gridpulseMetrics())).toContain('gridpulse_end_to_end_latency_seconds')
    // Series Prometheus makes itself: alert state, and each target's scrape success.
    const prometheus = ['ALERTS', 'up']
    const unknown: string[] = []
    for (const expr of [...exprs, ...rules().map((r) => r.expr)])
      for (const name of underlyingNames(expr))
        if (!exportedAs(name, known) && !prometheus.includes(name))
          unknown.push(`${name} in ${expr}`)
    expect(unknown).toEqual([])
  })

  test("every Kong label a panel or rule selects, groups by or shows is one Kong 3.9's exporter sets", () => {
    const queries = [
      ...panels.flatMap((p) =>
        (p.targets ?? []).map((t: Obj) => ({
          expr: t.expr as string,
          legend: t.legendFormat ?? '',
        }))
      ),
      ...rules().map((r) => ({ expr: r.expr, legend: '' })),
    ]
    const wrong: string[] = []
    let checked = 0
    for (const { expr, legend } of queries) {
      const kong = metricNames(expr).filter((n) => n.startsWith('kong_'))
      if (kong.length === 0) continue
      const shown = [...legend.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].flatMap((m) =>
        kong.map((metric) => ({ metric, label: m[1]! }))
      )
      for (const { metric, label } of [...labelUses(expr), ...shown]) {
        if (!metric.startsWith('kong_')) continue
        const allowed = [
          ...(exportedAs(metric, KONG)?.exported.labels ?? []),
          'job', // target labels Prometheus adds
          'instance',
          ...(metric.endsWith('_bucket') ? ['le'] : []),
        ]
        checked++
        if (!allowed.includes(label)) wrong.push(`${metric} has no label ${label}: ${expr}`)
      }
    }
    expect(wrong).toEqual([])
    expect(checked).toBeGreaterThan(10)
    // The panels that could never show data while the scrape renamed Kong's `service`.
    expect(
      exprs.filter((e) => /kong_[a-z_]+\{service=~"gridpulse\|gridpulse-weather"\}/.test(e))
    ).toHaveLength(4)
  })

  test('no scrape job adds a target label its exporter also sets (it would become exported_<label>)', async () => {
    const prom = await yaml('deploy/prometheus/prometheus.yml')
    const exporterLabels: Record<string, Set<string>> = {
      gridpulse: new Set(Object.values(gridpulseMetrics()).flatMap((m) => m.labels)),
      kong: new Set(Object.values(KONG).flatMap((m) => m.labels)),
      prometheus: new Set(),
    }
    expect(exporterLabels.kong!.has('service')).toBe(true)
    expect(exporterLabels.gridpulse!.has('source')).toBe(true)
    for (const job of prom.scrape_configs as Obj[]) {
      expect(Object.keys(exporterLabels)).toContain(job.job_name)
      if (job.honor_labels) continue
      const added: string[] = [
        ...(job.static_configs ?? []).flatMap((c: Obj) => Object.keys(c.labels ?? {})),
        ...(job.relabel_configs ?? []).map((r: Obj) => r.target_label).filter(Boolean),
      ]
      expect(added.filter((label) => exporterLabels[job.job_name]!.has(label))).toEqual([])
    }
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
    const used = new Set(exprs.flatMap((e) => [...underlyingNames(e)]))
    for (const name of [
      'gridpulse_events_ingested_total',
      'gridpulse_events_rejected_total',
      'gridpulse_dlq_records_total',
      'gridpulse_outbox_depth',
      'gridpulse_consumer_lag',
      'gridpulse_end_to_end_latency_seconds_bucket',
      'gridpulse_historical_events_projected_total',
      'gridpulse_http_request_duration_seconds_bucket',
      'gridpulse_http_request_duration_seconds_count',
      'gridpulse_source_last_success_timestamp_seconds',
      'gridpulse_source_failures_total',
      'gridpulse_node_ready',
      'gridpulse_event_log_connected',
      'gridpulse_alert_deliveries_total',
      'gridpulse_alerts_fired_total',
      'gridpulse_alert_deliveries_pending',
      'ALERTS',
      'kong_http_requests_total',
      'kong_request_latency_ms_bucket',
      'kong_kong_latency_ms_bucket',
      'kong_upstream_latency_ms_bucket',
    ]) {
      expect(used).toContain(name)
    }
    for (const q of ['0.5', '0.99'])
      expect(
        exprs.some((e) => e.includes(`histogram_quantile(${q},`) && e.includes('end_to_end'))
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

  test('it shows alert state: how many fire (0 when none), and which fire or are pending', () => {
    expect(exprs).toContain('count(ALERTS{alertstate="firing"}) or vector(0)')
    const table = panels.find((p) => p.type === 'table')!
    expect(table.targets[0].expr).toMatch(
      /^max by \(alertname, alertstate, severity[^)]*\) \(ALERTS\)$/
    )
    expect(table.fieldConfig.defaults.noValue).toBe('No alert firing or pending')
  })

  test('a source that never succeeded shows as DOWN and "never"; rejections and dead letters as 0', () => {
    const recorded = new Map(rules().flatMap((r) => (r.record ? [[r.record, r.expr]] : [])))
    // Last success is exported as 0 until the first success: the age must turn that into "down"
    // (a comparison), not filter it out (`> 0`).
    expect(recorded.get('job_source:gridpulse_source_last_success_age_seconds')).toBe(
      'time() - max by (job, source) (gridpulse_source_last_success_timestamp_seconds)'
    )
    expect(recorded.get('job_source:gridpulse_source_up')).toMatch(
      /^job_source:gridpulse_source_last_success_age_seconds\s+<= bool job_source:gridpulse_source_stale_after_seconds\s*$/
    )
    const panelOf = (expr: string) =>
      panels.find((p) => p.targets.some((t: Obj) => t.expr === expr))!
    expect(
      panelOf('max by (source) (job_source:gridpulse_source_up)').fieldConfig.defaults.mappings[0]
        .options
    ).toMatchObject({ '0': { text: 'DOWN' }, '1': { text: 'UP' } })
    expect(
      panelOf('max by (source) (job_source:gridpulse_source_last_success_age_seconds)').fieldConfig
        .defaults.mappings[0]
    ).toMatchObject({ type: 'range', options: { from: 1e9, result: { text: 'never' } } })
    // Codes are unknown until they happen: 0 per known source / topic instead.
    expect(recorded.get('job_source_code:gridpulse_events_rejected:rate5m')).toContain(
      'or on (job, source) 0 *'
    )
    expect(recorded.get('job_topic_code:gridpulse_dlq_records:increase1h')).toContain(
      'or on (job, topic)'
    )
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
    // Latency per stream and p99 per route: the end-to-end and request-duration panels split by
    // every event type and every route (no filter), so the new stream and routes appear there.
    expect(has('gridpulse_end_to_end_latency_seconds_bucket', 'by (le, event_type)')).toBe(true)
    expect(has('gridpulse_http_request_duration_seconds_bucket', 'by (le, route)')).toBe(true)
    expect(has('gridpulse_consumer_lag', 'fcas')).toBe(true)
    for (const route of ['/api/v1/prices/fcas', '/api/v1/curtailment', '/api/v1/storage']) {
      expect(Object.keys(spec.paths)).toContain(route)
      expect(has('gridpulse_http_request_duration_seconds_count', route)).toBe(true)
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
