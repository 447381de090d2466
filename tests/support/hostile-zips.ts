/**
 * Hostile NEMWeb files, built the way an attacker would: real deflate streams (node:zlib), wrapped
 * in a hand-written zip whose headers say whatever the test wants. Inputs are streamed in 1 MiB
 * chunk, so a 1 GiB bomb never exists in memory uncompressed, here or in the process under test.
 */
import { constants, deflateRawSync } from 'node:zlib'

const MiB = 1024 * 1024

/**
 * Raw deflate of `total` bytes made by repeating `pattern`, and the CRC-32 of those bytes. One
 * 1 MiB chunk is deflated once, ending in a sync flush (byte-aligned, not final, no references
 * before its start), and repeated; a final empty block closes the stream. So a 1 GiB bomb takes
 * milliseconds to build instead of the ~10 s that streaming 1 GiB through zlib takes.
 */
export function deflateRepeated(
  pattern: Uint8Array,
  total: number
): { packed: Uint8Array; crc: number } {
  const chunk = new Uint8Array(Math.max(1, Math.floor(MiB / pattern.length)) * pattern.length)
  for (let at = 0; at < chunk.length; at += pattern.length) chunk.set(pattern, at)
  const flushed = (data: Uint8Array) =>
    new Uint8Array(deflateRawSync(data, { level: 9, finishFlush: constants.Z_SYNC_FLUSH }))
  const block = flushed(chunk)
  const whole = Math.floor(total / chunk.length)
  const tail = total - whole * chunk.length
  const tailBlock = tail > 0 ? flushed(chunk.subarray(0, tail)) : new Uint8Array(0)
  const FINAL_EMPTY_BLOCK = [0x03, 0x00] // BFINAL=1, fixed Huffman, end-of-block only
  const packed = new Uint8Array(whole * block.length + tailBlock.length + 2)
  let crc = 0
  for (let i = 0; i < whole; i++) {
    packed.set(block, i * block.length)
    crc = Bun.hash.crc32(chunk, crc)
  }
  packed.set(tailBlock, whole * block.length)
  packed.set(FINAL_EMPTY_BLOCK, packed.length - 2)
  if (tail > 0) crc = Bun.hash.crc32(chunk.subarray(0, tail), crc)
  return { packed, crc: crc >>> 0 }
}

/**
 * A one-member zip (deflate) with the given headers: `declaredSize` and `crc` are written to both
 * the local header and the central directory, whatever `packed` really inflates to.
 */
export function zipWithHeaders(
  name: string,
  packed: Uint8Array,
  headers: { declaredSize: number; crc: number }
): Uint8Array {
  const nameBytes = new TextEncoder().encode(name)
  const local = new Uint8Array(30 + nameBytes.length)
  const lv = new DataView(local.buffer)
  lv.setUint32(0, 0x04034b50, true)
  lv.setUint16(4, 20, true) // version needed: 2.0 (deflate)
  lv.setUint16(8, 8, true) // method: deflate
  lv.setUint16(10, 0, true) // DOS time
  lv.setUint16(12, 0x5c21, true) // DOS date 2026-01-01
  lv.setUint32(14, headers.crc, true)
  lv.setUint32(18, packed.length, true)
  lv.setUint32(22, headers.declaredSize, true)
  lv.setUint16(26, nameBytes.length, true)
  local.set(nameBytes, 30)

  const central = new Uint8Array(46 + nameBytes.length)
  const cv = new DataView(central.buffer)
  cv.setUint32(0, 0x02014b50, true)
  cv.setUint16(4, 20, true)
  cv.setUint16(6, 20, true)
  cv.setUint16(10, 8, true)
  cv.setUint16(14, 0x5c21, true)
  cv.setUint32(16, headers.crc, true)
  cv.setUint32(20, packed.length, true)
  cv.setUint32(24, headers.declaredSize, true)
  cv.setUint16(28, nameBytes.length, true)
  cv.setUint32(42, 0, true) // local header offset
  central.set(nameBytes, 46)

  const eocd = new Uint8Array(22)
  const ev = new DataView(eocd.buffer)
  ev.setUint32(0, 0x06054b50, true)
  ev.setUint16(8, 1, true)
  ev.setUint16(10, 1, true)
  ev.setUint32(12, central.length, true)
  ev.setUint32(16, local.length + packed.length, true)

  const zip = new Uint8Array(local.length + packed.length + central.length + eocd.length)
  zip.set(local, 0)
  zip.set(packed, local.length)
  zip.set(central, local.length + packed.length)
  zip.set(eocd, local.length + packed.length + central.length)
  return zip
}

/**
 * A zip bomb that lies: its CSV member declares `declaredSize` bytes (with the CRC of that many
 * zeros) but its deflate stream inflates to `inflatedSize` zeros.
 */
export function lyingBomb(csvName: string, inflatedSize: number, declaredSize: number): Uint8Array {
  const { packed } = deflateRepeated(new Uint8Array(1), inflatedSize)
  const crc = Bun.hash.crc32(new Uint8Array(declaredSize)) >>> 0
  return zipWithHeaders(csvName, packed, { declaredSize, crc })
}

/** An honest zip: a CSV member of `size` bytes of repeated `line`, with its true size and CRC. */
export function honestHugeCsv(csvName: string, line: string, size: number) {
  const { packed, crc } = deflateRepeated(new TextEncoder().encode(line), size)
  return zipWithHeaders(csvName, packed, { declaredSize: size, crc })
}
