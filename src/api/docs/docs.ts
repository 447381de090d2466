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
  const bundle = Bun.file(scalarBundle as string)
  return new Hono<AppEnv>()
    .get(
      '/docs',
      Scalar({
        url: '/openapi.json',
        cdn: SCALAR_SCRIPT_PATH,
        pageTitle: 'GridPulse API',
        // No Google fonts, no telemetry: nothing leaves the machine.
        withDefaultFonts: false,
        telemetry: false,
        hideClientButton: true,
      } as Parameters<typeof Scalar>[0])
    )
    .get(SCALAR_SCRIPT_PATH, (c) => {
      c.header('Cache-Control', 'public, max-age=86400')
      return c.body(bundle.stream(), 200, { 'Content-Type': 'text/javascript; charset=utf-8' })
    })
}
