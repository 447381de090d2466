/**
 * The four decK file operations kong/build.sh chains (STYLE.md §15), for the subset of their
 * semantics kong/ uses:
 *   openapi2kong  -> `deck file openapi2kong --spec … --select-tag gridpulse --no-id`
 *   patch         -> `deck file patch <patch files>`   (values set keys, remove deletes keys)
 *   addPlugins    -> `deck file add-plugins <files>`    (skip a plugin already on the entity
 *                                                        unless `overwrite: true`)
 *   merge         -> `deck file render a.yaml b.yaml`   (concatenate top-level entity lists)
 * decK itself is not obtainable on this project's machines (the Go module proxy refuses
 * github.com/kong/deck and Kong's other Go modules), so kong/build.ts runs these; when decK is
 * installed, scripts/kong-check.sh also runs the real decK pipeline and `deck file validate`.
 */
import { select } from './jsonpath'

export type Json = unknown
export type Obj = Record<string, Json>
export interface KongDoc extends Obj {
  _format_version: string
  services?: Obj[]
  consumers?: Obj[]
  plugins?: Obj[]
  upstreams?: Obj[]
}

const isObject = (v: Json): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const clone = <T>(v: T): T => structuredClone(v)

const HTTP_METHODS = ['delete', 'get', 'head', 'options', 'patch', 'post', 'put', 'trace'] as const

/** decK's slug: lower case; anything outside [a-z0-9._~-] becomes '-'. */
export const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, '-')
    .replace(/^-+|-+$/g, '')

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * An OpenAPI path as the regex openapi2kong generates: literal parts escaped, `{param}` as the
 * named capture `(?<param>[^#?/]+)`.
 */
export function pathRegex(path: string): string {
  return path
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const m = part.match(/^\{([^}]+)\}$/)
      if (!m) return escapeRegex(part)
      return `(?<${m[1]!.replace(/[^A-Za-z0-9_]/g, '_')}>[^#?/]+)`
    })
    .join('')
}

export interface Openapi2KongOptions {
  /** Kong tags on every generated entity (decK's --select-tag). */
  tags: string[]
}

/** `deck file openapi2kong`: one service from info.title + servers[0], one route per operation. */
export function openapi2kong(spec: Obj, opts: Openapi2KongOptions): KongDoc {
  const info = spec.info as Obj | undefined
  const title = typeof info?.title === 'string' ? info.title : 'service'
  const serviceName = slug(title)
  const servers = (spec.servers as Obj[] | undefined) ?? []
  // A relative server URL (GridPulse's spec uses `/`) resolves against localhost, like decK;
  // kong/patches.yaml sets the real upstream anyway.
  const url = new URL(
    typeof servers[0]?.url === 'string' ? (servers[0].url as string) : '/',
    'http://localhost/'
  )
  const protocol = url.protocol.replace(':', '')
  const routes: Obj[] = []
  const paths = (spec.paths as Record<string, Obj> | undefined) ?? {}
  for (const path of Object.keys(paths).sort()) {
    const item = paths[path]!
    const hasParams = /\{[^}]+\}/.test(path)
    for (const method of HTTP_METHODS) {
      const op = item[method]
      if (!isObject(op)) continue
      if (typeof op.operationId !== 'string') {
        throw new Error(
          `${method.toUpperCase()} ${path} has no operationId (Kong route names derive from it)`
        )
      }
      routes.push({
        name: `${serviceName}_${slug(op.operationId)}`,
        methods: [method.toUpperCase()],
        paths: [`~${pathRegex(path)}$`],
        plugins: [],
        regex_priority: hasParams ? 100 : 200,
        strip_path: false,
        tags: [...opts.tags],
      })
    }
  }
  return {
    _format_version: '3.0',
    services: [
      {
        name: serviceName,
        host: url.hostname,
        port: url.port ? Number(url.port) : protocol === 'https' ? 443 : 80,
        protocol,
        path: url.pathname || '/',
        plugins: [],
        routes,
        tags: [...opts.tags],
      },
    ],
    upstreams: [],
  }
}

export interface PatchFile {
  _format_version?: string
  patches: Array<{ selectors: string[]; values?: Obj | Json[]; remove?: Json[] }>
}

/** `deck file patch`: for objects, `values` sets keys and `remove` deletes keys; for arrays,
 * `values` appends and `remove` drops equal elements. */
export function patch(
  doc: KongDoc,
  file: PatchFile,
  log: (msg: string) => void = () => {}
): KongDoc {
  const out = clone(doc)
  for (const p of file.patches) {
    let hits = 0
    for (const selector of p.selectors) {
      for (const node of select(out, selector)) {
        hits++
        if (Array.isArray(node)) {
          if (Array.isArray(p.values)) node.push(...clone(p.values))
          for (const r of p.remove ?? []) {
            const i = node.findIndex((x) => Bun.deepEquals(x, r))
            if (i >= 0) node.splice(i, 1)
          }
        } else if (isObject(node)) {
          if (isObject(p.values)) for (const [k, v] of Object.entries(p.values)) node[k] = clone(v)
          for (const r of p.remove ?? []) delete node[String(r)]
        }
      }
    }
    if (hits === 0) log(`patch selected nothing: ${p.selectors.join(', ')}`)
  }
  return out
}

export interface AddPluginsFile {
  _format_version?: string
  'add-plugins': Array<{ selectors?: string[]; overwrite?: boolean; plugins: Obj[] }>
}

/** `deck file add-plugins`: add each plugin to every selected entity (`$` = global plugins). */
export function addPlugins(
  doc: KongDoc,
  file: AddPluginsFile,
  log: (msg: string) => void = () => {}
): KongDoc {
  const out = clone(doc)
  for (const entry of file['add-plugins']) {
    const selectors = entry.selectors?.length ? entry.selectors : ['$']
    let hits = 0
    for (const selector of selectors) {
      for (const node of select(out, selector)) {
        if (!isObject(node))
          throw new Error(`add-plugins selector ${selector} selected a non-object`)
        hits++
        const plugins = ((node.plugins as Obj[] | undefined) ??= [])
        for (const plugin of entry.plugins) {
          const i = plugins.findIndex((p) => p.name === plugin.name)
          if (i < 0) plugins.push(clone(plugin))
          else if (entry.overwrite) plugins[i] = clone(plugin)
        }
      }
    }
    if (hits === 0) log(`add-plugins selected nothing: ${selectors.join(', ')}`)
  }
  return out
}

const ENTITY_LISTS = [
  'services',
  'upstreams',
  'consumers',
  'plugins',
  'vaults',
  'certificates',
] as const

/** `deck file render a b …`: one document with the entity lists of all inputs concatenated. */
export function merge(...docs: KongDoc[]): KongDoc {
  const out: KongDoc = { _format_version: '3.0' }
  for (const doc of docs) {
    if (doc._format_version !== '3.0') {
      throw new Error(
        `every state file must have _format_version "3.0", got ${doc._format_version}`
      )
    }
    for (const key of Object.keys(doc)) {
      if (key === '_format_version') continue
      if (!(ENTITY_LISTS as readonly string[]).includes(key))
        throw new Error(`unsupported top-level key '${key}'`)
      const list = doc[key] as Obj[]
      if (!Array.isArray(list)) throw new Error(`'${key}' must be a list`)
      ;((out[key] as Obj[] | undefined) ??= []).push(...clone(list))
    }
  }
  for (const key of ENTITY_LISTS) {
    if (Array.isArray(out[key]) && (out[key] as Obj[]).length === 0) delete out[key]
  }
  return out
}
