const namespaces = new Map<string, Buffer>()

/**
 * RFC 9562 name-based UUID (version 5, SHA-1). The same name in the same namespace always
 * yields the same id, which is what makes re-ingesting a file harmless downstream.
 * (Bun's native hasher: about twice as fast as node:crypto's, and this runs once per event.)
 */
export function uuidV5(name: string, namespace: string): string {
  let ns = namespaces.get(namespace)
  if (!ns) {
    ns = Buffer.from(namespace.replaceAll('-', ''), 'hex')
    namespaces.set(namespace, ns)
  }
  const hash = new Bun.CryptoHasher('sha1').update(ns).update(name).digest()
  hash[6] = (hash[6]! & 0x0f) | 0x50
  hash[8] = (hash[8]! & 0x3f) | 0x80
  const hex = hash.subarray(0, 16).toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

export const sha256Hex = (data: string | Uint8Array): string =>
  new Bun.CryptoHasher('sha256').update(data).digest('hex')
