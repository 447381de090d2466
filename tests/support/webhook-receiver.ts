/**
 * A webhook receiver written only from the README's "Alert webhooks" section, as a consumer team
 * would write one: it shares no code with GridPulse (WebCrypto, not node:crypto's HMAC).
 * `answer` decides the status of each request that passed verification.
 */
export interface ReceivedWebhook {
  readonly body: string
  readonly headers: Headers
  /** Whether the signature and the timestamp passed (only verified requests reach `answer`). */
  readonly verified: boolean
  readonly status: number
}

const REPLAY_WINDOW_SECONDS = 300

const hex = (bytes: ArrayBuffer) =>
  [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('')

/** Constant-time comparison of two strings of the same alphabet. */
function equalConstantTime(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

/** README: split on `,` into key=value; HMAC-SHA256(secret, `t.body`), hex, vs v1; |now − t| ≤ 300 s. */
export async function verifySignature(
  secret: string,
  header: string | null,
  rawBody: string,
  nowSeconds = Math.floor(Date.now() / 1000)
): Promise<boolean> {
  if (!header) return false
  const parts = new Map(
    header.split(',').map((p) => {
      const i = p.indexOf('=')
      return [p.slice(0, i).trim(), p.slice(i + 1).trim()] as const
    })
  )
  const t = parts.get('t')
  const v1 = parts.get('v1')
  if (!t || !v1 || !/^\d+$/.test(t)) return false
  if (Math.abs(nowSeconds - Number(t)) > REPLAY_WINDOW_SECONDS) return false
  const encoder = new TextEncoder()
  const key = await crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign']
  )
  const mac = await crypto.subtle.sign('HMAC', key, encoder.encode(`${t}.${rawBody}`))
  return equalConstantTime(hex(mac), v1)
}

export function startWebhookReceiver(options: {
  /** The rule's secret; set once the rule exists (its creation answer shows it). */
  secret: () => string | undefined
  answer: (request: { body: string; headers: Headers }) => number
}) {
  const received: ReceivedWebhook[] = []
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const body = await request.text()
      const secret = options.secret()
      const verified =
        secret !== undefined &&
        (await verifySignature(secret, request.headers.get('GridPulse-Signature'), body))
      const status = verified ? options.answer({ body, headers: request.headers }) : 401
      received.push({ body, headers: request.headers, verified, status })
      return new Response(null, { status })
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}/hooks/gridpulse`,
    received,
    stop: () => server.stop(true),
  }
}
