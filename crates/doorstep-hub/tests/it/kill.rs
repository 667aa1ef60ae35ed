//! The real hub binary killed with SIGKILL in the middle of syncs, again and again, and
//! restarted on the same file: afterwards no change is lost or stored twice, and the SQLite
//! file passes its integrity check.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use doorstep_demo::{Generator, at};
use doorstep_hub::api::issue_enrolment_code;
use doorstep_hub::sqlite::SqliteStorage;
use doorstep_hub::storage::{HubStorage, OrgKind, Organisation};
use doorstep_model::{NoteId, VisitNote};
use doorstep_protocol::Role;
use doorstep_store::Store;
use doorstep_sync::SyncClient;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::common::HubProcess;

const DEVICES: usize = 3;
const KILLS: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_killed_mid_sync_loses_and_duplicates_nothing() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = dir.path().join("hub.db");
    let provider = Uuid::new_v4();
    let mut codes = Vec::new();
    {
        let storage = SqliteStorage::open(&db).unwrap();
        storage
            .create_organisation(Organisation {
                id: provider,
                name: "Kill Care".into(),
                kind: OrgKind::Provider,
                partner_kind: None,
            })
            .await
            .unwrap();
        for i in 0..=DEVICES {
            codes.push(
                issue_enrolment_code(&storage, provider, &format!("M{i:03}"), Role::Manager, "test")
                    .await
                    .unwrap()
                    .code,
            );
        }
    }
    let mut hub = HubProcess::serve(&db, "127.0.0.1:0", &["--insecure-http-for-development"]);
    let (url, address) = (hub.url.clone(), hub.address());

    let mut devices = Vec::new();
    for (i, code) in codes.iter().take(DEVICES).enumerate() {
        let store = Arc::new(Mutex::new(Store::open(dir.path().join(format!("d{i}.db"))).unwrap()));
        doorstep_sync::enrol(&store, &url, code, "tablet").await.unwrap();
        devices.push((store.clone(), SyncClient::for_store(&store).await.unwrap()));
    }
    // Each device keeps a note of its own and appends to it between syncs.
    let mut generator = Generator::new(12);
    let person = generator.person();
    let visits: Vec<_> =
        (0..DEVICES).map(|i| generator.visit(&person, at(doorstep_tests_today(), 8 + i as u32, 0))).collect();
    devices[0].0.lock().await.put(&person).unwrap();
    for (i, (store, _)) in devices.iter().enumerate() {
        let mut store = store.lock().await;
        store.put(&visits[i]).unwrap();
        store.put(&VisitNote::new(NoteId::for_visit(visits[i].id), visits[i].id, person.id)).unwrap();
    }

    let writers: Vec<_> = devices
        .iter()
        .enumerate()
        .map(|(i, (store, client))| {
            let (store, client, visit) = (store.clone(), client.clone(), visits[i].clone());
            tokio::spawn(async move {
                let id = NoteId::for_visit(visit.id).to_string();
                let mut failures = 0;
                for n in 0..60 {
                    store
                        .lock()
                        .await
                        .update::<VisitNote>(&id, |note| {
                            note.narrative.push_str(&format!("d{i}e{n} "));
                            Ok(())
                        })
                        .unwrap();
                    if client.sync(&store, |_| {}).await.is_err() {
                        failures += 1; // the hub is down: carry on offline
                    }
                    tokio::time::sleep(Duration::from_millis(15)).await;
                }
                failures
            })
        })
        .collect();

    for _ in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(120)).await;
        hub.kill(); // SIGKILL
        tokio::time::sleep(Duration::from_millis(30)).await;
        hub = HubProcess::serve(&db, &address, &["--insecure-http-for-development"]);
    }
    let mut failures = 0;
    for w in writers {
        failures += w.await.unwrap();
    }
    assert!(failures > 0, "the kills should have interrupted some syncs");

    // Back in signal: everyone syncs until nothing is waiting.
    for (store, client) in &devices {
        client.sync(store, |_| {}).await.unwrap();
        assert_eq!(store.lock().await.local_sync_state().unwrap().pending, 0);
    }
    let fresh = Arc::new(Mutex::new(Store::open(dir.path().join("fresh.db")).unwrap()));
    doorstep_sync::enrol(&fresh, &url, &codes[DEVICES], "fresh").await.unwrap();
    SyncClient::for_store(&fresh).await.unwrap().sync(&fresh, |_| {}).await.unwrap();
    for (i, (store, _)) in devices.iter().enumerate() {
        let id = NoteId::for_visit(visits[i].id).to_string();
        let mine: VisitNote = store.lock().await.get(&id).unwrap();
        let hubs: VisitNote = fresh.lock().await.get(&id).unwrap();
        assert_eq!(hubs.narrative, mine.narrative, "device {i}'s note reached the hub whole");
        for n in 0..60 {
            assert_eq!(mine.narrative.matches(&format!("d{i}e{n} ")).count(), 1);
        }
    }
    hub.kill();

    let conn = rusqlite_check(&db);
    assert_eq!(conn.0, "ok", "integrity check");
    assert_eq!(conn.1, 0, "no change stored twice");
}

fn doorstep_tests_today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// (integrity_check result, number of duplicated (document, change hash) rows)
fn rusqlite_check(db: &Path) -> (String, i64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    let duplicates: i64 = conn
        .query_row("SELECT COUNT(*) - COUNT(DISTINCT doc_id || ':' || hex(hash)) FROM changes", [], |r| r.get(0))
        .unwrap();
    (integrity, duplicates)
}
