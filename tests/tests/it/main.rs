//! The workspace-level tests, one test binary: whole stories across crates, on real SQLite
//! files and a real hub (see each module). One binary links once and shares the
//! monomorphised hub and store code that each file would otherwise compile again.

mod authorisation;
mod convergence;
mod fhir_export;
mod hostile_input;
mod impact;
mod import;
mod migrations;
mod partner_web;
mod store;
mod sync;
mod sync_schedules;
mod told_in_time;
