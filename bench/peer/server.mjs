// The automerge-repo sync server: the peer `cargo xtask bench sync` compares Doorstep's hub with.
//
//   node bench/peer/server.mjs <port> [storage-dir]
//
// A Repo with NodeFS storage (in <storage-dir>, or a fresh temp dir removed on exit) and the
// WebSocket server adapter on 127.0.0.1:<port>. Prints "listening <port> <storage-dir>" on stdout
// when ready; exits on SIGTERM/SIGINT, or when stdin is a pipe and
// it closes.
//
// Share configuration: `access` accepts every peer for every document (it stores and serves
// whatever it is sent or asked for by id); `announce` is false, so it does not push every
// document it holds to every connected peer. This is what automerge-repo's own sync server
// does (`sharePolicy: async () => false`). With announce=true every carer would receive every
// other carer's notes (50 × 2,800 documents), which neither the workload nor Doorstep does.
// Set PEER_ANNOUNCE=1 to see that behaviour anyway.

import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { Repo } from "@automerge/automerge-repo"
import { NodeWSServerAdapter } from "@automerge/automerge-repo-network-websocket"
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs"
import { WebSocketServer } from "ws"

const port = Number(process.argv[2])
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error("usage: node server.mjs <port> [storage-dir]")
  process.exit(2)
}
const ownDir = process.argv[3] === undefined
const dir = ownDir ? fs.mkdtempSync(path.join(os.tmpdir(), "am-sync-server-")) : process.argv[3]
fs.mkdirSync(dir, { recursive: true })

const announce = process.env.PEER_ANNOUNCE === "1"
// ws's server does not negotiate permessage-deflate unless asked (false is its default, and
// automerge-repo does not ask); stated here so a default change cannot move the byte counts.
// PEER_DEFLATE=1 turns it on (the carers' ws clients offer it), to see what compression buys.
const deflate = process.env.PEER_DEFLATE === "1"
const wss = new WebSocketServer({ host: "127.0.0.1", port, perMessageDeflate: deflate })
const repo = new Repo({
  network: [new NodeWSServerAdapter(wss)],
  storage: new NodeFSStorageAdapter(dir),
  peerId: `sync-server-${os.hostname()}`,
  shareConfig: {
    announce: async () => announce,
    access: async () => true,
  },
})

let stopping = false
async function stop(code = 0) {
  if (stopping) return
  stopping = true
  // Best effort, and never more than a second: the benchmark has read what it needs by now.
  await Promise.race([repo.flush().catch(() => {}), new Promise(r => setTimeout(r, 1000))])
  wss.close()
  if (ownDir) fs.rmSync(dir, { recursive: true, force: true })
  process.exit(code)
}
process.on("SIGTERM", () => void stop(0))
process.on("SIGINT", () => void stop(0))
// When started with a pipe on stdin (as xtask does), the server also goes when its parent does.
if (fs.fstatSync(0).isFIFO()) {
  process.stdin.on("end", () => void stop(0))
  process.stdin.resume()
}

wss.on("error", err => {
  console.error(`server: ${err.message}`)
  void stop(1)
})
wss.on("listening", () => {
  process.stdout.write(`listening ${port} ${dir}\n`)
})
