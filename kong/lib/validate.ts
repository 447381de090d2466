/**
 * Offline checks of the generated declarative config, stricter than `deck file validate` (which
 * checks the file's structure but not plugin configs): entity names, route paths, plugin names and
 * config fields against Kong Gateway 3.9 OSS's plugin schemas (kong/plugins/<name>/schema.lua), and
 * our secret rules. Returns a list of problems; empty means valid.
 */
import type { KongDoc, Obj } from './pipeline'

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Top-level config fields of the OSS plugins we use, from Kong 3.9's schema.lua files. */
export const PLUGIN_FIELDS: Record<string, readonly string[]> = {
  'key-auth': [
    'key_names',
    'hide_credentials',
    'anonymous',
    'key_in_header',
    'key_in_query',
    'key_in_body',
    'run_on_preflight',
    'realm',
  ],
  acl: ['allow', 'deny', 'hide_groups_header', 'always_use_authenticated_groups'],
  'rate-limiting': [
    'second',
    'minute',
    'hour',
    'day',
    'month',
    'year',
    'limit_by',
    'header_name',
    'path',
    'policy',
    'fault_tolerant',
    'redis',
    'hide_client_headers',
    'error_code',
    'error_message',
    'sync_rate',
  ],
  'correlation-id': ['header_name', 'generator', 'echo_downstream'],
  'request-size-limiting': ['allowed_payload_size', 'size_unit', 'require_content_length'],
  prometheus: [
    'per_consumer',
    'status_code_metrics',
    'ai_metrics',
    'latency_metrics',
    'bandwidth_metrics',
    'upstream_health_metrics',
    'wasm_metrics',
  ],
  'request-transformer': ['http_method', 'remove', 'rename', 'replace', 'add', 'append'],
  'request-termination': ['status_code', 'message', 'body', 'content_type', 'trigger', 'echo'],
}

/** `{vault://env/<name>}`: Kong's env vault reads env var <NAME> (upper case, '-' -> '_'). */
export const VAULT_REF = /\{vault:\/\/env\/([a-z0-9][a-z0-9-]*)\}/g
export const envVarOfRef = (name: string) => name.toUpperCase().replace(/-/g, '_')

const METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'TRACE',
  'CONNECT',
])

function checkPlugin(p: Obj, where: string, problems: string[]): void {
  const name = String(p.name)
  const fields = PLUGIN_FIELDS[name]
  if (!fields) {
    problems.push(`${where}: plugin '${name}' is not one of the OSS plugins kong/ uses`)
    return
  }
  const config = (p.config ?? {}) as Obj
  for (const key of Object.keys(config)) {
    if (!fields.includes(key))
      problems.push(`${where}: ${name}.config.${key} is not a Kong 3.9 field`)
  }
  if (
    name === 'rate-limiting' &&
    !['local', 'cluster', 'redis'].includes(String(config.policy ?? 'local'))
  ) {
    problems.push(`${where}: rate-limiting.policy must be local, cluster or redis`)
  }
  if (name === 'rate-limiting') {
    // kong/plugins/rate-limiting/schema.lua: at least one period, each > 0, a longer period's
    // limit never below a shorter one's.
    const periods = ['second', 'minute', 'hour', 'day', 'month', 'year'] as const
    const set = periods.filter((p) => config[p] !== undefined && config[p] !== null)
    if (set.length === 0) problems.push(`${where}: rate-limiting needs at least one period`)
    for (const [i, p] of set.entries()) {
      if (!(Number(config[p]) > 0)) problems.push(`${where}: rate-limiting.${p} must be > 0`)
      const longer = set[i + 1]
      if (longer && Number(config[longer]) < Number(config[p]))
        problems.push(`${where}: rate-limiting.${longer} cannot be lower than ${p}`)
    }
  }
  if (name === 'rate-limiting' && config.policy === 'cluster') {
    problems.push(`${where}: rate-limiting policy 'cluster' needs a database; Kong runs DB-less`)
  }
  if (
    name === 'correlation-id' &&
    !['uuid', 'uuid#counter', 'tracker'].includes(String(config.generator))
  ) {
    problems.push(`${where}: correlation-id.generator must be uuid, uuid#counter or tracker`)
  }
  if (
    name === 'request-size-limiting' &&
    !['megabytes', 'kilobytes', 'bytes'].includes(String(config.size_unit))
  ) {
    problems.push(`${where}: request-size-limiting.size_unit must be megabytes, kilobytes or bytes`)
  }
  if (name === 'request-termination') {
    // kong/plugins/request-termination/schema.lua's custom_validator.
    const code = Number(config.status_code ?? 503)
    if (!Number.isInteger(code) || code < 100 || code > 599)
      problems.push(`${where}: request-termination.status_code must be 100-599`)
    if (config.message && (config.content_type || config.body))
      problems.push(
        `${where}: request-termination.message cannot be used with content_type or body`
      )
    if (config.content_type && !config.body)
      problems.push(`${where}: request-termination.content_type requires a body`)
  }
  if (name === 'request-transformer') {
    for (const section of ['remove', 'rename', 'replace', 'add', 'append'] as const) {
      const s = config[section]
      if (s === undefined) continue
      if (!isObject(s)) {
        problems.push(`${where}: request-transformer.${section} must be a record`)
        continue
      }
      for (const [k, v] of Object.entries(s)) {
        const allowed =
          section === 'replace'
            ? ['body', 'headers', 'querystring', 'uri']
            : ['body', 'headers', 'querystring']
        if (!allowed.includes(k))
          problems.push(`${where}: request-transformer.${section}.${k} is not a Kong 3.9 field`)
        if (k !== 'uri' && !Array.isArray(v))
          problems.push(`${where}: request-transformer.${section}.${k} must be an array`)
        if (
          ['replace', 'add', 'append', 'rename'].includes(section) &&
          k !== 'uri' &&
          Array.isArray(v)
        ) {
          for (const e of v) {
            if (typeof e !== 'string' || !/^[^:]+:.+$/.test(e)) {
              problems.push(
                `${where}: request-transformer.${section}.${k} entry '${e}' is not 'name:value'`
              )
            }
          }
        }
      }
    }
  }
}

