//! `doorstep-hub audit verify`, the real binary, on a good SQLite file and on tampered ones.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

use doorstep_hub::sqlite::SqliteStorage;
use doorstep_hub::storage::{AuditEntry, HubStorage};
use uuid::Uuid;

fn verify(db: &Path, anchor: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_doorstep-hub"));
    command.args(["--database", &db.to_string_lossy(), "audit", "verify"]).env("RUST_LOG", "warn");
    if let Some(anchor) = anchor {
        command.args(["--anchor", anchor]);
    }
    command.output().expect("run the hub")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn hub_with_entries(db: &Path, n: usize) {
    let storage = SqliteStorage::open(db).unwrap();
    for i in 0..n {
        storage
            .audit(AuditEntry {
                at: 1_700_000_000_000 + i as i64,
                actor: format!("web:{i}"),
                action: "read".into(),
                doc_id: Some(Uuid::new_v4()),
                allowed: true,
                detail: format!("entry {i}"),
            })
            .await
            .unwrap();
    }
}

/// Tampers as someone with the file would: the triggers first, then the rows.
fn tamper(db: &Path, sql: &str) {
    let c = rusqlite::Connection::open(db).unwrap();
    c.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;").unwrap();
    c.execute_batch(sql).unwrap();
}

#[tokio::test]
async fn audit_verify_passes_a_good_log_and_fails_a_tampered_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    hub_with_entries(&db, 120).await;

    let good = verify(&db, None);
    assert!(good.status.success(), "{}", text(&good.stderr));
    let out = text(&good.stdout);
    assert!(out.starts_with("audit log: 120 entries, chain intact; newest entry 120:"), "{out}");
    let anchor = out.trim().rsplit_once("newest entry ").unwrap().1.to_string();
    assert!(verify(&db, Some(&anchor)).status.success());
    let bad_anchor = verify(&db, Some("120:nothex"));
    assert!(!bad_anchor.status.success());
    assert!(text(&bad_anchor.stderr).contains("an anchor is SEQ:HASH"));

    // An altered entry.
    let altered = dir.path().join("altered.db");
    std::fs::copy(&db, &altered).unwrap();
    tamper(&altered, "UPDATE audit_log SET detail = 'nothing happened' WHERE seq = 57;");
    let report = verify(&altered, None);
    assert!(!report.status.success());
    let err = text(&report.stderr);
    assert!(err.contains("audit log: entry 57 was altered or removed (its content does not match its hash"), "{err}");

    // The newest entries removed: whole without an anchor, caught with one.
    let truncated = dir.path().join("truncated.db");
    std::fs::copy(&db, &truncated).unwrap();
    tamper(&truncated, "DELETE FROM audit_log WHERE seq > 100;");
    let report = verify(&truncated, None);
    assert!(report.status.success());
    assert!(text(&report.stdout).starts_with("audit log: 100 entries, chain intact"));
    let report = verify(&truncated, Some(&anchor));
    assert!(!report.status.success());
    assert!(
        text(&report.stderr).contains("audit log: entry 120 was altered or removed (the anchored entry is missing")
    );
}
