import { readFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { z } from 'zod'
import { parseAllowlist } from '@/alerts'
import { RegionIdSchema } from '@/canonical'
import { DEFAULT_LOCATIONS, type WeatherLocation } from '@/sources'

const csv = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
)
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes')
const url = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ''))

/** `NSW1:Sydney:-33.87:151.21;QLD1:Brisbane:-27.47:153.03` → locations (the WEATHER_LOCATIONS format). */
const WeatherLocationsSchema = z.string().transform((raw, ctx) => {
  const out: WeatherLocation[] = []
  for (const part of raw
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [region, name, lat, lon] = part.split(':')
    const parsed = z
      .object({
        region_id: RegionIdSchema,
        name: z.string().min(1).max(64),
        latitude: z.coerce.number().min(-90).max(90),
        longitude: z.coerce.number().min(-180).max(180),
      })
      .safeParse({ region_id: region, name, latitude: lat, longitude: lon })
    if (!parsed.success) {
      ctx.addIssue({ code: 'custom', message: `"${part}" is not REGION:Name:lat:lon` })
      return z.NEVER
    }
    out.push(parsed.data)
  }
  if (out.length === 0) ctx.addIssue({ code: 'custom', message: 'no locations' })
  return out
})

/**
 * Every environment variable GridPulse reads, with its default. This is the only reader of the
 * environment; the README's configuration table mirrors it.
 */
