//! `doorstep-hub backup` while the real hub serves, and `restore` of that older backup: the
//! devices then sync again and nothing is lost. What the restored hub no longer has comes back
//! from the devices, every device converges, and every change is at the hub once.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use crate::common::{HUB, HubProcess};
use doorstep_demo::{Generator, at};
use doorstep_hub::api::issue_enrolment_code;
use doorstep_hub::code_key::{CODE_KEY_FILE_ENV, CodeKey};
use doorstep_hub::sqlite::SqliteStorage;
use doorstep_hub::storage::{HubStorage, OrgKind, Organisation};
use doorstep_model::{NoteId, Visit, VisitNote};
use doorstep_protocol::Role;
use doorstep_store::Store;
use doorstep_sync::SyncClient;
use tokio::sync::Mutex;
use uuid::Uuid;

fn hub_command(database: &str, args: &[&str]) -> Output {
    // On PostgreSQL a command that opens the database reads the code key: never one in the source tree.
    let scratch = tempfile::TempDir::new().unwrap();
    Command::new(HUB)
        .arg("--database")
        .arg(database)
        .args(args)
        .env("RUST_LOG", "warn")
        .env(CODE_KEY_FILE_ENV, postgres_key(scratch.path()))
        .output()
        .unwrap()
}

/// The enrolment-code key a hub on PostgreSQL keeps in `dir` (on SQLite it is beside the file).
fn postgres_key(dir: &Path) -> PathBuf {
    dir.join("hub.code-key")
}

/// Starts `serve` on `listen` and returns it with its URL.
fn start_hub(dir: &Path, database: &str, listen: &str) -> (HubProcess, String) {
    let mut command = Command::new(HUB);
    command.arg("--database").arg(database).args(["serve", "--listen", listen, "--insecure-http-for-development"]);
    command.env("RUST_LOG", "warn").env(CODE_KEY_FILE_ENV, postgres_key(dir)).stderr(std::process::Stdio::null());
    let hub = HubProcess::start(&mut command);
    let url = hub.url.clone();
    (hub, url)
}

struct Device {
    store: Arc<Mutex<Store>>,
    client: SyncClient,
}

impl Device {
    async fn sync(&self) {
        self.client.sync(&self.store, |_| {}).await.unwrap();
    }

    async fn append(&self, note: NoteId, words: &str) {
        let id = note.to_string();
        self.store
            .lock()
            .await
            .update::<VisitNote>(&id, |n| {
                n.narrative.push_str(words);
                Ok(())
            })
            .unwrap();
    }

    async fn narrative(&self, note: NoteId) -> String {
        self.store.lock().await.get::<VisitNote>(&note.to_string()).unwrap().narrative
    }
}

async fn enrol(url: &str, dir: &Path, name: &str, code: &str) -> Device {
    let store = Arc::new(Mutex::new(Store::open(dir.join(format!("{name}.db"))).unwrap()));
    doorstep_sync::enrol(&store, url, code, name).await.unwrap();
    let client = SyncClient::for_store(&store).await.unwrap();
    Device { store, client }
}

/// A provider and enrolment codes for its managers, written before the hub serves.
async fn setup(database: &Path, managers: usize) -> Vec<String> {
    codes_for(SqliteStorage::open(database).unwrap(), managers).await
}

/// The storage a hub on PostgreSQL started by [`start_hub`] in `dir` sees (the same key).
async fn postgres_storage(url: &str, dir: &Path) -> doorstep_hub::PostgresStorage {
    let key = CodeKey::load_or_create(&postgres_key(dir)).unwrap();
    doorstep_hub::PostgresStorage::connect(url).await.unwrap().with_code_key(key)
}

