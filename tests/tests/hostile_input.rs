//! Hostile input at the hub (issue 6): oversized bodies, malformed and replayed requests, forged
//! document ids and other organisations' ids, sent over real HTTP to a real hub on an SQLite
//! file, at every address the hub serves (sync, document sync, enrolment, the managers' API, the
//! partner pages and their exports, health, the fallback).
//!
//! Each attempt is checked the same way: the status is the one expected (never a 500), the
//! answer says what was wrong in plain words (the API's JSON error with its code, or a page),
//! nothing is written (every table of the hub's database is the same before and after, row for
//! row, and so are the storage API's sequence number and audit log), except an audit entry where
//! the hub audits a refusal, and the hub still answers afterwards. Each test prints what it
//! tried and what happened (`--nocapture` shows the tables).

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use automerge::AutoCommit;
use chrono::Utc;
use doorstep_demo::{Generator, at};
use doorstep_hub::Hub;
use doorstep_hub::api::{MAX_BODY_BYTES, MAX_FORM_BYTES};
use doorstep_hub::service::load_strict;
use doorstep_hub::sqlite::SqliteStorage;
use doorstep_hub::storage::{AuditEntry, HubStorage, OrgKind, Organisation, WebRole};
use doorstep_model::{
    ConsentBasis, ConsentRecord, Insight, InsightId, InsightStatus, PartnerKind, PartnerOrg, Person, ProviderRef,
    RecordKind, ShareChoices, SharedItem, SharedItemId, StaffId, Urgency, VisitNote,
};
use doorstep_protocol::{
    API_PREFIX, ApiError, DocChanges, DocSyncRequest, DocSyncResponse, HoldReason, Role, SYNC_CONTENT_TYPE,
    SyncRequest, SyncResponse,
};
use doorstep_tests::{TestDevice, TestHub, today};
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{RequestBuilder, StatusCode};
use tokio::sync::Mutex;
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery staple";

/// A person signed in at the hub's pages.
#[derive(Clone)]
struct WebSession {
    cookie: String,
    csrf: String,
}

struct World {
    hub: TestHub<SqliteStorage>,
    db: PathBuf,
    url: String,
    office: TestDevice,
    carer: TestDevice,
    office_token: String,
    carer_token: String,
    northgate_token: String,
    northgate_device: Uuid,
    /// Sunrise Home Care's (the hub's provider's) records.
    person: Uuid,
    note: Uuid,
    insight: Uuid,
    /// Sunrise's idea as shared with the council and with the surgery.
    to_council: Uuid,
    to_surgery: Uuid,
    /// Northgate Care (another provider on the same hub).
    northgate_person: Uuid,
    northgate_note: Uuid,
    /// The council's partner, signed in.
    ola: WebSession,
}

async fn setting(device: &TestDevice, name: &str) -> String {
    device.store.lock().await.setting(name).unwrap().unwrap()
}

async fn organisation(hub: &TestHub<SqliteStorage>, name: &str, kind: OrgKind, partner: Option<PartnerKind>) -> Uuid {
    let id = Uuid::new_v4();
    hub.storage.create_organisation(Organisation { id, name: name.into(), kind, partner_kind: partner }).await.unwrap();
    id
}

/// A device of another organisation, enrolled through the hub's API.
async fn enrol_in(hub: &TestHub<SqliteStorage>, dir: &Path, org: Uuid, staff: &str, role: Role) -> TestDevice {
    let code = doorstep_hub::api::issue_enrolment_code(&hub.storage, org, staff, role, "test").await.unwrap().code;
    let store = doorstep_store::Store::open(dir.join(format!("{staff}-{}.db", Uuid::new_v4()))).unwrap();
    let store = Arc::new(Mutex::new(store));
    doorstep_sync::enrol(&store, &hub.url, &code, &format!("{staff}'s tablet")).await.unwrap();
    let client = doorstep_sync::SyncClient::for_store(&store).await.unwrap();
    TestDevice { store, client }
}

async fn web_session(hub: &TestHub<SqliteStorage>, org: Uuid, email: &str, role: WebRole) -> WebSession {
    let accounts = Hub::new(hub.storage.clone());
    accounts.create_web_user(org, email, "Ola Adeyemi", role, PASSWORD).await.unwrap();
    let (secret, caller) = accounts.sign_in(email, PASSWORD).await.unwrap();
    WebSession { cookie: format!("doorstep_session={secret}"), csrf: caller.session.csrf }
}

