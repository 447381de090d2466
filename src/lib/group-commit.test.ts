import { describe, expect, test } from 'bun:test'
import { createGroupCommit } from './group-commit'

describe('group commit', () => {
  test('writes of one event-loop turn share one commit; a lone write commits alone', async () => {
    const commits: number[][] = []
    const write = createGroupCommit<number>({
      commitAll: (items) => {
        commits.push([...items])
      },
      commitOne: (item) => {
        commits.push([item])
      },
    })
    await Promise.all([1, 2, 3, 4].map(write))
    await write(5)
    expect(commits).toEqual([[1, 2, 3, 4], [5]])
  })

  test('a write that fails fails only its own caller; the others are committed', async () => {
    const committed: number[] = []
    const write = createGroupCommit<number>({
      commitAll: (items) => {
        if (items.includes(13)) throw new Error('constraint violated')
        committed.push(...items)
      },
      commitOne: (item) => {
        if (item === 13) throw new Error('constraint violated')
        committed.push(item)
      },
    })
    const results = await Promise.allSettled([12, 13, 14].map(write))
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    expect(committed).toEqual([12, 14])
  })
})
