//! The authorisation matrix (issue 6): every kind of caller against every kind of document, on a
//! real hub over HTTP. Two providers, two carers on different rotas, items shared with partners,
//! a partner and a commissioner at the hub's pages, a revoked tablet, and requests with no token
//! or a forged one.
//!
//! READ  — for a device: does the document arrive in the feed (every page from cursor 0) of a
//!         fresh device enrolled as the same member of staff? (A device's feed leaves out its
//!         own changes, which it already holds.) For a person at the hub's pages: does
//!         `/items/<id>` open?
//! WRITE — for a device: is a change pushed onto the hub's copy of the document accepted, or held
//!         back as forbidden? For a person at the pages: is an answer at `/items/<id>/respond`
//!         taken (the only write a partner has)?
//!
//! Every cell is run and checked against [`EXPECTED`]: the hub's copy changes exactly where a
//! write is allowed, and every refusal the hub can attribute is in its audit log with
//! `allowed = false`. The matrix is printed (`--nocapture` shows it).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::fmt::Write as _;

use automerge::AutoCommit;
use chrono::Utc;
use doorstep_demo::{Generator, at};
use doorstep_hub::service::load_strict;
use doorstep_hub::sqlite::SqliteStorage;
use doorstep_hub::storage::{AuditEntry, HubStorage, WebRole};
use doorstep_model::{
    ConsentBasis, ConsentRecord, Directory, Insight, InsightId, InsightStatus, PartnerKind, PartnerOrg, Person,
    ProviderRef, RecordKind, ShareChoices, SharedItem, SharedItemId, StaffId, Urgency, Visit, VisitNote,
};
use doorstep_protocol::{API_PREFIX, DocChanges, HoldReason, Role, SYNC_CONTENT_TYPE, SyncRequest, SyncResponse};
use doorstep_tests::partners::{COUNCIL, Partners, SURGERY, WebSession};
use doorstep_tests::{TestDevice, TestHub, today};
use reqwest::StatusCode;
use uuid::Uuid;

/// The documents, in the matrix's column order. Sunrise Home Care is the provider the carers
/// work for; Northgate Care is another provider on the same hub, whose carer happens to have the
/// same staff reference as Sam (C001).
const DOCS: [&str; 17] = [
    "Sam's person", // on Sam's (C001) rota
    "Sam's visit",
    "Sam's note",
    "Sam's idea",     // shared with the council and the surgery
    "Priya's person", // on Priya's (C002) rota
    "Priya's visit",
    "Priya's note",
    "Priya's idea",   // never shared
    "item → council", // Sam's idea as shared with the council
    "item → surgery", // …with the GP surgery
    "item → council, revoked",
    "Northgate person",
    "Northgate visit", // Northgate's own C001 is on it
    "Northgate note",
    "Northgate idea",    // raised by Northgate's C001
    "Sunrise directory", // the office's numbers and staff names: every Sunrise device reads it
    "Northgate directory",
];

/// The heart of the test: what each caller may do with each document.
///
/// `RW` read and write, `R-` read only, `--` neither. Columns as in [`DOCS`].
#[rustfmt::skip]
const EXPECTED: &[(&str, &str)] = &[
    //                                  ┌──── Sam's ────┐  ┌─── Priya's ───┐  ┌─ shared items ─┐  ┌── Northgate ──┐  ┌ directory ┐
    //                                  pers vis note idea pers vis note idea cncl surg revoked  pers vis note idea  sunr ngte
    ("Sam, carer C001",                "R-   RW  RW   R-   --   --  --   --   R-   R-   R-       --   --  --   --    R-   --"),
    ("Priya, carer C002",              "--   --  --   --   R-   RW  RW   R-   --   --   --       --   --  --   --    R-   --"),
    ("Sunrise manager",                "RW   RW  RW   RW   RW   RW  RW   RW   RW   RW   RW       --   --  --   --    RW   --"),
    ("Northgate manager",              "--   --  --   --   --   --  --   --   --   --   --       RW   RW  RW   RW    --   RW"),
    ("council's partner device",       "--   --  --   --   --   --  --   --   R-   --   --       --   --  --   --    --   --"),
    ("council partner (pages)",        "--   --  --   --   --   --  --   --   RW   --   --       --   --  --   --    --   --"),
    ("council commissioner (pages)",   "--   --  --   --   --   --  --   --   --   --   --       --   --  --   --    --   --"),
    ("commissioner device",            "--   --  --   --   --   --  --   --   --   --   --       --   --  --   --    --   --"),
    ("Sam's revoked tablet",           "--   --  --   --   --   --  --   --   --   --   --       --   --  --   --    --   --"),
    ("no token",                       "--   --  --   --   --   --  --   --   --   --   --       --   --  --   --    --   --"),
    ("forged token for Sam's device",  "--   --  --   --   --   --  --   --   --   --   --       --   --  --   --    --   --"),
];

