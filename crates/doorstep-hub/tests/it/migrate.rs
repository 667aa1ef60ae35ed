//! `doorstep-hub migrate --to postgres://…` with the real binary: an SQLite hub that devices
//! really synced with (and web accounts, an agreement, a session, an unused enrolment code) is
//! stopped and copied into a fresh PostgreSQL database; a hub on PostgreSQL then carries on
//! where the SQLite one stopped. PostgreSQL from `DOORSTEP_TEST_POSTGRES`, as the storage suite
//! (it fails without it rather than passing silently).

#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use crate::common::{HUB, HubProcess};
use doorstep_demo::{Generator, at};
use doorstep_hub::Hub;
use doorstep_hub::api::issue_enrolment_code;
use doorstep_hub::code_key::{CODE_KEY_FILE_ENV, CodeKey};
use doorstep_hub::sqlite::SqliteStorage;
use doorstep_hub::storage::{HubStorage, OrgKind, Organisation};
use doorstep_model::{NoteId, VisitNote};
use doorstep_protocol::Role;
use doorstep_store::Store;
use doorstep_sync::{SyncClient, SyncReport};
use tokio::sync::Mutex;
use uuid::Uuid;

const PASSWORD: &str = "a long passphrase for the move";

/// `doorstep-hub --database DB ARGS` with `stdin`; on PostgreSQL the code key is `key`.
fn hub_command(database: &str, key: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(HUB)
        .arg("--database")
        .arg(database)
        .args(args)
        .env("RUST_LOG", "warn")
        .env(CODE_KEY_FILE_ENV, key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn ok(database: &str, key: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let out = hub_command(database, key, args, stdin);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn fails(database: &str, key: &Path, args: &[&str]) -> String {
    let out = hub_command(database, key, args, None);
    assert!(!out.status.success(), "{args:?} should fail: {}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn start_hub(database: &str, key: &Path, listen: &str) -> HubProcess {
    let mut command = Command::new(HUB);
    command.arg("--database").arg(database).args(["serve", "--listen", listen, "--insecure-http-for-development"]);
    command.env("RUST_LOG", "warn").env(CODE_KEY_FILE_ENV, key).stderr(Stdio::null());
    HubProcess::start(&mut command)
}

struct Device {
    store: Arc<Mutex<Store>>,
    client: SyncClient,
}

impl Device {
    async fn enrol(url: &str, dir: &Path, name: &str, code: &str) -> Device {
        let store = Arc::new(Mutex::new(Store::open(dir.join(format!("{name}.db"))).unwrap()));
        doorstep_sync::enrol(&store, url, code, name).await.unwrap();
        let client = SyncClient::for_store(&store).await.unwrap();
        Device { store, client }
    }

    async fn sync(&self) -> SyncReport {
        self.client.sync(&self.store, |_| {}).await.unwrap()
    }

    async fn cursor(&self) -> u64 {
        self.store.lock().await.sync_cursor().unwrap()
    }

    async fn append(&self, note: NoteId, words: &str) {
        self.store
            .lock()
            .await
            .update::<VisitNote>(&note.to_string(), |n| {
                n.narrative.push_str(words);
                Ok(())
            })
            .unwrap();
    }

    async fn narrative(&self, note: NoteId) -> String {
        self.store.lock().await.get::<VisitNote>(&note.to_string()).unwrap().narrative
    }
}

/// Rows per table, every table the SQLite hub has (not only those `migrate` knows).
fn sqlite_counts(db: &Path) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables
        .into_iter()
        .map(|t| {
            let n = conn.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0)).unwrap();
            (t, n)
        })
        .collect()
}

async fn postgres_count(url: &str, table: &str) -> i64 {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    let driver = tokio::spawn(connection);
    let n: i64 = client.query_one(&format!("SELECT COUNT(*) FROM {table}"), &[]).await.unwrap().get(0);
    drop(client);
    let _ = driver.await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_sqlite_hub_moves_to_postgres_and_its_devices_sync_on_where_they_were() {
    let database = doorstep_hub::testing::TestDatabase::create().await;
    let url = database.url.clone();
    let outcome = tokio::spawn(async move { moves_to_postgres(&url).await }).await;
    database.drop().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn moves_to_postgres(pg: &str) {
    let dir = tempfile::TempDir::new().unwrap();
    let db_path = dir.path().join("hub.db");
    let db = db_path.to_string_lossy().to_string();
    // Where the PostgreSQL hub will read its code key: nothing there until the operator copies it.
    let pg_key: PathBuf = dir.path().join("postgres.code-key");

    // A provider with codes for two devices and one for later, issued under the SQLite hub's key.
    let provider = Uuid::new_v4();
    let codes = {
        let storage = SqliteStorage::open(&db_path).unwrap();
        let org =
            Organisation { id: provider, name: "Moving Care".into(), kind: OrgKind::Provider, partner_kind: None };
        storage.create_organisation(org).await.unwrap();
        let mut codes = Vec::new();
        for staff in ["M001", "M002", "M003"] {
            codes.push(issue_enrolment_code(&storage, provider, staff, Role::Manager, "test").await.unwrap().code);
        }
        codes
    };
    // A commissioner with an agreement and an account; a partner account signed in (a session).
    let icb = ok(&db, &pg_key, &["--json", "create-commissioner", "--name", "Moving ICB"], None);
    let icb: serde_json::Value = serde_json::from_str(&icb).unwrap();
    let icb = icb["id"].as_str().unwrap().to_string();
    let provider_text = provider.to_string();
    ok(&db, &pg_key, &["set-agreement", "--commissioner", &icb, "--provider", &provider_text], None);
    // Its manager released a week to the commissioner (a feed_releases row to copy).
    {
        let storage = SqliteStorage::open(&db_path).unwrap();
        let release = doorstep_hub::storage::FeedRelease {
            provider,
            week: "2026-11-23".into(),
            released_by: "Mo (mo@moving.example)".into(),
            released_at: 1,
        };
        doorstep_hub::storage::HubStorage::release_week(&storage, release).await.unwrap();
    }
    let password = format!("{PASSWORD}\n");
    let account = ["create-web-user", "--org", &icb, "--email", "sam@icb.example", "--name", "Sam", "--role"];
    ok(&db, &pg_key, &[&account[..], &["commissioner"]].concat(), Some(&password));
    let session = {
        let hub = Hub::new(SqliteStorage::open(&db_path).unwrap());
        hub.sign_in("sam@icb.example", PASSWORD).await.unwrap().0
    };

    // Two devices sync a person, a visit and a note through the SQLite hub.
    let hub = start_hub(&db, &pg_key, "127.0.0.1:0");
    let (url, address) = (hub.url.clone(), hub.address());
    let d0 = Device::enrol(&url, dir.path(), "d0", &codes[0]).await;
    let d1 = Device::enrol(&url, dir.path(), "d1", &codes[1]).await;
    let mut generator = Generator::new(17);
    let person = generator.person();
    let visit = generator.visit(&person, at(chrono::Utc::now().date_naive(), 9, 0));
    let note = NoteId::for_visit(visit.id);
    {
        let mut store = d0.store.lock().await;
        store.put(&person).unwrap();
        store.put(&visit).unwrap();
        store.put(&VisitNote::new(note, visit.id, person.id)).unwrap();
    }
    d0.append(note, "[on SQLite] ").await;
    d0.sync().await;
    d1.sync().await;
    d0.sync().await;
    assert_eq!(d1.narrative(note).await, "[on SQLite] ");

    // Refused while the SQLite hub runs, before the PostgreSQL database is touched.
    let why = fails(&db, &pg_key, &["migrate", "--to", pg]);
    assert!(why.contains("a hub is using") && why.contains("stop it first"), "{why}");
    let why = fails(&db, &pg_key, &["migrate", "--to", &dir.path().join("other.db").to_string_lossy()]);
    assert!(why.contains("must be a postgres:// (or postgresql://) URL"), "{why}");
    hub.stop();

    // d0 writes while the hub is down: it must reach the PostgreSQL hub, once.
    d0.append(note, "[while moving] ").await;
    let cursors = (d0.cursor().await, d1.cursor().await);
    let before = sqlite_counts(&db_path);
    let sqlite_file = std::fs::read(&db_path).unwrap();

    // The newest audit entry as an operator would have noted it on SQLite.
    let verified = ok(&db, &pg_key, &["audit", "verify"], None);
    let anchor = verified.trim().rsplit(' ').next().unwrap().to_string();

    let said = ok(&db, &pg_key, &["migrate", "--to", pg], None);
    let started = std::time::Instant::now();
    for (table, rows) in &before {
        assert!(said.contains(&format!("  {table}: {rows} row(s)\n")), "a line for {table} with {rows}: {said}");
        assert_eq!(postgres_count(pg, table).await, *rows, "{table}: as many rows on PostgreSQL");
    }
    assert!(said.contains("row counts match") && said.contains("chain intact"), "{said}");
    assert!(said.contains(&format!("copy {}.code-key", db)), "says what to do with the code key: {said}");
    assert_eq!(std::fs::read(&db_path).unwrap(), sqlite_file, "the SQLite hub is left as it was");
    let total: i64 = before.iter().map(|(_, n)| n).sum();
    eprintln!("migrated {total} rows in {} tables (checked in {:?}): {said}", before.len(), started.elapsed());

    // A second migrate into the now non-empty database is refused, and changes nothing.
    let why = fails(&db, &pg_key, &["migrate", "--to", pg]);
    assert!(why.contains("the PostgreSQL database is not empty"), "{why}");
    assert_eq!(postgres_count(pg, "audit_log").await, before.iter().find(|(t, _)| t == "audit_log").unwrap().1);

    // As the command says: the key goes where the PostgreSQL hub reads it.
    std::fs::copy(dir.path().join("hub.db.code-key"), &pg_key).unwrap();
    let hub = start_hub(pg, &pg_key, &address);

    // d1 has nothing new and the hub nothing new for it: nothing is sent either way.
    let quiet = d1.sync().await;
    assert_eq!((quiet.pushed, quiet.pulled, quiet.doc_syncs), (0, 0, 0), "{quiet:?}");
    assert_eq!(d1.cursor().await, cursors.1, "d1's cursor is still the hub's");
    // d0 sends only what it wrote while the hub moved; d1 then fetches only that.
    let sent = d0.sync().await;
    assert_eq!((sent.pushed, sent.pulled), (1, 0), "{sent:?}");
    assert!(d0.cursor().await > cursors.0);
    let fetched = d1.sync().await;
    assert_eq!(fetched.pulled, 1, "{fetched:?}");
    assert_eq!(d1.narrative(note).await, "[on SQLite] [while moving] ");
    // The code issued on SQLite and never used enrols on PostgreSQL (the same key), and the new
    // device gets everything.
    let d2 = Device::enrol(&hub.url, dir.path(), "d2", &codes[2]).await;
    d2.sync().await;
    assert_eq!(d2.narrative(note).await, "[on SQLite] [while moving] ");
    for device in [&d0, &d1, &d2] {
        assert_eq!(device.store.lock().await.local_sync_state().unwrap().pending, 0);
    }
    hub.stop();

    // The session made on SQLite still signs its holder in; the audit chain, with the PostgreSQL
    // hub's own entries appended after the copied ones, verifies.
    let key = CodeKey::load_or_create(&pg_key).unwrap();
    let storage = doorstep_hub::PostgresStorage::connect(pg).await.unwrap().with_code_key(key);
    let caller = Hub::new(storage.clone()).web_caller(&session).await.unwrap();
    assert!(caller.is_some(), "the session moved with its account");
    let audit_rows = before.iter().find(|(t, _)| t == "audit_log").unwrap().1;
    let report = storage.verify_audit_chain().await.unwrap();
    assert!(report.intact(), "{report:?}");
    assert!(report.entries > u64::try_from(audit_rows).unwrap(), "the PostgreSQL hub appended: {report:?}");
    let verified = ok(pg, &pg_key, &["audit", "verify", "--anchor", &anchor], None);
    assert!(verified.contains("chain intact"), "the anchor noted on SQLite holds on PostgreSQL: {verified}");
}

/// A row PostgreSQL refuses (here an access row for a document that is not there, which SQLite
/// let in without its foreign keys on) stops the copy: nothing is committed, the error names the
/// table, and once the row is dealt with the same command succeeds into the same database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_migration_leaves_postgres_empty_and_can_be_run_again() {
    let database = doorstep_hub::testing::TestDatabase::create().await;
    let url = database.url.clone();
    let outcome = tokio::spawn(async move {
        let dir = tempfile::TempDir::new().unwrap();
        let db_path = dir.path().join("hub.db");
        let db = db_path.to_string_lossy().to_string();
        let key = dir.path().join("postgres.code-key");
        ok(&db, &key, &["create-provider", "--name", "Orphan Care", "--manager", "M001"], None);
        let conn = rusqlite::Connection::open(&db_path).unwrap();
        conn.pragma_update(None, "foreign_keys", false).unwrap();
        conn.execute("INSERT INTO doc_access (principal, doc_id, granted_seq) VALUES ('manager:x', 'nowhere', 1)", [])
            .unwrap();
        let why = fails(&db, &key, &["migrate", "--to", &url]);
        assert!(why.contains("copying doc_access: ") && why.contains("Nothing was committed"), "{why}");
        for table in ["organisations", "enrolment_codes", "audit_log", "doc_access"] {
            assert_eq!(postgres_count(&url, table).await, 0, "{table} left empty");
        }
        conn.execute("DELETE FROM doc_access WHERE doc_id = 'nowhere'", []).unwrap();
        drop(conn);
        let said = ok(&db, &key, &["migrate", "--to", &url], None);
        assert!(said.contains("  organisations: 1 row(s)\n") && said.contains("chain intact"), "{said}");
    })
    .await;
    database.drop().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}
