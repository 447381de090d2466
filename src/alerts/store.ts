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
  // Shared rules (Kafka mode): a rule's revision orders its changes, and an attempt read back from
  // the deliveries topic must not be logged twice.
  `ALTER TABLE alert_rules ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
  DELETE FROM alert_attempts WHERE id NOT IN
    (SELECT MIN(id) FROM alert_attempts GROUP BY delivery_id, attempt);
  CREATE UNIQUE INDEX alert_attempts_once ON alert_attempts (delivery_id, attempt);
  -- 0: made on this node while it was alone (before Kafka mode), not yet on the rules topic.
  ALTER TABLE alert_rules ADD COLUMN shared INTEGER NOT NULL DEFAULT 0;
  -- The revision a rule was deleted at: this node's own older records of it, read back after the
  -- delete, must not bring it back.
  CREATE TABLE alert_rules_deleted (
    id TEXT PRIMARY KEY NOT NULL,
    revision INTEGER NOT NULL
  );`,
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
  revision: number
}

/**
 * One rule change as it travels on the alert rules topic: the rule's whole new state (a compacted
 * topic keeps only the newest record per rule, so a record must stand alone), or its deletion.
 * `revision` is the one the writing node had plus one; see {@link AlertStore.applyRule}.
 */
export type RuleRecord =
  | {
      readonly id: string
      readonly revision: number
      readonly deleted?: false
      readonly consumer: string
      readonly name: string
      readonly condition: AlertCondition
      readonly webhook_url: string | null
      readonly webhook_secret: string | null
      readonly enabled: boolean
      readonly disabled_reason: string | null
      readonly consecutive_failures: number
      /** Epoch ms. */
      readonly created_at: number
      readonly updated_at: number
    }
  | { readonly id: string; readonly revision: number; readonly deleted: true }

/** A rule as the evaluator and the sender see it (with its owner and secret). */
export interface StoredRule extends AlertRule {
  readonly consumer: string
  readonly secret: string | null
  readonly createdAtMs: number
  readonly revision: number
}

/** A firing whose webhook attempt is due. */
export interface DueDelivery {
  readonly deliveryId: string
  readonly rule: StoredRule
  readonly body: string
  readonly attempts: number
  readonly firedAt: number
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

/** An attempt as it travels on the alert deliveries topic: with its alert, see applyAttempt. */
export interface AttemptMessage extends AttemptRecord {
  readonly body: string
  readonly firedAt: number
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
  revision: r.revision,
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

// The failure count is the leader's: a change that keeps `enabled` as it is (a rename on
// another node, this node's own change read back) keeps the local count; enabling or disabling
// brings the writer's (0 on re-enabling, the count that disabled it).
const UPSERT_RULE = `INSERT INTO alert_rules (id, consumer, name, condition, webhook_url,
     webhook_secret, enabled, disabled_reason, consecutive_failures, created_at, updated_at,
     revision, shared)
   VALUES ($id, $consumer, $name, $condition, $url, $secret, $enabled, $reason, $failures,
     $created, $updated, $revision, $shared)
   ON CONFLICT (id) DO UPDATE SET name = excluded.name, condition = excluded.condition,
     webhook_url = excluded.webhook_url, webhook_secret = excluded.webhook_secret,
     consecutive_failures = CASE WHEN alert_rules.enabled = excluded.enabled
       THEN alert_rules.consecutive_failures ELSE excluded.consecutive_failures END,
     enabled = excluded.enabled, disabled_reason = excluded.disabled_reason,
     updated_at = excluded.updated_at, revision = excluded.revision, shared = excluded.shared`

function ruleStatements(sqlite: Database) {
  const byId = sqlite.query<RuleRow, [string]>('SELECT * FROM alert_rules WHERE id = ?')
  const byConsumer = sqlite.query<RuleRow, [string]>(
    'SELECT * FROM alert_rules WHERE consumer = ? ORDER BY created_at, id'
  )
  const enabled = sqlite.query<RuleRow, []>('SELECT * FROM alert_rules WHERE enabled = 1')
  const unshared = sqlite.query<RuleRow, []>('SELECT * FROM alert_rules WHERE shared = 0')
  const upsert = sqlite.query(UPSERT_RULE)
  const remove = sqlite.query('DELETE FROM alert_rules WHERE id = ?')
  const deletedAt = sqlite.query<{ revision: number }, [string]>(
    'SELECT revision FROM alert_rules_deleted WHERE id = ?'
  )
  const markDeleted = sqlite.query(
    'INSERT INTO alert_rules_deleted (id, revision) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET revision = MAX(revision, ?2)'
  )
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
  return {
    rule: (id: string) => {
      const row = byId.get(id)
      return row ? toRule(row) : undefined
    },
    rulesOf: (consumer: string) => byConsumer.all(consumer).map(toRule),
    enabledRules: () => enabled.all().map(toRule),
    /** Rules this node made while it was alone, not yet on the rules topic. */
    unsharedRules: () => unshared.all().map(toRule),
    /**
     * Applies one rule change, made here or read from the rules topic; false when it changed
     * nothing. Every node applies the topic in its one order, so all end in the same state; the
     * revision only keeps a node from going back to an older state of its own (its create read
     * back after its own patch), never decides between two nodes' changes: of two changes made
     * from the same revision, the later on the topic wins everywhere (a fresh node, which sees
     * only what compaction kept, agrees).
     */
    applyRule: sqlite.transaction((r: RuleRecord, shared: boolean): boolean => {
      const known = byId.get(r.id)?.revision ?? deletedAt.get(r.id)?.revision ?? 0
      if (known > r.revision) return false
      if (r.deleted) {
        markDeleted.run(r.id, r.revision)
        return remove.run(r.id).changes > 0
      }
      upsert.run({
        id: r.id,
        consumer: r.consumer,
        name: r.name,
        condition: JSON.stringify(r.condition),
        url: r.webhook_url,
        secret: r.webhook_secret,
        enabled: r.enabled ? 1 : 0,
        reason: r.disabled_reason,
        failures: r.consecutive_failures,
        created: r.created_at,
        updated: r.updated_at,
        revision: r.revision,
        shared: shared ? 1 : 0,
      })
      if (r.webhook_url === null) settle.run(r.id)
      return true
    }),
    /** One more failed attempt in a row; the new count (0 when the rule is gone). */
    ruleFailed: (id: string) => failed.get(id)?.consecutive_failures ?? 0,
    ruleSucceeded: (id: string) => void succeeded.run(id),
  }
}

function firingStatements(sqlite: Database) {
  const insert = sqlite.query(
    `INSERT INTO alert_firings (delivery_id, rule_id, body, fired_at, state, next_attempt_at)
     VALUES ($id, $rule, $body, $at, $state, $next) ON CONFLICT (delivery_id) DO NOTHING`
  )
  const due = sqlite.query<
    RuleRow & { delivery_id: string; body: string; attempts: number; fired_at: number },
    [number, number]
  >(
    `SELECT r.*, f.delivery_id, f.body, f.attempts, f.fired_at FROM alert_firings f
     JOIN alert_rules r ON r.id = f.rule_id
     WHERE f.state = 'pending' AND f.next_attempt_at <= ? AND r.enabled = 1
       AND r.webhook_url IS NOT NULL
     ORDER BY f.next_attempt_at LIMIT ?`
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
        firedAt: row.fired_at,
        rule: toRule(row),
      }))
    },
    ...attemptStatements(sqlite, insert),
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

