import { describe, expect, test } from 'bun:test'
import { createLoopRegistry, stalledLoops, supervise, type SupervisorLog } from './supervisor'

/** A logger that records (level, message) pairs. */
function recordingLog() {
  const lines: { level: string; msg: string }[] = []
  const fields: Record<string, unknown>[] = []
  const record = (level: string) => (f: object, msg: string) => {
    lines.push({ level, msg })
    fields.push(f as Record<string, unknown>)
  }
  const log: SupervisorLog = {
    child: () => log,
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
  }
  return { log, lines, fields }
}

const until = async (condition: () => boolean, what: string, timeoutMs = 5_000) => {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(5)
  }
}

describe('supervise', () => {
  test('restarts a loop whatever ends it (a throw, a non-retriable error, a plain return), forever', async () => {
    const { log } = recordingLog()
    let runs = 0
    const supervisor = supervise({
      name: 'flaky',
      log,
      baseMs: 1,
      capMs: 4,
      minMs: 0,
      run: async () => {
        runs++
        if (runs % 2 === 0) return
        throw new Error(`run ${runs} failed`)
      },
    })
    await until(() => runs >= 10, 'ten runs')
    await supervisor.stop()
    expect(supervisor.status().state).toBe('stopped')
    expect(supervisor.status().restarts).toBeGreaterThanOrEqual(9)
  })

  test('logs one line when the loop goes down and one when it is back (with how long it was down), not one per attempt', async () => {
    const { log, lines, fields } = recordingLog()
    // Each clock read advances 1 s: the outage spans many reads, so down_ms is well above zero.
    let clock = 0
    const now = () => (clock += 1_000)
    let runs = 0
    let release!: () => void
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const supervisor = supervise({
      name: 'consumer',
      log,
      now,
      baseMs: 1,
      capMs: 2,
      minMs: 0,
      run: async (signal, up) => {
        runs++
        if (runs < 6) throw new Error('broker down')
        up()
        await Promise.race([
          held,
          new Promise((resolve) => signal.addEventListener('abort', resolve)),
        ])
      },
    })
    await until(() => supervisor.status().state === 'running', 'running')
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1)
    expect(lines.filter((l) => l.level === 'info')).toEqual([
      { level: 'info', msg: 'consumer is running again' },
    ])
    const back = fields[lines.findIndex((l) => l.level === 'info')]!
    expect(back.down_ms as number).toBeGreaterThanOrEqual(5_000)
    expect(supervisor.status()).toMatchObject({ restarts: 5, lastError: null })
    release()
    await supervisor.stop()
  })

  test('the registry reports each loop; a critical loop down past the stall time is stalled', async () => {
    const registry = createLoopRegistry()
    const { log } = recordingLog()
    const down = supervise({
      name: 'relay',
      log,
      registry,
      critical: true,
      baseMs: 1,
      capMs: 2,
      minMs: 0,
      run: async () => {
        throw new Error('no broker')
      },
    })
    const fine = supervise({
      name: 'poller',
      log,
      registry,
      run: (signal, up) => {
        up()
        return new Promise((resolve) => signal.addEventListener('abort', () => resolve()))
      },
    })
    await until(() => registry.list().every((l) => l.restarts > 0 || l.state === 'running'), 'both')
    const now = Date.now()
    expect(stalledLoops(registry.list(), 60_000, now)).toEqual([])
    expect(stalledLoops(registry.list(), 60_000, now + 120_000).map((l) => l.name)).toEqual([
      'relay',
    ])
    await Promise.all([down.stop(), fine.stop()])
  })
})
