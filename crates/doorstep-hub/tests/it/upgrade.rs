//! Upgrades: today's hub opens a database made by an earlier build (a fixture the hub of
//! commit 4456dac wrote: a provider, a device's synced records, audit entries), and refuses to
//! start against a database of a newer schema than it knows, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use doorstep_demo::{Generator, at};
use doorstep_model::{NoteId, Person, Visit, VisitNote};
use doorstep_store::Store;
use doorstep_sync::SyncClient;
use tokio::sync::Mutex;

use crate::common::{HUB, HubProcess};

/// Made by `make_fixture` below with the hub built from commit 4456dac.
const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/hub-4456dac.db");
const PROVIDER: &str = "5b0e3d1c-7f4a-4f7e-9a51-0c2d9e8b4a11";
const NARRATIVE: &str = "Written before the upgrade: ate well, walked to the shop.";
const SEED: u64 = 4456;

/// Runs the hub under `timeout`: a `serve` that wrongly starts fails the test, not hangs it.
fn hub(binary: &str, database: &Path, args: &[&str]) -> Output {
    let mut command = Command::new("timeout");
    command.args(["30", binary, "--database"]).arg(database).args(args).env("RUST_LOG", "warn");
    command.output().unwrap()
}

/// The code in "… enrolment code for STAFF: CODE (expires …)".
fn code_in(output: &Output) -> String {
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().find(|l| l.contains("enrolment code for")).unwrap_or_else(|| panic!("no code in {text}"));
    line.split(": ").nth(1).unwrap().split(" (").next().unwrap().to_string()
}

/// The records the fixture holds (the generator is seeded, so the same each time).
fn records() -> (Person, Visit, VisitNote) {
    let mut generator = Generator::new(SEED);
    let person = generator.person();
    let visit = generator.visit(&person, at(chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(), 9, 0));
    // The fixture was written before people had a GP phone number or a plan: they read as none.
    let person = Person { gp_phone: String::new(), plan: None, ..person };
    let mut note = VisitNote::new(NoteId::for_visit(visit.id), visit.id, person.id);
    note.narrative = NARRATIVE.into();
    (person, visit, note)
}

async fn enrol(url: &str, dir: &Path, name: &str, code: &str) -> (Arc<Mutex<Store>>, SyncClient) {
    let store = Arc::new(Mutex::new(Store::open(dir.join(format!("{name}.db"))).unwrap()));
    doorstep_sync::enrol(&store, url, code, name).await.unwrap();
    let client = SyncClient::for_store(&store).await.unwrap();
    (store, client)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_database_from_an_earlier_build_is_upgraded_and_serves_its_records() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = dir.path().join("hub.db");
    std::fs::copy(FIXTURE, &db).unwrap();
    let old_version: i64 =
        rusqlite::Connection::open(&db).unwrap().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert!(old_version < doorstep_hub::sqlite::known_schema_version(), "the fixture is of an older schema");

    let verified = hub(HUB, &db, &["audit", "verify"]);
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stderr));
    let said = String::from_utf8_lossy(&verified.stdout);
    assert!(said.contains("chain intact") && !said.contains(" 0 entries"), "{said}");
    let upgraded: i64 =
        rusqlite::Connection::open(&db).unwrap().pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
    assert_eq!(upgraded, doorstep_hub::sqlite::known_schema_version(), "migrated on opening");

    let code = code_in(&hub(HUB, &db, &["enrolment-code", "--org", PROVIDER, "--staff", "M002", "--role", "manager"]));
    let running = HubProcess::serve(&db, "127.0.0.1:0", &["--insecure-http-for-development"]);
    let (store, client) = enrol(&running.url, dir.path(), "new-tablet", &code).await;
    client.sync(&store, |_| {}).await.unwrap();
    let (person, visit, note) = records();
    {
        let store = store.lock().await;
        assert_eq!(store.get::<Person>(&person.id.to_string()).unwrap(), person);
        assert_eq!(store.get::<Visit>(&visit.id.to_string()).unwrap().id, visit.id);
        assert_eq!(store.get::<VisitNote>(&note.id.to_string()).unwrap().narrative, NARRATIVE);
    }
    // And the old records take new changes.
    store
        .lock()
        .await
        .update::<VisitNote>(&note.id.to_string(), |n| {
            n.narrative.push_str(" Added after the upgrade.");
            Ok(())
        })
        .unwrap();
    client.sync(&store, |_| {}).await.unwrap();
    assert_eq!(store.lock().await.local_sync_state().unwrap().pending, 0);
    drop(running);
    let verified = hub(HUB, &db, &["audit", "verify"]);
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stderr));
}

