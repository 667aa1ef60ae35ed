//! Sync through a real hub (axum on 127.0.0.1, SQLite file storage) between real device stores.

use doorstep_demo::{Generator, at};
use doorstep_hub::PostgresStorage;
use doorstep_hub::sqlite::SqliteStorage;
use doorstep_hub::storage::HubStorage;
use doorstep_hub::testing::TestDatabase;
use doorstep_model::{NoteId, StaffId, VisitNote};
use doorstep_protocol::{API_PREFIX, Role, SYNC_CONTENT_TYPE, SyncRequest, SyncResponse};
use doorstep_sync::SyncError;
use doorstep_tests::{TestDevice, TestHub, today};
use tempfile::TempDir;

/// One sync request sent by hand (no client), as a device would after losing an answer.
async fn raw_sync(url: &str, token: &str, request: &SyncRequest) -> SyncResponse {
    let body = reqwest::Client::new()
        .post(format!("{url}{API_PREFIX}/sync"))
        .bearer_auth(token)
        .header("content-type", SYNC_CONTENT_TYPE)
        .body(doorstep_protocol::encode(request))
        .send()
        .await
        .expect("send")
        .bytes()
        .await
        .expect("body");
    doorstep_protocol::decode::<SyncResponse>(&body).expect("decode")
}

/// The office plans one visit today for `carer` and syncs it to the hub.
async fn plan_a_visit(office: &TestDevice, seed: u64, carer: &str) -> (doorstep_model::Person, doorstep_model::Visit) {
    let mut generator = Generator::new(seed);
    let person = generator.person();
    let mut visit = generator.visit(&person, at(today(), 9, 0));
    visit.carers = vec![StaffId::new(carer)];
    office.store.lock().await.put(&person).expect("person");
    office.store.lock().await.put(&visit).expect("visit");
    office.sync().await;
    (person, visit)
}

/// Runs each scenario on a hub over SQLite and on one over PostgreSQL (a fresh database).
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $name() {
                    let dir = TempDir::new().expect("temp dir");
                    let hub = TestHub::start(SqliteStorage::open(&dir.path().join("hub.db")).expect("hub storage")).await;
                    super::$name(dir, hub).await;
                }
            )*
        }
        mod postgres {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread")]
                async fn $name() {
                    let db = TestDatabase::create().await;
                    let url = db.url.clone();
                    let outcome = tokio::spawn(async move {
                        let hub = TestHub::start(PostgresStorage::connect(&url).await.expect("PostgreSQL")).await;
                        super::$name(TempDir::new().expect("temp dir"), hub).await;
                    })
                    .await;
                    db.drop().await;
                    if let Err(e) = outcome {
                        std::panic::resume_unwind(e.into_panic());
                    }
                }
            )*
        }
    };
}

on_both_backends!(
    two_carers_edit_a_note_offline_and_both_edits_reach_both,
    a_carer_gets_only_their_rota_and_cannot_write_elsewhere,
    a_revoked_device_is_refused_and_wiped,
    a_retried_request_applies_nothing_twice,
    a_large_backlog_is_paged_and_a_cut_off_sync_resumes_where_it_stopped,
    a_person_who_leaves_the_rota_is_purged_from_the_carers_device,
    a_rewritten_idea_or_shared_item_does_not_return_to_a_carer_who_left,
    a_partner_receives_only_what_is_shared_with_it,
);

