import { z } from '@hono/zod-openapi'
import type { Context } from 'hono'

/** One day of 5-minute intervals × 12 fuel types × 5 regions would be 17,280: pages are bounded well below. */
export const MAX_LIMIT = 1000

export const LimitSchema = z.coerce
  .number()
  .int()
  .min(1)
  .max(MAX_LIMIT)
  .default(100)
  .openapi({ description: `Page size (1–${MAX_LIMIT})`, example: 100 })

export const CursorSchema = z
  .string()
  .max(256)
  .optional()
  .openapi({ description: 'Opaque cursor from `meta.next_cursor` of the previous page' })

/** Accepts any ISO-8601 instant with an offset (`+10:00` for NEM time) or `Z`; compared as instants. */
export const InstantParamSchema = z.iso.datetime({ offset: true }).optional()

export const rangeQuery = {
  from: InstantParamSchema.openapi({
    description: 'Inclusive lower bound (ISO-8601 with offset)',
    example: '2026-04-01T00:00:00+10:00',
  }),
  to: InstantParamSchema.openapi({
    description: 'Exclusive upper bound (ISO-8601 with offset)',
    example: '2026-04-02T00:00:00+10:00',
  }),
  limit: LimitSchema,
  cursor: CursorSchema,
}

export const MetaSchema = z
  .object({
    count: z.number().int().describe('Items in this page'),
    limit: z.number().int(),
    next_cursor: z
      .string()
      .nullable()
      .describe('Pass as `cursor` for the next (older) page; null on the last page'),
    correlation_id: z.string(),
  })
  .openapi('PageMeta')

export const pageOf = <T extends z.ZodType>(item: T, name: string) =>
  z.object({ data: z.array(item), meta: MetaSchema }).openapi(name)

/** `from` must precede `to`; checked after parsing so the error names both parameters. */
export const orderedRange = <
  S extends z.ZodObject<{ from: typeof InstantParamSchema; to: typeof InstantParamSchema }>,
>(
  schema: S
): S =>
  schema.refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), {
    message: '`from` must be earlier than `to`',
    path: ['from'],
  })

/**
 * Names a canonical schema as an OpenAPI component. The canonical model stays HTTP-free, and zod
 * binds methods per instance at construction, so a canonical schema built before
 * @hono/zod-openapi loaded has no `.openapi()`: rebuild the object (same field schemas) here.
 */
export const component = <S extends z.ZodObject>(schema: S, name: string) =>
  z.object(schema.shape).strict().openapi(name) as unknown as S

/** The seed's list envelope: `{ data, meta: { count, limit, next_cursor, correlation_id } }`. */
export const envelope = <T>(
  c: Context,
  page: { data: T[]; nextCursor: string | null },
  limit: number
) => ({
  data: page.data,
  meta: {
    count: page.data.length,
    limit,
    next_cursor: page.nextCursor,
    correlation_id: c.get('correlationId') as string,
  },
})
