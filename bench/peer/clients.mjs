// The carers for the automerge-repo peer of `cargo xtask bench sync`: the same workload as
// Doorstep's own sync benchmark, run against bench/peer/server.mjs.
//
//   node bench/peer/clients.mjs --port P --storage DIR [--server-pid PID] [--carers N] [--notes M]
//                               [--timeout S]   (per phase; default 600)
//
// P and DIR are the sync server's port and storage directory (server.mjs prints both on its
// "listening" line); PID, if given, is used to read the server's peak RSS (VmHWM) at the end.
// Progress goes to stderr; the last (and only) line on stdout is one JSON object.
//
// What it does, and how it measures (see also README.md next to this file):
//
// - All N carers live in this one Node process, each a separate automerge-repo `Repo` with its
//   own peer id and its own storage (an in-memory storage adapter: persists across the
//   reconnect like a device's disk, without making the carers' side pay for 50 filesystems on a
//   2-core machine). While "offline" a Repo has no network adapter at all.
// - Each carer creates M documents shaped like Doorstep's VisitNote (`VisitNote::new`: ids,
//   an empty text `narrative`, empty lists, nulls), then types the note exactly as
//   `type_note` in xtask/src/bench_sync.rs does: 20 changes (`handle.change`), each appending
//   10 words (`word + " "`, word = WORDS[n % 31], n starting at the note's index, n += 7) with
//   Automerge's text splice, so `narrative` is an Automerge Text CRDT like Doorstep's.
// - Bytes on the wire: every carer's WebSocket goes through a counting TCP proxy (proxy.mjs,
//   in a worker thread). It counts raw TCP bytes both ways and, by following the WebSocket
//   frame headers, the payload bytes of data frames both ways. The reported `*_bytes` are the
//   payload bytes (the CBOR-encoded automerge-repo messages, both directions; compressed if the
//   server was started with PEER_DEFLATE=1), which is what Doorstep's figure counts for its
//   side (HTTP request + response bodies, no headers). The
//   raw TCP totals are reported too (`*_tcp_bytes`). A phase's bytes are counted from just
//   before the carers connect until the connections have been silent for 500 ms after
//   convergence, so trailing protocol messages are included.
// - Convergence: a carer's sync is complete when, for every document it has something new in,
//   the server has told it (through the sync protocol's own messages) that the server's heads
//   equal the carer's heads: automerge-repo records the heads the server reports in each sync
//   message (`handle.getSyncInfo(serverStorageId)`, emitted as "remote-heads"). Per-carer time
//   = from that carer's connect call until then (both phases feed p99_ms); `*_converge_s` =
//   from the first connect until the last carer completed.
// - Independently, the server's storage directory is read (files written by the server's
//   NodeFS storage adapter) and every document is loaded and its heads compared with the
//   carer's: `*_durable_s` is when all were on the server's disk (it includes the time this
//   check itself takes), and `lost` counts documents missing or different there at the end.
// - `full_push_saved_bytes`: sum of Automerge.save(doc).length over every note before the
//   push. `delta_new_changes_gzip_bytes`: per carer, Automerge.saveSince(doc, headsBefore) of
//   each edited note, concatenated, gzipped (level 6, as flate2's default), summed over carers.

import fs from "node:fs"
import path from "node:path"
import { performance } from "node:perf_hooks"
import { Worker } from "node:worker_threads"
import zlib from "node:zlib"
import { randomUUID } from "node:crypto"
import * as A from "@automerge/automerge"
import { Repo } from "@automerge/automerge-repo"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"

// ---------------------------------------------------------------------------------------------
// Arguments

function parseArgs(argv) {
  const out = { carers: 50, notes: 56, port: undefined, storage: undefined, serverPid: undefined, timeout: 600 }
  for (let i = 0; i < argv.length; i++) {
    const next = () => {
      const v = argv[++i]
      if (v === undefined) throw new Error(`${argv[i - 1]} takes a value`)
      return v
    }
    switch (argv[i]) {
      case "--carers": out.carers = Number(next()); break
      case "--notes": out.notes = Number(next()); break
      case "--port": out.port = Number(next()); break
      case "--storage": out.storage = next(); break
      case "--server-pid": out.serverPid = Number(next()); break
      case "--timeout": out.timeout = Number(next()); break
      default: throw new Error(`unknown argument ${argv[i]}`)
    }
  }
  if (!Number.isInteger(out.port) || !out.storage || !(out.carers > 0) || !(out.notes > 0)) {
    throw new Error(
      "usage: node clients.mjs --port P --storage DIR [--server-pid PID] [--carers N] [--notes M] [--timeout S]",
    )
  }
  return out
}

