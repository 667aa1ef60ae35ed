//! Encryption at rest: the device store is an SQLCipher database (AES-256, per-page HMAC)
//! opened with a raw 256-bit key, so SQLCipher's own password stretching is skipped — the key
//! is already the output of Argon2 over the carer's PIN and the device secret (see
//! `doorstep-device`).

use std::io::Read;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode};
use zeroize::{Zeroize, Zeroizing};

use crate::{Result, StoreError};

/// A 256-bit store key; wiped from memory when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreKey(Zeroizing<[u8; 32]>);

impl StoreKey {
    pub fn from_bytes(bytes: [u8; 32]) -> StoreKey {
        StoreKey(Zeroizing::new(bytes))
    }

    /// SQLCipher's raw-key literal, `x'…'` (64 hex digits), wiped when dropped.
    fn literal(&self) -> Zeroizing<String> {
        let mut text = String::with_capacity(67);
        text.push_str("x'");
        for byte in self.0.iter() {
            text.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
            text.push(char::from(b"0123456789abcdef"[usize::from(byte & 0xf)]));
        }
        text.push('\'');
        Zeroizing::new(text)
    }
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(…)")
    }
}

/// Waits until SQLCipher is ready to take a key.
///
/// SQLite marks itself initialised *before* it runs SQLCipher's own set-up
/// (`SQLITE_EXTRA_INIT`, outside SQLite's init mutex), so a thread opening its first connection
/// while another is still starting SQLite can key too early and fail with "An error occurred
/// with PRAGMA key" — seen in CI when two tests opened their first encrypted stores at once.
/// Every keyed open passes here; the first waits (briefly) until a throwaway in-memory
/// connection accepts a key, and the rest go straight through.
pub(crate) fn wait_until_ready() -> Result<()> {
    static READY: Mutex<bool> = Mutex::new(false);
    let mut ready = READY.lock().unwrap_or_else(|p| p.into_inner());
    if *ready {
        return Ok(());
    }
    let mut attempts = 0;
    loop {
        let probe = Connection::open_in_memory()?;
        match probe.execute_batch("PRAGMA cipher_log_level = NONE; PRAGMA key = 'probe';") {
            Ok(()) => break,
            // A few hundred milliseconds is far longer than SQLCipher's set-up takes.
            Err(_) if attempts < 50 => {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(e.into()),
        }
    }
    *ready = true;
    Ok(())
}

/// Keys `conn` and checks the key opens the file (SQLCipher only reads the first page when a
/// statement runs, so a wrong key shows itself here and not halfway through a migration).
pub(crate) fn apply_key(conn: &Connection, key: &StoreKey) -> Result<()> {
    // A wrong PIN is an expected event, reported to the carer; SQLCipher's own stderr log of
    // the failed page check would only be noise.
    conn.execute_batch("PRAGMA cipher_log_level = NONE;")?;
    let mut statement = format!("PRAGMA key = \"{}\";", key.literal().as_str());
    let keyed = conn.execute_batch(&statement);
    statement.zeroize();
    keyed?;
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0)) {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == ErrorCode::NotADatabase => Err(StoreError::WrongKey),
        Err(e) => Err(e.into()),
    }
}

