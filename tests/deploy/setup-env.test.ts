/**
 * scripts/setup-env.sh, the real script in a throwaway copy of the repo: the self-signed TLS pair
 * it makes serves https://localhost to a client that trusts only that certificate, and a gateway
 * secret rotation keeps the old secret accepted by GridPulse (never sent by Kong) until it ends.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT, run, skipNotice } from './support'

const hasOpenssl = Bun.which('openssl') !== null
if (!hasOpenssl) skipNotice('setup-env.sh TLS pair', 'openssl is not installed')

function envValues(path: string): Map<string, string> {
  const values = new Map<string, string>()
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = line.match(/^([A-Z][A-Z0-9_]*)=(.*)$/)
    if (m) values.set(m[1]!, m[2]!)
  }
  return values
}

describe.skipIf(!hasOpenssl)('scripts/setup-env.sh', () => {
  let dir: string
  const setupEnv = (...args: string[]) => {
    const r = run(['bash', 'scripts/setup-env.sh', ...args], { cwd: dir })
    if (r.code !== 0)
      throw new Error(`setup-env.sh ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
    return r
  }
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'setup-env-'))
    for (const f of ['kong/consumers.yaml', 'scripts/setup-env.sh']) {
      mkdirSync(join(dir, f, '..'), { recursive: true })
      cpSync(join(ROOT, f), join(dir, f))
    }
    setupEnv()
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  test('the self-signed pair serves https://localhost to a client trusting only that certificate', async () => {
    const env = envValues(join(dir, 'deploy/.env'))
    expect(env.get('GRIDPULSE_TLS_CERT')).toBe('./deploy/tls/server.crt')
    expect(env.get('GRIDPULSE_TLS_KEY')).toBe('./deploy/tls/server.key')
    expect(statSync(join(dir, 'deploy/tls')).mode & 0o777).toBe(0o700)
    const cert = readFileSync(join(dir, 'deploy/tls/server.crt'), 'utf8')
    const key = readFileSync(join(dir, 'deploy/tls/server.key'), 'utf8')
    const server = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      tls: { cert, key },
      fetch: () => new Response('over tls'),
    })
    try {
      const url = `https://localhost:${server.port}/`
      const trusted = await fetch(url, { tls: { ca: cert } })
      expect(await trusted.text()).toBe('over tls')
      // The same server without trusting the pair: refused, so the check above means something.
      const refused = await fetch(url).then(
        () => 'accepted',
        (e: Error) => e.message
      )
      expect(refused).not.toBe('accepted')
    } finally {
      server.stop(true)
    }
  })

  test('an operator certificate in deploy/.env is kept: no pair is made', () => {
    const other = mkdtempSync(join(tmpdir(), 'setup-env-own-'))
    try {
      for (const f of ['kong/consumers.yaml', 'scripts/setup-env.sh']) {
        mkdirSync(join(other, f, '..'), { recursive: true })
        cpSync(join(ROOT, f), join(other, f))
      }
      mkdirSync(join(other, 'deploy'))
      writeFileSync(
        join(other, 'deploy/.env'),
        'GRIDPULSE_TLS_CERT=/etc/ssl/gridpulse/fullchain.pem\nGRIDPULSE_TLS_KEY=/etc/ssl/gridpulse/privkey.pem\n'
      )
      const r = run(['bash', 'scripts/setup-env.sh'], { cwd: other })
      expect(r.code).toBe(0)
      const env = envValues(join(other, 'deploy/.env'))
      expect(env.get('GRIDPULSE_TLS_CERT')).toBe('/etc/ssl/gridpulse/fullchain.pem')
      expect(() => statSync(join(other, 'deploy/tls'))).toThrow()
    } finally {
      rmSync(other, { recursive: true, force: true })
    }
  })

  test('a gateway secret rotation: GridPulse accepts old and new, Kong sends only the new, then it ends', () => {
    const secrets = (service: string) => envValues(join(dir, `deploy/secrets/${service}.env`))
    const before = secrets('gridpulse').get('GATEWAY_SECRET')!
    expect(before).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(secrets('gridpulse').has('GATEWAY_SECRET_PREVIOUS')).toBe(false)

    setupEnv('--rotate', 'gateway-secret')
    const during = secrets('gridpulse')
    expect(during.get('GATEWAY_SECRET_PREVIOUS')).toBe(before)
    expect(during.get('GATEWAY_SECRET')).not.toBe(before)
    expect(secrets('kong').get('GRIDPULSE_GATEWAY_SECRET')).toBe(during.get('GATEWAY_SECRET'))
    expect([...secrets('kong').values()]).not.toContain(before)

    setupEnv('--end-rotation')
    const after = secrets('gridpulse')
    expect(after.get('GATEWAY_SECRET')).toBe(during.get('GATEWAY_SECRET'))
    expect(after.has('GATEWAY_SECRET_PREVIOUS')).toBe(false)
    // A team removed from kong/consumers.yaml: its key stays in deploy/.env, but Kong loses it.
    appendFileSync(join(dir, 'deploy/.env'), `GRIDPULSE_KEY_FORMER=gpk_${'x'.repeat(8)}\n`)
    setupEnv()
    expect([...secrets('kong').keys()].sort()).toEqual([
      'GRIDPULSE_GATEWAY_SECRET',
      'GRIDPULSE_KEY_ANALYTICS',
      'GRIDPULSE_KEY_OPERATIONS',
      'GRIDPULSE_KEY_RISK',
    ])
    for (const service of ['kong', 'gridpulse', 'grafana', 'kafka', 'kafka-ui'])
      expect(statSync(join(dir, `deploy/secrets/${service}.env`)).mode & 0o777).toBe(0o600)
  })
})
