/**
 * A Worker holding many SSE client sockets for `bench/stream.ts`, so that reading 1,000 streams
 * is spread over threads and the readers' own queueing does not pass for delivery latency.
 * Messages in: {open: {port, path, count}}, 'collect', 'close'. Out: {opened}, {latencies, events}.
 */
import { connect, type Socket } from 'node:net'

declare const self: Worker

const sockets: Socket[] = []
let latencies: number[] = []
let events = 0

function open(port: number, path: string) {
  const socket = connect(port, '127.0.0.1')
  socket.setEncoding('utf8')
  let buffer = ''
  let opened = false
  socket.on('data', (chunk: string) => {
    const at = Date.now()
    if (!opened) {
      opened = true
      self.postMessage({ opened: 1 })
    }
    buffer += chunk
    let cut = buffer.indexOf('\n\n')
    while (cut >= 0) {
      const ingested = buffer.slice(0, cut).match(/"ingested_at":"([^"]+)"/)
      buffer = buffer.slice(cut + 2)
      if (ingested) {
        events++
        latencies.push(at - Date.parse(ingested[1]!))
      }
      cut = buffer.indexOf('\n\n')
    }
  })
  socket.on('error', () => {})
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`)
  sockets.push(socket)
}

self.onmessage = (message: MessageEvent) => {
  const data = message.data
  if (data === 'collect') {
    self.postMessage({ latencies, events })
    latencies = []
    events = 0
  } else if (data === 'close') {
    for (const s of sockets) s.destroy()
    sockets.length = 0
    self.postMessage({ closed: true })
  } else if (data.open) {
    for (let i = 0; i < data.open.count; i++) open(data.open.port, data.open.path)
  }
}
