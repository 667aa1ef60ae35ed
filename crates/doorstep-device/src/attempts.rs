//! Wrong PINs in a row, kept in a small file beside the store (`doorstep.db` →
//! `doorstep.db.attempts`): it must be readable before a PIN has opened the encrypted store, and
//! a restart must not reset it. It holds no secret (a count and a time), so it is plain text.
//!
//! Every write goes to a new file that is flushed to disk and then renamed over the old one, so
//! a crash or power cut leaves the old count or the new one, never a torn file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use doorstep_commands::{AppError, ErrorCode};

/// The count as kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Count {
    /// Wrong PINs in a row, counting an attempt from before it is checked.
    pub wrong: u32,
    /// When the last of them was made (seconds since 1970), for the wait after a restart.
    pub last_at: u64,
}

pub(crate) struct Attempts {
    file: PathBuf,
}

impl Attempts {
    pub(crate) fn for_store(store_path: &Path) -> Attempts {
        let mut name = store_path.as_os_str().to_owned();
        name.push(".attempts");
        Attempts { file: PathBuf::from(name) }
    }

    /// The count so far: none when there is no file. A file that cannot be understood (changed
    /// by hand, a disk fault) counts as `damaged`, so spoiling it never buys free guesses.
    pub(crate) fn load(&self, damaged: u32) -> Result<Count, AppError> {
        let text = match std::fs::read_to_string(&self.file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Count::default()),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => String::new(),
            Err(e) => return Err(attempts_error(&self.file, e)),
        };
        Ok(parse(&text).unwrap_or_else(|| {
            tracing::warn!(file = %self.file.display(), "the wrong-PIN count is damaged: counting it as {damaged}");
            Count { wrong: damaged, last_at: now_secs() }
        }))
    }

    /// Keeps `count`, durably, before returning.
    pub(crate) fn save(&self, count: Count) -> Result<(), AppError> {
        let mut temporary = self.file.as_os_str().to_owned();
        temporary.push(".new");
        let temporary = PathBuf::from(temporary);
        let written = std::fs::File::create(&temporary)
            .and_then(|mut f| {
                writeln!(f, "wrong={} last_at={}", count.wrong, count.last_at)?;
                f.sync_all()
            })
            .and_then(|()| std::fs::rename(&temporary, &self.file))
            .and_then(|()| sync_parent(&self.file));
        written.map_err(|e| attempts_error(&self.file, e))
    }

    /// Back to none (the right PIN, or the store is gone).
    pub(crate) fn clear(&self) -> Result<(), AppError> {
        match std::fs::remove_file(&self.file) {
            Ok(()) => sync_parent(&self.file).map_err(|e| attempts_error(&self.file, e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(attempts_error(&self.file, e)),
        }
    }
}

fn parse(text: &str) -> Option<Count> {
    let mut fields = text.trim_end_matches('\n').split(' ');
    let wrong = fields.next()?.strip_prefix("wrong=")?.parse().ok()?;
    let last_at = fields.next()?.strip_prefix("last_at=")?.parse().ok()?;
    fields.next().is_none().then_some(Count { wrong, last_at })
}

/// Seconds since 1970 by the system clock (0 if it is set before then).
pub(crate) fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A rename is durable once the directory holding it is flushed too.
fn sync_parent(file: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::File::open(parent)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

fn attempts_error(file: &Path, e: std::io::Error) -> AppError {
    AppError::new(
        ErrorCode::Storage,
        format!("Doorstep cannot keep count of wrong PINs, so it cannot check one now ({}: {e}).", file.display()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_is_kept_across_reads_and_a_damaged_file_never_counts_as_fewer() {
        let dir = tempfile::TempDir::new().unwrap();
        let attempts = Attempts::for_store(&dir.path().join("doorstep.db"));
        assert_eq!(attempts.load(5).unwrap(), Count::default());
        attempts.save(Count { wrong: 3, last_at: 1_800_000_000 }).unwrap();
        assert_eq!(attempts.load(5).unwrap(), Count { wrong: 3, last_at: 1_800_000_000 });
        assert!(!dir.path().join("doorstep.db.attempts.new").exists(), "renamed into place");
        let damaged: [&[u8]; 6] =
            [b"", b"wrong=", b"wrong=3", b"wrong=-1 last_at=0", b"wrong=3 last_at=1 more", &[0xff, 0xfe, 0]];
        for damaged in damaged {
            std::fs::write(dir.path().join("doorstep.db.attempts"), damaged).unwrap();
            assert_eq!(attempts.load(5).unwrap().wrong, 5, "{damaged:?}");
        }
        attempts.clear().unwrap();
        attempts.clear().unwrap();
        assert_eq!(attempts.load(5).unwrap(), Count::default());
    }
}
