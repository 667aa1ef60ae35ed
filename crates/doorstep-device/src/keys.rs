//! The device store's key: Argon2id over the carer's PIN, salted with a random device secret
//! that is made at enrolment and never leaves the device.
//!
//! The secret lives in the operating system's keyring where there is one (Keychain, Windows
//! Credential Manager, the freedesktop Secret Service), else in a file beside the store that
//! only the app's user may read. A copy of the database alone is therefore useless: it needs
//! the secret and the PIN, and every PIN guess costs an Argon2 run.

use std::io::Write;
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use doorstep_commands::{AppError, ErrorCode};
use doorstep_store::StoreKey;
use zeroize::Zeroizing;

/// The keyring entries' service name.
const SERVICE: &str = "uk.org.doorstep.device";
/// Set to `file` to skip the OS keyring (a machine whose keyring prompts, or tests).
pub const SECRET_STORE_ENV: &str = "DOORSTEP_SECRET_STORE";

/// Where one store's device secret is kept.
pub(crate) struct Vault {
    store_path: PathBuf,
    use_keyring: bool,
}

/// Where a secret was found or put.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretPlace {
    Keyring,
    File,
}

pub(crate) struct DeviceSecret(Zeroizing<[u8; 32]>);

impl Vault {
    pub(crate) fn for_store(store_path: &Path) -> Vault {
        let use_keyring = std::env::var(SECRET_STORE_ENV).map_or(true, |v| v != "file");
        Vault { store_path: store_path.to_path_buf(), use_keyring }
    }

    /// The secret's file when there is no keyring: `doorstep.db` → `doorstep.db.secret`.
    fn file(&self) -> PathBuf {
        let mut name = self.store_path.as_os_str().to_owned();
        name.push(".secret");
        PathBuf::from(name)
    }

    /// One keyring entry per store file, so two stores on one machine (tests, a manager who is
    /// also a carer) never share a secret.
    fn entry(&self) -> Option<keyring::Entry> {
        if !self.use_keyring {
            return None;
        }
        let absolute = std::path::absolute(&self.store_path).unwrap_or_else(|_| self.store_path.clone());
        keyring::Entry::new(SERVICE, &absolute.to_string_lossy()).ok()
    }

    /// The secret, if this store has one.
    pub(crate) fn load(&self) -> Result<Option<DeviceSecret>, AppError> {
        match std::fs::read(self.file()) {
            Ok(bytes) => return secret_from(bytes).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(key_error(format!("cannot read the device key: {e}"))),
        }
        match self.entry().map(|entry| entry.get_secret()) {
            Some(Ok(bytes)) => secret_from(bytes).map(Some),
            Some(Err(keyring::Error::NoEntry)) | None => Ok(None),
            Some(Err(e)) => {
                tracing::warn!(error = %e, "the OS keyring could not be read");
                Ok(None)
            }
        }
    }

    /// Makes a new secret and keeps it: in the keyring if one answers, else in the file.
    pub(crate) fn create(&self) -> Result<(DeviceSecret, SecretPlace), AppError> {
        let secret = DeviceSecret(Zeroizing::new(rand::random()));
        if let Some(entry) = self.entry() {
            match entry.set_secret(secret.0.as_slice()) {
                Ok(()) => return Ok((secret, SecretPlace::Keyring)),
                Err(e) => tracing::info!(error = %e, "no OS keyring here: the device key is kept in a private file"),
            }
        }
        let file = self.file();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options.open(&file).and_then(|mut f| {
            f.write_all(secret.0.as_slice())?;
            f.sync_all()
        });
        written.map_err(|e| key_error(format!("cannot keep the device key in {}: {e}", file.display())))?;
        Ok((secret, SecretPlace::File))
    }

    /// Forgets the secret wherever it is: whatever the store held can no longer be opened.
    pub(crate) fn forget(&self) {
        if let Some(entry) = self.entry() {
            let _ = entry.delete_credential();
        }
        let _ = std::fs::remove_file(self.file());
    }
}

fn secret_from(bytes: Vec<u8>) -> Result<DeviceSecret, AppError> {
    let bytes = Zeroizing::new(bytes);
    let array: [u8; 32] = bytes.as_slice().try_into().map_err(|_| key_error("the device key is damaged".into()))?;
    Ok(DeviceSecret(Zeroizing::new(array)))
}

/// The store key for `pin` on this device. Argon2id with the library's recommended cost
/// (19 MiB, 2 passes), so guessing PINs against a stolen file and secret is slow.
pub(crate) fn store_key(pin: &str, secret: &DeviceSecret) -> Result<StoreKey, AppError> {
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
        .hash_password_into(pin.as_bytes(), secret.0.as_slice(), key.as_mut_slice())
        .map_err(|e| key_error(format!("cannot derive the store key: {e}")))?;
    Ok(StoreKey::from_bytes(*key))
}

fn key_error(detail: String) -> AppError {
    AppError::new(ErrorCode::Storage, format!("The records on this device cannot be opened ({detail})."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_depends_on_both_the_pin_and_the_device_secret() {
        let a = DeviceSecret(Zeroizing::new([1; 32]));
        let b = DeviceSecret(Zeroizing::new([2; 32]));
        let key = store_key("246813", &a).unwrap();
        assert_eq!(key, store_key("246813", &a).unwrap());
        assert_ne!(key, store_key("246814", &a).unwrap());
        assert_ne!(key, store_key("246813", &b).unwrap());
    }

    #[test]
    fn without_a_keyring_the_secret_is_a_private_file_and_forgetting_removes_it() {
        let dir = tempfile::TempDir::new().unwrap();
        let vault = Vault { store_path: dir.path().join("doorstep.db"), use_keyring: false };
        assert!(vault.load().unwrap().is_none());
        let (made, place) = vault.create().unwrap();
        assert_eq!(place, SecretPlace::File);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(vault.file()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(vault.load().unwrap().is_some_and(|s| s.0 == made.0));
        assert!(vault.create().is_err(), "a second secret would lock the first one's store away");
        vault.forget();
        assert!(vault.load().unwrap().is_none());
    }
}
