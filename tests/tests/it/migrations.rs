//! The device database's schema over time, on real files: fresh files are current, every older
//! version upgrades on open with its records and rebuilt projections, a newer file is refused
//! untouched, and the file is in WAL mode.

use std::path::Path;

use chrono::{Duration, NaiveDate};
use doorstep_demo::{at, load_demo};
use doorstep_model::visit::{TaskKind, TimeWindow, Visit, VisitStatus};
use doorstep_model::watch::WatchLevel;
use doorstep_model::{NoteId, Person, PersonId, RecordKind, StaffId, VisitId, VisitNote};
use doorstep_store::{Store, StoreError, migrations, schema_version};
use rusqlite::Connection;
use tempfile::TempDir;
use uuid::Uuid;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).expect("date")
}

fn user_version(path: &Path) -> i64 {
    let conn = Connection::open(path).expect("second connection");
    conn.query_row("PRAGMA user_version", [], |r| r.get(0)).expect("user_version")
}

fn tables(path: &Path) -> Vec<String> {
    let conn = Connection::open(path).expect("second connection");
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'search_index_%' ORDER BY name")
        .expect("prepare");
    stmt.query_map([], |r| r.get(0)).expect("query").collect::<rusqlite::Result<_>>().expect("names")
}

const ALL_TABLES: [&str; 12] = [
    "deterioration_flags",
    "device_settings",
    "document_changes",
    "documents",
    "insights",
    "notes",
    "people",
    "pull_failures",
    "search_index",
    "shared_items",
    "shared_responses",
    "visits",
];

/// A person, a visit today and its note: enough to see every projection working.
fn write_a_little(store: &mut Store) -> (Person, Visit, VisitNote) {
    let person = Person::new(PersonId(Uuid::from_u128(1)), "P00001", "Margaret", "Jones");
    let start = at(today(), 8, 0);
    let visit = Visit {
        id: VisitId(Uuid::from_u128(2)),
        person_id: person.id,
        window: TimeWindow { start, end: start + Duration::minutes(30) },
        carers: vec![StaffId::new("C001")],
        tasks: vec![doorstep_model::Task {
            key: "meal-1".into(),
            kind: TaskKind::Meal,
            description: "Breakfast".into(),
            outcome: None,
        }],
        checked_in_at: None,
        checked_out_at: None,
        status: VisitStatus::Scheduled,
        could_not: None,
        reviewed: None,
    };
    let mut note = VisitNote::new(NoteId::for_visit(visit.id), visit.id, person.id);
    note.narrative = "Made her porridge and a pot of tea.".into();
    store.put(&person).expect("person");
    store.put(&visit).expect("visit");
    store.put(&note).expect("note");
    (person, visit, note)
}

fn assert_store_works(store: &mut Store) {
    let (person, visit, note) = write_a_little(store);
    assert_eq!(store.get::<Person>(&person.id.to_string()).expect("person"), person);
    assert_eq!(store.get::<VisitNote>(&note.id.to_string()).expect("note"), note);
    let day = store.visits_on(today(), None).expect("visits");
    assert_eq!(day.len(), 1);
    assert_eq!(day[0].id, visit.id.to_string());
    assert_eq!(store.search("porridge", 10).expect("search").len(), 1);
    assert_eq!(store.people().expect("people").len(), 1);
}

#[test]
fn a_fresh_file_opens_at_the_latest_schema_version() {
    let dir = TempDir::new().expect("temp dir");
    let path = dir.path().join("device.sqlite");
    let mut store = Store::open(&path).expect("open");
    assert!(schema_version() >= 3, "documents, projections and search are all migrations");
    assert_eq!(user_version(&path), schema_version() as i64);
    assert_eq!(tables(&path), ALL_TABLES);
    assert_store_works(&mut store);

    // Opening again is a no-op for the schema and keeps the records.
    drop(store);
    let store = Store::open(&path).expect("reopen");
    assert_eq!(user_version(&path), schema_version() as i64);
    assert_eq!(store.people().expect("people").len(), 1);
}

