import type { Statement } from 'bun:sqlite'
import { getTableColumns, getTableName } from 'drizzle-orm'
import type { SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core'
import { DomainError } from '@/lib'
import type { ProjectionDb } from '../db'

export interface Page<T> {
  readonly data: T[]
  /** Opaque cursor for the next (older) page; null on the last page. */
  readonly nextCursor: string | null
}

/** Time-range filter: `from` inclusive, `to` exclusive (half-open, so adjacent ranges never overlap). */
export interface RangeQuery {
  readonly from?: string
  readonly to?: string
  readonly limit: number
  readonly cursor?: string
}

interface Cursor {
  readonly t: number
  readonly id: string
}

// `<t>.<id>`: decimal milliseconds and the row id. The API documents this shape as a pattern
// (src/api/common.ts), and every string of that shape is a valid keyset position.
const CURSOR = /^(0|[1-9][0-9]{0,14})\.([0-9A-Za-z-]{1,64})$/
export const encodeCursor = (c: Cursor): string => `${c.t}.${c.id}`

export function decodeCursor(raw: string): Cursor {
  const m = CURSOR.exec(raw)
  if (m) return { t: Number(m[1]), id: m[2]! }
  throw new DomainError('validation_failed', 'cursor is not a cursor this API returned')
}

/** Equality filters a list supports, by query field → column. */
type Filters = Record<string, SQLiteColumn>

/**
 * Keyset pagination, newest first: stable under concurrent inserts, O(limit) per page. The hot read
 * path runs one cached bun:sqlite statement per combination of filters present, written from the
 * drizzle schema: per-request query building and statement preparation cost more than the query.
 */
export function createPager<Row, T, Q extends RangeQuery>(
  db: ProjectionDb,
  table: SQLiteTable,
  time: SQLiteColumn,
  id: SQLiteColumn,
  filters: Filters,
  toCanonical: (row: Row) => T,
  keyOf: (row: Row) => Cursor
) {
  const statements = new Map<string, Statement>()
  // Many consumers poll the same page ("the latest 100"): serve it from memory until the projection
  // commits again. Bounded (READ_CACHE_PAGES), and dropped wholesale on overflow (the pages are
  // cheap to rebuild).
  const pages = new Map<string, { version: number; page: Page<T> }>()
  const columns = Object.entries(getTableColumns(table))
    .map(([key, column]) => `"${column.name}" AS "${key}"`)
    .join(', ')
  const from = `SELECT ${columns} FROM "${getTableName(table)}"`
  const order = `ORDER BY "${time.name}" DESC, "${id.name}" DESC LIMIT $limit`
  const statementFor = (
    present: string[],
    range: { from: boolean; to: boolean; cursor: boolean }
  ) => {
    const key = `${present.join(',')}|${range.from}|${range.to}|${range.cursor}`
    let statement = statements.get(key)
    if (!statement) {
      const where = present.map((name) => `"${filters[name]!.name}" = $${name}`)
      if (range.from) where.push(`"${time.name}" >= $from`)
      if (range.to) where.push(`"${time.name}" < $to`)
      if (range.cursor)
        where.push(
          `("${time.name}" < $cursorT OR ("${time.name}" = $cursorT AND "${id.name}" < $cursorId))`
        )
      statement = db.sqlite.prepare(
        `${from} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ${order}`
      )
      statements.set(key, statement)
    }
    return statement
  }
  return (query: Q): Page<T> => {
    const fields = query as unknown as Record<string, unknown>
    const present = Object.keys(filters).filter((name) => fields[name] !== undefined)
    const values: Record<string, string | number> = { limit: query.limit + 1 }
    for (const name of present) values[name] = fields[name] as string
    if (query.from) values.from = Date.parse(query.from)
    if (query.to) values.to = Date.parse(query.to)
    if (query.cursor) {
      const c = decodeCursor(query.cursor)
      values.cursorT = c.t
      values.cursorId = c.id
    }
    const cacheKey = JSON.stringify(values)
    const cached = pages.get(cacheKey)
    if (cached && cached.version === db.version.current) return cached.page
    const rows = statementFor(present, {
      from: !!query.from,
      to: !!query.to,
      cursor: !!query.cursor,
    }).all(values) as Row[]
    const more = rows.length > query.limit
    const slice = more ? rows.slice(0, query.limit) : rows
    const page = {
      data: slice.map(toCanonical),
      nextCursor: more ? encodeCursor(keyOf(slice[slice.length - 1]!)) : null,
    }
    if (pages.size >= db.readCachePages) pages.clear()
    if (db.readCachePages > 0) pages.set(cacheKey, { version: db.version.current, page })
    return page
  }
}
