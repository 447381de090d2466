/**
 * deploy/alertmanager/alertmanager.yml: `amtool check-config`, and a real Alertmanager (Debian's
 * prometheus-alertmanager) running it with only its webhook URL pointed at this test (and
 * group_wait shortened): the inhibitions hold back what they should and nothing else, and the
 * webhook receives the rest with their summary and runbook_url.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { waitFor } from '../support/events'
import { freePort } from '../support/process'
import { rules } from './promql'
import { ROOT, run, skipNotice } from './support'

type Obj = Record<string, any>

const CONFIG = join(ROOT, 'deploy/alertmanager/alertmanager.yml')
const config = Bun.YAML.parse(readFileSync(CONFIG, 'utf8')) as Obj
const amtool = Bun.which('amtool')
const alertmanager = Bun.which('prometheus-alertmanager') ?? Bun.which('alertmanager')
if (!amtool || !alertmanager)
  skipNotice(
    'Alertmanager config and behaviour',
    'amtool / prometheus-alertmanager not on PATH (apt-get install prometheus-alertmanager)'
  )

/** Every matcher of the config (routes and inhibit rules) as [label, operator, value]. */
function matchers(): [string, string, string][] {
  const all: string[] = [
    ...(config.route.routes ?? []).flatMap((r: Obj) => r.matchers ?? []),
    ...config.inhibit_rules.flatMap((r: Obj) => [...r.source_matchers, ...r.target_matchers]),
  ]
  return all.map((m) => {
    const [, label, op, value] = m.match(/^(\w+)\s*(=~|!~|!=|=)\s*"(.*)"$/)!
    return [label!, op!, value!]
  })
}

describe('deploy/alertmanager/alertmanager.yml', () => {
  test('every alert name it routes or inhibits on is an alert of deploy/prometheus/rules', () => {
    const names = rules().flatMap((r) => (r.alert ? [r.alert] : []))
    const used = matchers().filter(([label]) => label === 'alertname')
    expect(used.length).toBeGreaterThanOrEqual(8)
    for (const [, op, value] of used) {
      const re = new RegExp(`^(?:${value})$`)
      const hits = names.filter((n) => (op === '=' ? n === value : re.test(n)))
      expect([value, hits.length > 0]).toEqual([value, true])
      // A regex naming alternatives: each one exists (a typo would silently match nothing).
      if (op === '=~' && !value.includes('.'))
        for (const alt of value.split('|')) expect(names).toContain(alt)
    }
    // Severities used by routes are the ones the rules set.
    for (const [label, , value] of matchers().filter(([l]) => l === 'severity'))
      expect([label, rules().some((r) => r.labels?.severity === value)]).toEqual([label, true])
  })

  test.skipIf(!amtool)('amtool check-config accepts it', () => {
    const r = run([amtool!, 'check-config', CONFIG])
    if (r.code !== 0) console.error(r.stdout, r.stderr)
    expect(r.code).toBe(0)
  })
})