#[test]
fn every_schema_version_in_turn_upgrades_to_the_latest_on_open() {
    let latest = schema_version();
    for version in 1..=latest {
        let dir = TempDir::new().expect("temp dir");
        let path = dir.path().join("device.sqlite");
        {
            let mut conn = Connection::open(&path).expect("plain connection");
            let migrations = migrations().expect("migrations");
            for step in 1..=version {
                migrations.to_version(&mut conn, step).expect("migrate one step");
                let at: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).expect("user_version");
                assert_eq!(at, step as i64);
            }
        }
        assert_eq!(user_version(&path), version as i64);
        let mut store = Store::open(&path).unwrap_or_else(|e| panic!("opening a version-{version} file: {e}"));
        assert_eq!(user_version(&path), latest as i64, "from version {version}");
        assert_eq!(tables(&path), ALL_TABLES, "from version {version}");
        assert_store_works(&mut store);
    }
}

/// What the screens show for the demo caseload, to compare before and after an upgrade.
#[derive(Debug, PartialEq)]
struct Screens {
    today: Vec<doorstep_store::VisitRow>,
    yesterday: Vec<doorstep_store::VisitRow>,
    people: Vec<doorstep_store::PersonRow>,
    overviews: Vec<doorstep_store::PersonOverview>,
    grab_rail: Vec<doorstep_store::SearchHit>,
    porridge: Vec<doorstep_store::SearchHit>,
    submitted: Vec<doorstep_store::InsightRow>,
}

fn screens(store: &Store) -> Screens {
    let people = store.people().expect("people");
    let overviews = people.iter().map(|p| store.person_overview(&p.id).expect("overview")).collect();
    let sorted = |mut hits: Vec<doorstep_store::SearchHit>| {
        hits.sort_by(|a, b| a.id.cmp(&b.id));
        hits
    };
    Screens {
        today: store.visits_on(today(), None).expect("today"),
        yesterday: store.visits_on(today() - Duration::days(1), None).expect("yesterday"),
        people,
        overviews,
        grab_rail: sorted(store.search("grab rail", 10).expect("search")),
        porridge: sorted(store.search("porridge", 1000).expect("search")),
        submitted: store.insights_with_status("submitted").expect("insights"),
    }
}

#[test]
fn an_older_database_upgrades_on_open_with_its_records_and_rebuilt_projections() {
    let dir = TempDir::new().expect("temp dir");
    let path = dir.path().join("device.sqlite");
    let before = {
        let mut store = Store::open(&path).expect("open");
        load_demo(&mut store, today()).expect("demo");
        screens(&store)
    };
    // Sanity: the demo gives the comparison something to compare.
    assert_eq!(before.today.len(), 5);
    assert_eq!(before.people.len(), 4);
    assert_eq!(before.people[0].watch, WatchLevel::Concern);
    assert_eq!(before.grab_rail.len(), 1);
    assert!(!before.porridge.is_empty());

    // Make it a version-1 database: documents only.
    {
        let conn = Connection::open(&path).expect("plain connection");
        conn.execute_batch(
            "DROP TABLE people; DROP TABLE visits; DROP TABLE notes; DROP TABLE insights;
             DROP TABLE deterioration_flags; DROP TABLE search_index;
             DROP TABLE shared_items; DROP TABLE shared_responses; DROP TABLE pull_failures;
             DROP INDEX documents_sync_pending; DROP INDEX documents_held_back;
             ALTER TABLE documents DROP COLUMN heads;
             ALTER TABLE documents DROP COLUMN hub_heads; ALTER TABLE documents DROP COLUMN sync_pending;
             ALTER TABLE documents DROP COLUMN held_back; PRAGMA user_version = 1;",
        )
        .expect("downgrade");
    }
    assert_eq!(user_version(&path), 1);
    assert_eq!(tables(&path), ["device_settings", "document_changes", "documents"]);

    let store = Store::open(&path).expect("upgrade on open");
    assert_eq!(user_version(&path), schema_version() as i64);
    let after = screens(&store);
    assert_eq!(after.today, before.today);
    assert_eq!(after.yesterday, before.yesterday);
    assert_eq!(after.people, before.people);
    assert_eq!(after.overviews, before.overviews);
    assert_eq!(after.grab_rail, before.grab_rail);
    assert_eq!(after.porridge, before.porridge);
    assert_eq!(after.submitted, before.submitted);
    let peggy = &after.people[0].id;
    assert_eq!(store.watch(peggy).expect("watch").level, WatchLevel::Concern);
}

