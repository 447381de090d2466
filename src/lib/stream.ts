/**
 * Reads a byte stream to its end, or gives up (cancelling it) once it exceeds `maxBytes`:
 * returns undefined then. Guards memory against bodies that announce no length.
 */
export async function readAtMost(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number
): Promise<Uint8Array | undefined> {
  const reader = stream.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel()
      return undefined
    }
    chunks.push(value)
  }
  return chunks.length === 1 ? chunks[0]! : new Uint8Array(Buffer.concat(chunks))
}
