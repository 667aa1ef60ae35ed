//! Identifiers. Records get UUIDs (made by whoever creates the record, offline); staff are
//! named by the provider's own staff reference, which is what managers' spreadsheets hold.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        // By hand: the derived newtype impl cannot be read back from inside an `Option`.
        #[cfg(feature = "automerge")]
        impl autosurgeon::Reconcile for $name {
            type Key<'a> = autosurgeon::reconcile::NoKey;
            fn reconcile<R: autosurgeon::Reconciler>(&self, reconciler: R) -> Result<(), R::Error> {
                self.0.reconcile(reconciler)
            }
        }

        #[cfg(feature = "automerge")]
        impl autosurgeon::Hydrate for $name {
            fn hydrate_bytes(bytes: &[u8]) -> Result<Self, autosurgeon::HydrateError> {
                Uuid::hydrate_bytes(bytes).map(Self)
            }
        }

        impl $name {
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

uuid_id!(
    /// A person supported by the provider.
    PersonId
);
uuid_id!(
    /// One scheduled visit.
    VisitId
);
uuid_id!(
    /// The note of one visit (one per visit; both carers of a double-up edit the same one).
    NoteId
);
impl NoteId {
    /// A visit has one note, and its id follows from the visit's, so two carers on a double-up
    /// who both start the note offline are writing the same document.
    pub fn for_visit(visit: VisitId) -> NoteId {
        const NOTES: Uuid = Uuid::from_u128(0x6e6f7465_7300_4000_8000_646f6f727374);
        NoteId(Uuid::new_v5(&NOTES, visit.0.as_bytes()))
    }
}

uuid_id!(
    /// A hospital-avoidance idea or on-the-ground observation.
    InsightId
);

uuid_id!(
    /// What one partner organisation receives of one insight (see `shared.rs`).
    SharedItemId
);

/// A member of staff, by the provider's own staff reference (e.g. `"C014"` or `"jsmith"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StaffId(pub String);

impl StaffId {
    pub fn new(reference: impl Into<String>) -> Self {
        Self(reference.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StaffId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The kinds of record kept as Automerge documents; the code is what the store and the hub
/// write down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Person,
    Visit,
    Note,
    Insight,
    /// An insight as shared with one partner organisation.
    Shared,
    /// The provider's directory: numbers to phone and staff names (`directory.rs`).
    Directory,
}

impl RecordKind {
    pub const ALL: [RecordKind; 6] = [
        RecordKind::Person,
        RecordKind::Visit,
        RecordKind::Note,
        RecordKind::Insight,
        RecordKind::Shared,
        RecordKind::Directory,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RecordKind::Person => "person",
            RecordKind::Visit => "visit",
            RecordKind::Note => "note",
            RecordKind::Insight => "insight",
            RecordKind::Shared => "shared",
            RecordKind::Directory => "directory",
        }
    }

    pub fn from_code(code: &str) -> Option<RecordKind> {
        RecordKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The version of a document a screen showed: its Automerge heads, as hex change hashes.
///
/// An edit carries the version it was made against, so the device applies the person's change
/// to what they saw and merges it with anything that arrived meanwhile, instead of writing the
/// screen's stale copy over it. Empty means "no version known": the edit applies to the record
/// as it is now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DocVersion(pub Vec<String>);

impl DocVersion {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
