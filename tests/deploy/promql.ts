/**
 * What the monitoring tests share: the dashboard's queries, the rule files, the metric names and
 * labels GridPulse and Kong export, and a small PromQL reader for the names a query uses.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from './support'

type Obj = Record<string, any>
export type Kind = 'counter' | 'gauge' | 'histogram'
export interface Exported {
  readonly kind: Kind
  readonly labels: readonly string[]
}

/**
 * Kong Gateway 3.x prometheus plugin metrics (prefix `kong_`) and their labels, as registered in
 * Kong/kong kong/plugins/prometheus/exporter.lua (init(): prometheus:counter/gauge/histogram
 * calls) and prometheus.lua (nginx_metric_errors_total). Per-request metrics need the plugin
 * flags: status_code_metrics (http_requests_total), latency_metrics (*_latency_ms),
 * bandwidth_metrics (bandwidth_bytes), per_consumer (the `consumer` label), upstream_health_metrics
 * (upstream_target_health). Histograms add `le` to their _bucket series.
 */
export const KONG: Record<string, Exported> = {
  kong_http_requests_total: {
    kind: 'counter',
    labels: ['service', 'route', 'code', 'source', 'workspace', 'consumer'],
  },
  kong_stream_sessions_total: {
    kind: 'counter',
    labels: ['service', 'route', 'code', 'source', 'workspace'],
  },
  kong_kong_latency_ms: { kind: 'histogram', labels: ['service', 'route', 'workspace'] },
  kong_upstream_latency_ms: { kind: 'histogram', labels: ['service', 'route', 'workspace'] },
  kong_request_latency_ms: { kind: 'histogram', labels: ['service', 'route', 'workspace'] },
  kong_session_duration_ms: { kind: 'histogram', labels: ['service', 'route', 'workspace'] },
  kong_bandwidth_bytes: {
    kind: 'counter',
    labels: ['service', 'route', 'direction', 'workspace', 'consumer'],
  },
  kong_nginx_connections_total: { kind: 'gauge', labels: ['node_id', 'subsystem', 'state'] },
  kong_nginx_requests_total: { kind: 'gauge', labels: ['node_id', 'subsystem'] },
  kong_nginx_timers: { kind: 'gauge', labels: ['state'] },
  kong_datastore_reachable: { kind: 'gauge', labels: [] },
  kong_node_info: { kind: 'gauge', labels: ['node_id', 'version'] },
  kong_upstream_target_health: {
    kind: 'gauge',
    labels: ['upstream', 'target', 'address', 'state', 'subsystem'],
  },
  kong_memory_workers_lua_vms_bytes: {
    kind: 'gauge',
    labels: ['node_id', 'pid', 'kong_subsystem'],
  },
  kong_memory_lua_shared_dict_bytes: {
    kind: 'gauge',
    labels: ['node_id', 'shared_dict', 'kong_subsystem'],
  },
  kong_memory_lua_shared_dict_total_bytes: {
    kind: 'gauge',
    labels: ['node_id', 'shared_dict', 'kong_subsystem'],
  },
  kong_nginx_metric_errors_total: { kind: 'counter', labels: [] },
}

/**
 * GridPulse's metrics from deploy/metrics.txt (`name type labels (notes)`), kept in step with
 * src/observability/metrics.ts by tests/deploy/dashboard.test.ts.
 */
export function gridpulseMetrics(): Record<string, Exported> {
  const out: Record<string, Exported> = {}
  for (const line of readFileSync(join(ROOT, 'deploy/metrics.txt'), 'utf8').split('\n')) {
    const m = line.match(/^([a-z_:][a-z0-9_:]*)\s+(counter|gauge|histogram)\b\s*([^(]*)/)
    if (!m) continue
    const labels = m[3]!
      .split(',')
      .map((l) => l.trim())
      .filter(Boolean)
    out[m[1]!] = { kind: m[2] as Kind, labels }
  }
  return out
}

/** A name as exported: the metric itself, or a histogram's _bucket/_sum/_count series. */
export function exportedAs(
  name: string,
  known: Record<string, Exported>
): { metric: string; exported: Exported } | undefined {
  if (known[name]) return { metric: name, exported: known[name]! }
  const base = name.replace(/_(bucket|sum|count)$/, '')
  if (base !== name && known[base]?.kind === 'histogram')
    return { metric: base, exported: known[base]! }
  return undefined
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

/**
 * Label names an expression selects on, groups by or matches on, per metric selector: the
 * matchers of `name{…}`, and every label of a `by (…)`/`on (…)` clause (attributed to each metric
 * of the expression, since a clause's labels must exist on what it aggregates).
 */
export function labelUses(expr: string): { metric: string; label: string }[] {
  const noStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""')
  const uses: { metric: string; label: string }[] = []
  for (const m of noStrings.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*\{([^}]*)\}/g))
    for (const matcher of m[2]!.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)/g))
      uses.push({ metric: m[1]!, label: matcher[1]! })
  const clauses = [
    ...noStrings.matchAll(/\b(?:by|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g),
  ].flatMap((m) =>
    m[1]!
      .split(',')
      .map((l) => l.trim())
      .filter(Boolean)
  )
  for (const metric of metricNames(expr)) for (const label of clauses) uses.push({ metric, label })
  return uses
}

const dashboard = JSON.parse(
  readFileSync(join(ROOT, 'deploy/grafana/dashboards/gridpulse.json'), 'utf8')
) as Obj
/** The dashboard's panels (rows excluded, collapsed rows' panels included). */
export const panels: Obj[] = dashboard.panels
  .flatMap((p: Obj) => [p, ...(p.panels ?? [])])
  .filter((p: Obj) => p.type !== 'row')
export const exprs: string[] = panels.flatMap((p) =>
  (p.targets ?? []).map((t: Obj) => t.expr as string)
)
export { dashboard }

export interface Rule {
  readonly group: string
  readonly record?: string
  readonly alert?: string
  readonly expr: string
  readonly for?: string
  readonly labels?: Record<string, string>
  readonly annotations?: Record<string, string>
}

export const RULES_DIR = join(ROOT, 'deploy/prometheus/rules')
export const RULE_TESTS_DIR = join(ROOT, 'deploy/prometheus/tests')

/** Every rule of deploy/prometheus/rules/*.yml, with its group's name. */
export function rules(): Rule[] {
  return readdirSync(RULES_DIR)
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .flatMap((f) =>
      (
        Bun.YAML.parse(readFileSync(join(RULES_DIR, f), 'utf8')) as {
          groups: { name: string; rules: Omit<Rule, 'group'>[] }[]
        }
      ).groups.flatMap((g) => g.rules.map((r) => ({ ...r, group: g.name })))
    )
}

/** The metric names an expression reads, with recording rules replaced by what they read. */
export function underlyingNames(expr: string, all: readonly Rule[] = rules()): Set<string> {
  const recorded = new Map(all.filter((r) => r.record).map((r) => [r.record!, r.expr]))
  const out = new Set<string>()
  const visit = (e: string) => {
    for (const name of metricNames(e)) {
      const inner = recorded.get(name)
      if (inner === undefined) out.add(name)
      else visit(inner)
    }
  }
  visit(expr)
  return out
}
