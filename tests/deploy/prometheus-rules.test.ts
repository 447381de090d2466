/**
 * The alert and recording rules of deploy/prometheus/rules/: `promtool check rules` and `promtool
 * test rules` (Debian's prometheus package; .ci/run installs it), every alert with a severity, a
 * summary naming the thing and its value, a runbook section, and unit tests that make it fire and
 * keep it silent. tests/deploy/prometheus.test.ts evaluates the same rules against real series.
 */
import { describe, expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { RULE_TESTS_DIR, RULES_DIR, rules } from './promql'
import { ROOT, run, skipNotice } from './support'

type Obj = Record<string, any>

const promtool = Bun.which('promtool')
if (!promtool)
  skipNotice('promtool check/test rules', 'promtool not on PATH (apt-get install prometheus)')

const ruleFiles = readdirSync(RULES_DIR)
  .filter((f) => f.endsWith('.yml'))
  .map((f) => join(RULES_DIR, f))
const testFiles = readdirSync(RULE_TESTS_DIR)
  .filter((f) => f.endsWith('.test.yml'))
  .sort()
const alerts = rules().filter((r) => r.alert)
const runbook = readFileSync(join(ROOT, 'deploy/RUNBOOK.md'), 'utf8')

/** The runbook's sections by heading (`### Name` up to the next heading of level 2 or 3). */
function sections(markdown: string): Map<string, string> {
  const out = new Map<string, string>()
  const parts = markdown.split(/^(#{2,3} .+)$/m)
  for (let i = 1; i < parts.length; i += 2) out.set(parts[i]!.replace(/^#+ /, ''), parts[i + 1]!)
  return out
}

describe('deploy/prometheus/rules', () => {
  test.skipIf(!promtool)('promtool check rules', () => {
    const r = run([promtool!, 'check', 'rules', ...ruleFiles])
    if (r.code !== 0) console.error(r.stdout, r.stderr)
    expect(r.code).toBe(0)
    expect(r.stdout.match(/SUCCESS/g)).toHaveLength(ruleFiles.length)
  })

  test.skipIf(!promtool)(
    'promtool test rules: every unit test passes',
    () => {
      const r = run([promtool!, 'test', 'rules', ...testFiles], {
        cwd: RULE_TESTS_DIR,
        timeout: 120_000,
      })
      if (r.code !== 0) console.error(r.stdout, r.stderr)
      expect(r.code).toBe(0)
      expect(r.stdout.match(/SUCCESS/g)).toHaveLength(testFiles.length)
    },
    130_000
  )

  test.skipIf(!promtool)('promtool check config accepts prometheus.yml', () => {
    const r = run([promtool!, 'check', 'config', join(ROOT, 'deploy/prometheus/prometheus.yml')])
    if (r.code !== 0) console.error(r.stdout, r.stderr)
    expect(r.code).toBe(0)
  })

  test('the alerts operations asked for exist', () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual(
      [
        'GridPulseAuthFailuresHigh',
        'GridPulseCertificateExpiringSoon',
        'GridPulseDeadLettersHigh',
        'GridPulseGatewayDown',
        'GridPulseHttp5xxRatioHigh',
        'GridPulseHttpLatencyHigh',
        'GridPulseKafkaUnreachable',
        'GridPulseLoopDown',
        'GridPulseNodeDown',
        'GridPulseNodeNotReady',
        'GridPulseOutboxGrowing',
        'GridPulseOutboxNearCap',
        'GridPulseProjectionLagging',
        'GridPulseProjectionStalled',
        'GridPulseSourceDataStale',
        'GridPulseSourceFailing',
        'GridPulseSourceStale',
      ].sort()
    )
    // Per source, with a grace period.
    const stale = alerts.find((a) => a.alert === 'GridPulseSourceStale')!
    expect(stale.expr).toContain('job_source:')
    expect(stale.for).toBe('5m')
  })

  test('every alert has a severity, a summary with the thing and its value, and a runbook section', () => {
    const bySection = sections(runbook)
    for (const a of alerts) {
      const where = `${a.alert}`
      expect([where, a.labels?.severity]).toEqual([
        where,
        expect.stringMatching(/^(critical|warning)$/),
      ])
      const summary = a.annotations?.summary ?? ''
      expect([where, summary]).toEqual([where, expect.stringContaining('$value')])
      expect([where, summary]).toEqual([where, expect.stringMatching(/\$labels\.\w+/)])
      expect([where, a.annotations?.description]).toEqual([where, expect.any(String)])
      expect([where, a.annotations?.runbook_url]).toEqual([
        where,
        `deploy/RUNBOOK.md#${a.alert!.toLowerCase()}`,
      ])
      const section = bySection.get(a.alert!)
      expect([where, section !== undefined]).toEqual([where, true])
      for (const part of ['**Means**', '**Confirm**', '**Do**'])
        expect([where, section!.includes(part)]).toEqual([where, true])
    }
  })

  test('every alert has a unit test where it fires and one where it stays silent', () => {
    const cases = testFiles.flatMap((f) =>
      (Bun.YAML.parse(readFileSync(join(RULE_TESTS_DIR, f), 'utf8')) as Obj).tests.flatMap(
        (t: Obj) => (t.alert_rule_test ?? []) as Obj[]
      )
    )
    for (const a of alerts) {
      const mine = cases.filter((c) => c.alertname === a.alert)
      expect([a.alert, mine.some((c) => (c.exp_alerts ?? []).length > 0)]).toEqual([a.alert, true])
      expect([a.alert, mine.some((c) => (c.exp_alerts ?? []).length === 0)]).toEqual([
        a.alert,
        true,
      ])
    }
    // The case: a source that never succeeded goes stale (and reads "never" at today's clock).
    const never = cases.find(
      (c) =>
        c.alertname === 'GridPulseSourceStale' &&
        c.exp_alerts?.[0]?.exp_annotations.summary.endsWith('since its node started (never)')
    )
    expect(never).toBeDefined()
  })

  test('the test files load every rule file, recording rules first', () => {
    for (const f of testFiles) {
      const t = Bun.YAML.parse(readFileSync(join(RULE_TESTS_DIR, f), 'utf8')) as Obj
      expect(t.rule_files.map((r: string) => join(RULE_TESTS_DIR, r)).sort()).toEqual(
        [...ruleFiles].sort()
      )
      expect(t.group_eval_order[0]).toBe('gridpulse-recording')
    }
  })
})
