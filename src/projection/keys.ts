import { randomBytes, timingSafeEqual } from 'node:crypto'
import { asc, count, eq, sql } from 'drizzle-orm'
import { sha256Hex } from '@/lib'
import type { ProjectionDb } from './db'
import { apiKeys } from './schema'

export type KeyScope = 'read' | 'write'

export interface ApiKeyInfo {
  readonly id: string
  readonly consumer: string
  readonly scope: KeyScope
  readonly createdAt: string
  readonly revokedAt: string | null
}

/**
 * Keys look like `gpk_<id>_<secret>`: a recognisable prefix (secret scanners can match it), a
 * public id to find the record, and 192 random bits. Because the secret is random and long, a
 * fast hash (sha256) is as good as a slow one here: there is nothing to brute-force.
 */
export function createApiKey(
  db: ProjectionDb,
  consumer: string,
  scope: KeyScope,
  now = Date.now()
): { key: string; info: ApiKeyInfo } {
  const id = randomBytes(6).toString('hex')
  const secret = randomBytes(24).toString('base64url')
  db.orm
    .insert(apiKeys)
    .values({ id, consumer, scope, secretSha256: sha256Hex(secret), createdAt: now })
    .run()
  return {
    key: `gpk_${id}_${secret}`,
    info: { id, consumer, scope, createdAt: new Date(now).toISOString(), revokedAt: null },
  }
}

export function listApiKeys(db: ProjectionDb): ApiKeyInfo[] {
  return db.orm
    .select()
    .from(apiKeys)
    .orderBy(asc(apiKeys.consumer), asc(apiKeys.createdAt))
    .all()
    .map((r) => ({
      id: r.id,
      consumer: r.consumer,
      scope: r.scope,
      createdAt: new Date(r.createdAt).toISOString(),
      revokedAt: r.revokedAt === null ? null : new Date(r.revokedAt).toISOString(),
    }))
}

/** Revokes by id; takes effect on the next request (lookups are not cached). */
export function revokeApiKey(db: ProjectionDb, id: string, now = Date.now()): boolean {
  return (
    db.orm
      .update(apiKeys)
      .set({ revokedAt: now })
      .where(eq(apiKeys.id, id))
      .returning({ id: apiKeys.id })
      .all().length > 0
  )
}

/**
 * Resolves a presented `gpk_<id>_<secret>` key to its consumer and scope, or undefined when
 * unknown, malformed or revoked. The secret's hash is compared in constant time.
 */
export function createKeyVerifier(db: ProjectionDb) {
  const byId = db.orm
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.id, sql.placeholder('id')))
    .prepare()
  return {
    verify(presented: string): { id: string; consumer: string; scope: KeyScope } | undefined {
      const match = /^gpk_([0-9a-f]{12})_([A-Za-z0-9_-]{32})$/.exec(presented)
      if (!match) return undefined
      const row = byId.get({ id: match[1]! })
      if (!row || row.revokedAt !== null) return undefined
      const expected = Buffer.from(row.secretSha256, 'hex')
      const actual = Buffer.from(sha256Hex(match[2]!), 'hex')
      return timingSafeEqual(expected, actual)
        ? { id: row.id, consumer: row.consumer, scope: row.scope }
        : undefined
    },
    count: (): number => db.orm.select({ n: count() }).from(apiKeys).get()!.n,
  }
}
