/**
 * What the Dockerfile promises, checked without a container engine: the compiled binary runs in a
 * root filesystem holding only itself and the glibc libraries `ldd` names (roughly what
 * gcr.io/distroless/cc-debian12 provides), as uid 65532 with /data owned by it, in its own PID and
 * mount namespace with /proc (as every container runtime gives). It answers `--help`, serves
 * /health, passes its own `healthcheck` subcommand and stops cleanly on SIGTERM as PID 1.
 * Skips, loudly, where unshare/chroot are not permitted (not root, or no namespaces).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { ROOT, run, skipNotice } from './support'

const UNSHARE = Bun.which('unshare')
const CHROOT =
  Bun.which('chroot') ?? (existsSync('/usr/sbin/chroot') ? '/usr/sbin/chroot' : undefined)
const LDD = Bun.which('ldd')
const NONROOT = 65532

const reason = (() => {
  if (process.platform !== 'linux') return 'not Linux'
  if (process.getuid?.() !== 0) return 'not root (chroot and unshare need it)'
  if (!UNSHARE || !CHROOT || !LDD) return 'unshare, chroot or ldd missing'
  const probe = run([UNSHARE, '--mount', '--pid', '--fork', 'true'])
  if (probe.code !== 0) return `unshare is not permitted here: ${probe.stderr.trim()}`
  return undefined
})()
if (reason) skipNotice('rootfs (distroless-like) run of the binary', reason)

let dir = ''
let rootfs = ''

/** Runs the binary inside the root filesystem: new PID + mount namespace, /proc, uid 65532. */
function inRootfs(args: string[], env: Record<string, string>) {
  return [
    'env',
    '-i',
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    UNSHARE!,
    '--mount',
    '--pid',
    '--fork',
    '--kill-child',
    `--mount-proc=${join(rootfs, 'proc')}`,
    CHROOT!,
    `--userspec=${NONROOT}:${NONROOT}`,
    rootfs,
    '/app/gridpulse',
    ...args,
  ]
}