async fn two_carers_edit_a_note_offline_and_both_edits_reach_both<S: HubStorage + Clone>(
    dir: TempDir,
    hub: TestHub<S>,
) {
    let office = hub.device(dir.path(), "M001", Role::Manager).await;
    let sam = hub.device(dir.path(), "C001", Role::Carer).await;
    let priya = hub.device(dir.path(), "C002", Role::Carer).await;

    // The office plans a double-up visit and syncs it up.
    let mut generator = Generator::new(3);
    let person = generator.person();
    let mut visit = generator.visit(&person, at(today(), 13, 0));
    visit.carers = vec![StaffId::new("C001"), StaffId::new("C002")];
    {
        let mut store = office.store.lock().await;
        store.put(&person).expect("person");
        store.put(&visit).expect("visit");
    }
    let report = office.sync().await;
    assert_eq!((report.pushed, report.round_trips), (2, 1));

    // Both carers receive the person and the visit in one round trip each.
    for carer in [&sam, &priya] {
        let report = carer.sync().await;
        assert_eq!(report.round_trips, 1);
        assert_eq!(report.pulled, 2, "{report:?}");
        let store = carer.store.lock().await;
        assert_eq!(store.visits_on(today(), None).expect("visits").len(), 1);
    }

    // Offline, each starts the note and types.
    let note_id = NoteId::for_visit(visit.id);
    for (carer, words) in [(&sam, "Sam: helped Harold wash and dress."), (&priya, "Priya: Harold ate all his lunch.")] {
        let mut note = VisitNote::new(note_id, visit.id, person.id);
        note.narrative = words.to_string();
        carer.store.lock().await.put(&note).expect("note");
    }
    sam.sync().await;
    priya.sync().await;
    sam.sync().await;
    office.sync().await;

    let read = |device: &doorstep_tests::TestDevice| {
        let store = device.store.clone();
        async move { store.lock().await.get::<VisitNote>(&note_id.to_string()).expect("note") }
    };
    let (a, b, c) = (read(&sam).await, read(&priya).await, read(&office).await);
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert!(a.narrative.contains("Sam: helped Harold wash and dress."), "{}", a.narrative);
    assert!(a.narrative.contains("Priya: Harold ate all his lunch."), "{}", a.narrative);

    // Nothing left to send anywhere; a further sync moves nothing.
    for device in [&sam, &priya, &office] {
        assert_eq!(device.store.lock().await.local_sync_state().expect("state").pending, 0);
        let report = device.sync().await;
        assert_eq!((report.pushed, report.pulled, report.round_trips), (0, 0, 1), "{report:?}");
    }
    hub.stop().await;
}

async fn a_carer_gets_only_their_rota_and_cannot_write_elsewhere<S: HubStorage + Clone>(dir: TempDir, hub: TestHub<S>) {
    let office = hub.device(dir.path(), "M001", Role::Manager).await;
    let sam = hub.device(dir.path(), "C001", Role::Carer).await;
    let jo = hub.device(dir.path(), "C003", Role::Carer).await;

    let mut generator = Generator::new(4);
    let peggy = generator.person();
    let arthur = generator.person();
    let mut peggys_visit = generator.visit(&peggy, at(today(), 9, 0));
    peggys_visit.carers = vec![StaffId::new("C001")];
    let mut arthurs_visit = generator.visit(&arthur, at(today(), 10, 0));
    arthurs_visit.carers = vec![StaffId::new("C003")];
    {
        let mut store = office.store.lock().await;
        for p in [&peggy, &arthur] {
            store.put(p).expect("person");
        }
        for v in [&peggys_visit, &arthurs_visit] {
            store.put(v).expect("visit");
        }
    }
    office.sync().await;
    sam.sync().await;
    jo.sync().await;
    {
        let store = sam.store.lock().await;
        let people: Vec<String> = store.people().expect("people").into_iter().map(|p| p.id).collect();
        assert_eq!(people, vec![peggy.id.to_string()], "Sam holds only Peggy");
        assert!(store.get::<doorstep_model::Person>(&arthur.id.to_string()).is_err());
    }

    // Jo writes a note for Peggy's visit, which is not hers: the hub holds it back, says why,
    // logs the denial, and Sam never sees it.
    let mut sneaky = VisitNote::new(NoteId::for_visit(peggys_visit.id), peggys_visit.id, peggy.id);
    sneaky.narrative = "not my visit".into();
    jo.store.lock().await.put(&sneaky).expect("local write");
    let report = jo.sync().await;
    assert_eq!(report.held_back, 1);
    let state = jo.store.lock().await.local_sync_state().expect("state");
    assert_eq!(state.held_back.len(), 1);
    assert!(state.held_back[0].reason.contains("not allowed"), "{:?}", state.held_back);
    let audit = hub.storage.audit_log(10).await.expect("audit");
    assert!(audit.iter().any(|e| !e.allowed && e.doc_id == Some(sneaky.id.0)), "{audit:?}");
    sam.sync().await;
    assert!(sam.store.lock().await.get::<VisitNote>(&sneaky.id.to_string()).is_err());
    hub.stop().await;
}

