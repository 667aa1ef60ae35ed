//! The shared storage suite: every scenario runs against both backends, SQLite (a fresh file)
//! and PostgreSQL (a fresh database, created and dropped per test).
//!
//! PostgreSQL comes from `DOORSTEP_TEST_POSTGRES` (a URL whose role may create databases);
//! `cargo xtask test` installs and starts PostgreSQL and sets it. Without it the PostgreSQL
//! tests fail: they never pass silently.

// The scenarios are plain async fns called from the #[test]s, which clippy's
// `allow-unwrap-in-tests` does not reach.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::future::Future;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT, ReadDoc};
use doorstep_hub::storage::*;
use doorstep_hub::testing::{TestDatabase, with_database};
use doorstep_hub::{PostgresStorage, SqliteStorage};
use doorstep_model::RecordKind;
use doorstep_protocol::Role;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Backends

async fn on_sqlite<F, Fut>(scenario: F)
where
    F: FnOnce(SqliteStorage) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("a temporary directory");
    let storage = SqliteStorage::open(&dir.path().join("hub.db")).expect("open SQLite");
    scenario(storage).await;
}

/// Runs `scenario` on a fresh database, dropping it afterwards even if the scenario fails.
async fn on_postgres_db<F, Fut>(scenario: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let db = TestDatabase::create().await;
    let outcome = tokio::spawn(scenario(db.url.clone())).await;
    db.drop().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn on_postgres<F, Fut>(scenario: F)
where
    F: FnOnce(PostgresStorage) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    on_postgres_db(|url| async move {
        let storage = PostgresStorage::connect(&url).await.expect("connect to PostgreSQL");
        scenario(storage).await;
    })
    .await;
}

macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $scenario() {
                super::on_sqlite(super::$scenario).await;
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $scenario() {
                super::on_postgres(super::$scenario).await;
            })*
        }
    };
}

on_both_backends!(
    organisations_and_enrolment_codes,
    partner_listings_and_the_mail_outbox,
    feed_releases_stand_and_agreements_are_found_from_either_side,
    devices_are_looked_up_and_revoked,
    a_write_stores_each_change_once_and_grants_and_revokes_readers,
    the_feed_is_in_order_limited_and_leaves_out_a_devices_own_writes,
    load_document_returns_the_snapshot_and_later_changes,
    people_on_rota_follow_the_day_window_and_both_carers,
    held_back_records_follow_what_each_device_reports,
    granted_lists_documents_of_one_kind,
    rota_departures_keep_when_a_carer_first_left_until_forgotten,
    history_of_a_person_lists_visits_and_notes,
    set_access_grants_and_revokes_with_purges,
    max_seq_counts_only_what_takes_a_number,
    the_audit_log_is_newest_first,
    a_change_reached_through_two_principals_is_not_skipped,
    web_users_sessions_and_sign_in_state,
    doc_facts_are_listed_by_kind_owner_and_reader,
    the_audit_log_is_hash_chained,
    operators_list_organisations_and_devices_with_their_last_sync,
    operators_disable_enable_and_reset_web_users,
    a_burst_of_sign_ins_checks_no_more_passwords_than_the_lock_out_allows,
);

/// Scenarios that also need the database itself, behind the storage's back (as someone with
/// the file or a database login would).
enum Raw {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Raw {
    async fn exec(&self, sql: &str) -> Result<(), String> {
        match self {
            Raw::Sqlite(path) => {
                let c = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
                c.execute_batch(sql).map_err(|e| e.to_string())
            }
            Raw::Postgres(url) => {
                let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
                let driver = tokio::spawn(connection);
                let outcome = client
                    .batch_execute(sql)
                    .await
                    .map_err(|e| e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_string()));
                drop(client);
                let _ = driver.await;
                outcome
            }
        }
    }

    /// Removes the append-only triggers, as someone with raw access could.
    async fn drop_audit_triggers(&self) {
        let sql = match self {
            Raw::Sqlite(_) => {
                "DROP TRIGGER audit_log_insert_chained; DROP TRIGGER audit_log_no_update; \
                 DROP TRIGGER audit_log_no_delete;"
            }
            Raw::Postgres(_) => {
                "DROP TRIGGER audit_log_append_only ON audit_log; DROP TRIGGER audit_log_no_truncate ON audit_log;"
            }
        };
        self.exec(sql).await.unwrap();
    }

    /// A BLOB/BYTEA literal.
    fn blob(&self, bytes: &[u8]) -> String {
        match self {
            Raw::Sqlite(_) => format!("x'{}'", doorstep_hub::audit::hex(bytes)),
            Raw::Postgres(_) => format!("'\\x{}'::bytea", doorstep_hub::audit::hex(bytes)),
        }
    }

    /// Opens the storage again (as a restarted hub would) and closes it.
    async fn reopen(&self) {
        match self {
            Raw::Sqlite(path) => drop(SqliteStorage::open(path).unwrap()),
            Raw::Postgres(url) => drop(PostgresStorage::connect(url).await.unwrap()),
        }
    }
}

async fn on_sqlite_raw<F, Fut>(scenario: F)
where
    F: FnOnce(SqliteStorage, Raw) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("hub.db");
    let storage = SqliteStorage::open(&path).expect("open SQLite");
    scenario(storage, Raw::Sqlite(path)).await;
}

async fn on_postgres_raw<F, Fut>(scenario: F)
where
    F: FnOnce(PostgresStorage, Raw) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    on_postgres_db(|url| async move {
        let storage = PostgresStorage::connect(&url).await.expect("connect to PostgreSQL");
        scenario(storage, Raw::Postgres(url)).await;
    })
    .await;
}

macro_rules! on_both_backends_raw {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite_raw {
            $(#[tokio::test]
            async fn $scenario() {
                super::on_sqlite_raw(super::$scenario).await;
            })*
        }
        mod postgres_raw {
            $(#[tokio::test]
            async fn $scenario() {
                super::on_postgres_raw(super::$scenario).await;
            })*
        }
    };
}

on_both_backends_raw!(
    the_audit_log_refuses_update_and_delete,
    tampering_with_the_audit_log_is_detected,
    audit_entries_from_before_the_chain_are_chained_at_open,
    a_damaged_row_reads_as_an_error_never_as_a_nil_id_or_a_default,
);

// ---------------------------------------------------------------------------------------------
// Helpers

const DAY: i64 = 86_400_000;

fn new_org() -> (Uuid, String, String, String) {
    let org = Uuid::new_v4();
    (org, format!("manager:{org}"), format!("carer:{org}:a"), format!("carer:{org}:b"))
}

/// An Automerge document being edited; each edit is one real change.
struct Doc(AutoCommit);

type StoredChange = ([u8; 32], Vec<u8>);

impl Doc {
    fn new() -> Doc {
        Doc(AutoCommit::new())
    }

    fn edit(&mut self, key: &str, value: i64) -> StoredChange {
        let heads = self.0.get_heads();
        self.0.put(ROOT, key, value).unwrap();
        self.0.commit();
        let changes = self.0.get_changes(&heads);
        assert_eq!(changes.len(), 1);
        (changes[0].hash().0, changes[0].raw_bytes().to_vec())
    }
}

fn int(doc: &AutoCommit, key: &str) -> Option<i64> {
    match doc.get(ROOT, key).unwrap() {
        Some((automerge::Value::Scalar(s), _)) => s.as_i64(),
        _ => None,
    }
}

fn write(id: Uuid, kind: RecordKind, org: Uuid, device: Uuid) -> DocumentWrite {
    DocumentWrite {
        id,
        kind,
        owner_org: org,
        device_id: device,
        changes: Vec::new(),
        grant: Vec::new(),
        revoke: Vec::new(),
        visit: None,
        note_person: None,
        snapshot: None,
        facts: None,
        mail: None,
    }
}

fn visit(person: Uuid, day: &str, carers: &[&str]) -> VisitIndex {
    VisitIndex { person_id: person, day: day.to_string(), carers: carers.iter().map(|c| c.to_string()).collect() }
}

