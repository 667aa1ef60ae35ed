//! Store and sync errors, turned into words a carer can act on.

use doorstep_commands::{AppError, ErrorCode};
use doorstep_store::StoreError;
use doorstep_sync::SyncError;

pub fn storage_error(e: StoreError) -> AppError {
    match e {
        StoreError::NotFound { kind, .. } => {
            AppError::new(ErrorCode::NotFound, format!("That {kind} is not on this device (it may have been removed)."))
        }
        StoreError::Visit(e) => AppError::new(ErrorCode::Invalid, e.to_string()),
        StoreError::Insight(e) => AppError::new(ErrorCode::Invalid, e.to_string()),
        StoreError::Vitals(e) => AppError::new(ErrorCode::Invalid, e.to_string()),
        StoreError::Shared(e) => AppError::new(ErrorCode::Invalid, e.to_string()),
        StoreError::Invalid(message) => AppError::new(ErrorCode::Invalid, message),
        // Said plainly: the carer can act on it (free space), and nothing saved is at risk.
        e if e.is_storage_full() => {
            tracing::error!(error = %e, "device store: disk full");
            AppError::new(ErrorCode::Storage, e.to_string())
        }
        e => {
            tracing::error!(error = %e, "device store");
            AppError::new(ErrorCode::Storage, format!("This device could not read or save its records: {e}"))
        }
    }
}

pub fn sync_error(e: SyncError) -> AppError {
    match e {
        SyncError::Offline(_) => AppError::new(
            ErrorCode::Offline,
            "Cannot reach the hub. Check the internet connection (and the hub address); your work is kept on this device.",
        ),
        SyncError::Store(e) => storage_error(e),
        SyncError::NotEnrolled => AppError::new(ErrorCode::NotEnrolled, "This device is not set up yet."),
        e => AppError::new(ErrorCode::Refused, e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_said_plainly() {
        let full = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL), None);
        let shown = storage_error(StoreError::from(full));
        assert_eq!(shown.code, ErrorCode::Storage);
        assert!(shown.message.starts_with("The tablet's storage is full"), "{}", shown.message);
    }
}