async fn codes_for<S: HubStorage>(storage: S, managers: usize) -> Vec<String> {
    let provider = Uuid::new_v4();
    let org = Organisation { id: provider, name: "Backup Care".into(), kind: OrgKind::Provider, partner_kind: None };
    storage.create_organisation(org).await.unwrap();
    let mut codes = Vec::new();
    for i in 0..managers {
        let code = issue_enrolment_code(&storage, provider, &format!("M{i:03}"), Role::Manager, "test").await.unwrap();
        codes.push(code.code);
    }
    codes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_sqlite_hub_gets_back_everything_from_the_devices() {
    let dir = tempfile::TempDir::new().unwrap();
    let db_path = dir.path().join("hub.db");
    let codes = setup(&db_path, 4).await;
    restored_hub_gets_back_everything(&dir, &db_path.to_string_lossy(), codes).await;

    let conn = rusqlite::Connection::open(&db_path).unwrap();
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok");
}

/// The same with PostgreSQL, `pg_dump` and `pg_restore` (`DOORSTEP_TEST_POSTGRES`, as the
/// storage suite: it fails rather than passing silently without a server).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_postgres_hub_gets_back_everything_from_the_devices() {
    let database = doorstep_hub::testing::TestDatabase::create().await;
    let url = database.url.clone();
    let outcome = tokio::spawn(async move {
        let dir = tempfile::TempDir::new().unwrap();
        let codes = codes_for(postgres_storage(&url, dir.path()).await, 4).await;
        restored_hub_gets_back_everything(&dir, &url, codes).await;
    })
    .await;
    database.drop().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn restored_hub_gets_back_everything(dir: &tempfile::TempDir, db: &str, codes: Vec<String>) {
    let db = db.to_string();
    let backup = dir.path().join("hub-backup.dump");
    let (hub, url) = start_hub(dir.path(), &db, "127.0.0.1:0");
    let address = url.trim_start_matches("http://").to_string();

    let devices = [
        enrol(&url, dir.path(), "d0", &codes[0]).await,
        enrol(&url, dir.path(), "d1", &codes[1]).await,
        enrol(&url, dir.path(), "d2", &codes[2]).await,
    ];
    let mut generator = Generator::new(21);
    let person = generator.person();
    let visit = generator.visit(&person, at(chrono::Utc::now().date_naive(), 9, 0));
    let note = NoteId::for_visit(visit.id);
    {
        let mut store = devices[0].store.lock().await;
        store.put(&person).unwrap();
        store.put(&visit).unwrap();
        store.put(&VisitNote::new(note, visit.id, person.id)).unwrap();
    }
    devices[0].append(note, "[before] ").await;
    for device in &devices {
        device.sync().await;
    }

    // The backup, taken while a device is syncing.
    let syncing = {
        let (store, client) = (devices[1].store.clone(), devices[1].client.clone());
        tokio::spawn(async move {
            for _ in 0..5 {
                client.sync(&store, |_| {}).await.unwrap();
            }
        })
    };
    let made = hub_command(&db, &["backup", "--to", &backup.to_string_lossy()]);
    assert!(made.status.success(), "backup: {}", String::from_utf8_lossy(&made.stderr));
    let said = String::from_utf8_lossy(&made.stdout);
    assert!(said.starts_with("backed up to ") && said.contains("schema version"), "{said}");
    syncing.await.unwrap();
    // A second backup to the same file would overwrite the first: refused.
    let again = hub_command(&db, &["backup", "--to", &backup.to_string_lossy()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    // After the backup: d0 and d1 change the note and sync; d0 adds a visit and syncs; d2
    // changes the note and stays offline.
    devices[0].append(note, "[d0 synced] ").await;
    let later = generator.visit(&person, at(chrono::Utc::now().date_naive(), 15, 0));
    devices[0].store.lock().await.put(&later).unwrap();
    devices[0].sync().await;
    devices[1].sync().await;
    devices[1].append(note, "[d1 synced] ").await;
    devices[1].sync().await;
    devices[2].append(note, "[d2 offline] ").await;

    // Restoring under a running hub is refused, and changes nothing.
    let refused = hub_command(&db, &["restore", "--from", &backup.to_string_lossy()]);
    assert!(!refused.status.success());
    let why = String::from_utf8_lossy(&refused.stderr);
    let sqlite_said = why.contains("a hub is using") && why.contains("stop it first");
    let postgres_said = why.contains("session(s) are connected to the PostgreSQL database: stop every hub");
    assert!(sqlite_said || postgres_said, "{why}");
    // Neither is something that is not a hub's backup.
    let junk = dir.path().join("junk.db");
    rusqlite::Connection::open(&junk).unwrap().execute_batch("CREATE TABLE t (x); PRAGMA user_version = 1;").unwrap();
    hub.stop();
    let not_hub = hub_command(&db, &["restore", "--from", &junk.to_string_lossy()]);
    assert!(!not_hub.status.success());
    let why = String::from_utf8_lossy(&not_hub.stderr);
    assert!(why.contains("is not a Doorstep hub backup"), "{why}");

    let restored = hub_command(&db, &["restore", "--from", &backup.to_string_lossy()]);
    assert!(restored.status.success(), "restore: {}", String::from_utf8_lossy(&restored.stderr));
    assert!(!has_document(&db, &later.id.to_string()).await, "the backup is from before the later visit");
    let (hub, _) = start_hub(dir.path(), &db, &address);

    // Every device syncs again (twice: what one sends, the others then fetch).
    for _ in 0..2 {
        for device in &devices {
            device.sync().await;
        }
    }
    let fresh = enrol(&url, dir.path(), "fresh", &codes[3]).await;
    fresh.sync().await;
    let at_hub = fresh.narrative(note).await;
    for words in ["[before] ", "[d0 synced] ", "[d1 synced] ", "[d2 offline] "] {
        assert_eq!(at_hub.matches(words).count(), 1, "{words:?} once at the hub: {at_hub:?}");
    }
    for (i, device) in devices.iter().enumerate() {
        assert_eq!(device.narrative(note).await, at_hub, "device {i} converged");
        assert_eq!(device.store.lock().await.local_sync_state().unwrap().pending, 0, "device {i} sent everything");
    }
    let visit_at_hub: Visit = fresh.store.lock().await.get(&later.id.to_string()).unwrap();
    assert_eq!(visit_at_hub.id, later.id, "the visit made after the backup came back from its device");
    hub.stop();
    let verify = hub_command(&db, &["audit", "verify"]);
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));
}

/// The case sequence numbers alone miss: after the restore, other devices push the hub past the
/// cursor of a device that synced after the backup. The hub's new epoch still tells that device
/// to resend what the backup lacks and to fetch its whole feed again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_behind_a_restored_hub_that_moved_on_still_resends_and_catches_up_on_sqlite() {
    let dir = tempfile::TempDir::new().unwrap();
    let db_path = dir.path().join("hub.db");
    let codes = setup(&db_path, 3).await;
    restored_hub_moved_past_a_device(&dir, &db_path.to_string_lossy(), codes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_behind_a_restored_hub_that_moved_on_still_resends_and_catches_up_on_postgres() {
    let database = doorstep_hub::testing::TestDatabase::create().await;
    let url = database.url.clone();
    let outcome = tokio::spawn(async move {
        let dir = tempfile::TempDir::new().unwrap();
        let codes = codes_for(postgres_storage(&url, dir.path()).await, 3).await;
        restored_hub_moved_past_a_device(&dir, &url, codes).await;
    })
    .await;
    database.drop().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn restored_hub_moved_past_a_device(dir: &tempfile::TempDir, db: &str, codes: Vec<String>) {
    let backup = dir.path().join("hub-backup.dump");
    let (hub, url) = start_hub(dir.path(), db, "127.0.0.1:0");
    let address = url.trim_start_matches("http://").to_string();
    let (d0, d1) = (enrol(&url, dir.path(), "d0", &codes[0]).await, enrol(&url, dir.path(), "d1", &codes[1]).await);
    let mut generator = Generator::new(22);
    let person = generator.person();
    let today = chrono::Utc::now().date_naive();
    let visit = generator.visit(&person, at(today, 9, 0));
    let note = NoteId::for_visit(visit.id);
    {
        let mut store = d0.store.lock().await;
        store.put(&person).unwrap();
        store.put(&visit).unwrap();
        store.put(&VisitNote::new(note, visit.id, person.id)).unwrap();
    }
    d0.sync().await;
    d1.sync().await;
    let epoch_before = hub_epoch(db).await;
    let made = hub_command(db, &["backup", "--to", &backup.to_string_lossy()]);
    assert!(made.status.success(), "backup: {}", String::from_utf8_lossy(&made.stderr));

    // d0 syncs a change and a visit the backup will not have.
    d0.append(note, "[d0 after the backup] ").await;
    let later = generator.visit(&person, at(today, 15, 0));
    d0.store.lock().await.put(&later).unwrap();
    d0.sync().await;
    let d0_cursor = d0.store.lock().await.sync_cursor().unwrap();

    hub.stop();
    let restored = hub_command(db, &["restore", "--from", &backup.to_string_lossy()]);
    assert!(restored.status.success(), "restore: {}", String::from_utf8_lossy(&restored.stderr));
    assert_ne!(hub_epoch(db).await, epoch_before, "a restore starts a new epoch");
    let (hub, _) = start_hub(dir.path(), db, &address);

    // d1 pushes the restored hub well past d0's cursor before d0 comes back.
    let mut evening = Vec::new();
    for hour in 16..24 {
        let v = generator.visit(&person, at(today, hour, 0));
        d1.store.lock().await.put(&v).unwrap();
        d1.sync().await;
        evening.push(v.id);
    }
    assert!(hub_max_seq(db).await > d0_cursor, "the scenario: the hub's sequence passed d0's cursor");

    d0.sync().await;
    d1.sync().await;
    let at_hub = d1.narrative(note).await;
    assert_eq!(at_hub.matches("[d0 after the backup] ").count(), 1, "d0's change is back at the hub: {at_hub:?}");
    assert!(d1.store.lock().await.get::<Visit>(&later.id.to_string()).is_ok(), "d0's later visit is back");
    for id in evening {
        assert!(d0.store.lock().await.get::<Visit>(&id.to_string()).is_ok(), "d0 fetched d1's visit {id}");
    }
    assert_eq!(d0.store.lock().await.local_sync_state().unwrap().pending, 0, "d0 sent everything");
    hub.stop();
}

async fn hub_epoch(db: &str) -> String {
    query_text(db, "SELECT epoch FROM hub_sequence WHERE id = 1").await
}

async fn hub_max_seq(db: &str) -> u64 {
    query_text(db, "SELECT CAST(value AS TEXT) FROM hub_sequence WHERE id = 1").await.parse().unwrap()
}

/// One text value from the hub's database, on either backend.
async fn query_text(db: &str, sql: &str) -> String {
    if db.starts_with("postgres") {
        let (client, connection) = tokio_postgres::connect(db, tokio_postgres::NoTls).await.unwrap();
        let driver = tokio::spawn(connection);
        let value: String = client.query_one(sql, &[]).await.unwrap().get(0);
        drop(client);
        let _ = driver.await;
        value
    } else {
        rusqlite::Connection::open(db).unwrap().query_row(sql, [], |r| r.get(0)).unwrap()
    }
}

async fn has_document(db: &str, id: &str) -> bool {
    let sql = "SELECT COUNT(*) FROM documents WHERE id = $1";
    if db.starts_with("postgres") {
        let (client, connection) = tokio_postgres::connect(db, tokio_postgres::NoTls).await.unwrap();
        let driver = tokio::spawn(connection);
        let n: i64 = client.query_one(sql, &[&id]).await.unwrap().get(0);
        drop(client);
        let _ = driver.await;
        n > 0
    } else {
        let conn = rusqlite::Connection::open(db).unwrap();
        conn.query_row(&sql.replace('$', "?"), [id], |r| r.get::<_, i64>(0)).unwrap() > 0
    }
}

/// A backup of a newer schema than this build knows is refused before anything is replaced.
#[tokio::test]
async fn a_backup_from_a_newer_hub_is_refused() {
    let dir = tempfile::TempDir::new().unwrap();
    let db_path = dir.path().join("hub.db");
    setup(&db_path, 1).await;
    let backup = dir.path().join("b.db");
    let db = db_path.to_string_lossy().to_string();
    assert!(hub_command(&db, &["backup", "--to", &backup.to_string_lossy()]).status.success());
    rusqlite::Connection::open(&backup).unwrap().pragma_update(None, "user_version", 999).unwrap();
    let before = std::fs::read(&db_path).unwrap();
    let refused = hub_command(&db, &["restore", "--from", &backup.to_string_lossy()]);
    assert!(!refused.status.success());
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains("schema version 999, newer than this hub knows"), "{why}");
    assert_eq!(std::fs::read(&db_path).unwrap(), before, "the database was left as it was");
}
