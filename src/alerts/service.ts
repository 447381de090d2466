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
import { openAlertStore, type StoredRule } from './store'

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
  /** Newest data time per source (ISO-8601 UTC), as /api/v1/sources `last_interval`. */
  readonly newestData: () => ReadonlyMap<string, string>
  /** How often stale-source rules are looked at, ms. */
  readonly staleCheckMs?: number
  /** Metrics hooks: alerts fired, webhook attempts by outcome, rules disabled. */
  readonly onFired?: (kind: string) => void
  readonly onAttempt?: (outcome: AlertDelivery['outcome'], seconds: number) => void
  readonly onDisabled?: () => void
  readonly resolve?: (host: string) => Promise<readonly string[]>
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
  remove(consumer: string, id: string): boolean
  deliveries(consumer: string, id: string, limit: number): AlertDelivery[] | undefined
}

const publicRule = ({
  consumer: _c,
  secret: _s,
  createdAtMs: _t,
  ...rule
}: StoredRule): AlertRule => rule

/**
 * Alert rules, their evaluation and their delivery. Rules and firings live in alerts.sqlite (they
 * survive restarts and projection rebuilds). Price rules are evaluated over each batch the
 * projection commits (`evaluate`), stale-source rules on a timer; a firing is stored under its
 * stable delivery id first, so evaluating the same data again never fires twice.
 */
export function createAlertService(o: AlertServiceOptions) {
  const now = o.now ?? Date.now
  const store = openAlertStore(o.path)
  const allowlist: Allowlist = createAllowlist(o.allowlist, o.resolve)
  const listeners = new Set<(fired: FiredAlert) => void>()
  const worker = startDeliveryWorker({ ...o, store, allowlist, now })
  let rules: StoredRule[] | undefined // enabled rules, re-read after every change

  const fire = (rule: StoredRule, alert: Alert) => {
    if (!store.insertFiring(alert, rule.webhook_url !== null, now())) return
    o.onFired?.(alert.kind)
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
  const changed = () => {
    rules = undefined
  }
  const port = createPort(store, allowlist, now, changed, checkStale)

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
      await worker.stop()
      store.close()
    },
  }
}
export type AlertService = ReturnType<typeof createAlertService>

function createPort(
  store: ReturnType<typeof openAlertStore>,
  allowlist: Allowlist,
  now: () => number,
  changed: () => void,
  checkStale: () => void
): AlertsPort {
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
      if (store.rulesOf(consumer).length >= MAX_RULES_PER_CONSUMER)
        throw new DomainError(
          'alert_rule_limit',
          `${consumer} has ${MAX_RULES_PER_CONSUMER} alert rules already; delete one first`
        )
      await allowed(input.webhook_url)
      const id = randomUUID()
      // Always made, and shown now: a webhook added later by PATCH signs with it too.
      const secret = newWebhookSecret()
      const name = input.name ?? input.condition.kind
      const url = input.webhook_url ?? null
      store.insertRule({ id, consumer, name, condition: input.condition, url, secret, now: now() })
      changed()
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
      const url = patch.webhook_url === undefined ? rule.webhook_url : patch.webhook_url
      const enabled = patch.enabled ?? rule.enabled
      // Re-enabling starts the failure count again; a first webhook gets its secret here.
      const reenabled = enabled && !rule.enabled
      store.updateRule(id, {
        name: patch.name ?? rule.name,
        url,
        secret: rule.secret,
        enabled,
        reason: enabled ? null : (rule.disabled_reason ?? 'disabled by its consumer'),
        failures: reenabled ? 0 : rule.consecutive_failures,
        now: now(),
      })
      changed()
      return publicRule(store.rule(id)!)
    },
    remove(consumer, id) {
      if (!own(consumer, id)) return false
      changed()
      return store.deleteRule(id)
    },
    deliveries(consumer, id, limit) {
      return own(consumer, id) ? store.deliveries(id, limit) : undefined
    },
  }
}
