import { createRoute, z } from '@hono/zod-openapi'
import {
  AlertDeliverySchema,
  AlertSchema,
  AlertRuleInputSchema,
  AlertRulePatchSchema,
  AlertRuleSchema,
} from '@/canonical'
import { component, queryInteger } from '../common'
import { problemResponses } from '../problem'

const Rule = component(AlertRuleSchema, 'AlertRule')
const json = <S extends z.ZodType>(schema: S, description: string) => ({
  description,
  content: { 'application/json': { schema } },
})
const IdParams = z.object({ id: z.uuid().openapi({ description: 'The rule id' }) })
const tags = ['Alerts']
const OWNERSHIP =
  'Rules belong to the consumer (API key) that created them; any other consumer gets 404.'

export const createAlertRule = createRoute({
  operationId: 'createAlertRule',
  method: 'post',
  path: '/api/v1/alerts',
  tags,
  summary:
    'Create an alert rule (price above/below, not FIRM, negative, source stale, curtailment)',
  description:
    `${OWNERSHIP} Alerts are delivered on the live stream (\`event: alert\`) and, when \`webhook_url\` is given, ` +
    'POSTed signed to it (README, "Alert webhooks"). `webhook_secret` is shown in this answer only. ' +
    'A webhook host not allowed by the operator (ALERT_WEBHOOK_ALLOWLIST) answers 422 `webhook_not_allowed`; ' +
    'a consumer has at most ALERT_MAX_RULES_PER_CONSUMER rules (100 unless the operator set it; beyond it 422 `alert_rule_limit`).',
  request: {
    body: {
      required: true,
      content: {
        'application/json': { schema: component(AlertRuleInputSchema, 'AlertRuleInput') },
      },
    },
  },
  responses: {
    201: json(
      z
        .object({
          data: Rule,
          webhook_secret: z
            .string()
            .describe("Signing key of this rule's webhooks; shown once, never again"),
          correlation_id: z.string(),
        })
        .openapi('AlertRuleCreated'),
      'Created'
    ),
    ...problemResponses(400, 413, 415, 422),
  },
})

export const listAlertRules = createRoute({
  operationId: 'listAlertRules',
  method: 'get',
  path: '/api/v1/alerts',
  tags,
  summary: "The calling consumer's alert rules, oldest first",
  responses: {
    200: json(
      z.object({ data: z.array(Rule), correlation_id: z.string() }).openapi('AlertRuleList'),
      'Rules'
    ),
  },
})

export const getAlertRule = createRoute({
  operationId: 'getAlertRule',
  method: 'get',
  path: '/api/v1/alerts/{id}',
  tags,
  summary: 'One alert rule',
  description: OWNERSHIP,
  request: { params: IdParams },
  responses: {
    200: json(z.object({ data: Rule, correlation_id: z.string() }), 'The rule'),
    ...problemResponses(400, 404),
  },
})

export const updateAlertRule = createRoute({
  operationId: 'updateAlertRule',
  method: 'patch',
  path: '/api/v1/alerts/{id}',
  tags,
  summary: 'Rename, enable or disable a rule, or change its webhook',
  description: `${OWNERSHIP} \`enabled: true\` re-enables a rule disabled after failed deliveries and resets its failure count; its pending deliveries resume.`,
  request: {
    params: IdParams,
    body: {
      required: true,
      content: {
        'application/json': { schema: component(AlertRulePatchSchema, 'AlertRulePatch') },
      },
    },
  },
  responses: {
    200: json(z.object({ data: Rule, correlation_id: z.string() }), 'The rule as changed'),
    ...problemResponses(400, 404, 413, 415, 422),
  },
})

export const deleteAlertRule = createRoute({
  operationId: 'deleteAlertRule',
  method: 'delete',
  path: '/api/v1/alerts/{id}',
  tags,
  summary: 'Delete a rule with its pending deliveries and delivery log',
  description: OWNERSHIP,
  request: { params: IdParams },
  responses: {
    204: { description: 'Deleted' },
    ...problemResponses(400, 404),
  },
})

export const listAlertDeliveries = createRoute({
  operationId: 'listAlertDeliveries',
  method: 'get',
  path: '/api/v1/alerts/{id}/deliveries',
  tags,
  summary: "A rule's webhook delivery log, newest attempt first",
  description: `${OWNERSHIP} One row per attempt: outcome, HTTP status, error, latency and when it is retried.`,
  request: {
    params: IdParams,
    query: z
      .object({
        limit: queryInteger(1, 1000)
          .default(100)
          .openapi({ description: 'Attempts (1–1000)', example: 100 }),
      })
      .strict(),
  },
  responses: {
    200: json(
      z
        .object({
          data: z.array(component(AlertDeliverySchema, 'AlertDelivery')),
          correlation_id: z.string(),
        })
        .openapi('AlertDeliveryList'),
      'Delivery log'
    ),
    ...problemResponses(400, 404),
  },
})

/**
 * What a rule's webhook receives (OpenAPI 3.1 `webhooks`): /docs shows receivers the body and the
 * headers; the README's "Alert webhooks" says how to verify the signature.
 */
export const alertWebhook = {
  method: 'post' as const,
  path: 'alert',
  operationId: 'alertWebhook',
  tags,
  summary: "An alert, POSTed to a rule's webhook_url (signed; retried until a 2xx)",
  description:
    "Verify before trusting: HMAC-SHA256 with the rule's `webhook_secret` (the whole string, as UTF-8) as key over " +
    '`<t>.<raw body>`, lowercase hex, compared in constant time with `v1`; reject `t` more than 300 s from your clock. ' +
    'Answer 2xx once handled (also for a `GridPulse-Delivery` seen before); anything else is retried with capped ' +
    'exponential backoff, and ALERT_DISABLE_AFTER_FAILURES failures in a row disable the rule.',
  request: {
    headers: z.object({
      'GridPulse-Signature': z
        .string()
        .openapi({ description: '`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`' }),
      'GridPulse-Delivery': z
        .uuid()
        .openapi({ description: "The alert's stable delivery id: deduplicate on it" }),
      'GridPulse-Attempt': z.string().openapi({ description: 'Attempt number, from 1' }),
    }),
    body: {
      required: true,
      content: { 'application/json': { schema: component(AlertSchema, 'Alert') } },
    },
  },
  responses: {
    200: { description: 'Any 2xx: delivered' },
    500: { description: 'Anything else (or no answer within ALERT_WEBHOOK_TIMEOUT_MS): retried' },
  },
}
