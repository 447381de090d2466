import { z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { ERROR_CODES, type ErrorCode } from '@/lib'
import type { Refusal } from './authorize'

/** RFC 9457 problem details. `type` URIs form a closed set; `detail` never carries stack traces or SQL. */
export const ProblemSchema = z
  .object({
    type: z.url(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    correlation_id: z.string().optional(),
    error: z
      .string()
      .describe("The seed API's error member: the title, for clients written against it"),
    message: z
      .string()
      .describe("The seed API's message member: the detail (or the title when there is none)"),
    errors: z
      .array(
        z.object({
          pointer: z.string().optional(),
          parameter: z.string().optional(),
          detail: z.string(),
        })
      )
      .optional(),
  })
  .openapi('Problem')
export type Problem = z.infer<typeof ProblemSchema>

const TITLES = {
  // The domain's own codes (lib/errors.ts), so any DomainError maps to a problem without a cast.
  ...(Object.fromEntries(Object.entries(ERROR_CODES).map(([code, { title }]) => [code, title])) as {
    readonly [C in ErrorCode]: (typeof ERROR_CODES)[C]['title']
  }),
  malformed_json: 'Request body is not valid JSON',
  malformed_encoding: 'Request body does not match its Content-Encoding',
  unsupported_media_type: 'Unsupported media type',
  payload_too_large: 'Request body too large',
  unauthorized: 'Missing or invalid API key',
  forbidden: 'Not allowed for this key',
  rate_limited: 'Too many requests',
  not_found: 'Not found',
  not_replayable: 'Cannot be replayed as is',
  conflict: 'Conflicts with what was already written',
  method_not_allowed: 'Method not allowed',
  stalled: 'A supervised loop has stalled; restart the process',
  internal: 'Internal error',
} as const
export type ProblemCode = keyof typeof TITLES

export const PROBLEM_BASE = 'https://gridpulse.dev/problems/'

export type ProblemStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 500 | 503

export function problemBody(
  c: Context,
  status: ProblemStatus,
  code: ProblemCode,
  detail?: string,
  errors?: Problem['errors']
): Problem {
  return problemOf(c.req.path, c.get('correlationId'), status, code, detail, errors)
}

function problemOf(
  instance: string,
  correlationId: string | undefined,
  status: ProblemStatus,
  code: ProblemCode,
  detail?: string,
  errors?: Problem['errors']
): Problem {
  return {
    type: `${PROBLEM_BASE}${code}`,
    title: TITLES[code],
    status,
    ...(detail ? { detail } : {}),
    instance,
    correlation_id: correlationId,
    error: TITLES[code],
    message: detail ?? TITLES[code],
    ...(errors?.length ? { errors } : {}),
  }
}

/** An `application/problem+json` response (exact content type, not Hono's default JSON one). */
export function problem<S extends ProblemStatus>(
  c: Context,
  status: S,
  code: ProblemCode,
  detail?: string,
  errors?: Problem['errors'],
  headers: Record<string, string> = {}
) {
  return c.json(problemBody(c, status, code, detail, errors), status, {
    ...headers,
    'Content-Type': 'application/problem+json',
  })
}

/** `problem` without a router context: the same body and headers, for the cached-answer fast path. */
export function problemResponse(
  at: { readonly path: string; readonly correlationId: string },
  refused: Refusal
): Response {
  const body = problemOf(at.path, at.correlationId, refused.status, refused.code, refused.detail)
  return new Response(JSON.stringify(body), {
    status: refused.status,
    headers: { ...refused.headers, 'Content-Type': 'application/problem+json' },
  })
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (problem+json, code validation_failed or malformed_json)',
  401: 'Missing or invalid API key',
  403: 'The key may not use this route',
  404: 'Not found',
  405: 'Method not allowed for this path (the Allow header lists those that are)',
  409: 'Conflicts with an existing write (problem+json, code conflict)',
  413: 'Request body too large',
  415: 'Request body is not application/json',
  422: 'Understood but cannot be processed (problem+json; webhook_not_allowed for a webhook the operator does not allow)',
  429: 'Rate limit exceeded (Retry-After says when to retry)',
  503: 'Unavailable (problem+json: upstream_unavailable, outbox_full with Retry-After, or stalled)',
}

/** OpenAPI response entries for problem statuses, keyed by literal status for handler narrowing. */
export function problemResponses<const S extends readonly (keyof typeof DESCRIPTIONS & number)[]>(
  ...statuses: S
) {
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      {
        description: DESCRIPTIONS[s]!,
        content: { 'application/problem+json': { schema: ProblemSchema } },
      },
    ])
  ) as {
    [K in S[number]]: {
      description: string
      content: { 'application/problem+json': { schema: typeof ProblemSchema } }
    }
  }
}

/** zod issues → RFC 9457 `errors[]` members: `parameter` for query/path, `pointer` for bodies. */
export function issuesToErrors(
  issues: readonly z.core.$ZodIssue[],
  target: string
): NonNullable<Problem['errors']> {
  return issues.slice(0, 20).map((issue) => {
    const path = issue.path.map(String)
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : undefined
    if (target === 'json') {
      const pointer = `/${path.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`
      return {
        pointer: keys ? `${pointer === '/' ? '' : pointer}/${keys[0]}` : pointer,
        detail: issue.message,
      }
    }
    return { parameter: keys ? keys.join(',') : path.join('.') || target, detail: issue.message }
  })
}

const problemContent = { 'application/problem+json': { schema: ProblemSchema } }

/**
 * Responses every `/api/*` operation can give because of the middleware in front of it rather than
 * its handler: 401 (no or bad key), 429 (rate limit), and for writes 403 (read-only key) plus the
 * body guard's 413/415. Added to the documented operations once, here, so no route can forget them.
 */
export function accessResponses(method: string) {
  const write = method.toUpperCase() !== 'GET' && method.toUpperCase() !== 'HEAD'
  return {
    401: {
      description: DESCRIPTIONS[401]!,
      headers: {
        'WWW-Authenticate': {
          description: 'How to authenticate (`ApiKey header="apikey"`)',
          schema: { type: 'string' as const },
        },
      },
      content: problemContent,
    },
    ...(write
      ? {
          403: { description: DESCRIPTIONS[403]!, content: problemContent },
          413: { description: DESCRIPTIONS[413]!, content: problemContent },
          415: {
            description: `${DESCRIPTIONS[415]!} or uses a Content-Encoding other than gzip`,
            content: problemContent,
          },
        }
      : {}),
    429: {
      description: DESCRIPTIONS[429]!,
      headers: {
        'Retry-After': {
          description: 'Seconds until the limit resets',
          schema: { type: 'integer' as const, minimum: 0 },
        },
      },
      content: problemContent,
    },
  }
}
