//! The hub's storage reaches PostgreSQL over TLS as the URL's `sslmode` and `sslrootcert` say.
//! Against the real server of `DOORSTEP_TEST_POSTGRES` (which must have `ssl = on`, as Debian's
//! cluster does with its snakeoil certificate and `cargo xtask test` makes sure of).

// The helpers are plain async fns, which clippy's `allow-unwrap-in-tests` does not reach.
#![allow(clippy::unwrap_used)]

use doorstep_hub::PostgresStorage;
use doorstep_hub::pg_tls::PgTarget;
use doorstep_hub::testing::TestDatabase;

/// `url` with `params` added to its query.
fn with_params(url: &str, params: &str) -> String {
    let joiner = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joiner}{params}")
}

async fn session_is_encrypted(url: &str) -> bool {
    let (client, driver) = PgTarget::parse(url).unwrap().connect_one().await.unwrap();
    let ssl: bool =
        client.query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[]).await.unwrap().get(0);
    drop(client);
    let _ = driver.await;
    ssl
}

/// Whether every session in the database but this one is encrypted, and how many there are.
async fn others_encrypted(url: &str) -> (bool, i64) {
    let (client, driver) = PgTarget::parse(url).unwrap().connect_one().await.unwrap();
    let row = client
        .query_one(
            "SELECT COALESCE(bool_and(s.ssl), false), COUNT(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
             WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()",
            &[],
        )
        .await
        .unwrap();
    drop(client);
    let _ = driver.await;
    (row.get(0), row.get(1))
}

#[tokio::test]
async fn postgres_with_sslmode_require_the_hubs_sessions_are_encrypted() {
    let db = TestDatabase::create().await;
    let plain = with_params(&db.url, "sslmode=disable");
    let (client, driver) = PgTarget::parse(&plain).unwrap().connect_one().await.unwrap();
    let ssl_on: String = client.query_one("SHOW ssl", &[]).await.unwrap().get(0);
    drop(client);
    let _ = driver.await;
    assert_eq!(ssl_on, "on", "the test server has ssl = off: `cargo xtask test` turns it on for its own cluster");

    let require = with_params(&db.url, "sslmode=require");
    assert!(session_is_encrypted(&require).await);
    assert!(!session_is_encrypted(&plain).await);
    // No sslmode is libpq's `prefer`: encrypted when the server offers it.
    assert!(session_is_encrypted(&db.url).await);

    // The hub's own pool (it keeps the connection it checked the database with).
    let storage = PostgresStorage::connect(&require).await.expect("the hub connects with sslmode=require");
    let (all_encrypted, sessions) = others_encrypted(&plain).await;
    assert!(sessions >= 1 && all_encrypted, "{sessions} session(s), all encrypted: {all_encrypted}");
    drop(storage);
    db.drop().await;
}

#[tokio::test]
async fn postgres_verify_full_with_another_root_certificate_is_refused_with_a_clear_error() {
    let db = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let stranger = dir.path().join("stranger-ca.pem");
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    std::fs::write(&stranger, made.cert.pem()).unwrap();
    for mode in ["verify-full", "verify-ca", "require"] {
        let url = with_params(&db.url, &format!("sslmode={mode}&sslrootcert={}", stranger.display()));
        let Err(e) = PostgresStorage::connect(&url).await else {
            panic!("sslmode={mode} with a root that did not sign the server's certificate connected");
        };
        let text = e.to_string();
        assert!(
            text.contains("TLS") && text.contains("did not sign the server's certificate"),
            "sslmode={mode}: {text}"
        );
    }
    let no_root = with_params(&db.url, "sslmode=verify-full");
    let text = PostgresStorage::connect(&no_root).await.err().expect("refused").to_string();
    assert!(text.contains("names no sslrootcert"), "{text}");

    // Debian's cluster serves its snakeoil certificate (CN and DNS name `localhost`): the chain
    // is good, so verify-ca passes on any host name and verify-full only on `localhost`.
    let snakeoil = "/etc/ssl/certs/ssl-cert-snakeoil.pem";
    if std::path::Path::new(snakeoil).exists() && db.url.contains("@127.0.0.1:") {
        let ca = with_params(&db.url, &format!("sslmode=verify-ca&sslrootcert={snakeoil}"));
        drop(PostgresStorage::connect(&ca).await.expect("verify-ca with the server's own certificate"));
        let by_ip = with_params(&db.url, &format!("sslmode=verify-full&sslrootcert={snakeoil}"));
        let text = PostgresStorage::connect(&by_ip).await.err().expect("127.0.0.1 is not localhost").to_string();
        assert!(text.contains("not valid for name"), "{text}");
        let by_name = by_ip.replacen("@127.0.0.1:", "@localhost:", 1);
        drop(PostgresStorage::connect(&by_name).await.expect("verify-full naming localhost"));
    } else {
        eprintln!("no snakeoil certificate or the server is not on 127.0.0.1: the verified connections were not tried");
    }
    db.drop().await;
}
