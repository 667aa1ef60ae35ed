//! Shared items in the device store: what one partner receives of an insight is a stored record,
//! projected into `shared_items` and `shared_responses`, listed per insight with the partners'
//! answers, carried between replicas, rebuilt after an upgrade and refused when invalid.

use chrono::{DateTime, Duration, Utc};
use doorstep_model::insight::{ConsentBasis, Insight, InsightStatus, PartnerKind, PartnerOrg, Urgency};
use doorstep_model::note::{Comparison, SoftSign, SoftSignObservation, VisitNote};
use doorstep_model::person::ConsentRecord;
use doorstep_model::shared::{PartnerResponse, ProviderRef, ResponseOutcome, ShareChoices, SharedItem, SharedStatus};
use doorstep_model::visit::{TimeWindow, Visit, VisitStatus};
use doorstep_model::{InsightId, NoteId, Person, PersonId, RecordKind, SharedItemId, StaffId, VisitId};
use doorstep_store::{Store, StoreError, Written};
use tempfile::TempDir;
use uuid::Uuid;

fn new_store(dir: &TempDir, name: &str) -> Store {
    Store::open(dir.path().join(name)).expect("open store")
}

fn time(hours_ago: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_795_000_000, 0).unwrap_or_default() - Duration::hours(hours_ago)
}

fn peggy() -> Person {
    let mut p = Person::new(PersonId(Uuid::new_v4()), "P00001", "Margaret", "Jones");
    p.address.postcode = "NB3 2QT".into();
    p.consent.council = Some(ConsentRecord {
        given: true,
        recorded_by: StaffId::new("M001"),
        recorded_at: time(1000),
        note: "Happy for the council to be told".into(),
    });
    p
}

fn idea(person: &Person) -> Insight {
    Insight {
        follow_up: None,
        id: InsightId(Uuid::new_v4()),
        person_id: Some(person.id),
        author: StaffId::new("C001"),
        created_at: time(48),
        summary: "Grab rail by the back door".into(),
        detail: "Nearly fell twice this week".into(),
        suggested_action: "OT assessment".into(),
        who_could_act: vec![PartnerKind::CouncilAdultSocialCare],
        urgency: Urgency::Soon,
        consent_basis: ConsentBasis::PersonConsented,
        status: InsightStatus::Shared,
        comments: vec![],
        shares: vec![],
    }
}

fn partner(name: &str, kind: PartnerKind) -> PartnerOrg {
    PartnerOrg { id: Uuid::new_v4(), name: name.into(), kind }
}

fn shared(insight: &Insight, person: &Person, to: PartnerOrg, at: DateTime<Utc>) -> SharedItem {
    SharedItem::from_insight(
        SharedItemId(Uuid::new_v4()),
        insight,
        ProviderRef { id: Uuid::new_v4(), name: "Sunrise Home Care".into() },
        to,
        "So an OT can assess for a grab rail",
        "M001",
        at,
        Some(person),
        None,
        ShareChoices::default(),
    )
}

fn answer(key: &str, outcome: ResponseOutcome, message: &str, at: DateTime<Utc>) -> PartnerResponse {
    PartnerResponse {
        key: key.into(),
        outcome,
        message: message.into(),
        by: "Sam Patel".into(),
        at,
        admission_likely_avoided: None,
    }
}

