//! Enrolment codes are HMAC-SHA256 under the hub's own key: a code issued under one key does not
//! enrol on a hub with another (a copy of the database alone cannot check guesses), and the key
//! file beside an SQLite database is the hub's only (mode 0600).

use doorstep_hub::api::issue_enrolment_code;
use doorstep_hub::code_key::{self, CodeKey};
use doorstep_hub::service::enrolment_code_hash;
use doorstep_hub::storage::{Device, HubStorage, OrgKind, Organisation};
use doorstep_hub::{PostgresStorage, SqliteStorage};
use doorstep_protocol::Role;
use uuid::Uuid;

async fn provider<S: HubStorage>(storage: &S) -> Uuid {
    let id = Uuid::new_v4();
    let org = Organisation { id, name: "Key Care".into(), kind: OrgKind::Provider, partner_kind: None };
    storage.create_organisation(org).await.expect("an organisation");
    id
}

/// Whether `code` enrols a device on `storage` (as `POST /enrol` redeems it).
async fn enrols<S: HubStorage>(storage: &S, code: &str) -> bool {
    let device = Device {
        id: Uuid::new_v4(),
        org_id: Uuid::nil(),
        staff_ref: String::new(),
        role: Role::Carer,
        name: "tablet".into(),
        token_hash: vec![0; 32],
        revoked: false,
    };
    let now = chrono::Utc::now().timestamp_millis();
    let hash = enrolment_code_hash(storage.code_key(), code);
    storage.redeem_enrolment_code(hash, now, device).await.expect("redeem").is_some()
}

#[tokio::test]
async fn sqlite_a_code_issued_under_one_key_does_not_enrol_under_another() {
    let dir = tempfile::tempdir().expect("a directory");
    let db = dir.path().join("hub.db");
    let key_file = code_key::beside(&db);
    let storage = SqliteStorage::open(&db).expect("open");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).expect("the key file was made").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the key file is the hub's only");
    }
    let org = provider(&storage).await;
    let first = issue_enrolment_code(&storage, org, "C001", Role::Carer, "test").await.expect("a code").code;
    // The database only stores the keyed hash: not the code, not its plain SHA-256.
    let conn = rusqlite::Connection::open(&db).expect("open");
    let stored: Vec<u8> = conn.query_row("SELECT code_hash FROM enrolment_codes", [], |r| r.get(0)).expect("a row");
    drop(conn);
    let plain: Vec<u8> = doorstep_hub::service::sha256(first.replace('-', "").as_bytes());
    assert_eq!(stored.len(), 32);
    assert_ne!(stored, plain);
    drop(storage);

    // The same database with another key (the key file lost, or the database copied elsewhere).
    let original = std::fs::read(&key_file).expect("read the key");
    std::fs::remove_file(&key_file).expect("remove the key");
    let elsewhere = SqliteStorage::open(&db).expect("reopen");
    assert!(!enrols(&elsewhere, &first).await, "a code enrolled under another key");
    drop(elsewhere);
    // The original key back: the code (not spent by the refusal) enrols, typed in lower case.
    std::fs::write(&key_file, original).expect("put the key back");
    let home = SqliteStorage::open(&db).expect("reopen");
    assert!(enrols(&home, &first.to_lowercase()).await, "the code enrols under its own key");
}

#[tokio::test]
async fn postgres_a_code_issued_under_one_key_does_not_enrol_under_another() {
    let db = doorstep_hub::testing::TestDatabase::create().await;
    let url = db.url.clone();
    let outcome = tokio::spawn(async move {
        let key = CodeKey::ephemeral();
        let hub = PostgresStorage::connect(&url).await.expect("connect").with_code_key(key.clone());
        let org = provider(&hub).await;
        let code = issue_enrolment_code(&hub, org, "C001", Role::Carer, "test").await.expect("a code").code;
        let other = hub.clone().with_code_key(CodeKey::ephemeral());
        assert!(!enrols(&other, &code).await, "a code enrolled under another key");
        assert!(enrols(&hub, &code.to_lowercase()).await, "the code enrols under its own key");
    })
    .await;
    db.drop().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
