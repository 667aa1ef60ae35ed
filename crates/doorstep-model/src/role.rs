//! Who a signed-in device or person acts as.

use serde::{Deserialize, Serialize};

/// What a device holds a role as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Carer,
    Manager,
    Partner,
    Commissioner,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::Carer => "carer",
            Role::Manager => "manager",
            Role::Partner => "partner",
            Role::Commissioner => "commissioner",
        }
    }

    pub fn from_code(code: &str) -> Option<Role> {
        [Role::Carer, Role::Manager, Role::Partner, Role::Commissioner].into_iter().find(|r| r.code() == code)
    }

    /// Whether a device of this role may ever write records of `kind` (the hub checks more:
    /// who may read the record, and what of a visit a carer may change). Partners and
    /// commissioners answer through the hub's pages, never by sync; shared items are written by
    /// managers (and partners' answers into them by the hub); the provider's directory (who to
    /// phone, staff names) by managers only.
    pub fn may_edit(self, kind: crate::RecordKind) -> bool {
        use crate::RecordKind;
        match self {
            Role::Manager => true,
            // A carer writes into a shared item only their messages to the partner (policy.rs).
            Role::Carer => kind != RecordKind::Directory,
            Role::Partner | Role::Commissioner => false,
        }
    }

    /// What a device of this role sends again whole after the hub was restored from a backup:
    /// what it may write, except a carer's shared items (a carer may not make one, so a copy the
    /// hub lost would only be held back; the office's device sends it, and a carer's unsent
    /// messages stay waiting as ever).
    pub fn resends_after_restore(self, kind: crate::RecordKind) -> bool {
        self.may_edit(kind) && !(self == Role::Carer && kind == crate::RecordKind::Shared)
    }
}
