import { describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, loadConfig } from './config'

const errorOf = (env: Record<string, string>): string => {
  try {
    loadConfig(env)
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    return (error as Error).message
  }
  throw new Error('loadConfig accepted the configuration')
}

describe('loadConfig', () => {
  test('defaults to the embedded log, port 8080 and ./data resolved against the working directory', () => {
    const config = loadConfig({}, '/srv/gridpulse')
    expect(config.bus).toEqual({ kind: 'embedded' })
    expect(config.http.port).toBe(8080)
    expect(config.data.dir).toBe('/srv/gridpulse/data')
    expect(config.data.projectionPath).toBe('/srv/gridpulse/data/projection.sqlite')
    expect(config.data.accessPath).toBe('/srv/gridpulse/data/access.sqlite')
    expect(config.sources.openMeteo).toMatchObject({
      baseUrl: 'https://api.open-meteo.com',
      everyMs: 900_000,
    })
    expect(config.sources.aemo.baseUrl).toBe('https://nemweb.com.au')
    // Rooftop PV is on by default and polled once a minute (it is half-hourly).
    expect([...config.sources.enabled]).toEqual(['aemo', 'rooftop', 'openmeteo'])
    expect(config.sources.aemo.rooftopEveryMs).toBe(60_000)
  })

  test('a failing source backs off 2 s to 5 min and is reminded about every 10 min, unless told otherwise', () => {
    expect(loadConfig({}).sources.outage).toEqual({
      backoffInitialMs: 2_000,
      backoffMaxMs: 300_000,
      logEveryMs: 600_000,
    })
    expect(
      loadConfig({
        SOURCE_BACKOFF_INITIAL_MS: '20',
        SOURCE_BACKOFF_MAX_MS: '200',
        SOURCE_DOWN_LOG_EVERY_SECONDS: '2',
      }).sources.outage
    ).toEqual({ backoffInitialMs: 20, backoffMaxMs: 200, logEveryMs: 2_000 })
    // A cap below the first delay would make the backoff shrink: the cap is raised to it.
    expect(
      loadConfig({ SOURCE_BACKOFF_INITIAL_MS: '5000', SOURCE_BACKOFF_MAX_MS: '1000' }).sources
        .outage.backoffMaxMs
    ).toBe(5_000)
    expect(() => loadConfig({ SOURCE_DOWN_LOG_EVERY_SECONDS: '0' })).toThrow(ConfigError)
  })

  test("memory bounds default to SQLite's own page cache (64 MB while catching up), 64 list pages per read model, 20,000 buckets and 16 MB of answers", () => {
    expect(loadConfig({}).memory).toEqual({
      sqliteCacheKb: 2000,
      catchUpCacheKb: 65_536,
      readCachePages: 64,
      aggregateCacheBuckets: 20_000,
      responseCacheBytes: 16 * 1024 * 1024,
    })
    expect(
      loadConfig({
        SQLITE_CACHE_KB: '512',
        PROJECTION_CATCHUP_CACHE_KB: '0',
        READ_CACHE_PAGES: '0',
        AGGREGATE_CACHE_BUCKETS: '0',
        RESPONSE_CACHE_MB: '0.5',
      }).memory
    ).toEqual({
      sqliteCacheKb: 512,
      catchUpCacheKb: 0,
      readCachePages: 0,
      aggregateCacheBuckets: 0,
      responseCacheBytes: 512 * 1024,
    })
    const message = errorOf({
      SQLITE_CACHE_KB: '8',
      READ_CACHE_PAGES: '-1',
      AGGREGATE_CACHE_BUCKETS: '-1',
      RESPONSE_CACHE_MB: '-1',
    })
    expect(message).toContain('RESPONSE_CACHE_MB')
    expect(message).toContain('SQLITE_CACHE_KB')
    expect(message).toContain('READ_CACHE_PAGES')
    expect(message).toContain('AGGREGATE_CACHE_BUCKETS')
  })

  test('KAFKA_BROKERS switches to Kafka', () => {
    expect(loadConfig({ KAFKA_BROKERS: 'k1:9092, k2:9092' }).bus).toEqual({
      kind: 'kafka',
      brokers: ['k1:9092', 'k2:9092'],
      security: { sasl: undefined, tls: undefined },
    })
  })

  test('reports every bad variable at once, by name', () => {
    let message = ''
    try {
      loadConfig({
        PORT: 'eighty',
        LOG_LEVEL: 'loud',
        OPENMETEO_BASE_URL: 'ftp://x',
        SOURCES: 'aemo,twitter',
      })
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError)
      message = (error as Error).message
    }
    for (const name of ['PORT', 'LOG_LEVEL', 'OPENMETEO_BASE_URL', 'SOURCES'])
      expect(message).toContain(name)
  })

  test('reports GATEWAY_SECRET and WEATHER_LOCATIONS with the other errors in the first run', () => {
    let message = ''
    try {
      loadConfig({ PORT: 'eighty', AUTH_MODE: 'gateway', WEATHER_LOCATIONS: 'NSW1:Sydney:north' })
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError)
      message = (error as Error).message
    }
    for (const name of ['PORT', 'GATEWAY_SECRET', 'WEATHER_LOCATIONS'])
      expect(message).toContain(name)
  })

  test('rejects a WEATHER_LOCATIONS entry outside the NEM regions or off the globe', () => {
    expect(errorOf({ WEATHER_LOCATIONS: 'WA1:Perth:-31.95:115.86' })).toContain(
      '"WA1:Perth:-31.95:115.86" is not REGION:Name:lat:lon'
    )
    expect(errorOf({ WEATHER_LOCATIONS: 'NSW1:Sydney:-133:151' })).toContain('WEATHER_LOCATIONS')
    expect(errorOf({ WEATHER_LOCATIONS: ' ; ' })).toContain('no locations')
    expect(
      loadConfig({
        WEATHER_LOCATIONS: 'NSW1:Newcastle:-32.93:151.78; VIC1:Ballarat:-37.56:143.85',
      }).sources.openMeteo.locations.map((l) => l.name)
    ).toEqual(['Newcastle', 'Ballarat'])
  })

  test('parses WEATHER_LOCATIONS into locations, defaulting to the region centres', () => {
    expect(
      loadConfig({ WEATHER_LOCATIONS: 'SA1:Port Augusta:-32.49:137.77' }).sources.openMeteo
        .locations
    ).toEqual([{ region_id: 'SA1', name: 'Port Augusta', latitude: -32.49, longitude: 137.77 }])
    expect(loadConfig({}).sources.openMeteo.locations.map((l) => l.region_id)).toEqual([
      'NSW1',
      'QLD1',
      'VIC1',
      'SA1',
      'TAS1',
    ])
  })

  test('treats empty values as unset and strips trailing slashes from base URLs', () => {
    const config = loadConfig({ PORT: '', AEMO_BASE_URL: 'http://127.0.0.1:9000/' })
    expect(config.http.port).toBe(8080)
    expect(config.sources.aemo.baseUrl).toBe('http://127.0.0.1:9000')
  })
})

