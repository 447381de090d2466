import zlib from 'node:zlib'

/**
 * A JSON answer encoded once and served many times. Its bytes are the same for every request but
 * for two fields the seed API put in every body, `correlation_id` (the request's) and `timestamp`
 * (when it was served), which the answers place last (`meta`, or the top-level object's end). The
 * body is kept as a static prefix, encoded and compressed once, and a small tail template rendered
 * per request; the compressed forms end the prefix on a byte boundary (a sync flush) and carry the
 * tail uncompressed (a deflate stored block, a brotli uncompressed meta-block), which decoders read
 * as one stream. Compressing the prefix costs milliseconds once; appending the tail costs a copy.
 */
export interface EncodedBody {
  readonly prefix: Uint8Array
  /** The prefix as a Blob: a response made of Blob parts is one copy, not two (measured). */
  readonly prefixBlob: Blob
  /** Static text and per-request slots, in order, after the prefix. */
  readonly tail: readonly (string | Slot)[]
  /** `W/"…"`: a hash of the static parts (the slots are no part of what the answer means). */
  readonly etag: string
  gzip?: { readonly head: Uint8Array; readonly blob: Blob; readonly crc: number }
  br?: { readonly head: Uint8Array; readonly blob: Blob }
}

type Slot = { readonly slot: 'id' | 'ts' }
export type Encoding = 'br' | 'gzip' | 'identity'

/** Below this, compression saves less than its headers and the client's work cost. */
export const MIN_COMPRESS_BYTES = 1024
/** A per-request tail must fit one stored block (and is never near it: two fields and `}}`). */
const MAX_TAIL_BYTES = 4096
const utf8 = new TextEncoder()

/**
 * Splits `body` at the last `"correlation_id":"<id>"` and `"timestamp":"<ts>"`, when they are in
 * its last few KB (earlier occurrences are data: an event's own correlation id). A body without
 * them is all prefix.
 */
export function encodeBody(body: string, contentType: string, id: string, ts: string): EncodedBody {
  const found = [
    slotAt(body, `"correlation_id":`, JSON.stringify(id), 'id'),
    slotAt(body, `"timestamp":`, JSON.stringify(ts), 'ts'),
  ]
    .filter((s) => s !== undefined)
    .sort((a, b) => a.at - b.at)
  const first = found[0]?.at ?? body.length
  const tail: (string | Slot)[] = []
  let at = first
  for (const s of found) {
    if (s.at > at) tail.push(body.slice(at, s.at))
    tail.push({ slot: s.slot })
    at = s.at + s.length
  }
  if (at < body.length) tail.push(body.slice(at))
  const prefix = utf8.encode(body.slice(0, first))
  const hasher = new Bun.CryptoHasher('sha256').update(contentType).update(prefix)
  for (const part of tail) hasher.update(typeof part === 'string' ? part : `\u0000${part.slot}`)
  const etag = `W/"${hasher.digest('base64url').slice(0, 22)}"`
  return { prefix, prefixBlob: new Blob([prefix]), tail, etag }
}

function slotAt(body: string, name: string, literal: string, slot: Slot['slot']) {
  const i = body.lastIndexOf(name + literal)
  if (i < 0 || body.length - i > MAX_TAIL_BYTES / 2) return undefined
  return { at: i + name.length, length: literal.length, slot }
}

/** Whether `encoding` may be used for this body (big enough, tail small enough). */
export function compressible(body: EncodedBody): boolean {
  let tail = 0
  for (const part of body.tail) tail += typeof part === 'string' ? part.length : 64
  return body.prefix.byteLength + tail >= MIN_COMPRESS_BYTES && tail <= MAX_TAIL_BYTES
}

/** The bytes the compressed prefixes add to an entry, once made. */
export const compressedBytes = (body: EncodedBody) =>
  (body.gzip?.head.byteLength ?? 0) + (body.br?.head.byteLength ?? 0)

/** The body's bytes for one request, in `encoding` (which `compressible` allowed). */
export function renderBody(body: EncodedBody, encoding: Encoding, id: string, ts: string): Blob {
  let text = ''
  for (const part of body.tail)
    text += typeof part === 'string' ? part : JSON.stringify(part.slot === 'id' ? id : ts)
  if (encoding === 'identity') return new Blob([body.prefixBlob, text])
  const tail = utf8.encode(text)
  return encoding === 'gzip' ? gzipOf(body, tail) : brotliOf(body, tail)
}

// RFC 1952 header: deflate, no flags, no mtime, no extra flags, OS unknown.
const GZIP_HEADER = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]

function gzipOf(body: EncodedBody, tail: Uint8Array): Blob {
  if (!body.gzip) {
    const head = concat(
      Uint8Array.from(GZIP_HEADER),
      zlib.deflateRawSync(body.prefix, { level: 6, finishFlush: zlib.constants.Z_SYNC_FLUSH })
    )
    body.gzip = { head, blob: new Blob([head]), crc: zlib.crc32(body.prefix) }
  }
  const out = new Uint8Array(5 + tail.byteLength + 8)
  const view = new DataView(out.buffer)
  // A final stored block (BFINAL=1, BTYPE=00): LEN and its one's complement, then the bytes.
  out[0] = 1
  view.setUint16(1, tail.byteLength, true)
  view.setUint16(3, ~tail.byteLength & 0xffff, true)
  out.set(tail, 5)
  const at = 5 + tail.byteLength
  view.setUint32(at, zlib.crc32(tail, body.gzip.crc) >>> 0, true)
  view.setUint32(at + 4, (body.prefix.byteLength + tail.byteLength) >>> 0, true)
  return new Blob([body.gzip.blob, out])
}

function brotliOf(body: EncodedBody, tail: Uint8Array): Blob {
  if (!body.br) {
    const head = zlib.brotliCompressSync(body.prefix, {
      params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 },
      finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH,
    })
    body.br = { head, blob: new Blob([head]) }
  }
  // RFC 7932 §9.2: an uncompressed meta-block (ISLAST=0, MNIBBLES=4, MLEN-1, ISUNCOMPRESSED=1,
  // zero-padded to the byte), then an empty last meta-block (ISLAST=1, ISLASTEMPTY=1: 0x03).
  const header = tail.byteLength === 0 ? 0 : 3
  const out = new Uint8Array(header + tail.byteLength + 1)
  if (header) {
    const bits = ((tail.byteLength - 1) << 3) | (1 << 19)
    out[0] = bits & 0xff
    out[1] = (bits >> 8) & 0xff
    out[2] = (bits >> 16) & 0xff
    out.set(tail, 3)
  }
  out[header + tail.byteLength] = 0x03
  return new Blob([body.br.blob, out])
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength)
  out.set(a)
  out.set(b, a.byteLength)
  return out
}
