/**
 * The monitoring as an operator gets it: a real Prometheus (Debian's package) scrapes two real
 * GridPulse nodes with the scrape jobs of deploy/prometheus/prometheus.yml and loads
 * deploy/prometheus/rules/; then every dashboard query and every rule is evaluated against what it
 * scraped.
 *
 * - node 1: embedded log, AEMO from a local NEMWeb (real fixture rows, one corrupt file),
 *   Open-Meteo answering 503 (a source that never succeeds), API keys, some API traffic;
 * - node 2: Kafka mode with the broker unreachable and a TLS CA file (outbox and certificate
 *   series, Kafka unreachable);
 * - Kong cannot run here (no Docker): its target is a closed port, so its panels and rules are
 *   checked for errors only (their metric and label names: tests/deploy/dashboard.test.ts).
 *
 * Only the targets and the scrape/evaluation interval (15 s -> 1 s) differ from the deployed file.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { toUtcIso } from '@/lib'
import { waitFor } from '../support/events'
import { buildDispatchIsZip, buildDispatchScadaZip } from '../support/nemweb-fixtures'
import { startNemwebServer } from '../support/nemweb-server'
import { startOpenMeteoServer } from '../support/openmeteo-server'
import { freePort, waitForHttp } from '../support/process'
import { gridpulseMetrics, KONG, metricNames, panels, rules } from './promql'
import { ROOT, run, skipNotice } from './support'

type Obj = Record<string, any>

const prometheus = Bun.which('prometheus')
const openssl = Bun.which('openssl')
if (!prometheus || !openssl)
  skipNotice(
    'the dashboard and rules in a real Prometheus',
    'prometheus or openssl not on PATH (apt-get install prometheus openssl)'
  )

/** A throwaway self-signed CA certificate valid for `days` from now (its key is discarded). */
function caCertificate(dir: string, name: string, days: number): string {
  const r = run(
    [
      openssl!,
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, `${name}.key`),
      '-days',
      String(days),
      '-subj',
      `/CN=${name}`,
    ],
    { cwd: dir }
  )
  if (r.code !== 0) throw new Error(`openssl: ${r.stderr}`)
  return r.stdout
}

/** Prometheus's HTTP API: the `data` of a successful answer, or a thrown error with its message. */
async function promApi(base: string, path: string, params: Record<string, string> = {}) {
  const url = `${base}/api/v1/${path}?${new URLSearchParams(params)}`
  const body = (await (await fetch(url)).json()) as Obj
  if (body.status !== 'success') throw new Error(`${path} ${JSON.stringify(params)}: ${body.error}`)
  return body.data
}

