import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { createEmbeddedBus, createKafkaBus, type EventBus } from '@/bus'
import { sleep } from '@/lib'
import { createLogger } from '@/observability'
import { type NemwebKind, runBackfill } from '@/sources'
import type { Config } from '../config'

const USAGE =
  'usage: gridpulse backfill --source dispatchis|scada|dispatch|rooftop --from YYYY-MM-DD [--to YYYY-MM-DD]'

/** `--source`, `--from`, `--to` (market dates, inclusive); undefined when they do not make a range. */
function parseArgs(args: string[]) {
  const flag = (name: string) => {
    const i = args.indexOf(`--${name}`)
    return i >= 0 ? args[i + 1] : undefined
  }
  const source = flag('source')
  const from = flag('from')
  const to = flag('to') ?? from
  const date = /^\d{4}-\d{2}-\d{2}$/
  const kinds: readonly NemwebKind[] =
    source === 'dispatch'
      ? ['dispatchis', 'scada']
      : source === 'dispatchis' || source === 'scada' || source === 'rooftop'
        ? [source]
        : []
  if (
    kinds.length === 0 ||
    !from ||
    !to ||
    !date.test(from) ||
    !date.test(to) ||
    from > to ||
    Number.isNaN(Date.parse(from)) ||
    Number.isNaN(Date.parse(to))
  )
    return undefined
  return { kinds, from, to }
}

/**
 * Embedded: the backfill appends to the log the running node consumes (the SQLite log is safe for
 * a second writer process). Kafka: it has an outbox of its own, so the node's relay and this one
 * never send the same rows, and it waits for that outbox to drain before exiting.
 */
async function openBackfillLog(config: Config): Promise<EventBus> {
  const log = createLogger({ level: config.log.level === 'info' ? 'warn' : config.log.level })
  mkdirSync(config.data.dir, { recursive: true })
  return config.bus.kind === 'kafka'
    ? await createKafkaBus({
        brokers: config.bus.brokers,
        security: config.bus.security,
        nodeId: `${config.nodeId}-backfill`,
        outboxPath: join(config.data.dir, 'backfill-outbox.sqlite'),
        log,
        leadership: false,
      })
    : createEmbeddedBus({ path: config.data.logPath, log })
}

/**
 * `gridpulse backfill`: NEMWeb Archive zips (daily; weekly for rooftop PV) into the event log; a
 * rerun resumes.
 */
export async function backfill(config: Config, args: string[]): Promise<number> {
  const range = parseArgs(args)
  if (!range) {
    console.error(USAGE)
    return 64
  }
  const bus = await openBackfillLog(config)
  const abort = new AbortController()
  process.once('SIGINT', () => abort.abort())
  process.once('SIGTERM', () => abort.abort())
  let failed = false
  try {
    for (const kind of range.kinds) {
      const result = await runBackfill({
        baseUrl: config.sources.aemo.baseUrl,
        kind,
        from: range.from,
        to: range.to,
        sink: bus,
        signal: abort.signal,
        // One updating line on a terminal; one line per step in a log file.
        progress: (line) =>
          process.stderr.write(process.stderr.isTTY ? `\r\x1b[2K${line}` : `${line}\n`),
      })
      process.stderr.write(
        `\n${kind}: ${result.days} ${kind === 'rooftop' ? 'weekly archives' : 'days'}, ${result.files} files, ${result.events} events, ${result.rejected} rejected${result.missing.length ? `; not in the archive: ${result.missing.join(', ')}` : ''}\n`
      )
      if (abort.signal.aborted) {
        process.stderr.write('interrupted; run the same command again to resume\n')
        failed = true
        break
      }
    }
    while (!abort.signal.aborted && bus.health().outboxDepth > 0) {
      process.stderr.write(`waiting for ${bus.health().outboxDepth} events to reach Kafka\n`)
      await sleep(2_000, abort.signal)
    }
  } catch (error) {
    process.stderr.write(
      `\nbackfill failed: ${error instanceof Error ? error.message : String(error)} (rerun to resume)\n`
    )
    failed = true
  } finally {
    await bus.close()
  }
  return failed ? 1 : 0
}
