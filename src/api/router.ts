import { OpenAPIHono } from '@hono/zod-openapi'
import type { Reads } from '@/projection/read-port'
import type { Principal } from './auth'
import { issuesToErrors, problem } from './problem'

export type AppEnv = {
  Variables: {
    correlationId: string
    /** The authenticated consumer (team), when auth is on. */
    consumer?: string
    /** Who is calling, as `authenticate` found it (unset when auth is off). */
    principal?: Principal
    /** What the answer was read from (`declareReads`): without it, no answer is cached. */
    reads?: Reads
    /** `meta.timestamp` of this response (ISO-8601 UTC), set once per request. */
    servedAt?: string
    /** The route pattern of an answer served from the response cache (no handler ran). */
    route?: string
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
