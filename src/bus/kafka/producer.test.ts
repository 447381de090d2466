import { describe, expect, test } from 'bun:test'
import type { Message } from 'kafkajs'
import type { DeadLetter } from '@/canonical'
import { partitionFor } from '@/lib'
import { fitDeadLetter } from './dead-letter-size'
import { isUndeliverable, kafkaErrorType, splitRequests } from './producer'

const message = (key: string, bytes: number): Message => ({
  key,
  value: 'x'.repeat(bytes),
  headers: { 'event-type': 'MarketDispatchEvent' },
})

describe('request sizing', () => {
  test('no partition gets more than the budget per request; order is kept', () => {
    const messages = Array.from({ length: 30 }, (_, i) => ({
      ...message(['NSW1', 'VIC1', 'QLD1'][i % 3]!, 100),
      value: `${i}`.padEnd(100),
    }))
    const requests = splitRequests([{ topic: 't', messages }], () => 3, 1_000)
    for (const request of requests) {
      const perPartition = new Map<number, number>()
      for (const m of request[0]!.messages) {
        const p = partitionFor(String(m.key), 3)
        perPartition.set(
          p,
          (perPartition.get(p) ?? 0) +
            String(m.value).length +
            40 +
            'event-type'.length +
            'MarketDispatchEvent'.length
        )
      }
      for (const bytes of perPartition.values()) expect(bytes).toBeLessThanOrEqual(1_000)
    }
    expect(
      requests.flatMap((r) => r[0]!.messages).map((m) => Number.parseInt(String(m.value), 10))
    ).toEqual(messages.map((_, i) => i))
  })

  test('a small send is one request; an oversized message gets a request of its own', () => {
    expect(
      splitRequests([{ topic: 't', messages: [message('A', 10), message('B', 10)] }], () => 3)
    ).toHaveLength(1)
    const requests = splitRequests(
      [{ topic: 't', messages: [message('A', 10), message('A', 2_000), message('A', 10)] }],
      () => 1,
      1_000
    )
    expect(requests.map((r) => r[0]!.messages.length)).toEqual([1, 1, 1])
  })

  test('Kafka errors that no retry can fix are recognised through kafkajs wrappers', () => {
    const protocol = Object.assign(new Error('too large'), {
      type: 'MESSAGE_TOO_LARGE',
      retriable: false,
    })
    const wrapped = Object.assign(new Error('wrapped'), { cause: protocol })
    expect(kafkaErrorType(wrapped)).toBe('MESSAGE_TOO_LARGE')
    expect(isUndeliverable(wrapped)).toBe(true)
    expect(
      isUndeliverable(Object.assign(new Error('down'), { type: 'NOT_LEADER_FOR_PARTITION' }))
    ).toBe(false)
    expect(isUndeliverable(new Error('connection refused'))).toBe(false)
  })
})

describe('dead letters on Kafka', () => {
  const deadLetter = (raw: string): DeadLetter => ({
    dead_letter_id: '6f1c2a8e-4b3d-5e6f-8a9b-0c1d2e3f4a5b',
    topic: 'market.dispatch',
    reason: 'schema mismatch: value_mw: expected number',
    code: 'schema_mismatch',
    correlation_id: null,
    source: 'bus',
    source_file: null,
    row: null,
    raw,
    failed_at: '2026-04-01T00:00:00.000Z',
  })

  test('a small one is unchanged', () => {
    const small = deadLetter('{"x":1}')
    expect(fitDeadLetter(small)).toBe(small)
  })

  test('a huge raw payload is cut to fit, and the reason says so', () => {
    const huge = deadLetter('"\u0001'.repeat(400_000)) // JSON-escapes to ~3.2 MB
    const fitted = fitDeadLetter(huge, 512 * 1024)
    expect(Buffer.byteLength(JSON.stringify(fitted))).toBeLessThanOrEqual(512 * 1024)
    expect(huge.raw.startsWith(fitted.raw)).toBe(true)
    expect(fitted.reason).toStartWith(
      'schema mismatch: value_mw: expected number [raw truncated to '
    )
    expect(fitted.reason).toEndWith(`of ${huge.raw.length} characters to fit a Kafka message]`)
    expect(fitted.reason.length).toBeLessThanOrEqual(2_000)
  })
})
