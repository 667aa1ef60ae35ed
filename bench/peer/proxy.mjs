// A counting TCP proxy, run as a worker thread by clients.mjs (its own event loop, so it does
// not wait behind the simulated carers' work). Every carer's WebSocket connects here; each
// connection is piped to the sync server unchanged.
//
// Counters (a shared BigInt64Array, written here with Atomics, read by clients.mjs):
//   [0] raw TCP bytes client → server   (HTTP upgrade, WebSocket frame headers and masks,
//                                        payloads, control frames: everything)
//   [1] raw TCP bytes server → client
//   [2] WebSocket data-frame payload bytes client → server (opcodes 0/1/2: the automerge-repo
//       messages themselves, CBOR-encoded, without framing; ping/pong/close excluded)
//   [3] WebSocket data-frame payload bytes server → client
//   [4] data frames client → server
//   [5] data frames server → client
//   [6] connections accepted
// The payload counts come from parsing the WebSocket frame headers as the bytes pass through
// (RFC 6455 §5.2). Unless the server is started with PEER_DEFLATE=1, no extension is
// negotiated, so the payload bytes are exactly what automerge-repo handed to the socket; with
// it, they are the compressed bytes. PEER_TRACE=1 in the environment logs every frame (time,
// direction, opcode, payload length) to stderr, for looking at the message flow of a small run.

import net from "node:net"
import { parentPort, workerData } from "node:worker_threads"

const { targetPort, counters } = workerData
const C = new BigInt64Array(counters)
const add = (i, n) => Atomics.add(C, i, BigInt(n))

const CRLF2 = Buffer.from("\r\n\r\n")

/** Follows one direction of a WebSocket connection; onFrame(opcode, payloadLength) per frame. */
function frameReader(onFrame) {
  let inHttp = true
  let httpTail = Buffer.alloc(0) // the last bytes of the handshake seen so far
  let header = [] // bytes of the frame header being read
  let skip = 0 // payload bytes still to pass
  return chunk => {
    let i = 0
    while (i < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - i)
        skip -= n
        i += n
        continue
      }
      if (inHttp) {
        const joined = Buffer.concat([httpTail, chunk.subarray(i)])
        const at = joined.indexOf(CRLF2)
        if (at < 0) {
          httpTail = joined.subarray(Math.max(0, joined.length - 3))
          return
        }
        i += at + 4 - httpTail.length
        inHttp = false
        continue
      }
      header.push(chunk[i++])
      if (header.length < 2) continue
      const len7 = header[1] & 0x7f
      const ext = len7 === 126 ? 2 : len7 === 127 ? 8 : 0
      const need = 2 + ext + (header[1] & 0x80 ? 4 : 0)
      if (header.length < need) continue
      let len = len7
      if (ext === 2) len = (header[2] << 8) | header[3]
      else if (ext === 8) len = Number(Buffer.from(header.slice(2, 10)).readBigUInt64BE())
      onFrame(header[0] & 0x0f, len)
      header = []
      skip = len
    }
  }
}

const T0 = Date.now()
const counted = (bytes, frames) => (opcode, len) => {
  if (process.env.PEER_TRACE) console.error(`${Date.now() - T0}ms ${bytes === 2 ? "up  " : "down"} op=${opcode} ${len}`)
  if (opcode <= 2) {
    add(bytes, len)
    add(frames, 1)
  }
}

const server = net.createServer({ noDelay: true }, client => {
  add(6, 1)
  const upstream = net.connect({ host: "127.0.0.1", port: targetPort, noDelay: true })
  const up = frameReader(counted(2, 4))
  const down = frameReader(counted(3, 5))
  client.on("data", chunk => {
    add(0, chunk.length)
    up(chunk)
    if (!upstream.write(chunk)) {
      client.pause()
      upstream.once("drain", () => client.resume())
    }
  })
  upstream.on("data", chunk => {
    add(1, chunk.length)
    down(chunk)
    if (!client.write(chunk)) {
      upstream.pause()
      client.once("drain", () => upstream.resume())
    }
  })
  client.on("end", () => upstream.end())
  upstream.on("end", () => client.end())
  client.on("error", () => upstream.destroy())
  upstream.on("error", () => client.destroy())
  client.on("close", () => upstream.destroy())
  upstream.on("close", () => client.destroy())
})

server.listen(0, "127.0.0.1", () => parentPort.postMessage({ port: server.address().port }))
