//! The real `doorstep-hub` binary as a child process (started, SIGKILLed, restarted on the same
//! file and port), devices enrolled with it, and the checks run on SQLite files afterwards.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use doorstep_hub::api::issue_enrolment_code;
use doorstep_hub::sqlite::SqliteStorage;
use doorstep_hub::storage::{HubStorage, OrgKind, Organisation};
use doorstep_model::{RecordKind, VisitNote};
use doorstep_protocol::Role;
use doorstep_store::{Store, StoreKey};
use doorstep_sync::{SyncClient, SyncError, SyncReport};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::Result;

pub use crate::target_dir;

/// The hub binary of the same build as this one.
pub fn build_hub() -> Result<PathBuf> {
    crate::sibling("doorstep-hub")
}

/// The flag a hub that refuses plain HTTP needs to serve it (a development flag), if it has one.
pub fn plain_http_flag(bin: &Path) -> Result<Option<String>> {
    let out = Command::new(bin)
        .args(["serve", "--help"])
        .output()
        .map_err(|e| format!("could not run {}: {e}", bin.display()))?;
    let help = String::from_utf8_lossy(&out.stdout);
    Ok(help
        .split(|c: char| c.is_whitespace() || c == ',' || c == '=')
        .find(|word| word.starts_with("--insecure"))
        .map(str::to_string))
}

/// Writes a provider and `count` managers' enrolment codes into the hub file before the hub
/// process opens it.
pub async fn prepare(db: &Path, count: usize) -> Result<Vec<String>> {
    let storage = SqliteStorage::open(db).map_err(|e| format!("hub database {}: {e}", db.display()))?;
    let provider = Uuid::new_v4();
    let org = Organisation { id: provider, name: "Chaos Care".into(), kind: OrgKind::Provider, partner_kind: None };
    storage.create_organisation(org).await.map_err(|e| e.to_string())?;
    let mut codes = Vec::new();
    for i in 0..count {
        let code = issue_enrolment_code(&storage, provider, &format!("M{i:03}"), Role::Manager, "chaos")
            .await
            .map_err(|e| format!("{e:?}"))?;
        codes.push(code.code);
    }
    Ok(codes)
}

pub struct HubProcess {
    bin: PathBuf,
    db: PathBuf,
    flag: Option<String>,
    log: PathBuf,
    child: Option<Child>,
    pub address: String,
    pub url: String,
    /// SIGKILLs sent to it.
    pub kills: usize,
}

impl HubProcess {
    /// Starts the hub on `db`, listening on a free loopback port.
    pub fn start(bin: &Path, db: &Path, flag: Option<String>) -> Result<HubProcess> {
        let mut hub = HubProcess {
            bin: bin.to_path_buf(),
            db: db.to_path_buf(),
            flag,
            log: db.with_extension("log"),
            child: None,
            address: "127.0.0.1:0".into(),
            url: String::new(),
            kills: 0,
        };
        hub.spawn()?;
        Ok(hub)
    }

