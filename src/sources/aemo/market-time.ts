import { toUtcIso } from '@/lib'
import { AemoSourceError } from './errors'

/**
 * NEM market time is AEST, UTC+10 all year: AEMO does not observe daylight saving, so
 * `2021/09/02 12:55:00` (any month) is `2021-09-02T02:55:00Z`.
 */
export const NEM_UTC_OFFSET_MS = 10 * 60 * 60 * 1000

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** Digits at s[from, from+len) as a number, or -1 if any is not an ASCII digit. */
function digits(s: string, from: number, len: number): number {
  let n = 0
  for (let i = from; i < from + len; i++) {
    const d = s.charCodeAt(i) - 48
    if (d < 0 || d > 9) return -1
    n = n * 10 + d
  }
  return n
}

function utcMsFromFields(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number
): number | null {
  if (
    y < 1990 ||
    mo < 1 ||
    mo > 12 ||
    d < 1 ||
    h < 0 ||
    h > 23 ||
    mi < 0 ||
    mi > 59 ||
    s < 0 ||
    s > 59
  )
    return null
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0
  const monthDays = mo === 2 && leap ? 29 : DAYS_IN_MONTH[mo - 1]!
  if (d > monthDays) return null
  return Date.UTC(y, mo - 1, d, h, mi, s) - NEM_UTC_OFFSET_MS
}

/**
 * `YYYY/MM/DD HH:mm:ss` in NEM market time (the MMS CSV date format, quotes already removed) →
 * epoch milliseconds, or null when the text is not exactly that format or not a real date.
 * A scanner, not a regex: it runs once per distinct SETTLEMENTDATE on the ingest hot path.
 */
export function parseMarketTime(text: string): number | null {
  if (text.length !== 19) return null
  if (
    text[4] !== '/' ||
    text[7] !== '/' ||
    text[10] !== ' ' ||
    text[13] !== ':' ||
    text[16] !== ':'
  )
    return null
  const y = digits(text, 0, 4)
  const mo = digits(text, 5, 2)
  const d = digits(text, 8, 2)
  const h = digits(text, 11, 2)
  const mi = digits(text, 14, 2)
  const s = digits(text, 17, 2)
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0) return null
  return utcMsFromFields(y, mo, d, h, mi, s)
}

/**
 * `YYYYMMDDHHmm` in NEM market time (the interval stamp in NEMWeb file names such as
 * `PUBLIC_DISPATCHIS_202111081435_…`) → epoch milliseconds, or null when malformed.
 */
export function parseCompactMarketTime(text: string): number | null {
  if (text.length !== 12) return null
  const y = digits(text, 0, 4)
  const mo = digits(text, 4, 2)
  const d = digits(text, 6, 2)
  const h = digits(text, 8, 2)
  const mi = digits(text, 10, 2)
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0) return null
  return utcMsFromFields(y, mo, d, h, mi, 0)
}

/**
 * `parseMarketTime` memoised for one file: every row of an interval repeats its SETTLEMENTDATE,
 * so a file with thousands of rows has only a few hundred distinct dates.
 */
export function createMarketTimeParser(): (text: string) => number | null {
  const seen = new Map<string, number | null>()
  return (text) => {
    let ms = seen.get(text)
    if (ms === undefined) {
      ms = parseMarketTime(text)
      seen.set(text, ms)
    }
    return ms
  }
}

/**
 * `2021/09/02 12:55:00` (NEM time) → `2021-09-02T02:55:00Z`.
 * @throws AemoSourceError `invalid_market_time` when the text is not a valid MMS date.
 */
export function marketTimeToUtcIso(text: string): string {
  const ms = parseMarketTime(text)
  if (ms === null)
    throw new AemoSourceError(
      'invalid_market_time',
      `not an AEMO market time (YYYY/MM/DD HH:mm:ss): ${JSON.stringify(text)}`
    )
  return toUtcIso(ms)
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n))

/** Epoch milliseconds → `YYYY/MM/DD HH:mm:ss` in NEM market time (the inverse of `parseMarketTime`). */
export function formatMarketTime(ms: number): string {
  const t = new Date(ms + NEM_UTC_OFFSET_MS)
  return `${t.getUTCFullYear()}/${pad2(t.getUTCMonth() + 1)}/${pad2(t.getUTCDate())} ${pad2(t.getUTCHours())}:${pad2(t.getUTCMinutes())}:${pad2(t.getUTCSeconds())}`
}
