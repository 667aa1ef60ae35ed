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
}