/// How a caller reaches the hub.
#[derive(Clone)]
enum Access {
    /// A device token (real, revoked or forged): `/api/v1/sync`.
    Device { token: String, device_id: String },
    /// A signed-in person at the hub's pages.
    Web { email: String, session: WebSession },
    /// A request with no `Authorization` header at all.
    NoToken,
}

/// Where the hub's record of a refusal is expected.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Logged {
    /// An audit entry naming the caller and the document.
    WithDocument,
    /// An audit entry naming the caller, without a document: the hub refuses before it looks at
    /// one (a revoked or forged token, a commissioner at a partner's page).
    CallerOnly,
    /// Nothing: a request with no token names nobody, and logging each one would let anyone
    /// fill the log (the refusal is in api.rs's token extractor).
    Unlogged,
    /// A forged token: the first refusal from a source each minute names the device; the rest
    /// are counted into the next line (`hostile_input::forged_tokens_by_the_hundred…`).
    TalliedPerMinute,
}

struct Actor {
    name: &'static str,
    /// How it writes.
    access: Access,
    /// How it reads: for a working device, a second device of the same member of staff.
    reads_as: Access,
    logged: Logged,
}

impl Actor {
    fn new(name: &'static str, access: Access, logged: Logged) -> Actor {
        Actor { name, reads_as: access.clone(), access, logged }
    }

    fn reading_as(self, reads_as: Access) -> Actor {
        Actor { reads_as, ..self }
    }
}

struct Doc {
    id: Uuid,
    kind: RecordKind,
}

struct World {
    hub: TestHub<SqliteStorage>,
    docs: Vec<Doc>,
    actors: Vec<Actor>,
    /// Kept so their stores stay open for the whole test.
    _devices: Vec<TestDevice>,
}

async fn device_access(device: &TestDevice) -> Access {
    Access::Device { token: device.setting("device_token").await, device_id: device.setting("device_id").await }
}

/// A new account at the hub's pages, signed in.
async fn web_access(hub: &TestHub<SqliteStorage>, org: Uuid, email: &str, name: &str, role: WebRole) -> Access {
    Access::Web { email: email.into(), session: hub.web_session(org, email, name, role).await }
}

fn idea(person: &Person, author: &str, summary: &str) -> Insight {
    Insight {
        follow_up: None,
        id: InsightId(Uuid::new_v4()),
        person_id: Some(person.id),
        author: StaffId::new(author),
        created_at: Utc::now(),
        summary: summary.into(),
        detail: "Noticed on the morning visit.".into(),
        suggested_action: "An assessment".into(),
        who_could_act: vec![PartnerKind::OtEquipment],
        urgency: Urgency::Soon,
        consent_basis: ConsentBasis::PersonConsented,
        status: InsightStatus::Submitted,
        comments: vec![],
        shares: vec![],
    }
}

fn doc(id: Uuid, kind: RecordKind) -> Doc {
    Doc { id, kind }
}

