import { expect, test } from 'bun:test'
import { Writable } from 'node:stream'
import { createLogger } from './logger'
import { logProcessWarnings } from './warnings'

test('a process warning becomes one JSON log line instead of plain text on stderr', async () => {
  const lines: string[] = []
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean))
      done()
    },
  })
  const before = process.listeners('warning')
  const restore = logProcessWarnings(createLogger({ level: 'info', destination: sink }))
  try {
    // Bun's own printer is gone: ours is the only listener.
    expect(process.listeners('warning')).toHaveLength(1)
    process.emitWarning('too many listeners on a signal', {
      type: 'MaxListenersExceededWarning',
      code: 'GP_TEST',
    })
    const deadline = Date.now() + 5_000
    while (lines.length === 0 && Date.now() < deadline) await Bun.sleep(5)
  } finally {
    restore()
  }
  expect(process.listeners('warning')).toEqual(before)
  expect(lines).toHaveLength(1)
  expect(JSON.parse(lines[0]!)).toMatchObject({
    level: 'warn',
    msg: 'too many listeners on a signal',
    'warning.name': 'MaxListenersExceededWarning',
    'warning.code': 'GP_TEST',
  })
})
