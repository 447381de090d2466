#!/usr/bin/env bun
/**
 * The front door: parse argv, load the configuration, run one command of src/cli/. Only this file
 * hands the process environment to config.ts; the node itself is built in src/node/.
 */
import { backfill } from './cli/backfill'
import { healthcheck } from './cli/healthcheck'
import { HELP, help, version } from './cli/help'
import { keys } from './cli/keys'
import { migrate } from './cli/migrate'
import { openapi } from './cli/openapi'
import { serve } from './cli/serve'
import { type Config, ConfigError, loadConfig } from './config'
import { EX_CONFIG, EX_SOFTWARE, EX_USAGE } from './node'

interface Command {
  readonly run: (config: Config, args: string[]) => number | Promise<number>
  /** Whether the command reads arguments after its name (others refuse any). */
  readonly takesArgs?: boolean
}

const COMMANDS: Record<string, Command> = {
  serve: { run: serve },
  migrate: { run: migrate },
  openapi: { run: openapi },
  healthcheck: { run: healthcheck },
  keys: { run: keys, takesArgs: true },
  backfill: { run: backfill, takesArgs: true },
}

/** Commands that need no configuration, so they work whatever the environment holds. */
const INFO: Record<string, () => number> = {
  help,
  '--help': help,
  '-h': help,
  version,
  '--version': version,
}

async function main(argv: string[]): Promise<number> {
  const [command = 'serve', ...rest] = argv
  const info = Object.hasOwn(INFO, command) ? INFO[command] : undefined
  if (info) return info()
  let config: Config
  try {
    config = loadConfig(process.env)
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message)
      return EX_CONFIG
    }
    throw error
  }
  const entry = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined
  if (rest.length > 0 && !entry?.takesArgs) {
    console.error(`unexpected arguments: ${rest.join(' ')}\n\n${HELP}`)
    return EX_USAGE
  }
  if (!entry) {
    console.error(`unknown command: ${command}\n\n${HELP}`)
    return EX_USAGE
  }
  return entry.run(config, rest)
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error('fatal:', error)
    process.exit(EX_SOFTWARE)
  }
)