async fn set_up(dir: &std::path::Path) -> World {
    let hub = TestHub::start(SqliteStorage::open(&dir.join("hub.db")).unwrap()).await;
    let sunrise = hub.provider;
    let northgate = hub.other_provider("Northgate Care").await;
    let council_kind = PartnerKind::CouncilAdultSocialCare;
    let Partners { council, surgery } = hub.partners().await;

    let office = hub.device(dir, "M001", Role::Manager).await;
    let sam = hub.device(dir, "C001", Role::Carer).await;
    let priya = hub.device(dir, "C002", Role::Carer).await;
    let lost_tablet = hub.device(dir, "C001", Role::Carer).await;
    let nia = hub.device_in(dir, northgate, "N-M001", Role::Manager).await;
    let council_device = hub.device_in(dir, council, "COUNCIL-PC", Role::Partner).await;
    let commissioner_device = hub.device_in(dir, council, "COMMISSIONING-PC", Role::Commissioner).await;

    // Sunrise: one person on each carer's rota today, with a visit, a note and an idea.
    let mut generator = Generator::new(66);
    let mut carers_people = Vec::new();
    for carer in ["C001", "C002"] {
        let mut person = generator.person();
        person.address.postcode = "NB3 2QT".into();
        person.consent.council = Some(ConsentRecord {
            given: true,
            recorded_by: StaffId::new("M001"),
            recorded_at: Utc::now(),
            note: "Happy for the council to be told.".into(),
        });
        let mut visit = generator.visit(&person, at(today(), 9, 0));
        visit.carers = vec![StaffId::new(carer)];
        office.store.lock().await.put(&person).unwrap();
        office.store.lock().await.put(&visit).unwrap();
        carers_people.push((carer, person, visit));
    }
    office.sync().await;
    let mut sunrise_docs = Vec::new();
    let mut sams_idea = None;
    let mut sams_note = None;
    for ((carer, person, visit), device) in carers_people.iter().zip([&sam, &priya]) {
        device.sync().await;
        let note = generator.note(visit);
        let insight = idea(person, carer, "A grab rail by the back door");
        device.store.lock().await.put(&note).unwrap();
        device.store.lock().await.put(&insight).unwrap();
        assert_eq!(device.sync().await.held_back, 0);
        sunrise_docs.extend([
            doc(person.id.0, RecordKind::Person),
            doc(visit.id.0, RecordKind::Visit),
            doc(note.id.0, RecordKind::Note),
            doc(insight.id.0, RecordKind::Insight),
        ]);
        if *carer == "C001" {
            sams_idea = Some(insight);
            sams_note = Some((note, visit.window.start));
        }
    }
    office.sync().await;

    // The office shares Sam's idea with the council and the surgery, and a second time with the
    // council, which it then stops sharing.
    let (sams_idea, (sams_note, observed)) = (sams_idea.unwrap(), sams_note.unwrap());
    let sams_person = &carers_people[0].1;
    let provider = ProviderRef { id: sunrise, name: "Sunrise Home Care".into() };
    let share = |to: Uuid, name: &str, kind: PartnerKind| {
        SharedItem::from_insight(
            SharedItemId(Uuid::new_v4()),
            &sams_idea,
            provider.clone(),
            PartnerOrg { id: to, name: name.into(), kind },
            "So the OT can assess for a grab rail",
            "M001",
            Utc::now(),
            Some(sams_person),
            Some((&sams_note, observed)),
            ShareChoices { include_observations: false },
        )
    };
    let to_council = share(council, COUNCIL, council_kind);
    let to_surgery = share(surgery, SURGERY, PartnerKind::GpPractice);
    let revoked = share(council, COUNCIL, council_kind);
    for item in [&to_council, &to_surgery, &revoked] {
        office.store.lock().await.put(item).unwrap();
    }
    assert_eq!(office.sync().await.held_back, 0);
    office
        .store
        .lock()
        .await
        .update::<SharedItem>(&revoked.id.to_string(), |item| {
            item.revoke("M001", Utc::now());
            Ok(())
        })
        .unwrap();
    assert_eq!(office.sync().await.held_back, 0);
    let shared_docs = [to_council, to_surgery, revoked].map(|i| doc(i.id.0, RecordKind::Shared));

    // Northgate: its manager records a person on its own C001's rota, a visit, a note, an idea.
    let person = generator.person();
    let mut visit = generator.visit(&person, at(today(), 10, 0));
    visit.carers = vec![StaffId::new("C001")];
    let note = generator.note(&visit);
    let insight = idea(&person, "C001", "Stairs are getting hard");
    {
        let mut store = nia.store.lock().await;
        store.put(&person).unwrap();
        store.put(&visit).unwrap();
        store.put(&note).unwrap();
        store.put(&insight).unwrap();
    }
    assert_eq!(nia.sync().await.held_back, 0);
    let northgate_docs = [
        doc(person.id.0, RecordKind::Person),
        doc(visit.id.0, RecordKind::Visit),
        doc(note.id.0, RecordKind::Note),
        doc(insight.id.0, RecordKind::Insight),
    ];

    // Each provider's office keeps its directory.
    let mut directory_docs = Vec::new();
    for (device, provider) in [(&office, sunrise), (&nia, northgate)] {
        let mut directory = Directory::new(provider);
        directory.office_phone = "01632 960 100".into();
        directory.set_staff_name(&StaffId::new("C001"), "Sam Taylor");
        device.store.lock().await.put(&directory).unwrap();
        assert_eq!(device.sync().await.held_back, 0);
        directory_docs.push(doc(directory.id.0, RecordKind::Directory));
    }

    // Sam's old tablet is lost: the office revokes it.
    let lost_id = lost_tablet.setting("device_id").await;
    let response = reqwest::Client::new()
        .post(format!("{}{API_PREFIX}/devices/{lost_id}/revoke", hub.url))
        .bearer_auth(office.setting("device_token").await)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    // A forged token: Sam's real device id with a secret of the right shape that is not his.
    let sam_id = sam.setting("device_id").await;
    let forged = format!("ds1.{sam_id}.{}", "A".repeat(43));

    // Each working device reads through a second device of the same member of staff.
    let sibling = |org: Uuid, staff: &'static str, role: Role| {
        let hub = &hub;
        async move { device_access(&hub.device_in(dir, org, staff, role).await).await }
    };
    let ola = web_access(&hub, council, "ola@council.example", "Ola Adeyemi", WebRole::Partner).await;
    let chris = web_access(&hub, council, "chris@council.example", "Chris Commissioner", WebRole::Commissioner).await;
    let actors = vec![
        Actor::new(EXPECTED[0].0, device_access(&sam).await, Logged::WithDocument)
            .reading_as(sibling(sunrise, "C001", Role::Carer).await),
        Actor::new(EXPECTED[1].0, device_access(&priya).await, Logged::WithDocument)
            .reading_as(sibling(sunrise, "C002", Role::Carer).await),
        Actor::new(EXPECTED[2].0, device_access(&office).await, Logged::WithDocument)
            .reading_as(sibling(sunrise, "M001", Role::Manager).await),
        Actor::new(EXPECTED[3].0, device_access(&nia).await, Logged::WithDocument)
            .reading_as(sibling(northgate, "N-M001", Role::Manager).await),
        Actor::new(EXPECTED[4].0, device_access(&council_device).await, Logged::WithDocument)
            .reading_as(sibling(council, "COUNCIL-PC", Role::Partner).await),
        Actor::new(EXPECTED[5].0, ola, Logged::WithDocument),
        Actor::new(EXPECTED[6].0, chris, Logged::CallerOnly),
        Actor::new(EXPECTED[7].0, device_access(&commissioner_device).await, Logged::WithDocument)
            .reading_as(sibling(council, "COMMISSIONING-PC", Role::Commissioner).await),
        Actor::new(EXPECTED[8].0, device_access(&lost_tablet).await, Logged::CallerOnly),
        Actor::new(EXPECTED[9].0, Access::NoToken, Logged::Unlogged),
        Actor::new(EXPECTED[10].0, Access::Device { token: forged, device_id: sam_id }, Logged::TalliedPerMinute),
    ];
    let docs = sunrise_docs.into_iter().chain(shared_docs).chain(northgate_docs).chain(directory_docs).collect();
    let devices = vec![office, sam, priya, lost_tablet, nia, council_device, commissioner_device];
    World { hub, docs, actors, _devices: devices }
}