#[test]
fn shared_items_are_listed_per_insight_with_status_and_answers() {
    let dir = TempDir::new().expect("dir");
    let mut store = new_store(&dir, "office.db");
    let person = peggy();
    let insight = idea(&person);
    let other = idea(&person);
    let council =
        shared(&insight, &person, partner("Leeds Adult Social Care", PartnerKind::CouncilAdultSocialCare), time(10));
    let gp = shared(&insight, &person, partner("Riverside Surgery", PartnerKind::GpPractice), time(9));
    let elsewhere =
        shared(&other, &person, partner("Leeds Adult Social Care", PartnerKind::CouncilAdultSocialCare), time(8));
    store.put_all([&council, &gp, &elsewhere]).expect("put");

    let rows = store.shared_items_of(&insight.id.to_string()).expect("rows");
    assert_eq!(
        rows.iter().map(|r| r.partner.name.as_str()).collect::<Vec<_>>(),
        ["Leeds Adult Social Care", "Riverside Surgery"]
    );
    let row = &rows[0];
    assert_eq!(row.id, council.id.to_string());
    assert_eq!(row.insight_id, insight.id.to_string());
    assert_eq!(row.partner, council.partner);
    assert_eq!(row.purpose, "So an OT can assess for a grab rail");
    assert_eq!(row.shared_by, "M001");
    assert_eq!(row.shared_at, time(10));
    assert!(row.identifies_person, "Peggy's consent covers the council");
    assert!(!rows[1].identifies_person, "no NHS consent recorded: the GP practice gets the area only");
    assert_eq!(row.status, SharedStatus::New);
    assert!(row.responses.is_empty() && row.revoked.is_none());

    // The partner answers twice (at the hub; here, as the merged document would say).
    let id = council.id.to_string();
    store
        .update::<SharedItem>(&id, |item| {
            item.respond(answer("b", ResponseOutcome::ActionTaken, "OT visit booked Tuesday", time(2)))?;
            item.respond(answer("a", ResponseOutcome::Acknowledged, "Seen, thank you", time(5)))?;
            Ok(())
        })
        .expect("answers");
    let row = store.shared_items_of(&insight.id.to_string()).expect("rows").remove(0);
    assert_eq!(row.status, SharedStatus::Answered(ResponseOutcome::ActionTaken));
    assert_eq!(row.responses.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["a", "b"], "oldest first");
    assert_eq!(row.latest_response().map(|r| r.message.as_str()), Some("OT visit booked Tuesday"));
    assert_eq!(row.responses[1].by, "Sam Patel");
    assert_eq!(row.responses[1].at, time(2));

    // Stopping sharing.
    store
        .update::<SharedItem>(&id, |item| {
            item.revoke("M001", time(1));
            Ok(())
        })
        .expect("revoke");
    let row = store.shared_items_of(&insight.id.to_string()).expect("rows").remove(0);
    assert_eq!(row.status, SharedStatus::Revoked);
    assert_eq!(row.revoked.as_ref().map(|r| (r.by.as_str(), r.at)), Some(("M001", time(1))));
    assert_eq!(row.responses.len(), 2, "the answers stay on record");

    assert_eq!(store.shared_items().expect("all").len(), 3);
    assert_eq!(store.shared_items().expect("all")[0].id, elsewhere.id.to_string(), "newest first");
}

#[test]
fn a_shared_item_travels_to_another_replica_and_survives_a_rebuild() {
    let dir = TempDir::new().expect("dir");
    let mut office = new_store(&dir, "office.db");
    let mut partner_device = new_store(&dir, "partner.db");
    let person = peggy();
    let insight = idea(&person);
    let mut item =
        shared(&insight, &person, partner("Leeds Adult Social Care", PartnerKind::CouncilAdultSocialCare), time(3));
    office.put(&item).expect("put");
    let id = item.id.to_string();

    let bytes = office.document_bytes(RecordKind::Shared, &id).expect("bytes");
    assert_eq!(partner_device.apply_changes(RecordKind::Shared, &id, &bytes).expect("apply"), Written::Changed);
    assert_eq!(partner_device.get::<SharedItem>(&id).expect("item"), item);
    let rows = partner_device.shared_items().expect("rows");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, SharedStatus::New);

    // An answer written on the partner's side comes back through a merge and is projected.
    let heads = office.heads(RecordKind::Shared, &id).expect("heads");
    partner_device
        .update::<SharedItem>(&id, |i| {
            Ok(i.respond(answer("k1", ResponseOutcome::Declined, "Not ours: try housing", time(1)))?)
        })
        .expect("answer");
    let back = partner_device.changes_since(RecordKind::Shared, &id, &heads).expect("changes");
    assert_eq!(office.apply_changes(RecordKind::Shared, &id, &back).expect("merge"), Written::Changed);
    let row = office.shared_items_of(&insight.id.to_string()).expect("rows").remove(0);
    assert_eq!(row.status, SharedStatus::Answered(ResponseOutcome::Declined));
    assert_eq!(row.responses[0].message, "Not ours: try housing");

    // Projections are rebuilt from the documents alone.
    office.reproject_all().expect("rebuild");
    let rebuilt = office.shared_items_of(&insight.id.to_string()).expect("rows");
    assert_eq!(rebuilt, vec![row]);

    // An invalid shared item never reaches the document.
    item.purpose = "  ".into();
    item.id = SharedItemId(Uuid::new_v4());
    assert!(matches!(office.put(&item), Err(StoreError::Shared(_))));
}

