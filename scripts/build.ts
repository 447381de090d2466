/**
 * Compiles GridPulse into self-contained executables: the Bun runtime, the code, the embedded
 * migrations and Scalar's docs bundle. The Dockerfile runs this same script.
 *
 *   bun scripts/build.ts [OUTFILE]                      this machine's target (default dist/gridpulse)
 *   bun scripts/build.ts --target linux-arm64 [OUTFILE] one target: linux-x64 | linux-arm64
 *                                                       (Docker's amd64 | arm64 are accepted)
 *   bun scripts/build.ts --all                          dist/gridpulse-linux-{x64,arm64}, each with a
 *                                                       .sha256, and the SBOM dist/gridpulse.cdx.json
 *   bun scripts/build.ts --sbom FILE                    the CycloneDX SBOM alone (bundles, no compile)
 *
 * A target other than this machine's is compiled on that target's Bun runtime from the npm
 * registry, checked against bun.lock (scripts/bun-runtime.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { $, type BuildConfig, type BunPlugin } from 'bun'
import pkg from '../package.json'
import { type Arch, bunRuntime } from './bun-runtime'

const ROOT = resolve(import.meta.dir, '..')
const HOST: Arch = process.arch === 'arm64' ? 'arm64' : 'x64'
const TARGETS: Record<string, Arch> = {
  'linux-x64': 'x64',
  'linux-arm64': 'arm64',
  amd64: 'x64',
  arm64: 'arm64',
}

// The Docker build context has no .git: the Dockerfile passes the commit in GRIDPULSE_COMMIT. A
// build from a work tree with uncommitted changes says so (`-dirty`).
const git = async (...args: string[]) =>
  (await $`git ${args}`.cwd(ROOT).nothrow().quiet()).stdout.toString().trim()
async function gitCommit(): Promise<string> {
  const head = await git('rev-parse', '--short=12', 'HEAD')
  if (!head) return 'unknown'
  return (await git('status', '--porcelain', '--untracked-files=no')) ? `${head}-dirty` : head
}
const commit = process.env.GRIDPULSE_COMMIT || (await gitCommit())
const version = `${pkg.version}+${commit.slice(0, 7)}`

// The outbox relay runs in a Worker (src/bus/kafka/relay-thread.ts): its file is an entrypoint of
// its own, embedded beside main.ts. Inside the binary a Worker path is resolved relative to the
// entrypoints' common root (src/), hence RELAY_WORKER_ENTRY.
const RELAY_WORKER = 'src/bus/kafka/relay-worker.ts'

// Scalar's 4 MB docs bundle is embedded gzip-compressed (about a quarter of the size); the /docs
// route serves it as is to browsers that accept gzip (all do) and inflates it for the rest.
const gzipScalarBundle: BunPlugin = {
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

/** What every build shares, so that the SBOM describes exactly what the binaries bundle. */
const bundle = {
  entrypoints: [join(ROOT, 'src/main.ts'), join(ROOT, RELAY_WORKER)],
  plugins: [gzipScalarBundle],
  minify: true,
  define: {
    BUILD_VERSION: JSON.stringify(version),
    BUILD_COMMIT: JSON.stringify(commit),
    RELAY_WORKER_ENTRY: JSON.stringify(`./${RELAY_WORKER.replace(/^src\//, '')}`),
  },
} satisfies Partial<BuildConfig>

function check(result: Bun.BuildOutput) {
  if (result.success) return
  for (const log of result.logs) console.error(log)
  process.exit(1)
}

async function compile(arch: Arch, outfile: string) {
  check(
    await Bun.build({
      ...bundle,
      compile: {
        outfile,
        ...(arch === HOST
          ? {}
          : {
              target: `bun-linux-${arch}`,
              executablePath: (await bunRuntime(ROOT, arch)).executable,
            }),
        // Configuration comes from the process environment only: a stray .env or bunfig beside the
        // binary must not change its behaviour.
        autoloadDotenv: false,
        autoloadBunfig: false,
      },
      // Precompiled bytecode: the binary skips parsing its ~10 MB of JavaScript at every start.
      bytecode: true,
      sourcemap: 'linked',
    })
  )
  const size = Bun.file(outfile).size
  console.error(
    `built ${outfile} (${(size / 1024 / 1024).toFixed(1)} MB), ${version}, linux-${arch}`
  )
}

