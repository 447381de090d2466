/**
 * compose.yaml: validated by the real Compose (`docker-compose config -q`, no engine needed) when
 * it is installed (scripts/install-tools.sh docker-compose), by the Compose Specification JSON
 * schema when ajv is installed, and always by the structural rules below.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findTool, ROOT, run, skipNotice, yaml } from './support'

type Obj = Record<string, any>
let compose: Obj
beforeAll(async () => {
  compose = await yaml('compose.yaml')
})

/** The real Compose CLI: a docker-compose binary, or the docker CLI's compose plugin. */
const composeCli: string[] | undefined = (() => {
  const bin = findTool('DOCKER_COMPOSE', 'docker-compose', 'docker-compose')
  if (bin) return [bin]
  const docker = Bun.which('docker')
  if (docker && run([docker, 'compose', 'version']).code === 0) return [docker, 'compose']
  skipNotice(
    'docker-compose config',
    'no Compose CLI (build one with scripts/install-tools.sh docker-compose, ~4 min cold)'
  )
  return undefined
})()

/**
 * A throwaway project dir with compose.yaml and what scripts/setup-env.sh generates there (the
 * real script: deploy/.env, the per-container deploy/secrets/*.env, the self-signed TLS pair).
 * `secrets: false`: the files compose.yaml needs, but no secrets generated yet.
 */
function project(options: { secrets?: boolean } = {}): { dir: string; envFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'compose-'))
  cpSync(join(ROOT, 'compose.yaml'), join(dir, 'compose.yaml'))
  for (const f of ['kong/consumers.yaml', 'scripts/setup-env.sh', 'deploy/kafka/start.sh']) {
    mkdirSync(join(dir, f, '..'), { recursive: true })
    cpSync(join(ROOT, f), join(dir, f))
  }
  const envFile = join(dir, 'deploy/.env')
  if (options.secrets !== false) {
    const r = run(['bash', 'scripts/setup-env.sh'], { cwd: dir })
    if (r.code !== 0) throw new Error(`setup-env.sh failed: ${r.stderr}`)
  }
  return { dir, envFile }
}

/** KEY=VALUE lines of an env file (comments and blank lines skipped). */
function envValues(path: string): Map<string, string> {
  const values = new Map<string, string>()
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = line.match(/^([A-Z][A-Z0-9_]*)=(.*)$/)
    if (m) values.set(m[1]!, m[2]!)
  }
  return values
}

