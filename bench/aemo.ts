import { join } from 'node:path'
import { processFile } from '../src/sources/aemo'
import { normalizeDispatchScada } from '../src/sources/aemo/dispatch-scada'
import { normalizeDispatchIsFiles } from '../src/sources/aemo/dispatch-is'
import { readSourceFile } from '../src/sources/aemo/source-file'
import { unzipEntriesAsync } from '../src/sources/aemo/zip'
import { lyingBomb } from '../tests/support/hostile-zips'
import { AEMO_FIXTURES, buildDispatchIsZip, fixtureFile } from '../tests/support/nemweb-fixtures'
import { startNemwebServer } from '../tests/support/nemweb-server'
import { freePort, waitForHttp } from '../tests/support/process'

type Report = (name: string, value: string) => void
const ctx = () => ({ correlationId: 'bench', ingestedAt: new Date().toISOString() })

/** Parse + normalise throughput over the real fixtures, one core (this process). */
export function benchNormalize(report: Report) {
  // Monthly MMSDM extracts: already-unzipped tables, the normaliser alone.
  const price = readSourceFile(fixtureFile(AEMO_FIXTURES.price202604), ['DISPATCH.PRICE'], {
    strictFooter: false,
  })
  const regionsum = readSourceFile(
    fixtureFile(AEMO_FIXTURES.regionsum202604),
    ['DISPATCH.REGIONSUM'],
    { strictFooter: false }
  )
  let events = 0
  let fcas = 0
  let started = performance.now()
  for (let i = 0; i < 10; i++) {
    const result = normalizeDispatchIsFiles([price, regionsum], ctx())
    events += result.events.length
    fcas += result.fcas.length
  }
  const seconds = (performance.now() - started) / 1000
  report(
    'normalise DispatchIS (parsed tables)',
    `${Math.round(events / seconds)} price events/s (target ≥ 100k) + ${Math.round(fcas / seconds)} FCAS events/s in the same time`
  )

  const scada = fixtureFile(AEMO_FIXTURES.scada202604)
  events = 0
  started = performance.now()
  for (let i = 0; i < 10; i++)
    events += normalizeDispatchScada(scada, ctx(), { strictFooter: false }).events.length
  report(
    'unzip + parse + normalise SCADA (archive)',
    `${Math.round(events / ((performance.now() - started) / 1000))} events/s`
  )

  const live = Array.from({ length: 96 }, (_, i) =>
    buildDispatchIsZip(
      new Date(Date.parse('2026-04-02T00:05:00Z') + i * 300_000).toISOString().replace('.000', '')
    )
  )
  events = 0
  started = performance.now()
  for (const f of live)
    events += processFile('dispatchis', { name: f.name, bytes: f.bytes, sha256: f.sha256 }, ctx())
      .events.length
  report(
    'live 5-min DispatchIS zips, end to end',
    `${Math.round(events / ((performance.now() - started) / 1000))} events/s (${live.length} files, 2 regions each)`
  )
}

/** How long a hostile zip holds a poller: a ~1 MB zip declaring 150 kB that inflates to 1 GiB. */
export async function benchHostileZip(report: Report) {
  const bomb = lyingBomb('BOMB.CSV', 1024 * 1024 * 1024, 150_000)
  const runs = 20
  const started = performance.now()
  for (let i = 0; i < runs; i++) await unzipEntriesAsync(bomb).catch(() => undefined)
  report(
    'lying zip bomb (1 GiB as 150 kB) refused',
    `${((performance.now() - started) / runs).toFixed(1)} ms each, off the event loop`
  )
}

/**
 * The compiled binary polling a local NEMWeb server with the default poll settings, keys off:
 * where "a file appears on NEMWeb → …" is measured. Resolves once the node is ready.
 */
export async function startNemwebNode(binary: string, dataDir: string) {
  const nemweb = startNemwebServer()
  const port = freePort()
  const proc = Bun.spawn([binary, 'serve'], {
    env: {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      SOURCES: 'aemo',
      AEMO_BASE_URL: nemweb.url,
      AEMO_INITIAL_LOOKBACK_MINUTES: '1000000000',
      AUTH_MODE: 'none',
      LOG_LEVEL: 'warn',
    },
    stdout: 'ignore',
    stderr: 'inherit',
  })
  await waitForHttp(`http://127.0.0.1:${port}/ready`, proc)
  return { nemweb, port, proc }
}

/**
 * The `i`-th DispatchIS file appears on the local NEMWeb at a random point of the 5 s poll period;
 * resolves once its price is the newest the API answers, with when it appeared (performance.now()).
 */
export async function publishUntilQueryable(
  nemweb: ReturnType<typeof startNemwebServer>,
  port: number,
  i: number
) {
  const file = buildDispatchIsZip(
    new Date(Date.parse('2026-04-02T00:05:00Z') + i * 300_000).toISOString().replace('.000', '')
  )
  await Bun.sleep(Math.random() * 5000)
  const appeared = performance.now()
  nemweb.add('/Reports/Current/DispatchIS_Reports/', file)
  for (;;) {
    const page = (await (await fetch(`http://127.0.0.1:${port}/api/v1/prices?limit=1`)).json()) as {
      data: { interval_end: string }[]
    }
    if (page.data[0]?.interval_end === file.intervalEnd) break
    await Bun.sleep(20)
  }
  return {
    intervalEnd: file.intervalEnd,
    appeared,
    queryableSeconds: (performance.now() - appeared) / 1000,
  }
}

/** "File appears on NEMWeb" → "its price is queryable through the API", default poll settings. */
export async function benchFreshness(report: Report, binary: string, workDir: string) {
  const { nemweb, port, proc } = await startNemwebNode(binary, join(workDir, 'freshness'))
  const samples: number[] = []
  for (let i = 0; i < 8; i++)
    samples.push((await publishUntilQueryable(nemweb, port, i)).queryableSeconds)
  proc.kill('SIGTERM')
  await proc.exited
  nemweb.stop()
  samples.sort((a, b) => a - b)
  report(
    'NEMWeb file appears → queryable (8 files)',
    `median ${samples[4]!.toFixed(1)} s, max ${samples[7]!.toFixed(1)} s (AEMO_POLL_SECONDS=5 default; target ≤ 10 s)`
  )
}
