import { inflateRaw, inflateRawSync } from 'node:zlib'
import { AemoSourceError } from './errors'

/**
 * Zip reading for NEMWeb files: 5-minute zips hold one CSV, and Archive daily zips hold the
 * 5-minute zips themselves (a zip of zips). The central directory is read here rather than with
 * fflate's `unzipSync` so that every limit is checked on the declared sizes BEFORE anything is
 * inflated. Each member is then inflated by zlib with its declared size as a hard output limit,
 * so inflation stops at the first byte past the claim, and checked against its length and CRC-32.
 * `unzipEntriesAsync` inflates on zlib's worker pool, off the event loop.
 */

export interface ZipLimits {
  /** Members across all nesting levels (directories included). */
  readonly maxEntries: number
  /** Decompressed bytes across all nesting levels (inner zips count, and so do their members). */
  readonly maxTotalBytes: number
}

/**
 * A NEMWeb 5-minute file (DispatchIS, Dispatch_SCADA) is ONE CSV member: DispatchIS zips are
 * 16–19 kB and inflate to about 150 kB, Dispatch_SCADA zips about 3 kB → 23 kB (shared/fixtures
 * listings, 2021). 8 MiB is 50× the largest real one and still small beside a node's memory.
 */
export const CURRENT_FILE_ZIP_LIMITS: ZipLimits = { maxEntries: 8, maxTotalBytes: 8 * 1024 * 1024 }

/**
 * A NEMWeb Archive daily zip holds the day's 288 5-minute zips (about 5 MB for DispatchIS; the
 * inner zips do not compress further, so the outer level inflates to about its own size). Each
 * inner zip is opened on its own with `CURRENT_FILE_ZIP_LIMITS`.
 */
export const ARCHIVE_DAY_ZIP_LIMITS: ZipLimits = {
  maxEntries: 1_000,
  maxTotalBytes: 128 * 1024 * 1024,
}

/** The limits for a zip of unknown kind: those of a 5-minute file, the tightest. */
export const DEFAULT_ZIP_LIMITS: ZipLimits = CURRENT_FILE_ZIP_LIMITS

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

interface Member {
  readonly name: string
  readonly flags: number
  readonly method: number
  readonly crc: number
  readonly csize: number
  readonly usize: number
  readonly local: number
}

/** Reads and checks the whole central directory, so limits fail before any inflation. */
function readDirectory(
  bytes: Uint8Array,
  limits: ZipLimits,
  budget: Budget,
  label: string
): Member[] {
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

  const members: Member[] = []
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
    members.push({ name, flags, method, crc, csize, usize, local: u32(bytes, at + 42) })
    at = next
  }
  return members
}

/** Checks a member's local header and returns its compressed bytes. */
function packedBytes(bytes: Uint8Array, m: Member, label: string): Uint8Array {
  if (m.local + 30 > bytes.length || u32(bytes, m.local) !== LFH_SIG) {
    throw new AemoSourceError('zip_corrupt', `${label}: ${m.name} has no local file header`)
  }
  // Without a data descriptor (flag bit 3) the local header repeats the sizes and CRC: a header
  // that disagrees with the directory is a lie one way or the other.
  if (
    (m.flags & 0x8) === 0 &&
    (u32(bytes, m.local + 14) !== m.crc ||
      u32(bytes, m.local + 18) !== m.csize ||
      u32(bytes, m.local + 22) !== m.usize)
  ) {
    throw new AemoSourceError(
      'zip_size_mismatch',
      `${label}: ${m.name}: local header sizes or CRC differ from the central directory`
    )
  }
  const start = m.local + 30 + u16(bytes, m.local + 26) + u16(bytes, m.local + 28)
  if (start + m.csize > bytes.length)
    throw new AemoSourceError('zip_truncated', `${label}: ${m.name} data runs past the end`)
  const packed = bytes.subarray(start, start + m.csize)
  if (m.method === 0 && m.csize !== m.usize)
    throw new AemoSourceError(
      'zip_size_mismatch',
      `${label}: stored member ${m.name} declares ${m.usize} bytes but holds ${m.csize}`
    )
  return packed
}

/**
 * zlib stops as soon as its output passes `maxOutputLength`: a member that declares 150 kB and
 * inflates to 1 GB costs ~150 kB and a millisecond, never the gigabyte. (It must be ≥ 1; an empty
 * member inflates to 0 bytes either way.)
 */
const inflateOptions = (m: Member) => ({ maxOutputLength: Math.max(1, m.usize) })

/** The inflated bytes, checked against the declared length and CRC-32. */
function checked(data: Uint8Array, m: Member, label: string): Uint8Array {
  if (data.length !== m.usize)
    throw new AemoSourceError(
      'zip_size_mismatch',
      `${label}: ${m.name} inflated to ${data.length} of its declared ${m.usize} bytes`
    )
  if (Bun.hash.crc32(data) >>> 0 !== m.crc)
    throw new AemoSourceError('zip_crc_mismatch', `${label}: ${m.name} fails its CRC-32 check`)
  return data
}

