/**
 * No literal secret in the repository: every file git tracks (or would add: untracked files that
 * are not ignored) is scanned for key-shaped strings, and the deployment files' secret-looking
 * settings must be `{vault://env/…}` references or `${VAR}` interpolations.
 */
import { describe, expect, test } from 'bun:test'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, run } from './support'

const files = run(['git', 'ls-files', '--cached', '--others', '--exclude-standard', '-z'])
  .stdout.split('\0')
  .filter((f) => f && !f.startsWith('node_modules/'))
  .filter((f) => {
    try {
      const s = statSync(join(ROOT, f))
      return s.isFile() && s.size < 5 * 1024 * 1024
    } catch {
      return false // deleted in the work tree
    }
  })

const PATTERNS: Array<[string, RegExp]> = [
  ['GridPulse API key (gpk_…)', /gpk_[A-Za-z0-9_-]{16,}/],
  [
    'PEM private key',
    /-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY( BLOCK)?-----/,
  ],
  ['AWS access key id', /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/],
  ['AWS secret access key', /aws_secret_access_key\s*[:=]\s*["']?[A-Za-z0-9/+=]{40}/i],
]

/** A setting whose name says it holds a secret: key, secret, password, token (not key_names …). */
const SECRET_NAME = /(^|[_-])(key|secret|password|passwd|token|apikey)$/i
const SAFE_VALUE = /^(\{vault:\/\/env\/[a-z0-9-]+\}|\$\{[A-Z_][A-Z0-9_]*(:?[?-][^}]*)?\})$/
// A file path inside a container (KONG_SSL_CERT_KEY, GF_SERVER_CERT_KEY): where a key is, not a key.
const CONTAINER_PATH = /^\/(etc|run)\/[A-Za-z0-9._/-]+$/

function secretSettings(node: unknown, path: string, out: string[]): void {
  if (Array.isArray(node)) node.forEach((v, i) => secretSettings(v, `${path}[${i}]`, out))
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (
        typeof v === 'string' &&
        SECRET_NAME.test(k) &&
        !SAFE_VALUE.test(v) &&
        !CONTAINER_PATH.test(v)
      )
        out.push(`${path}.${k} = ${v.slice(0, 6)}…`)
      else secretSettings(v, `${path}.${k}`, out)
    }
  } else if (typeof node === 'string') {
    // header entries such as "X-Gateway-Secret:<value>" in request-transformer configs
    const m = node.match(/^([A-Za-z0-9-]*(?:secret|password|token|key)[A-Za-z0-9-]*):(.*)$/i)
    if (m && !SAFE_VALUE.test(m[2]!)) out.push(`${path} = ${m[1]}:${m[2]!.slice(0, 6)}…`)
  }
}

describe('no literal secrets in the repository', () => {
  test('the scan sees the repository', () => {
    expect(files.length).toBeGreaterThan(20)
    expect(files).toContain('compose.yaml')
  })

  test('no key-shaped strings in any tracked file', () => {
    const hits: string[] = []
    for (const f of files) {
      const text = readFileSync(join(ROOT, f), 'latin1')
      if (text.includes('\0')) continue // binary
      for (const [what, re] of PATTERNS) {
        const m = re.exec(text)
        if (m) hits.push(`${f}: ${what} (${m[0].slice(0, 8)}…)`)
      }
    }
    expect(hits).toEqual([])
  })

  test('secret settings in kong/*.yaml and compose.yaml are vault references or ${VAR}', () => {
    const yamlFiles = files.filter((f) => /^kong\/.*\.ya?ml$/.test(f) || f === 'compose.yaml')
    expect(yamlFiles).toEqual(
      expect.arrayContaining(['compose.yaml', 'kong/kong.yaml', 'kong/consumers.yaml'])
    )
    const hits: string[] = []
    for (const f of yamlFiles)
      secretSettings(Bun.YAML.parse(readFileSync(join(ROOT, f), 'utf8')), f, hits)
    expect(hits).toEqual([])
  })

  test('the scan would catch a literal key or secret', () => {
    const hits: string[] = []
    const literal = ['gpk', 'Zm9vYmFyYmF6cXV4cXV1eA'].join('_')
    secretSettings(
      {
        consumers: [{ keyauth_credentials: [{ key: literal }] }],
        env: { GATEWAY_SECRET: 'hunter2hunter2' },
      },
      'x',
      hits
    )
    secretSettings({ headers: ['X-Gateway-Secret:hunter2hunter2'] }, 'y', hits)
    expect(hits).toHaveLength(3)
    expect(PATTERNS[0]![1].test(literal)).toBe(true)
  })

  test('generated env files, per-container secrets and the TLS pair are ignored by git', () => {
    for (const f of [
      'deploy/.env',
      'deploy/secrets/kong.env',
      'deploy/secrets/gridpulse.env',
      'deploy/tls/server.key',
    ])
      expect({ f, ignored: run(['git', 'check-ignore', '-q', '--no-index', f]).code }).toEqual({
        f,
        ignored: 0,
      })
    expect(files.some((f) => /(^|\/)\.env(\.|$)/.test(f) && !f.endsWith('.example'))).toBe(false)
  })
})