function checkPlugins(entity: Obj, where: string, problems: string[]): void {
  const plugins = (entity.plugins as Obj[] | undefined) ?? []
  const names = new Set<string>()
  for (const p of plugins) {
    if (names.has(String(p.name))) problems.push(`${where}: plugin '${p.name}' appears twice`)
    names.add(String(p.name))
    checkPlugin(p, `${where} plugin ${p.name}`, problems)
  }
}

/** Where `{vault://env/…}` placeholders may appear: the fields kong/docker-start.sh resolves. */
function checkReferences(doc: KongDoc, problems: string[]): void {
  const walk = (v: unknown, path: string) => {
    if (typeof v === 'string') {
      if (v.includes('{vault://')) {
        const allowed =
          /^consumers\[\d+\]\.keyauth_credentials\[\d+\]\.key$/.test(path) ||
          /\.plugins\[\d+\]\.config\.(add|replace)\.headers\[\d+\]$/.test(path)
        if (!allowed)
          problems.push(`${path}: vault reference outside the fields docker-start.sh resolves`)
        const stripped = v.replace(VAULT_REF, '')
        if (stripped.includes('{vault://'))
          problems.push(`${path}: malformed vault reference '${v}'`)
      }
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`))
    else if (isObject(v)) for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k)
  }
  walk(doc, '')
}

export function validate(doc: KongDoc): string[] {
  const problems: string[] = []
  if (doc._format_version !== '3.0') problems.push('_format_version must be "3.0"')
  const serviceNames = new Set<string>()
  const routeNames = new Set<string>()
  const routeKeys = new Map<string, string>()
  for (const [si, s] of (doc.services ?? []).entries()) {
    const where = `services[${si}] ${s.name}`
    if (typeof s.name !== 'string' || !s.name) problems.push(`${where}: no name`)
    if (serviceNames.has(String(s.name))) problems.push(`${where}: duplicate service name`)
    serviceNames.add(String(s.name))
    if (typeof s.host !== 'string' || !s.host) problems.push(`${where}: no host`)
    if (!Number.isInteger(s.port) || (s.port as number) < 1 || (s.port as number) > 65535)
      problems.push(`${where}: bad port`)
    if (!['http', 'https'].includes(String(s.protocol)))
      problems.push(`${where}: protocol must be http or https`)
    checkPlugins(s, where, problems)
    const usesApiPath = ((s.plugins as Obj[] | undefined) ?? []).some((p) =>
      JSON.stringify(p.config ?? {}).includes('uri_captures.api_path')
    )
    for (const [ri, r] of ((s.routes as Obj[] | undefined) ?? []).entries()) {
      const rw = `${where} routes[${ri}] ${r.name}`
      if (typeof r.name !== 'string' || !r.name) problems.push(`${rw}: no name`)
      if (routeNames.has(String(r.name))) problems.push(`${rw}: duplicate route name`)
      routeNames.add(String(r.name))
      const methods = (r.methods as string[] | undefined) ?? []
      for (const m of methods) if (!METHODS.has(m)) problems.push(`${rw}: bad method ${m}`)
      const paths = (r.paths as string[] | undefined) ?? []
      if (paths.length === 0) problems.push(`${rw}: no paths`)
      for (const p of paths) {
        if (p.startsWith('~')) {
          try {
            new RegExp(p.slice(1))
          } catch (e) {
            problems.push(`${rw}: path regex ${p} does not compile: ${(e as Error).message}`)
          }
          if (!p.startsWith('~/')) problems.push(`${rw}: regex path must start with ~/`)
          if (usesApiPath && !p.includes('(?<api_path>')) {
            problems.push(
              `${rw}: the service's request-transformer rewrites to $(uri_captures.api_path) but ${p} has no api_path capture`
            )
          }
        } else if (!p.startsWith('/')) problems.push(`${rw}: path ${p} must start with /`)
        for (const m of methods.length ? methods : ['*']) {
          const key = `${m} ${p}`
          if (routeKeys.has(key))
            problems.push(`${rw}: ${key} also routed by ${routeKeys.get(key)}`)
          routeKeys.set(key, String(r.name))
        }
      }
      checkPlugins(r, rw, problems)
    }
  }
  for (const [i, p] of (doc.plugins ?? []).entries())
    checkPlugin(p, `plugins[${i}] ${p.name}`, problems)
  const globalNames = (doc.plugins ?? []).map((p) => p.name)
  if (new Set(globalNames).size !== globalNames.length)
    problems.push('a global plugin appears twice')

  // key-auth's `anonymous` consumer has no credential (no key may authenticate as it) and must
  // exist: Kong answers 500 to every keyless request otherwise.
  const anonymous = new Set<string>()
  for (const s of doc.services ?? [])
    for (const p of [...((s.plugins as Obj[] | undefined) ?? []), ...(doc.plugins ?? [])])
      if (p.name === 'key-auth' && typeof (p.config as Obj | undefined)?.anonymous === 'string')
        anonymous.add((p.config as Obj).anonymous as string)
  for (const name of anonymous)
    if (!(doc.consumers ?? []).some((c) => c.username === name))
      problems.push(`key-auth.anonymous names consumer '${name}', which does not exist`)

  const usernames = new Set<string>()
  for (const [ci, c] of (doc.consumers ?? []).entries()) {
    const where = `consumers[${ci}] ${c.username}`
    if (typeof c.username !== 'string' || !/^[a-z][a-z0-9-]*$/.test(c.username))
      problems.push(`${where}: username must match ^[a-z][a-z0-9-]*$`)
    if (usernames.has(String(c.username))) problems.push(`${where}: duplicate username`)
    usernames.add(String(c.username))
    for (const a of (c.acls as Obj[] | undefined) ?? []) {
      if (typeof a.group !== 'string' || !a.group) problems.push(`${where}: acl without a group`)
    }
    const creds = (c.keyauth_credentials as Obj[] | undefined) ?? []
    if (anonymous.has(String(c.username))) {
      if (creds.length > 0) problems.push(`${where}: the anonymous consumer must have no key`)
    } else if (creds.length === 0) problems.push(`${where}: no keyauth credential`)
    for (const k of creds) {
      if (typeof k.key !== 'string' || !/^\{vault:\/\/env\/[a-z0-9-]+\}$/.test(k.key)) {
        problems.push(
          `${where}: keyauth key must be a {vault://env/…} reference, never a literal key`
        )
      }
    }
    checkPlugins(c, where, problems)
    // Their schemas forbid a consumer scope (typedefs.no_consumer).
    for (const p of (c.plugins as Obj[] | undefined) ?? [])
      if (['key-auth', 'acl'].includes(String(p.name)))
        problems.push(`${where}: plugin '${p.name}' cannot be attached to a consumer`)
  }
  checkReferences(doc, problems)
  return problems
}
