import { z } from 'zod'
import { SourceNameSchema, UtcInstantSchema } from './envelope'
import { MW, PRICE } from './quantities'
import { RegionIdSchema } from './region'

// Alert rules and the alerts they fire: what a consumer POSTs to /api/v1/alerts, what the API
// answers, what a webhook receives and what the live stream carries as `event: alert`.

const region = RegionIdSchema.optional().describe('Only this region; every region when absent')

/** The condition of a rule, by `kind`. Prices are AUD/MWh, curtailment MW, staleness minutes. */
export const AlertConditionSchema = z
  .discriminatedUnion('kind', [
    z
      .object({
        kind: z.literal('price_above'),
        region_id: region,
        threshold_aud_mwh: PRICE.describe('Fires when the price is above this, AUD/MWh'),
      })
      .strict(),
    z
      .object({
        kind: z.literal('price_below'),
        region_id: region,
        threshold_aud_mwh: PRICE.describe('Fires when the price is below this, AUD/MWh'),
      })
      .strict(),
    z.object({ kind: z.literal('price_not_firm'), region_id: region }).strict(),
    z.object({ kind: z.literal('negative_price'), region_id: region }).strict(),
    z
      .object({
        kind: z.literal('source_stale'),
        source: SourceNameSchema.exclude(['api']).describe('The source to watch'),
        minutes: z
          .number()
          .int()
          .min(1)
          .max(10_080)
          .describe('Fires when its newest data is older than this, minutes (1 to 7 days)'),
      })
      .strict(),
    z
      .object({
        kind: z.literal('curtailment_above'),
        region_id: region,
        threshold_mw: MW.min(0).describe(
          'Fires when solar plus wind curtailment (as /api/v1/curtailment `curtailment_mw`) is above this, MW'
        ),
      })
      .strict(),
  ])
  .describe('What fires the rule')
export type AlertCondition = z.infer<typeof AlertConditionSchema>
export type AlertKind = AlertCondition['kind']

const WebhookUrlSchema = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .describe(
    'POSTed a signed JSON alert (see the README, "Alert webhooks"); the host must be on the operator allowlist'
  )

export const AlertRuleInputSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe('A label for people; defaults to the kind'),
    condition: AlertConditionSchema,
    webhook_url: WebhookUrlSchema.nullable().optional(),
  })
  .strict()
export type AlertRuleInput = z.infer<typeof AlertRuleInputSchema>

export const AlertRulePatchSchema = z
  .object({
    name: z.string().min(1).max(100).optional(),
    enabled: z
      .boolean()
      .optional()
      .describe('true re-enables a rule (also one disabled after failed deliveries)'),
    webhook_url: WebhookUrlSchema.nullable().optional(),
  })
  .strict()
export type AlertRulePatch = z.infer<typeof AlertRulePatchSchema>

export const AlertRuleSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  condition: AlertConditionSchema,
  webhook_url: z.string().nullable(),
  enabled: z.boolean(),
  disabled_reason: z
    .string()
    .nullable()
    .describe('Why the rule stopped (consecutive webhook failures); null while enabled'),
  consecutive_failures: z.number().int().describe('Webhook attempts failed in a row'),
  created_at: UtcInstantSchema,
  updated_at: UtcInstantSchema,
})
export type AlertRule = z.infer<typeof AlertRuleSchema>

/** One firing of a rule: the webhook body and the data of the stream's `event: alert`. */
export const AlertSchema = z.object({
  delivery_id: z
    .uuid()
    .describe(
      'Stable id of this firing (rule, subject, condition): a re-evaluation produces the same id, so receivers deduplicate on it'
    ),
  rule_id: z.uuid(),
  rule_name: z.string(),
  kind: z.enum([
    'price_above',
    'price_below',
    'price_not_firm',
    'negative_price',
    'source_stale',
    'curtailment_above',
  ]),
  fired_at: UtcInstantSchema,
  region_id: RegionIdSchema.nullable(),
  interval_end: UtcInstantSchema.nullable().describe('The interval that fired it (price rules)'),
  source: z.string().nullable().describe('The stale source (source_stale)'),
  value: z
    .number()
    .nullable()
    .describe('Price AUD/MWh, curtailment MW, or age of the newest data in minutes'),
  threshold: z.number().nullable(),
  price_status: z.string().nullable(),
  message: z.string(),
})
export type Alert = z.infer<typeof AlertSchema>

export const AlertDeliverySchema = z.object({
  delivery_id: z.uuid(),
  attempt: z.number().int().min(1),
  attempted_at: UtcInstantSchema,
  outcome: z
    .enum(['delivered', 'failed', 'refused'])
    .describe('refused: the target was not allowed when sending (allowlist, resolved address)'),
  status_code: z.number().int().nullable(),
  error: z.string().nullable(),
  latency_ms: z.number().nullable(),
  next_attempt_at: UtcInstantSchema.nullable().describe('When it is retried; null when it is not'),
})
export type AlertDelivery = z.infer<typeof AlertDeliverySchema>
