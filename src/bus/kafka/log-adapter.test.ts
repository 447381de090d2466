import { describe, expect, test } from 'bun:test'
import { logLevel } from 'kafkajs'
import { createLogger } from '@/observability'
import { kafkaLogCreator } from './log-adapter'

describe('kafkajs log adapter', () => {
  test('kafkajs errors (retried by kafkajs or by our supervisors) reach operators as warnings', () => {
    const lines: { level: string; msg: string; component: string }[] = []
    const log = createLogger({
      level: 'debug',
      destination: { write: (line: string) => lines.push(JSON.parse(line)) },
    })
    const forward = kafkaLogCreator(log)(logLevel.DEBUG)
    const entry = (message: string) => ({
      namespace: 'Connection',
      label: 'ERROR',
      log: { timestamp: '', logger: 'kafkajs', message, broker: '127.0.0.1:9092' },
    })
    forward({
      ...entry('This server is not the leader for that topic-partition'),
      level: logLevel.ERROR,
    })
    forward({ ...entry('Connection timeout'), level: logLevel.WARN })
    forward({ ...entry('Limiting retries for the idempotent producer'), level: logLevel.WARN })
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'This server is not the leader for that topic-partition'],
      ['warn', 'Connection timeout'],
      ['debug', 'Limiting retries for the idempotent producer'],
    ])
    expect(lines.every((l) => l.component === 'kafkajs')).toBe(true)
  })
})