fn idea(person: &Person) -> Insight {
    Insight {
        id: InsightId(Uuid::new_v4()),
        person_id: Some(person.id),
        author: StaffId::new("C001"),
        created_at: Utc::now(),
        summary: "A grab rail by the back door".into(),
        detail: "She caught herself on the door frame twice this week.".into(),
        suggested_action: "An OT assessment".into(),
        who_could_act: vec![PartnerKind::OtEquipment],
        urgency: Urgency::Soon,
        consent_basis: ConsentBasis::PersonConsented,
        status: InsightStatus::Reviewed,
        comments: vec![],
        shares: vec![],
    }
}

async fn set_up(dir: &Path) -> World {
    let db = dir.join("hub.db");
    let hub = TestHub::start(SqliteStorage::open(&db).unwrap()).await;
    let northgate = organisation(&hub, "Northgate Care", OrgKind::Provider, None).await;
    let council_kind = PartnerKind::CouncilAdultSocialCare;
    let council = organisation(&hub, "Northbrook Adult Social Care", OrgKind::Partner, Some(council_kind)).await;
    let surgery = organisation(&hub, "Riverside Surgery", OrgKind::Partner, Some(PartnerKind::GpPractice)).await;
    let office = hub.device(dir, "M001", Role::Manager).await;
    let carer = hub.device(dir, "C001", Role::Carer).await;
    let nia = enrol_in(&hub, dir, northgate, "N-M001", Role::Manager).await;

    // Sunrise: a person on C001's rota today, the visit, its note and an idea shared with two partners.
    let mut generator = Generator::new(606);
    let mut person = generator.person();
    person.consent.council = Some(ConsentRecord {
        given: true,
        recorded_by: StaffId::new("M001"),
        recorded_at: Utc::now(),
        note: "Happy for the council to be told.".into(),
    });
    let mut visit = generator.visit(&person, at(today(), 9, 0));
    visit.carers = vec![StaffId::new("C001")];
    office.store.lock().await.put(&person).unwrap();
    office.store.lock().await.put(&visit).unwrap();
    assert_eq!(office.sync().await.held_back, 0);
    carer.sync().await;
    let note: VisitNote = generator.note(&visit);
    let insight = idea(&person);
    carer.store.lock().await.put(&note).unwrap();
    carer.store.lock().await.put(&insight).unwrap();
    assert_eq!(carer.sync().await.held_back, 0);
    office.sync().await;
    let provider = ProviderRef { id: hub.provider, name: "Sunrise Home Care".into() };
    let share = |to: Uuid, name: &str, kind: PartnerKind| {
        SharedItem::from_insight(
            SharedItemId(Uuid::new_v4()),
            &insight,
            provider.clone(),
            PartnerOrg { id: to, name: name.into(), kind },
            "So the OT can assess for a grab rail",
            "M001",
            Utc::now(),
            Some(&person),
            Some((&note, visit.window.start)),
            ShareChoices { include_observations: false },
        )
    };
    let to_council = share(council, "Northbrook Adult Social Care", council_kind);
    let to_surgery = share(surgery, "Riverside Surgery", PartnerKind::GpPractice);
    office.store.lock().await.put(&to_council).unwrap();
    office.store.lock().await.put(&to_surgery).unwrap();
    assert_eq!(office.sync().await.held_back, 0);

    // Northgate: its own person, visit and note.
    let northgate_person = generator.person();
    let mut northgate_visit = generator.visit(&northgate_person, at(today(), 10, 0));
    northgate_visit.carers = vec![StaffId::new("C001")];
    let northgate_note = generator.note(&northgate_visit);
    {
        let mut store = nia.store.lock().await;
        store.put(&northgate_person).unwrap();
        store.put(&northgate_visit).unwrap();
        store.put(&northgate_note).unwrap();
    }
    assert_eq!(nia.sync().await.held_back, 0);

    let ola = web_session(&hub, council, "ola@council.example", WebRole::Partner).await;
    World {
        db,
        url: hub.url.clone(),
        office_token: setting(&office, "device_token").await,
        carer_token: setting(&carer, "device_token").await,
        northgate_token: setting(&nia, "device_token").await,
        northgate_device: setting(&nia, "device_id").await.parse().unwrap(),
        office,
        carer,
        hub,
        person: person.id.0,
        note: note.id.0,
        insight: insight.id.0,
        to_council: to_council.id.0,
        to_surgery: to_surgery.id.0,
        northgate_person: northgate_person.id.0,
        northgate_note: northgate_note.id.0,
        ola,
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Every table of the hub's database, as (rows, hash of every value), plus what the storage
/// API says: the highest sequence number and the audit log's length.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snapshot {
    tables: BTreeMap<String, (usize, u64)>,
    max_seq: u64,
    audit: usize,
}

async fn snapshot(world: &World) -> Snapshot {
    let db = rusqlite::Connection::open_with_flags(&world.db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let names: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut tables = BTreeMap::new();
    for name in names {
        let mut statement = db.prepare(&format!("SELECT * FROM \"{name}\"")).unwrap();
        let columns = statement.column_count();
        let mut rows = statement.query([]).unwrap();
        let (mut count, mut hasher) = (0, DefaultHasher::new());
        while let Some(row) = rows.next().unwrap() {
            count += 1;
            for i in 0..columns {
                match row.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Null => 0u8.hash(&mut hasher),
                    rusqlite::types::ValueRef::Integer(n) => n.hash(&mut hasher),
                    rusqlite::types::ValueRef::Real(x) => x.to_bits().hash(&mut hasher),
                    rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) => b.hash(&mut hasher),
                }
            }
        }
        tables.insert(name, (count, hasher.finish()));
    }
    let storage = &world.hub.storage;
    Snapshot {
        tables,
        max_seq: storage.max_seq().await.unwrap(),
        audit: storage.audit_log(u32::MAX).await.unwrap().len(),
    }
}

