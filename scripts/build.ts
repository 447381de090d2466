/**
 * Compiles GridPulse into one self-contained executable, `dist/gridpulse`: the Bun runtime, the
 * code, the embedded migrations and Scalar's docs bundle. The Dockerfile runs this same script.
 */
import { $ } from 'bun'
import pkg from '../package.json'

const sha =
  (await $`git rev-parse --short HEAD`.nothrow().quiet()).stdout.toString().trim() || 'unknown'
const version = `${pkg.version}+${sha}`
const outfile = process.argv[2] ?? 'dist/gridpulse'

// The outbox relay runs in a Worker (src/bus/kafka/relay-thread.ts): its file is an entrypoint of
// its own, embedded beside main.ts. Inside the binary a Worker path is resolved relative to the
// entrypoints' common root (src/), hence RELAY_WORKER_ENTRY.
const RELAY_WORKER = 'src/bus/kafka/relay-worker.ts'

// Scalar's 4 MB docs bundle is embedded gzip-compressed (about a quarter of the size); the /docs
// route serves it as is to browsers that accept gzip (all do) and inflates it for the rest.
const gzipScalarBundle: import('bun').BunPlugin = {
  name: 'gzip-scalar-bundle',
  setup(build) {
    build.onLoad(
      { filter: /@scalar\/api-reference\/dist\/browser\/standalone\.js$/ },
      async (args) => ({
        contents: Bun.gzipSync(await Bun.file(args.path).bytes(), { level: 9 }),
        loader: 'file',
      })
    )
  },
}

const result = await Bun.build({
  entrypoints: ['src/main.ts', RELAY_WORKER],
  plugins: [gzipScalarBundle],
  compile: {
    outfile,
    // Configuration comes from the process environment only: a stray .env or bunfig beside the
    // binary must not change its behaviour.
    autoloadDotenv: false,
    autoloadBunfig: false,
  },
  minify: true,
  // Precompiled bytecode: the binary skips parsing its ~10 MB of JavaScript at every start.
  bytecode: true,
  sourcemap: 'linked',
  define: {
    BUILD_VERSION: JSON.stringify(version),
    RELAY_WORKER_ENTRY: JSON.stringify(`./${RELAY_WORKER.replace(/^src\//, '')}`),
  },
})
if (!result.success) {
  for (const log of result.logs) console.error(log)
  process.exit(1)
}
const size = Bun.file(outfile).size
console.error(`built ${outfile} (${(size / 1024 / 1024).toFixed(1)} MB), version ${version}`)
