import { mkdirSync } from 'node:fs'
import { openKeyStore } from '@/access'
import type { Config } from '../config'

/** `gridpulse keys create|list|revoke`: a team's API keys (only hashes are stored). */
export function keys(config: Config, args: string[]): number {
  const [action, ...options] = args
  const flag = (name: string) => {
    const i = options.indexOf(`--${name}`)
    return i >= 0 ? options[i + 1] : undefined
  }
  mkdirSync(config.data.dir, { recursive: true })
  const store = openKeyStore(config.data.accessPath, { carryOverFrom: config.data.projectionPath })
  try {
    if (action === 'create') {
      const consumer = flag('consumer')
      const scope = flag('scope') ?? 'read'
      if (
        !consumer ||
        !/^[a-z0-9][a-z0-9-]{0,62}$/.test(consumer) ||
        (scope !== 'read' && scope !== 'write')
      ) {
        console.error(
          'usage: gridpulse keys create --consumer NAME --scope read|write  (NAME: lowercase letters, digits, -)'
        )
        return 64
      }
      const { key, info } = store.create(consumer, scope)
      process.stderr.write(
        `created key ${info.id} for ${consumer} (${scope}); it is shown once, store it now:\n`
      )
      process.stdout.write(`${key}\n`)
      return 0
    }
    if (action === 'list') {
      for (const k of store.list()) {
        process.stdout.write(
          `${k.id}\t${k.consumer}\t${k.scope}\t${k.createdAt}\t${k.revokedAt ? `revoked ${k.revokedAt}` : 'active'}\n`
        )
      }
      return 0
    }
    if (action === 'revoke' && options[0]) {
      if (store.revoke(options[0])) return 0
      console.error(`no key with id ${options[0]}`)
      return 1
    }
    console.error(
      'usage: gridpulse keys create --consumer NAME --scope read|write | keys list | keys revoke ID'
    )
    return 64
  } finally {
    store.close()
  }
}
