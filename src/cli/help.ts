import { COMMIT, TARGET, VERSION } from '@/node'

export const HELP = `gridpulse ${VERSION} — AEMO NEM market data and weather, one canonical model, one API

Usage: gridpulse [command]

Commands:
  serve        run pollers, event log, projection and the HTTP API (default)
  migrate      apply database migrations and exit
  openapi      print the OpenAPI 3.1 document of this build
  healthcheck  GET /health on 127.0.0.1:$PORT; exit 0 when alive (for distroless images)
  backfill --source dispatchis|scada|dispatch|rooftop --from YYYY-MM-DD --to YYYY-MM-DD
               ingest NEMWeb Archive zips (market dates, inclusive; rooftop: the weekly zips
               covering them) into the event log; resumable: a rerun skips finished zips and
               continues an interrupted one
  keys create --consumer NAME --scope read|write
               create an API key for a team (printed once; only its hash is stored)
  keys list    list keys (id, consumer, scope, created, revoked)
  keys revoke ID
               revoke a key; it stops working at once
  help         this text

Configuration comes from the environment only; see the README's configuration table.
`

/** `gridpulse help` (also `--help`, `-h`). */
export function help(): number {
  process.stdout.write(HELP)
  return 0
}

/** `gridpulse version` (also `--version`): one line, for bug reports and fleet inventories. */
export function version(): number {
  process.stdout.write(
    `gridpulse ${VERSION} (commit ${COMMIT}, target ${TARGET}, bun ${process.versions.bun})\n`
  )
  return 0
}
