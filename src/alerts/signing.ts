import { createHmac, randomBytes } from 'node:crypto'

/**
 * Webhook signatures, as the README's "Alert webhooks" section documents them for receivers:
 * `GridPulse-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. The
 * timestamp is inside the signed text, so a receiver that refuses old `t` (5 minutes) refuses
 * replays; the key is the secret string exactly as shown at rule creation (UTF-8 bytes).
 */
export const SIGNATURE_HEADER = 'GridPulse-Signature'
export const DELIVERY_HEADER = 'GridPulse-Delivery'
export const ATTEMPT_HEADER = 'GridPulse-Attempt'

/** A new rule's signing secret: 32 random bytes, shown once. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`

export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex')
  return `t=${unixSeconds},v1=${mac}`
}
