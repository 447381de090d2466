import { Database } from 'bun:sqlite'
import type { Alert, AlertCondition, AlertDelivery, AlertRule } from '@/canonical'
import { toUtcIsoMs } from '@/lib'

/**
 * alerts.sqlite: the consumers' rules, their firings (one row per stable delivery id) and the
 * delivery log. Like access.sqlite it outlives every projection rebuild (rules are what people
 * typed, not something the log can replay), so it is a file of its own with its migrations in
 * `PRAGMA user_version`: append, never edit.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE alert_rules (
    id TEXT PRIMARY KEY NOT NULL,
    consumer TEXT NOT NULL,
    name TEXT NOT NULL,
    condition TEXT NOT NULL,
    webhook_url TEXT,
    -- The signing secret: needed in clear to sign, so stored; returned only at creation.
    webhook_secret TEXT,
    enabled INTEGER NOT NULL,
    disabled_reason TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX alert_rules_by_consumer ON alert_rules (consumer, created_at);
  CREATE TABLE alert_firings (
    delivery_id TEXT PRIMARY KEY NOT NULL,
    rule_id TEXT NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    fired_at INTEGER NOT NULL,
    -- pending: a webhook attempt is due at next_attempt_at; done: delivered, or no webhook.
    state TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER
  );
  CREATE INDEX alert_firings_due ON alert_firings (state, next_attempt_at);
  CREATE INDEX alert_firings_by_rule ON alert_firings (rule_id, fired_at);
  CREATE TABLE alert_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id TEXT NOT NULL REFERENCES alert_firings (delivery_id) ON DELETE CASCADE,
    rule_id TEXT NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    attempted_at INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    status_code INTEGER,
    error TEXT,
    latency_ms REAL,
    next_attempt_at INTEGER
  );
  CREATE INDEX alert_attempts_by_rule ON alert_attempts (rule_id, id);`,
]

interface RuleRow {
  id: string
  consumer: string
  name: string
  condition: string
  webhook_url: string | null
  webhook_secret: string | null
  enabled: number
  disabled_reason: string | null
  consecutive_failures: number
  created_at: number
  updated_at: number
}

/** A rule as the evaluator and the sender see it (with its owner and secret). */
export interface StoredRule extends AlertRule {
  readonly consumer: string
  readonly secret: string | null
  readonly createdAtMs: number
}

/** A firing whose webhook attempt is due. */
export interface DueDelivery {
  readonly deliveryId: string
  readonly rule: StoredRule
  readonly body: string
  readonly attempts: number
}

export interface AttemptRecord {
  readonly deliveryId: string
  readonly ruleId: string
  readonly attempt: number
  readonly at: number
  readonly outcome: AlertDelivery['outcome']
  readonly statusCode: number | null
  readonly error: string | null
  readonly latencyMs: number | null
  /** Null: no retry (delivered, or the rule is now disabled). */
  readonly nextAttemptAt: number | null
}

const toRule = (r: RuleRow): StoredRule => ({
  id: r.id,
  name: r.name,
  condition: JSON.parse(r.condition) as AlertCondition,
  webhook_url: r.webhook_url,
  enabled: r.enabled === 1,
  disabled_reason: r.disabled_reason,
  consecutive_failures: r.consecutive_failures,
  created_at: toUtcIsoMs(r.created_at),
  updated_at: toUtcIsoMs(r.updated_at),
  consumer: r.consumer,
  secret: r.webhook_secret,
  createdAtMs: r.created_at,
})

function migrate(sqlite: Database) {
  const { user_version: version } = sqlite.query('PRAGMA user_version').get() as {
    user_version: number
  }
  for (let i = version; i < MIGRATIONS.length; i++) {
    sqlite.transaction(() => {
      sqlite.run(MIGRATIONS[i]!)
      sqlite.run(`PRAGMA user_version = ${i + 1}`)
    })()
  }
}

export type AlertStore = ReturnType<typeof openAlertStore>