/// One sync request by hand, as any client (or attacker) could send it.
async fn raw_sync(url: &str, token: Option<&str>, request: &SyncRequest) -> Result<SyncResponse, StatusCode> {
    let mut post = reqwest::Client::new()
        .post(format!("{url}{API_PREFIX}/sync"))
        .header("content-type", SYNC_CONTENT_TYPE)
        .body(doorstep_protocol::encode(request));
    if let Some(token) = token {
        post = post.bearer_auth(token);
    }
    let response = post.send().await.unwrap();
    if response.status() != StatusCode::OK {
        return Err(response.status());
    }
    Ok(doorstep_protocol::decode::<SyncResponse>(&response.bytes().await.unwrap()).unwrap())
}

/// Every document a device's feed brings, from the beginning (less any purged since).
async fn feed(url: &str, token: Option<&str>) -> Result<BTreeSet<Uuid>, StatusCode> {
    let mut held = BTreeSet::new();
    let mut cursor = 0;
    loop {
        let page =
            raw_sync(url, token, &SyncRequest { cursor, push: Vec::new(), max_bytes: 1 << 20, held_back: Vec::new() })
                .await?;
        held.extend(page.pull.iter().map(|d| d.id));
        for purge in &page.purge {
            held.remove(&purge.id);
        }
        cursor = page.cursor;
        if !page.more {
            return Ok(held);
        }
    }
}

/// The hub's copy of a document, as Automerge.
async fn hub_copy(storage: &SqliteStorage, id: Uuid) -> AutoCommit {
    load_strict(&storage.load_document(id).await.unwrap().unwrap().bytes).unwrap()
}