fn seqs(items: &[FeedItem]) -> Vec<u64> {
    items.iter().map(FeedItem::seq).collect()
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

fn grant(seq: u64, id: Uuid, kind: RecordKind) -> FeedItem {
    FeedItem::Grant { seq, id, kind }
}

fn change(seq: u64, id: Uuid, kind: RecordKind, c: &StoredChange) -> FeedItem {
    FeedItem::Change { seq, id, kind, bytes: c.1.clone() }
}

fn purge(seq: u64, id: Uuid, kind: RecordKind) -> FeedItem {
    FeedItem::Purge { seq, id, kind }
}

fn device(org: Uuid, staff: &str, role: Role) -> Device {
    Device {
        id: Uuid::new_v4(),
        org_id: org,
        staff_ref: staff.to_string(),
        role,
        name: format!("{staff}'s phone"),
        token_hash: vec![7; 32],
        revoked: false,
    }
}

// ---------------------------------------------------------------------------------------------
// Scenarios

async fn organisations_and_enrolment_codes<S: HubStorage>(s: S) {
    let org =
        Organisation { id: Uuid::new_v4(), name: "Kind Hands".into(), kind: OrgKind::Provider, partner_kind: None };
    s.create_organisation(org.clone()).await.unwrap();
    assert_eq!(s.organisation(org.id).await.unwrap(), Some(org.clone()));
    assert_eq!(s.organisation(Uuid::new_v4()).await.unwrap(), None);
    // Creating it again updates it.
    let renamed = Organisation { name: "Kinder Hands".into(), ..org.clone() };
    s.create_organisation(renamed.clone()).await.unwrap();
    assert_eq!(s.organisation(org.id).await.unwrap(), Some(renamed));
    let partner = Organisation {
        id: Uuid::new_v4(),
        name: "NHS Trust".into(),
        kind: OrgKind::Partner,
        partner_kind: Some(doorstep_model::PartnerKind::CommunityNursing),
    };
    s.create_organisation(partner.clone()).await.unwrap();
    assert_eq!(s.organisation(partner.id).await.unwrap(), Some(partner.clone()));
    // Managers pick partners to share with from this list: partners only, never providers.
    assert_eq!(s.partner_organisations().await.unwrap(), vec![partner.clone()]);

    let now = 1_700_000_000_000;
    let code = EnrolmentCode {
        code_hash: vec![1; 32],
        org_id: org.id,
        staff_ref: "a".into(),
        role: Role::Manager,
        created_by: "registered-manager".into(),
        expires_at: now + DAY,
    };
    s.create_enrolment_code(code.clone()).await.unwrap();
    // The device's organisation, staff and role come from the code, not from the request.
    let asked = device(partner.id, "someone-else", Role::Partner);
    let enrolled =
        s.redeem_enrolment_code(code.code_hash.clone(), now, asked.clone()).await.unwrap().expect("redeemed");
    assert_eq!(enrolled.id, asked.id);
    assert_eq!(enrolled.org_id, org.id);
    assert_eq!(enrolled.staff_ref, "a");
    assert_eq!(enrolled.role, Role::Manager);
    assert_eq!(enrolled.name, asked.name);
    assert_eq!(enrolled.token_hash, asked.token_hash);
    assert!(!enrolled.revoked);
    assert_eq!(s.device(asked.id).await.unwrap(), Some(enrolled));

    // Once only.
    let again = device(org.id, "a", Role::Manager);
    assert_eq!(s.redeem_enrolment_code(code.code_hash.clone(), now + 1, again.clone()).await.unwrap(), None);
    assert_eq!(s.device(again.id).await.unwrap(), None);

    // Not when expired (expiry is exclusive), nor an unknown code.
    let expired = EnrolmentCode { code_hash: vec![2; 32], expires_at: now, ..code.clone() };
    s.create_enrolment_code(expired.clone()).await.unwrap();
    let late = device(org.id, "a", Role::Carer);
    assert_eq!(s.redeem_enrolment_code(expired.code_hash.clone(), now, late.clone()).await.unwrap(), None);
    assert_eq!(s.redeem_enrolment_code(expired.code_hash.clone(), now + DAY, late.clone()).await.unwrap(), None);
    assert_eq!(s.redeem_enrolment_code(vec![3; 32], now, late.clone()).await.unwrap(), None);
    assert_eq!(s.device(late.id).await.unwrap(), None);
    // The expired code is still unused: in time, it would have worked.
    let in_time = s.redeem_enrolment_code(expired.code_hash, now - 1, late.clone()).await.unwrap().expect("in time");
    assert_eq!(in_time.role, Role::Manager);

    // A code for an organisation that does not exist is refused.
    let orphan = EnrolmentCode { code_hash: vec![4; 32], org_id: Uuid::new_v4(), ..code };
    assert!(s.create_enrolment_code(orphan).await.is_err());
}

async fn devices_are_looked_up_and_revoked<S: HubStorage>(s: S) {
    let org =
        Organisation { id: Uuid::new_v4(), name: "Kind Hands".into(), kind: OrgKind::Provider, partner_kind: None };
    s.create_organisation(org.clone()).await.unwrap();
    let now = 1_700_000_000_000;
    let mut devices = Vec::new();
    for (i, staff) in ["a", "b"].into_iter().enumerate() {
        let code_hash = vec![i as u8 + 10; 32];
        s.create_enrolment_code(EnrolmentCode {
            code_hash: code_hash.clone(),
            org_id: org.id,
            staff_ref: staff.into(),
            role: Role::Carer,
            created_by: "rm".into(),
            expires_at: now + DAY,
        })
        .await
        .unwrap();
        devices
            .push(s.redeem_enrolment_code(code_hash, now, device(org.id, staff, Role::Carer)).await.unwrap().unwrap());
    }
    let [a, b] = [devices[0].clone(), devices[1].clone()];
    assert_eq!(s.device(a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(s.device(Uuid::new_v4()).await.unwrap(), None);

    assert!(s.revoke_device(a.id, now + 5).await.unwrap());
    assert!(!s.revoke_device(a.id, now + 6).await.unwrap(), "revoking twice reports nothing revoked");
    assert!(!s.revoke_device(Uuid::new_v4(), now).await.unwrap());
    assert_eq!(s.device(a.id).await.unwrap(), Some(Device { revoked: true, ..a.clone() }));
    assert_eq!(s.device(b.id).await.unwrap(), Some(b.clone()), "the other device is untouched");
    // The manager's device list: this organisation's devices only, revoked ones marked.
    assert_eq!(s.devices_of(org.id).await.unwrap(), vec![Device { revoked: true, ..a }, b]);
    assert_eq!(s.devices_of(Uuid::new_v4()).await.unwrap(), vec![]);
}

async fn a_write_stores_each_change_once_and_grants_and_revokes_readers<S: HubStorage>(s: S) {
    let (org, manager, carer_a, _) = new_org();
    let (writer, reader) = (Uuid::new_v4(), Uuid::new_v4());
    let id = Uuid::new_v4();
    let kind = RecordKind::Person;
    let mut doc = Doc::new();
    let (c1, c2, c3) = (doc.edit("x", 1), doc.edit("x", 2), doc.edit("x", 3));

    let mut w = write(id, kind, org, writer);
    w.changes = vec![c1.clone(), c2.clone()];
    w.grant = vec![manager.clone(), carer_a.clone()];
    s.write_document(w).await.unwrap();
    // c1 = 1, c2 = 2, the manager's grant = 3, carer a's = 4.
    assert_eq!(s.max_seq().await.unwrap(), 4);
    assert_eq!(s.readers(id).await.unwrap(), sorted(vec![manager.clone(), carer_a.clone()]));
    assert_eq!(s.changes_since_snapshot(id).await.unwrap(), 2);

    // A retried push (c2 again) stores only what is new; granting again takes no number.
    let mut w = write(id, kind, org, writer);
    w.changes = vec![c2.clone(), c3.clone()];
    w.grant = vec![manager.clone()];
    s.write_document(w).await.unwrap();
    assert_eq!(s.max_seq().await.unwrap(), 5);
    assert_eq!(s.changes_since_snapshot(id).await.unwrap(), 3);
    // The same write again changes nothing at all.
    let mut w = write(id, kind, org, writer);
    w.changes = vec![c1.clone(), c2.clone(), c3.clone()];
    w.grant = vec![manager.clone(), carer_a.clone()];
    s.write_document(w).await.unwrap();
    assert_eq!(s.max_seq().await.unwrap(), 5);

    // Readers see the grant (the whole document), then only the change made after it.
    let feed = s.feed(vec![manager.clone()], 0, reader, 100).await.unwrap();
    assert_eq!(feed, vec![grant(3, id, kind), change(5, id, kind, &c3)]);
    let feed = s.feed(vec![carer_a.clone()], 0, reader, 100).await.unwrap();
    assert_eq!(feed, vec![grant(4, id, kind), change(5, id, kind, &c3)]);
    let doc_bytes = s.load_document(id).await.unwrap().unwrap().bytes;
    assert_eq!(doc_bytes, [c1.1.clone(), c2.1.clone(), c3.1.clone()].concat(), "each change stored once, in order");

    // Revoking tells the reader to purge, and takes it off the readers.
    let mut w = write(id, kind, org, writer);
    w.revoke = vec![carer_a.clone()];
    s.write_document(w).await.unwrap();
    assert_eq!(s.max_seq().await.unwrap(), 6);
    assert_eq!(s.readers(id).await.unwrap(), vec![manager.clone()]);
    assert_eq!(s.feed(vec![carer_a.clone()], 5, reader, 100).await.unwrap(), vec![purge(6, id, kind)]);
    // From the start, carer a's feed no longer offers the document, only the purge.
    assert_eq!(s.feed(vec![carer_a.clone()], 0, reader, 100).await.unwrap(), vec![purge(6, id, kind)]);
    // Purges reach the writing device too: it must delete what it no longer may read.
    assert_eq!(s.feed(vec![carer_a.clone()], 5, writer, 100).await.unwrap(), vec![purge(6, id, kind)]);
    // Revoking someone who cannot read it takes no number.
    let mut w = write(id, kind, org, writer);
    w.revoke = vec![carer_a.clone(), format!("partner:{}", Uuid::new_v4())];
    s.write_document(w).await.unwrap();
    assert_eq!(s.max_seq().await.unwrap(), 6);
}

async fn the_feed_is_in_order_limited_and_leaves_out_a_devices_own_writes<S: HubStorage>(s: S) {
    let (org, manager, carer_a, _) = new_org();
    let (w, x, r) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let (d1, d2) = (Uuid::new_v4(), Uuid::new_v4());
    let (k1, k2) = (RecordKind::Person, RecordKind::Visit);
    let (mut doc1, mut doc2) = (Doc::new(), Doc::new());
    let (a1, a2, a3) = (doc1.edit("a", 1), doc1.edit("a", 2), doc1.edit("a", 3));
    let (b1, b2) = (doc2.edit("b", 1), doc2.edit("b", 2));

    let mut wr = write(d1, k1, org, w);
    wr.changes = vec![a1.clone()];
    wr.grant = vec![manager.clone()];
    s.write_document(wr).await.unwrap(); // a1 = 1, grant manager d1 = 2 (via w)
    let mut wr = write(d1, k1, org, x);
    wr.changes = vec![a2.clone()];
    s.write_document(wr).await.unwrap(); // a2 = 3 (by x)
    let mut wr = write(d2, k2, org, w);
    wr.changes = vec![b1.clone()];
    wr.grant = vec![carer_a.clone()];
    wr.visit = Some(visit(Uuid::new_v4(), "2025-03-10", &["a"]));
    s.write_document(wr).await.unwrap(); // b1 = 4, grant carer a d2 = 5 (via w)
    let mut wr = write(d1, k1, org, x);
    wr.changes = vec![a3.clone()];
    s.write_document(wr).await.unwrap(); // a3 = 6 (by x)
    let mut wr = write(d2, k2, org, x);
    wr.changes = vec![b2.clone()];
    s.write_document(wr).await.unwrap(); // b2 = 7 (by x)
    s.set_access(vec![(d2, manager.clone())], vec![]).await.unwrap(); // grant manager d2 = 8
    let d3 = Uuid::new_v4();
    let mut wr = write(d3, k1, org, w);
    wr.changes = vec![Doc::new().edit("c", 1)];
    wr.grant = vec![carer_a.clone()];
    s.write_document(wr).await.unwrap(); // 9, grant carer a d3 = 10 (via w)
    s.set_access(vec![], vec![(d3, carer_a.clone())]).await.unwrap(); // purge carer a d3 = 11
    assert_eq!(s.max_seq().await.unwrap(), 11);

    let both = vec![manager.clone(), carer_a.clone()];
    let everything = vec![
        grant(2, d1, k1),
        change(3, d1, k1, &a2),
        // b1 (4) came before carer a's grant (5): the grant sends the whole document.
        grant(5, d2, k2),
        change(6, d1, k1, &a3),
        // Reached through carer a only (the manager's grant, 8, comes after it): listed once.
        change(7, d2, k2, &b2),
        grant(8, d2, k2),
        // d3's grant (10) was revoked: only the purge is left.
        purge(11, d3, k1),
    ];
    assert_eq!(s.feed(both.clone(), 0, r, 100).await.unwrap(), everything);
    // Principals given in the other order make no difference.
    assert_eq!(s.feed(vec![carer_a.clone(), manager.clone()], 0, r, 100).await.unwrap(), everything);

    // Paging with a limit walks the same items, in order, each once.
    let mut cursor = 0;
    let mut pages = Vec::new();
    loop {
        let page = s.feed(both.clone(), cursor, r, 3).await.unwrap();
        assert!(page.len() <= 3);
        let Some(last) = page.last() else { break };
        cursor = last.seq();
        pages.push(seqs(&page));
    }
    assert_eq!(pages, vec![vec![2, 3, 5], vec![6, 7, 8], vec![11]]);
    assert_eq!(s.feed(both.clone(), 11, r, 100).await.unwrap(), vec![]);
    assert_eq!(s.feed(both.clone(), 9, r, 100).await.unwrap(), vec![purge(11, d3, k1)]);
    assert_eq!(seqs(&s.feed(both.clone(), 5, r, 100).await.unwrap()), vec![6, 7, 8, 11]);
    assert_eq!(s.feed(both.clone(), 0, r, 1).await.unwrap(), vec![grant(2, d1, k1)]);

    // Device w is not sent its own changes, nor grants its own writes made (it has those
    // documents); it is sent other devices' changes, grants made elsewhere, and purges.
    assert_eq!(
        s.feed(both.clone(), 0, w, 100).await.unwrap(),
        vec![
            change(3, d1, k1, &a2),
            change(6, d1, k1, &a3),
            change(7, d2, k2, &b2),
            grant(8, d2, k2),
            purge(11, d3, k1)
        ]
    );
    // Device x is sent the grants but none of its own changes.
    assert_eq!(seqs(&s.feed(both.clone(), 0, x, 100).await.unwrap()), vec![2, 5, 8, 11]);

    // One principal at a time.
    assert_eq!(seqs(&s.feed(vec![manager.clone()], 0, r, 100).await.unwrap()), vec![2, 3, 6, 8]);
    assert_eq!(seqs(&s.feed(vec![carer_a.clone()], 0, r, 100).await.unwrap()), vec![5, 7, 11]);
    assert_eq!(s.feed(vec![format!("partner:{org}")], 0, r, 100).await.unwrap(), vec![]);
    assert_eq!(s.feed(vec![], 0, r, 100).await.unwrap(), vec![]);
}

/// A change that reaches the device through two of its principals (a manager who is also a
/// carer) must not push the next change past the page's limit.
async fn a_change_reached_through_two_principals_is_not_skipped<S: HubStorage>(s: S) {
    let (org, manager, carer_a, _) = new_org();
    let (w, x, r) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let (d1, d2) = (Uuid::new_v4(), Uuid::new_v4());
    let kind = RecordKind::Person;
    let mut doc1 = Doc::new();
    let (c1, c2, c3) = (doc1.edit("a", 1), doc1.edit("a", 2), doc1.edit("a", 3));
    let mut wr = write(d1, kind, org, w);
    wr.changes = vec![c1];
    wr.grant = vec![manager.clone(), carer_a.clone()];
    s.write_document(wr).await.unwrap(); // c1 = 1, grants = 2, 3
    let mut wr = write(d1, kind, org, x);
    wr.changes = vec![c2.clone(), c3.clone()];
    s.write_document(wr).await.unwrap(); // c2 = 4, c3 = 5
    let mut wr = write(d2, kind, org, w);
    wr.changes = vec![Doc::new().edit("b", 1)];
    s.write_document(wr).await.unwrap(); // 6
    s.set_access(vec![(d2, manager.clone())], vec![]).await.unwrap(); // 7

    let both = vec![manager, carer_a];
    let all = s.feed(both.clone(), 3, r, 100).await.unwrap();
    assert_eq!(all, vec![change(4, d1, kind, &c2), change(5, d1, kind, &c3), grant(7, d2, kind)]);
    let page = s.feed(both.clone(), 3, r, 2).await.unwrap();
    assert_eq!(seqs(&page), vec![4, 5], "a page must be a prefix of the feed, or the cursor skips a change");
}

async fn load_document_returns_the_snapshot_and_later_changes<S: HubStorage>(s: S) {
    let org = Uuid::new_v4();
    let device = Uuid::new_v4();
    let id = Uuid::new_v4();
    assert!(s.load_document(id).await.unwrap().is_none());
    assert_eq!(s.changes_since_snapshot(id).await.unwrap(), 0);

    let mut doc = Doc::new();
    let (c1, c2) = (doc.edit("one", 1), doc.edit("two", 2));
    let mut w = write(id, RecordKind::Visit, org, device);
    w.changes = vec![c1, c2];
    s.write_document(w).await.unwrap();
    let stored = s.load_document(id).await.unwrap().expect("stored");
    assert_eq!(stored.kind, RecordKind::Visit);
    assert_eq!(stored.owner_org, org);
    let loaded = AutoCommit::load(&stored.bytes).unwrap();
    assert_eq!((int(&loaded, "one"), int(&loaded, "two")), (Some(1), Some(2)));
    assert_eq!(s.changes_since_snapshot(id).await.unwrap(), 2);

    // Compaction: the snapshot replaces the changes so far.
    let snapshot = doc.0.save();
    let mut w = write(id, RecordKind::Visit, org, device);
    w.snapshot = Some(snapshot.clone());
    s.write_document(w).await.unwrap();
    assert_eq!(s.changes_since_snapshot(id).await.unwrap(), 0);
    assert_eq!(s.load_document(id).await.unwrap().unwrap().bytes, snapshot);

    // Later changes follow the snapshot.
    let c3 = doc.edit("three", 3);
    let mut w = write(id, RecordKind::Visit, org, device);
    w.changes = vec![c3.clone()];
    s.write_document(w).await.unwrap();
    assert_eq!(s.changes_since_snapshot(id).await.unwrap(), 1);
    let stored = s.load_document(id).await.unwrap().unwrap();
    assert_eq!(stored.bytes, [snapshot.clone(), c3.1.clone()].concat());
    let loaded = AutoCommit::load(&stored.bytes).unwrap();
    assert_eq!((int(&loaded, "one"), int(&loaded, "two"), int(&loaded, "three")), (Some(1), Some(2), Some(3)));

    // A change and the snapshot that includes it, in one write.
    let c4 = doc.edit("four", 4);
    let snapshot = doc.0.save();
    let mut w = write(id, RecordKind::Visit, org, device);
    w.changes = vec![c4];
    w.snapshot = Some(snapshot.clone());
    s.write_document(w).await.unwrap();
    assert_eq!(s.changes_since_snapshot(id).await.unwrap(), 0);
    let stored = s.load_document(id).await.unwrap().unwrap();
    assert_eq!(stored.bytes, snapshot);
    assert_eq!(int(&AutoCommit::load(&stored.bytes).unwrap(), "four"), Some(4));

    // Another document is not mixed in.
    let other = Uuid::new_v4();
    let mut w = write(other, RecordKind::Note, org, device);
    w.changes = vec![Doc::new().edit("x", 9)];
    s.write_document(w).await.unwrap();
    assert_eq!(s.load_document(id).await.unwrap().unwrap().bytes, snapshot);
    assert_eq!(s.load_document(other).await.unwrap().unwrap().kind, RecordKind::Note);
}

async fn people_on_rota_follow_the_day_window_and_both_carers<S: HubStorage>(s: S) {
    let (org, other_org) = (Uuid::new_v4(), Uuid::new_v4());
    let device = Uuid::new_v4();
    let (p1, p2, p3, p4) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    let visits = [
        (org, p1, "2025-03-09", vec!["a"]),
        (org, p1, "2025-03-10", vec!["a"]),
        (org, p2, "2025-03-11", vec!["b", "a"]),
        (org, p3, "2025-03-12", vec!["a"]),
        (org, p1, "2025-03-10", vec!["a", "b"]),
        (other_org, p4, "2025-03-10", vec!["a"]),
    ];
    let mut ids = Vec::new();
    for (owner, person, day, carers) in visits {
        let id = Uuid::new_v4();
        let mut w = write(id, RecordKind::Visit, owner, device);
        w.visit = Some(visit(person, day, &carers));
        s.write_document(w).await.unwrap();
        ids.push(id);
    }
    let rota = |staff: &str, from: &str, to: &str, org: Uuid| {
        let f = s.people_on_rota(org, staff.to_string(), from.to_string(), to.to_string());
        async move { sorted(f.await.unwrap()) }
    };
    // Inclusive at both ends, each person once, whether first or second carer.
    assert_eq!(rota("a", "2025-03-10", "2025-03-11", org).await, sorted(vec![p1, p2]));
    assert_eq!(rota("a", "2025-03-12", "2025-03-12", org).await, vec![p3]);
    assert_eq!(rota("a", "2025-03-13", "2025-03-31", org).await, Vec::<Uuid>::new());
    assert_eq!(rota("a", "2025-03-01", "2025-03-31", org).await, sorted(vec![p1, p2, p3]));
    assert_eq!(rota("b", "2025-03-01", "2025-03-31", org).await, sorted(vec![p1, p2]));
    assert_eq!(rota("b", "2025-03-11", "2025-03-31", org).await, vec![p2]);
    assert_eq!(rota("c", "2025-03-01", "2025-03-31", org).await, Vec::<Uuid>::new());
    assert_eq!(rota("a", "2025-03-10", "2025-03-10", other_org).await, vec![p4]);

    // A rewritten visit moves: p3's visit to another day and carer.
    let mut w = write(ids[3], RecordKind::Visit, org, device);
    w.visit = Some(visit(p3, "2025-03-20", &["b"]));
    s.write_document(w).await.unwrap();
    assert_eq!(rota("a", "2025-03-12", "2025-03-12", org).await, Vec::<Uuid>::new());
    assert_eq!(rota("a", "2025-03-01", "2025-03-31", org).await, sorted(vec![p1, p2]));
    assert_eq!(rota("b", "2025-03-20", "2025-03-20", org).await, vec![p3]);
    // Dropping the second carer.
    let mut w = write(ids[2], RecordKind::Visit, org, device);
    w.visit = Some(visit(p2, "2025-03-11", &["b"]));
    s.write_document(w).await.unwrap();
    assert_eq!(rota("a", "2025-03-11", "2025-03-11", org).await, Vec::<Uuid>::new());
}

async fn rota_departures_keep_when_a_carer_first_left_until_forgotten<S: HubStorage>(s: S) {
    let (_org, _manager, carer_a, carer_b) = new_org();
    let (peggy, harold) = (Uuid::new_v4(), Uuid::new_v4());
    assert!(s.rota_departures(carer_a.clone()).await.unwrap().is_empty());
    s.set_rota_departures(carer_a.clone(), vec![peggy], 1_000, vec![]).await.unwrap();
    // Noted again later: the first time stands (the grace period does not restart).
    s.set_rota_departures(carer_a.clone(), vec![peggy, harold], 5_000, vec![]).await.unwrap();
    assert_eq!(
        sorted(s.rota_departures(carer_a.clone()).await.unwrap()),
        sorted(vec![(peggy, 1_000), (harold, 5_000)])
    );
    assert!(s.rota_departures(carer_b.clone()).await.unwrap().is_empty(), "one carer's, not another's");
    // Visiting Peggy again forgets her departure; leaving again starts a new one.
    s.set_rota_departures(carer_a.clone(), vec![], 6_000, vec![peggy]).await.unwrap();
    assert_eq!(s.rota_departures(carer_a.clone()).await.unwrap(), vec![(harold, 5_000)]);
    s.set_rota_departures(carer_a.clone(), vec![peggy], 9_000, vec![]).await.unwrap();
    assert_eq!(
        sorted(s.rota_departures(carer_a.clone()).await.unwrap()),
        sorted(vec![(peggy, 9_000), (harold, 5_000)])
    );
}

async fn granted_lists_documents_of_one_kind<S: HubStorage>(s: S) {
    let (org, manager, carer_a, carer_b) = new_org();
    let device = Uuid::new_v4();
    let (person, visit_id, note, other_person) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    for (id, kind, readers) in [
        (person, RecordKind::Person, vec![manager.clone(), carer_a.clone()]),
        (visit_id, RecordKind::Visit, vec![manager.clone(), carer_a.clone()]),
        (note, RecordKind::Note, vec![carer_a.clone()]),
        (other_person, RecordKind::Person, vec![manager.clone()]),
    ] {
        let mut w = write(id, kind, org, device);
        w.grant = readers;
        s.write_document(w).await.unwrap();
    }
    let granted = |p: &str, kind| {
        let f = s.granted(p.to_string(), kind);
        async move { sorted(f.await.unwrap()) }
    };
    assert_eq!(granted(&carer_a, RecordKind::Person).await, vec![person]);
    assert_eq!(granted(&carer_a, RecordKind::Visit).await, vec![visit_id]);
    assert_eq!(granted(&carer_a, RecordKind::Note).await, vec![note]);
    assert_eq!(granted(&manager, RecordKind::Person).await, sorted(vec![person, other_person]));
    assert_eq!(granted(&manager, RecordKind::Note).await, Vec::<Uuid>::new());
    assert_eq!(granted(&carer_b, RecordKind::Person).await, Vec::<Uuid>::new());
    s.set_access(vec![(note, carer_b.clone())], vec![(person, carer_a.clone())]).await.unwrap();
    assert_eq!(granted(&carer_a, RecordKind::Person).await, Vec::<Uuid>::new());
    assert_eq!(granted(&carer_b, RecordKind::Note).await, vec![note]);
}

async fn history_of_a_person_lists_visits_and_notes<S: HubStorage>(s: S) {
    let org = Uuid::new_v4();
    let device = Uuid::new_v4();
    let (p1, p2) = (Uuid::new_v4(), Uuid::new_v4());
    let (v1, v2, v3, n1, n2) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    for (id, person, day) in [(v1, p1, "2025-03-10"), (v2, p1, "2025-03-11"), (v3, p2, "2025-03-10")] {
        let mut w = write(id, RecordKind::Visit, org, device);
        w.visit = Some(visit(person, day, &["a"]));
        s.write_document(w).await.unwrap();
    }
    for (id, person) in [(n1, p1), (n2, p2)] {
        let mut w = write(id, RecordKind::Note, org, device);
        w.note_person = Some(person);
        s.write_document(w).await.unwrap();
    }
    let history = |p| {
        let f = s.history_of(p);
        async move { sorted(f.await.unwrap().into_iter().map(|(id, k)| (id, k.code())).collect()) }
    };
    assert_eq!(history(p1).await, sorted(vec![(v1, "visit"), (v2, "visit"), (n1, "note")]));
    assert_eq!(history(p2).await, sorted(vec![(v3, "visit"), (n2, "note")]));
    assert_eq!(history(Uuid::new_v4()).await, vec![]);
    // A note moved to another person leaves the first one's history.
    let mut w = write(n1, RecordKind::Note, org, device);
    w.note_person = Some(p2);
    s.write_document(w).await.unwrap();
    assert_eq!(history(p1).await, sorted(vec![(v1, "visit"), (v2, "visit")]));
    assert_eq!(history(p2).await, sorted(vec![(v3, "visit"), (n1, "note"), (n2, "note")]));
}

async fn set_access_grants_and_revokes_with_purges<S: HubStorage>(s: S) {
    let (org, manager, carer_a, carer_b) = new_org();
    let (w, r) = (Uuid::new_v4(), Uuid::new_v4());
    let id = Uuid::new_v4();
    let kind = RecordKind::Note;
    let mut wr = write(id, kind, org, w);
    wr.changes = vec![Doc::new().edit("x", 1)];
    s.write_document(wr).await.unwrap(); // 1
    assert_eq!(s.readers(id).await.unwrap(), Vec::<String>::new());

    s.set_access(vec![(id, carer_b.clone()), (id, carer_a.clone())], vec![]).await.unwrap(); // b = 2, a = 3
    assert_eq!(s.max_seq().await.unwrap(), 3);
    assert_eq!(s.readers(id).await.unwrap(), sorted(vec![carer_a.clone(), carer_b.clone()]));
    // Not through the writing device: even it is sent the grant.
    assert_eq!(s.feed(vec![carer_a.clone()], 0, w, 10).await.unwrap(), vec![grant(3, id, kind)]);
    assert_eq!(s.feed(vec![carer_b.clone()], 0, r, 10).await.unwrap(), vec![grant(2, id, kind)]);

    // Granting again takes no number.
    s.set_access(vec![(id, carer_a.clone())], vec![]).await.unwrap();
    assert_eq!(s.max_seq().await.unwrap(), 3);

    // Grant and revoke in one call.
    s.set_access(vec![(id, manager.clone())], vec![(id, carer_a.clone())]).await.unwrap(); // m = 4, purge a = 5
    assert_eq!(s.max_seq().await.unwrap(), 5);
    assert_eq!(s.readers(id).await.unwrap(), sorted(vec![carer_b.clone(), manager.clone()]));
    assert_eq!(s.feed(vec![carer_a.clone()], 3, r, 10).await.unwrap(), vec![purge(5, id, kind)]);
    assert_eq!(s.feed(vec![manager.clone()], 0, r, 10).await.unwrap(), vec![grant(4, id, kind)]);
    // Revoking again: nothing to purge.
    s.set_access(vec![], vec![(id, carer_a.clone())]).await.unwrap();
    assert_eq!(s.max_seq().await.unwrap(), 5);

    // Granted back: a new grant after the purge.
    s.set_access(vec![(id, carer_a.clone())], vec![]).await.unwrap(); // 6
    assert_eq!(s.feed(vec![carer_a.clone()], 0, r, 10).await.unwrap(), vec![purge(5, id, kind), grant(6, id, kind)]);
    assert_eq!(s.feed(vec![carer_a.clone()], 5, r, 10).await.unwrap(), vec![grant(6, id, kind)]);

    // Nothing at all: no numbers.
    s.set_access(vec![], vec![]).await.unwrap();
    assert_eq!(s.max_seq().await.unwrap(), 6);
}

async fn max_seq_counts_only_what_takes_a_number<S: HubStorage>(s: S) {
    assert_eq!(s.max_seq().await.unwrap(), 0);
    let (org, manager, _, _) = new_org();
    let device = Uuid::new_v4();
    let id = Uuid::new_v4();
    let mut doc = Doc::new();
    // A document with no changes and no readers takes no number.
    s.write_document(write(id, RecordKind::Person, org, device)).await.unwrap();
    assert_eq!(s.max_seq().await.unwrap(), 0);
    let mut w = write(id, RecordKind::Person, org, device);
    w.changes = vec![doc.edit("a", 1), doc.edit("a", 2)];
    w.grant = vec![manager];
    s.write_document(w.clone()).await.unwrap();
    assert_eq!(s.max_seq().await.unwrap(), 3);
    s.write_document(w).await.unwrap();
    assert_eq!(s.max_seq().await.unwrap(), 3);
    s.audit(AuditEntry {
        at: 1,
        actor: "x".into(),
        action: "read".into(),
        doc_id: Some(id),
        allowed: true,
        detail: String::new(),
    })
    .await
    .unwrap();
    s.create_organisation(Organisation { id: org, name: "O".into(), kind: OrgKind::Provider, partner_kind: None })
        .await
        .unwrap();
    assert_eq!(s.max_seq().await.unwrap(), 3);
}

async fn the_audit_log_is_newest_first<S: HubStorage>(s: S) {
    assert_eq!(s.audit_log(10).await.unwrap(), vec![]);
    let doc = Uuid::new_v4();
    let entries: Vec<AuditEntry> = (0..5)
        .map(|i| AuditEntry {
            // Out of time order on purpose: newest means last recorded.
            at: 1_700_000_000_000 - i,
            actor: format!("device:{i}"),
            action: if i % 2 == 0 { "push".into() } else { "read".into() },
            doc_id: (i != 3).then_some(doc),
            allowed: i != 2,
            detail: format!("entry {i} — “quoted”"),
        })
        .collect();
    for e in &entries {
        s.audit(e.clone()).await.unwrap();
    }
    let newest_first: Vec<AuditEntry> = entries.iter().rev().cloned().collect();
    assert_eq!(s.audit_log(10).await.unwrap(), newest_first);
    assert_eq!(s.audit_log(2).await.unwrap(), newest_first[..2].to_vec());
    assert_eq!(s.audit_log(0).await.unwrap(), vec![]);
}

fn audit_entry(i: usize) -> AuditEntry {
    AuditEntry {
        at: 1_700_000_000_000 + i as i64,
        actor: format!("web:{i}"),
        action: "read".into(),
        doc_id: (!i.is_multiple_of(3)).then(|| Uuid::from_u128(0xa0d1_7000 + i as u128)),
        allowed: !i.is_multiple_of(4),
        detail: format!("entry {i} — “quoted”"),
    }
}

async fn add_audit_entries<S: HubStorage>(s: &S, n: usize) -> Vec<AuditChainRow> {
    for i in 0..n {
        s.audit(audit_entry(i)).await.unwrap();
    }
    s.audit_chain_rows(i64::MIN, 10_000).await.unwrap()
}

async fn the_audit_log_is_hash_chained<S: HubStorage>(s: S) {
    let empty = s.verify_audit_chain().await.unwrap();
    assert_eq!(empty, doorstep_hub::audit::AuditVerification { entries: 0, head: None, first_broken: None });
    let rows = add_audit_entries(&s, 7).await;
    assert_eq!(rows.len(), 7);
    let mut prev = doorstep_hub::audit::GENESIS.to_vec();
    for row in &rows {
        assert_eq!(row.prev_hash.as_ref(), Some(&prev));
        let hash = doorstep_hub::audit::row_hash(&prev, row);
        assert_eq!(row.hash.as_deref(), Some(hash.as_slice()));
        prev = hash.to_vec();
    }
    assert!(rows.windows(2).all(|w| w[0].seq < w[1].seq));
    // The rows read back are what was written.
    assert_eq!(rows[1].doc_id, audit_entry(1).doc_id.map(|d| d.to_string()));
    assert_eq!(rows[4].detail, audit_entry(4).detail);
    let report = s.verify_audit_chain().await.unwrap();
    assert_eq!(report.entries, 7);
    assert_eq!(report.head, Some((rows[6].seq, prev.clone())));
    assert!(report.intact(), "{report:?}");
    // Paging: fewer rows than asked for, then none.
    assert_eq!(s.audit_chain_rows(rows[4].seq, 10).await.unwrap(), rows[5..].to_vec());
    assert_eq!(s.audit_chain_rows(rows[6].seq, 10).await.unwrap(), vec![]);
    // An anchor that is there and right passes; a wrong hash or a missing entry fails.
    let ok = doorstep_hub::audit::verify(&s, Some((rows[3].seq, rows[3].hash.clone().unwrap()))).await.unwrap();
    assert!(ok.intact(), "{ok:?}");
    let wrong = doorstep_hub::audit::verify(&s, Some((rows[3].seq, vec![0; 32]))).await.unwrap();
    assert_eq!(wrong.first_broken.map(|(seq, _)| seq), Some(rows[3].seq));
    let missing = doorstep_hub::audit::verify(&s, Some((rows[6].seq + 5, prev))).await.unwrap();
    assert!(missing.first_broken.unwrap().1.contains("missing"));
}

async fn the_audit_log_refuses_update_and_delete<S: HubStorage>(s: S, raw: Raw) {
    let rows = add_audit_entries(&s, 3).await;
    let seq = rows[1].seq;
    let update = raw.exec(&format!("UPDATE audit_log SET detail = 'nothing happened' WHERE seq = {seq}")).await;
    assert!(update.unwrap_err().contains("append-only"));
    let rehash = raw.exec(&format!("UPDATE audit_log SET hash = {} WHERE seq = {seq}", raw.blob(&[0; 32]))).await;
    assert!(rehash.unwrap_err().contains("append-only"));
    let delete = raw.exec(&format!("DELETE FROM audit_log WHERE seq = {seq}")).await;
    assert!(delete.unwrap_err().contains("append-only"));
    let delete_all = raw.exec("DELETE FROM audit_log").await;
    assert!(delete_all.unwrap_err().contains("append-only"));
    if let Raw::Postgres(_) = raw {
        assert!(raw.exec("TRUNCATE audit_log").await.unwrap_err().contains("append-only"));
    }
    let unchained = raw
        .exec(
            "INSERT INTO audit_log (at, actor, action, doc_id, allowed, detail) VALUES (1, 'x', 'y', NULL, TRUE, 'z')",
        )
        .await;
    assert!(unchained.unwrap_err().contains("hash-chained"));
    assert_eq!(s.audit_chain_rows(i64::MIN, 100).await.unwrap(), rows);
    assert!(s.verify_audit_chain().await.unwrap().intact());
}

/// A row someone edited by hand (or a damaged file) is refused when read, naming the value:
/// never a nil id, a default role or a guessed kind of record.
async fn a_damaged_row_reads_as_an_error_never_as_a_nil_id_or_a_default<S: HubStorage>(s: S, raw: Raw) {
    let org = Uuid::new_v4();
    let provider = Organisation { id: org, name: "Sunrise".into(), kind: OrgKind::Provider, partner_kind: None };
    s.create_organisation(provider).await.unwrap();
    let device = enrol(&s, org, "C001", Role::Carer, 1).await;
    s.set_held_back(device.id, vec![(Uuid::new_v4(), RecordKind::Visit, "why".into())], 1).await.unwrap();
    assert_eq!(s.held_back_records(org).await.unwrap().len(), 1);
    raw.exec("UPDATE held_back_records SET kind = 'spaceship'").await.unwrap();
    let refused = s.held_back_records(org).await.unwrap_err();
    assert!(matches!(&refused, StorageError::Decode(m) if m.contains("spaceship")), "{refused:?}");

    raw.exec("INSERT INTO organisations (id, name, kind) VALUES ('not-an-id', 'Typo Care', 'provider')").await.unwrap();
    let refused = s.organisations().await.unwrap_err();
    assert!(matches!(&refused, StorageError::Decode(m) if m.contains("not-an-id")), "{refused:?}");
}

/// With the triggers dropped (someone with raw access), each kind of tampering is found, at the
/// entry where the chain breaks; removing the newest entries is found only against an anchor.
async fn tampering_with_the_audit_log_is_detected<S: HubStorage>(s: S, raw: Raw) {
    raw.drop_audit_triggers().await;
    async fn fresh<S: HubStorage>(s: &S, raw: &Raw) -> Vec<AuditChainRow> {
        raw.exec("DELETE FROM audit_log").await.unwrap();
        let rows = add_audit_entries(s, 5).await;
        assert!(s.verify_audit_chain().await.unwrap().intact());
        rows
    }
    async fn broken<S: HubStorage>(s: &S) -> (u64, i64, String) {
        let report = s.verify_audit_chain().await.unwrap();
        let (seq, why) = report.first_broken.expect("the tampering is detected");
        (report.entries, seq, why)
    }

    // A detail altered.
    let rows = fresh(&s, &raw).await;
    raw.exec(&format!("UPDATE audit_log SET detail = 'nothing happened' WHERE seq = {}", rows[2].seq)).await.unwrap();
    let (entries, seq, why) = broken(&s).await;
    assert_eq!((entries, seq), (5, rows[2].seq));
    assert!(why.contains("altered"), "{why}");

    // A detail altered and its hash recomputed: the next entry no longer follows it.
    let rows = fresh(&s, &raw).await;
    let mut altered = rows[2].clone();
    altered.detail = "nothing happened".into();
    let hash = doorstep_hub::audit::row_hash(altered.prev_hash.as_deref().unwrap(), &altered);
    raw.exec(&format!(
        "UPDATE audit_log SET detail = 'nothing happened', hash = {} WHERE seq = {}",
        raw.blob(&hash),
        rows[2].seq
    ))
    .await
    .unwrap();
    let (_, seq, why) = broken(&s).await;
    assert_eq!(seq, rows[3].seq);
    assert!(why.contains(&format!("does not follow entry {}", rows[2].seq)), "{why}");

    // Whether it was allowed, flipped.
    let rows = fresh(&s, &raw).await;
    raw.exec(&format!("UPDATE audit_log SET allowed = NOT allowed WHERE seq = {}", rows[1].seq)).await.unwrap();
    assert_eq!(broken(&s).await.1, rows[1].seq);

    // A middle entry removed.
    let rows = fresh(&s, &raw).await;
    raw.exec(&format!("DELETE FROM audit_log WHERE seq = {}", rows[2].seq)).await.unwrap();
    let (entries, seq, why) = broken(&s).await;
    assert_eq!((entries, seq), (4, rows[3].seq));
    assert!(why.contains(&format!("does not follow entry {}", rows[1].seq)), "{why}");

    // The first entry removed.
    let rows = fresh(&s, &raw).await;
    raw.exec(&format!("DELETE FROM audit_log WHERE seq = {}", rows[0].seq)).await.unwrap();
    let (_, seq, why) = broken(&s).await;
    assert_eq!(seq, rows[1].seq);
    assert!(why.contains("does not start the chain"), "{why}");

    // An entry added without the chain.
    let rows = fresh(&s, &raw).await;
    raw.exec(
        "INSERT INTO audit_log (at, actor, action, doc_id, allowed, detail) VALUES (1, 'x', 'y', NULL, TRUE, 'z')",
    )
    .await
    .unwrap();
    let (entries, seq, why) = broken(&s).await;
    assert_eq!(entries, 6);
    assert!(seq > rows[4].seq);
    assert!(why.contains("no hash"), "{why}");

    // The newest entries removed: the shorter chain is whole (the limit of a chain alone)...
    let rows = fresh(&s, &raw).await;
    let anchor = (rows[4].seq, rows[4].hash.clone().unwrap());
    raw.exec(&format!("DELETE FROM audit_log WHERE seq >= {}", rows[3].seq)).await.unwrap();
    let report = s.verify_audit_chain().await.unwrap();
    assert_eq!(report.entries, 3);
    assert!(report.intact());
    // ...but not against the head noted earlier.
    let report = doorstep_hub::audit::verify(&s, Some(anchor.clone())).await.unwrap();
    let (seq, why) = report.first_broken.unwrap();
    assert_eq!(seq, anchor.0);
    assert!(why.contains("missing"), "{why}");
    // Nor once new entries are written after the removal (on SQLite they reuse the numbers).
    s.audit(audit_entry(9)).await.unwrap();
    s.audit(audit_entry(10)).await.unwrap();
    assert!(s.verify_audit_chain().await.unwrap().intact());
    assert!(!doorstep_hub::audit::verify(&s, Some(anchor)).await.unwrap().intact());
}

/// Entries written before the chain existed (NULL hashes) are chained when the storage next
/// opens; the update trigger lets exactly that through, once.
async fn audit_entries_from_before_the_chain_are_chained_at_open<S: HubStorage>(s: S, raw: Raw) {
    let insert = "INSERT INTO audit_log (at, actor, action, doc_id, allowed, detail) VALUES \
                  (1, 'web:a', 'read', NULL, TRUE, 'one'), (2, 'web:b', 'read', NULL, FALSE, 'two'), \
                  (3, 'device:c', 'push', NULL, TRUE, 'three');";
    let sql = match raw {
        Raw::Sqlite(_) => format!(
            "DROP TRIGGER audit_log_insert_chained; {insert}
             CREATE TRIGGER audit_log_insert_chained BEFORE INSERT ON audit_log
             WHEN NEW.prev_hash IS NULL OR NEW.hash IS NULL
             BEGIN SELECT RAISE(ABORT, 'audit_log is hash-chained: an entry needs prev_hash and hash'); END;"
        ),
        Raw::Postgres(_) => format!(
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only; {insert}
             ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only;"
        ),
    };
    raw.exec(&sql).await.unwrap();
    let report = s.verify_audit_chain().await.unwrap();
    assert_eq!(report.first_broken.map(|(_, why)| why.contains("no hash")), Some(true));
    raw.reopen().await;
    let report = s.verify_audit_chain().await.unwrap();
    assert_eq!(report.entries, 3);
    assert!(report.intact(), "{report:?}");
    // New entries carry on the chain.
    s.audit(audit_entry(1)).await.unwrap();
    let report = s.verify_audit_chain().await.unwrap();
    assert_eq!(report.entries, 4);
    assert!(report.intact(), "{report:?}");
    // Once chained, the hashes are fixed like everything else.
    let rows = s.audit_chain_rows(i64::MIN, 10).await.unwrap();
    let rehash = format!("UPDATE audit_log SET hash = {} WHERE seq = {}", raw.blob(&[0; 32]), rows[0].seq);
    assert!(raw.exec(&rehash).await.unwrap_err().contains("append-only"));
}

async fn web_users_sessions_and_sign_in_state<S: HubStorage>(s: S) {
    let org = Uuid::new_v4();
    s.create_organisation(Organisation { id: org, name: "Council".into(), kind: OrgKind::Partner, partner_kind: None })
        .await
        .unwrap();
    let user = WebUser {
        id: Uuid::new_v4(),
        org_id: org,
        email: "ola@council.example".into(),
        name: "Ola".into(),
        role: WebRole::Commissioner,
        password_hash: "$argon2id$fake".into(),
        failed_attempts: 0,
        locked_until: None,
    };
    s.create_web_user(user.clone()).await.unwrap();
    let taken = s.create_web_user(WebUser { id: Uuid::new_v4(), ..user.clone() }).await;
    assert!(matches!(taken, Err(StorageError::Conflict(_))), "one account per email");
    assert_eq!(s.web_user(user.id).await.unwrap(), Some(user.clone()));
    assert_eq!(s.web_user_by_email("ola@council.example".into()).await.unwrap(), Some(user.clone()));
    assert_eq!(s.web_user_by_email("nobody@council.example".into()).await.unwrap(), None);

    // Two attempts count; the third (of three allowed) locks and starts the count again; while
    // locked, no attempt is counted or checked; once the lock has passed, attempts count again.
    let (until, now) = (1_700_000_000_000, 1_699_999_000_000);
    let claimed = SignInClaim::Claimed { locks: false };
    assert_eq!(s.claim_sign_in_attempt(user.id, 3, until, now).await.unwrap(), claimed);
    assert_eq!(s.claim_sign_in_attempt(user.id, 3, until, now).await.unwrap(), claimed);
    assert_eq!(s.web_user(user.id).await.unwrap().unwrap().failed_attempts, 2);
    assert_eq!(s.claim_sign_in_attempt(user.id, 3, until, now).await.unwrap(), SignInClaim::Claimed { locks: true });
    let locked = s.web_user(user.id).await.unwrap().unwrap();
    assert_eq!((locked.failed_attempts, locked.locked_until), (0, Some(until)));
    assert_eq!(s.claim_sign_in_attempt(user.id, 3, until + 1, now).await.unwrap(), SignInClaim::Locked);
    assert_eq!(s.claim_sign_in_attempt(user.id, 3, until * 2, until).await.unwrap(), claimed, "the lock has passed");
    s.clear_sign_in_failures(user.id).await.unwrap();
    assert_eq!(s.web_user(user.id).await.unwrap().unwrap().locked_until, None);

    let session = WebSession { token_hash: vec![7; 32], user_id: user.id, csrf: "token".into(), expires_at: 42 };
    s.create_session(session.clone()).await.unwrap();
    assert_eq!(s.session(vec![7; 32]).await.unwrap(), Some(session));
    assert_eq!(s.session(vec![8; 32]).await.unwrap(), None);
    s.delete_session(vec![7; 32]).await.unwrap();
    assert_eq!(s.session(vec![7; 32]).await.unwrap(), None);
    for (hash, expires_at) in [(vec![1; 32], 10), (vec![2; 32], 100), (vec![3; 32], 1000)] {
        s.create_session(WebSession { token_hash: hash, user_id: user.id, csrf: "t".into(), expires_at })
            .await
            .unwrap();
    }
    s.delete_expired_sessions(100).await.unwrap();
    assert_eq!(s.session(vec![1; 32]).await.unwrap(), None);
    assert_eq!(s.session(vec![2; 32]).await.unwrap(), None);
    assert!(s.session(vec![3; 32]).await.unwrap().is_some());
    s.delete_sessions_of(user.id).await.unwrap();
    assert_eq!(s.session(vec![3; 32]).await.unwrap(), None);
}

async fn enrol<S: HubStorage>(s: &S, org: Uuid, staff: &str, role: Role, now: i64) -> Device {
    let code_hash = Uuid::new_v4().as_bytes().to_vec();
    s.create_enrolment_code(EnrolmentCode {
        code_hash: code_hash.clone(),
        org_id: org,
        staff_ref: staff.into(),
        role,
        created_by: "operator".into(),
        expires_at: now + DAY,
    })
    .await
    .unwrap();
    s.redeem_enrolment_code(code_hash, now, device(org, staff, role)).await.unwrap().unwrap()
}

async fn status_of<S: HubStorage>(s: &S, id: Uuid) -> DeviceStatus {
    s.device_statuses(None).await.unwrap().into_iter().find(|d| d.device.id == id).unwrap()
}

async fn operators_list_organisations_and_devices_with_their_last_sync<S: HubStorage>(s: S) {
    assert_eq!(s.organisations().await.unwrap(), vec![]);
    let org =
        |name: &str, kind, partner_kind| Organisation { id: Uuid::new_v4(), name: name.into(), kind, partner_kind };
    let icb = org("Ash ICB", OrgKind::Partner, Some(doorstep_model::PartnerKind::IntegratedCareBoard));
    let zeta = org("Zeta Care", OrgKind::Provider, None);
    let alpha = org("Alpha Care", OrgKind::Provider, None);
    for o in [&icb, &zeta, &alpha] {
        s.create_organisation(o.clone()).await.unwrap();
    }
    // Providers first, then partners; by name within each.
    assert_eq!(s.organisations().await.unwrap(), vec![alpha.clone(), zeta.clone(), icb.clone()]);

    let now = 1_700_000_000_000;
    let a = enrol(&s, alpha.id, "C001", Role::Carer, now).await;
    let b = enrol(&s, alpha.id, "M001", Role::Manager, now + 1).await;
    let z = enrol(&s, zeta.id, "C009", Role::Carer, now + 2).await;
    let of_alpha = s.device_statuses(Some(alpha.id)).await.unwrap();
    let expected = |d: &Device, enrolled_at| DeviceStatus {
        device: d.clone(),
        enrolled_at,
        revoked_at: None,
        last_sync_at: None,
        last_held_back: 0,
        last_refused: 0,
    };
    assert_eq!(of_alpha, vec![expected(&a, now), expected(&b, now + 1)]);
    assert_eq!(s.device_statuses(None).await.unwrap().len(), 3);
    assert_eq!(s.device_statuses(Some(icb.id)).await.unwrap(), vec![]);

    // A sync is noted with what it held back; a quiet sync within the minute writes nothing.
    s.record_sync(a.id, now + 10_000, 2, 1).await.unwrap();
    let noted = status_of(&s, a.id).await;
    assert_eq!((noted.last_sync_at, noted.last_held_back, noted.last_refused), (Some(now + 10_000), 2, 1));
    s.record_sync(a.id, now + 20_000, 2, 1).await.unwrap();
    assert_eq!(status_of(&s, a.id).await.last_sync_at, Some(now + 10_000), "same counts within a minute: no write");
    s.record_sync(a.id, now + 30_000, 0, 0).await.unwrap();
    let cleared = status_of(&s, a.id).await;
    assert_eq!((cleared.last_sync_at, cleared.last_held_back, cleared.last_refused), (Some(now + 30_000), 0, 0));
    s.record_sync(a.id, now + 90_000, 0, 0).await.unwrap();
    assert_eq!(status_of(&s, a.id).await.last_sync_at, Some(now + 90_000), "a minute on: noted again");
    assert_eq!(status_of(&s, b.id).await.last_sync_at, None, "other devices untouched");

    assert!(s.revoke_device(z.id, now + 100).await.unwrap());
    let revoked = status_of(&s, z.id).await;
    assert_eq!((revoked.device.revoked, revoked.revoked_at), (true, Some(now + 100)));
}

async fn held_back_records_follow_what_each_device_reports<S: HubStorage>(s: S) {
    let org =
        Organisation { id: Uuid::new_v4(), name: "Kind Hands".into(), kind: OrgKind::Provider, partner_kind: None };
    let other = Organisation { id: Uuid::new_v4(), name: "Elsewhere".into(), ..org.clone() };
    s.create_organisation(org.clone()).await.unwrap();
    s.create_organisation(other.clone()).await.unwrap();
    let now = 1_700_000_000_000;
    let sam = enrol(&s, org.id, "C001", Role::Carer, now).await;
    let stranger = enrol(&s, other.id, "C009", Role::Carer, now).await;
    let (visit, idea) = (Uuid::new_v4(), Uuid::new_v4());
    let report = |records: &[(Uuid, RecordKind)]| {
        records.iter().map(|(id, kind)| (*id, *kind, "not allowed".to_string())).collect::<Vec<_>>()
    };

    assert_eq!(s.set_held_back(sam.id, report(&[(visit, RecordKind::Visit)]), now).await.unwrap(), Vec::<Uuid>::new());
    assert_eq!(
        s.set_held_back(stranger.id, report(&[(idea, RecordKind::Insight)]), now).await.unwrap(),
        Vec::<Uuid>::new()
    );
    // Reported again later: still "since" the first report.
    s.set_held_back(sam.id, report(&[(visit, RecordKind::Visit), (idea, RecordKind::Insight)]), now + 5).await.unwrap();
    let listed = s.held_back_records(org.id).await.unwrap();
    assert_eq!(listed.len(), 2, "only the organisation's own devices: {listed:?}");
    let first = listed.iter().find(|h| h.record == visit).unwrap();
    assert_eq!((first.device, first.kind, first.since, first.discard_asked), (sam.id, RecordKind::Visit, now, false));

    // A discard asked: answered with the next report, until the device stops reporting it.
    assert!(s.ask_discard(sam.id, visit, now + 6).await.unwrap());
    assert!(!s.ask_discard(sam.id, Uuid::new_v4(), now + 6).await.unwrap(), "not held back: nothing to ask");
    assert!(s.held_back_records(org.id).await.unwrap().iter().any(|h| h.record == visit && h.discard_asked));
    let both = report(&[(visit, RecordKind::Visit), (idea, RecordKind::Insight)]);
    assert_eq!(s.set_held_back(sam.id, both, now + 7).await.unwrap(), vec![visit]);
    assert_eq!(
        s.set_held_back(sam.id, report(&[(idea, RecordKind::Insight)]), now + 8).await.unwrap(),
        Vec::<Uuid>::new()
    );
    let left: Vec<Uuid> = s.held_back_records(org.id).await.unwrap().iter().map(|h| h.record).collect();
    assert_eq!(left, vec![idea]);
    s.set_held_back(sam.id, Vec::new(), now + 9).await.unwrap();
    assert_eq!(s.held_back_records(org.id).await.unwrap(), vec![]);
    assert_eq!(s.held_back_records(other.id).await.unwrap().len(), 1, "another device's list is its own");
}

async fn operators_disable_enable_and_reset_web_users<S: HubStorage>(s: S) {
    let org = Uuid::new_v4();
    s.create_organisation(Organisation { id: org, name: "Surgery".into(), kind: OrgKind::Partner, partner_kind: None })
        .await
        .unwrap();
    let user = |email: &str| WebUser {
        id: Uuid::new_v4(),
        org_id: org,
        email: email.into(),
        name: "Jo".into(),
        role: WebRole::Partner,
        password_hash: "$argon2id$old".into(),
        failed_attempts: 0,
        locked_until: None,
    };
    let (jo, al) = (user("jo@surgery.example"), user("al@surgery.example"));
    s.create_web_user(jo.clone()).await.unwrap();
    s.create_web_user(al.clone()).await.unwrap();
    let listed = s.web_users_of(org).await.unwrap();
    assert_eq!(listed.iter().map(|u| u.user.clone()).collect::<Vec<_>>(), vec![al.clone(), jo.clone()], "by email");
    assert!(listed.iter().all(|u| u.disabled_at.is_none() && u.created_at > 0));
    assert_eq!(s.web_users_of(Uuid::new_v4()).await.unwrap(), vec![]);

    // Disabled: gone for signing in and for sessions, still there for the operator.
    assert!(s.set_web_user_disabled(jo.id, Some(5)).await.unwrap());
    assert_eq!(s.web_user(jo.id).await.unwrap(), None);
    assert_eq!(s.web_user_by_email(jo.email.clone()).await.unwrap(), None);
    let status = s.web_user_status(jo.email.clone()).await.unwrap().unwrap();
    assert_eq!((status.user.id, status.disabled_at), (jo.id, Some(5)));
    assert_eq!(s.web_user(al.id).await.unwrap(), Some(al.clone()), "the other account is untouched");
    assert!(s.set_web_user_disabled(jo.id, None).await.unwrap());
    assert_eq!(s.web_user(jo.id).await.unwrap(), Some(jo.clone()));
    assert!(!s.set_web_user_disabled(Uuid::new_v4(), Some(5)).await.unwrap());
    assert_eq!(s.web_user_status("nobody@surgery.example".into()).await.unwrap(), None);

    // A new password clears the lock-out.
    s.claim_sign_in_attempt(jo.id, 1, 1_700_000_000_000, 0).await.unwrap();
    assert!(s.web_user(jo.id).await.unwrap().unwrap().locked_until.is_some());
    assert!(s.set_web_user_password(jo.id, "$argon2id$new".into()).await.unwrap());
    let reset = s.web_user(jo.id).await.unwrap().unwrap();
    assert_eq!((reset.password_hash.as_str(), reset.failed_attempts, reset.locked_until), ("$argon2id$new", 0, None));
    assert!(!s.set_web_user_password(Uuid::new_v4(), "x".into()).await.unwrap());
}

/// A provider's week is released once (the first release stands, as a published week does), and
/// an agreement is found from the commissioner's side and the provider's.
async fn feed_releases_stand_and_agreements_are_found_from_either_side<S: HubStorage>(s: S) {
    let (provider, other, icb) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    for (id, name, kind) in [
        (provider, "Sunrise", OrgKind::Provider),
        (other, "Meadow", OrgKind::Provider),
        (icb, "North ICB", OrgKind::Partner),
    ] {
        s.create_organisation(Organisation { id, name: name.into(), kind, partner_kind: None }).await.unwrap();
    }
    let release = |week: &str, by: &str, at: i64| FeedRelease {
        provider,
        week: week.into(),
        released_by: by.into(),
        released_at: at,
    };
    s.release_week(release("2026-11-23", "Mo (mo@sunrise.test)", 10)).await.unwrap();
    s.release_week(release("2026-11-16", "Mo (mo@sunrise.test)", 20)).await.unwrap();
    s.release_week(release("2026-11-23", "Someone else (x@sunrise.test)", 30)).await.unwrap();
    assert_eq!(
        s.releases_of(provider).await.unwrap(),
        [release("2026-11-16", "Mo (mo@sunrise.test)", 20), release("2026-11-23", "Mo (mo@sunrise.test)", 10)],
        "oldest first; the first release stands"
    );
    assert!(s.releases_of(other).await.unwrap().is_empty(), "one provider's releases are its own");

    let agreement = Agreement { commissioner: icb, provider, districts: vec!["NB3".into()], created_at: 5 };
    s.set_agreement(agreement.clone()).await.unwrap();
    assert_eq!(s.agreements_with(provider).await.unwrap(), std::slice::from_ref(&agreement));
    assert_eq!(s.agreements_of(icb).await.unwrap(), [agreement]);
    assert!(s.agreements_with(other).await.unwrap().is_empty());
}

async fn partner_listings_and_the_mail_outbox<S: HubStorage>(s: S) {
    let org = Uuid::new_v4();
    let partner = Organisation { id: org, name: "Northbrook OT".into(), kind: OrgKind::Partner, partner_kind: None };
    s.create_organisation(partner).await.unwrap();
    s.set_partner_listing(org, "{\"districts\":[\"NB1\"]}".into(), 1).await.unwrap();
    s.set_partner_listing(org, "{\"districts\":[\"NB2\"]}".into(), 2).await.unwrap();
    assert_eq!(s.partner_listings().await.unwrap(), [(org, "{\"districts\":[\"NB2\"]}".to_string())], "replaced");

    let mail = |id: Uuid, queued_at: i64| OutgoingMail {
        id,
        to: "team@ot.test".into(),
        subject: "Doorstep".into(),
        body: "An item".into(),
        queued_at,
        attempts: 0,
        next_attempt_at: queued_at,
        sent_at: None,
        last_error: String::new(),
    };
    let (first, second) = (Uuid::new_v4(), Uuid::new_v4());
    s.queue_mail(mail(first, 10)).await.unwrap();
    s.queue_mail(mail(second, 20)).await.unwrap();
    s.queue_mail(OutgoingMail { body: "changed".into(), ..mail(first, 10) }).await.unwrap();
    let due: Vec<Uuid> = s.mail_due(15, 10).await.unwrap().iter().map(|m| m.id).collect();
    assert_eq!(due, [first], "only what is due; queued twice, kept once");
    assert_eq!(s.mail_due(100, 10).await.unwrap()[0].body, "An item", "the first queuing stands");

    s.mail_attempted(first, 30, Some("451 try again".into()), 90).await.unwrap();
    s.mail_attempted(second, 30, None, 0).await.unwrap();
    assert!(s.mail_due(60, 10).await.unwrap().is_empty(), "a failure waits; a sent message is done");
    let again = s.mail_due(90, 10).await.unwrap();
    assert_eq!((again[0].id, again[0].attempts, again[0].last_error.as_str()), (first, 1, "451 try again"));
    let log = s.mail_log(10).await.unwrap();
    assert_eq!(log.iter().map(|m| (m.id, m.sent_at)).collect::<Vec<_>>(), [(second, Some(30)), (first, None)]);

    // A write that calls for an e-mail queues it with the document, in one transaction.
    let (doc, third) = (Uuid::new_v4(), Uuid::new_v4());
    s.write_document(DocumentWrite {
        mail: Some(mail(third, 40)),
        ..write(doc, RecordKind::Shared, org, Uuid::new_v4())
    })
    .await
    .unwrap();
    assert!(s.mail_due(40, 10).await.unwrap().iter().any(|m| m.id == third), "queued with the item");
}

async fn doc_facts_are_listed_by_kind_owner_and_reader<S: HubStorage>(s: S) {
    let (a, manager_a, _, _) = new_org();
    let (b, _, _, _) = new_org();
    let partner = format!("partner:{}", Uuid::new_v4());
    let (shared, unshared, other, idea) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    for (id, kind, org, readers, facts) in [
        (shared, RecordKind::Shared, a, vec![manager_a.clone(), partner.clone()], "{\"n\":1}"),
        (unshared, RecordKind::Shared, a, vec![manager_a.clone()], "{\"n\":2}"),
        (other, RecordKind::Shared, b, vec![partner.clone()], "{\"n\":3}"),
        (idea, RecordKind::Insight, a, vec![manager_a.clone()], "{\"n\":4}"),
    ] {
        let mut w = write(id, kind, org, Uuid::new_v4());
        w.changes = vec![Doc::new().edit("n", 1)];
        w.grant = readers;
        w.facts = Some(facts.to_string());
        s.write_document(w).await.unwrap();
    }
    let ids = |rows: Vec<DocFactsRow>| sorted(rows.into_iter().map(|r| r.doc_id).collect());
    let all_shared = s.doc_facts(RecordKind::Shared, None, None).await.unwrap();
    assert_eq!(ids(all_shared.clone()), sorted(vec![shared, unshared, other]));
    assert!(all_shared.iter().any(|r| r.doc_id == other && r.owner_org == b && r.facts == "{\"n\":3}"));
    assert_eq!(ids(s.doc_facts(RecordKind::Shared, Some(a), None).await.unwrap()), sorted(vec![shared, unshared]));
    assert_eq!(
        ids(s.doc_facts(RecordKind::Shared, None, Some(partner.clone())).await.unwrap()),
        sorted(vec![shared, other])
    );
    assert_eq!(ids(s.doc_facts(RecordKind::Shared, Some(a), Some(partner)).await.unwrap()), vec![shared]);
    assert_eq!(ids(s.doc_facts(RecordKind::Insight, None, None).await.unwrap()), vec![idea]);

    // Documents written without facts are found, and their facts can be put in afterwards.
    let older = Uuid::new_v4();
    let mut w = write(older, RecordKind::Note, a, Uuid::new_v4());
    w.changes = vec![Doc::new().edit("n", 1)];
    s.write_document(w).await.unwrap();
    let kinds = vec![RecordKind::Note, RecordKind::Insight];
    assert_eq!(s.documents_without_facts(kinds.clone()).await.unwrap(), vec![older]);
    s.put_doc_facts(older, RecordKind::Note, a, "{\"n\":6}".into()).await.unwrap();
    assert_eq!(s.documents_without_facts(kinds).await.unwrap(), Vec::<Uuid>::new());

    // A later write replaces the facts; the audit of an owner's documents leaves others' out.
    let mut w = write(shared, RecordKind::Shared, a, Uuid::new_v4());
    w.facts = Some("{\"n\":5}".into());
    s.write_document(w).await.unwrap();
    let row = s.doc_facts(RecordKind::Shared, Some(a), None).await.unwrap();
    assert!(row.iter().any(|r| r.doc_id == shared && r.facts == "{\"n\":5}"));
    for (doc, detail) in [(shared, "read a"), (other, "read b")] {
        let entry = AuditEntry {
            at: 1,
            actor: "web".into(),
            action: "read".into(),
            doc_id: Some(doc),
            allowed: true,
            detail: detail.into(),
        };
        s.audit(entry).await.unwrap();
    }
    let of_a = s.audit_of_owner(a, 10).await.unwrap();
    assert_eq!(of_a.iter().map(|e| e.detail.as_str()).collect::<Vec<_>>(), vec!["read a"]);
}

// ---------------------------------------------------------------------------------------------
// Two hub processes on one PostgreSQL database

/// Two `PostgresStorage`s (two hub processes) write 200 changes, and grant 20 documents, at once
/// while a reader pages through the feed: it must never pass a sequence number that is filled in
/// later.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_hubs_writing_at_once_never_let_a_reader_skip_a_change() {
    on_postgres_db(|url| async move {
        const WRITERS: usize = 4;
        const EACH: usize = 50;
        const GRANT_EVERY: usize = 10;
        const CHANGES: u64 = (WRITERS * EACH) as u64;
        const TOTAL: u64 = CHANGES + (WRITERS * EACH / GRANT_EVERY) as u64;
        const PAGE: u32 = 7;
        let hub_1 = PostgresStorage::connect(&url).await.expect("hub 1");
        let hub_2 = PostgresStorage::connect(&url).await.expect("hub 2");
        let org = Uuid::new_v4();
        let reader_principal = format!("manager:{org}");
        let (setup_device, reader_device) = (Uuid::new_v4(), Uuid::new_v4());
        // Each writer's document (the reader may read it), and documents it grants the reader
        // along the way (they start with no readers, so take no numbers yet).
        let docs: Vec<(Uuid, Vec<Uuid>)> =
            (0..WRITERS).map(|_| (Uuid::new_v4(), (0..EACH / GRANT_EVERY).map(|_| Uuid::new_v4()).collect())).collect();
        for (id, spare) in &docs {
            let mut w = write(*id, RecordKind::Person, org, setup_device);
            w.grant = vec![reader_principal.clone()];
            hub_1.write_document(w).await.unwrap();
            for &spare in spare {
                hub_2.write_document(write(spare, RecordKind::Note, org, setup_device)).await.unwrap();
            }
        }
        let start = hub_1.max_seq().await.unwrap();
        assert_eq!(start, WRITERS as u64);

        let mut writers = Vec::new();
        for (n, (id, spare)) in docs.iter().cloned().enumerate() {
            let hub = if n % 2 == 0 { hub_1.clone() } else { hub_2.clone() };
            let reader_principal = reader_principal.clone();
            writers.push(tokio::spawn(async move {
                let device = Uuid::new_v4();
                for i in 0..EACH {
                    let mut hash = [0u8; 32];
                    hash[0] = n as u8;
                    hash[1] = i as u8;
                    let mut w = write(id, RecordKind::Person, org, device);
                    w.changes = vec![(hash, format!("writer {n} change {i}").into_bytes())];
                    hub.write_document(w).await.unwrap();
                    if i % GRANT_EVERY == GRANT_EVERY - 1 {
                        hub.set_access(vec![(spare[i / GRANT_EVERY], reader_principal.clone())], vec![]).await.unwrap();
                    }
                }
            }));
        }

        let reader = {
            let (hub_1, hub_2) = (hub_1.clone(), hub_2.clone());
            let reader_principal = reader_principal.clone();
            tokio::spawn(async move {
                let mut cursor = start;
                let mut seen: Vec<FeedItem> = Vec::new();
                let mut round = 0u64;
                let mut pages = 0;
                while cursor < start + TOTAL {
                    round += 1;
                    // Alternate between the two hubs, as a device's requests might.
                    let hub = if round.is_multiple_of(2) { &hub_1 } else { &hub_2 };
                    let before = hub.max_seq().await.unwrap();
                    let page = hub.feed(vec![reader_principal.clone()], cursor, reader_device, PAGE).await.unwrap();
                    let after = hub.max_seq().await.unwrap();
                    // Every number after the start is for the reader (a change to a document it
                    // may read, or a grant to it), so a page is the next numbers in a row, and
                    // holds at least everything stored before the feed was asked for.
                    let expected_at_least = before.saturating_sub(cursor).min(u64::from(PAGE)) as usize;
                    assert!(
                        page.len() >= expected_at_least,
                        "gap: cursor {cursor}, max_seq {before} before the feed, but the feed gave {:?}",
                        seqs(&page)
                    );
                    for (k, item) in page.iter().enumerate() {
                        assert_eq!(item.seq(), cursor + 1 + k as u64, "the feed skipped a number: {:?}", seqs(&page));
                        assert!(item.seq() <= after, "seq {} seen before max_seq reached it ({after})", item.seq());
                    }
                    if let Some(last) = page.last() {
                        cursor = last.seq();
                        pages += 1;
                        seen.extend(page);
                    } else {
                        tokio::task::yield_now().await;
                    }
                }
                (seen, pages)
            })
        };

        for w in writers {
            w.await.unwrap();
        }
        let (seen, pages) = reader.await.unwrap();
        assert_eq!(hub_1.max_seq().await.unwrap(), start + TOTAL);
        assert_eq!(hub_2.max_seq().await.unwrap(), start + TOTAL);
        // The reader's pages, replayed, are every number exactly once, in order...
        assert_eq!(seqs(&seen), (start + 1..=start + TOTAL).collect::<Vec<_>>());
        // ...every change once...
        let changes: Vec<Vec<u8>> = seen
            .iter()
            .filter_map(|item| match item {
                FeedItem::Change { bytes, .. } => Some(bytes.clone()),
                _ => None,
            })
            .collect();
        let expected: BTreeSet<Vec<u8>> =
            (0..WRITERS).flat_map(|n| (0..EACH).map(move |i| format!("writer {n} change {i}").into_bytes())).collect();
        assert_eq!(changes.len() as u64, CHANGES);
        assert_eq!(changes.iter().cloned().collect::<BTreeSet<_>>(), expected);
        // ...every grant once...
        let granted: BTreeSet<Uuid> = seen
            .iter()
            .filter_map(|item| match item {
                FeedItem::Grant { id, .. } => Some(*id),
                _ => None,
            })
            .collect();
        assert_eq!(granted, docs.iter().flat_map(|(_, spare)| spare.iter().copied()).collect());
        // ...and the same as reading the whole feed afterwards: nothing passed was filled in later.
        let whole = hub_2.feed(vec![reader_principal.clone()], start, reader_device, 10_000).await.unwrap();
        assert_eq!(whole, seen);
        // Each writer's changes kept their order.
        for n in 0..WRITERS {
            let prefix = format!("writer {n} ");
            let mine: Vec<&Vec<u8>> = changes.iter().filter(|b| b.starts_with(prefix.as_bytes())).collect();
            let in_order: Vec<Vec<u8>> = (0..EACH).map(|i| format!("writer {n} change {i}").into_bytes()).collect();
            assert_eq!(mine, in_order.iter().collect::<Vec<_>>());
        }
        eprintln!("the reader paged through {TOTAL} numbers in {pages} pages while they were written");
    })
    .await;
}

/// Two `PostgresStorage`s (two hub processes) appending audit entries at once keep one chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_hubs_auditing_at_once_keep_one_chain() {
    on_postgres_db(|url| async move {
        const WRITERS: usize = 6;
        const EACH: usize = 40;
        let hub_1 = PostgresStorage::connect(&url).await.expect("hub 1");
        let hub_2 = PostgresStorage::connect(&url).await.expect("hub 2");
        let writers: Vec<_> = (0..WRITERS)
            .map(|n| {
                let hub = if n % 2 == 0 { hub_1.clone() } else { hub_2.clone() };
                tokio::spawn(async move {
                    for i in 0..EACH {
                        hub.audit(audit_entry(n * 1000 + i)).await.unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.await.unwrap();
        }
        let report = hub_1.verify_audit_chain().await.unwrap();
        assert_eq!(report.entries, (WRITERS * EACH) as u64);
        assert!(report.intact(), "{report:?}");
        let rows = hub_2.audit_chain_rows(i64::MIN, 10_000).await.unwrap();
        // Every entry follows exactly one other: no two were chained to the same one.
        let prevs: BTreeSet<Vec<u8>> = rows.iter().map(|r| r.prev_hash.clone().unwrap()).collect();
        assert_eq!(prevs.len(), rows.len());
    })
    .await;
}

/// Several hub processes starting at once on a fresh database migrate it once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_hubs_starting_together_migrate_once() {
    on_postgres_db(|url| async move {
        let connects: Vec<_> = (0..4)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { PostgresStorage::connect(&url).await.map(|_| ()) })
            })
            .collect();
        for c in connects {
            c.await.unwrap().expect("connect while others migrate");
        }
        let hub = PostgresStorage::connect(&url).await.unwrap();
        assert_eq!(hub.max_seq().await.unwrap(), 0);
    })
    .await;
}

#[test]
fn a_test_database_url_keeps_everything_but_the_name() {
    assert_eq!(with_database("postgres://u:p@127.0.0.1:5432/doorstep_test", "t1"), "postgres://u:p@127.0.0.1:5432/t1");
    assert_eq!(with_database("postgres://u:p@h/db?sslmode=disable", "t1"), "postgres://u:p@h/t1?sslmode=disable");
    assert_eq!(with_database("postgresql://h:5432", "t1"), "postgresql://h:5432/t1");
}

/// A burst of wrong passwords sent at once (the finding: 19 were checked, the design allows 5,
/// and the right one then signed in to a locked account): each attempt is counted before its
/// password is checked, so at most 5 are checked, and the right password afterwards is refused
/// with the same words as a wrong one.
async fn a_burst_of_sign_ins_checks_no_more_passwords_than_the_lock_out_allows<
    S: HubStorage + Clone + Sync + 'static,
>(
    s: S,
) {
    use doorstep_hub::service::Hub;
    use doorstep_hub::sharing::{MAX_FAILED_SIGN_INS, WebError};
    let org = Uuid::new_v4();
    s.create_organisation(Organisation { id: org, name: "Council".into(), kind: OrgKind::Partner, partner_kind: None })
        .await
        .unwrap();
    let hub = std::sync::Arc::new(Hub::new(s.clone()));
    let password = "the right pass phrase";
    hub.create_web_user(org, "ola@council.example", "Ola", WebRole::Partner, password).await.unwrap();
    let mut burst = tokio::task::JoinSet::new();
    for n in 0..19 {
        let hub = hub.clone();
        burst.spawn(async move { hub.sign_in("ola@council.example", &format!("wrong guess {n}")).await.map(|_| ()) });
    }
    let answers = burst.join_all().await;
    assert!(answers.iter().all(|a| matches!(a, Err(WebError::WrongPassword))), "{answers:?}");
    let checked = s
        .audit_log(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "sign_in" && e.detail.starts_with("wrong password"))
        .count();
    assert_eq!(checked, MAX_FAILED_SIGN_INS as usize, "passwords checked in the burst");
    let right = hub.sign_in("ola@council.example", password).await.map(|_| ());
    let wrong = hub.sign_in("ola@council.example", "another guess").await.map(|_| ());
    let unknown = hub.sign_in("nobody@council.example", "a guess").await.map(|_| ());
    let words = |r: &Result<(), WebError>| r.as_ref().err().map(ToString::to_string);
    assert!(matches!(right, Err(WebError::WrongPassword)), "locked: {right:?}");
    assert_eq!(words(&right), words(&wrong), "locked and wrong read the same");
    assert_eq!(words(&right), words(&unknown), "and so does an unknown e-mail");
    let forged = hub.sign_in("ola@council.example\nadmin signed in", password).await.map(|_| ());
    assert!(forged.is_err());
    let log = s.audit_log(5).await.unwrap();
    assert!(log.iter().all(|e| !e.actor.contains('\n')), "no line forged in the log: {log:?}");
}