/** Webhook attempts: recorded once per delivery and attempt, here or read from the deliveries topic. */
function attemptStatements(sqlite: Database, insertFiring: ReturnType<Database['query']>) {
  const attempt = sqlite.query(
    `INSERT INTO alert_attempts (delivery_id, rule_id, attempt, attempted_at, outcome, status_code,
       error, latency_ms, next_attempt_at)
     VALUES ($deliveryId, $ruleId, $attempt, $at, $outcome, $statusCode, $error, $latencyMs,
       $nextAttemptAt) ON CONFLICT (delivery_id, attempt) DO NOTHING`
  )
  const ruleExists = sqlite.query<{ id: string }, [string]>(
    'SELECT id FROM alert_rules WHERE id = ?'
  )
  const advance = sqlite.query(
    // Not delivered and no retry planned (the rule was just disabled): due again at once if the
    // rule is re-enabled.
    `UPDATE alert_firings SET attempts = $attempt,
       next_attempt_at = CASE WHEN $delivered THEN NULL ELSE COALESCE($next, $at) END,
       state = CASE WHEN $delivered THEN 'done' ELSE 'pending' END WHERE delivery_id = $id`
  )
  /**
   * One attempt: its log row and the firing's next state, in one transaction; false (and nothing
   * changed) when this attempt of this delivery was recorded before.
   */
  const recordAttempt = sqlite.transaction((a: AttemptRecord): boolean => {
    const { body: _b, firedAt: _f, ...row } = a as Partial<AttemptMessage> & AttemptRecord
    if (attempt.run(row).changes === 0) return false
    advance.run({
      id: a.deliveryId,
      attempt: a.attempt,
      at: a.at,
      next: a.nextAttemptAt,
      delivered: a.outcome === 'delivered' ? 1 : 0,
    })
    return true
  })
  return {
    recordAttempt,
    /**
     * An attempt the leader made, read from the deliveries topic: logged here too, and its firing
     * (recorded from the message's alert if this node's own evaluation has not got there yet)
     * advanced, so this node resumes exactly the pending retries when it becomes the leader.
     * False when its rule is gone here or the attempt was recorded before.
     */
    applyAttempt: sqlite.transaction((m: AttemptMessage): boolean => {
      if (!ruleExists.get(m.ruleId)) return false
      insertFiring.run({
        id: m.deliveryId,
        rule: m.ruleId,
        body: m.body,
        at: m.firedAt,
        state: 'pending',
        next: m.at,
      })
      return recordAttempt(m)
    }),
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
