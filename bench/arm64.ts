import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { $ } from 'bun'
import { freePort, waitForHttp } from '../tests/support/process'

type Report = (name: string, value: string) => void

const QEMU = Bun.which('qemu-aarch64-static')
const SYSROOT = '/usr/aarch64-linux-gnu'

/**
 * The linux-arm64 binary: its size against the host (x64) one, and, where qemu-user is installed,
 * its cold start under emulation (a board runs it natively, many times faster).
 */
export async function benchArm64(report: Report, root: string, hostBinary: string, work: string) {
  const binary = join(work, 'gridpulse-linux-arm64')
  await $`${process.execPath} scripts/build.ts --target linux-arm64 ${binary}`.cwd(root).quiet()
  const [arm, host] = [Bun.file(binary).size, Bun.file(hostBinary).size]
  report(
    'linux-arm64 binary size',
    `${(arm / 1024 / 1024).toFixed(1)} MB (${arm} B), ${(((arm - host) / host) * 100).toFixed(2)} % vs this machine's (target within 5 %)`
  )
  if (!QEMU || !existsSync(join(SYSROOT, 'lib', 'ld-linux-aarch64.so.1'))) {
    console.log('qemu-aarch64-static or libc6-arm64-cross missing: arm64 start-up not measured')
    return
  }
  const version = performance.now()
  await $`${QEMU} -L ${SYSROOT} ${binary} --version`.quiet()
  report(
    'arm64 under qemu-user: --version',
    `${((performance.now() - version) / 1000).toFixed(1)} s`
  )
  const samples: number[] = []
  for (let i = 0; i < 5; i++) {
    const port = freePort()
    const proc = Bun.spawn([QEMU, '-L', SYSROOT, binary, 'serve'], {
      cwd: work,
      env: {
        PATH: process.env.PATH ?? '',
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: join(work, `arm64-${i}`),
        SOURCES: 'none',
        LOG_LEVEL: 'warn',
      },
      stdout: 'ignore',
      stderr: 'inherit',
    })
    samples.push(await waitForHttp(`http://127.0.0.1:${port}/ready`, proc, 180_000))
    proc.kill('SIGTERM')
    await proc.exited
  }
  samples.sort((a, b) => a - b)
  report(
    'arm64 under qemu-user: cold start → /ready',
    `median ${(samples[2]! / 1000).toFixed(1)} s of 5 (${(samples[0]! / 1000).toFixed(1)}–${(samples[4]! / 1000).toFixed(1)} s)`
  )
}
