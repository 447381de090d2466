import type { Logger } from './logger'

type WarningListener = (warning: Error) => void

/**
 * Process warnings (`process.emitWarning`: deprecations, MaxListenersExceededWarning on a busy
 * AbortSignal, …) are printed by Bun's default `'warning'` listener as plain text on stderr, which
 * breaks the one-JSON-object-per-line log. This replaces that printer with one that logs through
 * pino, so a warning is still seen (level warn, with its name and code) but as a JSON line.
 * Returns a function that restores the previous listeners.
 */
export function logProcessWarnings(log: Logger): () => void {
  const previous = process.listeners('warning') as WarningListener[]
  for (const listener of previous) process.off('warning', listener)
  const listener: WarningListener = (warning) => {
    const code = (warning as Error & { code?: unknown }).code
    log.warn(
      {
        'warning.name': warning.name,
        ...(typeof code === 'string' ? { 'warning.code': code } : {}),
      },
      warning.message
    )
  }
  process.on('warning', listener)
  return () => {
    process.off('warning', listener)
    for (const l of previous) process.on('warning', l)
  }
}