/// Whether the file at `path` is an unencrypted SQLite database (an older Doorstep's store).
/// An encrypted file starts with random bytes, a plain one with SQLite's magic header.
pub fn is_plain_sqlite(path: &Path) -> std::io::Result<bool> {
    let mut header = [0u8; 16];
    let mut file = std::fs::File::open(path)?;
    match file.read_exact(&mut header) {
        Ok(()) => Ok(&header == b"SQLite format 3\0"),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

/// Rewrites the unencrypted store at `path` as an encrypted one under `key`, in place: the
/// encrypted copy is written beside it, synced, and renamed over the original, so a crash
/// leaves either the old file or the new one, never half of each.
pub fn encrypt_plain_file(path: &Path, key: &StoreKey) -> Result<()> {
    let encrypting = path.with_extension("encrypting");
    let _ = std::fs::remove_file(&encrypting);
    wait_until_ready()?;
    {
        let conn = Connection::open(path)?;
        // Fold the write-ahead log into the file first, so the export sees every commit.
        conn.pragma_update(None, "journal_mode", "DELETE")?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let target = encrypting.to_str().ok_or_else(|| StoreError::Encrypt("the store's path is not UTF-8".into()))?;
        conn.execute("ATTACH DATABASE ?1 AS encrypted KEY ?2", (target, key.literal().as_str()))?;
        conn.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
        // sqlcipher_export copies schema and rows, not the schema version the migrations read.
        conn.execute_batch(&format!("PRAGMA encrypted.user_version = {version}; DETACH DATABASE encrypted;"))?;
    }
    let io = |e: std::io::Error| StoreError::Encrypt(e.to_string());
    std::fs::File::open(&encrypting).and_then(|f| f.sync_all()).map_err(io)?;
    std::fs::rename(&encrypting, path).map_err(io)?;
    for leftover in ["-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(leftover);
        let _ = std::fs::remove_file(name);
    }
    if let Some(dir) = path.parent() {
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;
    use doorstep_model::{Person, PersonId};

    fn key(byte: u8) -> StoreKey {
        StoreKey::from_bytes([byte; 32])
    }

    fn raw_bytes(dir: &Path) -> Vec<u8> {
        let mut all = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            all.extend(std::fs::read(entry.unwrap().path()).unwrap());
        }
        all
    }

    fn contains(haystack: &[u8], needle: &str) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
    }

    /// A surname that appears nowhere else in the file.
    const SECRET_WORDS: &str = "Whitfieldshire";

    fn write_person(store: &mut Store) -> String {
        let person = Person::new(PersonId(uuid::Uuid::new_v4()), "P00001", "Agnes", SECRET_WORDS);
        store.put(&person).unwrap();
        person.id.to_string()
    }

    #[test]
    fn a_raw_copy_of_an_encrypted_store_holds_no_readable_words_and_a_wrong_key_opens_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.db");
        let id = {
            let mut store = Store::open_encrypted(&path, &key(7)).unwrap();
            write_person(&mut store)
        };
        assert!(!is_plain_sqlite(&path).unwrap());
        assert!(!contains(&raw_bytes(dir.path()), SECRET_WORDS), "the person's name is readable in the raw files");
        assert!(!contains(&raw_bytes(dir.path()), "CREATE TABLE"), "even the schema is hidden");

        assert!(matches!(Store::open_encrypted(&path, &key(8)), Err(StoreError::WrongKey)));
        assert!(Store::open(&path).is_err(), "opened without a key");
        let store = Store::open_encrypted(&path, &key(7)).unwrap();
        assert_eq!(store.get::<Person>(&id).unwrap().name.family, SECRET_WORDS);
    }

    /// SQLCipher's set-up races a process's first connections (see [`wait_until_ready`]), so
    /// this runs in fresh processes: the test binary again, where several threads open their
    /// first encrypted stores at the same moment.
    #[test]
    fn encrypted_stores_opened_at_once_by_a_fresh_process_all_open() {
        const CHILD: &str = "DOORSTEP_CIPHER_RACE_DIR";
        if let Some(dir) = std::env::var_os(CHILD) {
            let dir = std::path::PathBuf::from(dir);
            let start = std::sync::Arc::new(std::sync::Barrier::new(6));
            let threads: Vec<_> = (0..6u8)
                .map(|n| {
                    let (dir, start) = (dir.clone(), start.clone());
                    std::thread::spawn(move || {
                        start.wait();
                        Store::open_encrypted(dir.join(format!("{n}.db")), &key(n)).map(|_| ())
                    })
                })
                .collect();
            for thread in threads {
                thread.join().expect("no panic").expect("every store opens");
            }
            return;
        }
        let exe = std::env::current_exe().unwrap();
        for _ in 0..40 {
            let dir = tempfile::tempdir().unwrap();
            let out = std::process::Command::new(&exe)
                .args(["--exact", "cipher::tests::encrypted_stores_opened_at_once_by_a_fresh_process_all_open"])
                .env(CHILD, dir.path())
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
        }
    }

    #[test]
    fn a_plain_store_from_an_older_version_is_encrypted_in_place_with_nothing_lost() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("device.db");
        let id = {
            let mut store = Store::open(&path).unwrap();
            store.set_setting("staff_ref", "C001").unwrap();
            write_person(&mut store)
        };
        assert!(is_plain_sqlite(&path).unwrap());
        assert!(contains(&raw_bytes(dir.path()), SECRET_WORDS), "the test's plain store should be readable");

        encrypt_plain_file(&path, &key(3)).unwrap();
        assert!(!is_plain_sqlite(&path).unwrap());
        assert!(!contains(&raw_bytes(dir.path()), SECRET_WORDS));
        let store = Store::open_encrypted(&path, &key(3)).unwrap();
        assert_eq!(store.get::<Person>(&id).unwrap().name.family, SECRET_WORDS);
        assert_eq!(store.setting("staff_ref").unwrap().as_deref(), Some("C001"));
        assert!(matches!(Store::open_encrypted(&path, &key(4)), Err(StoreError::WrongKey)));
    }
}