/// An ordinary edit to the hub's copy of a document, as changes to push on top of it.
fn edit(mut doc: AutoCommit, kind: RecordKind, by: &str) -> Vec<u8> {
    fn change<T: autosurgeon::Hydrate + autosurgeon::Reconcile>(doc: &mut AutoCommit, f: impl FnOnce(&mut T)) {
        let mut value: T = autosurgeon::hydrate(doc).unwrap();
        f(&mut value);
        autosurgeon::reconcile(doc, &value).unwrap();
    }
    let before = doc.get_heads();
    let words = format!(" (edited by {by} at {})", Utc::now().timestamp_nanos_opt().unwrap_or_default());
    match kind {
        RecordKind::Person => change::<Person>(&mut doc, |p| p.gp_practice.push_str(&words)),
        RecordKind::Visit => change::<Visit>(&mut doc, |v| v.checked_in_at = Some(Utc::now())),
        RecordKind::Note => change::<VisitNote>(&mut doc, |n| n.narrative.push_str(&words)),
        RecordKind::Insight => change::<Insight>(&mut doc, |i| i.detail.push_str(&words)),
        RecordKind::Shared => change::<SharedItem>(&mut doc, |s| s.purpose.push_str(&words)),
        RecordKind::Directory => change::<Directory>(&mut doc, |d| {
            d.set_staff_name(&StaffId::new("C009"), &format!("Forged Name {}", words.len()));
            d.office_hours = words.chars().filter(|c| c.is_alphanumeric() || *c == ' ').take(100).collect();
        }),
    }
    assert_ne!(doc.get_heads(), before, "the edit changes something");
    doc.save_after(&before)
}

/// What one attempt did.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Seen {
    Allowed,
    Denied,
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// READ for every document at once (a device's feed is one request), or per document (a page).
async fn read_all(world: &World, actor: &Actor) -> Vec<Seen> {
    let url = &world.hub.url;
    let seen = |yes: bool| if yes { Seen::Allowed } else { Seen::Denied };
    match &actor.reads_as {
        Access::Device { token, .. } => match feed(url, Some(token)).await {
            Ok(held) => world.docs.iter().map(|d| seen(held.contains(&d.id))).collect(),
            Err(status) => {
                assert!(matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN), "{}: {status}", actor.name);
                vec![Seen::Denied; world.docs.len()]
            }
        },
        Access::NoToken => {
            let status = feed(url, None).await.unwrap_err();
            assert_eq!(status, StatusCode::UNAUTHORIZED);
            vec![Seen::Denied; world.docs.len()]
        }
        Access::Web { session, .. } => {
            let mut cells = Vec::new();
            for d in &world.docs {
                let response =
                    http().get(format!("{url}/items/{}", d.id)).header("cookie", &session.cookie).send().await;
                let status = response.unwrap().status();
                assert!(
                    matches!(status, StatusCode::OK | StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
                    "{}: {status}",
                    actor.name
                );
                cells.push(seen(status == StatusCode::OK));
            }
            cells
        }
    }
}

/// WRITE to one document; checks the hub's copy changed exactly when the write was taken.
async fn write_one(world: &World, actor: &Actor, d: &Doc) -> Seen {
    let url = &world.hub.url;
    let storage = &world.hub.storage;
    let before = hub_copy(storage, d.id).await.get_heads();
    let outcome = match &actor.access {
        Access::Device { token, .. } => push(world, Some(token), d, actor.name).await,
        Access::NoToken => push(world, None, d, actor.name).await,
        Access::Web { session, .. } => {
            let form = [("csrf", session.csrf.as_str()), ("outcome", "acknowledged"), ("message", "Seen, thank you.")];
            let response = http()
                .post(format!("{url}/items/{}/respond", d.id))
                .header("cookie", &session.cookie)
                .form(&form)
                .send()
                .await
                .unwrap();
            match response.status() {
                StatusCode::SEE_OTHER => Seen::Allowed,
                StatusCode::NOT_FOUND | StatusCode::FORBIDDEN => Seen::Denied,
                other => panic!("{}: answering {} gave {other}", actor.name, d.id),
            }
        }
    };
    let changed = hub_copy(storage, d.id).await.get_heads() != before;
    assert_eq!(changed, outcome == Seen::Allowed, "{} on {}: the hub's copy changed: {changed}", actor.name, d.id);
    outcome
}

async fn push(world: &World, token: Option<&str>, d: &Doc, who: &str) -> Seen {
    let bytes = edit(hub_copy(&world.hub.storage, d.id).await, d.kind, who);
    let cursor = world.hub.storage.max_seq().await.unwrap();
    let request = SyncRequest {
        cursor,
        push: vec![DocChanges { id: d.id, kind: d.kind, bytes }],
        max_bytes: 1 << 20,
        held_back: Vec::new(),
    };
    match raw_sync(&world.hub.url, token, &request).await {
        Err(status) => {
            assert!(matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN), "{who}: {status}");
            Seen::Denied
        }
        Ok(answer) => match answer.held_back.iter().find(|h| h.id == d.id) {
            None => Seen::Allowed,
            Some(h) if h.reason == HoldReason::Forbidden => Seen::Denied,
            Some(h) => panic!("{who}: {} held back for another reason: {h:?}", d.id),
        },
    }
}

