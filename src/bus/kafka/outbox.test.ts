import { describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeEvent } from '../serde'
import { dispatchEvent } from '../../../tests/support/events'
import { newerCheckpoint } from './checkpoints'
import { createOutbox } from './outbox'
import { CHECKPOINT_TOPIC } from './topics'

const event = (i: number) =>
  dispatchEvent(
    'NSW1',
    'wind',
    new Date(Date.UTC(2026, 3, 1) + i * 300_000).toISOString().replace('.000Z', 'Z'),
    i
  )

describe('kafka outbox', () => {
  test('events and their source checkpoint commit together; the checkpoint row comes after the events', async () => {
    const outbox = createOutbox({ path: ':memory:', nodeId: 'n1', now: () => 1_000 })
    await outbox.append([event(1), event(2)].map(encodeEvent), {
      source: 'aemo.dispatchis',
      cursor: 'FILE_1.zip',
    })
    const rows = outbox.page(10)
    expect(rows.map((r) => r.topic)).toEqual([
      'market.dispatch',
      'market.dispatch',
      CHECKPOINT_TOPIC,
    ])
    expect(JSON.parse(rows[2]!.value)).toEqual({
      source: 'aemo.dispatchis',
      cursor: 'FILE_1.zip',
      updated_at: 1_000,
      node_id: 'n1',
    })
    expect(rows[2]!.key).toBe('aemo.dispatchis')
    expect(JSON.parse(rows[0]!.headers)).toMatchObject({
      'event-type': 'MarketDispatchEvent',
      'content-type': 'application/json',
    })
    expect(outbox.readCheckpoint('aemo.dispatchis')).toEqual({
      cursor: 'FILE_1.zip',
      updatedAt: 1_000,
    })
    expect(outbox.depth()).toBe(3)
  })

  test('a failing append leaves neither the events nor the checkpoint behind', async () => {
    const outbox = createOutbox({ path: ':memory:', nodeId: 'n1' })
    const bad = { ...encodeEvent(event(1)), value: null as unknown as string } // NOT NULL violation mid-transaction
    await expect(
      outbox.append([encodeEvent(event(0)), bad], { source: 's', cursor: 'c' })
    ).rejects.toThrow()
    expect(outbox.page(10)).toEqual([])
    expect(outbox.depth()).toBe(0)
    expect(outbox.readCheckpoint('s')).toBeUndefined()
  })

  test('pages are bounded and in order; removed rows never come back; depth survives a reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridpulse-outbox-'))
    const path = join(dir, 'log.sqlite')
    const outbox = createOutbox({ path, nodeId: 'n1' })
    await outbox.append(Array.from({ length: 25 }, (_, i) => encodeEvent(event(i))))
    const first = outbox.page(10)
    expect(first).toHaveLength(10)
    outbox.remove(first[9]!.id)
    expect(outbox.depth()).toBe(15)
    const second = outbox.page(10)
    expect(second[0]!.id).toBe(first[9]!.id + 1)
    outbox.close()
    const reopened = createOutbox({ path, nodeId: 'n1' })
    expect(reopened.depth()).toBe(15)
    expect(reopened.page(1)[0]!.id).toBe(second[0]!.id)
    reopened.close()
    rmSync(dir, { recursive: true })
  })

  test('depth counts rows another process appended to the same outbox (a backfill beside a node)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridpulse-outbox-'))
    const node = createOutbox({ path: join(dir, 'log.sqlite'), nodeId: 'n1' })
    const backfill = createOutbox({ path: join(dir, 'log.sqlite'), nodeId: 'n1-backfill' })
    await node.append([encodeEvent(event(1))])
    await backfill.append([encodeEvent(event(2)), encodeEvent(event(3))])
    expect(node.depth()).toBe(3)
    node.remove(node.page(10)[2]!.id)
    expect(backfill.depth()).toBe(0)
    node.close()
    backfill.close()
    rmSync(dir, { recursive: true })
  })

  test('the newer checkpoint wins, the local one on a tie', async () => {
    const local = { cursor: 'A', updatedAt: 10 }
    expect(newerCheckpoint(local, undefined)).toBe(local)
    expect(newerCheckpoint(undefined, local)).toBe(local)
    expect(newerCheckpoint(local, { cursor: 'B', updatedAt: 11 })?.cursor).toBe('B')
    expect(newerCheckpoint(local, { cursor: 'B', updatedAt: 10 })?.cursor).toBe('A')
    expect(newerCheckpoint(undefined, undefined)).toBeUndefined()
  })
})