const EnvSchema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
    HOST: z.string().min(1).default('0.0.0.0'),
    DATA_DIR: z.string().min(1).default('./data'),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    AEMO_BASE_URL: url.default('https://nemweb.com.au'),
    // NEMWeb listings are fetched conditionally (ETag/Last-Modified): a 304 costs almost nothing.
    AEMO_POLL_SECONDS: z.coerce.number().int().min(1).max(3600).default(5),
    // How far back a node with no checkpoint starts (Current keeps ~48 h; a checkpoint catches up all of it).
    AEMO_INITIAL_LOOKBACK_MINUTES: z.coerce.number().int().min(0).max(1e9).default(60),
    // Rooftop PV is half-hourly and published ~20 minutes after its half hour: a minute is plenty.
    AEMO_ROOFTOP_POLL_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
    OPENMETEO_BASE_URL: url.default('https://api.open-meteo.com'),
    OPENMETEO_POLL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(900),
    WEATHER_LOCATIONS: WeatherLocationsSchema.optional(),
    // `none` runs no poller: an API-only node, or a benchmark.
    // `aemo`: DispatchIS and Dispatch_SCADA; `rooftop`: AEMO's rooftop PV estimates.
    SOURCES: csv
      .pipe(z.array(z.enum(['aemo', 'rooftop', 'openmeteo', 'none'])))
      .default(['aemo', 'rooftop', 'openmeteo']),
    // A failing source's polls back off from SOURCE_BACKOFF_INITIAL_MS, doubling (with jitter) up to
    // SOURCE_BACKOFF_MAX_MS; while it stays down one warning per SOURCE_DOWN_LOG_EVERY_SECONDS.
    SOURCE_BACKOFF_INITIAL_MS: z.coerce.number().int().min(10).max(3_600_000).default(2_000),
    SOURCE_BACKOFF_MAX_MS: z.coerce.number().int().min(10).max(3_600_000).default(300_000),
    SOURCE_DOWN_LOG_EVERY_SECONDS: z.coerce.number().int().min(1).max(86_400).default(600),
    KAFKA_BROKERS: csv.optional(),
    // SASL/SCRAM towards the brokers (the listener's mechanism; SCRAM users are per broker cluster).
    KAFKA_SASL_MECHANISM: z
      .string()
      .transform((s) => s.toLowerCase())
      .pipe(z.enum(['scram-sha-256', 'scram-sha-512']))
      .optional(),
    KAFKA_SASL_USERNAME: z.string().optional(),
    KAFKA_SASL_PASSWORD: z.string().optional(),
    KAFKA_TLS: bool.default(false),
    // Read here, so a missing or unreadable file is a configuration error like any other.
    KAFKA_TLS_CA_FILE: z
      .string()
      .transform((path, ctx) => {
        try {
          const pem = readFileSync(path, 'utf8')
          if (pem.includes('-----BEGIN CERTIFICATE-----')) return pem
          ctx.addIssue({ code: 'custom', message: `${path} holds no PEM certificate` })
        } catch (error) {
          ctx.addIssue({
            code: 'custom',
            message: `cannot read ${path}: ${(error as Error).message}`,
          })
        }
        return z.NEVER
      })
      .optional(),
    AUTH_MODE: z.enum(['none', 'keys', 'gateway']).default('keys'),
    // Shared with Kong (its request-transformer adds it); only used when AUTH_MODE=gateway.
    GATEWAY_SECRET: z.string().min(24, 'must be at least 24 characters').optional(),
    // The secret Kong used until the last rotation: accepted too until every Kong has the new one.
    GATEWAY_SECRET_PREVIOUS: z.string().min(24, 'must be at least 24 characters').optional(),
    RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(100),
    RATE_LIMIT_WEATHER_PER_MINUTE: z.coerce.number().int().min(1).default(60),
    // Per client address (IPv6: per /64) for requests without a valid key; beyond it 429, not 401.
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: z.coerce.number().int().min(1).default(30),
    MAX_BODY_BYTES: z.coerce
      .number()
      .int()
      .min(256)
      .max(10 * 1024 * 1024)
      .default(64 * 1024),
    READY_MAX_LAG: z.coerce.number().int().min(0).default(10_000),
    // Writes and failed requests kept for /api/v1/trace (the oldest go first; ≈ 150 bytes each).
    TRACE_REQUESTS_MAX: z.coerce.number().int().min(100).default(100_000),
    // Kafka mode: the most events waiting in the outbox before writes get 503 (≈ 0.5 KB each on disk).
    OUTBOX_MAX_EVENTS: z.coerce.number().int().min(1).default(1_000_000),
    // A critical loop down, or the projection behind and not moving while the log answers, for this
    // long fails liveness (`gridpulse healthcheck`), so that the orchestrator restarts the node.
    LIVENESS_STALL_SECONDS: z.coerce.number().int().min(10).default(300),
    NODE_ID: z
      .string()
      .regex(/^[a-z0-9-]{1,32}$/)
      .optional(),
    SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
    // Alert webhooks (README "Alert webhooks"): where they may go (host names, *.domain, CIDRs;
    // empty: nowhere), how long one attempt may take, the capped exponential retry delays and how
    // many failed attempts in a row disable a rule.
    ALERT_WEBHOOK_ALLOWLIST: csv
      .refine(
        (entries) => {
          try {
            parseAllowlist(entries)
            return true
          } catch {
            return false
          }
        },
        { message: 'entries must be host names, *.domain patterns or CIDRs' }
      )
      .default([]),
    ALERT_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
    ALERT_RETRY_INITIAL_MS: z.coerce.number().int().min(10).max(3_600_000).default(10_000),
    ALERT_RETRY_MAX_MS: z.coerce.number().int().min(10).max(86_400_000).default(900_000),
    ALERT_DISABLE_AFTER_FAILURES: z.coerce.number().int().min(1).max(1000).default(10),
    ALERT_MAX_RULES_PER_CONSUMER: z.coerce.number().int().min(1).max(100_000).default(100),
    // Memory bounds (a small edge node): SQLite's page cache per connection to log.sqlite and
    // projection.sqlite (KiB; 2000 is SQLite's own default), and how many list pages each read
    // model keeps in memory between projection commits (0: none), and how many aggregate bucket
    // rows all time series together keep until a commit touches them (0: none; ~750 B each).
    SQLITE_CACHE_KB: z.coerce.number().int().min(64).max(1_048_576).default(2000),
    // The projection's page cache while it catches up (a rebuild): 0 = never above SQLITE_CACHE_KB.
    PROJECTION_CATCHUP_CACHE_KB: z.coerce.number().int().min(0).max(1_048_576).default(65_536),
    READ_CACHE_PAGES: z.coerce.number().int().min(0).max(100_000).default(64),
    AGGREGATE_CACHE_BUCKETS: z.coerce.number().int().min(0).max(10_000_000).default(20_000),
    // Encoded API answers (and their gzip/br forms) kept until a commit touches what they read (0: none).
    RESPONSE_CACHE_MB: z.coerce.number().min(0).max(4096).default(16),
    METRICS_ENABLED: bool.default(true),
    // GET /api/v1/stream: open connections on this node in total and per consumer (beyond: 429),
    // the events queued for one client before it is told `overflow` and closed, the keep-alive
    // comment period (under the 60 s idle timeouts of common proxies), and how long the replay
    // journal keeps events (as the event log's 7-day retention).
    STREAM_MAX_CONNECTIONS: z.coerce.number().int().min(0).default(2000),
    STREAM_MAX_PER_KEY: z.coerce.number().int().min(1).default(20),
    STREAM_BUFFER_EVENTS: z.coerce.number().int().min(16).max(1_000_000).default(2000),
    STREAM_HEARTBEAT_SECONDS: z.coerce.number().int().min(1).max(300).default(15),
    STREAM_RETENTION_HOURS: z.coerce.number().int().min(1).default(168),
  })
  .strip()
  // `when`: run even when other variables failed, so every error is reported in the first run
  // (a refinement normally waits for the whole object to parse).
  .refine((e) => e.AUTH_MODE !== 'gateway' || e.GATEWAY_SECRET !== undefined, {
    path: ['GATEWAY_SECRET'],
    message: 'required when AUTH_MODE=gateway',
    when: (payload) => {
      const raw = payload.value as Record<string, unknown>
      return raw.AUTH_MODE === 'gateway'
    },
  })
  // The Kafka security rules run even when other variables are bad (`when`), so every error is
  // reported in the first run; they look only at presence, which holds before parsing too.
  .refine((e) => !e.KAFKA_SASL_MECHANISM || (e.KAFKA_SASL_USERNAME && e.KAFKA_SASL_PASSWORD), {
    path: ['KAFKA_SASL_MECHANISM'],
    message: 'needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD',
    when: () => true,
  })
  .refine((e) => e.KAFKA_SASL_MECHANISM || (!e.KAFKA_SASL_USERNAME && !e.KAFKA_SASL_PASSWORD), {
    path: ['KAFKA_SASL_MECHANISM'],
    message: 'required when KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD is set',
    when: () => true,
  })
  .refine((e) => !e.KAFKA_TLS_CA_FILE || isTrue(e.KAFKA_TLS), {
    path: ['KAFKA_TLS_CA_FILE'],
    message: 'only used with KAFKA_TLS=true',
    when: () => true,
  })
  .refine(
    (e) =>
      e.KAFKA_BROKERS !== undefined ||
      (!e.KAFKA_SASL_MECHANISM && !e.KAFKA_SASL_USERNAME && !isTrue(e.KAFKA_TLS)),
    {
      path: ['KAFKA_BROKERS'],
      message: 'required when KAFKA_SASL_* or KAFKA_TLS is set (they apply to Kafka mode only)',
      when: () => true,
    }
  )

