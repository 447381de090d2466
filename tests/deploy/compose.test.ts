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
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findTool, ROOT, run, skipNotice, token, yaml } from './support'

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

/** A throwaway project dir with compose.yaml and a generated env file, as setup-env.sh makes it. */
function project(): { dir: string; envFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'compose-'))
  cpSync(join(ROOT, 'compose.yaml'), join(dir, 'compose.yaml'))
  mkdirSync(join(dir, 'deploy'))
  const envFile = join(dir, 'deploy/.env')
  writeFileSync(
    envFile,
    [
      `GRIDPULSE_GATEWAY_SECRET=${token()}`,
      `GRAFANA_ADMIN_PASSWORD=${token()}`,
      `GRIDPULSE_KEY_ANALYTICS=${token('gpk_')}`,
      `GRIDPULSE_KEY_OPERATIONS=${token('gpk_')}`,
      `GRIDPULSE_KEY_RISK=${token('gpk_')}`,
      '',
    ].join('\n')
  )
  return { dir, envFile }
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
          ['gridpulse', 'grafana', 'kafka', 'kong', 'prometheus'].sort()
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
    const { dir } = project()
    try {
      const r = run([...composeCli!, '-f', 'compose.yaml', 'config', '-q'], { cwd: dir })
      expect(r.code).not.toBe(0)
      expect(r.stderr).toContain('scripts/setup-env.sh')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
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
const AJV = 'ajv' // optional: not a dependency yet (see the skip notice)
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
    const validator = new Ajv({ strict: false, allErrors: true }).compile(
      await Bun.file(schemaPath!).json()
    )
    const ok = validator(compose)
    if (!ok) console.error(validator.errors)
    expect(ok).toBe(true)
  }
)

describe('compose.yaml structure', () => {
  test('images are pinned to exact versions', () => {
    const images = Object.fromEntries(
      Object.entries(compose.services as Obj).map(([n, s]) => [n, s.image])
    )
    expect(images.kafka).toMatch(/^apache\/kafka:(3\.9|4\.\d+)\.\d+$/)
    expect(images.kong).toMatch(/^kong:3\.9\.\d+$/)
    expect(images.prometheus).toMatch(/^prom\/prometheus:v\d+\.\d+\.\d+$/)
    expect(images.grafana).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/)
    expect(images['kafka-ui']).toMatch(/:v\d+\.\d+\.\d+$/)
    for (const image of Object.values(images)) expect(String(image)).not.toMatch(/:latest$|:main$/)
  })

  test("only Kong's proxy and Grafana are published; opt-in profiles only on loopback", () => {
    const published: string[] = []
    for (const [name, s] of Object.entries(compose.services as Obj)) {
      for (const p of s.ports ?? []) {
        if (s.profiles) expect(String(p)).toStartWith('127.0.0.1:')
        else published.push(`${name} ${p}`)
      }
    }
    expect(published.sort()).toEqual(['grafana 3000:3000', 'kong 8000:8000'])
  })

  test('kafka: single-node KRaft advertising kafka:9092, healthchecked with the broker API tool', () => {
    const k = compose.services.kafka
    expect(k.environment.KAFKA_PROCESS_ROLES).toBe('broker,controller')
    expect(k.environment.KAFKA_ADVERTISED_LISTENERS).toBe('PLAINTEXT://kafka:9092')
    expect(k.healthcheck.test.join(' ')).toContain(
      '/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server localhost:9092'
    )
  })

  test('gridpulse: built here, Kafka, gateway auth, secret from the env file, /data volume, no port', () => {
    const g = compose.services.gridpulse
    expect(g.build.dockerfile).toBe('Dockerfile')
    expect(g.environment).toMatchObject({
      KAFKA_BROKERS: 'kafka:9092',
      AUTH_MODE: 'gateway',
      DATA_DIR: '/data',
    })
    expect(g.environment.GATEWAY_SECRET).toMatch(/^\$\{GRIDPULSE_GATEWAY_SECRET:\?/)
    expect(g.volumes).toContain('gridpulse-data:/data')
    expect(g.healthcheck.test).toEqual(['CMD', '/app/gridpulse', 'healthcheck'])
    expect(g.ports).toBeUndefined()
    expect(g.depends_on.kafka.condition).toBe('service_healthy')
  })

  test('kong: 3.9 DB-less from kong/kong.yaml via docker-start.sh, keys from the env file, status listener', () => {
    const k = compose.services.kong
    expect(k.environment.KONG_DATABASE).toBe('off')
    expect(k.environment.GRIDPULSE_KONG_TEMPLATE).toBe('/kong/kong.yaml')
    expect(k.environment.KONG_DECLARATIVE_CONFIG).toBe(k.environment.GRIDPULSE_KONG_RENDERED)
    expect(k.environment.KONG_STATUS_LISTEN).toBe('0.0.0.0:8100')
    expect(k.entrypoint).toEqual(['/bin/sh', '/kong/docker-start.sh'])
    expect(k.volumes).toContain('./kong:/kong:ro')
    expect(k.env_file).toEqual([{ path: 'deploy/.env', required: true }])
    expect(k.depends_on.gridpulse.condition).toBe('service_healthy')
  })

  test('prometheus and grafana are provisioned from deploy/', () => {
    expect(compose.services.prometheus.volumes).toContain(
      './deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro'
    )
    expect(compose.services.grafana.volumes).toEqual(
      expect.arrayContaining([
        './deploy/grafana/provisioning:/etc/grafana/provisioning:ro',
        './deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro',
      ])
    )
    for (const f of [
      'deploy/prometheus/prometheus.yml',
      'deploy/grafana/provisioning/datasources/prometheus.yaml',
      'deploy/grafana/provisioning/dashboards/gridpulse.yaml',
      'deploy/grafana/dashboards/gridpulse.json',
    ]) {
      expect(existsSync(join(ROOT, f))).toBe(true)
    }
    expect(compose.services['kafka-ui'].profiles).toEqual(['kafka-ui'])
  })

  test('prometheus scrapes gridpulse:8080/metrics and kong:8100/metrics', async () => {
    const prom = await yaml('deploy/prometheus/prometheus.yml')
    const targets = Object.fromEntries(
      prom.scrape_configs.map((j: Obj) => [
        j.job_name,
        [j.metrics_path ?? '/metrics', ...j.static_configs.flatMap((c: Obj) => c.targets)],
      ])
    )
    expect(targets.gridpulse).toEqual(['/metrics', 'gridpulse:8080'])
    expect(targets.kong).toEqual(['/metrics', 'kong:8100'])
    const ds = await yaml('deploy/grafana/provisioning/datasources/prometheus.yaml')
    expect(ds.datasources[0]).toMatchObject({
      uid: 'gridpulse-prometheus',
      url: 'http://prometheus:9090',
    })
  })
})
