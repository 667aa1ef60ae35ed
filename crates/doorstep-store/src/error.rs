use doorstep_model::RecordKind;
use doorstep_model::insight::InsightError;
use doorstep_model::news2::VitalsError;
use doorstep_model::shared::SharedError;
use doorstep_model::visit::VisitError;

use crate::import::ImportErrors;

/// Everything the device store can refuse or fail at. Input problems carry a message fit to
/// show a person; storage problems carry the record they concern.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[source] rusqlite::Error),
    /// The disk is full (SQLITE_FULL, from ENOSPC): the write was rolled back whole.
    #[error(
        "The tablet's storage is full: nothing new was saved; what was saved before is safe. Free some space, then save again."
    )]
    StorageFull(#[source] rusqlite::Error),
    #[error("could not upgrade the database: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error(
        "this database was written by a newer version of Doorstep (schema {found}; this version knows up to {supported}): update the app"
    )]
    NewerSchema { found: usize, supported: usize },
    /// The encrypted store did not open with the key given (a wrong PIN, or another device's
    /// secret). Nothing was read or changed.
    #[error("the store could not be opened with this key")]
    WrongKey,
    #[error("could not encrypt the store: {0}")]
    Encrypt(String),
    #[error("the stored {kind} {id} is damaged and cannot be read ({detail}); every other record is unaffected")]
    CorruptDocument { kind: RecordKind, id: String, detail: String },
    #[error("changes received for {kind} {id} could not be applied: {detail}")]
    BadChanges { kind: RecordKind, id: String, detail: String },
    /// An edit was made against a version of the record this device does not hold.
    #[error("this {kind} changed in a way this device cannot follow: open it again and redo the last change")]
    UnknownVersion { kind: RecordKind, id: String },
    #[error("no {kind} with id {id}")]
    NotFound { kind: RecordKind, id: String },
    #[error("record {id} is a {found}, not a {expected}")]
    WrongKind { id: String, expected: RecordKind, found: String },
    #[error("{0}")]
    Visit(#[from] VisitError),
    #[error("{0}")]
    Insight(#[from] InsightError),
    #[error("{0}")]
    Vitals(#[from] VitalsError),
    #[error("{0}")]
    Shared(#[from] SharedError),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Import(ImportErrors),
    #[error("could not write the {kind} document: {detail}")]
    Reconcile { kind: RecordKind, detail: String },
}

impl From<rusqlite::Error> for StoreError {
    /// A full disk is its own error, so the app can say so plainly rather than "database error".
    fn from(e: rusqlite::Error) -> Self {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
            StoreError::StorageFull(e)
        } else {
            StoreError::Sqlite(e)
        }
    }
}

impl StoreError {
    /// The write failed for lack of space: retrying once space is freed will work.
    pub fn is_storage_full(&self) -> bool {
        match self {
            StoreError::StorageFull(_) => true,
            StoreError::Migration(rusqlite_migration::Error::RusqliteError { err, .. }) => {
                err.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull)
            }
            _ => false,
        }
    }

    /// The failure concerns one record (its bytes or its content), not the store: other
    /// records can still be read and written.
    pub fn is_about_the_record(&self) -> bool {
        matches!(
            self,
            StoreError::BadChanges { .. }
                | StoreError::CorruptDocument { .. }
                | StoreError::WrongKind { .. }
                | StoreError::Visit(_)
                | StoreError::Insight(_)
                | StoreError::Vitals(_)
                | StoreError::Shared(_)
                | StoreError::Invalid(_)
                | StoreError::Reconcile { .. }
        )
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
