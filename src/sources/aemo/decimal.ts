/**
 * Strict number parsing for MMS CSV values. `Number()` alone is too lenient for a data feed:
 * `Number('')` and `Number(' ')` are 0, `Number('0x1A')` is 26 and `Number('Infinity')` is finite
 * enough to pass a typeof check. MMS writes plain decimals (`-2.01`, `221.072160`), occasionally
 * with very long fractions (`67002.8078883333333333333333` in the 2020 PRICE archive).
 */

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,3})?$/

/** A decimal number, or null when the text is empty or not a plain decimal. */
export function parseDecimal(text: string): number | null {
  if (!DECIMAL.test(text)) return null
  const value = Number(text)
  return Number.isFinite(value) ? value : null
}

const POW10 = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000]

/**
 * A decimal number of megawatts as an integer number of WATTS (1 W = 10⁻⁶ MW), computed from the
 * digits rather than through a float, so sums of SCADA values are exact. SCADAVALUE carries up to
 * 6 decimals (`9.599998`, `221.072160` in the live file), which 1 W resolution represents exactly;
 * longer fractions (not seen in any AEMO file here) are rounded half away from zero to the watt.
 * Null when not a decimal; ±Infinity when beyond 2⁵³ W (≈ 9 TW), which no range check accepts.
 */
export function megawattsToWatts(text: string): number | null {
  const n = text.length
  let i = 0
  let negative = false
  const first = text.charCodeAt(0)
  if (first === 45 || first === 43) {
    negative = first === 45
    i = 1
  }
  let acc = 0
  let digitCount = 0
  let fractionDigits = 0
  let seenDot = false
  for (; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c >= 48 && c <= 57) {
      if (seenDot) {
        if (fractionDigits === 6) return slowWatts(text)
        fractionDigits++
      }
      acc = acc * 10 + (c - 48)
      digitCount++
    } else if (c === 46 && !seenDot) {
      seenDot = true
    } else {
      return slowWatts(text)
    }
  }
  if (digitCount === 0) return null
  // 15 digits stay below 2^53, so `acc` is exact.
  if (digitCount > 15) return slowWatts(text)
  const watts = acc * POW10[6 - fractionDigits]!
  if (!Number.isSafeInteger(watts)) return negative ? -Infinity : Infinity
  return negative && watts !== 0 ? -watts : watts
}

const SLOW = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,3}))?$/

/** Exponents, more than 6 decimals or more than 15 digits: shift the decimal point in the digit string. */
function slowWatts(text: string): number | null {
  const m = SLOW.exec(text)
  if (m === null) return null
  const [, sign, whole = '', fraction = '', exponent = '0'] = m
  if (whole.length + fraction.length === 0) return null
  const digits = (whole + fraction).replace(/^0+(?=\d)/, '')
  const shift = 6 - fraction.length + Number(exponent)
  let watts: number
  if (shift >= 0) {
    watts = digits.length + shift > 16 ? Infinity : Number(digits + '0'.repeat(shift))
  } else {
    const keep = digits.length + shift
    if (keep < 0) {
      watts = 0
    } else if (keep > 16) {
      watts = Infinity
    } else {
      const roundUp = keep < digits.length && digits.charCodeAt(keep) >= 53
      watts = Number(digits.slice(0, keep) || '0') + (roundUp ? 1 : 0)
    }
  }
  if (!Number.isSafeInteger(watts)) return sign === '-' ? -Infinity : Infinity
  return sign === '-' && watts !== 0 ? -watts : watts
}

/** Integer watts → megawatts (the nearest double to the exact decimal). */
export const wattsToMegawatts = (watts: number): number => watts / 1_000_000