#[test]
fn sharing_an_insight_and_its_items_is_one_transaction() {
    let dir = TempDir::new().expect("dir");
    let mut store = new_store(&dir, "office.db");
    let person = peggy();
    let mut insight = idea(&person);
    insight.status = InsightStatus::Reviewed;
    store.put(&insight).expect("insight");
    let id = insight.id.to_string();

    // A refused item leaves the insight as it was.
    let refused = store.update_and_put::<Insight, SharedItem>(&id, |i| {
        i.status = InsightStatus::Shared;
        let mut bad = shared(i, &person, partner("Council", PartnerKind::CouncilAdultSocialCare), time(1));
        bad.summary.clear();
        Ok(vec![bad])
    });
    assert!(matches!(refused, Err(StoreError::Shared(_))), "{refused:?}");
    assert_eq!(store.get::<Insight>(&id).expect("insight").status, InsightStatus::Reviewed);
    assert!(store.shared_items().expect("rows").is_empty());

    let (after, items) = store
        .update_and_put::<Insight, SharedItem>(&id, |i| {
            i.status = InsightStatus::Shared;
            Ok(vec![shared(i, &person, partner("Council", PartnerKind::CouncilAdultSocialCare), time(1))])
        })
        .expect("shared");
    assert_eq!(after.status, InsightStatus::Shared);
    assert_eq!(store.shared_items_of(&id).expect("rows")[0].id, items[0].id.to_string());
}

#[test]
fn the_latest_note_of_a_person_comes_with_when_it_was_observed() {
    let dir = TempDir::new().expect("dir");
    let mut store = new_store(&dir, "office.db");
    let person = peggy();
    store.put(&person).expect("person");
    assert_eq!(store.latest_note_of(&person.id.to_string()).expect("none yet"), None);
    let mut notes = Vec::new();
    for (hours_ago, checked_in) in [(30, true), (6, false)] {
        let start = time(hours_ago);
        let visit = Visit {
            id: VisitId(Uuid::new_v4()),
            person_id: person.id,
            window: TimeWindow { start, end: start + Duration::minutes(30) },
            carers: vec![StaffId::new("C001")],
            tasks: vec![],
            checked_in_at: checked_in.then(|| start + Duration::minutes(4)),
            checked_out_at: None,
            status: if checked_in { VisitStatus::InProgress } else { VisitStatus::Scheduled },
            could_not: None,
            reviewed: None,
        };
        store.put(&visit).expect("visit");
        let mut note = VisitNote::new(NoteId::for_visit(visit.id), visit.id, person.id);
        note.observe(SoftSignObservation {
            sign: SoftSign::Confusion,
            compared_to_usual: Comparison::New,
            detail: format!("{hours_ago} hours ago"),
        });
        store.put(&note).expect("note");
        notes.push((note, visit));
    }
    let (note, at) = store.latest_note_of(&person.id.to_string()).expect("query").expect("a note");
    assert_eq!(note, notes[1].0, "the most recent visit's note");
    assert_eq!(at, time(6), "not checked in: the planned start");

    // The older visit, checked in, dates by its check-in.
    store
        .update::<Visit>(&notes[1].1.id.to_string(), |v| {
            v.window = TimeWindow { start: time(40), end: time(40) + Duration::minutes(30) };
            Ok(())
        })
        .expect("move");
    let (note, at) = store.latest_note_of(&person.id.to_string()).expect("query").expect("a note");
    assert_eq!(note, notes[0].0);
    assert_eq!(at, time(30) + Duration::minutes(4));
}