/** Opens (and migrates) alerts.sqlite; `:memory:` for a node that keeps nothing. */
export function openAlertStore(path: string) {
  const sqlite = new Database(path, { create: true, strict: true })
  sqlite.run('PRAGMA journal_mode = WAL')
  // As projection.sqlite: no fsync per commit. A power cut may lose the newest attempts; their
  // alerts are then sent again under the same delivery id, which receivers deduplicate.
  sqlite.run('PRAGMA synchronous = NORMAL')
  sqlite.run('PRAGMA busy_timeout = 5000')
  sqlite.run('PRAGMA foreign_keys = ON')
  migrate(sqlite)
  return {
    ...ruleStatements(sqlite),
    ...firingStatements(sqlite),
    ...deliveryLog(sqlite),
    close: () => sqlite.close(),
  }
}

function ruleStatements(sqlite: Database) {
  const byId = sqlite.query<RuleRow, [string]>('SELECT * FROM alert_rules WHERE id = ?')
  const byConsumer = sqlite.query<RuleRow, [string]>(
    'SELECT * FROM alert_rules WHERE consumer = ? ORDER BY created_at, id'
  )
  const enabled = sqlite.query<RuleRow, []>('SELECT * FROM alert_rules WHERE enabled = 1')
  const insert = sqlite.query(
    `INSERT INTO alert_rules (id, consumer, name, condition, webhook_url, webhook_secret, enabled,
       disabled_reason, consecutive_failures, created_at, updated_at)
     VALUES ($id, $consumer, $name, $condition, $url, $secret, 1, NULL, 0, $now, $now)`
  )
  const update = sqlite.query(
    `UPDATE alert_rules SET name = $name, webhook_url = $url, webhook_secret = $secret,
       enabled = $enabled, disabled_reason = $reason, consecutive_failures = $failures,
       updated_at = $now WHERE id = $id`
  )
  const remove = sqlite.query('DELETE FROM alert_rules WHERE id = ?')
  // A webhook removed: its undelivered alerts have nowhere to go any more.
  const settle = sqlite.query(
    "UPDATE alert_firings SET state = 'done', next_attempt_at = NULL WHERE rule_id = ? AND state = 'pending'"
  )
  // Counted in SQL, not read-modify-write: deliveries of one rule may be in flight together.
  const failed = sqlite.query<{ consecutive_failures: number }, [string]>(
    'UPDATE alert_rules SET consecutive_failures = consecutive_failures + 1 WHERE id = ? RETURNING consecutive_failures'
  )
  const succeeded = sqlite.query(
    'UPDATE alert_rules SET consecutive_failures = 0 WHERE id = ? AND consecutive_failures != 0'
  )
  const disable = sqlite.query(
    'UPDATE alert_rules SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE id = ? AND enabled = 1'
  )
  return {
    insertRule(rule: {
      id: string
      consumer: string
      name: string
      condition: AlertCondition
      url: string | null
      secret: string | null
      now: number
    }) {
      insert.run({ ...rule, condition: JSON.stringify(rule.condition) })
    },
    rule: (id: string) => {
      const row = byId.get(id)
      return row ? toRule(row) : undefined
    },
    rulesOf: (consumer: string) => byConsumer.all(consumer).map(toRule),
    enabledRules: () => enabled.all().map(toRule),
    updateRule(
      id: string,
      next: {
        name: string
        url: string | null
        secret: string | null
        enabled: boolean
        reason: string | null
        failures: number
        now: number
      }
    ) {
      update.run({ id, ...next, enabled: next.enabled ? 1 : 0 })
      if (next.url === null) settle.run(id)
    },
    deleteRule: (id: string) => remove.run(id).changes > 0,
    /** One more failed attempt in a row; the new count (0 when the rule is gone). */
    ruleFailed: (id: string) => failed.get(id)?.consecutive_failures ?? 0,
    ruleSucceeded: (id: string) => void succeeded.run(id),
    /** Disables an enabled rule; false when it already was (or is gone). */
    disableRule: (id: string, reason: string, now: number) =>
      disable.run(reason, now, id).changes > 0,
  }
}

