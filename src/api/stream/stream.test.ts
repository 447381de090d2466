import { afterEach, describe, expect, test } from 'bun:test'
import { createEmbeddedBus } from '@/bus'
import type { RegionId } from '@/canonical'
import { createNode, type GridPulseNode, type NodeOverrides } from '@/node'
import { silentLogger } from '@/observability'
import { expectProblem, json } from '../../../tests/support/api'
import { dispatchEvent, priceEvent, waitFor } from '../../../tests/support/events'
import { readSse } from '../../../tests/support/sse'
import { loadConfig } from '../../config'

const REGIONS: RegionId[] = ['NSW1', 'QLD1', 'SA1', 'TAS1', 'VIC1']
/** `n` price events, five minutes apart, cycling through the regions (so through the partitions). */
const prices = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) =>
    priceEvent(
      REGIONS[(from + i) % 5]!,
      new Date(Date.UTC(2026, 3, 1, 0, 5 * (from + i + 1))).toISOString().replace('.000', ''),
      50 + from + i
    )
  )

describe('GET /api/v1/stream', () => {
  const cleanup: (() => unknown)[] = []
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step()
  })

  const start = async (env: Record<string, string> = {}, overrides: NodeOverrides = {}) => {
    const node = await createNode(
      loadConfig({ SOURCES: 'none', AUTH_MODE: 'none', DATA_DIR: '/tmp/unused', ...env }),
      {
        log: silentLogger(),
        bus: createEmbeddedBus({ path: ':memory:', log: silentLogger(), idlePollMs: 50 }),
        projectionPath: ':memory:',
        accessPath: ':memory:',
        ...overrides,
      }
    )
    cleanup.push(() => node.close())
    return node
  }
  const open = async (node: GridPulseNode, query = '', headers: Record<string, string> = {}) => {
    const response = await node.fetch(new Request(`http://node/api/v1/stream${query}`, { headers }))
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    const sse = readSse(response.body!)
    cleanup.push(() => sse.cancel())
    return sse
  }
  const eventIds = (sse: ReturnType<typeof readSse>) =>
    sse.events.filter((e) => e.event !== 'reset').map((e) => JSON.parse(e.data).event_id)

  test('live events carry their log position, their type and the canonical JSON; filters apply', async () => {
    const node = await start()
    const all = await open(node)
    const nsw = await open(node, '?stream=prices&region_id=NSW1,VIC1')
    const batch = [...prices(5), dispatchEvent('NSW1', 'wind', '2026-04-01T00:05:00Z', 120)]
    await node.bus.publish(batch)
    await waitFor(() => all.events.length === 6, 'all six events streamed')
    await waitFor(() => nsw.events.length === 2, 'the NSW1 and VIC1 prices streamed')

    expect(new Set(eventIds(all))).toEqual(new Set(batch.map((e) => e.event_id)))
    const first = all.events.find((e) => e.event === 'MarketDispatchEvent')!
    expect(JSON.parse(first.data)).toEqual(JSON.parse(JSON.stringify(batch[5])))
    expect(first.id).toMatch(/^[a-z_]+(:\d+)+(,[a-z_]+(:\d+)+)*$/)
    expect(nsw.events.map((e) => JSON.parse(e.data).region_id).sort()).toEqual(['NSW1', 'VIC1'])
    expect(nsw.events.every((e) => e.id!.startsWith('prices:') && !e.id!.includes(','))).toBe(true)
    // Streamed means projected: the API already answers for what was streamed.
    const listed = await json(node.fetch(new Request('http://node/api/v1/prices?region_id=NSW1')))
    expect(listed.data.map((p: { event_id: string }) => p.event_id)).toContain(
      JSON.parse(nsw.events[0]!.data).event_id
    )
  })

  test('a client reconnecting with Last-Event-ID gets exactly what it missed, then live events', async () => {
    const node = await start()
    const first = await open(node, '?stream=prices')
    await node.bus.publish(prices(10))
    await waitFor(() => first.events.length === 10, 'ten events')
    const cutAt = first.events[3]!.id!
    await first.cancel()
    await node.bus.publish(prices(7, 10))
    await waitFor(() => node.stream.connections() === 0, 'the first stream closed')

    const second = await open(node, '?stream=prices', { 'Last-Event-ID': cutAt })
    await waitFor(() => second.events.length === 13, 'the thirteen missed events replayed')
    await node.bus.publish(prices(3, 17))
    await waitFor(() => second.events.length === 16, 'then three live ones')

    const got = [...first.events.slice(0, 4), ...second.events].map((e) => JSON.parse(e.data))
    expect(got.map((e) => e.event_id).sort()).toEqual(
      prices(20)
        .map((e) => e.event_id)
        .sort()
    )
    // Order holds per partition (a region's events share one): replayed, then live.
    for (const region of REGIONS) {
      const times = got.filter((e) => e.region_id === region).map((e) => e.interval_end)
      expect(times).toEqual([...times].sort())
    }
  })

  test('a client that reads too slowly gets `overflow` with where to resume, and is closed', async () => {
    const node = await start({ STREAM_BUFFER_EVENTS: '16' })
    const slow = await node.fetch(new Request('http://node/api/v1/stream?stream=prices'))
    const fast = await open(node, '?stream=prices')
    // Each batch reaches a client whose queue had room when it came; the next one finds it full.
    for (let part = 0; part < 4; part++) {
      await node.bus.publish(prices(10, part * 10))
      await waitFor(() => fast.events.length === (part + 1) * 10, 'the fast client keeps up')
    }
    expect(node.stream.connections()).toBe(1)

    const late = readSse(slow.body!)
    await late.done
    const overflow = late.events.at(-1)!
    expect(overflow.event).toBe('overflow')
    expect(JSON.parse(overflow.data).last_event_id).toBe(overflow.id)
    const resumed = await open(node, '?stream=prices', { 'Last-Event-ID': overflow.id! })
    const got = late.events.length - 1
    await waitFor(() => resumed.events.length === 40 - got, 'the rest replayed')
    expect([...eventIds(late).slice(0, got), ...eventIds(resumed)].sort()).toEqual(
      prices(40)
        .map((e) => e.event_id)
        .sort()
    )
  })

  test('a position older than the retained journal opens with `reset`, then what is left', async () => {
    const node = await start()
    const first = await open(node, '?stream=prices')
    await node.bus.publish(prices(5))
    await waitFor(() => first.events.length === 5, 'five events')
    node.queries.journal.prune(Date.now() + 1)
    await node.bus.publish(prices(2, 5))
    const resumed = await open(node, '?stream=prices', { 'Last-Event-ID': first.events[0]!.id! })
    await waitFor(() => resumed.events.length === 3, 'reset and the two kept events')
    expect(resumed.events[0]!.event).toBe('reset')
    expect(JSON.parse(resumed.events[0]!.data).length).toBeGreaterThan(0)
    expect(eventIds(resumed).sort()).toEqual(
      prices(2, 5)
        .map((e) => e.event_id)
        .sort()
    )
  })

  test('idle connections get heartbeat comments', async () => {
    const node = await start({ STREAM_HEARTBEAT_SECONDS: '1' })
    const idle = await open(node)
    await waitFor(() => idle.comments() >= 2, 'a heartbeat after the greeting', 5_000)
  })

  test('a visibility rule hides events from the viewers it names, live and replayed', async () => {
    const node = await start(
      {},
      {
        streamVisibility: (record) => record.regionId !== 'SA1' || record.topic !== 'market.prices',
      }
    )
    const live = await open(node, '?stream=prices')
    await node.bus.publish(prices(5))
    await waitFor(() => live.events.length === 4, 'four visible events')
    await node.bus.publish(prices(5, 5))
    await waitFor(() => live.events.length === 8, 'eight visible events')
    const replayed = await open(node, '?stream=prices', { 'Last-Event-ID': live.events[3]!.id! })
    await waitFor(() => replayed.events.length === 4, 'the later four replayed')
    expect([...live.events, ...replayed.events].some((e) => e.data.includes('"SA1"'))).toBe(false)
  })

  test('limits per key and in total answer 429 problem+json; bad input answers 400', async () => {
    const node = await start({
      AUTH_MODE: 'keys',
      STREAM_MAX_PER_KEY: '1',
      STREAM_MAX_CONNECTIONS: '2',
    })
    const a = node.keys.create('team-a', 'read').key
    const b = node.keys.create('team-b', 'read').key
    const c = node.keys.create('team-c', 'read').key
    await open(node, '', { apikey: a })
    await expectProblem(
      await node.fetch(new Request('http://node/api/v1/stream', { headers: { apikey: a } })),
      429,
      'rate_limited'
    )
    await open(node, '', { apikey: b })
    const full = await node.fetch(
      new Request('http://node/api/v1/stream', { headers: { apikey: c } })
    )
    await expectProblem(full, 429, 'rate_limited')
    expect(full.headers.get('retry-after')).toBe('30')

    const bad = (q: string, h: Record<string, string> = {}) =>
      node.fetch(new Request(`http://node/api/v1/stream${q}`, { headers: { apikey: c, ...h } }))
    await expectProblem(await bad('?stream=nope'), 400, 'validation_failed')
    await expectProblem(await bad('', { 'Last-Event-ID': 'garbage' }), 400, 'validation_failed')
    await expectProblem(
      await node.fetch(new Request('http://node/api/v1/stream')),
      401,
      'unauthorized'
    )
  })
})