describe('the real Compose accepts compose.yaml', () => {
  test.skipIf(!composeCli)(
    'docker-compose config -q (with and without the kafka-ui profile)',
    () => {
      const { dir, envFile } = project()
      try {
        for (const extra of [[], ['--profile', 'kafka-ui']]) {
          const r = run(
            [...composeCli!, '-f', 'compose.yaml', '--env-file', envFile, ...extra, 'config', '-q'],
            { cwd: dir }
          )
          if (r.code !== 0) console.error(r.stderr)
          expect(r.code).toBe(0)
        }
        const services = run(
          [...composeCli!, '-f', 'compose.yaml', '--env-file', envFile, 'config', '--services'],
          { cwd: dir }
        )
        expect(services.stdout.trim().split('\n').sort()).toEqual(
          ['alertmanager', 'gridpulse', 'grafana', 'kafka', 'kong', 'prometheus'].sort()
        )
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }
  )

  test.skipIf(!composeCli)(
    'the three-node override adds nodes with their own volumes, all behind the gridpulse name',
    () => {
      const { dir, envFile } = project()
      try {
        cpSync(join(ROOT, 'deploy/compose.scale.yaml'), join(dir, 'deploy/compose.scale.yaml'))
        const args = [
          ...composeCli!,
          '-f',
          'compose.yaml',
          '-f',
          'deploy/compose.scale.yaml',
          '--env-file',
          envFile,
        ]
        const r = run([...args, 'config', '--format', 'json'], { cwd: dir })
        if (r.code !== 0) console.error(r.stderr)
        expect(r.code).toBe(0)
        const config = JSON.parse(r.stdout) as Obj
        for (const [name, node] of [
          ['gridpulse-2', 'node-2'],
          ['gridpulse-3', 'node-3'],
        ]) {
          const service = config.services[name!]
          expect(service.environment.NODE_ID).toBe(node)
          expect(service.networks.default.aliases).toContain('gridpulse')
          expect(service.volumes[0].source).toBe(`${name!.replace('gridpulse', 'gridpulse-data')}`)
        }
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }
  )

  test.skipIf(!composeCli)('refuses to start without the generated secrets', () => {
    const { dir } = project({ secrets: false })
    try {
      const r = run([...composeCli!, '-f', 'compose.yaml', 'config', '-q'], { cwd: dir })
      expect(r.code).not.toBe(0)
      expect(r.stderr).toContain('scripts/setup-env.sh')
      // The TLS paths given, but no per-container secrets: still refused.
      writeFileSync(
        join(dir, 'tls.env'),
        'GRIDPULSE_TLS_CERT=./deploy/tls/server.crt\nGRIDPULSE_TLS_KEY=./deploy/tls/server.key\n'
      )
      const noSecrets = run(
        [...composeCli!, '-f', 'compose.yaml', '--env-file', 'tls.env', 'config', '-q'],
        { cwd: dir }
      )
      expect(noSecrets.code).not.toBe(0)
      expect(noSecrets.stderr).toContain('deploy/secrets/')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test.skipIf(!composeCli)(
    'each container gets only its own secrets (the rendered config, kafka-ui and three nodes included)',
    () => {
      const { dir, envFile } = project()
      try {
        writeFileSync(
          join(dir, 'deploy/compose.scale.yaml'),
          readFileSync(join(ROOT, 'deploy/compose.scale.yaml'))
        )
        const r = run(
          [
            ...composeCli!,
            '-f',
            'compose.yaml',
            '-f',
            'deploy/compose.scale.yaml',
            '--env-file',
            envFile,
            '--profile',
            'kafka-ui',
            'config',
            '--format',
            'json',
          ],
          { cwd: dir }
        )
        if (r.code !== 0) console.error(r.stderr)
        expect(r.code).toBe(0)
        const config = JSON.parse(r.stdout) as Obj
        const env = envValues(envFile)
        const secretNames = [...env.keys()].filter((k) => !k.startsWith('GRIDPULSE_TLS_'))
        expect(secretNames.sort()).toEqual(
          [
            'GRAFANA_ADMIN_PASSWORD',
            'GRIDPULSE_GATEWAY_SECRET',
            'GRIDPULSE_KEY_ANALYTICS',
            'GRIDPULSE_KEY_OPERATIONS',
            'GRIDPULSE_KEY_RISK',
            'KAFKA_GRIDPULSE_PASSWORD',
            'KAFKA_UI_PASSWORD',
          ].sort()
        )
        // Which secret values may appear anywhere in each service's rendered definition.
        const keys = secretNames.filter((k) => k.startsWith('GRIDPULSE_KEY_'))
        const allowed: Record<string, string[]> = {
          kong: ['GRIDPULSE_GATEWAY_SECRET', ...keys],
          gridpulse: ['GRIDPULSE_GATEWAY_SECRET', 'KAFKA_GRIDPULSE_PASSWORD'],
          'gridpulse-2': ['GRIDPULSE_GATEWAY_SECRET', 'KAFKA_GRIDPULSE_PASSWORD'],
          'gridpulse-3': ['GRIDPULSE_GATEWAY_SECRET', 'KAFKA_GRIDPULSE_PASSWORD'],
          grafana: ['GRAFANA_ADMIN_PASSWORD'],
          kafka: ['KAFKA_GRIDPULSE_PASSWORD', 'KAFKA_UI_PASSWORD'],
          'kafka-ui': ['KAFKA_UI_PASSWORD'],
          prometheus: [],
          alertmanager: [],
        }
        expect(Object.keys(config.services).sort()).toEqual(Object.keys(allowed).sort())
        for (const [service, definition] of Object.entries(config.services as Obj)) {
          const text = JSON.stringify(definition)
          const present = secretNames.filter((name) => text.includes(env.get(name)!))
          expect({ service, secrets: present.sort() }).toEqual({
            service,
            secrets: allowed[service]!.sort(),
          })
        }
        // …and under the names each program reads.
        const s = config.services
        expect(s.kong.environment.GRIDPULSE_GATEWAY_SECRET).toBe(
          env.get('GRIDPULSE_GATEWAY_SECRET')
        )
        expect(s.gridpulse.environment.GATEWAY_SECRET).toBe(env.get('GRIDPULSE_GATEWAY_SECRET'))
        expect(s.gridpulse.environment.KAFKA_SASL_PASSWORD).toBe(
          env.get('KAFKA_GRIDPULSE_PASSWORD')
        )
        expect(s['gridpulse-3'].environment.KAFKA_SASL_PASSWORD).toBe(
          env.get('KAFKA_GRIDPULSE_PASSWORD')
        )
        expect(s.grafana.environment.GF_SECURITY_ADMIN_PASSWORD).toBe(
          env.get('GRAFANA_ADMIN_PASSWORD')
        )
        expect(s.kafka.environment.KAFKA_SCRAM_GRIDPULSE_PASSWORD).toBe(
          env.get('KAFKA_GRIDPULSE_PASSWORD')
        )
        expect(s['kafka-ui'].environment.KAFKA_CLUSTERS_0_PROPERTIES_SASL_JAAS_CONFIG).toBe(
          `org.apache.kafka.common.security.scram.ScramLoginModule required username="kafka-ui" password="${env.get('KAFKA_UI_PASSWORD')}";`
        )
        // Kong and Grafana mount the TLS pair that setup-env.sh made.
        for (const service of ['kong', 'grafana'])
          expect(
            s[service].volumes
              .filter((v: Obj) => v.target.startsWith('/etc/gridpulse-tls/'))
              .map((v: Obj) => v.source)
          ).toEqual([join(dir, 'deploy/tls/server.crt'), join(dir, 'deploy/tls/server.key')])
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }
  )
})

/** compose-spec.json from the Go module github.com/compose-spec/compose-go/v2 (Go module cache). */
const schemaPath = (() => {
  const gomodcache = run(['go', 'env', 'GOMODCACHE']).stdout.trim()
  const base = join(gomodcache, 'github.com/compose-spec/compose-go')
  if (!gomodcache || !existsSync(base)) return undefined
  const versions = readdirSync(base)
    .filter((d) => d.startsWith('v2@'))
    .sort()
  const last = versions.at(-1)
  return last ? join(base, last, 'schema/compose-spec.json') : undefined
})()
// Installed with @cyclonedx/cyclonedx-esbuild (its optional dependency, pinned in bun.lock).
const AJV = 'ajv'
const ajv = await import(AJV).then((m) => m.default).catch(() => undefined)
if (!ajv || !schemaPath) {
  skipNotice(
    'compose-spec JSON schema',
    `${!ajv ? 'npm package ajv is not installed (bun add -d ajv@8)' : ''}${!ajv && !schemaPath ? '; ' : ''}${!schemaPath ? 'compose-spec.json not in the Go module cache (go mod download github.com/compose-spec/compose-go/v2@v2.9.1)' : ''}`
  )
}

test.skipIf(!ajv || !schemaPath)(
  'compose.yaml validates against the Compose Specification schema',
  async () => {
    const Ajv = ajv as any
    // The spec names draft-07 as https://json-schema.org/draft-07/schema, a URL Ajv does not
    // know (its draft-07, the default dialect, is http://…/draft-07/schema#): drop the reference.
    const { $schema: _draft07, ...schema } = await Bun.file(schemaPath!).json()
    const validator = new Ajv({ strict: false, allErrors: true }).compile(schema)
    const ok = validator(compose)
    if (!ok) console.error(validator.errors)
    expect(ok).toBe(true)
  }
)

describe('compose.yaml structure', () => {
  test('images are pinned to exact versions, and by digest where one was verified', () => {
    const images = Object.fromEntries(
      Object.entries(compose.services as Obj).map(([n, s]) => [n, s.image])
    )
    const digest = '@sha256:[0-9a-f]{64}'
    expect(images.kafka).toMatch(new RegExp(`^apache/kafka:(3\\.9|4\\.\\d+)\\.\\d+${digest}$`))
    expect(images.kong).toMatch(new RegExp(`^kong:3\\.9\\.\\d+${digest}$`))
    expect(images.prometheus).toMatch(new RegExp(`^prom/prometheus:v\\d+\\.\\d+\\.\\d+${digest}$`))
    expect(images.grafana).toMatch(new RegExp(`^grafana/grafana:\\d+\\.\\d+\\.\\d+${digest}$`))
    // No digest verified for these tags yet: scripts/pin-images.sh pins them where a registry is reachable.
    expect(images['kafka-ui']).toMatch(new RegExp(`:v\\d+\\.\\d+\\.\\d+(${digest})?$`))
    expect(images.alertmanager).toMatch(
      new RegExp(`^prom/alertmanager:v\\d+\\.\\d+\\.\\d+(${digest})?$`)
    )
    for (const image of Object.values(images))
      expect(String(image)).not.toMatch(/:(latest|main)(@|$)/)
  })

  test('scripts/pin-images.sh finds every pulled image of compose.yaml, deploy/ and the Dockerfile', () => {
    const r = run(['bash', 'scripts/pin-images.sh', '--list'])
    expect(r.code).toBe(0)
    const listed = r.stdout.trim().split('\n')
    const fromCompose = Object.values(compose.services as Obj)
      .map((s) => String(s.image))
      .filter((i) => !i.startsWith('gridpulse:'))
    expect(listed).toEqual(expect.arrayContaining(fromCompose))
    // The Dockerfile's bases: the build image, and the runtime once (tag only) or per architecture.
    const bases = listed.filter((i) => /^(oven\/bun|gcr\.io\/distroless\/cc-debian12):/.test(i))
    expect(new Set(bases.map((i) => i.split(':')[0]))).toEqual(
      new Set(['oven/bun', 'gcr.io/distroless/cc-debian12'])
    )
    expect(listed).not.toContain('gridpulse:local')
  })

  test("only Kong's TLS proxy and Grafana (HTTPS) are published; opt-in profiles only on loopback", () => {
    const published: string[] = []
    for (const [name, s] of Object.entries(compose.services as Obj)) {
      for (const p of s.ports ?? []) {
        if (s.profiles) expect(String(p)).toStartWith('127.0.0.1:')
        else published.push(`${name} ${p}`)
      }
    }
    expect(published.sort()).toEqual(['grafana 3000:3000', 'kong 8443:8443'])
    // No plaintext proxy listener, not even on the compose network.
    expect(compose.services.kong.environment.KONG_PROXY_LISTEN).toBe('0.0.0.0:8443 ssl http2')
    expect(compose.services.grafana.environment.GF_SERVER_PROTOCOL).toBe('https')
  })

  test('kafka: single-node KRaft; clients only over SASL/SCRAM on kafka:9092, plaintext only on loopback', async () => {
    const k = compose.services.kafka
    expect(k.entrypoint).toEqual(['/bin/sh', '/gridpulse/start.sh'])
    expect(k.volumes).toContain('./deploy/kafka/start.sh:/gridpulse/start.sh:ro')
    expect(k.env_file).toEqual([{ path: 'deploy/secrets/kafka.env', required: true }])
    expect(k.healthcheck.test.join(' ')).toContain(
      '/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server 127.0.0.1:9091'
    )
    // The script's config with its defaults (what the container gets: compose overrides none).
    const script = await Bun.file(join(ROOT, 'deploy/kafka/start.sh')).text()
    const defaults = Object.fromEntries(
      [...script.matchAll(/^([a-z_]+)=\$\{[A-Z_]+:-([^}]*)\}$/gm)].map((m) => [m[1]!, m[2]!])
    )
    expect(defaults).toMatchObject({ host: 'kafka', client_port: '9092', internal_port: '9091' })
    const start = script.replace(/\$([a-z_]+)/g, (all, name: string) => defaults[name] ?? all)
    const prop = (name: string) =>
      start.match(new RegExp(`^${name.replaceAll('.', '\\.')}=(.*)$`, 'm'))?.[1]
    expect(prop('process.roles')).toBe('broker,controller')
    // Every listener but the SCRAM one binds the container's loopback.
    const listeners = prop('listeners')!.split(',')
    expect(listeners.filter((l) => !/\/\/127\.0\.0\.1:/.test(l))).toEqual([
      'SASL_PLAINTEXT://:9092',
    ])
    expect(prop('advertised.listeners')).toBe(
      'SASL_PLAINTEXT://kafka:9092,INTERNAL://127.0.0.1:9091'
    )
    expect(prop('listener.name.sasl_plaintext.sasl.enabled.mechanisms')).toBe('SCRAM-SHA-256')
    expect(start).toContain('--add-scram "SCRAM-SHA-256=[name=gridpulse,')
  })

  test('gridpulse: built here, Kafka over SCRAM, gateway auth, secrets from its env file, /data volume, no port', () => {
    const g = compose.services.gridpulse
    expect(g.build.dockerfile).toBe('Dockerfile')
    expect(g.environment).toMatchObject({
      KAFKA_BROKERS: 'kafka:9092',
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: 'gridpulse',
      AUTH_MODE: 'gateway',
      DATA_DIR: '/data',
    })
    expect(g.environment.GATEWAY_SECRET).toBeUndefined()
    expect(g.env_file).toEqual([{ path: 'deploy/secrets/gridpulse.env', required: true }])
    expect(g.volumes).toContain('gridpulse-data:/data')
    expect(g.healthcheck.test).toEqual(['CMD', '/app/gridpulse', 'healthcheck'])
    expect(g.ports).toBeUndefined()
    expect(g.depends_on.kafka.condition).toBe('service_healthy')
  })

  test('kong: 3.9 DB-less from kong/kong.yaml via docker-start.sh, keys from its env file, TLS, status listener', () => {
    const k = compose.services.kong
    expect(k.environment.KONG_DATABASE).toBe('off')
    expect(k.environment.GRIDPULSE_KONG_TEMPLATE).toBe('/kong/kong.yaml')
    expect(k.environment.KONG_DECLARATIVE_CONFIG).toBe(k.environment.GRIDPULSE_KONG_RENDERED)
    expect(k.environment.KONG_STATUS_LISTEN).toBe('0.0.0.0:8100')
    expect(k.entrypoint).toEqual(['/bin/sh', '/kong/docker-start.sh'])
    expect(k.volumes).toContain('./kong:/kong:ro')
    expect(k.env_file).toEqual([{ path: 'deploy/secrets/kong.env', required: true }])
    expect(k.environment.KONG_SSL_CERT).toBe('/etc/gridpulse-tls/server.crt')
    expect(k.environment.KONG_SSL_CERT_KEY).toBe('/etc/gridpulse-tls/server.key')
    expect(k.depends_on.gridpulse.condition).toBe('service_healthy')
  })

  test('prometheus, alertmanager and grafana are provisioned from deploy/', () => {
    expect(compose.services.prometheus.volumes).toEqual(
      expect.arrayContaining([
        './deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro',
        './deploy/prometheus/rules:/etc/prometheus/rules:ro',
      ])
    )
    expect(compose.services.alertmanager.volumes).toContain(
      './deploy/alertmanager/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro'
    )
    expect(compose.services.alertmanager.command).toContain(
      '--config.file=/etc/alertmanager/alertmanager.yml'
    )
    expect(compose.services.alertmanager.ports).toBeUndefined()
    expect(compose.services.grafana.volumes).toEqual(
      expect.arrayContaining([
        './deploy/grafana/provisioning:/etc/grafana/provisioning:ro',
        './deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro',
      ])
    )
    for (const f of [
      'deploy/prometheus/prometheus.yml',
      'deploy/alertmanager/alertmanager.yml',
      'deploy/grafana/provisioning/datasources/prometheus.yaml',
      'deploy/grafana/provisioning/dashboards/gridpulse.yaml',
      'deploy/grafana/dashboards/gridpulse.json',
    ]) {
      expect(existsSync(join(ROOT, f))).toBe(true)
    }
    expect(compose.services['kafka-ui'].profiles).toEqual(['kafka-ui'])
  })

  test('prometheus scrapes gridpulse:8080/metrics and kong:8100/metrics, with the rules, alerting to alertmanager', async () => {
    const prom = await yaml('deploy/prometheus/prometheus.yml')
    const targets = Object.fromEntries(
      prom.scrape_configs.map((j: Obj) => [
        j.job_name,
        [j.metrics_path ?? '/metrics', ...j.static_configs.flatMap((c: Obj) => c.targets)],
      ])
    )
    expect(targets.gridpulse).toEqual(['/metrics', 'gridpulse:8080'])
    expect(targets.kong).toEqual(['/metrics', 'kong:8100'])
    // The rules directory as compose mounts it, and alerts to compose's Alertmanager.
    expect(prom.rule_files).toEqual(['/etc/prometheus/rules/*.yml'])
    expect(prom.alerting.alertmanagers[0].static_configs[0].targets).toEqual(['alertmanager:9093'])
    const ds = await yaml('deploy/grafana/provisioning/datasources/prometheus.yaml')
    expect(ds.datasources[0]).toMatchObject({
      uid: 'gridpulse-prometheus',
      url: 'http://prometheus:9090',
    })
  })
})