async fn a_revoked_device_is_refused_and_wiped<S: HubStorage + Clone>(dir: TempDir, hub: TestHub<S>) {
    let office = hub.device(dir.path(), "M001", Role::Manager).await;
    let sam = hub.device(dir.path(), "C001", Role::Carer).await;
    let (_person, _visit) = plan_a_visit(&office, 5, "C001").await;
    sam.sync().await;
    assert_eq!(sam.store.lock().await.people().expect("people").len(), 1);

    // The office revokes Sam's lost tablet through the API.
    let device_id = sam.store.lock().await.setting("device_id").expect("setting").expect("enrolled");
    let token = office.store.lock().await.setting("device_token").expect("setting").expect("enrolled");
    let response = reqwest::Client::new()
        .post(format!("{}{API_PREFIX}/devices/{device_id}/revoke", hub.url))
        .bearer_auth(token)
        .send()
        .await
        .expect("revoke");
    assert_eq!(response.status(), 204);

    let outcome = sam.client.sync(&sam.store, |_| {}).await;
    assert!(matches!(outcome, Err(SyncError::Revoked)), "{outcome:?}");
    let store = sam.store.lock().await;
    assert!(store.people().expect("people").is_empty(), "the lost tablet holds nobody's records");
    assert_eq!(store.setting("device_token").expect("setting"), None);
    hub.stop().await;
}

async fn a_retried_request_applies_nothing_twice<S: HubStorage + Clone>(dir: TempDir, hub: TestHub<S>) {
    let office = hub.device(dir.path(), "M001", Role::Manager).await;
    let mut generator = Generator::new(6);
    let person = generator.person();
    office.store.lock().await.put(&person).expect("person");
    let outgoing = office.store.lock().await.pending_changes(1 << 20).expect("pending");
    let token = office.store.lock().await.setting("device_token").expect("setting").expect("enrolled");
    let request = SyncRequest {
        cursor: 0,
        push: outgoing
            .iter()
            .map(|o| doorstep_protocol::DocChanges {
                id: o.id.parse().expect("uuid"),
                kind: o.kind,
                bytes: o.bytes.clone(),
            })
            .collect(),
        max_bytes: 1 << 20,
        held_back: Vec::new(),
    };
    let first = raw_sync(&hub.url, &token, &request).await;
    let seq_after_first = hub.storage.max_seq().await.expect("seq");
    // The answer was "lost": the device sends the very same request again.
    let second = raw_sync(&hub.url, &token, &request).await;
    assert_eq!(first.held_back, second.held_back);
    assert!(first.held_back.is_empty());
    assert_eq!(hub.storage.max_seq().await.expect("seq"), seq_after_first, "nothing stored twice");
    hub.stop().await;
}

