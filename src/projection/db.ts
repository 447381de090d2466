import { Database } from 'bun:sqlite'
import { type BunSQLiteDatabase, drizzle } from 'drizzle-orm/bun-sqlite'
import { type ChangeLog, createChangeLog } from './changes'
import { MIGRATIONS } from './migrations.gen'
import * as schema from './schema'
import { installStatsTriggers } from './stats-table'

export interface ProjectionDb {
  readonly sqlite: Database
  readonly orm: BunSQLiteDatabase<typeof schema>
  /** Bumped after every committed projection transaction: read caches key on it. */
  readonly version: { current: number }
  /** How many list pages each read model keeps between commits (READ_CACHE_PAGES). */
  readonly readCachePages: number
  /** Aggregate bucket rows all time series together keep until a commit touches them. */
  readonly aggregateCacheBuckets: number
  /** What each committed projection transaction changed (event types and time spans). */
  readonly changes: ChangeLog
}

/**
 * Opens the read-model database. WAL lets the API read while the projector writes; the path must be
 * absolute (a compiled binary resolves relative paths against whatever the CWD happens to be).
 */
export function openProjectionDb(
  path: string,
  options: {
    migrate?: boolean
    /** SQLite page cache of this connection, KiB (SQLITE_CACHE_KB); unset: SQLite's 2000. */
    cacheKb?: number
    readCachePages?: number
    aggregateCacheBuckets?: number
  } = {}
): ProjectionDb {
  const sqlite = new Database(path, { create: true, strict: true })
  sqlite.run('PRAGMA journal_mode = WAL')
  sqlite.run('PRAGMA synchronous = NORMAL')
  sqlite.run('PRAGMA foreign_keys = ON')
  sqlite.run('PRAGMA busy_timeout = 5000')
  // Negative: a size in KiB rather than in pages.
  if (options.cacheKb !== undefined) sqlite.run(`PRAGMA cache_size = -${options.cacheKb}`)
  const db = {
    sqlite,
    orm: drizzle(sqlite, { schema }),
    version: { current: 0 },
    readCachePages: options.readCachePages ?? 64,
    aggregateCacheBuckets: options.aggregateCacheBuckets ?? 20_000,
    changes: createChangeLog(),
  }
  if (options.migrate ?? true) migrate(db)
  return db
}

/**
 * Applies the embedded drizzle-kit migrations not yet applied, each in its own transaction, then
 * (re)creates the stats triggers if the read-model list changed them (recounting the stats tables).
 */
export function migrate(db: ProjectionDb): { applied: string[] } {
  const { sqlite } = db
  sqlite.run(
    'CREATE TABLE IF NOT EXISTS __gridpulse_migrations (tag TEXT PRIMARY KEY, hash TEXT NOT NULL, applied_at INTEGER NOT NULL)'
  )
  const done = new Map(
    (
      sqlite.query('SELECT tag, hash FROM __gridpulse_migrations').all() as {
        tag: string
        hash: string
      }[]
    ).map((r) => [r.tag, r.hash])
  )
  const applied: string[] = []
  for (const m of MIGRATIONS) {
    const seen = done.get(m.tag)
    if (seen !== undefined) {
      if (seen !== m.hash) throw new Error(`migration ${m.tag} was changed after it was applied`)
      continue
    }
    sqlite.transaction(() => {
      for (const statement of m.sql.split('--> statement-breakpoint')) {
        if (statement.trim()) sqlite.run(statement)
      }
      sqlite
        .query('INSERT INTO __gridpulse_migrations (tag, hash, applied_at) VALUES (?, ?, ?)')
        .run(m.tag, m.hash, Date.now())
    })()
    applied.push(m.tag)
  }
  installStatsTriggers(db)
  return { applied }
}

/** True when every embedded migration is applied: part of readiness. */
export function isMigrated(db: ProjectionDb): boolean {
  try {
    const row = db.sqlite.query('SELECT COUNT(*) AS n FROM __gridpulse_migrations').get() as {
      n: number
    }
    return row.n === MIGRATIONS.length
  } catch {
    return false
  }
}