describe('auth configuration', () => {
  test('defaults to API keys with the seed rate limits', () => {
    expect(loadConfig({}).auth).toEqual({
      mode: 'keys',
      perMinute: { other: 100, weather: 60 },
      anonymousPerMinute: 30,
    })
    expect(loadConfig({ RATE_LIMIT_ANONYMOUS_PER_MINUTE: '5' }).auth).toMatchObject({
      anonymousPerMinute: 5,
    })
  })

  test('gateway mode needs a gateway secret', () => {
    expect(() => loadConfig({ AUTH_MODE: 'gateway' })).toThrow('GATEWAY_SECRET')
    expect(loadConfig({ AUTH_MODE: 'gateway', GATEWAY_SECRET: 'x'.repeat(32) }).auth).toEqual({
      mode: 'gateway',
      secret: 'x'.repeat(32),
      perMinute: { other: 100, weather: 60 },
      anonymousPerMinute: 30,
      previousSecret: undefined,
    })
  })

  test('a previous gateway secret is accepted during rotation, at least as long as the current', () => {
    expect(
      loadConfig({
        AUTH_MODE: 'gateway',
        GATEWAY_SECRET: 'n'.repeat(32),
        GATEWAY_SECRET_PREVIOUS: 'o'.repeat(32),
      }).auth
    ).toMatchObject({ mode: 'gateway', secret: 'n'.repeat(32), previousSecret: 'o'.repeat(32) })
    expect(
      errorOf({
        AUTH_MODE: 'gateway',
        GATEWAY_SECRET: 'n'.repeat(32),
        GATEWAY_SECRET_PREVIOUS: 'short',
      })
    ).toContain('GATEWAY_SECRET_PREVIOUS')
  })
})

describe('Kafka security configuration', () => {
  test('SASL/SCRAM credentials and TLS with a private CA', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridpulse-config-'))
    try {
      const ca = join(dir, 'ca.crt')
      const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
      writeFileSync(ca, pem)
      expect(
        loadConfig({
          KAFKA_BROKERS: 'kafka:9092',
          KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
          KAFKA_SASL_USERNAME: 'gridpulse',
          KAFKA_SASL_PASSWORD: 'pw',
          KAFKA_TLS: 'true',
          KAFKA_TLS_CA_FILE: ca,
        }).bus
      ).toEqual({
        kind: 'kafka',
        brokers: ['kafka:9092'],
        security: {
          sasl: { mechanism: 'scram-sha-512', username: 'gridpulse', password: 'pw' },
          tls: { ca: pem },
        },
      })
      expect(loadConfig({ KAFKA_BROKERS: 'kafka:9093', KAFKA_TLS: 'true' }).bus).toMatchObject({
        security: { sasl: undefined, tls: { ca: undefined } },
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('every inconsistent Kafka security setting is reported at once, with the other errors', () => {
    const message = errorOf({
      PORT: 'eighty',
      KAFKA_BROKERS: 'kafka:9092',
      KAFKA_SASL_MECHANISM: 'scram-sha-256',
      KAFKA_SASL_USERNAME: 'gridpulse',
      KAFKA_TLS_CA_FILE: '/nonexistent/ca.crt',
    })
    expect(message).toContain('PORT')
    expect(message).toContain('needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD')
    expect(message).toContain('cannot read /nonexistent/ca.crt')
    expect(message).toContain('only used with KAFKA_TLS=true')
  })

  test('unknown mechanisms, credentials without a mechanism and settings without brokers are errors', () => {
    expect(errorOf({ KAFKA_BROKERS: 'kafka:9092', KAFKA_SASL_MECHANISM: 'plain' })).toContain(
      'KAFKA_SASL_MECHANISM'
    )
    expect(errorOf({ KAFKA_BROKERS: 'kafka:9092', KAFKA_SASL_PASSWORD: 'secret-value' })).toContain(
      'required when KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD is set'
    )
    const noBrokers = errorOf({ KAFKA_TLS: 'true' })
    expect(noBrokers).toContain('KAFKA_BROKERS')
    expect(noBrokers).toContain('Kafka mode only')
  })

  test('the SASL password never appears in a configuration error', () => {
    const message = errorOf({
      KAFKA_SASL_USERNAME: 'gridpulse',
      KAFKA_SASL_PASSWORD: 'do-not-print-this-password',
    })
    expect(message).not.toContain('do-not-print-this-password')
  })
})
