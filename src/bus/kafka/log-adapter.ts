import { type logCreator, logLevel } from 'kafkajs'
import type { Logger } from '@/observability'

// kafkajs warns whenever an idempotent producer's retries are limited. The relay limits them on
// purpose: it owns the retry loop (backoff with jitter, a fresh producer after a failure) and the
// projection de-duplicates by event id, so the warning is expected and logged at debug.
const EXPECTED_WARNINGS = ['Limiting retries for the idempotent producer']

/**
 * Forwards kafkajs's logs to a pino child (`component: 'kafkajs'`, `kafka.namespace`), STYLE.md §5.
 *
 * kafkajs logs at error level what it then retries ("This server is not the leader for that
 * topic-partition" during a broker restart, a refused connection, a crashed consumer it restarts).
 * Every kafkajs client here runs under GridPulse's own retry loops and supervisors, which log at
 * error level what truly failed; kafkajs's errors therefore reach operators as warnings, so an
 * error line always means something needs a person.
 */
export const kafkaLogCreator =
  (log: Logger): logCreator =>
  () => {
    const root = log.child({ component: 'kafkajs' })
    return ({ namespace, level, log: entry }) => {
      const { message, timestamp: _ts, logger: _logger, ...fields } = entry
      const child = root.child({ 'kafka.namespace': namespace })
      if (EXPECTED_WARNINGS.some((w) => message.includes(w))) child.debug(fields, message)
      else if (level === logLevel.ERROR || level === logLevel.WARN) child.warn(fields, message)
      else if (level === logLevel.INFO) child.info(fields, message)
      else child.debug(fields, message)
    }
  }
