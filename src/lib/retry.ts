/** Exponential backoff with full jitter (AWS architecture blog's "full jitter"), capped. */
export const backoffMs = (
  attempt: number,
  baseMs: number,
  capMs: number,
  random = Math.random
): number => Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt))