// In a `when` refinement a field may still be its raw string.
const isTrue = (v: unknown) => v === true || v === 'true' || v === '1' || v === 'yes'

export class ConfigError extends Error {
  override name = 'ConfigError'
}

export type Config = ReturnType<typeof loadConfig>

/** Parses the environment once into a frozen, typed config; reports every bad variable at once. */
export function loadConfig(env: Record<string, string | undefined>, cwd: string = process.cwd()) {
  // Empty strings mean "unset" (compose files often pass VAR= through).
  const present = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== '')
  )
  const result = EnvSchema.safeParse(present)
  if (!result.success)
    throw new ConfigError(`invalid configuration:\n${z.prettifyError(result.error)}`)
  const e = result.data
  // A compiled binary resolves relative paths against the CWD; pin DATA_DIR once, here.
  const dataDir = isAbsolute(e.DATA_DIR) ? e.DATA_DIR : resolve(cwd, e.DATA_DIR)
  return Object.freeze({
    http: { port: e.PORT, host: e.HOST, maxBodyBytes: e.MAX_BODY_BYTES },
    log: { level: e.LOG_LEVEL },
    data: dataOf(dataDir),
    bus: busOf(e),
    sources: {
      enabled: new Set(e.SOURCES),
      aemo: {
        baseUrl: e.AEMO_BASE_URL,
        everyMs: e.AEMO_POLL_SECONDS * 1000,
        initialLookbackMs: e.AEMO_INITIAL_LOOKBACK_MINUTES * 60_000,
        rooftopEveryMs: e.AEMO_ROOFTOP_POLL_SECONDS * 1000,
      },
      openMeteo: {
        baseUrl: e.OPENMETEO_BASE_URL,
        everyMs: e.OPENMETEO_POLL_SECONDS * 1000,
        locations: e.WEATHER_LOCATIONS ?? DEFAULT_LOCATIONS,
      },
      outage: {
        backoffInitialMs: e.SOURCE_BACKOFF_INITIAL_MS,
        backoffMaxMs: Math.max(e.SOURCE_BACKOFF_MAX_MS, e.SOURCE_BACKOFF_INITIAL_MS),
        logEveryMs: e.SOURCE_DOWN_LOG_EVERY_SECONDS * 1000,
      },
    },
    auth: authOf(e),
    readiness: { maxLag: e.READY_MAX_LAG },
    trace: { maxRequests: e.TRACE_REQUESTS_MAX },
    liveness: { stallMs: e.LIVENESS_STALL_SECONDS * 1000 },
    outbox: { maxEvents: e.OUTBOX_MAX_EVENTS },
    nodeId: e.NODE_ID ?? 'node-1',
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    metrics: { enabled: e.METRICS_ENABLED },
    alerts: alertsOf(e),
    memory: memoryOf(e),
    stream: streamOf(e),
  })
}