/// What an attempt may leave behind.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Leaves {
    /// Nothing at all.
    Nothing,
    /// Only audit entries, every one a refusal.
    RefusalAudited,
    /// Only audit entries (a page that was shown is audited as read).
    AuditOnly,
}

/// What an attempt should get.
struct Expect {
    status: StatusCode,
    /// For the API: the JSON error's code. Pages are checked for `says` instead.
    code: Option<&'static str>,
    /// Words the answer must contain.
    says: Option<&'static str>,
    leaves: Leaves,
}

fn api(status: StatusCode, code: &'static str, says: &'static str) -> Expect {
    Expect { status, code: Some(code), says: Some(says), leaves: Leaves::Nothing }
}

fn page(status: StatusCode, says: &'static str) -> Expect {
    Expect { status, code: None, says: Some(says), leaves: Leaves::Nothing }
}

impl Expect {
    fn audited(self) -> Expect {
        Expect { leaves: Leaves::RefusalAudited, ..self }
    }

    fn read_audited(self) -> Expect {
        Expect { leaves: Leaves::AuditOnly, ..self }
    }
}

struct Answer {
    status: StatusCode,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Runs attempts, checks each, and keeps the table.
struct Probe<'a> {
    world: &'a World,
    title: &'static str,
    rows: Vec<[String; 4]>,
    problems: Vec<String>,
}