const args = parseArgs(process.argv.slice(2))
const log = (...m) => console.error("peer:", ...m)
const sleep = ms => new Promise(r => setTimeout(r, ms))
const now = () => performance.now()

// ---------------------------------------------------------------------------------------------
// A device's storage: in memory, per carer.

class MemoryStorage {
  #data = new Map()
  #key = k => k.join("\u0000")
  #under = (key, prefix) => {
    const p = this.#key(prefix)
    return key === p || key.startsWith(p + "\u0000")
  }
  async load(k) {
    return this.#data.get(this.#key(k))
  }
  async save(k, bytes) {
    this.#data.set(this.#key(k), bytes)
  }
  async remove(k) {
    this.#data.delete(this.#key(k))
  }
  async loadRange(prefix) {
    const out = []
    for (const [key, data] of this.#data) {
      if (this.#under(key, prefix)) out.push({ key: key.split("\u0000"), data })
    }
    return out
  }
  async removeRange(prefix) {
    for (const key of [...this.#data.keys()]) if (this.#under(key, prefix)) this.#data.delete(key)
  }
}

// ---------------------------------------------------------------------------------------------
// The workload, as in xtask/src/bench_sync.rs

const WORDS = [
  "Helped", "with", "a", "wash", "and", "dressing;", "ate", "most", "of", "breakfast", "and",
  "had", "tea.", "Chatted", "about", "the", "garden.", "Tablets", "taken", "with", "water.",
  "Skin", "intact,", "cream", "applied.", "Bins", "out,", "drink", "left", "in", "reach.",
]
const LATER = "Daughter visited later; all well."

/** VisitNote::new's shape: ids are scalar strings, `narrative` is text, the rest empty. */
function newNote() {
  return {
    id: new A.ImmutableString(randomUUID()),
    visit_id: new A.ImmutableString(randomUUID()),
    person_id: new A.ImmutableString(randomUUID()),
    narrative: "",
    soft_signs: [],
    food_fluid: { eating: null, drinking: null, detail: new A.ImmutableString("") },
    mood: null,
    vitals: null,
    authors: [],
  }
}

function typeNote(handle, seed) {
  let n = seed
  let length = 0 // tracked here: reading d.narrative.length materialises the text each time
  for (let save = 0; save < 20; save++) {
    handle.change(d => {
      for (let edit = 0; edit < 10; edit++) {
        const word = WORDS[n % WORDS.length] + " "
        A.splice(d, ["narrative"], length, 0, word)
        length += word.length
        n += 7
      }
    })
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

const sameSet = (a, b) => a.length === b.length && a.every(x => b.includes(x))
const includesAll = (theirs, mine) => mine.every(h => theirs.includes(h))

function percentile(samples, p) {
  const s = [...samples].sort((a, b) => a - b)
  return s.length ? s[Math.round((s.length - 1) * p)] : 0
}

/** CPU seconds (user + system) used so far by process `pid`, from /proc (Linux). */
function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return (Number(fields[11]) + Number(fields[12])) / 100 // utime, stime in USER_HZ (100 on Linux)
  } catch {
    return NaN
  }
}

function peakRssMb(pid) {
  try {
    const line = fs.readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find(l => l.startsWith("VmHWM:"))
    return Number(line.split(/\s+/)[1]) / 1024
  } catch {
    return null
  }
}

/** Does the server's storage directory hold `docId` with exactly `heads` (hex)? */
async function onServerDisk(docId, heads) {
  const base = path.join(args.storage, docId.slice(0, 2), docId.slice(2))
  const chunks = []
  for (const kind of ["snapshot", "incremental"]) {
    let names = []
    try {
      names = await fs.promises.readdir(path.join(base, kind))
    } catch {
      continue
    }
    for (const name of names) {
      try {
        chunks.push(await fs.promises.readFile(path.join(base, kind, name)))
      } catch {
        // removed by a compaction while we looked: the next pass will see the snapshot
      }
    }
  }
  if (chunks.length === 0) return false
  let doc
  try {
    doc = A.loadIncremental(A.init(), new Uint8Array(Buffer.concat(chunks)))
    return sameSet(A.getHeads(doc), heads)
  } catch {
    return false // a file caught half-written
  } finally {
    if (doc) A.free(doc)
  }
}

/** Polls the server's disk until every doc in `expected` (Map docId → hex heads) is there. */
async function waitOnDisk(expected, deadline) {
  const left = new Map(expected)
  for (;;) {
    const ids = [...left.keys()]
    for (let i = 0; i < ids.length; i += 64) {
      const batch = ids.slice(i, i + 64)
      const ok = await Promise.all(batch.map(id => onServerDisk(id, left.get(id))))
      batch.forEach((id, j) => ok[j] && left.delete(id))
    }
    if (left.size === 0 || now() > deadline) return left.size
    await sleep(50)
  }
}

// ---------------------------------------------------------------------------------------------
// Proxy

const counters = new SharedArrayBuffer(8 * 8)
const C = new BigInt64Array(counters)
const snapshot = () => Array.from({ length: 7 }, (_, i) => Number(Atomics.load(C, i)))

const proxy = new Worker(new URL("./proxy.mjs", import.meta.url), {
  workerData: { targetPort: args.port, counters },
})
const proxyPort = await new Promise((resolve, reject) => {
  proxy.once("message", m => resolve(m.port))
  proxy.once("error", reject)
})
const url = `ws://127.0.0.1:${proxyPort}`

// ---------------------------------------------------------------------------------------------
// The offline week

const setupStart = now()
const carers = []
for (let c = 0; c < args.carers; c++) {
  const repo = new Repo({
    storage: new MemoryStorage(),
    network: [],
    peerId: `carer-${String(c).padStart(3, "0")}-${randomUUID().slice(0, 8)}`,
    sharePolicy: async () => true, // a device offers everything it has to the server
  })
  const handles = []
  for (let i = 0; i < args.notes; i++) {
    const handle = repo.create(newNote())
    typeNote(handle, i)
    handles.push(handle)
  }
  carers.push({ repo, handles, adapter: undefined })
  // Let this carer's throttled saves and (peer-less) sync timers run before the next one types:
  // piling up every carer's timers first makes typing ~3× slower at 50 carers.
  await repo.flush()
  await sleep(150)
  if ((c + 1) % 10 === 0 && c + 1 < args.carers) log(`${c + 1} carers typed their notes`)
}
await Promise.all(carers.map(c => c.repo.flush()))
await sleep(300) // let the throttled saves and (peer-less) sync timers settle
const typedIn = (now() - setupStart) / 1000
const sampleLen = carers[0].handles[0].doc().narrative.length
log(`typed ${args.carers * args.notes} notes in ${typedIn.toFixed(1)} s (note 0 is ${sampleLen} characters)`)

let savedBytes = 0
for (const { handles } of carers) for (const h of handles) savedBytes += A.save(h.doc()).length

// ---------------------------------------------------------------------------------------------
// One reconnect of every carer at once

async function phase(name, pendingPerCarer) {
  const deadline = now() + args.timeout * 1000
  const before = snapshot()
  const cpuBefore = { server: cpuSeconds(args.serverPid), clients: cpuSeconds(process.pid) }
  const started = new Array(carers.length).fill(0)
  const finished = new Array(carers.length).fill(undefined)
  let remaining = carers.length
  let allDone
  const allDonePromise = new Promise(r => (allDone = r))
  const t0 = now()

  const expectedOnDisk = new Map()
  carers.forEach((carer, c) => {
    const pending = new Set(pendingPerCarer[c])
    const done = () => {
      finished[c] = now()
      if (--remaining === 0) allDone()
    }
    for (const handle of pending) {
      const mine = handle.heads()
      expectedOnDisk.set(handle.documentId, A.getHeads(handle.doc()))
      const onRemote = ({ heads }) => {
        if (!pending.has(handle) || !includesAll(heads, mine)) return
        pending.delete(handle)
        handle.off("remote-heads", onRemote)
        if (pending.size === 0) done()
      }
      handle.on("remote-heads", onRemote)
    }
    carer.finishIfEmpty = () => pending.size === 0 && done()
  })

  // All at once: each carer gets a fresh WebSocket adapter (automerge-repo connects it now).
  carers.forEach((carer, c) => {
    started[c] = now()
    carer.adapter = new WebSocketClientAdapter(url, 60_000)
    carer.repo.networkSubsystem.addNetworkAdapter(carer.adapter)
    carer.finishIfEmpty()
  })

  const timedOut = await Promise.race([allDonePromise.then(() => false), sleep(args.timeout * 1000).then(() => true)])
  const convergeS = ((timedOut ? now() : Math.max(...finished)) - t0) / 1000
  if (timedOut) log(`${name}: ${remaining} carers had not converged after ${args.timeout} s`)

  // In parallel: the server's disk, and the wire falling quiet.
  const disk = (async () => {
    const left = await waitOnDisk(expectedOnDisk, deadline)
    return { left, durableS: (now() - t0) / 1000 }
  })()
  const quiet = (async () => {
    let last = snapshot()
    let since = now()
    while (now() - since < 500 && now() < deadline) {
      await sleep(25)
      const s = snapshot()
      if (s[2] !== last[2] || s[3] !== last[3]) {
        last = s
        since = now()
      }
    }
    return last
  })()
  const [{ left, durableS }, after] = await Promise.all([disk, quiet])
  const d = i => after[i] - before[i]
  const serverCpuS = cpuSeconds(args.serverPid) - cpuBefore.server
  const clientsCpuS = cpuSeconds(process.pid) - cpuBefore.clients

  for (const carer of carers) {
    carer.repo.networkSubsystem.removeNetworkAdapter(carer.adapter)
    carer.adapter = undefined
  }
  await sleep(500) // let the server see the sockets close

  const perCarerMs = started.map((s, c) => ((finished[c] ?? now()) - s))
  const result = {
    bytes: d(2) + d(3),
    up: d(2),
    down: d(3),
    tcp: d(0) + d(1),
    frames: d(4) + d(5),
    connections: d(6),
    convergeS,
    durableS,
    notOnDisk: left,
    perCarerMs,
    timedOut,
    serverCpuS,
    clientsCpuS,
  }
  log(
    `${name}: ${result.bytes} payload bytes (${result.up} up, ${result.down} down) in ${result.frames} messages, ` +
      `${result.tcp} TCP bytes over ${result.connections} connections; converged in ${convergeS.toFixed(3)} s, ` +
      `on the server's disk by ${durableS.toFixed(3)} s` +
      (left ? ` (${left} documents NOT on disk)` : "") +
      `; CPU: server ${serverCpuS.toFixed(1)} s, carers + proxy ${clientsCpuS.toFixed(1)} s`,
  )
  return result
}

const push = await phase(
  "full push",
  carers.map(c => c.handles),
)

// 10% of the notes get one more edit, offline.
let newChangesGzip = 0
const edited = carers.map(({ handles }) => {
  const mine = []
  const changes = []
  handles.forEach((h, i) => {
    if (i % 10 !== 3) return
    const headsBefore = A.getHeads(h.doc())
    h.change(d => A.splice(d, ["narrative"], d.narrative.length, 0, LATER))
    changes.push(A.saveSince(h.doc(), headsBefore))
    mine.push(h)
  })
  if (changes.length) newChangesGzip += zlib.gzipSync(Buffer.concat(changes)).length
  return mine
})
await Promise.all(carers.map(c => c.repo.flush()))
await sleep(300)

const delta = await phase("delta", edited)

// Nothing lost: every note, as the carer has it, is on the server's disk.
const everything = new Map()
for (const { handles } of carers) for (const h of handles) everything.set(h.documentId, A.getHeads(h.doc()))
const lost = await waitOnDisk(everything, now()) // one pass
const rss = args.serverPid ? peakRssMb(args.serverPid) : null
log(`check: ${everything.size - lost} of ${everything.size} notes on the server's disk with the carers' heads`)
log(`clients process peak RSS ${(peakRssMb(process.pid) ?? 0).toFixed(1)} MB`)

const p99 = percentile([...push.perCarerMs, ...delta.perCarerMs], 0.99)
const round = (x, d) => Math.round(x * 10 ** d) / 10 ** d
const out = {
  carers: args.carers,
  notes: args.notes,
  full_push_bytes: push.bytes,
  full_push_saved_bytes: savedBytes,
  full_push_converge_s: round(push.convergeS, 3),
  delta_bytes: delta.bytes,
  delta_new_changes_gzip_bytes: newChangesGzip,
  delta_converge_s: round(delta.convergeS, 3),
  p99_ms: round(p99, 1),
  server_peak_rss_mb: rss === null ? null : round(rss, 1),
  lost,
  // Extras, for the record:
  full_push_tcp_bytes: push.tcp,
  delta_tcp_bytes: delta.tcp,
  full_push_messages: push.frames,
  delta_messages: delta.frames,
  full_push_durable_s: round(push.durableS, 3),
  delta_durable_s: round(delta.durableS, 3),
  full_push_server_cpu_s: round(push.serverCpuS, 2),
  delta_server_cpu_s: round(delta.serverCpuS, 2),
  full_push_clients_cpu_s: round(push.clientsCpuS, 2),
  delta_clients_cpu_s: round(delta.clientsCpuS, 2),
  edited_notes: edited.reduce((n, e) => n + e.length, 0),
  timed_out: push.timedOut || delta.timedOut,
}
process.stdout.write(JSON.stringify(out) + "\n")
await proxy.terminate()
process.exit(0)
