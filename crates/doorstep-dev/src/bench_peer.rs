//! The automerge-repo peer for `cargo xtask bench sync`: the same workload (N carers × M notes
//! typed offline, all reconnecting at once, then 10% of the notes edited once more and all
//! reconnecting again) run against automerge-repo's WebSocket sync server, so Doorstep's figures
//! have something to be compared with.
//!
//! The peer is Node.js code in `bench/peer/` (see its `README.md`): `server.mjs` is the sync
//! server (a `Repo` with NodeFS storage and the WebSocket server adapter), `clients.mjs` runs
//! every carer in one Node process through a counting proxy and prints one JSON line.
//! [`run_peer`] installs the pinned npm packages when needed (`npm ci`), starts the server,
//! runs the carers and returns their figures.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use crate::Result;

/// What the peer measured; the fields mean what the same words mean in `bench_sync`.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerFigures {
    /// WebSocket message payload bytes, both directions, all carers, during the full push.
    pub full_push_bytes: u64,
    /// Sum of `Automerge.save(doc).length` over every note before the push.
    pub full_push_saved_bytes: u64,
    /// From the first carer connecting until the server had acknowledged every carer's heads.
    pub full_push_converge_s: f64,
    /// As `full_push_bytes`, for the reconnect after 10% of the notes were edited once more.
    pub delta_bytes: u64,
    /// Per carer, the new changes (`Automerge.saveSince`) concatenated and gzipped; summed.
    pub delta_new_changes_gzip_bytes: u64,
    /// As `full_push_converge_s`, for the delta.
    pub delta_converge_s: f64,
    /// 99th percentile of per-carer sync times, both phases together.
    pub p99_ms: f64,
    /// The sync server process's peak resident memory (`VmHWM`).
    pub server_peak_rss_mb: f64,
    /// Notes missing from the server's storage, or there with other heads than the carer's.
    pub lost: u64,
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Runs `npm ci` in `bench/peer` unless `node_modules` is there and newer than the lockfile.
fn ensure_packages(dir: &Path) -> Result {
    let lock = modified(&dir.join("package-lock.json"))
        .ok_or_else(|| format!("{} is missing", dir.join("package-lock.json").display()))?;
    // npm rewrites node_modules/.package-lock.json on every install; the directory itself is the
    // fallback for a tree installed some other way.
    let installed =
        modified(&dir.join("node_modules/.package-lock.json")).or_else(|| modified(&dir.join("node_modules")));
    if installed.is_some_and(|at| at >= lock) {
        return Ok(());
    }
    eprintln!("$ (cd {} && npm ci --no-audit --no-fund)", dir.display());
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(std::io::stderr()) // keep stdout for the benchmark's own lines
        .status()
        .map_err(|e| format!("could not start npm (Node.js 20+ and npm are needed for the peer): {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`npm ci` in {} failed ({status})", dir.display())) }
}

/// Peak resident memory of a process, from /proc (Linux).
fn peak_rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse::<f64>().ok().map(|kb| kb / 1024.0)
}

/// The sync server; killed (and reaped) when dropped, whatever happened.
struct ServerProcess(Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `server.mjs` on `port` with its storage in `storage`; returns once it is listening.
fn start_server(dir: &Path, port: u16, storage: &Path) -> Result<ServerProcess> {
    let child = Command::new("node")
        .arg(dir.join("server.mjs"))
        .arg(port.to_string())
        .arg(storage)
        // A pipe on stdin: the server also exits when this process does, even if killed.
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start node (Node.js 20+ is needed for the peer): {e}"))?;
    let mut server = ServerProcess(child);
    let stdout = server.0.stdout.take().ok_or("the server's stdout was not captured")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break; // nobody listens any more; the server prints nothing else anyway
            }
        }
    });
    loop {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) if line.starts_with("listening ") => return Ok(server),
            Ok(_) => {}
            Err(mpsc::RecvTimeoutError::Timeout) => return Err("the peer sync server did not start in 30 s".into()),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = server.0.wait().map(|s| s.to_string()).unwrap_or_default();
                return Err(format!("the peer sync server exited before listening ({status})"));
            }
        }
    }
}

fn u64_field(json: &serde_json::Value, name: &str) -> Result<u64> {
    json[name].as_u64().ok_or_else(|| format!("the peer's result has no whole number `{name}`: {json}"))
}

fn f64_field(json: &serde_json::Value, name: &str) -> Result<f64> {
    json[name].as_f64().ok_or_else(|| format!("the peer's result has no number `{name}`: {json}"))
}

/// Runs the peer workload: `carers` carers with `notes` notes each, against a fresh
/// automerge-repo sync server on 127.0.0.1. The carers' progress goes to stderr.
pub fn run_peer(carers: usize, notes: usize) -> Result<PeerFigures> {
    let text = |e: &dyn std::fmt::Display| e.to_string();
    let dir = crate::root().join("bench").join("peer");
    ensure_packages(&dir)?;
    let storage = tempfile::TempDir::new().map_err(|e| text(&e))?;
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| text(&e))?.port();
    let server = start_server(&dir, port, storage.path())?;
    let pid = server.0.id();

    let output = Command::new("node")
        .arg(dir.join("clients.mjs"))
        .args(["--port", &port.to_string(), "--server-pid", &pid.to_string()])
        .arg("--storage")
        .arg(storage.path())
        .args(["--carers", &carers.to_string(), "--notes", &notes.to_string()])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("could not start node for the peer's carers: {e}"))?;
    // Read before the server goes, in case the script could not.
    let rss_now = peak_rss_mb(pid);
    drop(server);
    if !output.status.success() {
        return Err(format!("the peer's carers failed ({})", output.status));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().rev().find(|l| !l.trim().is_empty()).ok_or("the peer's carers printed no result")?;
    let json: serde_json::Value =
        serde_json::from_str(line).map_err(|e| format!("the peer's result is not JSON ({e}): {line}"))?;
    if json["timed_out"].as_bool() == Some(true) {
        eprintln!("peer: a phase timed out; its figures are lower bounds");
    }
    let server_peak_rss_mb = match json["server_peak_rss_mb"].as_f64() {
        Some(mb) => mb,
        None => rss_now.ok_or("could not read the peer sync server's peak RSS")?,
    };
    Ok(PeerFigures {
        full_push_bytes: u64_field(&json, "full_push_bytes")?,
        full_push_saved_bytes: u64_field(&json, "full_push_saved_bytes")?,
        full_push_converge_s: f64_field(&json, "full_push_converge_s")?,
        delta_bytes: u64_field(&json, "delta_bytes")?,
        delta_new_changes_gzip_bytes: u64_field(&json, "delta_new_changes_gzip_bytes")?,
        delta_converge_s: f64_field(&json, "delta_converge_s")?,
        p99_ms: f64_field(&json, "p99_ms")?,
        server_peak_rss_mb,
        lost: u64_field(&json, "lost")?,
    })
}
