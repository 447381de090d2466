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

// `<t>.<id>`: decimal milliseconds and the row id (or, for aggregates, the bucket end and a series
// key). The API documents this shape as a pattern (src/api/common.ts), and every string of that
// shape is a valid keyset position.
const CURSOR = /^(0|[1-9][0-9]{0,14})\.([0-9A-Za-z-]{1,1024})$/
export const encodeCursor = (c: Cursor): string => `${c.t}.${c.id}`

export function decodeCursor(raw: string): Cursor {
  const m = CURSOR.exec(raw)
  if (m) return { t: Number(m[1]), id: m[2]! }
  throw new DomainError('validation_failed', 'cursor is not a cursor this API returned')
}

/** Equality filters a list supports, by query field → column. */
export type Filters = Record<string, SQLiteColumn>

/**
 * Rows read batch by batch from one SQLite statement, for a bulk export that must not hold the
 * result in memory. `close` releases the statement: after the last batch, or when the client goes.
 */
export interface RowStream<T> {
  /** The next rows (at most `size`; an empty batch is not the end), or null when there are no more. */
  next(size: number): T[] | null
  close(): void
}

/** A list query without the JSON page size: `limit` is optional (absent = every row). */
export type ExportQuery<Q extends RangeQuery> = Omit<Q, 'limit'> & { readonly limit?: number }

/** The filters present in a query and the statement parameters of the whole list query. */
function bindList(query: ExportQuery<RangeQuery>, filters: Filters, limit: number) {
  const fields = query as unknown as Record<string, unknown>
  const present = Object.keys(filters).filter((name) => fields[name] !== undefined)
  const values: Record<string, string | number> = { limit }
  for (const name of present) values[name] = fields[name] as string
  if (query.from) values.from = Date.parse(query.from)
  if (query.to) values.to = Date.parse(query.to)
  if (query.cursor) {
    const c = decodeCursor(query.cursor)
    values.cursorT = c.t
    values.cursorId = c.id
  }
  const range = { from: !!query.from, to: !!query.to, cursor: !!query.cursor }
  return {
    present,
    range,
    values,
    key: `${present.join(',')}|${range.from}|${range.to}|${range.cursor}`,
  }
}

/** The list's SQL, newest first, for the filters and range bounds present; written from the schema. */
function listSql(
  table: SQLiteTable,
  time: SQLiteColumn,
  id: SQLiteColumn,
  filters: Filters,
  bound: ReturnType<typeof bindList>
): string {
  const columns = Object.entries(getTableColumns(table))
    .map(([key, column]) => `"${column.name}" AS "${key}"`)
    .join(', ')
  const where = bound.present.map((name) => `"${filters[name]!.name}" = $${name}`)
  if (bound.range.from) where.push(`"${time.name}" >= $from`)
  if (bound.range.to) where.push(`"${time.name}" < $to`)
  if (bound.range.cursor)
    where.push(
      `("${time.name}" < $cursorT OR ("${time.name}" = $cursorT AND "${id.name}" < $cursorId))`
    )
  return `SELECT ${columns} FROM "${getTableName(table)}" ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY "${time.name}" DESC, "${id.name}" DESC LIMIT $limit`
}

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
  return (query: Q): Page<T> => {
    const bound = bindList(query, filters, query.limit + 1)
    const cacheKey = JSON.stringify(bound.values)
    const cached = pages.get(cacheKey)
    if (cached && cached.version === db.version.current) return cached.page
    let statement = statements.get(bound.key)
    if (!statement) {
      statement = db.sqlite.prepare(listSql(table, time, id, filters, bound))
      statements.set(bound.key, statement)
    }
    const rows = statement.all(bound.values) as Row[]
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

/**
 * The same list as `createPager`, every row from the cursor on (or the first `limit`), streamed:
 * each export steps its own statement (a shared one would be reset by a concurrent export) and
 * never holds more than one batch. Rows the projector commits meanwhile may or may not appear
 * (SQLite's rule for a statement read while its connection writes); a row is never seen twice,
 * because upserts never move a row's (time, id) key.
 */
export function createListExport<Row, T, Q extends RangeQuery>(
  db: ProjectionDb,
  table: SQLiteTable,
  time: SQLiteColumn,
  id: SQLiteColumn,
  filters: Filters,
  toCanonical: (row: Row) => T
) {
  return (query: ExportQuery<Q>): RowStream<T> => {
    // LIMIT -1: no limit (SQLite).
    const bound = bindList(query, filters, query.limit ?? -1)
    const statement = db.sqlite.prepare(listSql(table, time, id, filters, bound))
    const rows = statement.iterate(bound.values) as IterableIterator<Row>
    let open = true
    const close = () => {
      if (!open) return
      open = false
      rows.return?.()
      statement.finalize()
    }
    return {
      next(size) {
        if (!open) return null
        const batch: T[] = []
        for (let i = 0; i < size; i++) {
          const r = rows.next()
          if (r.done) {
            close()
            break
          }
          batch.push(toCanonical(r.value))
        }
        return batch.length > 0 || open ? batch : null
      },
      close,
    }
  }
}
