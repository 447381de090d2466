import { inflateSync } from 'fflate'
import { AemoSourceError } from './errors'

/**
 * Zip reading for NEMWeb files: 5-minute zips hold one CSV, and Archive daily zips hold the
 * 5-minute zips themselves (a zip of zips). The central directory is read here rather than with
 * fflate's `unzipSync` so that every limit is checked on the declared sizes BEFORE anything is
 * inflated, and each member is inflated into a buffer of exactly its declared size (fflate does
 * not grow a caller-supplied buffer), then checked against its length and CRC-32.
 */

export interface ZipLimits {
  /** Members across all nesting levels (directories included). */
  readonly maxEntries: number
  /** Decompressed bytes across all nesting levels (inner zips count, and so do their members). */
  readonly maxTotalBytes: number
}

/**
 * A day of 5-minute files is 288 members; a DispatchIS CSV is about 150 KB, so a daily archive
 * inflates to some 45 MB. The defaults leave room for that and stop a zip bomb long before memory does.
 */
export const DEFAULT_ZIP_LIMITS: ZipLimits = { maxEntries: 1_000, maxTotalBytes: 256 * 1024 * 1024 }

export interface ZipEntry {
  readonly name: string
  readonly bytes: Uint8Array
}

export interface NestedZipMember {
  /** Member name in the outer zip, e.g. `PUBLIC_DISPATCHIS_202111081435_0000000352251582.zip`. */
  readonly name: string
  /** The member's own bytes (for an inner zip: the zip file as NEMWeb Current would serve it). */
  readonly bytes: Uint8Array
  /** The inner zip's members, or null when this member is not a zip. */
  readonly entries: ZipEntry[] | null
}

const EOCD_SIG = 0x06054b50
const CDH_SIG = 0x02014b50
const LFH_SIG = 0x04034b50
const utf8 = new TextDecoder('utf-8')
const latin1 = new TextDecoder('latin1')

/** Mutable running totals shared by the levels of a nested read. */
interface Budget {
  entries: number
  bytes: number
}

