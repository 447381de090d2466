import { Database } from 'bun:sqlite'
import { existsSync } from 'node:fs'

/**
 * Until access.sqlite existed, keys lived in projection.sqlite's `api_keys` table, and a projection
 * rebuild (delete projection.sqlite) lost them. On the first start of a node that had them, the
 * key store copies them over: only when access.sqlite holds no key yet, so a key revoked or created
 * here is never overwritten by the old copy. The projection's migration 0005 then drops the old
 * table (see drizzle/), which also makes this a one-shot: a stale copy of revoked keys' hashes
 * must not linger in a file that anything could read again. Returns how many keys were copied.
 */
export function carryOverKeys(access: Database, projectionPath: string): number {
  const { n } = access.query('SELECT COUNT(*) AS n FROM api_keys').get() as { n: number }
  if (n > 0 || projectionPath === ':memory:' || !existsSync(projectionPath)) return 0
  const projection = new Database(projectionPath, { readonly: true })
  let rows: unknown[]
  try {
    const table = projection
      .query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'api_keys'")
      .get()
    if (!table) return 0
    rows = projection
      .query('SELECT id, consumer, scope, secret_sha256, created_at, revoked_at FROM api_keys')
      .all()
  } finally {
    projection.close()
  }
  const insert = access.query(
    `INSERT INTO api_keys (id, consumer, scope, secret_sha256, created_at, revoked_at)
     VALUES ($id, $consumer, $scope, $secret_sha256, $created_at, $revoked_at)`
  )
  access.transaction(() => {
    for (const row of rows) insert.run(row as Record<string, string | number | null>)
  })()
  return rows.length
}
