import { Database } from 'bun:sqlite'
import { timingSafeEqual } from 'node:crypto'
import { sha256Hex } from '@/lib'
import { carryOverKeys } from './carry-over'
import { mintKey, parseKey } from './key-format'

export type KeyScope = 'read' | 'write'

export interface ApiKeyInfo {
  readonly id: string
  readonly consumer: string
  readonly scope: KeyScope
  readonly createdAt: string
  readonly revokedAt: string | null
}

export interface KeyIdentity {
  readonly id: string
  readonly consumer: string
  readonly scope: KeyScope
}

export interface KeyStore {
  /** A new key for `consumer`; the key text is returned once and only its hash is stored. */
  create(consumer: string, scope: KeyScope, now?: number): { key: string; info: ApiKeyInfo }
  list(): ApiKeyInfo[]
  /** Revokes by id; takes effect on the next request (even from another process: see createVerifiedMemo). */
  revoke(id: string, now?: number): boolean
  /**
   * The consumer and scope of a presented key, or undefined when it is unknown, malformed or
   * revoked. The secret's hash is compared in constant time.
   */
  verify(presented: string): KeyIdentity | undefined
  count(): number
  /** Keys copied from projection.sqlite when this store was opened (0 after the first start). */
  readonly carriedOver: number
  close(): void
}

/**
 * access.sqlite has a lifecycle of its own (it must outlive every projection rebuild) and one small
 * table, so it is not a drizzle schema: its migrations are this list, applied in order and counted
 * in SQLite's own `PRAGMA user_version`. Append, never edit. The columns are those the table had
 * in projection.sqlite (drizzle/0001_api_keys.sql), so the carry-over copies rows as they are.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    consumer TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('read', 'write')),
    secret_sha256 TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  )`,
]

interface Row {
  id: string
  consumer: string
  scope: KeyScope
  secret_sha256: string
  created_at: number
  revoked_at: number | null
}

/**
 * Opens (and migrates) the key store. `carryOverFrom`: the projection.sqlite of a node that kept
 * its keys there; its keys are copied in when this store has none (see carry-over.ts). Open the
 * store before the projection, whose migrations drop that table.
 */
export function openKeyStore(path: string, options: { carryOverFrom?: string } = {}): KeyStore {
  const sqlite = new Database(path, { create: true, strict: true })
  // `keys create` in one process while `serve` reads in another: WAL and a busy timeout.
  sqlite.run('PRAGMA journal_mode = WAL')
  sqlite.run('PRAGMA busy_timeout = 5000')
  migrate(sqlite)
  const carriedOver = options.carryOverFrom ? carryOverKeys(sqlite, options.carryOverFrom) : 0

  const byId = sqlite.query<Row, [string]>('SELECT * FROM api_keys WHERE id = ?')
  const counted = sqlite.query<{ n: number }, []>('SELECT COUNT(*) AS n FROM api_keys')
  const verified = createVerifiedMemo(sqlite)
  const info = (r: Row): ApiKeyInfo => ({
    id: r.id,
    consumer: r.consumer,
    scope: r.scope,
    createdAt: new Date(r.created_at).toISOString(),
    revokedAt: r.revoked_at === null ? null : new Date(r.revoked_at).toISOString(),
  })
  return {
    create(consumer, scope, now = Date.now()) {
      verified.clear()
      const { id, secret, key } = mintKey()
      sqlite
        .query(
          'INSERT INTO api_keys (id, consumer, scope, secret_sha256, created_at) VALUES (?, ?, ?, ?, ?)'
        )
        .run(id, consumer, scope, sha256Hex(secret), now)
      return {
        key,
        info: { id, consumer, scope, createdAt: new Date(now).toISOString(), revokedAt: null },
      }
    },
    list: () =>
      sqlite.query<Row, []>('SELECT * FROM api_keys ORDER BY consumer, created_at').all().map(info),
    revoke(id, now = Date.now()) {
      verified.clear()
      return (
        sqlite.query('UPDATE api_keys SET revoked_at = ? WHERE id = ?').run(now, id).changes > 0
      )
    },
    verify(presented) {
      const known = verified.get(presented)
      if (known) return known
      const parts = parseKey(presented)
      if (!parts) return undefined
      const row = byId.get(parts.id)
      if (!row || row.revoked_at !== null) return undefined
      const expected = Buffer.from(row.secret_sha256, 'hex')
      const actual = Buffer.from(sha256Hex(parts.secret), 'hex')
      if (!timingSafeEqual(expected, actual)) return undefined
      return verified.set(presented, { id: row.id, consumer: row.consumer, scope: row.scope })
    },
    count: () => counted.get()!.n,
    carriedOver,
    close: () => sqlite.close(),
  }
}

const VERIFIED_KEYS = 1024

/**
 * Keys that verified, by the key as presented, until the key table next changes: a repeated request
 * costs a map lookup and `PRAGMA data_version` (which moves when another connection, such as
 * `gridpulse keys revoke`, commits), not a row read and a SHA-256. A revocation therefore applies
 * to the very next request, as before. Only valid keys are kept, at most VERIFIED_KEYS of them.
 */
function createVerifiedMemo(sqlite: Database) {
  const dataVersion = sqlite.query<{ data_version: number }, []>('PRAGMA data_version')
  const keys = new Map<string, KeyIdentity>()
  let version = dataVersion.get()!.data_version
  return {
    get(presented: string): KeyIdentity | undefined {
      const now = dataVersion.get()!.data_version
      if (now !== version) {
        version = now
        keys.clear()
        return undefined
      }
      return keys.get(presented)
    },
    set(presented: string, principal: KeyIdentity): KeyIdentity {
      if (keys.size >= VERIFIED_KEYS) keys.clear()
      keys.set(presented, principal)
      return principal
    },
    clear: () => keys.clear(),
  }
}

function migrate(sqlite: Database): void {
  const { user_version: done } = sqlite.query('PRAGMA user_version').get() as {
    user_version: number
  }
  if (done > MIGRATIONS.length)
    throw new Error(`access.sqlite is at version ${done}; this build knows ${MIGRATIONS.length}`)
  for (let v = done; v < MIGRATIONS.length; v++) {
    sqlite.transaction(() => {
      sqlite.run(MIGRATIONS[v]!)
      // PRAGMA takes no bound parameters; v is our own integer.
      sqlite.run(`PRAGMA user_version = ${v + 1}`)
    })()
  }
}
