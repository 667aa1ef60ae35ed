//! The Doorstep hub: the server devices sync with, and (with a later issue) where NHS and
//! council partners see what providers share with them.
//!
//! Layers: `api` (axum handlers, thin) → `service` (the rules: authentication, who may write
//! and read what, the sync exchange) → `storage` (one trait; `sqlite` and `postgres` backends).

pub mod admin;
pub mod api;
pub mod audit;
pub mod backup;
pub mod code_key;
pub mod commissioning;
pub mod config;
pub mod conn_limits;
pub mod doc_facts;
pub mod doc_sync_states;
pub mod fhir;
pub mod impact;
pub mod limits;
pub mod metrics;
pub mod migrate;
pub mod notify;
pub mod pages;
pub mod partner_directory;
pub mod pg_tls;
pub mod postgres;
pub mod server;
pub mod service;
pub mod sharing;
pub mod sqlite;
pub mod storage;
/// Test support (a PostgreSQL database per test): only in builds for tests.
#[cfg(feature = "testing")]
pub mod testing;
pub mod trends;
pub mod web;
pub mod web_auth;

pub use api::app;
pub use postgres::PostgresStorage;
pub use service::Hub;
pub use sqlite::SqliteStorage;
