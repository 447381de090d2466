import { describe, expect, test } from 'bun:test'
import { addressKey, createSlidingWindowLimiter } from './sliding-window'

const T0 = Date.parse('2026-04-01T00:00:00Z')

describe('sliding-window limiter', () => {
  test('no 60 s interval ever holds more than the limit, wherever it starts', () => {
    const limiter = createSlidingWindowLimiter({ limit: 100 })
    const accepted: number[] = []
    // A client retrying every 37 ms for five minutes, crossing four minute boundaries.
    for (let t = T0 + 30_000; t < T0 + 330_000; t += 37) {
      if (limiter.hit('analytics', t).allowed) accepted.push(t)
    }
    let worst = 0
    for (let i = 0, j = 0; i < accepted.length; i++) {
      while (accepted[i]! - accepted[j]! >= 60_000) j++
      worst = Math.max(worst, i - j + 1)
    }
    expect(worst).toBe(100)
    // …and the client still gets its full rate over time (5 minutes ≈ 5 × 100).
    expect(accepted.length).toBeGreaterThanOrEqual(500)
    expect(accepted.length).toBeLessThanOrEqual(501)
  })

  test('a huge limit costs only what is used (bench sets RATE_LIMIT_PER_MINUTE=1e9)', () => {
    const limiter = createSlidingWindowLimiter({ limit: 1_000_000_000 })
    for (let i = 0; i < 100_000; i++) expect(limiter.hit('bench', T0 + i).allowed).toBe(true)
    // Only what is inside the window counts: the 59,999 of the last minute and this one.
    expect(limiter.hit('bench', T0 + 100_000).remaining).toBe(1_000_000_000 - 60_000)
    expect(limiter.hit('bench', T0 + 160_000).remaining).toBe(1_000_000_000 - 1)
  })

  test('remaining and reset describe the window', () => {
    const limiter = createSlidingWindowLimiter({ limit: 3 })
    expect(limiter.hit('k', T0)).toEqual({
      allowed: true,
      limit: 3,
      remaining: 2,
      resetSeconds: 60,
    })
    expect(limiter.hit('k', T0 + 20_000).remaining).toBe(1)
    expect(limiter.hit('k', T0 + 40_000).remaining).toBe(0)
    expect(limiter.hit('k', T0 + 45_500)).toEqual({
      allowed: false,
      limit: 3,
      remaining: 0,
      resetSeconds: 15,
    })
    // The first request ages out exactly 60 s after it was sent.
    expect(limiter.hit('k', T0 + 60_000).allowed).toBe(true)
  })

  test('memory is bounded: idle keys are dropped, and rotating keys never grow the map', () => {
    const limiter = createSlidingWindowLimiter({ limit: 5, maxKeys: 1000 })
    for (let i = 0; i < 50_000; i++) limiter.hit(`rotating-${i}`, T0 + i)
    expect(limiter.size).toBe(1000)
    // A minute later every one of them is idle: the next new key clears them out.
    limiter.hit('late', T0 + 50_000 + 60_000)
    expect(limiter.size).toBe(1)
  })

  test('under rotation the least recently used key is evicted, not an active heavy user', () => {
    const limiter = createSlidingWindowLimiter({ limit: 5, maxKeys: 100 })
    for (let i = 0; i < 5; i++) limiter.hit('heavy', T0)
    expect(limiter.hit('heavy', T0).allowed).toBe(false)
    for (let i = 0; i < 1000; i++) {
      limiter.hit(`rotating-${i}`, T0 + 1 + i)
      // the heavy user keeps trying (and keeps being refused)
      if (i % 50 === 0) expect(limiter.hit('heavy', T0 + 1 + i).allowed).toBe(false)
    }
    expect(limiter.size).toBe(100)
  })
})

test('address keys: IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 by /64', () => {
  expect(addressKey('203.0.113.7')).toBe('203.0.113.7')
  expect(addressKey('::ffff:203.0.113.7')).toBe('203.0.113.7')
  expect(addressKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64')
  expect(addressKey('2001:0db8:0001:0002:ffff:1:2:3')).toBe('2001:db8:1:2::/64')
  expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64')
  expect(addressKey('::1')).toBe('0:0:0:0::/64')
  expect(addressKey(undefined)).toBe('unknown')
})
