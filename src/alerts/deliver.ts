import type { Logger } from '@/observability'
import type { Allowlist } from './allowlist'
import { ATTEMPT_HEADER, DELIVERY_HEADER, SIGNATURE_HEADER, signatureHeader } from './signing'
import type { AlertStore, AttemptMessage, AttemptRecord, DueDelivery } from './store'

export interface DeliveryOptions {
  readonly store: AlertStore
  readonly allowlist: Allowlist
  readonly log: Logger
  readonly now: () => number
  /** Per-attempt timeout, ms (ALERT_WEBHOOK_TIMEOUT_MS). */
  readonly timeoutMs: number
  /** First retry delay and its cap, ms (ALERT_RETRY_INITIAL_MS, ALERT_RETRY_MAX_MS). */
  readonly retryInitialMs: number
  readonly retryMaxMs: number
  /** Failed attempts in a row that disable a rule (ALERT_DISABLE_AFTER_FAILURES). */
  readonly disableAfter: number
  /** Only the leader sends (in Kafka mode; always true on one node). */
  readonly isLeader: () => boolean
  /** Disables an enabled rule (a rule change like any other); false when it already was. */
  readonly disable: (ruleId: string, reason: string) => Promise<boolean>
  /** An attempt was recorded here: the service shares it with the other nodes. */
  readonly onRecorded?: (attempt: AttemptMessage) => void
  readonly onAttempt?: (outcome: AttemptRecord['outcome'], seconds: number) => void
  readonly onDisabled?: (ruleId: string) => void
  readonly random?: () => number
}

/** Deliveries sent at once per pass: a slow receiver holds up at most this many slots. */
const PARALLEL = 8
const IDLE_POLL_MS = 500

/**
 * Retry delay before attempt `attempt + 1`: doubling from the initial delay up to the cap, with
 * "equal jitter" (half fixed, half random) so receivers coming back from an outage are not hit by
 * every retry at once, yet a retry never comes immediately after a failure.
 */
export function retryDelayMs(
  attempt: number,
  initialMs: number,
  maxMs: number,
  random = Math.random
) {
  const cap = Math.min(maxMs, initialMs * 2 ** Math.min(attempt - 1, 30))
  return Math.floor(cap / 2 + (random() * cap) / 2)
}

/** One webhook POST; never throws: every outcome is a delivery log row. */
async function post(d: DueDelivery, o: DeliveryOptions, attempt: number) {
  const url = d.rule.webhook_url!
  const denied = await o.allowlist.check(url)
  if (denied)
    return { outcome: 'refused' as const, statusCode: null, error: denied, latencyMs: null }
  const started = performance.now()
  try {
    const response = await fetch(url, {
      method: 'POST',
      body: d.body,
      // A redirect could lead anywhere the allowlist does not allow: a 3xx is a failed attempt.
      redirect: 'manual',
      signal: AbortSignal.timeout(o.timeoutMs),
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'GridPulse-Webhook/1',
        [SIGNATURE_HEADER]: signatureHeader(
          d.rule.secret ?? '',
          d.body,
          Math.floor(o.now() / 1000)
        ),
        [DELIVERY_HEADER]: d.deliveryId,
        [ATTEMPT_HEADER]: String(attempt),
      },
    })
    await response.body?.cancel().catch(() => {})
    const latencyMs = Math.round((performance.now() - started) * 10) / 10
    const ok = response.status >= 200 && response.status < 300
    return {
      outcome: ok ? ('delivered' as const) : ('failed' as const),
      statusCode: response.status,
      error: ok ? null : `HTTP ${response.status}`,
      latencyMs,
    }
  } catch (error) {
    const latencyMs = Math.round((performance.now() - started) * 10) / 10
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    return { outcome: 'failed' as const, statusCode: null, error: message.slice(0, 500), latencyMs }
  }
}

/** Sends one due delivery and records the attempt, the rule's failure count and its disabling. */
async function deliver(d: DueDelivery, o: DeliveryOptions): Promise<void> {
  const attempt = d.attempts + 1
  const result = await post(d, o, attempt)
  // Deleted while its request was out: nothing left to log the attempt against.
  if (!o.store.rule(d.rule.id)) return
  const at = o.now()
  o.onAttempt?.(result.outcome, (result.latencyMs ?? 0) / 1000)
  let nextAttemptAt: number | null = null
  if (result.outcome === 'delivered') o.store.ruleSucceeded(d.rule.id)
  else {
    const failures = o.store.ruleFailed(d.rule.id)
    if (failures >= o.disableAfter) {
      const reason = `disabled after ${failures} consecutive failed webhook attempts (last: ${result.error})`
      if (await o.disable(d.rule.id, reason)) {
        o.log.warn({ 'alert.rule': d.rule.id, failures }, 'alert rule disabled')
        o.onDisabled?.(d.rule.id)
      }
    } else nextAttemptAt = at + retryDelayMs(attempt, o.retryInitialMs, o.retryMaxMs, o.random)
  }
  const record = {
    deliveryId: d.deliveryId,
    ruleId: d.rule.id,
    attempt,
    at,
    ...result,
    nextAttemptAt,
  }
  if (o.store.recordAttempt(record)) o.onRecorded?.({ ...record, body: d.body, firedAt: d.firedAt })
}

/**
 * The webhook sender: a loop over the firings whose attempt is due (alerts.sqlite, so a restart
 * resumes where the last process stopped), woken when something fires. Stops between passes.
 * Sends only while this node is the leader; a follower's firings are settled by the leader's
 * attempts read from the deliveries topic, so a new leader picks up exactly the pending ones,
 * under the same delivery ids.
 */
export function startDeliveryWorker(o: DeliveryOptions) {
  let timer: ReturnType<typeof setTimeout> | undefined
  let running: Promise<void> | undefined
  let stopped = false
  let again = false
  const pass = async () => {
    for (;;) {
      if (stopped || !o.isLeader()) return
      const due = o.store.due(o.now(), PARALLEL)
      if (due.length === 0) return
      await Promise.all(due.map((d) => deliver(d, o)))
    }
  }
  const run = () => {
    if (stopped) return
    if (running) {
      again = true
      return
    }
    clearTimeout(timer)
    running = pass()
      .catch((error) => o.log.error({ err: error }, 'alert delivery pass failed'))
      .finally(() => {
        running = undefined
        if (again) {
          again = false
          run()
        } else if (!stopped) timer = setTimeout(run, IDLE_POLL_MS)
      })
  }
  run()
  return {
    wake: run,
    async stop() {
      stopped = true
      clearTimeout(timer)
      await running
    },
  }
}