async fn audit_len(storage: &SqliteStorage) -> usize {
    storage.audit_log(u32::MAX).await.unwrap().len()
}

/// The audit entries written since the log had `before` entries, newest first.
async fn audit_since(storage: &SqliteStorage, before: usize) -> Vec<AuditEntry> {
    let all = storage.audit_log(u32::MAX).await.unwrap();
    all[..all.len() - before].to_vec()
}

/// Whether these entries record refusing this caller (and this document, where expected).
fn refusal_logged(actor: &Actor, access: &Access, doc: Uuid, entries: &[AuditEntry]) -> bool {
    let who = match access {
        Access::Device { device_id, .. } => device_id.as_str(),
        Access::Web { email, .. } => email.as_str(),
        Access::NoToken => return actor.logged == Logged::Unlogged,
    };
    if actor.logged == Logged::TalliedPerMinute {
        return true;
    }
    entries.iter().any(|e| {
        !e.allowed
            && e.actor.contains(who)
            && match actor.logged {
                Logged::WithDocument => e.doc_id == Some(doc),
                Logged::CallerOnly => true,
                Logged::Unlogged | Logged::TalliedPerMinute => false,
            }
    })
}

fn expected(row: usize) -> Vec<(Seen, Seen)> {
    let flag = |c: char| match c {
        'R' | 'W' => Seen::Allowed,
        '-' => Seen::Denied,
        other => panic!("EXPECTED uses R, W and - only, not {other:?}"),
    };
    let cells: Vec<(Seen, Seen)> = EXPECTED[row]
        .1
        .split_whitespace()
        .map(|cell| {
            let c: Vec<char> = cell.chars().collect();
            assert_eq!(c.len(), 2, "a cell is two characters: {cell:?}");
            (flag(c[0]), flag(c[1]))
        })
        .collect();
    assert_eq!(cells.len(), DOCS.len(), "row {:?} has a cell per document", EXPECTED[row].0);
    cells
}

