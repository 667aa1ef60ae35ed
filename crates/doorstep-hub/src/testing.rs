//! Test support: a PostgreSQL database of its own for one test, created from the server named
//! by `DOORSTEP_TEST_POSTGRES` (which `cargo xtask test` installs, starts and sets) and dropped
//! afterwards. Used by the hub's storage suite and the workspace's sync tests.

#![allow(clippy::panic, clippy::unwrap_used)]

use uuid::Uuid;

/// A database of its own for one test, dropped afterwards.
pub struct TestDatabase {
    admin_url: String,
    name: String,
    /// Connect here.
    pub url: String,
}

impl TestDatabase {
    /// Creates the database, from `DOORSTEP_TEST_POSTGRES`; panics with what to do if unset.
    pub async fn create() -> TestDatabase {
        let admin_url = std::env::var("DOORSTEP_TEST_POSTGRES").unwrap_or_else(|_| {
            panic!(
                "the PostgreSQL storage tests need a server: set DOORSTEP_TEST_POSTGRES=postgres://… (a role that may \
                 create databases) or run `cargo xtask test`, which starts PostgreSQL"
            )
        });
        let name = format!("doorstep_t_{}", Uuid::new_v4().simple());
        admin(&admin_url, &format!("CREATE DATABASE {name}")).await;
        TestDatabase { url: with_database(&admin_url, &name), admin_url, name }
    }

    /// Drops the database.
    pub async fn drop(self) {
        // FORCE ends the test's own connections that are still closing; it can still fail for a
        // moment while an autovacuum worker is in the database ("must be a member of the role
        // whose process is being terminated"), so try again for a while.
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let mut attempt = 1;
        while let Err(e) = try_admin(&self.admin_url, &sql).await {
            assert!(attempt < 50, "`{sql}` failed: {e}");
            attempt += 1;
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
}

/// `url` with its database name replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let authority = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[authority..].find('/').map_or(base.len(), |i| authority + i);
    format!("{}/{name}{query}", &base[..host_end])
}

async fn admin(url: &str, sql: &str) {
    try_admin(url, sql).await.unwrap_or_else(|e| panic!("`{sql}` failed: {e}"));
}

async fn try_admin(url: &str, sql: &str) -> Result<(), String> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(|e| format!("cannot connect to DOORSTEP_TEST_POSTGRES: {}", with_causes(&e)))?;
    let driver = tokio::spawn(connection);
    let outcome = client.batch_execute(sql).await.map_err(|e| with_causes(&e));
    drop(client);
    let _ = driver.await;
    outcome
}

/// tokio-postgres says only "db error"; the server's message is in the source.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text = format!("{text}: {c}");
        cause = c.source();
    }
    text
}