describe.skipIf(!!reason)('the binary in a distroless-like root filesystem', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gridpulse-rootfs-'))
    const binary = join(dir, 'gridpulse')
    const build = run([process.execPath, 'scripts/build.ts', binary], { timeout: 120_000 })
    if (build.code !== 0) throw new Error(`build failed: ${build.stderr}`)

    rootfs = join(dir, 'root')
    for (const d of ['app', 'data', 'etc', 'proc', 'tmp'])
      mkdirSync(join(rootfs, d), { recursive: true })
    copyFileSync(binary, join(rootfs, 'app/gridpulse'))
    chmodSync(join(rootfs, 'app/gridpulse'), 0o755)
    // the shared libraries the dynamic loader needs (glibc: libc, libm, libpthread, libdl, ld.so)
    const libs = [...run([LDD!, binary]).stdout.matchAll(/(\/\S+\.so[.\d]*)/g)].map((m) => m[1]!)
    expect(libs.length).toBeGreaterThan(1)
    for (const lib of new Set(libs)) {
      mkdirSync(join(rootfs, dirname(lib)), { recursive: true })
      copyFileSync(lib, join(rootfs, lib)) // follows symlinks
    }
    writeFileSync(
      join(rootfs, 'etc/passwd'),
      `root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:${NONROOT}:${NONROOT}:nonroot:/home/nonroot:/sbin/nologin\n`
    )
    writeFileSync(join(rootfs, 'etc/group'), `root:x:0:\nnonroot:x:${NONROOT}:\n`)
    chownSync(join(rootfs, 'data'), NONROOT, NONROOT) // the Dockerfile's COPY --chown=65532:65532 /data
    chmodSync(join(rootfs, 'tmp'), 0o1777)
  }, 120_000)

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  test('the root filesystem holds only the binary and glibc', () => {
    const files = run(['find', rootfs, '-type', 'f'])
      .stdout.trim()
      .split('\n')
      .map((f) => f.slice(rootfs.length))
    expect(files.filter((f) => !/^\/(lib|lib64|usr\/lib)\//.test(f)).sort()).toEqual([
      '/app/gridpulse',
      '/etc/group',
      '/etc/passwd',
    ])
  })

  test('gridpulse --help', () => {
    const r = run(inRootfs(['--help'], {}))
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('gridpulse')
    expect(r.stdout).toContain('healthcheck')
  })

  test('gridpulse serve answers /health as uid 65532, writes /data, healthcheck passes, SIGTERM exits 0', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000)
    const env = {
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: '/data',
      SOURCES: 'none',
      AUTH_MODE: 'none',
      LOG_LEVEL: 'info',
    }
    const proc = Bun.spawn(inRootfs(['serve'], env), { stdout: 'pipe', stderr: 'pipe' })
    try {
      let health: Response | undefined
      for (let i = 0; i < 100 && !health; i++) {
        health = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined)
        if (!health) await Bun.sleep(100)
      }
      expect(health?.status).toBe(200)
      expect(((await health!.json()) as { status: string }).status).toBe('healthy')

      const hc = run(inRootfs(['healthcheck'], { PORT: String(port) }))
      expect(hc.code).toBe(0)

      // the server is the only child of unshare: PID 1 of its namespace, running as 65532
      const serverPid = Number(
        readFileSync(`/proc/${proc.pid}/task/${proc.pid}/children`, 'utf8').trim().split(/\s+/)[0]
      )
      const uid = readFileSync(`/proc/${serverPid}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)?.[1]
      expect(uid).toBe(String(NONROOT))
      const owners = run([
        'stat',
        '-c',
        '%u',
        ...['log.sqlite', 'projection.sqlite', 'access.sqlite'].map((f) => join(rootfs, 'data', f)),
      ])
      expect(owners.stdout.trim().split('\n')).toEqual([
        String(NONROOT),
        String(NONROOT),
        String(NONROOT),
      ])

      process.kill(serverPid, 'SIGTERM')
      expect(await proc.exited).toBe(0)
    } finally {
      proc.kill('SIGKILL')
    }
  }, 30_000)
})

test('the Dockerfile is multi-stage: bun 1.4.4 build, distroless cc nonroot runtime per architecture', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
  // [platform flag, image (digest dropped: scripts/pin-images.sh may add one), stage name]
  const from = [
    ...dockerfile.matchAll(
      /^FROM\s+(--platform=\S+\s+)?([^\s@]+)(?:@sha256:[0-9a-f]{64})?(?:\s+AS\s+(\S+))?\s*$/gm
    ),
  ].map((m) => [m[1]?.trim(), m[2], m[3]])
  expect(from).toEqual([
    ['--platform=$BUILDPLATFORM', 'oven/bun:1.4.4', 'build'],
    [undefined, 'gcr.io/distroless/cc-debian12:nonroot', 'runtime-amd64'],
    [undefined, 'gcr.io/distroless/cc-debian12:nonroot', 'runtime-arm64'],
    [undefined, 'runtime-${TARGETARCH}', undefined],
  ])
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  expect(pkg.packageManager).toBe('bun@1.4.4')
  for (const line of [
    'RUN bun install --frozen-lockfile',
    'COPY --from=build /src/dist/gridpulse /app/gridpulse',
    'COPY --from=build --chown=65532:65532 /out/data /data',
    'ENV DATA_DIR=/data',
    'EXPOSE 8080',
    'ENTRYPOINT ["/app/gridpulse"]',
    'CMD ["serve"]',
  ]) {
    expect(dockerfile).toContain(line)
  }
  // The build stage cross-compiles for the image's architecture.
  expect(dockerfile).toContain('RUN bun scripts/build.ts dist/gridpulse --target "$TARGETARCH"')
  expect(dockerfile).toMatch(/HEALTHCHECK .*CMD \["\/app\/gridpulse", "healthcheck"\]/)
  const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n')
  for (const entry of ['.git', 'node_modules', 'dist', 'deploy', '.env'])
    expect(ignore).toContain(entry)
})