function firingStatements(sqlite: Database) {
  const insert = sqlite.query(
    `INSERT INTO alert_firings (delivery_id, rule_id, body, fired_at, state, next_attempt_at)
     VALUES ($id, $rule, $body, $at, $state, $next) ON CONFLICT (delivery_id) DO NOTHING`
  )
  const due = sqlite.query<
    RuleRow & { delivery_id: string; body: string; attempts: number },
    [number, number]
  >(
    `SELECT r.*, f.delivery_id, f.body, f.attempts FROM alert_firings f
     JOIN alert_rules r ON r.id = f.rule_id
     WHERE f.state = 'pending' AND f.next_attempt_at <= ? AND r.enabled = 1
       AND r.webhook_url IS NOT NULL
     ORDER BY f.next_attempt_at LIMIT ?`
  )
  const attempt = sqlite.query(
    `INSERT INTO alert_attempts (delivery_id, rule_id, attempt, attempted_at, outcome, status_code,
       error, latency_ms, next_attempt_at)
     VALUES ($deliveryId, $ruleId, $attempt, $at, $outcome, $statusCode, $error, $latencyMs,
       $nextAttemptAt)`
  )
  const advance = sqlite.query(
    // Not delivered and no retry planned (the rule was just disabled): due again at once if the
    // rule is re-enabled.
    `UPDATE alert_firings SET attempts = $attempt,
       next_attempt_at = CASE WHEN $delivered THEN NULL ELSE COALESCE($next, $at) END,
       state = CASE WHEN $delivered THEN 'done' ELSE 'pending' END WHERE delivery_id = $id`
  )
  const pruneAttempts = sqlite.query('DELETE FROM alert_attempts WHERE attempted_at < ?')
  const pruneFirings = sqlite.query(
    "DELETE FROM alert_firings WHERE state = 'done' AND fired_at < ?"
  )
  const pending = sqlite.query<{ n: number }, []>(
    "SELECT COUNT(*) AS n FROM alert_firings WHERE state = 'pending'"
  )
  return {
    /** Records a firing; false when its delivery id was recorded before (a re-evaluation). */
    insertFiring(alert: Alert, webhook: boolean, at: number): boolean {
      return (
        insert.run({
          id: alert.delivery_id,
          rule: alert.rule_id,
          body: JSON.stringify(alert),
          at,
          state: webhook ? 'pending' : 'done',
          next: webhook ? at : null,
        }).changes > 0
      )
    },
    due(now: number, limit: number): DueDelivery[] {
      return due.all(now, limit).map((row) => ({
        deliveryId: row.delivery_id,
        body: row.body,
        attempts: row.attempts,
        rule: toRule(row),
      }))
    },
    /** One attempt: its log row and the firing's next state, in one transaction. */
    recordAttempt: sqlite.transaction((a: AttemptRecord) => {
      attempt.run({ ...a })
      advance.run({
        id: a.deliveryId,
        attempt: a.attempt,
        at: a.at,
        next: a.nextAttemptAt,
        delivered: a.outcome === 'delivered' ? 1 : 0,
      })
    }),
    pendingCount: () => pending.get()!.n,
    /**
     * Forgets settled firings and attempts older than `before` (epoch ms): a rule that fires every
     * interval would otherwise grow the file forever. Pending firings are kept, however old.
     */
    prune(before: number): number {
      const attempts = pruneAttempts.run(before).changes
      return pruneFirings.run(before).changes + attempts
    },
  }
}

/** The delivery log of a rule: one row per webhook attempt, newest first. */
function deliveryLog(sqlite: Database) {
  const log = sqlite.query<
    {
      delivery_id: string
      attempt: number
      attempted_at: number
      outcome: AlertDelivery['outcome']
      status_code: number | null
      error: string | null
      latency_ms: number | null
      next_attempt_at: number | null
    },
    [string, number]
  >(
    `SELECT delivery_id, attempt, attempted_at, outcome, status_code, error, latency_ms,
       next_attempt_at FROM alert_attempts WHERE rule_id = ? ORDER BY id DESC LIMIT ?`
  )
  return {
    deliveries(ruleId: string, limit: number): AlertDelivery[] {
      return log.all(ruleId, limit).map((r) => ({
        delivery_id: r.delivery_id,
        attempt: r.attempt,
        attempted_at: toUtcIsoMs(r.attempted_at),
        outcome: r.outcome,
        status_code: r.status_code,
        error: r.error,
        latency_ms: r.latency_ms,
        next_attempt_at: r.next_attempt_at === null ? null : toUtcIsoMs(r.next_attempt_at),
      }))
    },
  }
}
