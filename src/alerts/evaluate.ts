import {
  type Alert,
  type AlertCondition,
  type RegionPriceEvent,
  regionCurtailmentMw,
} from '@/canonical'
import { toUtcIso, uuidV5 } from '@/lib'

/** Namespace of alert delivery ids (UUIDv5). Changing it changes every id: never do. */
const DELIVERY_ID_NAMESPACE = '6a0e7c1d-93b4-4f0e-8d2a-5b7f1e2c9a30'

/**
 * A rule fires for intervals ending at most this long before it was created, so a new rule sees
 * the interval going on, while a backfill or a projection rebuild (old intervals arriving now)
 * does not fire years of history.
 */
export const LOOKBACK_MS = 15 * 60 * 1000

export interface RuleView {
  readonly id: string
  readonly name: string
  readonly condition: AlertCondition
  readonly createdAtMs: number
}

/**
 * The delivery id of a firing: the rule, its condition kind and the subject (region and interval,
 * or source and its newest data). Evaluating the same data again (a redelivered batch, a restart,
 * a NOT FIRM price replaced by its FIRM row) gives the same id, so it is stored and sent once, and
 * a receiver that sees it twice (a retry whose answer was lost) can tell.
 */
export const deliveryIdFor = (ruleId: string, kind: string, subject: string): string =>
  uuidV5(`${ruleId}|${kind}|${subject}`, DELIVERY_ID_NAMESPACE)

const fmt = (n: number) => String(Math.round(n * 100) / 100)

/** What a price event makes a rule say, or undefined when the rule does not fire. */
function priceFiring(
  c: AlertCondition,
  e: RegionPriceEvent
): { value: number | null; threshold: number | null; message: string } | undefined {
  // Built only when the rule fires: this runs for every price event and every rule.
  const price = () => `${e.region_id} ${fmt(e.rrp_aud_mwh)} AUD/MWh at ${e.interval_end}`
  switch (c.kind) {
    case 'price_above':
      return e.rrp_aud_mwh > c.threshold_aud_mwh
        ? {
            value: e.rrp_aud_mwh,
            threshold: c.threshold_aud_mwh,
            message: `${price()} is above ${fmt(c.threshold_aud_mwh)}`,
          }
        : undefined
    case 'price_below':
      return e.rrp_aud_mwh < c.threshold_aud_mwh
        ? {
            value: e.rrp_aud_mwh,
            threshold: c.threshold_aud_mwh,
            message: `${price()} is below ${fmt(c.threshold_aud_mwh)}`,
          }
        : undefined
    case 'negative_price':
      return e.rrp_aud_mwh < 0
        ? { value: e.rrp_aud_mwh, threshold: 0, message: `${price()} is negative` }
        : undefined
    case 'price_not_firm':
      // Absent (null) is an older table version without the column: unknown, not "not firm".
      return e.price_status !== null && e.price_status !== 'FIRM'
        ? { value: e.rrp_aud_mwh, threshold: null, message: `${price()} is ${e.price_status}` }
        : undefined
    case 'curtailment_above': {
      const mw = regionCurtailmentMw(e).total
      return mw !== null && mw > c.threshold_mw
        ? {
            value: mw,
            threshold: c.threshold_mw,
            message: `${e.region_id} curtailment ${fmt(mw)} MW at ${e.interval_end} is above ${fmt(c.threshold_mw)} MW`,
          }
        : undefined
    }
    case 'source_stale':
      return undefined
  }
}

/** The alert a price event fires for a rule, if any. `now`: when it is evaluated (epoch ms). */
export function evaluatePrice(rule: RuleView, e: RegionPriceEvent, now: number): Alert | undefined {
  const c = rule.condition
  if (c.kind === 'source_stale') return undefined
  if (c.region_id !== undefined && c.region_id !== e.region_id) return undefined
  if (Date.parse(e.interval_end) < rule.createdAtMs - LOOKBACK_MS) return undefined
  const hit = priceFiring(c, e)
  if (!hit) return undefined
  return {
    delivery_id: deliveryIdFor(rule.id, c.kind, `${e.region_id}|${e.interval_end}`),
    rule_id: rule.id,
    rule_name: rule.name,
    kind: c.kind,
    fired_at: toUtcIso(now),
    region_id: e.region_id,
    interval_end: e.interval_end,
    source: null,
    price_status: e.price_status,
    ...hit,
  }
}

/**
 * The alert a stale source fires, if any. `newest`: the source's newest data time in the
 * projection (as /api/v1/sources `last_interval`), null when it has none; with none, the rule's
 * creation is the start of the wait. One alert per stale episode: the episode is named by the
 * newest data it is stale after, so new data ends it and a later silence is a new one.
 */
export function evaluateStale(
  rule: RuleView,
  newest: string | null,
  now: number
): Alert | undefined {
  const c = rule.condition
  if (c.kind !== 'source_stale') return undefined
  const since = newest === null ? rule.createdAtMs : Date.parse(newest)
  const ageMinutes = (now - since) / 60_000
  if (ageMinutes <= c.minutes) return undefined
  return {
    delivery_id: deliveryIdFor(rule.id, c.kind, `${c.source}|${newest ?? 'none'}`),
    rule_id: rule.id,
    rule_name: rule.name,
    kind: c.kind,
    fired_at: toUtcIso(now),
    region_id: null,
    interval_end: null,
    source: c.source,
    value: Math.floor(ageMinutes),
    threshold: c.minutes,
    price_status: null,
    message:
      newest === null
        ? `${c.source} has had no data for ${Math.floor(ageMinutes)} minutes`
        : `${c.source} newest data (${newest}) is ${Math.floor(ageMinutes)} minutes old`,
  }
}