function inflateFailed(cause: unknown, m: Member, label: string): AemoSourceError {
  if ((cause as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE')
    return new AemoSourceError(
      'zip_size_mismatch',
      `${label}: ${m.name} inflates past its declared ${m.usize} bytes`,
      { cause }
    )
  return new AemoSourceError('zip_corrupt', `${label}: ${m.name} does not inflate`, { cause })
}

/** One member inflated on the calling thread (bounded by the limits: tests, scripts, small files). */
function readMemberSync(bytes: Uint8Array, m: Member, label: string): Uint8Array {
  const packed = packedBytes(bytes, m, label)
  if (m.method === 0) return checked(packed.slice(), m, label)
  let data: Uint8Array
  try {
    data = new Uint8Array(inflateRawSync(packed, inflateOptions(m)))
  } catch (cause) {
    throw inflateFailed(cause, m, label)
  }
  return checked(data, m, label)
}

/** One member inflated on the runtime's zlib worker pool: the event loop keeps running meanwhile. */
async function readMemberAsync(bytes: Uint8Array, m: Member, label: string): Promise<Uint8Array> {
  const packed = packedBytes(bytes, m, label)
  if (m.method === 0) return checked(packed.slice(), m, label)
  let data: Uint8Array
  try {
    data = await new Promise<Uint8Array>((resolve, reject) =>
      inflateRaw(packed, inflateOptions(m), (error, result) =>
        error ? reject(error) : resolve(new Uint8Array(result))
      )
    )
  } catch (cause) {
    throw inflateFailed(cause, m, label)
  }
  return checked(data, m, label)
}

function readZip(bytes: Uint8Array, limits: ZipLimits, budget: Budget, label: string): ZipEntry[] {
  return readDirectory(bytes, limits, budget, label)
    .filter((m) => !m.name.endsWith('/'))
    .map((m) => ({ name: m.name, bytes: readMemberSync(bytes, m, label) }))
}

async function readZipAsync(
  bytes: Uint8Array,
  limits: ZipLimits,
  budget: Budget,
  label: string
): Promise<ZipEntry[]> {
  const entries: ZipEntry[] = []
  for (const m of readDirectory(bytes, limits, budget, label)) {
    if (m.name.endsWith('/')) continue
    entries.push({ name: m.name, bytes: await readMemberAsync(bytes, m, label) })
  }
  return entries
}

/**
 * The members of a zip (directories skipped), checked against `limits` before inflation.
 * @throws AemoSourceError `zip_truncated` | `zip_corrupt` | `zip_unsupported` | `zip_too_many_entries` | `zip_too_large` | `zip_size_mismatch` | `zip_crc_mismatch`
 */
export function unzipEntries(zip: Uint8Array, limits: ZipLimits = DEFAULT_ZIP_LIMITS): ZipEntry[] {
  return readZip(zip, limits, { entries: 0, bytes: 0 }, 'zip')
}

/**
 * `unzipEntries` off the request path: members inflate on zlib's worker pool, one at a time, so
 * the event loop (and `/health`, the API, `/metrics`) keeps running while a file inflates.
 */
export function unzipEntriesAsync(
  zip: Uint8Array,
  limits: ZipLimits = DEFAULT_ZIP_LIMITS
): Promise<ZipEntry[]> {
  return readZipAsync(zip, limits, { entries: 0, bytes: 0 }, 'zip')
}

/**
 * A zip of zips (a NEMWeb Archive daily file): each member, and for members named `*.zip`
 * their own members. One budget covers both levels; deeper nesting is not opened.
 */
export function unzipNested(
  zip: Uint8Array,
  limits: ZipLimits = ARCHIVE_DAY_ZIP_LIMITS
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

function onlyCsv(entries: ZipEntry[]): ZipEntry {
  const csvs = entries.filter((e) => /\.csv$/i.test(e.name))
  if (csvs.length !== 1)
    throw new AemoSourceError(
      'zip_member_ambiguous',
      `expected one CSV member, found ${csvs.length}`
    )
  return csvs[0]!
}

/**
 * The single CSV member of a NEMWeb 5-minute zip.
 * @throws AemoSourceError `zip_member_ambiguous` when there is not exactly one `*.csv` member.
 */
export const singleCsvEntry = (zip: Uint8Array, limits: ZipLimits = DEFAULT_ZIP_LIMITS): ZipEntry =>
  onlyCsv(unzipEntries(zip, limits))

/** `singleCsvEntry` inflated on zlib's worker pool, off the event loop. */
export const singleCsvEntryAsync = async (
  zip: Uint8Array,
  limits: ZipLimits = DEFAULT_ZIP_LIMITS
): Promise<ZipEntry> => onlyCsv(await unzipEntriesAsync(zip, limits))
