//! The hub's enrolment-code key: enrolment codes are stored as HMAC-SHA256 under this key, so a
//! copy of the database alone (a backup, a leaked dump) does not let anyone test guesses of the
//! 60-bit codes offline. 32 random bytes in a file of mode 0600 in the hub's data directory,
//! created on first start; never logged (its `Debug` says nothing).
//!
//! Where: beside an SQLite database (`hub.db` → `hub.db.code-key`); with PostgreSQL,
//! `DOORSTEP_CODE_KEY_FILE` or `doorstep-hub.code-key` in the working directory (the state
//! directory under systemd). Every hub process sharing a database needs the same file.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::Sha256;

const KEY_LEN: usize = 32;

/// The environment variable naming the key file of a hub on PostgreSQL.
pub const CODE_KEY_FILE_ENV: &str = "DOORSTEP_CODE_KEY_FILE";

#[derive(Clone)]
pub struct CodeKey([u8; KEY_LEN]);

impl std::fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeKey(…)")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the enrolment code key {}: {why}", path.display())]
pub struct CodeKeyError {
    pub path: PathBuf,
    pub why: String,
}

impl CodeKey {
    /// A key of its own, kept nowhere: for a storage that no other process shares.
    pub fn ephemeral() -> CodeKey {
        CodeKey(rand::random())
    }

    /// Reads the key at `path`, or creates it (mode 0600, from the operating system's random
    /// source through `rand`) if there is none.
    pub fn load_or_create(path: &Path) -> Result<CodeKey, CodeKeyError> {
        let fail = |why: String| CodeKeyError { path: path.to_path_buf(), why };
        match create(path) {
            Ok(key) => {
                tracing::info!(path = %path.display(), "created the enrolment code key");
                return Ok(key);
            }
            // Made before, or by another hub process starting at the same moment.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(fail(format!("cannot create it: {e}"))),
        }
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .map_err(|e| fail(format!("cannot read it: {e}")))?;
        let key: [u8; KEY_LEN] = bytes.try_into().map_err(|b: Vec<u8>| {
            fail(format!("it holds {} bytes, not {KEY_LEN}: restore it from a backup, or delete it to make a new one (codes not yet used then stop working)", b.len()))
        })?;
        Ok(CodeKey(key))
    }

    /// The code as stored: HMAC-SHA256 of its letters and digits, upper-cased (case and
    /// separators do not matter when typed).
    pub fn code_hash(&self, code: &str) -> Vec<u8> {
        let normal: String =
            code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect();
        // HMAC takes a key of any length: this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC accepts a 32-byte key");
        mac.update(normal.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

/// The key file beside an SQLite database.
pub fn beside(database: &Path) -> PathBuf {
    let mut name = database.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".code-key");
    database.with_file_name(name)
}

/// The key file of a hub on PostgreSQL.
pub fn for_postgres() -> PathBuf {
    std::env::var_os(CODE_KEY_FILE_ENV)
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from("doorstep-hub.code-key"), PathBuf::from)
}

fn create(path: &Path) -> std::io::Result<CodeKey> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    let key = CodeKey(rand::random());
    file.write_all(&key.0)?;
    file.sync_all()?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_is_made_once_with_mode_0600_and_read_back() {
        let dir = tempfile::tempdir().expect("a directory");
        let path = beside(&dir.path().join("hub.db"));
        assert_eq!(path.file_name().and_then(|n| n.to_str()), Some("hub.db.code-key"));
        let made = CodeKey::load_or_create(&path).expect("made");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("metadata").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let read = CodeKey::load_or_create(&path).expect("read");
        assert_eq!(made.code_hash("ABCD-EFGH-JKLM"), read.code_hash("abcd efgh jklm"));
        assert_ne!(made.code_hash("ABCD-EFGH-JKLM"), CodeKey::ephemeral().code_hash("ABCD-EFGH-JKLM"));
        assert_eq!(format!("{made:?}"), "CodeKey(…)");
        std::fs::write(&path, b"short").expect("write");
        let err = CodeKey::load_or_create(&path).expect_err("5 bytes");
        assert!(err.to_string().contains("5 bytes"), "{err}");
    }
}