impl<'a> Probe<'a> {
    fn new(world: &'a World, title: &'static str) -> Probe<'a> {
        Probe { world, title, rows: Vec::new(), problems: Vec::new() }
    }

    /// Sends one request and checks what came back and what it left behind.
    async fn attempt(&mut self, endpoint: &str, tried: &str, request: RequestBuilder, expect: Expect) -> Answer {
        let before = snapshot(self.world).await;
        let sent = request.send().await;
        let after = snapshot(self.world).await;
        let mut wrong = Vec::new();
        let answer = match sent {
            Ok(response) => {
                let status = response.status();
                let json = response
                    .headers()
                    .get("content-type")
                    .is_some_and(|v| v.to_str().unwrap_or("").starts_with("application/json"));
                let body = response.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
                let answer = Answer { status, body };
                if status != expect.status {
                    wrong.push(format!("status {status}, expected {}", expect.status));
                }
                if status.is_server_error() {
                    wrong.push("a server error".into());
                }
                let text = answer.text();
                if let Some(code) = expect.code {
                    match serde_json::from_slice::<ApiError>(&answer.body) {
                        Ok(e) if json && e.code == code && !e.message.trim().is_empty() => {}
                        Ok(e) => wrong.push(format!("JSON error {e:?}, expected code {code}")),
                        Err(_) => wrong.push(format!("not the API's JSON error: {text:?}")),
                    }
                }
                if let Some(words) = expect.says
                    && !text.contains(words)
                {
                    wrong.push(format!(
                        "the answer does not say {words:?}: {}",
                        text.chars().take(300).collect::<String>()
                    ));
                }
                if text.contains("panicked") {
                    wrong.push("the answer mentions a panic".into());
                }
                answer
            }
            Err(e) => {
                wrong.push(format!("no answer: {e}"));
                Answer { status: StatusCode::IM_A_TEAPOT, body: Vec::new() }
            }
        };
        let changed: Vec<&String> = after
            .tables
            .iter()
            .filter(|(name, v)| before.tables.get(*name) != Some(*v))
            .map(|(name, _)| name)
            .collect();
        let audit = self.world.hub.storage.audit_log(u32::MAX).await.unwrap();
        let new_entries: Vec<&AuditEntry> = audit.iter().take(after.audit.saturating_sub(before.audit)).collect();
        let only_audit = changed.iter().all(|t| *t == "audit_log") && after.max_seq == before.max_seq;
        let left = if changed.is_empty() && after == before {
            "nothing written"
        } else if only_audit && !new_entries.is_empty() && new_entries.iter().all(|e| !e.allowed) {
            "refusal audited"
        } else if only_audit {
            "audited as read"
        } else {
            "WROTE"
        };
        let as_expected = match expect.leaves {
            Leaves::Nothing => left == "nothing written",
            Leaves::RefusalAudited => left == "refusal audited",
            Leaves::AuditOnly => left == "nothing written" || left == "audited as read",
        };
        if !as_expected {
            wrong.push(format!("{left} (tables changed: {changed:?}), expected {:?}", expect.leaves));
        }
        let health = http().get(format!("{}{API_PREFIX}/health", self.world.url)).send().await;
        if !health.is_ok_and(|r| r.status() == StatusCode::OK) {
            wrong.push("the hub no longer answers".into());
        }
        let outcome = format!("{}{}", if wrong.is_empty() { "" } else { "FAILED " }, left);
        for w in &wrong {
            self.problems.push(format!("{endpoint} — {tried}: {w}"));
        }
        self.rows.push([endpoint.to_string(), tried.to_string(), answer.status.as_u16().to_string(), outcome]);
        answer
    }

    /// A check outside `attempt` (an answer's content, or a comparison of two answers).
    fn check(&mut self, ok: bool, what: impl Into<String>) {
        if !ok {
            self.problems.push(format!("{}: {}", self.title, what.into()));
        }
    }

    /// Prints the table, then fails with every problem found.
    fn finish(self) {
        let w0 = self.rows.iter().map(|r| r[0].chars().count()).max().unwrap_or(0);
        let w1 = self.rows.iter().map(|r| r[1].chars().count()).max().unwrap_or(0);
        let mut out = format!("\n{} ({} attempts)\n", self.title, self.rows.len());
        out.push_str(&format!("{:w0$}  {:w1$}  {:6} {}\n", "address", "tried", "status", "left behind"));
        for r in &self.rows {
            out.push_str(&format!("{:w0$}  {:w1$}  {:6} {}\n", r[0], r[1], r[2], r[3]));
        }
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(out.as_bytes());
        assert!(self.problems.is_empty(), "{out}\n{}", self.problems.join("\n"));
    }
}

fn sync_post(world: &World, token: &str, body: Vec<u8>) -> RequestBuilder {
    http()
        .post(format!("{}{API_PREFIX}/sync", world.url))
        .bearer_auth(token)
        .header("content-type", SYNC_CONTENT_TYPE)
        .body(body)
}

fn doc_sync_post(world: &World, token: &str, id: &str, body: Vec<u8>) -> RequestBuilder {
    http()
        .post(format!("{}{API_PREFIX}/docs/{id}/sync", world.url))
        .bearer_auth(token)
        .header("content-type", SYNC_CONTENT_TYPE)
        .body(body)
}