/// Version 5 rebuilds `documents` to admit the new kind: every document, its appended changes,
/// its sync state and its projections come through.
#[test]
fn upgrading_to_shared_items_keeps_every_document_and_its_changes() {
    let dir = TempDir::new().expect("dir");
    let person = peggy();
    let (changes, pending) = {
        let mut store = new_store(&dir, "new.db");
        store.put(&person).expect("person");
        // Once the hub holds a document, edits are appended as incremental changes.
        store.acknowledge_current(RecordKind::Person, &person.id.to_string()).expect("synced");
        for n in 0..5 {
            store
                .update::<Person>(&person.id.to_string(), |p| {
                    p.what_matters_to_me = format!("Biscuit the cat, {n}");
                    Ok(())
                })
                .expect("edit");
        }
        let conn = rusqlite::Connection::open(dir.path().join("new.db")).expect("raw");
        let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).expect(sql);
        (count("SELECT COUNT(*) FROM document_changes"), count("SELECT COUNT(*) FROM documents WHERE sync_pending = 1"))
    };
    assert!(changes > 0, "appended changes to carry over");
    // The same rows in a database at version 4.
    let old = dir.path().join("old.db");
    {
        let mut conn = rusqlite::Connection::open(&old).expect("raw");
        doorstep_store::migrations().expect("migrations").to_version(&mut conn, 4).expect("version 4");
        conn.execute("ATTACH DATABASE ?1 AS new", [dir.path().join("new.db").to_string_lossy()]).expect("attach");
        conn.execute_batch(
            "INSERT INTO documents SELECT * FROM new.documents;
             INSERT INTO document_changes SELECT * FROM new.document_changes;
             INSERT INTO device_settings SELECT * FROM new.device_settings;",
        )
        .expect("copy");
    }
    let mut store = Store::open(&old).expect("upgrade");
    let conn = rusqlite::Connection::open(&old).expect("raw");
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).expect(sql);
    assert_eq!(count("PRAGMA user_version"), doorstep_store::schema_version() as i64);
    assert_eq!(count("SELECT COUNT(*) FROM document_changes"), changes);
    assert_eq!(count("SELECT COUNT(*) FROM documents WHERE sync_pending = 1"), pending);
    assert_eq!(count("SELECT COUNT(*) FROM pragma_foreign_key_check"), 0);
    assert_eq!(store.get::<Person>(&person.id.to_string()).expect("person").what_matters_to_me, "Biscuit the cat, 4");
    assert_eq!(store.people().expect("projection rebuilt").len(), 1);
    let insight = idea(&person);
    let item = shared(&insight, &person, partner("Council", PartnerKind::CouncilAdultSocialCare), time(1));
    store.put(&item).expect("the new kind is accepted");
}

/// After a hub restore a carer's device sends again what a carer may write, not the shared items
/// it holds (a carer may never write them: the hub would refuse them and they would stay held
/// back); a manager's device sends everything.
#[test]
fn after_a_restore_a_carer_resends_what_a_carer_may_write() {
    use doorstep_model::Role;
    let dir = TempDir::new().expect("dir");
    let mut store = new_store(&dir, "tablet.db");
    let person = peggy();
    let insight = idea(&person);
    let item =
        shared(&insight, &person, partner("Leeds Adult Social Care", PartnerKind::CouncilAdultSocialCare), time(10));
    store.put(&person).expect("put person");
    store.put(&insight).expect("put idea");
    store.put(&item).expect("put shared item");
    for (kind, id) in [
        (RecordKind::Person, person.id.to_string()),
        (RecordKind::Insight, insight.id.to_string()),
        (RecordKind::Shared, item.id.to_string()),
    ] {
        store.acknowledge_current(kind, &id).expect("acknowledged");
    }
    assert_eq!(store.local_sync_state().expect("state").pending, 0);

    assert_eq!(store.resend_all(Role::Carer).expect("resend"), 2);
    let pending: Vec<String> = store.pending_changes(usize::MAX).expect("pending").into_iter().map(|o| o.id).collect();
    assert!(pending.contains(&person.id.to_string()) && pending.contains(&insight.id.to_string()), "{pending:?}");
    assert!(!pending.contains(&item.id.to_string()), "the shared item stays as the hub had it");

    assert_eq!(store.resend_all(Role::Manager).expect("resend"), 3);
    assert_eq!(store.local_sync_state().expect("state").pending, 3);
}