async fn a_large_backlog_is_paged_and_a_cut_off_sync_resumes_where_it_stopped<S: HubStorage + Clone>(
    dir: TempDir,
    hub: TestHub<S>,
) {
    let office = hub.device(dir.path(), "M001", Role::Manager).await;
    let mut generator = Generator::new(7);
    {
        let mut store = office.store.lock().await;
        let people: Vec<_> = (0..400).map(|_| generator.person()).collect();
        store.put_all(&people).expect("people");
    }
    office.sync().await;

    // A second manager device starts from nothing, asking for small pages.
    let second = hub.device(dir.path(), "M002", Role::Manager).await;
    let token = second.store.lock().await.setting("device_token").expect("setting").expect("enrolled");
    let ask = |cursor: u64| {
        let request = SyncRequest { cursor, push: Vec::new(), max_bytes: 64 * 1024, held_back: Vec::new() };
        let (url, token) = (hub.url.clone(), token.clone());
        async move { raw_sync(&url, &token, &request).await }
    };
    let first = ask(0).await;
    assert!(first.more, "400 people do not fit in 64 KiB");
    assert!(first.remaining > 0);
    // The device applied the first page, then the signal dropped. It resumes from its cursor.
    let mut seen: Vec<_> = first.pull.iter().map(|d| d.id).collect();
    let mut cursor = first.cursor;
    let mut pages = 1;
    loop {
        let page = ask(cursor).await;
        pages += 1;
        seen.extend(page.pull.iter().map(|d| d.id));
        cursor = page.cursor;
        if !page.more {
            break;
        }
    }
    let unique: std::collections::BTreeSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), 400, "every person arrives");
    assert_eq!(seen.len(), 400, "and none twice");
    assert!(pages > 2);

    // The real client gets the same 400 through its own paging.
    let third = hub.device(dir.path(), "M003", Role::Manager).await;
    let mut progress = Vec::new();
    let report = third.client.sync(&third.store, |p| progress.push(p)).await.expect("sync");
    assert_eq!(report.pulled, 400);
    assert_eq!(third.store.lock().await.people().expect("people").len(), 400);
    assert!(!progress.is_empty());

    // The real client, on small pages, cut off after its second page (the answer to its third
    // request never applied). Resumed, it fetches only what it had not applied: no page again.
    let fourth = hub.device(dir.path(), "M004", Role::Manager).await;
    let client = fourth.client.clone().with_page_bytes(64 * 1024);
    let (pages, mut applied) = tokio::sync::mpsc::unbounded_channel();
    let mut before_cut = None;
    tokio::select! {
        done = client.sync(&fourth.store, |p| { let _ = pages.send(p); }) => panic!("not cut off: {done:?}"),
        () = async {
            while let Some(p) = applied.recv().await {
                before_cut = Some(p);
                if p.round_trips >= 2 {
                    break;
                }
            }
        } => {}
    }
    while let Ok(p) = applied.try_recv() {
        before_cut = Some(p);
    }
    // The last progress the client reported is the last page it applied before it was dropped.
    let before_cut = before_cut.expect("pages applied before the cut");
    let on_device = fourth.store.lock().await.people().expect("people").len();
    assert!(before_cut.round_trips >= 2 && on_device < 400, "cut off midway: {on_device} of 400");
    assert_eq!(before_cut.pulled, on_device, "what was applied is what the pages brought");
    let resumed = client.sync(&fourth.store, |_| {}).await.expect("resumed sync");
    assert_eq!(
        resumed.pulled,
        400 - on_device,
        "the resumed sync fetched {} people, {} of them again",
        resumed.pulled,
        (resumed.pulled + on_device).saturating_sub(400)
    );
    assert_eq!(fourth.store.lock().await.people().expect("people").len(), 400);
    hub.stop().await;
}

async fn a_person_who_leaves_the_rota_is_purged_from_the_carers_device<S: HubStorage + Clone>(
    dir: TempDir,
    hub: TestHub<S>,
) {
    let office = hub.device(dir.path(), "M001", Role::Manager).await;
    let sam = hub.device(dir.path(), "C001", Role::Carer).await;
    let (_person, visit) = plan_a_visit(&office, 8, "C001").await;
    sam.sync().await;
    assert_eq!(sam.store.lock().await.people().expect("people").len(), 1);

    // The office gives the visit to another carer: the person is no longer on Sam's rota.
    office
        .store
        .lock()
        .await
        .update::<doorstep_model::Visit>(&visit.id.to_string(), |v| {
            v.carers = vec![StaffId::new("C009")];
            Ok(())
        })
        .expect("reassign");
    office.sync().await;
    let report = sam.sync().await;
    assert!(report.purged >= 2, "{report:?}");
    let store = sam.store.lock().await;
    assert!(store.people().expect("people").is_empty());
    assert!(store.visits_on(today(), None).expect("visits").is_empty());
    let audit = hub.storage.audit_log(20).await.expect("audit");
    assert!(audit.iter().any(|e| e.action == "purge"), "{audit:?}");
    hub.stop().await;
}

/// Whether the carer's device holds the record.
async fn holds<R: doorstep_store::Record>(device: &TestDevice, id: &str) -> bool {
    device.store.lock().await.get::<R>(id).is_ok()
}

