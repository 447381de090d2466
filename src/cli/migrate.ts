import { mkdirSync } from 'node:fs'
import { openKeyStore } from '@/access'
import { migrate as applyMigrations, openProjectionDb } from '@/projection'
import type { Config } from '../config'

/** `gridpulse migrate`: applies the embedded migrations to DATA_DIR's projection and exits. */
export function migrate(config: Config): number {
  mkdirSync(config.data.dir, { recursive: true })
  // Before the projection's migrations, which drop the table the keys are carried over from.
  openKeyStore(config.data.accessPath, { carryOverFrom: config.data.projectionPath }).close()
  const db = openProjectionDb(config.data.projectionPath, { migrate: false })
  const { applied } = applyMigrations(db)
  db.sqlite.close()
  process.stdout.write(
    applied.length ? `applied ${applied.join(', ')}\n` : 'database is up to date\n'
  )
  return 0
}
