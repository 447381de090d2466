import { randomBytes } from 'node:crypto'

/**
 * The one place that knows what an API key looks like: `gpk_<id>_<secret>`. A recognisable prefix
 * (secret scanners can match it), a public id to find the record (6 random bytes, hex), and a
 * secret of 192 random bits (24 bytes, base64url). Because the secret is random and long, a fast
 * hash (sha256) is as good as a slow one: there is nothing to brute-force.
 */
const PREFIX = 'gpk_'
const SHAPE = /^gpk_([0-9a-f]{12})_([A-Za-z0-9_-]{32})$/

export interface KeyParts {
  readonly id: string
  readonly secret: string
}

/** A new random key: its parts (the store keeps the id and the secret's hash) and its text. */
export function mintKey(): KeyParts & { readonly key: string } {
  const id = randomBytes(6).toString('hex')
  const secret = randomBytes(24).toString('base64url')
  return { id, secret, key: `${PREFIX}${id}_${secret}` }
}

/** The parts of a presented key, or undefined when it is not shaped like one of ours. */
export function parseKey(presented: string): KeyParts | undefined {
  const match = SHAPE.exec(presented)
  return match ? { id: match[1]!, secret: match[2]! } : undefined
}