#[tokio::test]
async fn a_newer_sqlite_schema_is_refused_untouched() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = dir.path().join("hub.db");
    std::fs::copy(FIXTURE, &db).unwrap();
    let newer = doorstep_hub::sqlite::known_schema_version() + 1;
    rusqlite::Connection::open(&db).unwrap().pragma_update(None, "user_version", newer).unwrap();
    let before = std::fs::read(&db).unwrap();
    for args in [&["serve", "--insecure-http-for-development", "--listen", "127.0.0.1:0"][..], &["audit", "verify"]] {
        let refused = hub(HUB, &db, args);
        assert!(!refused.status.success());
        let why = String::from_utf8_lossy(&refused.stderr);
        assert!(why.contains(&format!("schema is version {newer}, newer than this hub knows")), "{why}");
    }
    assert_eq!(std::fs::read(&db).unwrap(), before, "left as it was");
}

/// PostgreSQL from `DOORSTEP_TEST_POSTGRES`, as the storage suite (fails without it).
#[tokio::test]
async fn a_newer_postgres_schema_is_refused() {
    let database = doorstep_hub::testing::TestDatabase::create().await;
    let url = database.url.clone();
    let outcome = tokio::spawn(async move {
        drop(doorstep_hub::PostgresStorage::connect(&url).await.unwrap());
        let newer = doorstep_hub::postgres::known_schema_version() + 1;
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
        let driver = tokio::spawn(connection);
        let sql =
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES ($1, 'future', '', '0')";
        client.execute(sql, &[&(newer as i32)]).await.unwrap();
        drop(client);
        let _ = driver.await;
        // Under `timeout`: a hub that wrongly starts fails the test instead of hanging it.
        let refused = Command::new("timeout")
            .args([
                "30",
                HUB,
                "--database",
                &url,
                "serve",
                "--insecure-http-for-development",
                "--listen",
                "127.0.0.1:0",
            ])
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        assert!(!refused.status.success());
        let why = String::from_utf8_lossy(&refused.stderr);
        assert!(why.contains(&format!("schema is version {newer}, newer than this hub knows")), "{why}");
    })
    .await;
    database.drop().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Writes the fixture with an earlier build of the hub:
/// `DOORSTEP_OLD_HUB=/path/to/old/doorstep-hub cargo test -p doorstep-hub --test it upgrade::make_fixture -- --ignored`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by hand with DOORSTEP_OLD_HUB to remake the fixture"]
async fn make_fixture() {
    let old = std::env::var("DOORSTEP_OLD_HUB").expect("DOORSTEP_OLD_HUB: an earlier build's doorstep-hub");
    let dir = tempfile::TempDir::new().unwrap();
    let db = dir.path().join("hub.db");
    let created = hub(&old, &db, &["create-provider", "--name", "Upgrade Care", "--manager", "M001", "--id", PROVIDER]);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let running = HubProcess::serve_binary(&old, &db, "127.0.0.1:0", &[]);
    let url = running.url.clone();
    let (store, client) = enrol(&url, dir.path(), "old-tablet", &code_in(&created)).await;
    let (person, visit, note) = records();
    {
        let mut store = store.lock().await;
        store.put(&person).unwrap();
        store.put(&visit).unwrap();
        store.put(&note).unwrap();
    }
    client.sync(&store, |_| {}).await.unwrap();
    assert_eq!(store.lock().await.local_sync_state().unwrap().pending, 0);
    // A refused token: an audited denial in the fixture too.
    let token = store.lock().await.setting("device_token").unwrap().unwrap();
    let forged = format!("{}.wrong", token.rsplit_once('.').unwrap().0);
    let refused = doorstep_sync::SyncClient::new(&url, &forged).sync(&store, |_| {}).await;
    assert!(refused.is_err());
    drop(running);
    let fixture = Path::new(FIXTURE);
    std::fs::create_dir_all(fixture.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(fixture);
    rusqlite::Connection::open(&db).unwrap().execute("VACUUM INTO ?1", [fixture.to_string_lossy()]).unwrap();
}