async fn a_rewritten_idea_or_shared_item_does_not_return_to_a_carer_who_left<S: HubStorage + Clone>(
    dir: TempDir,
    hub: TestHub<S>,
) {
    use chrono::Utc;
    use doorstep_model::{
        ConsentBasis, ConsentRecord, Insight, InsightId, InsightStatus, PartnerKind, PartnerOrg, ProviderRef,
        ShareChoices, SharedItem, SharedItemId, Urgency,
    };
    use uuid::Uuid;

    let office = hub.device(dir.path(), "M001", Role::Manager).await;
    let sam = hub.device(dir.path(), "C001", Role::Carer).await;
    let council = hub.partners().await.council;
    let mut generator = Generator::new(17);
    let mut person = generator.person();
    person.consent.council = Some(ConsentRecord {
        given: true,
        recorded_by: StaffId::new("M001"),
        recorded_at: Utc::now(),
        note: "Happy for the council to be told.".into(),
    });
    let mut visit = generator.visit(&person, at(today(), 9, 0));
    visit.carers = vec![StaffId::new("C001")];
    office.store.lock().await.put(&person).expect("person");
    office.store.lock().await.put(&visit).expect("visit");
    office.sync().await;
    sam.sync().await;

    // Sam's idea about the person, shared with the council by the office.
    let idea = Insight {
        follow_up: None,
        id: InsightId(Uuid::new_v4()),
        person_id: Some(person.id),
        author: StaffId::new("C001"),
        created_at: Utc::now(),
        summary: "A grab rail by the back door".into(),
        detail: "She caught herself on the door frame twice this week.".into(),
        suggested_action: "An OT assessment".into(),
        who_could_act: vec![PartnerKind::CouncilAdultSocialCare],
        urgency: Urgency::Soon,
        consent_basis: ConsentBasis::PersonConsented,
        status: InsightStatus::Submitted,
        comments: vec![],
        shares: vec![],
    };
    sam.store.lock().await.put(&idea).expect("idea");
    assert_eq!(sam.sync().await.held_back, 0);
    office.sync().await;
    let item = SharedItem::from_insight(
        SharedItemId(Uuid::new_v4()),
        &idea,
        ProviderRef { id: hub.provider, name: "Sunrise Home Care".into() },
        PartnerOrg {
            id: council,
            name: doorstep_tests::partners::COUNCIL.into(),
            kind: PartnerKind::CouncilAdultSocialCare,
        },
        "So the OT can assess for a grab rail",
        "M001",
        Utc::now(),
        Some(&person),
        None,
        ShareChoices { include_observations: false },
    );
    assert!(item.person.is_some(), "the item names the person");
    office.store.lock().await.put(&item).expect("shared item");
    assert_eq!(office.sync().await.held_back, 0);
    sam.sync().await;
    let (idea_id, item_id) = (idea.id.to_string(), item.id.to_string());
    assert!(holds::<SharedItem>(&sam, &item_id).await, "Sam raised it: Sam reads it");
    let sams = doorstep_hub::service::carer_principal(hub.provider, "C001");

    // The office gives the visit to another carer; Sam syncs: the shared item goes at once.
    office
        .store
        .lock()
        .await
        .update::<doorstep_model::Visit>(&visit.id.to_string(), |v| {
            v.carers = vec![StaffId::new("C009")];
            Ok(())
        })
        .expect("reassign");
    office.sync().await;
    sam.sync().await;
    assert!(!holds::<SharedItem>(&sam, &item_id).await, "the shared item left with the person");
    assert!(holds::<Insight>(&sam, &idea_id).await, "the idea stays for the grace period");

    // The office rewords the shared item: it is not granted back.
    let reworded = |store: &mut doorstep_store::Store, words: &str| {
        store
            .update::<SharedItem>(&item_id, |i| {
                i.purpose = words.into();
                Ok(())
            })
            .expect("reword");
    };
    reworded(&mut *office.store.lock().await, "So the OT can assess for a rail at the back door");
    assert_eq!(office.sync().await.held_back, 0);
    sam.sync().await;
    assert!(!hub.storage.readers(item.id.0).await.expect("readers").contains(&sams), "not Sam's again");
    assert!(!holds::<SharedItem>(&sam, &item_id).await, "not back on Sam's tablet");

    // After the grace period the idea goes; the office's comment on it does not bring it back.
    let days = u64::try_from(doorstep_hub::service::IDEA_GRACE_DAYS).expect("days");
    hub.clock.advance(std::time::Duration::from_secs((days * 24 + 1) * 60 * 60));
    sam.sync().await;
    assert!(!holds::<Insight>(&sam, &idea_id).await, "the idea left after the grace period");
    office
        .store
        .lock()
        .await
        .update::<Insight>(&idea_id, |i| {
            i.detail = "She caught herself on the door frame three times this week.".into();
            Ok(())
        })
        .expect("the office edits the idea");
    assert_eq!(office.sync().await.held_back, 0);
    sam.sync().await;
    assert!(!hub.storage.readers(idea.id.0).await.expect("readers").contains(&sams), "not Sam's again");
    assert!(!holds::<Insight>(&sam, &idea_id).await, "not back on Sam's tablet");
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hub_restored_from_a_backup_catches_up_through_the_automerge_sync_protocol() {
    let dir = TempDir::new().expect("temp dir");
    let hub_file = dir.path().join("hub.db");
    let hub = TestHub::start(SqliteStorage::open(&hub_file).expect("hub")).await;
    let provider = hub.provider;
    let office = hub.device(dir.path(), "M001", Role::Manager).await;
    let mut generator = Generator::new(9);
    let person = generator.person();
    let visit = generator.visit(&person, at(today(), 9, 0));
    let note_id = NoteId::for_visit(visit.id);
    let write = |words: &'static str| {
        let store = office.store.clone();
        async move {
            let mut store = store.lock().await;
            let mut note = store
                .get::<VisitNote>(&note_id.to_string())
                .unwrap_or_else(|_| VisitNote::new(note_id, visit.id, person.id));
            note.narrative.push_str(words);
            store.put(&note).expect("write");
        }
    };
    office.store.lock().await.put(&person).expect("person");
    office.store.lock().await.put(&visit).expect("visit");
    write("first. ").await;
    office.sync().await;

    // A backup is taken, more is synced, and then the hub is restored from the backup.
    let backup = dir.path().join("backup.db");
    rusqlite::Connection::open(&hub_file)
        .expect("open")
        .execute("VACUUM INTO ?1", [backup.to_string_lossy()])
        .expect("backup");
    write("second. ").await;
    office.sync().await;
    hub.stop().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", hub_file.display()));
    }
    std::fs::copy(&backup, &hub_file).expect("restore");
    let hub = TestHub::serve(SqliteStorage::open(&hub_file).expect("restored hub"), provider).await;
    let token = office.store.lock().await.setting("device_token").expect("setting").expect("token");
    let client = doorstep_sync::SyncClient::new(&hub.url, &token);

    // The device's next push builds on "second", which the restored hub never saw.
    write("third.").await;
    let report = client.sync(&office.store, |_| {}).await.expect("sync");
    assert_eq!(report.doc_syncs, 1, "{report:?}");
    assert_eq!(office.store.lock().await.local_sync_state().expect("state").pending, 0);

    // A device starting from nothing now gets every word from the hub.
    let fresh = hub.device(dir.path(), "M002", Role::Manager).await;
    fresh.sync().await;
    let note: VisitNote = fresh.store.lock().await.get(&note_id.to_string()).expect("note");
    assert_eq!(note.narrative, "first. second. third.");
    hub.stop().await;
}

