import { describe, expect, test } from 'bun:test'
import { UpstreamError } from '@/lib'
import { httpGet, shortUrl } from './http'

/** A loopback port with nothing listening: bind to 0, read it back, release it. */
function closedPort(): number {
  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response() })
  const port = server.port!
  server.stop(true)
  return port
}

const failure = async (promise: Promise<unknown>): Promise<UpstreamError> => {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(UpstreamError)
    return error as UpstreamError
  }
  throw new Error('expected a failure')
}

describe('httpGet failure classes', () => {
  const query = `?latitude=${Array(40).fill('-33.87').join(',')}&current=temperature_2m`

  test('nothing listening is unreachable, and the message names host/path without the query', async () => {
    const url = `http://127.0.0.1:${closedPort()}/v1/forecast${query}`
    const error = await failure(httpGet(url, { attempts: 2, baseDelayMs: 1 }))
    expect(error.reason).toBe('unreachable')
    expect(error.retryable).toBe(true)
    expect(error.message).toStartWith(`GET ${shortUrl(url)} failed:`)
    expect(error.message).not.toContain('latitude')
  })

  test('an answer slower than the per-attempt timeout is a timeout', async () => {
    const server = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: async () => {
        await Bun.sleep(2_000)
        return new Response('late')
      },
    })
    try {
      const error = await failure(
        httpGet(`${server.url}slow`, { attempts: 1, timeoutMs: 50, baseDelayMs: 1 })
      )
      expect(error.reason).toBe('timeout')
      expect(error.message).toContain('timed out')
    } finally {
      server.stop(true)
    }
  })

  test('a retryable status on the last attempt is returned for the caller to judge', async () => {
    const server = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: () => new Response('busy', { status: 503 }),
    })
    try {
      const result = await httpGet(`${server.url}x`, { attempts: 2, baseDelayMs: 1 })
      expect(result.status).toBe(503)
    } finally {
      server.stop(true)
    }
  })
})

test('shortUrl keeps host and path only', () => {
  expect(shortUrl('https://api.open-meteo.com/v1/forecast?latitude=1,2,3')).toBe(
    'api.open-meteo.com/v1/forecast'
  )
  expect(shortUrl('not a url')).toBe('not a url')
})
