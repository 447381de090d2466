export { type KeyParts, mintKey, parseKey } from './key-format'
export {
  type ApiKeyInfo,
  type KeyIdentity,
  type KeyScope,
  type KeyStore,
  openKeyStore,
} from './key-store'
export {
  addressKey,
  createSlidingWindowLimiter,
  type RateLimitDecision,
  type SlidingWindowLimiter,
} from './sliding-window'
