/**
 * The subset of JSONPath that decK's `file patch` and `file add-plugins` selectors use in kong/:
 *   $                      the document
 *   .name  ['name']        a member
 *   ..name                 a member at any depth (recursive descent)
 *   [*]  [n]               every element / element n of an array (or every member of an object)
 *   [?(<filter>)]          elements for which the filter holds; a filter is
 *                          `@.a.b[0] == 'x'`, `!=`, `=~ /regex/flags`, joined by `&&` or `||`
 * Anything else is a build error, so a selector never silently selects nothing because of syntax.
 */

type Json = unknown
type Step =
  | { kind: 'member'; name: string }
  | { kind: 'descend'; name: string }
  | { kind: 'wildcard' }
  | { kind: 'index'; index: number }
  | { kind: 'filter'; test: (node: Json) => boolean }

const isObject = (v: Json): v is Record<string, Json> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

function children(node: Json): Json[] {
  if (Array.isArray(node)) return node
  if (isObject(node)) return Object.values(node)
  return []
}

function readPath(node: Json, path: string): Json {
  // `@.a.b[0]` relative path inside a filter
  let cur = node
  const re = /\.([A-Za-z_][\w-]*)|\[(\d+)\]/y
  let i = 0
  while (i < path.length) {
    re.lastIndex = i
    const m = re.exec(path)
    if (!m) throw new Error(`unsupported filter path '@${path}'`)
    if (m[1] !== undefined) cur = isObject(cur) ? cur[m[1]] : undefined
    else cur = Array.isArray(cur) ? cur[Number(m[2])] : undefined
    i = re.lastIndex
  }
  return cur
}

function compileComparison(src: string): (node: Json) => boolean {
  const m = src.trim().match(/^@((?:\.[A-Za-z_][\w-]*|\[\d+\])*)\s*(==|!=|=~)\s*(.+)$/s)
  if (!m) throw new Error(`unsupported filter '${src}'`)
  const [, path, op, rawLiteral] = m as unknown as [string, string, string, string]
  const literal = rawLiteral.trim()
  if (op === '=~') {
    const rm = literal.match(/^\/(.*)\/([a-z]*)$/s)
    if (!rm) throw new Error(`'=~' needs a /regex/ in '${src}'`)
    const re = new RegExp(rm[1]!, rm[2])
    return (node) => {
      const v = readPath(node, path)
      return typeof v === 'string' && re.test(v)
    }
  }
  let value: Json
  const sm = literal.match(/^'(.*)'$|^"(.*)"$/s)
  if (sm) value = sm[1] ?? sm[2]
  else if (/^-?\d+(\.\d+)?$/.test(literal)) value = Number(literal)
  else if (literal === 'true' || literal === 'false') value = literal === 'true'
  else throw new Error(`unsupported literal '${literal}' in '${src}'`)
  return op === '=='
    ? (node) => readPath(node, path) === value
    : (node) => readPath(node, path) !== value
}

function compileFilter(src: string): (node: Json) => boolean {
  const ors = src.split('||').map((part) => part.split('&&').map(compileComparison))
  return (node) => ors.some((ands) => ands.every((test) => test(node)))
}

function parse(selector: string): Step[] {
  if (!selector.startsWith('$')) throw new Error(`selector must start with '$': ${selector}`)
  const steps: Step[] = []
  let i = 1
  while (i < selector.length) {
    const rest = selector.slice(i)
    let m: RegExpMatchArray | null
    if ((m = rest.match(/^\.\.([A-Za-z_][\w-]*)/))) steps.push({ kind: 'descend', name: m[1]! })
    else if ((m = rest.match(/^\.([A-Za-z_][\w-]*)/))) steps.push({ kind: 'member', name: m[1]! })
    else if ((m = rest.match(/^\[\*\]/)) || (m = rest.match(/^\.\*/)))
      steps.push({ kind: 'wildcard' })
    else if ((m = rest.match(/^\[(\d+)\]/))) steps.push({ kind: 'index', index: Number(m[1]) })
    else if ((m = rest.match(/^\['([^']+)'\]/))) steps.push({ kind: 'member', name: m[1]! })
    else if (rest.startsWith('[?(')) {
      // find the matching ')]' (filters hold no nested brackets except [n] and regex literals)
      const end = findFilterEnd(rest)
      steps.push({ kind: 'filter', test: compileFilter(rest.slice(3, end)) })
      m = [rest.slice(0, end + 2)] as unknown as RegExpMatchArray
    } else throw new Error(`unsupported selector syntax at '${rest}' in ${selector}`)
    i += m[0]!.length
  }
  return steps
}

function findFilterEnd(rest: string): number {
  let inRegex = false
  let inQuote: string | undefined
  for (let j = 3; j < rest.length; j++) {
    const c = rest[j]!
    if (inQuote) {
      if (c === inQuote) inQuote = undefined
    } else if (inRegex) {
      if (c === '\\') j++
      else if (c === '/') inRegex = false
    } else if (c === "'" || c === '"') inQuote = c
    else if (c === '/' && /=~\s*$/.test(rest.slice(0, j))) inRegex = true
    else if (c === ')' && rest[j + 1] === ']') return j
  }
  throw new Error(`unterminated filter in '${rest}'`)
}

function descend(node: Json, name: string, out: Json[]): void {
  if (isObject(node) && name in node) out.push(node[name])
  for (const child of children(node)) descend(child, name, out)
}

/** Every node the selector selects, in document order. */
export function select(doc: Json, selector: string): Json[] {
  let nodes: Json[] = [doc]
  for (const step of parse(selector)) {
    const next: Json[] = []
    for (const node of nodes) {
      switch (step.kind) {
        case 'member':
          if (isObject(node) && step.name in node) next.push(node[step.name])
          break
        case 'descend':
          descend(node, step.name, next)
          break
        case 'wildcard':
          next.push(...children(node))
          break
        case 'index':
          if (Array.isArray(node) && step.index < node.length) next.push(node[step.index])
          break
        case 'filter':
          next.push(...children(node).filter(step.test))
          break
      }
    }
    nodes = next
  }
  return nodes
}