/** The event log: Kafka when KAFKA_BROKERS is set (with SASL/TLS as configured), else embedded. */
const busOf = (e: z.output<typeof EnvSchema>) =>
  e.KAFKA_BROKERS?.length
    ? {
        kind: 'kafka' as const,
        brokers: e.KAFKA_BROKERS,
        security: {
          sasl: e.KAFKA_SASL_MECHANISM
            ? {
                mechanism: e.KAFKA_SASL_MECHANISM,
                username: e.KAFKA_SASL_USERNAME!,
                password: e.KAFKA_SASL_PASSWORD!,
              }
            : undefined,
          tls: e.KAFKA_TLS ? { ca: e.KAFKA_TLS_CA_FILE } : undefined,
        },
      }
    : { kind: 'embedded' as const }

/** Who authenticates callers (Kong in gateway mode, or GridPulse itself) and the per-team limits. */
const authOf = (e: z.output<typeof EnvSchema>) =>
  e.AUTH_MODE === 'gateway'
    ? {
        mode: 'gateway' as const,
        secret: e.GATEWAY_SECRET!,
        perMinute: { other: e.RATE_LIMIT_PER_MINUTE, weather: e.RATE_LIMIT_WEATHER_PER_MINUTE },
        anonymousPerMinute: e.RATE_LIMIT_ANONYMOUS_PER_MINUTE,
        previousSecret: e.GATEWAY_SECRET_PREVIOUS,
      }
    : {
        mode: e.AUTH_MODE,
        perMinute: { other: e.RATE_LIMIT_PER_MINUTE, weather: e.RATE_LIMIT_WEATHER_PER_MINUTE },
        anonymousPerMinute: e.RATE_LIMIT_ANONYMOUS_PER_MINUTE,
      }

/** The live stream's limits (GET /api/v1/stream; the README's configuration table). */
const streamOf = (e: z.output<typeof EnvSchema>) => ({
  maxConnections: e.STREAM_MAX_CONNECTIONS,
  maxPerKey: e.STREAM_MAX_PER_KEY,
  bufferEvents: e.STREAM_BUFFER_EVENTS,
  heartbeatMs: e.STREAM_HEARTBEAT_SECONDS * 1000,
  retentionMs: e.STREAM_RETENTION_HOURS * 3600 * 1000,
})

/** The SQLite files under DATA_DIR (absolute). */
const dataOf = (dataDir: string) => ({
  dir: dataDir,
  logPath: resolve(dataDir, 'log.sqlite'),
  projectionPath: resolve(dataDir, 'projection.sqlite'),
  // API keys: never rebuilt, so not in projection.sqlite (a rebuild deletes that file).
  accessPath: resolve(dataDir, 'access.sqlite'),
  // Alert rules and deliveries: consumers' own state, never rebuilt either.
  alertsPath: resolve(dataDir, 'alerts.sqlite'),
})

/** Alert webhooks: where they may go, one attempt's timeout, retries and auto-disable. */
const alertsOf = (e: z.output<typeof EnvSchema>) => ({
  allowlist: e.ALERT_WEBHOOK_ALLOWLIST,
  timeoutMs: e.ALERT_WEBHOOK_TIMEOUT_MS,
  retryInitialMs: e.ALERT_RETRY_INITIAL_MS,
  retryMaxMs: Math.max(e.ALERT_RETRY_MAX_MS, e.ALERT_RETRY_INITIAL_MS),
  disableAfter: e.ALERT_DISABLE_AFTER_FAILURES,
  maxRulesPerConsumer: e.ALERT_MAX_RULES_PER_CONSUMER,
})

/** The memory bounds a small edge node trims (see the README's configuration table). */
const memoryOf = (e: z.output<typeof EnvSchema>) => ({
  sqliteCacheKb: e.SQLITE_CACHE_KB,
  catchUpCacheKb: e.PROJECTION_CATCHUP_CACHE_KB,
  readCachePages: e.READ_CACHE_PAGES,
  aggregateCacheBuckets: e.AGGREGATE_CACHE_BUCKETS,
  responseCacheBytes: Math.round(e.RESPONSE_CACHE_MB * 1024 * 1024),
})