async fn a_partner_receives_only_what_is_shared_with_it<S: HubStorage + Clone>(dir: TempDir, hub: TestHub<S>) {
    use doorstep_hub::storage::{OrgKind, Organisation};
    let office = hub.device(dir.path(), "M001", Role::Manager).await;
    let mut generator = Generator::new(13);
    let shared = generator.person();
    let private = generator.person();
    office.store.lock().await.put(&shared).expect("person");
    office.store.lock().await.put(&private).expect("person");
    office.sync().await;

    // A GP practice with a device; one record shared with it (the sharing screens arrive with
    // the partner issue; the hub's check is what is tested here).
    let practice = uuid::Uuid::new_v4();
    hub.storage
        .create_organisation(Organisation {
            id: practice,
            name: "Riverside Surgery".into(),
            kind: OrgKind::Partner,
            partner_kind: Some(doorstep_model::PartnerKind::GpPractice),
        })
        .await
        .expect("partner");
    let code = doorstep_hub::api::issue_enrolment_code(&hub.storage, practice, "GP1", Role::Partner, "test")
        .await
        .expect("code")
        .code;
    let store = std::sync::Arc::new(tokio::sync::Mutex::new(
        doorstep_store::Store::open(dir.path().join("gp.db")).expect("store"),
    ));
    doorstep_sync::enrol(&store, &hub.url, &code, "surgery PC").await.expect("enrol");
    let client = doorstep_sync::SyncClient::for_store(&store).await.expect("client");
    client.sync(&store, |_| {}).await.expect("sync");
    assert!(store.lock().await.people().expect("people").is_empty(), "nothing is shared yet");

    hub.storage.set_access(vec![(shared.id.0, format!("partner:{practice}"))], Vec::new()).await.expect("share");
    client.sync(&store, |_| {}).await.expect("sync");
    let people: Vec<String> = store.lock().await.people().expect("people").into_iter().map(|p| p.id).collect();
    assert_eq!(people, vec![shared.id.to_string()]);

    // The partner cannot write into the provider's records it was not given.
    let mut forged = private.clone();
    forged.what_matters_to_me = "changed by someone else".into();
    store.lock().await.put(&forged).expect("local write");
    let report = client.sync(&store, |_| {}).await.expect("sync");
    assert_eq!(report.held_back, 1);
    office.sync().await;
    let office_copy: doorstep_model::Person = office.store.lock().await.get(&private.id.to_string()).expect("person");
    assert_ne!(office_copy.what_matters_to_me, "changed by someone else");
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn background_sync_reports_offline_then_catches_up_when_the_hub_is_back() {
    use std::time::Duration;
    let dir = TempDir::new().expect("temp dir");
    let storage = SqliteStorage::open(&dir.path().join("hub.db")).expect("hub");
    let hub = TestHub::start(storage.clone()).await;
    let office = hub.device(dir.path(), "M001", Role::Manager).await;
    let address = hub.url.trim_start_matches("http://").to_string();
    hub.stop().await; // the signal drops

    let mut generator = Generator::new(14);
    office.store.lock().await.put(&generator.person()).expect("person");
    let mut background = doorstep_sync::Background::start_with(
        office.store.clone(),
        office.client.clone(),
        Duration::from_secs(60),
        Duration::from_millis(50),
        Duration::from_millis(200),
    );
    let status = loop {
        let status = background.changed().await;
        if !status.syncing && status.last_error.is_some() {
            break status;
        }
    };
    assert!(status.offline, "{status:?}");
    assert_eq!(status.waiting, 1);
    assert_eq!(status.last_synced_at, None);

    // The hub comes back on the same address; the device catches up by itself (backoff), or
    // at once when asked.
    let listener = tokio::net::TcpListener::bind(&address).await.expect("same address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(doorstep_hub::server::serve_on(
        storage,
        listener,
        doorstep_hub::server::Transport::PlainHttpForDevelopment,
        async {
            let _ = stopped.await;
        },
    ));
    background.sync_now();
    let status = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let status = background.changed().await;
            if status.last_synced_at.is_some() && !status.syncing {
                break status;
            }
        }
    })
    .await
    .expect("synced within 10 s");
    assert!(!status.offline);
    assert_eq!(status.waiting, 0);
    background.stop();
    let _ = stop.send(());
    let _ = server.await;
}

