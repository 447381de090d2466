import { describe, expect, test } from 'bun:test'
import { Database } from 'bun:sqlite'
import { join } from 'node:path'
import { waitFor } from '../support/events'
import { readSse } from '../support/sse'
import {
  ingest,
  Node,
  plainKafka,
  readTopic,
  skipWithoutOwnBroker,
  tempDir,
  useDedicatedBroker,
  waitUntilDrained,
} from '../integration/support'

// A stream client cut off mid-run (once by itself, once by a SIGKILL of the node) resumes with
// Last-Event-ID each time and ends with exactly the events of the log: none missing, none twice.
// The events are manual dispatch writes (POST /api/v1/dispatch) arriving while it streams.
const TOTAL = 2400
const CUT_AT = 400
const KILL_AT = 1200

/** One stream client that reconnects with its last id until told to stop. */
function resumingClient(base: () => string) {
  const received: string[] = []
  let lastId: string | undefined
  let connections = 0
  let current: ReturnType<typeof readSse> | undefined
  let stopped = false
  const connect = async () => {
    const headers: Record<string, string> = lastId ? { 'Last-Event-ID': lastId } : {}
    const response = await fetch(`${base()}/api/v1/stream?stream=dispatch`, { headers })
    if (response.status !== 200) throw new Error(`stream answered ${response.status}`)
    connections++
    const sse = readSse(response.body!)
    current = sse
    let seen = 0
    const follow = setInterval(() => {
      for (; seen < sse.events.length; seen++) {
        const event = sse.events[seen]!
        expect(event.event).toBe('MarketDispatchEvent')
        received.push(JSON.parse(event.data).event_id)
        lastId = event.id
      }
    }, 5)
    await sse.done
    clearInterval(follow)
    for (; seen < sse.events.length; seen++) {
      received.push(JSON.parse(sse.events[seen]!.data).event_id)
      lastId = sse.events[seen]!.id
    }
  }
  const loop = (async () => {
    while (!stopped) {
      await connect().catch(() => Bun.sleep(100))
    }
  })()
  return {
    received,
    connections: () => connections,
    cut: () => current?.cancel(),
    async stop() {
      stopped = true
      await current?.cancel()
      await loop
    },
  }
}

async function streamThroughCrash(node: Node, logEventIds: () => Promise<string[]>) {
  await node.start()
  const client = resumingClient(() => node.base)
  await waitFor(() => client.connections() === 1, 'the first connection')
  const all = Array.from({ length: TOTAL }, (_, k) => k)
  const first = ingest(node.base, all, { concurrency: 8, ratePerSecond: 200 })

  await waitFor(() => client.received.length >= CUT_AT, 'events before the cut', 60_000)
  await client.cut()
  await waitFor(() => client.received.length >= KILL_AT, 'events before the kill', 60_000)
  node.kill('SIGKILL')
  const phase1 = await first
  await node.exited()

  await node.start()
  // What never got an answer is sent again (same body, same event id), then the rest.
  await ingest(node.base, [...phase1.unanswered, ...phase1.notSent], { concurrency: 8 })
  await waitUntilDrained(node, 90_000)
  const expected = (await logEventIds()).sort()
  await waitFor(
    () => client.received.length >= expected.length,
    `the stream reaching the log's ${expected.length} events`,
    60_000
  )
  await Bun.sleep(500) // anything beyond the log would show now
  await client.stop()
  node.kill('SIGTERM')
  await node.exited()

  expect(client.connections()).toBeGreaterThanOrEqual(3)
  expect(expected.length).toBeGreaterThanOrEqual(TOTAL)
  expect([...client.received].sort()).toEqual(expected)
}

describe('the live stream resumes across a cut and a SIGKILL (embedded log)', () => {
  test('the client ends with exactly the events of the log', async () => {
    const dir = tempDir('stream-embedded')
    const node = new Node({ brokers: '', nodeId: 'stream-1', dataDir: dir.path })
    try {
      await streamThroughCrash(node, async () => {
        const log = new Database(join(dir.path, 'log.sqlite'), { readonly: true })
        try {
          return (
            log.query("SELECT value FROM log_messages WHERE topic = 'market.dispatch'").all() as {
              value: string
            }[]
          ).map((r) => JSON.parse(r.value).event_id)
        } finally {
          log.close()
        }
      })
    } finally {
      node.kill()
      dir.remove()
    }
  }, 240_000)
})

const skipKafka = skipWithoutOwnBroker(
  'stream resume over Kafka (tests/process/stream-resume.test.ts)'
)

describe.skipIf(skipKafka)('the live stream resumes across a cut and a SIGKILL (Kafka)', () => {
  const { dir, nodes, broker } = useDedicatedBroker('stream')

  test('the client ends with exactly the events of the log', async () => {
    const node = new Node({
      brokers: broker().brokers,
      nodeId: 'stream-1',
      dataDir: join(dir.path, 'node'),
    })
    nodes.push(node)
    await streamThroughCrash(node, async () => {
      const kafka = plainKafka([broker().brokers])
      const admin = kafka.admin()
      await admin.connect()
      const ends = await admin.fetchTopicOffsets('market.dispatch')
      await admin.disconnect()
      const count = ends.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0)
      const messages = await readTopic(kafka, 'market.dispatch', count, 60_000)
      return messages.map((m) => JSON.parse(m.value).event_id)
    })
  }, 300_000)
})