const u16 = (b: Uint8Array, at: number): number => b[at]! | (b[at + 1]! << 8)
const u32 = (b: Uint8Array, at: number): number =>
  (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0

/** True when the bytes start like a zip (local file header or empty-archive EOCD). */
export const looksLikeZip = (bytes: Uint8Array): boolean =>
  bytes.length >= 4 &&
  bytes[0] === 0x50 &&
  bytes[1] === 0x4b &&
  (u32(bytes, 0) === LFH_SIG || u32(bytes, 0) === EOCD_SIG)

function findEocd(bytes: Uint8Array): number {
  // The EOCD is 22 bytes plus a comment of at most 65,535 bytes, at the very end.
  const lowest = Math.max(0, bytes.length - 22 - 0xffff)
  for (let at = bytes.length - 22; at >= lowest; at--) {
    if (bytes[at] === 0x50 && u32(bytes, at) === EOCD_SIG) return at
  }
  return -1
}

function readZip(bytes: Uint8Array, limits: ZipLimits, budget: Budget, label: string): ZipEntry[] {
  const eocd = findEocd(bytes)
  if (eocd === -1) {
    const code = looksLikeZip(bytes) ? 'zip_truncated' : 'zip_corrupt'
    throw new AemoSourceError(
      code,
      `${label}: no end-of-central-directory record (${bytes.length} bytes)`
    )
  }
  const count = u16(bytes, eocd + 10)
  const cdSize = u32(bytes, eocd + 12)
  const cdOffset = u32(bytes, eocd + 16)
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    throw new AemoSourceError('zip_unsupported', `${label}: ZIP64 archives are not supported`)
  }
  if (u16(bytes, eocd + 4) !== 0 || u16(bytes, eocd + 6) !== 0) {
    throw new AemoSourceError('zip_unsupported', `${label}: multi-disk archives are not supported`)
  }
  if (cdOffset + cdSize > eocd)
    throw new AemoSourceError(
      'zip_truncated',
      `${label}: central directory runs past its end record`
    )
  budget.entries += count
  if (budget.entries > limits.maxEntries) {
    throw new AemoSourceError(
      'zip_too_many_entries',
      `${label}: more than ${limits.maxEntries} members`
    )
  }

  // First pass: read and check the whole directory, so limits fail before any inflation.
  const members: {
    name: string
    method: number
    crc: number
    csize: number
    usize: number
    local: number
  }[] = []
  let at = cdOffset
  for (let i = 0; i < count; i++) {
    if (at + 46 > eocd || u32(bytes, at) !== CDH_SIG)
      throw new AemoSourceError('zip_corrupt', `${label}: bad central directory entry ${i}`)
    const flags = u16(bytes, at + 8)
    const method = u16(bytes, at + 10)
    const crc = u32(bytes, at + 16)
    const csize = u32(bytes, at + 20)
    const usize = u32(bytes, at + 24)
    const nameLen = u16(bytes, at + 28)
    const next = at + 46 + nameLen + u16(bytes, at + 30) + u16(bytes, at + 32)
    if (next > eocd)
      throw new AemoSourceError(
        'zip_corrupt',
        `${label}: central directory entry ${i} overruns the directory`
      )
    // General-purpose flag bit 11: the name is UTF-8; otherwise IBM437, which matches latin1 for ASCII names.
    const name = ((flags & 0x800) !== 0 ? utf8 : latin1).decode(
      bytes.subarray(at + 46, at + 46 + nameLen)
    )
    if ((flags & 0x1) !== 0)
      throw new AemoSourceError('zip_unsupported', `${label}: ${name} is encrypted`)
    if (method !== 0 && method !== 8)
      throw new AemoSourceError(
        'zip_unsupported',
        `${label}: ${name} uses compression method ${method}`
      )
    if (csize === 0xffffffff || usize === 0xffffffff)
      throw new AemoSourceError('zip_unsupported', `${label}: ${name} needs ZIP64`)
    budget.bytes += usize
    if (budget.bytes > limits.maxTotalBytes) {
      throw new AemoSourceError(
        'zip_too_large',
        `${label}: members inflate to more than ${limits.maxTotalBytes} bytes`
      )
    }
    members.push({ name, method, crc, csize, usize, local: u32(bytes, at + 42) })
    at = next
  }

  const entries: ZipEntry[] = []
  for (const m of members) {
    if (m.name.endsWith('/')) continue
    if (m.local + 30 > bytes.length || u32(bytes, m.local) !== LFH_SIG) {
      throw new AemoSourceError('zip_corrupt', `${label}: ${m.name} has no local file header`)
    }
    const start = m.local + 30 + u16(bytes, m.local + 26) + u16(bytes, m.local + 28)
    if (start + m.csize > bytes.length)
      throw new AemoSourceError('zip_truncated', `${label}: ${m.name} data runs past the end`)
    const packed = bytes.subarray(start, start + m.csize)
    let data: Uint8Array
    if (m.method === 0) {
      if (m.csize !== m.usize)
        throw new AemoSourceError(
          'zip_corrupt',
          `${label}: stored member ${m.name} has mismatched sizes`
        )
      data = packed.slice()
    } else {
      try {
        data = inflateSync(packed, { out: new Uint8Array(m.usize) })
      } catch (cause) {
        throw new AemoSourceError('zip_corrupt', `${label}: ${m.name} does not inflate`, { cause })
      }
      if (data.length !== m.usize)
        throw new AemoSourceError(
          'zip_corrupt',
          `${label}: ${m.name} inflated to ${data.length} of ${m.usize} bytes`
        )
    }
    if (Bun.hash.crc32(data) >>> 0 !== m.crc)
      throw new AemoSourceError('zip_corrupt', `${label}: ${m.name} fails its CRC-32 check`)
    entries.push({ name: m.name, bytes: data })
  }
  return entries
}

/**
 * The members of a zip (directories skipped), checked against `limits` before inflation.
 * @throws AemoSourceError `zip_truncated` | `zip_corrupt` | `zip_unsupported` | `zip_too_many_entries` | `zip_too_large`
 */
export function unzipEntries(zip: Uint8Array, limits: ZipLimits = DEFAULT_ZIP_LIMITS): ZipEntry[] {
  return readZip(zip, limits, { entries: 0, bytes: 0 }, 'zip')
}

/**
 * A zip of zips (a NEMWeb Archive daily file): each member, and for members named `*.zip`
 * their own members. One budget covers both levels; deeper nesting is not opened.
 */
export function unzipNested(
  zip: Uint8Array,
  limits: ZipLimits = DEFAULT_ZIP_LIMITS
): NestedZipMember[] {
  const budget: Budget = { entries: 0, bytes: 0 }
  return readZip(zip, limits, budget, 'zip').map((member) => ({
    name: member.name,
    bytes: member.bytes,
    entries: /\.zip$/i.test(member.name)
      ? readZip(member.bytes, limits, budget, member.name)
      : null,
  }))
}

/**
 * The single CSV member of a NEMWeb 5-minute zip.
 * @throws AemoSourceError `zip_member_ambiguous` when there is not exactly one `*.csv` member.
 */
export function singleCsvEntry(zip: Uint8Array, limits: ZipLimits = DEFAULT_ZIP_LIMITS): ZipEntry {
  const csvs = unzipEntries(zip, limits).filter((e) => /\.csv$/i.test(e.name))
  if (csvs.length !== 1)
    throw new AemoSourceError(
      'zip_member_ambiguous',
      `expected one CSV member, found ${csvs.length}`
    )
  return csvs[0]!
}