/// A hub address that answers with a redirect is not followed: the device's enrolment code (and,
/// later, its token and records) never reach the address it was sent to.
#[tokio::test]
async fn the_sync_client_follows_no_redirect() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // Where the redirect points: counts who arrives.
    let elsewhere = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let elsewhere_at = elsewhere.local_addr().expect("address");
    let arrived = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = arrived.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = elsewhere.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _ = socket.shutdown().await;
        }
    });
    // The "hub": every request is sent on elsewhere, keeping the method and body (307).
    let hub = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let hub_at = hub.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = hub.accept().await {
            let mut request = vec![0u8; 4096];
            let _ = socket.read(&mut request).await;
            let answer = format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://{elsewhere_at}{API_PREFIX}/enrol\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = socket.write_all(answer.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    let dir = TempDir::new().expect("dir");
    let store = tokio::sync::Mutex::new(doorstep_store::Store::open(dir.path().join("d.db")).expect("store"));
    let refused = doorstep_sync::enrol(&store, &format!("http://{hub_at}"), "ABCD-EFGH", "Sam's tablet").await;
    match refused {
        Err(SyncError::Refused { status: 307, code, .. }) => assert_eq!(code, "redirect"),
        other => panic!("a redirect is an error, not followed: {other:?}"),
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(arrived.load(std::sync::atomic::Ordering::SeqCst), 0, "nothing reached the address redirected to");
}
