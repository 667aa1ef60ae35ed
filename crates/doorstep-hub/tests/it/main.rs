//! The hub's integration tests, one test binary (one link; the generic hub compiled once):
//! the real `doorstep-hub` binary and its storage on SQLite and PostgreSQL (see each module).

mod audit_cli;
mod backup;
mod code_key;
mod common;
mod kill;
mod metrics;
mod migrate;
mod operator;
mod pg_tls;
mod storage_suite;
mod tls;
mod upgrade;