/** `<sha256>  <file name>`: what `sha256sum -c` reads, run in the file's directory. */
async function writeChecksum(file: string) {
  const hex = new Bun.CryptoHasher('sha256').update(await Bun.file(file).bytes()).digest('hex')
  await Bun.write(`${file}.sha256`, `${hex}  ${basename(file)}\n`)
}

/**
 * CycloneDX 1.6 JSON of what the binaries ship: the npm packages the bundler actually pulled in
 * (after tree-shaking; @cyclonedx/cyclonedx-esbuild reads Bun's metafile), plus the Bun runtime of
 * each target, with the version, license and sha512 that bun.lock and its package.json give.
 */
async function writeSbom(outfile: string, arches: readonly Arch[]) {
  const { cyclonedxEsbuildPlugin } = await import('@cyclonedx/cyclonedx-esbuild')
  const scratch = mkdtempSync(join(tmpdir(), 'gridpulse-sbom-'))
  const raw = join(scratch, 'bom.json')
  // Typed for esbuild; Bun's plugin API is the esbuild-compatible subset it uses (its README).
  const cyclonedx = cyclonedxEsbuildPlugin({
    outputFile: raw,
    specVersion: '1.6',
    outputReproducible: true,
    logLevel: 'warning',
  }) as unknown as BunPlugin
  try {
    check(
      await Bun.build({
        ...bundle,
        plugins: [...bundle.plugins, cyclonedx],
        target: 'bun',
        outdir: scratch,
        metafile: true,
      })
    )
    const bom = await Bun.file(raw).json()
    for (const arch of arches) bom.components.push(await runtimeComponent(arch))
    await Bun.write(outfile, `${JSON.stringify(bom, null, 2)}\n`)
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
  console.error(`wrote ${outfile}`)
}

async function runtimeComponent(arch: Arch) {
  const { locked, manifest } = await bunRuntime(ROOT, arch)
  const [group, name] = locked.name.split('/') as [string, string]
  return {
    type: 'application',
    'bom-ref': `${locked.name}@${locked.version}`,
    group,
    name,
    version: manifest.version,
    description: `the Bun runtime inside gridpulse-linux-${arch}`,
    licenses: [{ license: { id: manifest.license } }],
    purl: `pkg:npm/${encodeURIComponent(group)}/${name}@${manifest.version}`,
    hashes: [
      {
        alg: 'SHA-512',
        content: Buffer.from(locked.integrity.replace(/^sha512-/, ''), 'base64').toString('hex'),
      },
    ],
  }
}

const args = process.argv.slice(2)
const option = (name: string) => {
  const at = args.indexOf(name)
  if (at < 0) return undefined
  const [, value] = args.splice(at, 2)
  if (!value) throw new Error(`${name} needs a value`)
  return value
}
const sbom = option('--sbom')
const target = option('--target')
const all = args.includes('--all')

if (sbom) {
  await writeSbom(resolve(sbom), ['x64', 'arm64'])
} else if (all) {
  for (const arch of ['x64', 'arm64'] as const) {
    const file = join(ROOT, 'dist', `gridpulse-linux-${arch}`)
    await compile(arch, file)
    await writeChecksum(file)
  }
  await writeSbom(join(ROOT, 'dist', 'gridpulse.cdx.json'), ['x64', 'arm64'])
} else {
  const arch = target === undefined ? HOST : TARGETS[target]
  if (!arch) throw new Error(`unknown target ${target}: one of ${Object.keys(TARGETS).join(', ')}`)
  await compile(arch, resolve(args[0] ?? join(ROOT, 'dist', 'gridpulse')))
}
