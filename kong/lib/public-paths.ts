/**
 * Derives the decK patch that publishes each API operation on its public path
 * (kong/public-paths.yaml explains the rules) and renames its route after the patched service.
 */
import { pathRegex, slug, type Obj, type PatchFile } from './pipeline'

export interface PublicPathRules {
  _api_prefix: string
  /** Groups whose routes get a Kong service of their own (group -> service name). */
  _services?: Record<string, string>
  rules: Array<{ upstream: string; prefix: string; suffix?: string; group: string }>
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** Only the operations under the API prefix are published; /health, /ready … are not routed. */
export function selectApiOperations(spec: Obj, rules: PublicPathRules): Obj {
  const paths = (spec.paths as Record<string, unknown> | undefined) ?? {}
  const kept = Object.fromEntries(
    Object.entries(paths).filter(([p]) => p.startsWith(rules._api_prefix))
  )
  return { ...spec, paths: kept }
}

function ruleFor(upstreamPath: string, rules: PublicPathRules) {
  const prefix = rules._api_prefix
  if (!upstreamPath.startsWith(prefix)) throw new Error(`${upstreamPath} is not under ${prefix}`)
  const rule = rules.rules.find(
    (r) =>
      upstreamPath === r.upstream ||
      upstreamPath.startsWith(r.upstream.endsWith('/') ? r.upstream : `${r.upstream}/`)
  )
  if (!rule) throw new Error(`no public-path rule matches ${upstreamPath}`)
  if (!/^[a-z][a-z0-9-]*$/.test(rule.group ?? ''))
    throw new Error(`rule for ${rule.upstream} needs a group`)
  return rule
}

export function publicPath(upstreamPath: string, rules: PublicPathRules): string {
  const prefix = rules._api_prefix
  const rule = ruleFor(upstreamPath, rules)
  const rest = upstreamPath.slice(prefix.length)
  if (!rest) throw new Error(`${upstreamPath}: nothing after ${prefix} to publish`)
  return `~${escapeRegex(rule.prefix)}(?<api_path>${pathRegex(rest)})${escapeRegex(rule.suffix ?? '')}$`
}

/** The literal public path of an upstream path template: `/api/v1/weather` → `/v1/weather/observations`. */
export function publicTemplate(upstreamPath: string, rules: PublicPathRules): string {
  const rule = ruleFor(upstreamPath, rules)
  return `${rule.prefix}${upstreamPath.slice(rules._api_prefix.length)}${rule.suffix ?? ''}`
}

/**
 * The spec as Kong publishes it (at Kong's /openapi.json, so /docs "Try it" through Kong works):
 * the API operations under their public paths, and a relative server, i.e. Kong itself.
 */
export function publicSpec(apiSpec: Obj, rules: PublicPathRules): Obj {
  const paths = (apiSpec.paths as Record<string, unknown> | undefined) ?? {}
  return {
    ...apiSpec,
    servers: [{ url: '/', description: 'The gateway that served this document' }],
    paths: Object.fromEntries(
      Object.entries(paths).map(([path, item]) => [publicTemplate(path, rules), item])
    ),
  }
}

const HTTP_METHODS = ['delete', 'get', 'head', 'options', 'patch', 'post', 'put', 'trace'] as const

export function publicPathsPatch(
  apiSpec: Obj,
  rules: PublicPathRules,
  generatedServiceName: string,
  serviceName: string,
  tag: string
): PatchFile {
  const patches: PatchFile['patches'] = []
  const seen = new Map<string, string>()
  const paths = (apiSpec.paths as Record<string, Obj> | undefined) ?? {}
  for (const path of Object.keys(paths).sort()) {
    for (const method of HTTP_METHODS) {
      const op = paths[path]![method] as Obj | undefined
      if (!op || typeof op.operationId !== 'string') continue
      const pub = publicPath(path, rules)
      const key = `${method.toUpperCase()} ${pub}`
      if (seen.has(key)) throw new Error(`${key} would serve both ${seen.get(key)} and ${path}`)
      seen.set(key, path)
      const generated = `${generatedServiceName}_${slug(op.operationId)}`
      patches.push({
        selectors: [`$.services[*].routes[?(@.name == '${generated}')]`],
        values: {
          name: `${serviceName}_${slug(op.operationId)}`,
          paths: [pub],
          tags: [tag, `${tag}-${ruleFor(path, rules).group}`],
        },
      })
    }
  }
  return { _format_version: '1.0', patches }
}

/**
 * Derives the decK patch that moves the routes of each group listed in `_services` to a Kong
 * service of its own (a copy of the API service under another name), expressed with the two
 * operations `deck file patch` has: set a key on an object (the API service's `routes`) and
 * append to an array (`$.services`).
 *
 * Why: Kong's rate-limiting counts per plugin instance scope. A service-level instance counts
 * every route of its service in one counter per consumer; a route-level instance counts that route
 * alone. So a rate-limit class that spans several routes is a service (see
 * kong/plugins/rate-limiting.yaml for the Kong source this rests on).
 */
export function serviceGroupsPatch(
  doc: { services?: Obj[] },
  rules: PublicPathRules,
  serviceName: string,
  tag: string
): PatchFile {
  const groups = rules._services ?? {}
  const api = (doc.services ?? []).find((s) => s.name === serviceName)
  if (!api) throw new Error(`no service ${serviceName} to split`)
  const routes = (api.routes as Obj[] | undefined) ?? []
  const groupOf = (r: Obj) =>
    String(((r.tags as string[] | undefined) ?? [])[1] ?? '').replace(`${tag}-`, '')
  const moved = new Set<Obj>()
  const added: Obj[] = []
  for (const [group, name] of Object.entries(groups)) {
    if (!/^[a-z][a-z0-9-]*$/.test(name) || name === serviceName)
      throw new Error(`_services.${group}: '${name}' is not a usable service name`)
    const own = routes.filter((r) => groupOf(r) === group)
    for (const r of own) moved.add(r)
    added.push({ ...structuredClone(api), name, plugins: [], routes: structuredClone(own) })
  }
  if (added.length === 0) return { _format_version: '1.0', patches: [] }
  return {
    _format_version: '1.0',
    patches: [
      {
        selectors: [`$.services[?(@.name == '${serviceName}')]`],
        values: { routes: structuredClone(routes.filter((r) => !moved.has(r))) },
      },
      { selectors: ['$.services'], values: added },
    ],
  }
}
