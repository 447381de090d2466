import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'

/**
 * Where webhooks may go (ALERT_WEBHOOK_ALLOWLIST): host names (`hooks.example.com`), subdomain
 * wildcards (`*.example.com`: any name below it, not the name itself) and CIDRs (`203.0.113.0/24`,
 * `127.0.0.1/32`, `2001:db8::/32`). Empty denies everything: a consumer's key must not turn
 * GridPulse into a way to reach addresses only it can reach (SSRF).
 *
 * A name only ever lets GridPulse reach the PUBLIC addresses it resolves to; an internal address
 * (loopback, private, shared, link-local — 169.254.169.254 is the cloud metadata service —,
 * unique-local, unspecified, multicast) must itself be inside a listed CIDR. So a name that is
 * allowed but whose DNS points (or is re-pointed) inside is still refused.
 */
export interface Allowlist {
  /** Undefined when `url` may be POSTed to now (checked again before every attempt), else why not. */
  check(url: string): Promise<string | undefined>
}

interface Cidr {
  readonly v6: boolean
  readonly base: bigint
  readonly bits: number
}

/** An address as a 128-bit (v6) or 32-bit (v4) number; IPv4-mapped v6 addresses count as v4. */
function toNumber(address: string): { v6: boolean; n: bigint } | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return toNumber(mapped[1]!)
  const kind = isIP(address)
  if (kind === 4) {
    const n = address.split('.').reduce((acc, part) => (acc << 8n) + BigInt(Number(part)), 0n)
    return { v6: false, n }
  }
  if (kind !== 6) return undefined
  const [head, tail] = address.split('::') as [string, string | undefined]
  const parse = (s: string | undefined) => (s ? s.split(':').map((g) => BigInt(`0x${g}`)) : [])
  const left = parse(head)
  const right = parse(tail)
  const groups = [...left, ...Array(8 - left.length - right.length).fill(0n), ...right]
  return { v6: true, n: groups.reduce((acc, g) => (acc << 16n) + g, 0n) }
}

function parseCidr(text: string): Cidr | undefined {
  const [address, bits] = text.split('/')
  const parsed = address ? toNumber(address) : undefined
  const width = parsed?.v6 ? 128 : 32
  const prefix = Number(bits)
  if (!parsed || !Number.isInteger(prefix) || prefix < 0 || prefix > width) return undefined
  return { v6: parsed.v6, base: parsed.n >> BigInt(width - prefix), bits: prefix }
}

const inCidr = (address: { v6: boolean; n: bigint }, c: Cidr) =>
  address.v6 === c.v6 && address.n >> BigInt((c.v6 ? 128 : 32) - c.bits) === c.base

/** Ranges a name alone never reaches (RFC 6890 special-purpose addresses GridPulse could reach). */
const INTERNAL = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '224.0.0.0/3',
  '::/127',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
].map((c) => parseCidr(c)!)

/** Parses the entries; throws on one that is neither a CIDR nor a host name pattern. */
export function parseAllowlist(entries: readonly string[]): { names: string[]; cidrs: Cidr[] } {
  const names: string[] = []
  const cidrs: Cidr[] = []
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase()
    const cidr = entry.includes('/') ? parseCidr(entry) : undefined
    if (cidr) cidrs.push(cidr)
    else if (/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(entry))
      names.push(entry)
    else throw new Error(`"${raw}" is neither a host name, a *.domain pattern nor a CIDR`)
  }
  return { names, cidrs }
}

const nameMatches = (host: string, pattern: string) =>
  pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) : host === pattern

export function createAllowlist(
  entries: readonly string[],
  resolve: (host: string) => Promise<readonly string[]> = async (host) =>
    (await lookup(host, { all: true, verbatim: true })).map((a) => a.address)
): Allowlist {
  const { names, cidrs } = parseAllowlist(entries)
  const listed = (a: { v6: boolean; n: bigint }) => cidrs.some((c) => inCidr(a, c))
  return {
    async check(url) {
      let parsed: URL
      try {
        parsed = new URL(url)
      } catch {
        return 'not a URL'
      }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'not http(s)'
      if (parsed.username || parsed.password) return 'credentials in the URL are not allowed'
      const host = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase()
      const literal = toNumber(host)
      if (literal) return listed(literal) ? undefined : `${host} is not in ALERT_WEBHOOK_ALLOWLIST`
      if (!names.some((p) => nameMatches(host, p)))
        return `${host} is not in ALERT_WEBHOOK_ALLOWLIST`
      let addresses: readonly string[]
      try {
        addresses = await resolve(host)
      } catch {
        return `${host} does not resolve`
      }
      for (const address of addresses) {
        const a = toNumber(address)
        if (!a) return `${host} resolves to ${address}, not an IP address`
        if (!listed(a) && INTERNAL.some((c) => inCidr(a, c)))
          return `${host} resolves to internal address ${address}, which is not in ALERT_WEBHOOK_ALLOWLIST`
      }
      return addresses.length ? undefined : `${host} does not resolve`
    },
  }
}
