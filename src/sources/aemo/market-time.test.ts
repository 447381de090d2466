import { describe, expect, test } from 'bun:test'
import { AemoSourceError } from './errors'
import {
  formatMarketTime,
  marketTimeToUtcIso,
  parseCompactMarketTime,
  parseMarketTime,
} from './market-time'

describe('market time', () => {
  test('SETTLEMENTDATE in NEM time (UTC+10) converts to UTC', () => {
    expect(marketTimeToUtcIso('2021/09/02 12:55:00')).toBe('2021-09-02T02:55:00Z')
  })

  test('there is no daylight saving: a January (Sydney summer) time is still UTC+10', () => {
    expect(marketTimeToUtcIso('2020/01/31 15:35:00')).toBe('2020-01-31T05:35:00Z')
  })

  test('midnight and the small hours fall on the previous UTC day', () => {
    expect(marketTimeToUtcIso('2026/05/01 00:00:00')).toBe('2026-04-30T14:00:00Z')
    expect(marketTimeToUtcIso('2024/02/29 09:59:59')).toBe('2024-02-28T23:59:59Z')
  })

  test.each([
    '',
    '2021-09-02 12:55:00',
    '2021/09/02T12:55:00',
    '2021/09/02 12:55',
    '"2021/09/02 12:55:00"',
    '2021/13/02 12:55:00',
    '2021/02/29 12:55:00',
    '2021/09/31 12:55:00',
    '2021/09/02 24:00:00',
    '2021/09/02 12:60:00',
    '2021/09/02 12:55:60',
    '2021/09/0x 12:55:00',
    ' 2021/09/02 12:55:00',
  ])('rejects malformed date %p', (text) => {
    expect(parseMarketTime(text)).toBeNull()
    expect(() => marketTimeToUtcIso(text)).toThrow(AemoSourceError)
  })

  test('the thrown error has a stable code and is not retryable', () => {
    try {
      marketTimeToUtcIso('2021/02/30 00:00:00')
      expect.unreachable()
    } catch (e) {
      expect(e).toBeInstanceOf(AemoSourceError)
      expect((e as AemoSourceError).code).toBe('invalid_market_time')
      expect((e as AemoSourceError).retryable).toBe(false)
    }
  })

  test('file-name stamps (YYYYMMDDHHmm) are NEM time too', () => {
    expect(parseCompactMarketTime('202111081435')).toBe(Date.parse('2021-11-08T04:35:00Z'))
    expect(parseCompactMarketTime('202111081460')).toBeNull()
    expect(parseCompactMarketTime('20211108143')).toBeNull()
  })

  test('formatMarketTime is the inverse of parseMarketTime', () => {
    for (const text of ['2021/09/02 12:55:00', '2020/02/01 00:00:00', '2026/04/30 23:55:05']) {
      expect(formatMarketTime(parseMarketTime(text)!)).toBe(text)
    }
  })
})
