import { Scalar } from '@scalar/hono-api-reference'
import { Hono } from 'hono'
// Scalar's standalone bundle, embedded in the compiled binary (Bun `type: 'file'` import) so /docs
// works on an edge node with no internet: by default Scalar loads this script from a CDN.
// @ts-ignore -- a file-URL import of a JS asset has no type declarations
import scalarBundle from '../../../node_modules/@scalar/api-reference/dist/browser/standalone.js' with {
  type: 'file',
}
import type { AppEnv } from '../router'

export const SCALAR_SCRIPT_PATH = '/docs/scalar.js'

export function docsRouter() {
  // The compiled binary embeds the bundle gzip-compressed (scripts/build.ts); from source it is plain.
  let cached: { bytes: ArrayBuffer; gzipped: boolean } | undefined
  const load = async () => {
    if (!cached) {
      const bytes = await Bun.file(scalarBundle as string).arrayBuffer()
      const head = new Uint8Array(bytes, 0, 2)
      cached = { bytes, gzipped: head[0] === 0x1f && head[1] === 0x8b }
    }
    return cached
  }
  const scalar = Scalar({
    url: '/openapi.json',
    cdn: SCALAR_SCRIPT_PATH,
    pageTitle: 'GridPulse API',
    // No Google fonts, no telemetry: nothing leaves the machine.
    withDefaultFonts: false,
    telemetry: false,
    hideClientButton: true,
    // Scalar shows its hosted services (Ask AI, Generate MCP, and the developer toolbar's Share and
    // Deploy) whenever the page is on localhost: none of them work on an offline edge node.
    agent: { disabled: true },
    mcp: { disabled: true },
    showDeveloperTools: 'never',
  } as Parameters<typeof Scalar>[0])
  let page: { html: string; csp: string } | undefined
  return new Hono<AppEnv>()
    .get('/docs', async (c, next) => {
      if (!page) {
        const response = await scalar(c as unknown as Parameters<typeof scalar>[0], next)
        // zod (bundled in Scalar) probes `Function('')` to decide whether to compile validators;
        // under this CSP the probe is a reported violation. Jitless mode skips the probe.
        const html = (await (response as Response).text()).replace(
          `<script src="${SCALAR_SCRIPT_PATH}">`,
          `<script>globalThis.__zod_globalConfig = { jitless: true }</script>\n    <script src="${SCALAR_SCRIPT_PATH}">`
        )
        page = { html, csp: docsCsp(html) }
      }
      return c.html(page.html, 200, {
        'Content-Security-Policy': page.csp,
        'X-Frame-Options': 'DENY',
        'Cache-Control': 'no-cache',
      })
    })
    .get(SCALAR_SCRIPT_PATH, async (c) => {
      const { bytes, gzipped } = await load()
      const headers: Record<string, string> = {
        'Content-Type': 'text/javascript; charset=utf-8',
        'Cache-Control': 'public, max-age=86400',
        Vary: 'Accept-Encoding',
      }
      if (!gzipped) return c.body(bytes, 200, headers)
      if (/\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) {
        return c.body(bytes, 200, { ...headers, 'Content-Encoding': 'gzip' })
      }
      return c.body(Bun.gunzipSync(new Uint8Array(bytes)).buffer as ArrayBuffer, 200, headers)
    })
}

/**
 * The page's policy: scripts only from this origin plus the one inline bootstrap script (by hash),
 * requests (Try it) only to this origin, no framing. Styles stay 'unsafe-inline' because Scalar's
 * components inject theirs at run time; style cannot run code.
 */
function docsCsp(html: string): string {
  const hashes = [...html.matchAll(/<script(?![^>]*\ssrc=)[^>]*>([\s\S]*?)<\/script>/g)].map(
    (m) => `'sha256-${new Bun.CryptoHasher('sha256').update(m[1]!).digest('base64')}'`
  )
  return [
    "default-src 'none'",
    `script-src 'self' ${hashes.join(' ')}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ')
}
