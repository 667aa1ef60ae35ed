//! The manager's CSV import of people (and then a rota) into a real store in memory: any file
//! gives a row-by-row report or an error, never a panic, and the store stays usable.
#![no_main]

use std::sync::Mutex;
use std::sync::OnceLock;

use doorstep_store::Store;
use libfuzzer_sys::fuzz_target;

static STORE: OnceLock<Mutex<Store>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let store = STORE.get_or_init(|| Mutex::new(Store::open(":memory:").expect("an in-memory store")));
    let Ok(mut store) = store.lock() else { return };
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap_or_default();
    let _ = store.import_people_csv(data, today);
    let _ = store.import_rota_csv(data);
    store.people().expect("the store is still readable after an import");
});
