import diagnostics from 'node:diagnostics_channel'
import pino from 'pino'

/**
 * Bun's TracingChannel lacks Node's `hasSubscribers`, so pino (which skips its tracing wrapper only
 * when that is `false`) wrapped every log line in `traceSync` with no subscriber: a tenth of a
 * cached API answer's cost, measured. Node's definition: any of the channels has a subscriber.
 */
function defineTracingHasSubscribers() {
  type Channels = Partial<Record<string, { hasSubscribers?: boolean }>>
  const probe: object = diagnostics.tracingChannel('gridpulse_probe')
  if ('hasSubscribers' in probe) return
  Object.defineProperty(Object.getPrototypeOf(probe), 'hasSubscribers', {
    get(this: Channels) {
      return ['start', 'end', 'asyncStart', 'asyncEnd', 'error'].some(
        (name) => this[name]?.hasSubscribers === true
      )
    },
  })
}
defineTracingHasSubscribers()

export type Logger = pino.Logger
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

/**
 * The root JSON logger. No transports: they spawn worker threads that break in compiled binaries.
 * Pretty output in development comes from a pipe (`| bunx pino-pretty`).
 */
export function createLogger(options: {
  level: LogLevel
  destination?: pino.DestinationStream
}): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'gridpulse' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // API keys and gateway secrets must never reach a log line.
      redact: {
        paths: ['req.headers.apikey', 'req.headers["x-gateway-secret"]', 'apikey', 'key'],
        censor: '[redacted]',
      },
    },
    options.destination ?? pino.destination({ fd: 1, sync: false })
  )
}

/** A logger that drops everything, for tests and subcommands that must keep stdout clean. */
export const silentLogger = (): Logger => pino({ level: 'silent' })
