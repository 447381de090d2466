import pino from 'pino'

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
