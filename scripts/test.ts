#!/usr/bin/env bun
/**
 * `bun run test`: the whole suite, with a real Kafka broker.
 *
 * 1. Type-checks (`tsc --noEmit`) while a throwaway broker starts (`scripts/kafka-broker.sh start
 *    --port auto --name test-<pid>`), unless KAFKA_BROKERS already points at one.
 * 2. Runs `bun test` (no filter: every tier) with KAFKA_BROKERS exported, streaming its output.
 * 3. Stops the broker (also on failure and on SIGINT/SIGTERM) and exits with bun test's code.
 *
 * No Java on this machine (the broker script exits 3): the Kafka tests skip, loudly. Any other
 * broker failure fails the run: CI must not turn a broken broker into skipped tests.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Subprocess } from 'bun'

const ROOT = resolve(import.meta.dir, '..')
const BROKER_SCRIPT = join(ROOT, 'scripts', 'kafka-broker.sh')
const BROKER_NAME = `test-${process.pid}`
const EX_MISSING_PREREQ = 3
// Process-level tests append the pid of every GridPulse child they start (tests/integration/support.ts).
const PIDS_FILE = join(tmpdir(), `gridpulse-test-${process.pid}.pids`)

const banner = (lines: string[]) =>
  console.error(['', '#'.repeat(78), ...lines.map((l) => `# ${l}`), '#'.repeat(78), ''].join('\n'))

let broker: 'none' | 'external' | 'ours' = 'none'
let tests: Subprocess | undefined
let stopping: Promise<void> | undefined

/** Stops what this run started: its broker, and dedicated brokers a killed test run left behind. */
function cleanup(): Promise<void> {
  stopping ??= (async () => {
    reapTestChildren()
    const names = broker === 'ours' ? [BROKER_NAME] : []
    // Fault tests start brokers named it-<scenario>-<bun test pid> and stop them in afterAll; after
    // a crash or Ctrl-C they would keep running.
    const runDir = join(
      process.env.GRIDPULSE_CACHE ?? join(process.env.HOME ?? '/tmp', '.cache', 'gridpulse'),
      'kafka-run'
    )
    if (tests && existsSync(runDir)) {
      for (const file of readdirSync(runDir)) {
        const m = file.match(new RegExp(`^(it-[a-z]+-${tests.pid})\\.state$`))
        if (m) names.push(m[1]!)
      }
    }
    await Promise.all(
      names.map(
        (name) =>
          Bun.spawn(['bash', BROKER_SCRIPT, 'stop', '--name', name], {
            stdout: 'ignore',
            stderr: 'inherit',
          }).exited
      )
    )
  })()
  return stopping
}

/** Kills GridPulse children an interrupted test run left behind (only pids it recorded, still ours). */
function reapTestChildren() {
  if (!existsSync(PIDS_FILE)) return
  for (const pid of readFileSync(PIDS_FILE, 'utf8').split('\n').filter(Boolean).map(Number)) {
    try {
      // Guard against pid reuse: only a process still running src/main.ts.
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('src/main.ts'))
        process.kill(pid, 'SIGKILL')
    } catch {}
  }
  rmSync(PIDS_FILE, { force: true })
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    console.error(`\nscripts/test.ts: ${signal}: stopping`)
    tests?.kill(signal)
    await tests?.exited
    await cleanup()
    process.exit(signal === 'SIGINT' ? 130 : 143)
  })
}

async function startBroker(): Promise<string | undefined> {
  const proc = Bun.spawn(
    ['bash', BROKER_SCRIPT, 'start', '--port', 'auto', '--name', BROKER_NAME],
    {
      cwd: ROOT,
      stdout: 'pipe',
      stderr: 'inherit', // progress and errors, as they happen
    }
  )
  broker = 'ours'
  const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited])
  if (code === EX_MISSING_PREREQ) {
    broker = 'none'
    banner([
      'NO KAFKA BROKER: scripts/kafka-broker.sh found no Java 17+ (or no cached jars and no Maven).',
      'The Kafka integration tests (tests/integration) will be SKIPPED.',
      'Install openjdk-17-jre-headless and maven, or set KAFKA_BROKERS, to run them.',
    ])
    return undefined
  }
  const line = stdout.trim().split('\n').pop() ?? ''
  if (code !== 0 || !line.startsWith('KAFKA_BROKERS=')) {
    throw new Error(`scripts/kafka-broker.sh start failed (exit ${code}); see its output above`)
  }
  return line.slice('KAFKA_BROKERS='.length)
}

async function main(): Promise<number> {
  const external = process.env.KAFKA_BROKERS
  if (external) broker = 'external'
  const typecheck = Bun.spawn([join(ROOT, 'node_modules', '.bin', 'tsc'), '--noEmit'], {
    cwd: ROOT,
    stdout: 'inherit',
    stderr: 'inherit',
  })
  const brokers = external ? Promise.resolve(external) : startBroker()
  brokers.catch(() => {}) // awaited below, after the type check
  console.error(
    `scripts/test.ts: type-checking${external ? '' : ' while a Kafka broker starts'} ...`
  )
  const typecheckCode = await typecheck.exited
  if (typecheckCode !== 0) {
    console.error('scripts/test.ts: tsc --noEmit failed')
    await brokers.catch(() => {}) // let a starting broker finish, so that cleanup() stops it
    return typecheckCode
  }
  let kafka: string | undefined
  try {
    kafka = await brokers
  } catch (error) {
    console.error(`scripts/test.ts: ${error instanceof Error ? error.message : error}`)
    return 1
  }
  console.error(
    kafka
      ? `scripts/test.ts: KAFKA_BROKERS=${kafka} (${broker === 'ours' ? `broker ${BROKER_NAME}` : 'from the environment'})`
      : ''
  )

  const env: Record<string, string | undefined> = { ...process.env }
  if (kafka) env.KAFKA_BROKERS = kafka
  else delete env.KAFKA_BROKERS
  env.GRIDPULSE_TEST_PIDS = PIDS_FILE
  tests = Bun.spawn([process.execPath, 'test'], {
    cwd: ROOT,
    env,
    stdin: 'inherit',
    stdout: 'inherit',
    stderr: 'inherit',
  })
  return tests.exited
}

let code = 1
try {
  code = await main()
} catch (error) {
  console.error('scripts/test.ts:', error)
} finally {
  await cleanup()
}
process.exit(code)