describe.skipIf(!prometheus || !openssl)('the dashboard and the rules in a real Prometheus', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridpulse-prom-'))
  const procs: Subprocess[] = []
  const nemweb = startNemwebServer()
  const openMeteo = startOpenMeteoServer(() => new Response('maintenance', { status: 503 }))
  // An alert webhook receiver that accepts everything (signatures: src/alerts/webhooks.test.ts).
  const hooks = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: () => new Response(null, { status: 204 }),
  })
  const ports = { node1: freePort(), node2: freePort(), kong: freePort(), prometheus: freePort() }
  const node1 = `127.0.0.1:${ports.node1}`
  const node2 = `127.0.0.1:${ports.node2}`
  const prom = `http://127.0.0.1:${ports.prometheus}`
  let writeKey = ''

  const spawn = (args: string[], env: Record<string, string>) => {
    const proc = Bun.spawn(args, {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
      // Not read by anyone: a pipe would fill up and block the process.
      stdout: 'ignore',
      stderr: 'ignore',
    })
    if (process.env.GRIDPULSE_TEST_PIDS)
      appendFileSync(process.env.GRIDPULSE_TEST_PIDS, `${proc.pid}\n`)
    procs.push(proc)
    return proc
  }
  const gridpulse = (...args: string[]) => [process.execPath, join(ROOT, 'src/main.ts'), ...args]

  /** Starts both nodes (nothing published upstream yet) and waits until they answer. */
  async function startNodes() {
    const env1 = {
      DATA_DIR: join(dir, 'node1'),
      PORT: String(ports.node1),
      HOST: '127.0.0.1',
      NODE_ID: 'node-1',
      SOURCES: 'aemo,openmeteo',
      AEMO_BASE_URL: nemweb.url,
      AEMO_POLL_SECONDS: '1',
      AEMO_INITIAL_LOOKBACK_MINUTES: '1000000000',
      OPENMETEO_BASE_URL: openMeteo.url,
      AUTH_MODE: 'keys',
      ALERT_WEBHOOK_ALLOWLIST: '127.0.0.1/32',
    }
    const created = run(
      gridpulse('keys', 'create', '--consumer', 'operations', '--scope', 'write'),
      {
        env: { PATH: process.env.PATH ?? '', ...env1 },
      }
    )
    expect(created.code).toBe(0)
    writeKey = created.stdout.trim().split('\n')[0]!
    const one = spawn(gridpulse('serve'), env1)
    // A CA bundle with one certificate expiring in 10 days and one in 400.
    writeFileSync(
      join(dir, 'kafka-ca.pem'),
      caCertificate(dir, 'expiring-ca', 10) + caCertificate(dir, 'current-ca', 400)
    )
    const two = spawn(gridpulse('serve'), {
      DATA_DIR: join(dir, 'node2'),
      PORT: String(ports.node2),
      HOST: '127.0.0.1',
      NODE_ID: 'node-2',
      SOURCES: 'none',
      AUTH_MODE: 'none',
      KAFKA_BROKERS: `127.0.0.1:${freePort()}`,
      KAFKA_TLS: 'true',
      KAFKA_TLS_CA_FILE: join(dir, 'kafka-ca.pem'),
    })
    await waitForHttp(`http://${node1}/ready`, one, 30_000)
    await waitForHttp(`http://${node2}/health`, two, 30_000)
  }

  /** Prometheus with the deployed config; only its targets and intervals changed. */
  async function startPrometheus() {
    const deployed = Bun.YAML.parse(
      readFileSync(join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8')
    ) as Obj
    const targets: Record<string, string[]> = {
      gridpulse: [node1, node2],
      kong: [`127.0.0.1:${ports.kong}`], // nothing listens: Kong cannot run here
      prometheus: [`127.0.0.1:${ports.prometheus}`],
    }
    expect(deployed.scrape_configs.map((j: Obj) => j.job_name).sort()).toEqual(
      Object.keys(targets).sort()
    )
    const config = {
      ...deployed,
      global: { ...deployed.global, scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [join(ROOT, 'deploy/prometheus/rules/*.yml')],
      alerting: undefined, // no Alertmanager here (tests/deploy/alertmanager.test.ts has one)
      scrape_configs: deployed.scrape_configs.map((job: Obj) => ({
        ...job,
        static_configs: job.static_configs.map((c: Obj) => ({
          ...c,
          targets: targets[job.job_name],
        })),
      })),
    }
    writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config)) // JSON is YAML
    spawn(
      [
        prometheus!,
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${ports.prometheus}`,
      ],
      {}
    )
    await waitFor(
      () =>
        fetch(`${prom}/-/ready`)
          .then((r) => r.ok)
          .catch(() => false),
      'Prometheus ready',
      30_000
    )
  }

  /** Resolves once both nodes were scraped after `since`, and every rule group evaluated after that. */
  async function scrapedAndEvaluatedAfter(since: number) {
    const scraped = await waitFor(
      async () => {
        const scrapes = ((await promApi(prom, 'targets')).activeTargets as Obj[])
          .filter((t) => t.labels.job === 'gridpulse')
          .map((t) => Date.parse(t.lastScrape))
        return scrapes.length === 2 && scrapes.every((at) => at > since) && Math.max(...scrapes)
      },
      'scrapes of both nodes',
      60_000
    )
    // Twice: alert groups read the recording groups' output, and groups evaluate in no set order,
    // so an alert group that ran after the scrape may still have read a recording made before it.
    // Once every group has run after the scrape, a second round reads only post-scrape recordings.
    let after = scraped
    for (const round of ['after those scrapes', 'again after that']) {
      after = await waitFor(
        async () => {
          const runs = ((await promApi(prom, 'rules')).groups as Obj[]).map((g) =>
            Date.parse(g.lastEvaluation)
          )
          return runs.every((at) => at > after) && Math.max(...runs)
        },
        `every rule group evaluated ${round}`,
        60_000
      )
    }
  }

  beforeAll(async () => {
    await startNodes()
    await startPrometheus()
    await scrapedAndEvaluatedAfter(Date.now())

    // Now, while Prometheus watches: live-format NEMWeb files built from real archive rows and
    // one that is not a zip at all; API reads with and without a valid key; a manual write (a
    // live event: its interval is now).
    const step = (n: number) => toUtcIso(Date.parse('2026-04-02T00:05:00Z') + n * 300_000)
    for (let i = 0; i < 3; i++) {
      nemweb.add('/Reports/Current/DispatchIS_Reports/', buildDispatchIsZip(step(i)))
      nemweb.add('/Reports/Current/Dispatch_SCADA/', buildDispatchScadaZip(step(i)))
    }
    nemweb.add('/Reports/Current/DispatchIS_Reports/', {
      ...buildDispatchIsZip(step(3)),
      bytes: new TextEncoder().encode('<html>not a zip</html>'),
    })
    const api = (path: string, init: RequestInit = {}) => fetch(`http://${node1}${path}`, init)
    expect((await api('/api/v1/prices', { headers: { apikey: writeKey } })).status).toBe(200)
    expect((await api('/api/v1/prices')).status).toBe(401)
    expect((await api('/api/v1/prices', { headers: { apikey: 'gpk_x_wrong' } })).status).toBe(401)
    const written = await api('/api/v1/dispatch', {
      method: 'POST',
      headers: { apikey: writeKey, 'content-type': 'application/json' },
      body: JSON.stringify({ region_id: 'NSW1', fuel_type: 'wind', value_mw: 42 }),
    })
    expect(written.status).toBe(202)
    // Waited for on /metrics: the API would rate-limit a poll this frequent.
    await waitFor(
      async () => {
        const text = await (await fetch(`http://${node1}/metrics`)).text()
        return (
          text.includes(
            'gridpulse_historical_events_projected_total{event_type="ScadaReconciliationEvent"} 3'
          ) &&
          text.includes(
            'gridpulse_end_to_end_latency_seconds_count{event_type="MarketDispatchEvent"} 1'
          ) &&
          // The corrupt file comes after the three good ones.
          text.includes('gridpulse_dlq_records_total{topic="market.prices"')
        )
      },
      'the NEMWeb files, the corrupt one and the manual write projected',
      60_000
    )
    // An alert rule whose source is stale at once (the files are from April 2026): one webhook.
    const rule = await api('/api/v1/alerts', {
      method: 'POST',
      headers: { apikey: writeKey, 'content-type': 'application/json' },
      body: JSON.stringify({
        condition: { kind: 'source_stale', source: 'aemo.dispatchis', minutes: 5 },
        webhook_url: `http://127.0.0.1:${hooks.port}/hook`,
      }),
    })
    expect(rule.status).toBe(201)
    await waitFor(
      async () =>
        (await (await fetch(`http://${node1}/metrics`)).text()).includes(
          'gridpulse_alert_deliveries_total{outcome="delivered"} 1'
        ),
      'the alert webhook delivered',
      60_000
    )
    await scrapedAndEvaluatedAfter(Date.now())
  }, 180_000)

  afterAll(async () => {
    for (const p of procs) p.kill('SIGTERM')
    await Promise.all(procs.map((p) => p.exited))
    nemweb.stop()
    openMeteo.stop()
    hooks.stop(true)
    rmSync(dir, { recursive: true, force: true })
  })

  const query = (q: string) => promApi(prom, 'query', { query: q })

  test('both nodes are scraped and Kong is not (it cannot run here)', async () => {
    const up = (await query('up')).result as Obj[]
    expect(
      Object.fromEntries(up.map((r) => [`${r.metric.job} ${r.metric.instance}`, r.value[1]]))
    ).toEqual({
      [`gridpulse ${node1}`]: '1',
      [`gridpulse ${node2}`]: '1',
      [`kong 127.0.0.1:${ports.kong}`]: '0',
      [`prometheus 127.0.0.1:${ports.prometheus}`]: '1',
    })
  })

  test('every GridPulse metric is there with the labels deploy/metrics.txt lists, and none renamed to exported_*', async () => {
    const documented = gridpulseMetrics()
    const series = (await promApi(prom, 'series', {
      'match[]': '{__name__=~"gridpulse_.+"}',
    })) as Obj[]
    const seen = new Set<string>()
    const wrong: string[] = []
    for (const s of series) {
      const name: string = s.__name__
      const metric = documented[name] ? name : name.replace(/_(bucket|sum|count)$/, '')
      seen.add(metric)
      const allowed = [
        '__name__',
        'job',
        'instance',
        ...(documented[metric]?.labels ?? []),
        ...(name.endsWith('_bucket') ? ['le'] : []),
      ]
      for (const label of Object.keys(s))
        if (!allowed.includes(label)) wrong.push(`${name} has label ${label}`)
    }
    expect(wrong).toEqual([])
    // Every documented GridPulse metric has series: counters and gauges exist from the first
    // scrape, or these two nodes' traffic produced them.
    expect(
      Object.keys(documented).filter((n) => n.startsWith('gridpulse_') && !seen.has(n))
    ).toEqual([])
  })

  test('every rule evaluates without error, on series that exist; every recording rule has data', async () => {
    const groups = (await promApi(prom, 'rules')).groups as Obj[]
    const loaded = groups.flatMap((g) => g.rules as Obj[])
    expect(loaded.map((r) => r.name).sort()).toEqual(
      rules()
        .map((r) => r.record ?? r.alert!)
        .sort()
    )
    expect(loaded.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`)).toEqual(
      []
    )

    const scraped = new Set((await promApi(prom, 'label/__name__/values')) as string[])
    const recorded = new Set(loaded.filter((r) => r.type === 'recording').map((r) => r.name))
    const missing: string[] = []
    for (const r of loaded)
      for (const name of metricNames(r.query)) {
        if (scraped.has(name) || recorded.has(name)) continue
        // Kong's series are absent only because Kong is: the name must be one its exporter has.
        const kong = KONG[name] ?? KONG[name.replace(/_(bucket|sum|count)$/, '')]
        if (!kong) missing.push(`${name} in ${r.name}`)
      }
    expect(missing).toEqual([])
    const empty: string[] = []
    for (const name of recorded) if ((await query(name)).result.length === 0) empty.push(name)
    expect(empty).toEqual([])
  })

  test('every dashboard query runs, and every GridPulse panel shows data', async () => {
    const problems: string[] = []
    let checked = 0
    for (const panel of panels)
      for (const target of panel.targets as Obj[]) {
        const expr = (target.expr as string).replaceAll('$__rate_interval', '1m')
        let result: Obj[]
        try {
          result = (await query(expr)).result
        } catch (error) {
          problems.push(`${panel.title}: ${(error as Error).message}`)
          continue
        }
        checked++
        const kongOnly = metricNames(expr).every((n) => n.startsWith('kong_'))
        // Data = a number Grafana can draw (a quantile over no observations is NaN).
        const finite = result.some((r) => Number.isFinite(Number(r.value[1])))
        if (!kongOnly && !finite) problems.push(`${panel.title}: no data for ${expr}`)
      }
    expect(problems).toEqual([])
    expect(checked).toBe(panels.flatMap((p) => p.targets).length)
  })

  test('what is wrong here is pending, with the thing named; what is healthy is not', async () => {
    const alerts = ((await promApi(prom, 'alerts')).alerts as Obj[]).map((a) => ({
      name: a.labels.alertname as string,
      on: (a.labels.source ?? a.labels.instance ?? a.labels.job) as string,
      summary: a.annotations.summary as string,
    }))
    const on = (name: string) => alerts.filter((a) => a.name === name).map((a) => a.on)
    // Open-Meteo answered 503 from the start: stale, as never polled successfully.
    expect(alerts).toContainEqual({
      name: 'GridPulseSourceStale',
      on: 'openmeteo.forecast',
      summary:
        'Source openmeteo.forecast has not been polled successfully since its node started (never)',
    })
    expect(on('GridPulseSourceStale')).toEqual(['openmeteo.forecast'])
    // …and DOWN on the dashboard from the start, the AEMO sources UP.
    const up = (await query('job_source:gridpulse_source_up')).result as Obj[]
    expect(Object.fromEntries(up.map((r) => [r.metric.source, r.value[1]]))).toEqual({
      'aemo.dispatchis': '1',
      'aemo.dispatch_scada': '1',
      'openmeteo.forecast': '0',
    })
    expect(on('GridPulseKafkaUnreachable')).toEqual([node2])
    expect(on('GridPulseGatewayDown')).toEqual([`127.0.0.1:${ports.kong}`])
    expect(on('GridPulseNodeDown')).toEqual([])
    expect(on('GridPulseNodeNotReady')).toEqual([])
    // 2 of 5 API requests were 401, far below 0.2/s over 5 minutes.
    expect(on('GridPulseAuthFailuresHigh')).toEqual([])
    // Of the two certificates node 2 loaded, the one with 10 days left.
    const expiring = alerts.filter((a) => a.name === 'GridPulseCertificateExpiringSoon')
    expect(expiring.map((a) => a.on)).toEqual([node2])
    expect(expiring[0]!.summary).toMatch(
      new RegExp(
        `^Certificate CN=expiring-ca \\(kafka_tls_ca\\) on ${node2} expires in 9d 23h \\d+m \\d+s$`
      )
    )
  })
})
