import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sha256Hex } from '@/lib'
import { waitFor } from '../support/events'
import { buildDispatchIsZip } from '../support/nemweb-fixtures'
import { startNemwebServer } from '../support/nemweb-server'
import { freePort, spawnAemoNode, waitForHttp } from '../support/process'

// One node polling the local NEMWeb server: a price event's lineage names the file it was served
// (its sha256, computed here from the bytes the server sent) and the line of its DISPATCH.PRICE
// row; a POST's trace shows the request, the event and its log position. The DispatchIS file is a
// live-format build of real April 2026 archive rows (tests/support/nemweb-fixtures.ts).
const INTERVAL = '2026-04-02T00:05:00Z'

// biome-ignore lint: bodies are asserted field by field
type Json = any

describe('lineage and trace on a running node', () => {
  const nemweb = startNemwebServer()
  const file = buildDispatchIsZip(INTERVAL)
  nemweb.add('/Reports/Current/DispatchIS_Reports/', file)
  const dataDir = mkdtempSync(join(tmpdir(), 'gridpulse-lineage-'))
  const port = freePort()
  const node = spawnAemoNode({ port, dataDir, nemwebUrl: nemweb.url })
  const base = `http://127.0.0.1:${port}`
  const get = async (path: string): Promise<Json> => (await fetch(`${base}${path}`)).json()
  afterAll(async () => {
    node.kill('SIGTERM')
    await node.exited
    nemweb.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  test('a price event names its file’s sha256 and row, and where it sits on the log', async () => {
    await waitForHttp(`${base}/ready`, node)
    const price = await waitFor(
      async () => {
        const page = await get('/api/v1/prices?region_id=NSW1')
        return page.data?.[0] as Json
      },
      'the NSW1 price',
      30_000
    )

    const response = await fetch(`${base}/api/v1/lineage/${price.event_id}`)
    expect(response.status).toBe(200)
    const lineage: Json = await response.json()
    expect(lineage).toMatchObject({
      event_id: price.event_id,
      event_type: 'RegionPriceEvent',
      source: 'aemo.dispatchis',
      correlation_id: price.correlation_id,
      file: {
        name: file.name,
        sha256: sha256Hex(file.bytes),
        url: new URL(`/Reports/Current/DispatchIS_Reports/${file.name}`, nemweb.url).toString(),
        size_bytes: file.bytes.byteLength,
        // The fixture server's listing dates its files (minute precision, like NEMWeb's).
        listed_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00(\.000)?Z$/),
        fetched_at: expect.any(String),
      },
      log: { topic: 'market.prices', partition: expect.any(Number), offset: expect.any(Number) },
      replaced: [],
    })
    // The row is the file's DISPATCH.PRICE line of NSW1 for the interval, with the event's RRP.
    const line = file.csv.split(/\r?\n/)[lineage.file.row - 1]!.split(',')
    expect(line.slice(0, 3)).toEqual(['D', 'DISPATCH', 'PRICE'])
    expect(line).toContain('NSW1')
    expect(line.map(Number)).toContain(price.rrp_aud_mwh)
    // The poll's correlation id (one per file) traces to the file record, on sources.files.
    const trace = await get(`/api/v1/trace/${price.correlation_id}`)
    expect(trace.items).toEqual([
      expect.objectContaining({
        kind: 'file',
        name: file.name,
        sha256: sha256Hex(file.bytes),
        log: { topic: 'sources.files', partition: expect.any(Number), offset: expect.any(Number) },
      }),
    ])
    expect(Date.parse(lineage.projected_at)).toBeGreaterThanOrEqual(Date.parse(lineage.ingested_at))
  })

  test('a POST’s trace: the request, the event and its log position, under the client’s id', async () => {
    await waitForHttp(`${base}/ready`, node)
    const posted = await fetch(`${base}/api/v1/dispatch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-correlation-id': 'trace-me-42' },
      body: JSON.stringify({
        region_id: 'SA1',
        fuel_type: 'wind',
        interval_end: INTERVAL,
        value_mw: 412.5,
      }),
    })
    expect(posted.status).toBe(202)
    expect(posted.headers.get('x-correlation-id')).toBe('trace-me-42')
    const { event_id } = (await posted.json()) as { event_id: string }

    const trace = await waitFor(async () => {
      const body = await get('/api/v1/trace/trace-me-42')
      return body.items?.length === 2 && body
    }, 'the projected POST')
    expect(trace.items).toEqual([
      expect.objectContaining({ kind: 'request', method: 'POST', status: 202 }),
      expect.objectContaining({
        kind: 'event',
        event_id,
        log: {
          topic: 'market.dispatch',
          partition: expect.any(Number),
          offset: expect.any(Number),
        },
      }),
    ])
    const lineage = await get(`/api/v1/lineage/${event_id}`)
    expect(lineage).toMatchObject({ correlation_id: 'trace-me-42', file: null, source: 'api' })
  }, 60_000)
})
