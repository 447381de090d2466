import { expect, test } from 'bun:test'
import { filterTimeoutNegativeWarnings } from './warnings'

test('only TimeoutNegativeWarning is dropped, and the original listeners come back on release', () => {
  const seen: string[] = []
  const original = (w: Error) => seen.push(w.name)
  const before = process.listeners('warning')
  for (const l of before) process.off('warning', l)
  process.on('warning', original)
  try {
    const release = filterTimeoutNegativeWarnings()
    const releaseSecond = filterTimeoutNegativeWarnings()
    const timeout = Object.assign(new Error('-5 is a negative number'), {
      name: 'TimeoutNegativeWarning',
    })
    const other = Object.assign(new Error('something else'), { name: 'DeprecationWarning' })
    process.emit('warning', timeout)
    process.emit('warning', other)
    expect(seen).toEqual(['DeprecationWarning'])
    release()
    process.emit('warning', timeout)
    expect(seen).toEqual(['DeprecationWarning']) // still filtered: another bus is open
    releaseSecond()
    expect(process.listeners('warning')).toEqual([original])
    process.emit('warning', timeout)
    expect(seen).toEqual(['DeprecationWarning', 'TimeoutNegativeWarning'])
  } finally {
    process.off('warning', original)
    for (const l of before) process.on('warning', l)
  }
})
