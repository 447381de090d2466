import { randomUUID } from 'node:crypto'
import type {
  Alert,
  AlertDelivery,
  AlertRule,
  AlertRuleInput,
  AlertRulePatch,
  GridEvent,
} from '@/canonical'
import { DomainError } from '@/lib'
import type { Logger } from '@/observability'
import { type Allowlist, createAllowlist } from './allowlist'
import { startDeliveryWorker } from './deliver'
import { evaluatePrice, evaluateStale } from './evaluate'
import { newWebhookSecret } from './signing'
import {
  type AlertStore,
  type AttemptMessage,
  openAlertStore,
  type RuleRecord,
  type StoredRule,
} from './store'

/** A control topic as the alerts see it (the node binds it to the bus); records are JSON. */
export interface ControlChannel {
  append(records: readonly { key: string; value: string }[]): Promise<void>
  follow(onRecords: (records: readonly { key: string; value: string }[]) => void): {
    stop(): Promise<void>
  }
}

/**
 * Kafka mode: where rule changes (compacted, keyed by rule id) and webhook attempts (7 days,
 * keyed by delivery id) are shared, so every node holds every rule and the leader's delivery log.
 */
export interface AlertSharing {
  readonly rules: ControlChannel
  readonly deliveries: ControlChannel
}

export interface AlertServiceOptions {
  /** alerts.sqlite (DATA_DIR), or `:memory:`. */
  readonly path: string
  /** ALERT_WEBHOOK_ALLOWLIST entries. */
  readonly allowlist: readonly string[]
  readonly log: Logger
  readonly now?: () => number
  readonly timeoutMs: number
  readonly retryInitialMs: number
  readonly retryMaxMs: number
  readonly disableAfter: number
  /** Rules one consumer may have (ALERT_MAX_RULES_PER_CONSUMER; default MAX_RULES_PER_CONSUMER). */
  readonly maxRulesPerConsumer?: number
  /** Newest data time per source (ISO-8601 UTC), as /api/v1/sources `last_interval`. */
  readonly newestData: () => ReadonlyMap<string, string>
  /** How often stale-source rules are looked at, ms. */
  readonly staleCheckMs?: number
  /** Metrics hooks: alerts fired, webhook attempts by outcome, rules disabled. */
  readonly onFired?: (kind: string) => void
  readonly onAttempt?: (outcome: AlertDelivery['outcome'], seconds: number) => void
  /** The number of undelivered alerts may have changed (a firing, an attempt, here or shared). */
  readonly onPending?: () => void
  readonly onDisabled?: () => void
  readonly resolve?: (host: string) => Promise<readonly string[]>
  /** Kafka mode only; absent, this node is the only one and writes alerts.sqlite alone. */
  readonly sharing?: AlertSharing
  /** Whether this node sends webhooks now (the bus's leader; always, on one node). */
  readonly isLeader?: () => boolean
}

/**
 * Rules one consumer may have: every rule is evaluated against every price event, so the number
 * is bounded (100 rules cost the projection less than run-to-run noise: `bun run bench alerts`).
 */
export const MAX_RULES_PER_CONSUMER = 100

/** How long settled firings and delivery log rows are kept (the README says 30 days). */
const KEEP_MS = 30 * 24 * 3600 * 1000

/** A fired alert with the consumer it belongs to: the live stream shows it to that consumer only. */
export interface FiredAlert {
  readonly consumer: string
  readonly alert: Alert
}

/** Why a rule cannot be created or changed as asked: the API answers 422 `webhook_not_allowed`. */
const refused = (detail: string) => new DomainError('webhook_not_allowed', detail)

/** What the API needs of the alerts: a consumer's own rules and their delivery log. */
export interface AlertsPort {
  create(
    consumer: string,
    input: AlertRuleInput
  ): Promise<{ rule: AlertRule; webhook_secret: string }>
  list(consumer: string): AlertRule[]
  /** Undefined when it does not exist or belongs to another consumer (both answer 404). */
  get(consumer: string, id: string): AlertRule | undefined
  update(consumer: string, id: string, patch: AlertRulePatch): Promise<AlertRule | undefined>
  remove(consumer: string, id: string): Promise<boolean>
  deliveries(consumer: string, id: string, limit: number): AlertDelivery[] | undefined
}

const publicRule = ({
  consumer: _c,
  secret: _s,
  createdAtMs: _t,
  revision: _r,
  ...rule
}: StoredRule): AlertRule => rule

/** The record of a rule's next state: its current one with `changes`, one revision on. */
const nextRecord = (
  rule: StoredRule,
  at: number,
  changes: Partial<Extract<RuleRecord, { deleted?: false }>>
): RuleRecord => ({
  id: rule.id,
  consumer: rule.consumer,
  name: rule.name,
  condition: rule.condition,
  webhook_url: rule.webhook_url,
  webhook_secret: rule.secret,
  enabled: rule.enabled,
  disabled_reason: rule.disabled_reason,
  consecutive_failures: rule.consecutive_failures,
  created_at: rule.createdAtMs,
  ...changes,
  updated_at: at,
  revision: rule.revision + 1,
})

