import { expect, test } from 'bun:test'
import { createSourceRegistry, silentLogger } from '@/observability'
import { createPoller } from './poller'

test('a skipped cycle (a node that is not the leader) is not reported as a success', async () => {
  const status = createSourceRegistry().register('aemo.dispatchis', 10)
  const controller = new AbortController()
  let cycles = 0
  const poller = createPoller({
    status,
    everyMs: 1,
    log: silentLogger(),
    cycle: async () => {
      if (++cycles === 3) controller.abort()
      return { events: 0, rejected: 0, skipped: true }
    },
  })
  await poller.run(controller.signal)
  expect(cycles).toBe(3)
  expect(status).toMatchObject({ lastSuccessAt: null, lastAttemptAt: null, consecutiveFailures: 0 })
})

test('a failing cycle is counted and the loop keeps going', async () => {
  const status = createSourceRegistry().register('openmeteo.forecast', 10)
  const controller = new AbortController()
  let cycles = 0
  const poller = createPoller({
    status,
    everyMs: 1,
    log: silentLogger(),
    cycle: async () => {
      if (++cycles === 2) controller.abort()
      throw new Error('upstream down')
    },
  })
  await poller.run(controller.signal)
  expect(status).toMatchObject({
    consecutiveFailures: 2,
    lastError: 'upstream down',
    lastSuccessAt: null,
  })
})