    fn spawn(&mut self) -> Result {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| format!("{}: {e}", self.log.display()))?;
        let mut args = vec!["--database".to_string(), self.db.to_string_lossy().into_owned(), "serve".into()];
        args.extend(["--listen".to_string(), self.address.clone()]);
        args.extend(self.flag.clone());
        let mut child = Command::new(&self.bin)
            .args(&args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("could not start the hub: {e}"))?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            let _ = BufReader::new(stdout).read_line(&mut line);
        }
        let Some(url) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("the hub did not start (see {}): {line:?}", self.log.display()));
        };
        self.url = url.to_string();
        self.address = url.split("://").nth(1).unwrap_or(url).to_string();
        self.child = Some(child);
        Ok(())
    }

    /// SIGKILL: no shutdown, no flush, exactly like a power cut to the process.
    pub fn kill(&mut self) -> Result {
        if let Some(mut child) = self.child.take() {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("the hub had already stopped by itself ({status}): see {}", self.log.display()));
            }
            child.kill().map_err(|e| format!("could not kill the hub: {e}"))?;
            let _ = child.wait();
            self.kills += 1;
        }
        Ok(())
    }

    /// Starts it again on the same file and address (the port can take a moment to free).
    pub async fn restart(&mut self) -> Result {
        let mut last = String::new();
        for _ in 0..50 {
            match self.spawn() {
                Ok(()) => return Ok(()),
                Err(e) => last = e,
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(last)
    }

    /// Whether it is still running (it would have stopped by itself only on a crash).
    pub fn running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Panics the hub wrote to its log (stderr) over all its runs.
    pub fn panics_logged(&self) -> usize {
        std::fs::read_to_string(&self.log).map(|log| log.matches("panicked at").count()).unwrap_or(0)
    }

    /// Stops it for good (SIGKILL too: the checks that follow must hold after any stop).
    pub fn stop(mut self) -> Result {
        let crashed = !self.running() && self.child.is_some();
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if crashed { Err(format!("the hub stopped by itself: see {}", self.log.display())) } else { Ok(()) }
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The SQLCipher key of the stores that stand for the app's own (the app derives its key from
/// the PIN; any fixed key exercises the same encrypted file format).
pub const APP_KEY: [u8; 32] = [0x42; 32];

/// Opens a store as the app does (encrypted) when `key` is given, else a plain one.
pub fn open_store(path: &Path, key: Option<[u8; 32]>) -> Result<Store> {
    let opened = match key {
        Some(key) => Store::open_encrypted(path, &StoreKey::from_bytes(key)),
        None => Store::open(path),
    };
    opened.map_err(|e| format!("{}: {e}", path.display()))
}

/// A plain SQLite connection to a store file, keyed if it is encrypted (for the checks).
fn connect(path: &Path, key: Option<[u8; 32]>) -> Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if let Some(key) = key {
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        conn.execute_batch(&format!("PRAGMA key = \"x'{hex}'\";")).map_err(|e| e.to_string())?;
    }
    Ok(conn)
}

/// A device: its own store file, enrolled as a manager (who receives every record).
#[derive(Clone)]
pub struct Device {
    pub name: String,
    pub path: PathBuf,
    pub key: Option<[u8; 32]>,
    pub store: Arc<Mutex<Store>>,
    pub client: SyncClient,
}

impl Device {
    pub async fn enrol(path: &Path, key: Option<[u8; 32]>, url: &str, code: &str, name: &str) -> Result<Device> {
        let store = Arc::new(Mutex::new(open_store(path, key)?));
        doorstep_sync::enrol(&store, url, code, name).await.map_err(|e| format!("enrolling {name}: {e}"))?;
        let client = SyncClient::for_store(&store).await.map_err(|e| e.to_string())?;
        Ok(Device { name: name.into(), path: path.to_path_buf(), key, store, client })
    }

    /// Opens an enrolled store again (after another process wrote it).
    pub async fn reopen(path: &Path, key: Option<[u8; 32]>, name: &str) -> Result<Device> {
        let store = Arc::new(Mutex::new(open_store(path, key)?));
        let client = SyncClient::for_store(&store).await.map_err(|e| e.to_string())?;
        Ok(Device { name: name.into(), path: path.to_path_buf(), key, store, client })
    }

    pub async fn sync(&self) -> std::result::Result<SyncReport, SyncError> {
        self.client.sync(&self.store, |_| {}).await
    }

    /// Syncs until the hub has taken everything (retrying while it comes back).
    pub async fn sync_fully(&self) -> Result {
        let mut last = String::new();
        for _ in 0..50 {
            match self.sync().await {
                Ok(report) if !report.failed.is_empty() || report.held_back > 0 => {
                    return Err(format!("{}: the hub refused records: {report:?}", self.name));
                }
                Ok(_) => {
                    let state = self.store.lock().await.local_sync_state().map_err(|e| e.to_string())?;
                    if state.pending == 0 && state.held_back.is_empty() {
                        return Ok(());
                    }
                    last = format!("{} still waiting", state.pending);
                }
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!("{} could not finish syncing: {last}", self.name))
    }

    pub async fn narrative(&self, note_id: &str) -> Result<String> {
        let note: VisitNote = self.store.lock().await.get(note_id).map_err(|e| format!("{}: {e}", self.name))?;
        Ok(note.narrative)
    }

    /// Every document this device holds: id → (sorted heads, note text if a note).
    pub async fn documents(&self) -> Result<BTreeMap<String, (Vec<String>, Option<String>)>> {
        let rows: Vec<(String, String)> = {
            let conn = connect(&self.path, self.key)?;
            let mut stmt = conn.prepare("SELECT id, kind FROM documents").map_err(|e| e.to_string())?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(|rows| rows.collect::<rusqlite::Result<_>>())
                .map_err(|e| e.to_string())?
        };
        let store = self.store.lock().await;
        let mut out = BTreeMap::new();
        for (id, kind) in rows {
            let kind = RecordKind::from_code(&kind).ok_or_else(|| format!("unknown kind {kind}"))?;
            out.insert(id.clone(), document(&store, kind, &id)?);
        }
        Ok(out)
    }

    /// One document as [`Device::documents`] describes it.
    pub async fn document(&self, kind: RecordKind, id: &str) -> Result<(Vec<String>, Option<String>)> {
        document(&*self.store.lock().await, kind, id)
    }
}

fn document(store: &Store, kind: RecordKind, id: &str) -> Result<(Vec<String>, Option<String>)> {
    let mut heads: Vec<String> =
        store.heads(kind, id).map_err(|e| e.to_string())?.iter().map(|h| h.to_string()).collect();
    heads.sort();
    let text = match kind {
        RecordKind::Note => Some(store.get::<VisitNote>(id).map_err(|e| e.to_string())?.narrative),
        _ => None,
    };
    Ok((heads, text))
}

/// `PRAGMA integrity_check` of an SQLite file ("ok" when whole), keyed if encrypted.
pub fn integrity(db: &Path, key: Option<[u8; 32]>) -> Result<String> {
    let conn = connect(db, key)?;
    let mut stmt = conn.prepare("PRAGMA integrity_check").map_err(|e| e.to_string())?;
    let rows: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .and_then(|rows| rows.collect::<rusqlite::Result<_>>())
        .map_err(|e| e.to_string())?;
    Ok(rows.join("; "))
}

/// Changes the hub stored more than once (the same document and change hash twice).
pub fn hub_duplicates(db: &Path) -> Result<i64> {
    let conn = rusqlite::Connection::open(db).map_err(|e| format!("{}: {e}", db.display()))?;
    conn.query_row("SELECT COUNT(*) - COUNT(DISTINCT doc_id || ':' || hex(hash)) FROM changes", [], |r| r.get(0))
        .map_err(|e| e.to_string())
}

/// The bracketed markers in a note's text, each with how often it appears.
pub fn markers(text: &str) -> HashMap<&str, usize> {
    let mut out = HashMap::new();
    let mut rest = text;
    while let Some(start) = rest.find('[') {
        let Some(len) = rest[start..].find(']') else { break };
        *out.entry(&rest[start..=start + len]).or_insert(0) += 1;
        rest = &rest[start + len + 1..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::markers;

    #[test]
    fn markers_are_counted_whole_whatever_surrounds_them() {
        let found = markers("[r1e1] [r1e11][r1e1]  [f2e0 abc] [unclosed");
        assert_eq!(found.get("[r1e1]"), Some(&2));
        assert_eq!(found.get("[r1e11]"), Some(&1));
        assert_eq!(found.get("[f2e0 abc]"), Some(&1));
        assert_eq!(found.len(), 3);
    }
}