describe.skipIf(!alertmanager)('a real Alertmanager running it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridpulse-am-'))
  const received: Obj[] = []
  const webhook = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(request) {
      received.push((await request.json()) as Obj)
      return new Response('ok')
    },
  })
  const port = freePort()
  const api = `http://127.0.0.1:${port}/api/v2`
  let proc: Subprocess | undefined

  beforeAll(async () => {
    // The deployed config; only where it sends, and how long it waits before the first send.
    const testConfig = structuredClone(config)
    testConfig.route.group_wait = '1s'
    for (const receiver of testConfig.receivers)
      for (const hook of receiver.webhook_configs ?? [])
        hook.url = `http://127.0.0.1:${webhook.port}/gridpulse`
    writeFileSync(join(dir, 'alertmanager.yml'), JSON.stringify(testConfig)) // JSON is YAML
    proc = Bun.spawn(
      [
        alertmanager!,
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
      ],
      { stdout: 'ignore', stderr: 'ignore' }
    )
    await waitFor(
      () =>
        fetch(`http://127.0.0.1:${port}/-/ready`)
          .then((r) => r.ok)
          .catch(() => false),
      'Alertmanager ready',
      30_000
    )
  })
  afterAll(async () => {
    proc?.kill('SIGTERM')
    await proc?.exited
    webhook.stop(true)
    rmSync(dir, { recursive: true, force: true })
  })

  const alert = (labels: Record<string, string>) => ({
    labels: { stack: 'gridpulse', ...labels },
    annotations: {
      summary: `${labels.alertname} test`,
      runbook_url: `deploy/RUNBOOK.md#${labels.alertname!.toLowerCase()}`,
    },
    startsAt: new Date().toISOString(),
  })

  test('a node down holds back its source alerts; Kafka down its projection alerts on that node only', async () => {
    const alerts = [
      alert({
        alertname: 'GridPulseNodeDown',
        severity: 'critical',
        job: 'gridpulse',
        instance: 'gridpulse:8080',
      }),
      alert({
        alertname: 'GridPulseSourceStale',
        severity: 'critical',
        job: 'gridpulse',
        source: 'openmeteo.forecast',
      }),
      alert({
        alertname: 'GridPulseSourceFailing',
        severity: 'warning',
        job: 'gridpulse',
        source: 'aemo.dispatchis',
      }),
      alert({
        alertname: 'GridPulseKafkaUnreachable',
        severity: 'critical',
        job: 'gridpulse',
        instance: 'gridpulse-2:8080',
      }),
      alert({
        alertname: 'GridPulseProjectionStalled',
        severity: 'critical',
        job: 'gridpulse',
        instance: 'gridpulse-2:8080',
      }),
      alert({
        alertname: 'GridPulseOutboxNearCap',
        severity: 'critical',
        job: 'gridpulse',
        instance: 'gridpulse-2:8080',
      }),
      alert({
        alertname: 'GridPulseProjectionStalled',
        severity: 'critical',
        job: 'gridpulse',
        instance: 'gridpulse-3:8080',
      }),
      alert({ alertname: 'GridPulseAuthFailuresHigh', severity: 'warning', job: 'kong' }),
    ]
    const posted = await fetch(`${api}/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alerts),
    })
    expect(posted.status).toBe(200)

    const key = (a: Obj) =>
      `${a.labels.alertname} ${a.labels.instance ?? a.labels.source ?? a.labels.job}`
    const expected = {
      'GridPulseNodeDown gridpulse:8080': 'active',
      'GridPulseSourceStale openmeteo.forecast': 'suppressed',
      'GridPulseSourceFailing aemo.dispatchis': 'suppressed',
      'GridPulseKafkaUnreachable gridpulse-2:8080': 'active',
      'GridPulseProjectionStalled gridpulse-2:8080': 'suppressed',
      // Not held back by Kafka: the outbox filling up is what still needs a person.
      'GridPulseOutboxNearCap gridpulse-2:8080': 'active',
      'GridPulseProjectionStalled gridpulse-3:8080': 'active',
      'GridPulseAuthFailuresHigh kong': 'active',
    }
    const states = async () => {
      const list = (await (await fetch(`${api}/alerts`)).json()) as Obj[]
      return Object.fromEntries(list.map((a) => [key(a), a.status.state]))
    }
    await waitFor(
      async () => Bun.deepEquals(await states(), expected),
      'every alert active or held back as expected',
      15_000
    ).catch(() => {}) // the assertion below says what differs
    expect(await states()).toEqual(expected)

    // The webhook gets the active ones (one POST per group), with the runbook link; never the others.
    const active = Object.entries(expected)
      .filter(([, s]) => s === 'active')
      .map(([k]) => k)
      .sort()
    const delivered = () => received.flatMap((body) => body.alerts as Obj[])
    await waitFor(
      () => new Set(delivered().map(key)).size === active.length,
      'webhook deliveries',
      30_000
    )
    expect([...new Set(delivered().map(key))].sort()).toEqual(active)
    for (const a of delivered()) {
      expect(a.status).toBe('firing')
      expect(a.annotations.runbook_url).toBe(
        `deploy/RUNBOOK.md#${String(a.labels.alertname).toLowerCase()}`
      )
    }
    expect(received.every((body) => body.receiver === 'operations' && body.version === '4')).toBe(
      true
    )
  }, 60_000)
})
