import { OpenAPIHono } from '@hono/zod-openapi'
import type { Principal } from './auth'
import { issuesToErrors, problem } from './problem'

export type AppEnv = {
  Variables: {
    correlationId: string
    /** The authenticated consumer (team), when auth is on. */
    consumer?: string
    /** Who is calling, as `authenticate` found it (unset when auth is off). */
    principal?: Principal
  }
}

/** Every router shares the hook that turns zod failures into RFC 9457 `validation_failed`. */
export const createRouter = () =>
  new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        const errors = issuesToErrors(result.error.issues, result.target)
        const n = errors.length
        return problem(
          c,
          400,
          'validation_failed',
          `${n} ${result.target === 'json' ? 'field' : 'parameter'}${n === 1 ? ' is' : 's are'} invalid`,
          errors
        )
      }
    },
  })
