import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openProjectionDb } from '@/projection'
import { hasKeysTable, writeProjectionWithKeys } from '../../tests/support/legacy-keys'
import { mintKey, parseKey } from './key-format'
import { openKeyStore } from './key-store'

const root = mkdtempSync(join(tmpdir(), 'gridpulse-access-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
const dir = () => mkdtempSync(join(root, 'node-'))

describe('key format', () => {
  test('a minted key parses back to its parts; anything else does not parse', () => {
    const { id, secret, key } = mintKey()
    expect(key).toStartWith('gpk_')
    expect(parseKey(key)).toEqual({ id, secret })
    for (const bad of ['', 'gpk_zzz', key.slice(0, -1), `${key}x`, key.replace('gpk_', 'gpx_')])
      expect(parseKey(bad)).toBeUndefined()
  })
})

describe('key store', () => {
  test('a created key verifies with its consumer and scope until it is revoked', () => {
    const store = openKeyStore(':memory:')
    const { key, info } = store.create('risk', 'write', Date.parse('2026-04-01T00:00:00Z'))
    expect(store.verify(key)).toEqual({ id: info.id, consumer: 'risk', scope: 'write' })
    // The right id with another secret of the right shape.
    expect(store.verify(`${key.slice(0, 17)}${mintKey().secret}`)).toBeUndefined()
    expect(store.list()).toEqual([
      { ...info, createdAt: '2026-04-01T00:00:00.000Z', revokedAt: null },
    ])
    expect(store.revoke(info.id, Date.parse('2026-04-02T00:00:00Z'))).toBe(true)
    expect(store.revoke('000000000000')).toBe(false)
    expect(store.verify(key)).toBeUndefined()
    expect(store.list()[0]!.revokedAt).toBe('2026-04-02T00:00:00.000Z')
    expect(store.count()).toBe(1)
    store.close()
  })

  test('a key revoked by another process fails on the next request, though it verified before', () => {
    const path = join(dir(), 'access.sqlite')
    const serving = openKeyStore(path)
    const cli = openKeyStore(path)
    const { key, info } = serving.create('risk', 'read')
    expect(serving.verify(key)?.consumer).toBe('risk')
    expect(serving.verify(key)?.consumer).toBe('risk')
    expect(cli.revoke(info.id)).toBe(true)
    expect(serving.verify(key)).toBeUndefined()
    // A key created elsewhere verifies at once too.
    const other = cli.create('ops', 'write')
    expect(serving.verify(other.key)?.scope).toBe('write')
    serving.close()
    cli.close()
  })

  test('keys are kept in access.sqlite across reopening, with no projection.sqlite to carry from', () => {
    const d = dir()
    const first = openKeyStore(join(d, 'access.sqlite'), {
      carryOverFrom: join(d, 'projection.sqlite'),
    })
    const { key } = first.create('analytics', 'read')
    first.close()
    const again = openKeyStore(join(d, 'access.sqlite'), {
      carryOverFrom: join(d, 'projection.sqlite'),
    })
    expect(again.verify(key)?.consumer).toBe('analytics')
    expect(again.carriedOver).toBe(0)
    again.close()
  })
})

describe('carry-over from projection.sqlite', () => {
  test('keys a node kept in projection.sqlite work after its first start with access.sqlite', () => {
    const d = dir()
    const projection = join(d, 'projection.sqlite')
    const [reader, writer, revoked] = writeProjectionWithKeys(projection, [
      { consumer: 'analytics', scope: 'read' },
      { consumer: 'operations', scope: 'write' },
      { consumer: 'risk', scope: 'read', revoked: true },
    ])

    // First start, in main.ts's order: the key store first, then the projection and its migrations.
    const store = openKeyStore(join(d, 'access.sqlite'), { carryOverFrom: projection })
    openProjectionDb(projection).sqlite.close()

    expect(store.carriedOver).toBe(3)
    expect(store.verify(reader!)).toMatchObject({ consumer: 'analytics', scope: 'read' })
    expect(store.verify(writer!)).toMatchObject({ consumer: 'operations', scope: 'write' })
    expect(store.verify(revoked!)).toBeUndefined()
    expect(store.list().map((k) => [k.consumer, k.createdAt, k.revokedAt])).toEqual([
      ['analytics', '2026-03-01T00:00:00.000Z', null],
      ['operations', '2026-03-01T00:00:01.000Z', null],
      ['risk', '2026-03-01T00:00:02.000Z', '2026-03-01T00:00:02.500Z'],
    ])
    // The old copy is gone from the rebuildable file: a revoked key's hash does not linger there.
    expect(hasKeysTable(projection)).toBe(false)
    store.close()

    // A later start copies nothing again, and a rebuild (deleting projection.sqlite) loses nothing.
    rmSync(projection)
    const later = openKeyStore(join(d, 'access.sqlite'), { carryOverFrom: projection })
    expect(later.carriedOver).toBe(0)
    expect(later.verify(reader!)?.consumer).toBe('analytics')
    later.close()
  })

  test('an access.sqlite that already holds keys is not overwritten by the old copy', () => {
    const d = dir()
    const projection = join(d, 'projection.sqlite')
    const [old] = writeProjectionWithKeys(projection, [{ consumer: 'analytics', scope: 'read' }])
    const fresh = openKeyStore(join(d, 'access.sqlite'))
    const { key } = fresh.create('risk', 'read')
    fresh.close()

    const store = openKeyStore(join(d, 'access.sqlite'), { carryOverFrom: projection })
    expect(store.carriedOver).toBe(0)
    expect(store.verify(key)?.consumer).toBe('risk')
    expect(store.verify(old!)).toBeUndefined()
    store.close()
  })
})
