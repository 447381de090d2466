import { Database } from 'bun:sqlite'
import { mintKey } from '@/access'
import { sha256Hex } from '@/lib'
import { MIGRATIONS } from '@/projection/migrations.gen'

/** The first projection migration that no longer has `api_keys` (keys moved to access.sqlite). */
const KEYS_MOVED = '0005'

/**
 * A projection.sqlite as a node from before access.sqlite left it: every projection migration up
 * to the move applied by the same bookkeeping `migrate` uses, and `keys` in its `api_keys` table
 * as `gridpulse keys create` wrote them then (id, consumer, scope, sha256 of the secret). Returns
 * the key texts, which must keep working.
 */
export function writeProjectionWithKeys(
  path: string,
  keys: readonly { consumer: string; scope: 'read' | 'write'; revoked?: boolean }[]
): string[] {
  const db = new Database(path, { create: true, strict: true })
  try {
    db.run('PRAGMA journal_mode = WAL')
    db.run(
      'CREATE TABLE __gridpulse_migrations (tag TEXT PRIMARY KEY, hash TEXT NOT NULL, applied_at INTEGER NOT NULL)'
    )
    for (const m of MIGRATIONS.filter((m) => m.tag < KEYS_MOVED)) {
      for (const statement of m.sql.split('--> statement-breakpoint'))
        if (statement.trim()) db.run(statement)
      db.query('INSERT INTO __gridpulse_migrations VALUES (?, ?, ?)').run(m.tag, m.hash, Date.now())
    }
    return keys.map(({ consumer, scope, revoked }, i) => {
      const { id, secret, key } = mintKey()
      const created = Date.parse('2026-03-01T00:00:00Z') + i * 1000
      db.query(
        'INSERT INTO api_keys (id, consumer, scope, secret_sha256, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)'
      ).run(id, consumer, scope, sha256Hex(secret), created, revoked ? created + 500 : null)
      return key
    })
  } finally {
    db.close()
  }
}

/** Whether the projection file still has the table keys used to live in. */
export function hasKeysTable(path: string): boolean {
  const db = new Database(path, { readonly: true })
  try {
    return (
      db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'api_keys'").get() !==
      null
    )
  } finally {
    db.close()
  }
}
