import { describe, expect, test } from 'bun:test'
import diagnostics from 'node:diagnostics_channel'
import { Writable } from 'node:stream'
import { createLogger } from './logger'

describe('the logger', () => {
  test("pino's tracing channel says whether anyone listens, and a listener still sees lines", () => {
    const lines: string[] = []
    const log = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk))
          done()
        },
      }),
    })
    const channel = diagnostics.tracingChannel('pino_asJson') as unknown as {
      hasSubscribers: boolean
    }
    // false, not undefined: pino then skips its tracing wrapper (see defineTracingHasSubscribers).
    expect(channel.hasSubscribers).toBe(false)
    let traced = 0
    const listener = { start: () => traced++, end() {}, asyncStart() {}, asyncEnd() {}, error() {} }
    diagnostics.tracingChannel('pino_asJson').subscribe(listener)
    expect(channel.hasSubscribers).toBe(true)
    log.info({ a: 1 }, 'traced')
    diagnostics.tracingChannel('pino_asJson').unsubscribe(listener)
    log.info({ a: 2 }, 'untraced')
    expect(traced).toBe(1)
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['traced', 'untraced'])
  })
})
