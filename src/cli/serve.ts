import { createNode, type GridPulseNode, VERSION } from '@/node'
import { createLogger, type Logger, logProcessWarnings } from '@/observability'
import type { Config } from '../config'

/** A wildcard bind is reachable on every interface; localhost is the one name that always works. */
function docsHost(host: string): string {
  if (['0.0.0.0', '::', '[::]'].includes(host)) return 'localhost'
  return host.includes(':') ? `[${host}]` : host
}

/** Until SIGTERM, SIGINT, or the node failing (then its exit code stands). */
function stopRequested(node: GridPulseNode): Promise<string> {
  return new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'))
    process.once('SIGINT', () => resolve('SIGINT'))
    void node.failed.then(() => resolve('fatal'))
  })
}

/** Pollers first, then the HTTP server, consumer, event log and databases; a hard time limit. */
async function shutdown(node: GridPulseNode, config: Config, log: Logger): Promise<void> {
  const timer = setTimeout(() => {
    log.error({ timeout_ms: config.shutdownTimeoutMs }, 'shutdown timed out')
    process.exit(1)
  }, config.shutdownTimeoutMs)
  await node.close()
  clearTimeout(timer)
}

/** `gridpulse serve`: a node behind an HTTP server until a signal, or until it cannot go on. */
export async function serve(config: Config): Promise<number> {
  const log = createLogger({ level: config.log.level })
  // The log is JSON lines: a process warning must not arrive as Bun's plain-text printout.
  logProcessWarnings(log.child({ component: 'process' }))
  const started = performance.now()
  const node = await createNode(config, { log })
  const server = Bun.serve({
    port: config.http.port,
    hostname: config.http.host,
    fetch: node.fetch,
    maxRequestBodySize: 16 * 1024 * 1024,
  })
  node.closeWith('http server', () => server.stop())
  // Closed first (closers run in reverse): open streams would keep server.stop() waiting forever.
  node.closeWith('live streams', () => node.stream.close())
  const docsUrl = `http://${docsHost(config.http.host)}:${server.port}/docs`
  log.info(
    {
      port: server.port,
      docs_url: docsUrl,
      data_dir: config.data.dir,
      bus: node.bus.kind,
      version: VERSION,
      startup_ms: Math.round(performance.now() - started),
    },
    `gridpulse is serving; docs at ${docsUrl}`
  )
  const signal = await stopRequested(node)
  log.info({ signal }, 'shutting down')
  await shutdown(node, config, log)
  log.info('stopped')
  log.flush()
  return node.exitCode() ?? 0
}
