//! One module per screen (or pair of closely related screens).

pub mod account;
pub mod directory;
pub mod early_warning;
pub mod enrol;
pub mod follow_up;
pub mod ideas;
pub mod manager;
pub mod person;
pub mod today;
pub mod unlock;
pub mod visit;
