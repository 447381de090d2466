import type { Context } from 'hono'
import type { AlertsPort } from '@/alerts'
import { problem } from '../problem'
import { type AppEnv, createRouter } from '../router'
import {
  alertWebhook,
  createAlertRule,
  deleteAlertRule,
  getAlertRule,
  listAlertDeliveries,
  listAlertRules,
  updateAlertRule,
} from './alerts.routes'

/**
 * Who owns what is created: the authenticated consumer. Without authentication (AUTH_MODE=none,
 * a local node) every caller is the one consumer `anonymous`.
 */
const consumerOf = (c: Context<AppEnv>): string => {
  const principal = c.get('principal')
  return principal?.kind === 'consumer' ? principal.consumer : (c.get('consumer') ?? 'anonymous')
}

export const alertsRouter = (deps: { alerts: AlertsPort }) => {
  const router = createRouter()
  router.openAPIRegistry.registerWebhook(alertWebhook)
  return router
    .openapi(createAlertRule, async (c) => {
      // A webhook the allowlist refuses throws webhook_not_allowed: the app's 422.
      const created = await deps.alerts.create(consumerOf(c), c.req.valid('json'))
      const correlation_id = c.get('correlationId')
      c.header('Location', `/api/v1/alerts/${created.rule.id}`)
      return c.json(
        { data: created.rule, webhook_secret: created.webhook_secret, correlation_id },
        201
      )
    })
    .openapi(listAlertRules, (c) =>
      c.json({ data: deps.alerts.list(consumerOf(c)), correlation_id: c.get('correlationId') }, 200)
    )
    .openapi(getAlertRule, (c) => {
      const { id } = c.req.valid('param')
      const rule = deps.alerts.get(consumerOf(c), id)
      if (!rule) return problem(c, 404, 'not_found', `no alert rule ${id}`)
      return c.json({ data: rule, correlation_id: c.get('correlationId') }, 200)
    })
    .openapi(updateAlertRule, async (c) => {
      // The validator reads a request without a body as `{}` (every field of a patch is
      // optional), which would answer 200 to a PATCH that sent nothing: say what is missing. A
      // body without a JSON content type never gets here (415).
      if (c.req.header('content-type') === undefined)
        return problem(c, 400, 'validation_failed', 'send the changes as a JSON body')
      const { id } = c.req.valid('param')
      const rule = await deps.alerts.update(consumerOf(c), id, c.req.valid('json'))
      if (!rule) return problem(c, 404, 'not_found', `no alert rule ${id}`)
      return c.json({ data: rule, correlation_id: c.get('correlationId') }, 200)
    })
    .openapi(deleteAlertRule, async (c) => {
      const { id } = c.req.valid('param')
      if (!(await deps.alerts.remove(consumerOf(c), id)))
        return problem(c, 404, 'not_found', `no alert rule ${id}`)
      return c.body(null, 204)
    })
    .openapi(listAlertDeliveries, (c) => {
      const { id } = c.req.valid('param')
      const data = deps.alerts.deliveries(consumerOf(c), id, c.req.valid('query').limit)
      if (!data) return problem(c, 404, 'not_found', `no alert rule ${id}`)
      return c.json({ data, correlation_id: c.get('correlationId') }, 200)
    })
}
