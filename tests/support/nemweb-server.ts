import { buildListingHtml } from './nemweb-fixtures'

interface Served {
  readonly name: string
  readonly bytes: Uint8Array
  readonly intervalEnd?: string
  /**
   * Send the body in 64 kB chunks with no Content-Length (chunked transfer), as a misbehaving
   * server or proxy might: the client cannot refuse it by its declared length, only while reading.
   */
  readonly chunked?: boolean
}

const CHUNK = 64 * 1024

/** A body that is produced chunk by chunk, on demand (pull), without a declared length. */
const chunkedBody = (bytes: Uint8Array) => {
  let at = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close()
      controller.enqueue(bytes.subarray(at, at + CHUNK))
      at += CHUNK
    },
  })
}

/**
 * A local stand-in for nemweb.com.au: IIS-style listing pages for `Reports/Current/<folder>/`
 * and `Reports/Archive/<folder>/`, the files themselves, and Last-Modified / If-Modified-Since
 * like the real server. Files can be added or removed while a test runs (a new interval
 * appearing, a file rotating out of Current); every request is recorded.
 */
export function startNemwebServer(
  options: {
    delayMs?: number
    refuse?: ReadonlySet<string>
    /** A fixed port, e.g. one a node was told about while nothing listened on it (default: any). */
    port?: number
  } = {}
) {
  const folders = new Map<string, Map<string, Served>>()
  const changedAt = new Map<string, number>()
  const requests: string[] = []
  let clock = Date.parse('2026-11-28T00:00:00Z')

  const folder = (dir: string) => {
    let files = folders.get(dir)
    if (!files) {
      files = new Map()
      folders.set(dir, files)
    }
    return files
  }
  const touch = (dir: string) => {
    clock += 1000 // HTTP dates have second resolution
    changedAt.set(dir, clock)
  }

  const server = Bun.serve({
    port: options.port ?? 0,
    hostname: '127.0.0.1',
    async fetch(request) {
      if (options.delayMs) await Bun.sleep(options.delayMs) // a real server is not instant
      const { pathname } = new URL(request.url)
      requests.push(pathname)
      const slash = pathname.lastIndexOf('/') + 1
      const dir = pathname.slice(0, slash)
      const name = pathname.slice(slash)
      const files = folders.get(dir)
      if (!files) return new Response('not found', { status: 404 })
      if (name === '') {
        const modified = new Date(changedAt.get(dir) ?? clock).toUTCString()
        const since = request.headers.get('if-modified-since')
        if (since && Date.parse(since) >= Date.parse(modified))
          return new Response(null, { status: 304 })
        const html = buildListingHtml(
          dir,
          [...files.values()].map((f) => ({
            name: f.name,
            bytes: f.bytes,
            intervalEnd: f.intervalEnd,
          }))
        )
        return new Response(html, {
          headers: { 'content-type': 'text/html', 'last-modified': modified },
        })
      }
      if (options.refuse?.has(name)) return new Response('forbidden', { status: 403 })
      const file = files.get(name)
      if (!file) return new Response('not found', { status: 404 })
      return new Response(file.chunked ? chunkedBody(file.bytes) : file.bytes, {
        headers: { 'content-type': 'application/x-zip-compressed' },
      })
    },
  })

  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    /** Publishes a file in a folder such as `/Reports/Current/DispatchIS_Reports/`. */
    add(dir: string, file: Served) {
      folder(dir).set(file.name, file)
      touch(dir)
    },
    remove(dir: string, name: string) {
      folder(dir).delete(name)
      touch(dir)
    },
    downloads: (name: string) => requests.filter((r) => r.endsWith(`/${name}`)).length,
    stop: () => server.stop(true),
  }
}
