//! App updates keep the carer's data: a store written by an earlier release of the app opens in
//! this one. The fixture is a carer's store made by `cargo xtask run` at commit b6c86e6 (device
//! schema 4, unencrypted, the PIN as an Argon2 hash; demo people, none real).

use std::path::PathBuf;

use chrono::NaiveDate;
use doorstep_commands::{DayArgs, ErrorCode};
use doorstep_device::{Device, LOCK_AFTER};
use doorstep_store::{Store, is_plain_sqlite, schema_version};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/carer-store-b6c86e6.db")
}

#[tokio::test]
async fn a_carers_store_from_an_earlier_release_opens_with_its_pin_upgraded_and_encrypted() {
    let dir = tempfile::TempDir::new().expect("dir");
    let path = dir.path().join("doorstep.db");
    std::fs::copy(fixture(), &path).expect("copy the fixture");
    let (people, visits_on_the_day) = {
        let old = rusqlite::Connection::open(&path).expect("the old file is plain SQLite");
        let version: i64 = old.pragma_query_value(None, "user_version", |r| r.get(0)).expect("version");
        assert!((version as usize) < schema_version(), "the fixture predates this build's schema");
        let people: i64 = old.query_row("SELECT count(*) FROM people", [], |r| r.get(0)).expect("people");
        let visits: i64 =
            old.query_row("SELECT count(*) FROM visits WHERE day = '2026-11-26'", [], |r| r.get(0)).expect("visits");
        (people as usize, visits as usize)
    };
    assert!(people > 0 && visits_on_the_day > 0);

    let device = Device::open(&path, LOCK_AFTER).expect("open");
    let session = device.session().await.expect("session");
    assert!(session.enrolled && session.locked);
    assert_eq!(device.unlock("1111").await.unwrap_err().code, ErrorCode::WrongPin);
    assert!(is_plain_sqlite(&path).expect("read"), "a wrong PIN changes nothing");

    device.unlock("2468").await.expect("the PIN from the earlier release");
    assert!(!is_plain_sqlite(&path).expect("read"), "encrypted at the first right PIN");
    let session = device.session().await.expect("session");
    assert_eq!(session.staff_ref.as_deref(), Some("C001"));
    let day = NaiveDate::from_ymd_opt(2026, 11, 26).expect("date");
    let today = device.today(DayArgs { day: Some(day) }).await.expect("the carer's day");
    // Sam's own visits that day (the store also holds visits of the people Sam shares with others).
    assert!(!today.visits.is_empty() && today.visits.len() <= visits_on_the_day, "{}", today.visits.len());
    {
        let store = device.unlocked_store().await.expect("open");
        assert_eq!(store.people().expect("people").len(), people);
        assert_eq!(store.setting("pin_hash").expect("setting"), None, "the old PIN hash is gone");
    }
    drop(device);
    assert!(Store::open(&path).is_err(), "no longer readable without the key");
    let again = Device::open(&path, LOCK_AFTER).expect("reopen");
    again.unlock("2468").await.expect("the same PIN opens it next time");
}
