/** One Server-Sent Event as a client sees it (comments are counted, not kept). */
export interface SseEvent {
  readonly id?: string
  readonly event: string
  readonly data: string
}

/**
 * A minimal EventSource over a fetch body: it parses frames as they arrive (per the HTML
 * standard's SSE parsing, without the reconnect), so tests can read a stream event by event.
 */
export function readSse(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  const events: SseEvent[] = []
  let comments = 0
  let buffer = ''
  let ended = false
  let lastEventId: string | undefined
  const pump = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        buffer += decoder.decode(value, { stream: true })
        let cut = buffer.indexOf('\n\n')
        while (cut >= 0) {
          const block = buffer.slice(0, cut)
          buffer = buffer.slice(cut + 2)
          const parsed = parseBlock(block)
          if (parsed === 'comment') comments++
          else if (parsed) {
            if (parsed.id !== undefined) lastEventId = parsed.id
            events.push(parsed)
          }
          cut = buffer.indexOf('\n\n')
        }
      }
    } catch {
      // the connection was cut: what arrived stands
    } finally {
      ended = true
    }
  })()
  return {
    events,
    comments: () => comments,
    ended: () => ended,
    lastEventId: () => lastEventId,
    done: pump,
    async cancel() {
      await reader.cancel().catch(() => {})
      await pump
    },
  }
}

function parseBlock(block: string): SseEvent | 'comment' | undefined {
  let id: string | undefined
  let event = 'message'
  const data: string[] = []
  let onlyComments = true
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue
    onlyComments = false
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
    if (field === 'id') id = value
    else if (field === 'event') event = value
    else if (field === 'data') data.push(value)
  }
  if (onlyComments) return 'comment'
  if (data.length === 0) return undefined // retry: and the like
  return { id, event, data: data.join('\n') }
}