#[test]
fn a_database_from_a_newer_doorstep_is_refused_and_left_untouched() {
    let dir = TempDir::new().expect("temp dir");
    let path = dir.path().join("device.sqlite");
    {
        let mut store = Store::open(&path).expect("open");
        write_a_little(&mut store);
    }
    let newer = schema_version() + 1;
    {
        let conn = Connection::open(&path).expect("plain connection");
        conn.pragma_update(None, "user_version", newer as i64).expect("pretend to be newer");
    }
    let bytes_before = std::fs::read(&path).expect("read file");

    let err = Store::open(&path).expect_err("a newer schema");
    assert!(
        matches!(err, StoreError::NewerSchema { found, supported } if found == newer && supported == schema_version()),
        "{err:?}"
    );
    assert!(err.to_string().contains("newer version of Doorstep"), "{err}");

    assert_eq!(std::fs::read(&path).expect("read file"), bytes_before, "the file was changed");
    assert_eq!(user_version(&path), newer as i64);
    // Still refused the second time, and still holding its records.
    assert!(matches!(Store::open(&path), Err(StoreError::NewerSchema { .. })));
    let conn = Connection::open(&path).expect("plain connection");
    let docs: i64 = conn.query_row("SELECT COUNT(*) FROM documents", [], |r| r.get(0)).expect("count");
    assert_eq!(docs, 3);
}

#[test]
fn the_store_file_is_in_wal_mode() {
    let dir = TempDir::new().expect("temp dir");
    let path = dir.path().join("device.sqlite");
    let mut store = Store::open(&path).expect("open");
    write_a_little(&mut store);
    // journal_mode = WAL is a property of the file, so a second connection sees it.
    let conn = Connection::open(&path).expect("second connection");
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).expect("journal_mode");
    assert_eq!(mode.to_ascii_lowercase(), "wal");
    // While the store is open its writes sit in the write-ahead log beside the file.
    assert!(path.with_file_name("device.sqlite-wal").exists());
    // A reader on another connection sees committed writes while the store stays open.
    let people: i64 = conn.query_row("SELECT COUNT(*) FROM people", [], |r| r.get(0)).expect("count");
    assert_eq!(people, 1);
}

#[test]
fn the_device_actor_is_made_once_and_kept_across_reopening() {
    let dir = TempDir::new().expect("temp dir");
    let path = dir.path().join("device.sqlite");
    let actor = |path: &Path| -> String {
        let conn = Connection::open(path).expect("second connection");
        conn.query_row("SELECT value FROM device_settings WHERE key = 'actor_id'", [], |r| r.get(0)).expect("actor")
    };
    let first = {
        let _store = Store::open(&path).expect("open");
        actor(&path)
    };
    assert!(!first.is_empty());
    {
        let mut store = Store::open(&path).expect("reopen");
        let (_, _, note) = write_a_little(&mut store);
        assert!(!store.heads(RecordKind::Note, &note.id.to_string()).expect("heads").is_empty());
    }
    assert_eq!(actor(&path), first);
    let other = TempDir::new().expect("temp dir");
    let other_path = other.path().join("device.sqlite");
    drop(Store::open(&other_path).expect("another device"));
    assert_ne!(actor(&other_path), first, "each device has its own actor");
}

#[test]
fn a_newer_database_in_another_journal_mode_is_refused_without_switching_it_to_wal() {
    let dir = TempDir::new().expect("temp dir");
    let path = dir.path().join("device.sqlite");
    let newer = schema_version() + 1;
    {
        // Written by something other than this store: the default rollback journal.
        let mut conn = Connection::open(&path).expect("plain connection");
        migrations().expect("migrations").to_latest(&mut conn).expect("latest");
        conn.pragma_update(None, "user_version", newer as i64).expect("pretend to be newer");
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).expect("journal_mode");
        assert_eq!(mode, "delete");
    }
    let bytes_before = std::fs::read(&path).expect("read file");

    assert!(matches!(Store::open(&path), Err(StoreError::NewerSchema { .. })));

    let conn = Connection::open(&path).expect("plain connection");
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).expect("journal_mode");
    assert_eq!(mode, "delete", "refusing the file switched its journal mode");
    assert_eq!(std::fs::read(&path).expect("read file"), bytes_before, "the refused file was changed");
}
