import { z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { servedAt } from './response-cache'
import type { AppEnv } from './router'

/** One day of 5-minute intervals × 12 fuel types × 5 regions would be 17,280: pages are bounded well below. */
export const MAX_LIMIT = 1000

/**
 * A query-string integer in plain decimal digits only. `z.coerce.number()` would read `0x10`, `1e2`,
 * ` 7` and `0b1` as numbers: the contract says `integer`, and clients that send those are wrong.
 * Rendered in OpenAPI as `type: integer` (the piped schema), validated on the raw text.
 */
export const queryInteger = (min: number, max: number) =>
  z.preprocess(
    (raw) => (typeof raw === 'string' && /^[0-9]{1,15}$/.test(raw) ? Number(raw) : raw),
    z.number().int().min(min).max(max)
  )

export const LimitSchema = queryInteger(1, MAX_LIMIT)
  .default(100)
  .openapi({ description: `Page size (1–${MAX_LIMIT})`, example: 100 })

/**
 * `<ms since the epoch>.<key>` as `meta.next_cursor` returns it: a list's `<interval_end>.<event
 * id>`, an aggregate's `<bucket_end>.s<hex series key>`. Any value of this shape is a valid keyset
 * position (the next page starts strictly after it), so the pattern is exactly what the server
 * accepts (projection/read-models/pager.ts holds the same expression).
 */
export const CURSOR_PATTERN = '^(0|[1-9][0-9]{0,14})\\.[0-9A-Za-z-]{1,1024}$'
export const CursorSchema = z
  .string()
  .regex(new RegExp(CURSOR_PATTERN), 'not a cursor: pass `meta.next_cursor` unchanged')
  .optional()
  .openapi({
    description:
      'Cursor from `meta.next_cursor` of the previous page (pass it unchanged): `<interval_end ms>.<event_id>` ' +
      'for rows, `<bucket_end ms>.s<hex of the series key>` for buckets. Anything else is 400.',
    example: '1775052900000.3f0f8f8e-6a43-5ac3-9d5e-0e8e1f7f6a21',
  })

/** Accepts any ISO-8601 instant with an offset (`+10:00` for NEM time) or `Z`; compared as instants. */
export const InstantParamSchema = z.iso.datetime({ offset: true }).optional()

export const rangeQuery = {
  from: InstantParamSchema.openapi({
    description: 'Inclusive lower bound (ISO-8601 with offset)',
    example: '2026-04-01T00:00:00+10:00',
  }),
  to: InstantParamSchema.openapi({
    description:
      'Exclusive upper bound (ISO-8601 with offset); a range with `to` not after `from` is empty',
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
    region_filter: z
      .string()
      .nullable()
      .describe('The `region_id` asked for, or null (as in the seed API)'),
    timestamp: z.iso.datetime().describe('When the page was served, UTC (as in the seed API)'),
  })
  .openapi('PageMeta')

export const pageOf = <T extends z.ZodType>(item: T, name: string) =>
  z.object({ data: z.array(item), meta: MetaSchema }).openapi(name)

/**
 * Names a canonical schema as an OpenAPI component. The canonical model stays HTTP-free, and zod
 * binds methods per instance at construction, so a canonical schema built before
 * @hono/zod-openapi loaded has no `.openapi()`: rebuild the object (same field schemas) here.
 * A field with a default (added to an event later: events stored before it read as the default)
 * is always in a response, so it is documented as required, without the default.
 */
const withDescriptionOf = (from: z.ZodType, to: z.ZodType) =>
  from.description === undefined ? to : to.describe(from.description)

export const component = <S extends z.ZodObject>(schema: S, name: string) =>
  z
    .object(
      Object.fromEntries(
        Object.entries(schema.shape).map(([key, field]) => [
          key,
          field instanceof z.ZodDefault
            ? withDescriptionOf(field, field.unwrap() as z.ZodType)
            : field,
        ])
      )
    )
    .strict()
    .openapi(name) as unknown as S

/**
 * The list envelope: the seed's `{ data, meta: { count, region_filter, correlation_id, timestamp } }`
 * with paging (`limit`, `next_cursor`). `region_filter` is the validated `region_id` parameter.
 */
export const envelope = <T>(
  c: Context<AppEnv>,
  page: { data: T[]; nextCursor: string | null },
  limit: number
) => ({
  data: page.data,
  meta: {
    count: page.data.length,
    limit,
    next_cursor: page.nextCursor,
    correlation_id: c.get('correlationId') as string,
    region_filter: c.req.query('region_id') ?? null,
    timestamp: servedAt(c),
  },
})

// A calendar date (leap years included), so that the pattern alone describes a valid RFC 3339 date.
const DATE =
  '(?:[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))' +
  '|(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)-02-29)'
/**
 * An RFC 3339 instant on a 5-minute boundary: minutes a multiple of 5, zero seconds, and an offset
 * whose minutes are a multiple of 5 too (so `10:00+05:45` is still a boundary in UTC).
 */
export const INTERVAL_END_PATTERN = `^${DATE}T(?:[01][0-9]|2[0-3]):[0-5][05]:00(?:\\.0{1,9})?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][05])$`

export const IntervalEndSchema = z
  .string()
  .regex(new RegExp(INTERVAL_END_PATTERN), 'must be an ISO-8601 instant on a 5-minute boundary')
  .openapi({
    description:
      'End of a 5-minute dispatch interval, ISO-8601 with offset: minutes a multiple of 5, seconds 00 ' +
      '(e.g. `2026-04-01T10:05:00+10:00`). Must lie between 1998-12-13 (NEM start) and one day ahead of now.',
    example: '2026-04-01T10:05:00+10:00',
  })