/// The matrix as a grid: ✓/✗ for read, then write; `!` after a cell that is not as expected.
fn grid(results: &[Vec<(Seen, Seen)>]) -> String {
    let mark = |s: Seen| if s == Seen::Allowed { '✓' } else { '✗' };
    let mut out = String::from("\nAuthorisation matrix (each cell: read, write)\n");
    let width = EXPECTED.iter().map(|(name, _)| name.chars().count()).max().unwrap_or(0);
    write!(out, "{:width$}  ", "").unwrap();
    for n in 1..=DOCS.len() {
        write!(out, "{n:<5}").unwrap();
    }
    out.push('\n');
    for (row, cells) in results.iter().enumerate() {
        let wanted = expected(row);
        write!(out, "{:width$}  ", EXPECTED[row].0).unwrap();
        for (cell, want) in cells.iter().zip(&wanted) {
            let flag = if cell == want { ' ' } else { '!' };
            write!(out, "{}{}{flag}  ", mark(cell.0), mark(cell.1)).unwrap();
        }
        out.push('\n');
    }
    for (n, name) in DOCS.iter().enumerate() {
        write!(out, "{}{:>2} {name:<24}", if n % 4 == 0 { "\n" } else { "" }, n + 1).unwrap();
    }
    out.push('\n');
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn every_role_against_every_kind_of_document() {
    let dir = tempfile::tempdir().unwrap();
    let world = set_up(dir.path()).await;
    assert_eq!(world.actors.len(), EXPECTED.len());
    assert_eq!(world.docs.len(), DOCS.len());
    let storage = &world.hub.storage;
    let mut problems = Vec::new();

    // READ, every row (reads change nothing, so they all see the world as set up).
    let mut results: Vec<Vec<(Seen, Seen)>> = Vec::new();
    for (row, actor) in world.actors.iter().enumerate() {
        assert_eq!(actor.name, EXPECTED[row].0);
        let before = audit_len(storage).await;
        let reads = read_all(&world, actor).await;
        let log = audit_since(storage, before).await;
        // A device's feed simply leaves out what it may not read (it asked for nothing in
        // particular); a refused token, or a page opened, is logged.
        let asked = !matches!(actor.reads_as, Access::Device { .. }) || actor.logged == Logged::CallerOnly;
        for (n, read) in reads.iter().enumerate() {
            if *read == Seen::Denied && asked && !refusal_logged(actor, &actor.reads_as, world.docs[n].id, &log) {
                problems.push(format!("{} reading {}: refused but not in the audit log: {log:?}", actor.name, DOCS[n]));
            }
        }
        results.push(reads.into_iter().map(|r| (r, Seen::Denied)).collect());
    }

    // WRITE, every cell, one at a time.
    for (row, actor) in world.actors.iter().enumerate() {
        for (n, d) in world.docs.iter().enumerate() {
            let before = audit_len(storage).await;
            let outcome = write_one(&world, actor, d).await;
            let log = audit_since(storage, before).await;
            if outcome == Seen::Denied && !refusal_logged(actor, &actor.access, d.id, &log) {
                problems.push(format!("{} writing {}: refused but not in the audit log: {log:?}", actor.name, DOCS[n]));
            }
            if outcome == Seen::Allowed
                && let Some(e) = log.iter().find(|e| !e.allowed)
            {
                problems.push(format!("{} writing {}: taken, yet logged as refused: {e:?}", actor.name, DOCS[n]));
            }
            results[row][n].1 = outcome;
        }
    }

    let matrix = grid(&results);
    println!("{matrix}");
    for (row, cells) in results.iter().enumerate() {
        for (n, (cell, want)) in cells.iter().zip(expected(row)).enumerate() {
            if *cell != want {
                problems.push(format!("{} on {}: expected {want:?}, got {cell:?}", EXPECTED[row].0, DOCS[n]));
            }
        }
    }
    assert!(problems.is_empty(), "{matrix}\n{}", problems.join("\n"));
    world.hub.stop().await;
}

/// Pushes one changed visit as `token`'s device; returns the hold reason, if any.
async fn push_visit(world: &World, token: &str, id: Uuid, change: impl FnOnce(&mut Visit)) -> Option<HoldReason> {
    let mut doc = hub_copy(&world.hub.storage, id).await;
    let before = doc.get_heads();
    let mut visit: Visit = autosurgeon::hydrate(&doc).unwrap();
    change(&mut visit);
    autosurgeon::reconcile(&mut doc, &visit).unwrap();
    let push = DocChanges { id, kind: RecordKind::Visit, bytes: doc.save_after(&before) };
    let request = SyncRequest { cursor: 0, push: vec![push], max_bytes: 1 << 20, held_back: Vec::new() };
    let answer = raw_sync(&world.hub.url, Some(token), &request).await.unwrap();
    answer.held_back.first().map(|h| h.reason)
}

/// The rota decides what every carer's devices hold, so only the provider's managers change it,
/// and only with their own people: a carer records a visit (checks in, ticks tasks) but cannot
/// point it at someone else or put someone else on it, and no visit brings another provider's
/// person onto a rota.
#[tokio::test(flavor = "multi_thread")]
async fn nobody_widens_a_rota_by_editing_a_visit() {
    let dir = tempfile::tempdir().unwrap();
    let world = set_up(dir.path()).await;
    let (sam, office, sams_visit) = (&world.actors[0], &world.actors[2], world.docs[1].id);
    let (priyas_person, northgate_person) = (world.docs[4].id, world.docs[11].id);
    let token = |a: &Actor| match (&a.access, &a.reads_as) {
        (Access::Device { token, device_id }, Access::Device { token: reader, .. }) => {
            (token.clone(), device_id.clone(), reader.clone())
        }
        _ => panic!("{} has devices", a.name),
    };
    let (sams_token, sams_device, sams_reader) = token(sam);
    let (office_token, office_device, _) = token(office);
    let (sam_ids, office_ids) =
        ((sams_token.as_str(), sams_device.as_str()), (office_token.as_str(), office_device.as_str()));

    type Change = Box<dyn FnOnce(&mut Visit)>;
    let attempts: [(&str, (&str, &str), Change); 3] = [
        ("Sam points his visit at Priya's person", sam_ids, Box::new(move |v| v.person_id.0 = priyas_person)),
        ("Sam puts Priya on his visit", sam_ids, Box::new(|v| v.carers.push(StaffId::new("C002")))),
        (
            "the office points Sam's visit at Northgate's person",
            office_ids,
            Box::new(move |v| v.person_id.0 = northgate_person),
        ),
    ];
    for (what, (token, device), change) in attempts {
        let before = hub_copy(&world.hub.storage, sams_visit).await.get_heads();
        assert_eq!(push_visit(&world, token, sams_visit, change).await, Some(HoldReason::Forbidden), "{what}");
        assert_eq!(hub_copy(&world.hub.storage, sams_visit).await.get_heads(), before, "{what}: nothing stored");
        let log = world.hub.storage.audit_log(5).await.unwrap();
        assert!(
            log.iter().any(|e| !e.allowed && e.actor.contains(device) && e.doc_id == Some(sams_visit)),
            "{what}: {log:?}"
        );
    }
    let held = feed(&world.hub.url, Some(&sams_reader)).await.unwrap();
    assert!(!held.contains(&priyas_person) && !held.contains(&northgate_person), "Sam holds only his own people");

    // Recording the visit itself is still his to do.
    let checked_in = push_visit(&world, &sams_token, sams_visit, |v| v.checked_in_at = Some(Utc::now())).await;
    assert_eq!(checked_in, None);
    world.hub.stop().await;
}

/// Pushes one changed record of kind `T` as `token`'s device; the hold, if any.
async fn push_change<T: autosurgeon::Hydrate + autosurgeon::Reconcile>(
    world: &World,
    token: &str,
    id: Uuid,
    kind: RecordKind,
    change: impl FnOnce(&mut T),
) -> Option<doorstep_protocol::HeldBack> {
    let mut doc = hub_copy(&world.hub.storage, id).await;
    let before = doc.get_heads();
    let mut record: T = autosurgeon::hydrate(&doc).unwrap();
    change(&mut record);
    autosurgeon::reconcile(&mut doc, &record).unwrap();
    let push = DocChanges { id, kind, bytes: doc.save_after(&before) };
    let request = SyncRequest { cursor: 0, push: vec![push], max_bytes: 1 << 20, held_back: Vec::new() };
    raw_sync(&world.hub.url, Some(token), &request).await.unwrap().held_back.into_iter().next()
}

/// The write policy, field by field, at the hub (doorstep_model::policy): a carer's device
/// cannot rewrite a person's identity or consent, file a note about someone else or as another
/// carer, or change an idea once the office has it; what is theirs to record still goes through.
#[tokio::test(flavor = "multi_thread")]
async fn a_carer_writes_only_their_own_part_of_each_record() {
    let dir = tempfile::tempdir().unwrap();
    let world = set_up(dir.path()).await;
    let sam = match &world.actors[0].access {
        Access::Device { token, .. } => token.clone(),
        _ => panic!("Sam has a device"),
    };
    let (sams_person, sams_note, sams_idea, priyas_person) =
        (world.docs[0].id, world.docs[2].id, world.docs[3].id, world.docs[4].id);

    let refused = |held: Option<doorstep_protocol::HeldBack>, what: &str| {
        let held = held.unwrap_or_else(|| panic!("{what}: taken"));
        assert_eq!(held.reason, HoldReason::Forbidden, "{what}: {held:?}");
        held.detail
    };
    let nhs = push_change::<Person>(&world, &sam, sams_person, RecordKind::Person, |p| {
        p.nhs_number = Some("943 476 5919".parse().expect("a valid NHS number"));
        p.name.family = "Forged".into();
    })
    .await;
    assert!(refused(nhs, "Sam changes the NHS number and name").contains("person's record"));
    let consent = push_change::<Person>(&world, &sam, sams_person, RecordKind::Person, |p| {
        p.consent.nhs = Some(ConsentRecord {
            given: true,
            recorded_by: StaffId::new("M001"),
            recorded_at: Utc::now(),
            note: "Forged".into(),
        })
    })
    .await;
    refused(consent, "Sam records consent in the manager's name");

    let elsewhere = push_change::<VisitNote>(&world, &sam, sams_note, RecordKind::Note, |n| {
        n.person_id = doorstep_model::PersonId(priyas_person)
    })
    .await;
    refused(elsewhere, "Sam's note names Priya's person");
    let as_priya = push_change::<VisitNote>(&world, &sam, sams_note, RecordKind::Note, |n| {
        n.touched_by(&StaffId::new("C002"), Utc::now())
    })
    .await;
    assert!(refused(as_priya, "Sam writes as Priya").contains("as themselves"));
    let call_as_priya = push_change::<VisitNote>(&world, &sam, sams_note, RecordKind::Note, |n| {
        n.calls.push(doorstep_model::CallRecord {
            to: doorstep_model::CallTarget::Nhs111,
            to_name: String::new(),
            at: Utc::now(),
            spoke_to: String::new(),
            outcome: doorstep_model::CallOutcome::Other,
            detail: String::new(),
            by: StaffId::new("C002"),
        })
    })
    .await;
    refused(call_as_priya, "a call recorded as Priya");
    let idea =
        push_change::<Insight>(&world, &sam, sams_idea, RecordKind::Insight, |i| i.status = InsightStatus::Actioned)
            .await;
    refused(idea, "Sam marks his own idea actioned");

    // His own part goes through: words in his note, a call as himself.
    let words = push_change::<VisitNote>(&world, &sam, sams_note, RecordKind::Note, |n| {
        n.narrative.push_str(" Had a cup of tea.");
        n.touched_by(&StaffId::new("C001"), Utc::now());
    })
    .await;
    assert_eq!(words, None);
    world.hub.stop().await;
}