fn page_get(world: &World, session: &WebSession, path: &str) -> RequestBuilder {
    http().get(format!("{}{path}", world.url)).header("cookie", &session.cookie)
}

fn page_post(world: &World, session: &WebSession, path: &str, body: Vec<u8>) -> RequestBuilder {
    http()
        .post(format!("{}{path}", world.url))
        .header("cookie", &session.cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
}

fn respond_form(csrf: &str, outcome: &str, message: &str) -> Vec<u8> {
    let form: Vec<(&str, &str)> = vec![("csrf", csrf), ("outcome", outcome), ("message", message)];
    serde_urlencoded_pairs(&form)
}

/// `application/x-www-form-urlencoded`, as a browser sends it.
fn serde_urlencoded_pairs(pairs: &[(&str, &str)]) -> Vec<u8> {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                b' ' => "+".into(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&").into_bytes()
}

fn decode_sync(answer: &Answer) -> Option<SyncResponse> {
    doorstep_protocol::decode(&answer.body).ok()
}

/// The hub's copy of a document.
async fn hub_copy(world: &World, id: Uuid) -> AutoCommit {
    load_strict(&world.hub.storage.load_document(id).await.unwrap().unwrap().bytes).unwrap()
}

/// A change to the hub's copy of a note, as a device that held it would push it.
async fn note_edit(world: &World, id: Uuid) -> Vec<u8> {
    let mut doc = hub_copy(world, id).await;
    let before = doc.get_heads();
    let mut note: VisitNote = autosurgeon::hydrate(&doc).unwrap();
    note.narrative.push_str(" Forged addition.");
    autosurgeon::reconcile(&mut doc, &note).unwrap();
    doc.save_after(&before)
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_bodies_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let world = set_up(dir.path()).await;
    let mut probe = Probe::new(&world, "Oversized bodies");
    let too_large = StatusCode::PAYLOAD_TOO_LARGE;
    let (office, ola) = (world.office_token.clone(), world.ola.clone());
    let big = |n: usize| vec![b'x'; n];

    probe
        .attempt(
            "POST /api/v1/sync",
            "32 MiB + 1 byte",
            sync_post(&world, &office, big(MAX_BODY_BYTES + 1)),
            api(too_large, "too_large", "at most 32 MiB"),
        )
        .await;
    probe
        .attempt(
            "POST /api/v1/sync",
            "96 MiB",
            sync_post(&world, &office, big(3 * MAX_BODY_BYTES)),
            api(too_large, "too_large", "at most 32 MiB"),
        )
        .await;
    // 40 KiB of deflate that would unpack to 40 MiB: refused as it passes the limit.
    let (bomb, compressed) = doorstep_protocol::compress(vec![0; MAX_BODY_BYTES + 8 * 1024 * 1024]);
    assert!(compressed && bomb.len() < 100 * 1024);
    probe
        .attempt(
            "POST /api/v1/sync",
            "deflate bomb: 40 MiB unpacked",
            sync_post(&world, &office, bomb).header("content-encoding", "deflate"),
            api(too_large, "too_large", "at most 32 MiB"),
        )
        .await;
    // At the body limit the request is read, and the one document too large for a push is held
    // back with its reason.
    let id = Uuid::new_v4();
    let mut request = SyncRequest {
        cursor: 0,
        push: vec![DocChanges { id, kind: RecordKind::Note, bytes: Vec::new() }],
        max_bytes: 1 << 20,
    };
    let envelope = doorstep_protocol::encode(&request).len() + 4;
    request.push[0].bytes = big(MAX_BODY_BYTES - envelope);
    let body = doorstep_protocol::encode(&request);
    probe.check(body.len() <= MAX_BODY_BYTES && body.len() > MAX_BODY_BYTES - 16, "a body at the limit");
    let answer = probe
        .attempt(
            "POST /api/v1/sync",
            "32 MiB: one document's changes",
            sync_post(&world, &office, body),
            Expect { status: StatusCode::OK, code: None, says: None, leaves: Leaves::Nothing },
        )
        .await;
    let held = decode_sync(&answer).map(|a| a.held_back);
    probe.check(
        held.as_ref().is_some_and(|h| h.len() == 1 && h[0].id == id && h[0].reason == HoldReason::TooLarge),
        format!("the document is held back as too large: {held:?}"),
    );
    let doc_sync = format!("POST /api/v1/docs/{{id}}/sync");
    probe
        .attempt(
            &doc_sync,
            "32 MiB + 1 byte",
            doc_sync_post(&world, &office, &Uuid::new_v4().to_string(), big(MAX_BODY_BYTES + 1)),
            api(too_large, "too_large", "at most 32 MiB"),
        )
        .await;

    // JSON: enrolment and the managers' API.
    let over_form = MAX_FORM_BYTES + 1;
    let json_of = |n: usize| {
        let mut body = br#"{"code":"ABCD-EFGH","device_name":""#.to_vec();
        body.extend(big(n.saturating_sub(body.len() + 2)));
        body.extend(br#""}"#);
        body
    };
    let enrol = |body: Vec<u8>| {
        http().post(format!("{}{API_PREFIX}/enrol", world.url)).header("content-type", "application/json").body(body)
    };
    probe
        .attempt(
            "POST /api/v1/enrol",
            "64 KiB + 1 byte",
            enrol(json_of(over_form)),
            api(too_large, "too_large", "64 KiB"),
        )
        .await;
    probe.attempt("POST /api/v1/enrol", "8 MiB", enrol(json_of(8 << 20)), api(too_large, "too_large", "64 KiB")).await;
    probe
        .attempt(
            "POST /api/v1/enrol",
            "a 60 KB device name",
            enrol(json_of(60_000)),
            api(StatusCode::BAD_REQUEST, "bad_request", "up to 100 characters"),
        )
        .await;
    let codes = |body: String| {
        http()
            .post(format!("{}{API_PREFIX}/enrolment-codes", world.url))
            .bearer_auth(&office)
            .header("content-type", "application/json")
            .body(body)
    };
    let long_ref = |n: usize| format!(r#"{{"staff_ref":"{}","role":"carer"}}"#, "C".repeat(n));
    probe
        .attempt(
            "POST /api/v1/enrolment-codes",
            "64 KiB + 1 byte",
            codes(long_ref(over_form)),
            api(too_large, "too_large", "64 KiB"),
        )
        .await;
    probe
        .attempt(
            "POST /api/v1/enrolment-codes",
            "a 60 KB staff reference",
            codes(long_ref(60_000)),
            api(StatusCode::BAD_REQUEST, "bad_request", "at most 64 characters"),
        )
        .await;

    // The pages' forms.
    let padded_form = |csrf: &str, n: usize| {
        let mut body = respond_form(csrf, "acknowledged", "");
        body.extend(big(n.saturating_sub(body.len())));
        body
    };
    let respond = format!("/items/{}/respond", world.to_council);
    probe
        .attempt(
            "POST /items/{id}/respond",
            "64 KiB + 1 byte",
            page_post(&world, &ola, &respond, padded_form(&ola.csrf, over_form)),
            page(too_large, "too large"),
        )
        .await;
    probe
        .attempt(
            "POST /items/{id}/respond",
            "8 MiB",
            page_post(&world, &ola, &respond, padded_form(&ola.csrf, 8 << 20)),
            page(too_large, "too large"),
        )
        .await;
    probe
        .attempt(
            "POST /items/{id}/respond",
            "a 4,001-character answer",
            page_post(&world, &ola, &respond, respond_form(&ola.csrf, "acknowledged", &"a".repeat(4001))),
            page(StatusCode::BAD_REQUEST, "4000").read_audited(),
        )
        .await;
    probe
        .attempt(
            "POST /sign-in",
            "64 KiB + 1 byte",
            page_post(&world, &ola, "/sign-in", padded_form("x", over_form)),
            page(too_large, "too large"),
        )
        .await;
    probe
        .attempt(
            "POST /sign-out",
            "64 KiB + 1 byte",
            page_post(&world, &ola, "/sign-out", padded_form(&ola.csrf, over_form)),
            page(too_large, "too large"),
        )
        .await;
    // Still signed in: the refused sign-out changed nothing.
    let inbox = probe
        .attempt(
            "GET /inbox",
            "after the refused sign-out",
            page_get(&world, &ola, "/inbox"),
            page(StatusCode::OK, "Shared with").read_audited(),
        )
        .await;
    probe.check(inbox.status == StatusCode::OK, "the session survives a refused sign-out");
    probe.finish();
    world.hub.stop().await;
}
