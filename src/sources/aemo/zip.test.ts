import { describe, expect, test } from 'bun:test'
import { zipSync } from 'fflate'
import {
  AEMO_FIXTURES,
  buildArchiveDayZip,
  buildDispatchIsZip,
  fixtureBytes,
  zipMembers,
} from '../../../tests/support/nemweb-fixtures'
import { AemoSourceError, type AemoSourceErrorCode } from './errors'
import { deflateRepeated, lyingBomb, zipWithHeaders } from '../../../tests/support/hostile-zips'
import {
  ARCHIVE_DAY_ZIP_LIMITS,
  CURRENT_FILE_ZIP_LIMITS,
  singleCsvEntry,
  singleCsvEntryAsync,
  unzipEntries,
  unzipEntriesAsync,
  unzipNested,
} from './zip'

const LIVE = fixtureBytes(AEMO_FIXTURES.liveScada)

function codeOf(fn: () => unknown): AemoSourceErrorCode {
  try {
    fn()
  } catch (e) {
    if (e instanceof AemoSourceError) return e.code
    throw e
  }
  throw new Error('expected an AemoSourceError')
}

describe('unzipEntries', () => {
  test('reads the real live SCADA zip: one CSV member of 23,445 bytes', () => {
    const [entry, ...rest] = unzipEntries(LIVE)
    expect(rest).toEqual([])
    expect(entry!.name).toBe('PUBLIC_DISPATCHSCADA_202109021255_0000000348376188.CSV')
    expect(entry!.bytes.length).toBe(23_445)
    expect(singleCsvEntry(LIVE).name).toBe(entry!.name)
  })

  test('a truncated download is rejected as truncated (retryable)', () => {
    for (const length of [LIVE.length - 1, LIVE.length - 30, 2000, 100]) {
      expect(codeOf(() => unzipEntries(LIVE.subarray(0, length)))).toBe('zip_truncated')
    }
  })

  test('flipped bytes in the compressed data are caught (inflate error, size or CRC-32)', () => {
    for (const at of [100, 500, 1500, 2500]) {
      const corrupt = LIVE.slice()
      corrupt[at] = corrupt[at]! ^ 0xff
      expect(['zip_corrupt', 'zip_truncated', 'zip_size_mismatch', 'zip_crc_mismatch']).toContain(
        codeOf(() => unzipEntries(corrupt))
      )
    }
  })

  test('bytes that are not a zip at all are corrupt, not truncated', () => {
    expect(
      codeOf(() => unzipEntries(new TextEncoder().encode('<html>503 Service Unavailable</html>')))
    ).toBe('zip_corrupt')
    expect(codeOf(() => unzipEntries(new Uint8Array(0)))).toBe('zip_corrupt')
  })

  test('a member whose data was swapped for other data of the same size fails its CRC-32', () => {
    const a = zipSync({ 'a.csv': new TextEncoder().encode('D,1,2,3') }, { level: 0 })
    const tampered = a.slice()
    const at = tampered.indexOf(0x31) // the "1" in the stored data
    tampered[at] = 0x39
    expect(codeOf(() => unzipEntries(tampered))).toBe('zip_crc_mismatch')
  })

  test('limits are enforced on declared sizes before anything is inflated (zip bomb)', () => {
    const bomb = zipSync({ 'zeros.csv': new Uint8Array(8 * 1024 * 1024) }, { level: 1 })
    expect(bomb.length).toBeLessThan(64 * 1024)
    expect(codeOf(() => unzipEntries(bomb, { maxEntries: 10, maxTotalBytes: 1024 * 1024 }))).toBe(
      'zip_too_large'
    )
    const many = zipSync(
      Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}.csv`, new Uint8Array(1)]))
    )
    expect(codeOf(() => unzipEntries(many, { maxEntries: 10, maxTotalBytes: 1024 }))).toBe(
      'zip_too_many_entries'
    )
  })

  test('a member that inflates to more than it declares is not allowed to grow past the declaration', () => {
    const real = zipSync({ 'a.csv': new Uint8Array(4096).fill(65) }, { level: 9 })
    const lying = real.slice()
    // Patch the declared uncompressed size (local header offset 22, central directory offset 24) to 16 bytes.
    const view = new DataView(lying.buffer)
    view.setUint32(22, 16, true)
    const cd = lying.findLastIndex(
      (_, i) => i + 4 <= lying.length && view.getUint32(i, true) === 0x02014b50
    )
    view.setUint32(cd + 24, 16, true)
    expect(codeOf(() => unzipEntries(lying))).toBe('zip_size_mismatch')
  })

  test('a lying bomb is stopped as soon as it passes its declared size, not inflated to the end', () => {
    // 64 MiB of zeros declaring 150 kB, with garbage after the first 8 kB of deflate: a reader that
    // inflated the whole member first would report the garbage (an inflate error); this one has
    // stopped long before reaching it.
    const bomb = lyingBomb('BOMB.CSV', 64 * 1024 * 1024, 150_000)
    const tail = bomb.length - 22 - 46 - 'BOMB.CSV'.length - 1_000
    bomb.fill(0xff, 30 + 'BOMB.CSV'.length + 8 * 1024, tail)
    expect(codeOf(() => unzipEntries(bomb))).toBe('zip_size_mismatch')
    const error = (() => {
      try {
        unzipEntries(bomb)
      } catch (e) {
        return e as AemoSourceError
      }
    })()
    expect(error?.retryable).toBe(false)
    expect(error?.message).toContain('inflates past its declared 150000 bytes')
  })

  test('a member that inflates to less than it declares is a size lie', () => {
    const { packed, crc } = deflateRepeated(new TextEncoder().encode('D,1\r\n'), 1_000)
    expect(
      codeOf(() => unzipEntries(zipWithHeaders('a.csv', packed, { declaredSize: 2_000, crc })))
    ).toBe('zip_size_mismatch')
    // The true size and CRC: the same bytes read fine.
    const [entry] = unzipEntries(zipWithHeaders('a.csv', packed, { declaredSize: 1_000, crc }))
    expect(entry!.bytes.length).toBe(1_000)
  })

  test('a local header that disagrees with the central directory is a size lie', () => {
    const honest = zipSync({ 'a.csv': new Uint8Array(4096).fill(65) }, { level: 9 })
    const lying = honest.slice()
    new DataView(lying.buffer).setUint32(22, 4097, true) // local header only
    expect(codeOf(() => unzipEntries(lying))).toBe('zip_size_mismatch')
  })

  test('size and CRC lies are permanent; a cut-off download is not', () => {
    expect(new AemoSourceError('zip_size_mismatch', '').retryable).toBe(false)
    expect(new AemoSourceError('zip_crc_mismatch', '').retryable).toBe(false)
    expect(new AemoSourceError('zip_too_large', '').retryable).toBe(false)
    expect(new AemoSourceError('zip_truncated', '').retryable).toBe(true)
  })

  test('a 5-minute file is capped in single megabytes: an honest 250 MB member is refused unread', () => {
    expect(CURRENT_FILE_ZIP_LIMITS.maxTotalBytes).toBeLessThan(10 * 1024 * 1024)
    // Declared honestly; the deflate stream after the headers is garbage, so reading it at all would fail differently.
    const zip = zipWithHeaders('BIG.CSV', new Uint8Array(1000).fill(0xff), {
      declaredSize: 250 * 1024 * 1024,
      crc: 0,
    })
    expect(codeOf(() => unzipEntries(zip, CURRENT_FILE_ZIP_LIMITS))).toBe('zip_too_large')
  })

  test('singleCsvEntry refuses a zip with no or several CSV members', () => {
    expect(codeOf(() => singleCsvEntry(zipMembers({ 'a.txt': 'x' })))).toBe('zip_member_ambiguous')
    expect(codeOf(() => singleCsvEntry(zipMembers({ 'a.CSV': 'x', 'b.csv': 'y' })))).toBe(
      'zip_member_ambiguous'
    )
  })
})

describe('unzipEntriesAsync (inflates in slices off the request path)', () => {
  const asyncCodeOf = async (p: Promise<unknown>): Promise<AemoSourceErrorCode> => {
    try {
      await p
    } catch (e) {
      if (e instanceof AemoSourceError) return e.code
      throw e
    }
    throw new Error('expected an AemoSourceError')
  }

  test('reads what the sync reader reads, and rejects what it rejects', async () => {
    expect(await unzipEntriesAsync(LIVE)).toEqual(unzipEntries(LIVE))
    expect((await singleCsvEntryAsync(LIVE)).name).toBe(singleCsvEntry(LIVE).name)
    expect(await asyncCodeOf(unzipEntriesAsync(lyingBomb('B.CSV', 16 << 20, 1_000)))).toBe(
      'zip_size_mismatch'
    )
    expect(await asyncCodeOf(unzipEntriesAsync(LIVE.subarray(0, 2000)))).toBe('zip_truncated')
  })

  test('members inflate off the event loop: callbacks keep running while a large one inflates', async () => {
    // 32 MiB of digits that repeat only every 40 kB (past deflate's 32 kB window): tens of ms of
    // zlib work. Inflated on the calling thread, no callback could run until it was done.
    let seed = 7
    const digits = Uint8Array.from({ length: 40_000 }, () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return 0x30 + ((seed >>> 16) % 10)
    })
    const size = 32 * 1024 * 1024
    const { packed, crc } = deflateRepeated(digits, size)
    const zip = zipWithHeaders('a.csv', packed, { declaredSize: size, crc })
    let turns = 0
    let running = true
    const tick = () => {
      turns++
      if (running) setImmediate(tick)
    }
    setImmediate(tick)
    const [entry] = await unzipEntriesAsync(zip, ARCHIVE_DAY_ZIP_LIMITS)
    running = false
    expect(entry!.bytes.length).toBe(size)
    expect(Bun.hash.crc32(entry!.bytes) >>> 0).toBe(crc)
    expect(turns).toBeGreaterThan(0)
  })
})

describe('unzipNested (Archive daily zips hold the 5-minute zips)', () => {
  const files = ['2026-04-01T14:05:00Z', '2026-04-01T14:10:00Z', '2026-04-01T14:15:00Z'].map(
    buildDispatchIsZip
  )
  const day = buildArchiveDayZip('PUBLIC_DISPATCHIS', '2026-04-02', files)

  test('returns each inner zip with its bytes and its CSV member', () => {
    const members = unzipNested(day.bytes)
    expect(members.map((m) => m.name)).toEqual(files.map((f) => f.name))
    for (const [i, m] of members.entries()) {
      expect(m.bytes).toEqual(files[i]!.bytes)
      expect(m.entries!.map((e) => e.name)).toEqual([files[i]!.csvName])
      expect(new TextDecoder().decode(m.entries![0]!.bytes)).toBe(files[i]!.csv)
    }
  })

  test('members that are not zips are returned without entries', () => {
    const mixed = zipMembers({ 'README.txt': 'hello', [files[0]!.name]: files[0]!.bytes })
    const members = unzipNested(mixed)
    expect(members.find((m) => m.name === 'README.txt')!.entries).toBeNull()
  })

  test('one budget covers both levels', () => {
    // 3 inner zips in the outer one, each with one CSV: 6 entries in all.
    expect(codeOf(() => unzipNested(day.bytes, { maxEntries: 5, maxTotalBytes: 1 << 30 }))).toBe(
      'zip_too_many_entries'
    )
    expect(unzipNested(day.bytes, { maxEntries: 6, maxTotalBytes: 1 << 30 })).toHaveLength(3)
    const innerBytes = files.reduce((n, f) => n + f.bytes.length, 0)
    expect(
      codeOf(() => unzipNested(day.bytes, { maxEntries: 100, maxTotalBytes: innerBytes + 10 }))
    ).toBe('zip_too_large')
  })

  test('a corrupt inner zip fails the whole read with a typed error', () => {
    const broken = buildArchiveDayZip('PUBLIC_DISPATCHIS', '2026-04-02', [
      { ...files[0]!, bytes: files[0]!.bytes.subarray(0, 200) },
    ])
    expect(codeOf(() => unzipNested(broken.bytes))).toBe('zip_truncated')
  })
})