/**
 * Alert rules, their evaluation and their delivery. Rules and firings live in alerts.sqlite (they
 * survive restarts and projection rebuilds). Price rules are evaluated over each batch the
 * projection commits (`evaluate`), stale-source rules on a timer; a firing is stored under its
 * stable delivery id first, so evaluating the same data again never fires twice.
 *
 * Several nodes (Kafka mode, `sharing`): every rule change goes on the compacted rules topic and
 * every node applies that topic to its alerts.sqlite, so any node answers for any rule and the
 * rules outlive the node they were made on. Every node evaluates (its consumers' live streams get
 * `event: alert` wherever they are connected, and it holds the firings a new leader must send),
 * but only the leader sends webhooks; its attempts go on the deliveries topic, which settles the
 * same firings everywhere and gives every node the delivery log.
 */
export function createAlertService(o: AlertServiceOptions) {
  const now = o.now ?? Date.now
  const store = openAlertStore(o.path)
  const allowlist: Allowlist = createAllowlist(o.allowlist, o.resolve)
  const listeners = new Set<(fired: FiredAlert) => void>()
  let rules: StoredRule[] | undefined // enabled rules, re-read after every change
  const changed = () => void (rules = undefined)
  const { writeRule, disable, shareLocal } = createRuleWriter(store, o, now, changed)
  shareLocal().catch((error) => o.log.error({ err: error }, 'could not share the local rules'))
  const isLeader = o.isLeader ?? (() => true)
  const worker = startDeliveryWorker({
    ...o,
    store,
    allowlist,
    now,
    isLeader,
    disable,
    onRecorded: (attempt) => shareAttempt(o, attempt),
  })
  const followers = followShared(store, o, changed)

  const fire = (rule: StoredRule, alert: Alert) => {
    if (!store.insertFiring(alert, rule.webhook_url !== null, now())) return
    // Counted where it is sent: every node fires, and the dashboard sums the nodes.
    if (isLeader()) o.onFired?.(alert.kind)
    o.onPending?.()
    for (const listener of listeners) listener({ consumer: rule.consumer, alert })
    if (rule.webhook_url) worker.wake()
  }
  const enabled = () => (rules ??= store.enabledRules())
  const checkStale = () => {
    const stale = enabled().filter((r) => r.condition.kind === 'source_stale')
    if (stale.length === 0) return
    const newest = o.newestData()
    for (const rule of stale) {
      const c = rule.condition as { source: string }
      const alert = evaluateStale(rule, newest.get(c.source) ?? null, now())
      if (alert) fire(rule, alert)
    }
  }
  const staleTimer = setInterval(() => {
    try {
      checkStale()
      store.prune(now() - KEEP_MS)
    } catch (error) {
      o.log.error({ err: error }, 'stale-source alert check failed')
    }
  }, o.staleCheckMs ?? 30_000)
  const maxRules = o.maxRulesPerConsumer ?? MAX_RULES_PER_CONSUMER
  const port = createPort({ store, allowlist, now, writeRule, checkStale, maxRules })

  return {
    ...port,
    /** Evaluates the price rules over the events of one committed projection batch. */
    evaluate(events: readonly GridEvent[]) {
      const active = enabled()
      if (active.length === 0) return
      for (const event of events) {
        if (event.event_type !== 'RegionPriceEvent') continue
        for (const rule of active) {
          const alert = evaluatePrice(rule, event, now())
          if (alert) fire(rule, alert)
        }
      }
    },
    /** Every alert fired from now on, with its owner (for the live stream). */
    subscribe(listener: (fired: FiredAlert) => void): () => void {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    pendingDeliveries: () => store.pendingCount(),
    async close() {
      clearInterval(staleTimer)
      await Promise.allSettled(followers.map((f) => f.stop()))
      await worker.stop()
      store.close()
    },
  }
}
export type AlertService = ReturnType<typeof createAlertService>

/**
 * Makes one rule change: on the rules topic first (the outbox: durable at once, so a change
 * accepted here reaches every node even if this process dies next), then in this node's
 * alerts.sqlite, so the node that accepted a write reads it back at once. Another node sees it
 * once it has read the record (normally well under a second; while Kafka is unreachable, not
 * until it is back). One node (no sharing): alerts.sqlite only.
 */
function createRuleWriter(
  store: AlertStore,
  o: AlertServiceOptions,
  now: () => number,
  changed: () => void
) {
  const writeRule = async (record: RuleRecord) => {
    await o.sharing?.rules.append([{ key: record.id, value: JSON.stringify(record) }])
    if (store.applyRule(record, o.sharing !== undefined)) changed()
  }
  return {
    writeRule,
    /**
     * Rules made while this node ran alone (embedded mode, or before rules were shared) go on the
     * topic once, one revision on: nobody else can have a newer state of a rule never shared.
     */
    async shareLocal() {
      if (!o.sharing) return
      for (const rule of store.unsharedRules()) await writeRule(nextRecord(rule, now(), {}))
    },
    /** The leader's auto-disable: a rule change like any other, so every node disables it. */
    async disable(id: string, reason: string) {
      const rule = store.rule(id)
      if (!rule?.enabled) return false
      await writeRule(nextRecord(rule, now(), { enabled: false, disabled_reason: reason }))
      return true
    },
  }
}

/** The leader's attempt, for the other nodes; a full outbox loses only their copy of the log. */
function shareAttempt(o: AlertServiceOptions, attempt: AttemptMessage) {
  o.sharing?.deliveries
    .append([{ key: attempt.deliveryId, value: JSON.stringify(attempt) }])
    .catch((error) => o.log.warn({ err: error }, 'could not share a webhook attempt'))
}

/** Applies what the other nodes (and this one, read back: a no-op) wrote to the alert topics. */
function followShared(store: AlertStore, o: AlertServiceOptions, changed: () => void) {
  if (!o.sharing) return []
  const each =
    <T>(what: string, valid: (v: T) => boolean, apply: (v: T) => void) =>
    (records: readonly { key: string; value: string }[]) => {
      for (const { key, value } of records) {
        try {
          const parsed = JSON.parse(value) as T
          if (!valid(parsed)) throw new Error('not a record of this topic')
          apply(parsed)
        } catch (error) {
          // Never stops the topic: one unreadable record must not keep every later change out.
          o.log.warn({ err: error, key }, `unreadable ${what} record skipped`)
        }
      }
    }
  return [
    o.sharing.rules.follow(
      each<RuleRecord>(
        'alert rule',
        (r) => typeof r?.id === 'string' && typeof r.revision === 'number',
        (r) => {
          if (store.applyRule(r, true)) changed()
        }
      )
    ),
    o.sharing.deliveries.follow(
      each<AttemptMessage>(
        'alert delivery',
        (m) => typeof m?.deliveryId === 'string' && typeof m.attempt === 'number',
        (m) => {
          if (!store.applyAttempt(m)) return
          if (m.outcome === 'delivered') store.ruleSucceeded(m.ruleId)
          else store.ruleFailed(m.ruleId)
          o.onPending?.()
        }
      )
    ),
  ]
}

interface PortDeps {
  readonly store: AlertStore
  readonly allowlist: Allowlist
  readonly now: () => number
  readonly writeRule: (record: RuleRecord) => Promise<void>
  readonly checkStale: () => void
  readonly maxRules: number
}

function createPort(deps: PortDeps): AlertsPort {
  const { store, allowlist, now, writeRule, checkStale, maxRules } = deps
  const own = (consumer: string, id: string) => {
    const rule = store.rule(id)
    return rule && rule.consumer === consumer ? rule : undefined
  }
  const allowed = async (url: string | null | undefined) => {
    const denied = url ? await allowlist.check(url) : undefined
    if (denied) throw refused(`webhook_url refused: ${denied}`)
  }
  return {
    async create(consumer, input) {
      if (store.rulesOf(consumer).length >= maxRules)
        throw new DomainError(
          'alert_rule_limit',
          `${consumer} has ${maxRules} alert rules already; delete one first`
        )
      await allowed(input.webhook_url)
      const id = randomUUID()
      // Always made, and shown now: a webhook added later by PATCH signs with it too.
      const secret = newWebhookSecret()
      const at = now()
      await writeRule({
        id,
        revision: 1,
        consumer,
        name: input.name ?? input.condition.kind,
        condition: input.condition,
        webhook_url: input.webhook_url ?? null,
        webhook_secret: secret,
        enabled: true,
        disabled_reason: null,
        consecutive_failures: 0,
        created_at: at,
        updated_at: at,
      })
      // A stale source fires at once instead of at the next timer tick.
      checkStale()
      return { rule: publicRule(store.rule(id)!), webhook_secret: secret }
    },
    list: (consumer) => store.rulesOf(consumer).map(publicRule),
    get(consumer, id) {
      const rule = own(consumer, id)
      return rule && publicRule(rule)
    },
    async update(consumer, id, patch) {
      const rule = own(consumer, id)
      if (!rule) return undefined
      await allowed(patch.webhook_url)
      const enabled = patch.enabled ?? rule.enabled
      await writeRule(
        nextRecord(rule, now(), {
          name: patch.name ?? rule.name,
          webhook_url: patch.webhook_url === undefined ? rule.webhook_url : patch.webhook_url,
          enabled,
          disabled_reason: enabled ? null : (rule.disabled_reason ?? 'disabled by its consumer'),
          // Re-enabling starts the failure count again.
          consecutive_failures: enabled && !rule.enabled ? 0 : rule.consecutive_failures,
        })
      )
      // Undefined only if a change from another node deleted it in between.
      const after = store.rule(id)
      return after && publicRule(after)
    },
    async remove(consumer, id) {
      const rule = own(consumer, id)
      if (!rule) return false
      await writeRule({ id, deleted: true, revision: rule.revision + 1 })
      return true
    },
    deliveries(consumer, id, limit) {
      return own(consumer, id) ? store.deliveries(id, limit) : undefined
    },
  }
}
