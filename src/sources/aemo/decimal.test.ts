import { describe, expect, test } from 'bun:test'
import { megawattsToWatts, parseDecimal } from './decimal'

describe('parseDecimal', () => {
  test('reads the decimals MMS writes', () => {
    expect(parseDecimal('65.01005')).toBe(65.01005)
    expect(parseDecimal('-2.01')).toBe(-2.01)
    expect(parseDecimal('0')).toBe(0)
    expect(parseDecimal('67002.8078883333333333333333')).toBeCloseTo(67002.80788833333, 8)
    expect(parseDecimal('1E-5')).toBe(0.00001)
  })

  test.each(['', ' ', 'abc', '0x1A', 'Infinity', 'NaN', '1,5', '1.2.3', '- 1', '1e999'])(
    'rejects %p',
    (text) => {
      expect(parseDecimal(text)).toBeNull()
    }
  )
})

describe('megawattsToWatts', () => {
  test('is exact for up to 6 decimals (the live SCADA file has 6)', () => {
    expect(megawattsToWatts('221.072160')).toBe(221_072_160)
    expect(megawattsToWatts('9.599998')).toBe(9_599_998)
    expect(megawattsToWatts('-0.206753')).toBe(-206_753)
    expect(megawattsToWatts('27.30')).toBe(27_300_000)
    expect(megawattsToWatts('0')).toBe(0)
    expect(megawattsToWatts('-0')).toBe(0)
    expect(megawattsToWatts('.5')).toBe(500_000)
    expect(megawattsToWatts('5.')).toBe(5_000_000)
  })

  test('sums of watts are exact where sums of floats are not', () => {
    expect(0.1 + 0.2).not.toBe(0.3)
    expect(megawattsToWatts('0.1')! + megawattsToWatts('0.2')!).toBe(megawattsToWatts('0.3')!)
  })

  test('rounds longer fractions half away from zero, and reads exponents', () => {
    expect(megawattsToWatts('1.0000005')).toBe(1_000_001)
    expect(megawattsToWatts('1.00000049')).toBe(1_000_000)
    expect(megawattsToWatts('-1.0000005')).toBe(-1_000_001)
    expect(megawattsToWatts('0.0000004')).toBe(0)
    expect(megawattsToWatts('1.5E2')).toBe(150_000_000)
    expect(megawattsToWatts('25E-7')).toBe(3)
  })

  test('non-numbers are null and absurd magnitudes are infinite', () => {
    for (const text of ['', '-', '.', 'x', '1,5', '1.2.3', '0x10'])
      expect(megawattsToWatts(text)).toBeNull()
    expect(megawattsToWatts('99999999999999')).toBe(Infinity)
    expect(megawattsToWatts('-1e20')).toBe(-Infinity)
  })
})
