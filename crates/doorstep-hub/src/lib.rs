//! The Doorstep hub (work in progress).
pub mod storage;
