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

use automerge::AutoCommit;
use chrono::Utc;
use doorstep_demo::{Generator, at};
use doorstep_hub::api::{MAX_BODY_BYTES, MAX_FORM_BYTES};
use doorstep_hub::service::load_strict;
use doorstep_hub::sqlite::SqliteStorage;
use doorstep_hub::storage::{AuditEntry, HubStorage, WebRole};
use doorstep_model::{
    ConsentBasis, ConsentRecord, Insight, InsightId, InsightStatus, PartnerKind, PartnerOrg, Person, ProviderRef,
    RecordKind, ShareChoices, SharedItem, SharedItemId, StaffId, Urgency, VisitNote,
};
use doorstep_protocol::{
    API_PREFIX, ApiError, DocChanges, DocSyncRequest, DocSyncResponse, HoldReason, Role, SYNC_CONTENT_TYPE,
    SyncRequest, SyncResponse,
};
use doorstep_tests::partners::{COUNCIL, PASSWORD, Partners, SURGERY, WebSession};
use doorstep_tests::{TestDevice, TestHub, today};
use reqwest::header::{HeaderName, HeaderValue};
use reqwest::{RequestBuilder, StatusCode};
use uuid::Uuid;

// The addresses most attempts go to, as the printed tables name them.
const SYNC: &str = "POST /api/v1/sync";
const DOC_SYNC: &str = "POST /api/v1/docs/{id}/sync";
const ENROL: &str = "POST /api/v1/enrol";
const CODES: &str = "POST /api/v1/enrolment-codes";
const REVOKE: &str = "POST /api/v1/devices/{id}/revoke";
const INBOX: &str = "GET /inbox";
const ITEM: &str = "GET /items/{id}";
const RESPOND: &str = "POST /items/{id}/respond";
const SIGN_IN: &str = "POST /sign-in";

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

fn idea(person: &Person) -> Insight {
    Insight {
        follow_up: None,
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
        status: InsightStatus::Submitted,
        comments: vec![],
        shares: vec![],
    }
}

async fn set_up(dir: &Path) -> World {
    let db = dir.join("hub.db");
    let hub = TestHub::start(SqliteStorage::open(&db).unwrap()).await;
    let northgate = hub.other_provider("Northgate Care").await;
    let council_kind = PartnerKind::CouncilAdultSocialCare;
    let Partners { council, surgery } = hub.partners().await;
    let office = hub.device(dir, "M001", Role::Manager).await;
    let carer = hub.device(dir, "C001", Role::Carer).await;
    let nia = hub.device_in(dir, northgate, "N-M001", Role::Manager).await;

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
    let to_council = share(council, COUNCIL, council_kind);
    let to_surgery = share(surgery, SURGERY, PartnerKind::GpPractice);
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

    let ola = hub.web_session(council, "ola@council.example", "Ola Adeyemi", WebRole::Partner).await;
    World {
        db,
        url: hub.url.clone(),
        office_token: office.setting("device_token").await,
        carer_token: carer.setting("device_token").await,
        northgate_token: nia.setting("device_token").await,
        northgate_device: nia.setting("device_id").await.parse().unwrap(),
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
        // A sync notes when the device last synced and what it held back (the operator's
        // sync-health), and which records the device keeps back (the office's list, at most
        // MAX_HELD_BACK_NOTES per device): bookkeeping about the request and the device that
        // sent it, not anything the request wrote.
        if name == "held_back_records" {
            continue;
        }
        let sql = match name.as_str() {
            "devices" => {
                "SELECT id, org_id, staff_ref, role, name, token_hash, created_at, revoked_at FROM devices".into()
            }
            _ => format!("SELECT * FROM \"{name}\""),
        };
        let mut statement = db.prepare(&sql).unwrap();
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
    /// Whatever it does (the first of a replayed pair, set-up steps).
    Anything,
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

/// The status alone: the answer's content is checked after, or there is none to check.
fn just(status: StatusCode) -> Expect {
    Expect { status, code: None, says: None, leaves: Leaves::Nothing }
}

impl Expect {
    fn audited(self) -> Expect {
        Expect { leaves: Leaves::RefusalAudited, ..self }
    }

    fn read_audited(self) -> Expect {
        Expect { leaves: Leaves::AuditOnly, ..self }
    }

    fn writing(self) -> Expect {
        Expect { leaves: Leaves::Anything, ..self }
    }
}

struct Answer {
    status: StatusCode,
    body: Vec<u8>,
    /// Where a redirect leads.
    location: Option<String>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One attempt whose answer needs no look beyond [`Probe::attempt`]'s: the address, what was
/// tried, the request and what it should get.
type Case<'a> = (&'a str, &'a str, RequestBuilder, Expect);

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
                let location = response.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_string);
                let body = response.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
                let answer = Answer { status, body, location };
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
                Answer { status: StatusCode::IM_A_TEAPOT, body: Vec::new(), location: None }
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
        } else if expect.leaves == Leaves::Anything {
            "written"
        } else {
            "WROTE"
        };
        let as_expected = match expect.leaves {
            Leaves::Nothing => left == "nothing written",
            Leaves::RefusalAudited => left == "refusal audited",
            Leaves::AuditOnly => left == "nothing written" || left == "audited as read",
            Leaves::Anything => true,
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

    /// Runs cases one after another, in order (a table of them reads as the test's plan).
    async fn run(&mut self, cases: impl IntoIterator<Item = Case<'_>>) {
        for (endpoint, tried, request, expect) in cases {
            self.attempt(endpoint, tried, request, expect).await;
        }
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

async fn sign_in_form(world: &World) -> (String, String) {
    let page = http().get(format!("{}/sign-in", world.url)).send().await.unwrap();
    let cookie = page.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let html = page.text().await.unwrap();
    let token = html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    (cookie, token)
}

/// A valid sync request pushing one new, whole document.
fn one_push(id: Uuid, kind: RecordKind, bytes: Vec<u8>) -> Vec<u8> {
    doorstep_protocol::encode(&SyncRequest {
        cursor: 0,
        push: vec![DocChanges { id, kind, bytes }],
        max_bytes: 1 << 20,
        held_back: Vec::new(),
    })
}

/// Bytes that look like nothing in particular (a fixed xorshift sequence).
fn garbage(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A whole new record as a device would first push it.
fn whole<T: autosurgeon::Reconcile>(value: &T) -> Vec<u8> {
    let mut doc = AutoCommit::new();
    autosurgeon::reconcile(&mut doc, value).unwrap();
    doc.save()
}

fn answered(answer: &Answer) -> SyncResponse {
    doorstep_protocol::decode(&answer.body).unwrap_or_else(|e| panic!("not a sync answer ({e}): {}", answer.text()))
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_bodies_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let world = set_up(dir.path()).await;
    let mut probe = Probe::new(&world, "Oversized bodies");
    let (too_large, bad) = (StatusCode::PAYLOAD_TOO_LARGE, StatusCode::BAD_REQUEST);
    let body_too_large = || api(too_large, "too_large", "at most 32 MiB");
    let json_too_large = || api(too_large, "too_large", "64 KiB");
    let form_too_large = || page(too_large, "too large");
    let (office, ola) = (world.office_token.clone(), world.ola.clone());
    let big = |n: usize| vec![b'x'; n];
    let sync = |body: Vec<u8>| sync_post(&world, &office, body);
    let doc_sync = |body: Vec<u8>| doc_sync_post(&world, &office, &Uuid::new_v4().to_string(), body);

    // 40 KiB of deflate that would unpack to 40 MiB: refused as it passes the limit.
    let (bomb, compressed) = doorstep_protocol::compress(vec![0; MAX_BODY_BYTES + 8 * 1024 * 1024]);
    assert!(compressed && bomb.len() < 100 * 1024);
    let cases = [
        (SYNC, "32 MiB + 1 byte", sync(big(MAX_BODY_BYTES + 1)), body_too_large()),
        (SYNC, "96 MiB", sync(big(3 * MAX_BODY_BYTES)), body_too_large()),
        (SYNC, "deflate bomb: 40 MiB unpacked", sync(bomb).header("content-encoding", "deflate"), body_too_large()),
    ];
    probe.run(cases).await;
    // At the body limit the request is read, and the one document too large for a push is held
    // back with its reason.
    let id = Uuid::new_v4();
    let envelope = one_push(id, RecordKind::Note, Vec::new()).len() + 4;
    let body = one_push(id, RecordKind::Note, big(MAX_BODY_BYTES - envelope));
    probe.check(body.len() <= MAX_BODY_BYTES && body.len() > MAX_BODY_BYTES - 16, "a body at the limit");
    let answer = probe.attempt(SYNC, "32 MiB: one document's changes", sync(body), just(StatusCode::OK)).await;
    let held = decode_sync(&answer).map(|a| a.held_back);
    probe.check(
        held.as_ref().is_some_and(|h| h.len() == 1 && h[0].id == id && h[0].reason == HoldReason::TooLarge),
        format!("the document is held back as too large: {held:?}"),
    );

    // JSON: enrolment and the managers' API; then the pages' forms.
    let over_form = MAX_FORM_BYTES + 1;
    let enrol = |n: usize| {
        let mut body = br#"{"code":"ABCD-EFGH","device_name":""#.to_vec();
        body.extend(big(n.saturating_sub(body.len() + 2)));
        body.extend(br#""}"#);
        http().post(format!("{}{API_PREFIX}/enrol", world.url)).header("content-type", "application/json").body(body)
    };
    let codes = |n: usize| {
        http()
            .post(format!("{}{API_PREFIX}/enrolment-codes", world.url))
            .bearer_auth(&office)
            .header("content-type", "application/json")
            .body(format!(r#"{{"staff_ref":"{}","role":"carer"}}"#, "C".repeat(n)))
    };
    let form = |path: &str, csrf: &str, n: usize| {
        let mut body = respond_form(csrf, "acknowledged", "");
        body.extend(big(n.saturating_sub(body.len())));
        page_post(&world, &ola, path, body)
    };
    let respond = format!("/items/{}/respond", world.to_council);
    let long_answer = page_post(&world, &ola, &respond, respond_form(&ola.csrf, "acknowledged", &"a".repeat(4001)));
    let cases = [
        (DOC_SYNC, "32 MiB + 1 byte", doc_sync(big(MAX_BODY_BYTES + 1)), body_too_large()),
        (DOC_SYNC, "96 MiB", doc_sync(big(3 * MAX_BODY_BYTES)), body_too_large()),
        (ENROL, "64 KiB + 1 byte", enrol(over_form), json_too_large()),
        (ENROL, "8 MiB", enrol(8 << 20), json_too_large()),
        (ENROL, "a 60 KB device name", enrol(60_000), api(bad, "bad_request", "up to 100 characters")),
        (CODES, "64 KiB + 1 byte", codes(over_form), json_too_large()),
        (CODES, "8 MiB", codes(8 << 20), json_too_large()),
        (CODES, "a 60 KB staff reference", codes(60_000), api(bad, "bad_request", "at most 64 characters")),
        (RESPOND, "64 KiB + 1 byte", form(&respond, &ola.csrf, over_form), form_too_large()),
        (RESPOND, "8 MiB", form(&respond, &ola.csrf, 8 << 20), form_too_large()),
        (RESPOND, "a 4,001-character answer", long_answer, page(bad, "4000").read_audited()),
        (SIGN_IN, "64 KiB + 1 byte", form("/sign-in", "x", over_form), form_too_large()),
        (SIGN_IN, "8 MiB", form("/sign-in", "x", 8 << 20), form_too_large()),
        ("POST /sign-out", "64 KiB + 1 byte", form("/sign-out", &ola.csrf, over_form), form_too_large()),
    ];
    probe.run(cases).await;
    // Still signed in: the refused sign-out changed nothing.
    let inbox = page_get(&world, &ola, "/inbox");
    let after = "after the refused sign-out";
    let inbox = probe.attempt(INBOX, after, inbox, page(StatusCode::OK, "Shared with").read_audited()).await;
    probe.check(inbox.status == StatusCode::OK, "the session survives a refused sign-out");
    probe.finish();
    world.hub.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_requests_get_a_plain_4xx_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let world = set_up(dir.path()).await;
    let mut probe = Probe::new(&world, "Malformed requests");
    let (office, carer, ola) = (world.office_token.clone(), world.carer_token.clone(), world.ola.clone());
    let (not_found, forbidden, wrong_method) =
        (StatusCode::NOT_FOUND, StatusCode::FORBIDDEN, StatusCode::METHOD_NOT_ALLOWED);
    let bad = |says| api(StatusCode::BAD_REQUEST, "bad_request", says);
    let bad_page = |says| page(StatusCode::BAD_REQUEST, says);
    let refused = |says| api(StatusCode::UNAUTHORIZED, "unauthorised", says);
    let wrong_api_method = || api(wrong_method, "method_not_allowed", "method");
    let sync = |body: Vec<u8>| sync_post(&world, &office, body);

    // Sync bodies.
    let valid = one_push(Uuid::new_v4(), RecordKind::Person, AutoCommit::new().save());
    let half = valid[..valid.len() / 2].to_vec();
    let mut longer = valid.clone();
    longer.extend([1, 2, 3]);
    // A newer protocol's record kind: the one byte in which a person's push differs from a
    // visit's, set to 99.
    let mut future = one_push(Uuid::nil(), RecordKind::Person, Vec::new());
    let visit = one_push(Uuid::nil(), RecordKind::Visit, Vec::new());
    let kind_at: Vec<usize> = (0..future.len()).filter(|&i| future[i] != visit[i]).collect();
    probe.check(kind_at.len() == 1, format!("one byte names the kind: {kind_at:?}"));
    future[kind_at[0]] = 99;
    let sync_url = format!("{}{API_PREFIX}/sync", world.url);
    let untyped = || http().post(&sync_url).bearer_auth(&office).body(valid.clone());
    let as_json = untyped().header("content-type", "application/json");
    let not_binary = || api(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", SYNC_CONTENT_TYPE);
    let gzip = sync(valid.clone()).header("content-encoding", "gzip");
    let not_zlib = sync(garbage(500)).header("content-encoding", "deflate");
    let cases = [
        (SYNC, "1,000 random bytes", sync(garbage(1000)), bad("not a sync request")),
        (SYNC, "an empty body", sync(Vec::new()), bad("not a sync request")),
        (SYNC, "a request cut in half", sync(half), bad("not a sync request")),
        (SYNC, "3 bytes after the message's end", sync(longer), bad("after its end")),
        (SYNC, "record kind 99 (a newer version)", sync(future), bad("not a sync request")),
        (SYNC, "content type application/json", as_json, not_binary()),
        (SYNC, "no content type", untyped(), not_binary()),
        (SYNC, "content encoding gzip", gzip, bad("not supported")),
        (SYNC, "deflate that is not", not_zlib, bad("could not be unpacked")),
    ];
    probe.run(cases).await;
    let corrupt_id = Uuid::new_v4();
    let corrupt = sync(one_push(corrupt_id, RecordKind::Note, garbage(300)));
    let answer = probe.attempt(SYNC, "random bytes as a new note", corrupt, just(StatusCode::OK)).await;
    let held = decode_sync(&answer).map(|a| a.held_back);
    probe.check(
        held.as_ref().is_some_and(|h| h.len() == 1 && h[0].id == corrupt_id && h[0].reason == HoldReason::Corrupt),
        format!("random bytes are held back as corrupt: {held:?}"),
    );
    // Extreme numbers are taken for what they can mean: a cursor from the future starts the
    // feed again; the page size is kept within the hub's bounds.
    let extreme = doorstep_protocol::encode(&SyncRequest {
        cursor: u64::MAX,
        push: Vec::new(),
        max_bytes: u32::MAX,
        held_back: Vec::new(),
    });
    let answer = probe.attempt(SYNC, "cursor u64::MAX, max_bytes u32::MAX", sync(extreme), just(StatusCode::OK)).await;
    let pulled = decode_sync(&answer).map(|a| a.pull.iter().any(|d| d.id == world.note));
    probe.check(pulled == Some(true), "a cursor from the future resends the feed");

    // Tokens; document sync; enrolment and the managers' API, in JSON; addresses the API lacks.
    let zero =
        doorstep_protocol::encode(&SyncRequest { cursor: 0, push: Vec::new(), max_bytes: 0, held_back: Vec::new() });
    let empty = doorstep_protocol::encode(&SyncRequest {
        cursor: 0,
        push: Vec::new(),
        max_bytes: 1 << 20,
        held_back: Vec::new(),
    });
    let bare = || http().post(&sync_url).header("content-type", SYNC_CONTENT_TYPE).body(empty.clone());
    let nobody = format!("ds1.{}.{}", Uuid::new_v4(), "A".repeat(43));
    let latin1 = HeaderValue::from_bytes(b"Bearer ds1.\xff\xfe").unwrap();
    let doc_sync = |id: &str, body: Vec<u8>| doc_sync_post(&world, &office, id, body);
    let message = |bytes| doorstep_protocol::encode(&DocSyncRequest { kind: RecordKind::Note, message: bytes });
    let random = Uuid::new_v4().to_string();
    let random_message = doc_sync(&random, message(garbage(200)));
    let post_json = |path: &str, token: Option<&str>, content_type: &str, body: &[u8]| {
        let mut request = http()
            .post(format!("{}{API_PREFIX}{path}", world.url))
            .header("content-type", content_type)
            .body(body.to_vec());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request
    };
    let enrol = |body: &[u8]| post_json("/enrol", None, "application/json", body);
    let codes_as = |token: &str, body: &[u8]| post_json("/enrolment-codes", Some(token), "application/json", body);
    let codes = |body: &[u8]| codes_as(&office, body);
    let as_text = post_json("/enrol", None, "text/plain", br#"{"code":"A","device_name":"B"}"#);
    let not_json = api(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "application/json");
    let api_get = |path: &str| http().get(format!("{}{API_PREFIX}{path}", world.url));
    let revoke = http().post(format!("{}{API_PREFIX}/devices/not-a-uuid/revoke", world.url)).bearer_auth(&office);
    let only_managers = || api(forbidden, "forbidden", "only a manager");
    let no_address = || api(not_found, "not_found", "no such API address");
    let v2 = http()
        .post(format!("{}/api/v2/sync", world.url))
        .bearer_auth(&office)
        .header("content-type", SYNC_CONTENT_TYPE)
        .body(empty.clone());
    let cases = [
        (SYNC, "max_bytes 0", sync(zero), just(StatusCode::OK)),
        (SYNC, "no Authorization header", bare(), refused("token is required")),
        (SYNC, "Bearer + 8 KB of junk", bare().bearer_auth("x".repeat(8192)), refused("not in the expected form")),
        (SYNC, "Basic credentials", bare().header("authorization", "Basic dXNlcjpwYXNz"), refused("token is required")),
        (SYNC, "a token for no device", bare().bearer_auth(nobody), refused("not valid").audited()),
        (SYNC, "a token of invalid UTF-8", bare().header("authorization", latin1), refused("token is required")),
        (DOC_SYNC, "id not-a-uuid", doc_sync("not-a-uuid", message(Vec::new())), bad("not a record id")),
        (DOC_SYNC, "1,000 random bytes", doc_sync(&random, garbage(1000)), bad("not a document sync request")),
        (DOC_SYNC, "random bytes as a sync message", random_message, bad("not an Automerge sync message")),
        (ENROL, "half a JSON object", enrol(b"{\"code\":"), bad("JSON")),
        (ENROL, "content type text/plain", as_text, not_json),
        (ENROL, "a number for the code", enrol(br#"{"code":5,"device_name":"B"}"#), bad("code")),
        (ENROL, "invalid UTF-8", enrol(b"{\"code\":\"\xff\xfe\",\"device_name\":\"B\"}"), bad("JSON")),
        (ENROL, "code 1e999", enrol(br#"{"code":1e999,"device_name":"B"}"#), bad("JSON")),
        (
            ENROL,
            "a blank device name",
            enrol(br#"{"code":"ABCD-EFGH","device_name":"  "}"#),
            bad("give the device a name"),
        ),
        (
            ENROL,
            "a code never issued",
            enrol(br#"{"code":"ZZZZ-ZZZZ","device_name":"Mine"}"#),
            refused("not valid").audited(),
        ),
        (CODES, "role partner", codes(br#"{"staff_ref":"C009","role":"partner"}"#), bad("carers or managers")),
        (CODES, "role \"boss\"", codes(br#"{"staff_ref":"C009","role":"boss"}"#), bad("unknown variant")),
        (
            CODES,
            "a blank staff reference",
            codes(br#"{"staff_ref":"   ","role":"carer"}"#),
            bad("staff reference is needed"),
        ),
        (CODES, "as a carer", codes_as(&carer, br#"{"staff_ref":"C009","role":"carer"}"#), only_managers()),
        (REVOKE, "id not-a-uuid", revoke, api(not_found, "not_found", "no such device")),
        ("GET /api/v1/devices", "as a carer", api_get("/devices").bearer_auth(&carer), only_managers()),
        ("GET /api/v1/nothing-here", "an address the API lacks", api_get("/nothing-here"), no_address()),
        ("GET /api/v1/sync", "the wrong method", api_get("/sync").bearer_auth(&office), wrong_api_method()),
        ("POST /api/v2/sync", "a protocol version the hub lacks", v2, page(not_found, "Page not found")),
    ];
    probe.run(cases).await;

    // Paths and headers; the pages' query strings and forms.
    let get = |path: &str| page_get(&world, &ola, path);
    let post = |path: &str, body: Vec<u8>| page_post(&world, &ola, path, body);
    let no_page = || page(not_found, "Page not found");
    let too_large = || just(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    // 60,000 characters: near the longest address an HTTP client sends (65,534).
    let long_id = format!("/items/{}", "a".repeat(60_000));
    let long_path = format!("/{}", "a/".repeat(30_000));
    let mut many = get("/inbox");
    for n in 0..200 {
        many = many.header(HeaderName::from_bytes(format!("x-h{n}").as_bytes()).unwrap(), "1");
    }
    let address = || bad_page("address is not right");
    let shown = |says| page(StatusCode::OK, says).read_audited();
    let respond = format!("/items/{}/respond", world.to_council);
    let as_json = http()
        .post(format!("{}{respond}", world.url))
        .header("cookie", &ola.cookie)
        .header("content-type", "application/json")
        .body(br#"{"outcome":"acknowledged"}"#.to_vec());
    let mut latin1 = format!("csrf={}&message=&outcome=", ola.csrf).into_bytes();
    latin1.extend(b"\xff\xfe");
    let choose = || bad_page("Choose what you have done").read_audited();
    let exploded = respond_form(&ola.csrf, "exploded", "");
    let expired = page(forbidden, "This form has expired");
    let cases = [
        (ITEM, "a 60,000-character id", get(&long_id), no_page()),
        ("GET /api/v1/a/a/…", "30,000 path segments", api_get(&long_path), no_address()),
        (INBOX, "a 1 MiB header", get("/inbox").header("x-filler", "f".repeat(1 << 20)), too_large()),
        (INBOX, "200 headers", many, too_large()),
        ("GET /assets/…", "%2e%2e/%2e%2e/etc/passwd", get("/assets/%2e%2e/%2e%2e/etc/passwd"), no_page()),
        (ITEM, "id %00", get("/items/%00"), no_page()),
        (INBOX, "?page=-1", get("/inbox?page=-1"), address()),
        (INBOX, "?page=10^23", get("/inbox?page=99999999999999999999999"), address()),
        (INBOX, "?page=u64::MAX (the last page)", get("/inbox?page=18446744073709551615"), shown("Shared with")),
        (INBOX, "?kind=%FF%FE (not UTF-8)", get("/inbox?kind=%FF%FE"), shown("0 items")),
        (ITEM, "id not-a-uuid", get("/items/not-a-uuid"), no_page()),
        ("GET /items/{id}/fhir.json", "id not-a-uuid", get("/items/not-a-uuid/fhir.json"), no_page()),
        (RESPOND, "a JSON body", as_json, bad_page("could not be read")),
        (RESPOND, "outcome of invalid UTF-8", post(&respond, latin1), choose()),
        (RESPOND, "outcome \"exploded\"", post(&respond, exploded), choose()),
        (RESPOND, "no CSRF token", post(&respond, b"outcome=acknowledged".to_vec()), expired),
    ];
    probe.run(cases).await;
    let (form_cookie, form_token) = sign_in_form(&world).await;
    let sign_in = |content_type: &str, body: Vec<u8>| {
        http()
            .post(format!("{}/sign-in", world.url))
            .header("cookie", &form_cookie)
            .header("content-type", content_type)
            .body(body)
    };
    let long_email = format!("{}@council.example", "o".repeat(10_000));
    let body = serde_urlencoded_pairs(&[("email", &long_email), ("password", PASSWORD), ("csrf", &form_token)]);
    let long_email = sign_in("application/x-www-form-urlencoded", body);
    let expired = http().get(format!("{}/sign-in?expired=%FF", world.url));
    let cannot = || page(wrong_method, "cannot be used that way");

    // The remaining addresses: health, the partner list, the pages other roles own, the home
    // page, the stylesheets; sessions that are not sessions.
    let health = format!("{}{API_PREFIX}/health", world.url);
    let partners = format!("{}{API_PREFIX}/partners", world.url);
    let not_theirs = || page(forbidden, "Your account cannot open this page").audited();
    let csv = get("/inbox.csv?page=-1&kind=%00");
    let cases = [
        (SIGN_IN, "a JSON body", sign_in("application/json", b"{}".to_vec()), bad_page("could not be read")),
        (SIGN_IN, "a 10 KB email address", long_email, page(StatusCode::UNAUTHORIZED, "not right")),
        ("GET /sign-in", "?expired=%FF", expired, page(StatusCode::OK, "Sign in")),
        ("GET /sign-out", "the wrong method", get("/sign-out"), cannot()),
        ("GET /no-such-page", "an address the hub lacks", get("/no-such-page"), no_page()),
        ("GET /api/v1/health", "?x=%FF", http().get(format!("{health}?x=%FF")), just(StatusCode::OK)),
        ("POST /api/v1/health", "the wrong method", http().post(&health).body(garbage(100)), wrong_api_method()),
        ("GET /api/v1/partners", "as a carer", http().get(&partners).bearer_auth(&carer), only_managers()),
        ("GET /api/v1/partners", "no token", http().get(&partners), refused("token is required")),
        ("GET /trends", "as a partner", get("/trends"), not_theirs()),
        ("GET /trends.csv", "as a partner", get("/trends.csv"), not_theirs()),
        ("GET /feed", "as a partner", get("/feed"), not_theirs()),
        ("GET /activity?page=-1&x=%FF", "as a partner", get("/activity?page=-1&x=%FF"), not_theirs()),
        ("GET /inbox.csv", "?page=-1&kind=%00", csv, just(StatusCode::OK).read_audited()),
    ];
    probe.run(cases).await;
    let junk = WebSession { cookie: format!("doorstep_session={}", "j".repeat(10_000)), csrf: String::new() };
    let junk = page_get(&world, &junk, "/");
    let answer = probe.attempt("GET /", "a 10 KB session cookie", junk, just(StatusCode::SEE_OTHER)).await;
    probe.check(answer.location.as_deref() == Some("/sign-in?expired=1"), "a junk session leads to sign-in");
    let latin1 = HeaderValue::from_bytes(b"doorstep_session=\xff\xfe").unwrap();
    let latin1 = http().get(format!("{}/inbox", world.url)).header("cookie", latin1);
    let answer = probe.attempt(INBOX, "a cookie of invalid UTF-8", latin1, just(StatusCode::SEE_OTHER)).await;
    probe.check(answer.location.as_deref().is_some_and(|l| l.starts_with("/sign-in")), "no session: sign in");
    let css = http().post(format!("{}/assets/hub.css", world.url)).body(garbage(100));
    probe.attempt("POST /assets/hub.css", "the wrong method", css, cannot()).await;
    probe.finish();
    world.hub.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn replayed_requests_change_nothing_the_second_time() {
    let dir = tempfile::tempdir().unwrap();
    let world = set_up(dir.path()).await;
    let mut probe = Probe::new(&world, "Replayed requests");
    let see_other = || just(StatusCode::SEE_OTHER);

    // The same sync request twice: stored once, answered the same.
    let person = Generator::new(7).person();
    let cursor = world.hub.storage.max_seq().await.unwrap();
    let push = DocChanges { id: person.id.0, kind: RecordKind::Person, bytes: whole(&person) };
    let request =
        doorstep_protocol::encode(&SyncRequest { cursor, push: vec![push], max_bytes: 1 << 20, held_back: Vec::new() });
    let sync = |request| sync_post(&world, &world.office_token, request);
    let first = probe.attempt(SYNC, "a new person", sync(request.clone()), just(StatusCode::OK).writing()).await;
    let second = probe.attempt(SYNC, "the same request again", sync(request), just(StatusCode::OK)).await;
    let (first, second) = (answered(&first), answered(&second));
    probe.check(first.held_back.is_empty(), format!("the person is taken: {:?}", first.held_back));
    probe.check(first == second, format!("the same answer twice: {first:?} / {second:?}"));
    let stored = world.hub.storage.load_document(person.id.0).await.unwrap().map(|d| d.kind);
    probe.check(stored == Some(RecordKind::Person), "the person is stored");

    // An enrolment code works once; a partner's answer sent twice (a double click) is recorded
    // once; then the partner signs out.
    let code = world.hub.code("C005", Role::Carer).await;
    let enrol = || {
        http()
            .post(format!("{}{API_PREFIX}/enrol", world.url))
            .json(&serde_json::json!({ "code": code, "device_name": "Sam's new tablet" }))
    };
    let ola = world.ola.clone();
    let respond = format!("/items/{}/respond", world.to_council);
    let answer = || page_post(&world, &ola, &respond, respond_form(&ola.csrf, "acknowledged", "Seen, thank you."));
    let sign_out = page_post(&world, &ola, "/sign-out", serde_urlencoded_pairs(&[("csrf", &ola.csrf)]));
    let cases = [
        (ENROL, "a new code", enrol(), just(StatusCode::OK).writing()),
        (ENROL, "the same code again", enrol(), api(StatusCode::UNAUTHORIZED, "unauthorised", "used").audited()),
        (RESPOND, "an answer", answer(), see_other().writing()),
        (RESPOND, "the same answer again", answer(), see_other()),
        ("POST /sign-out", "signing out", sign_out, see_other().writing()),
    ];
    probe.run(cases).await;
    let doc = load_strict(&world.hub.storage.load_document(world.to_council).await.unwrap().unwrap().bytes).unwrap();
    let item: SharedItem = autosurgeon::hydrate(&doc).unwrap();
    probe.check(item.responses.len() == 1, format!("one answer stored: {:?}", item.responses));

    // A signed-out session's cookie, and its form token, open nothing.
    let expired = Some("/sign-in?expired=1".to_string());
    for path in ["/inbox", "/inbox.csv", &format!("/items/{}", world.to_council)] {
        let endpoint = format!("GET {}", path.replace(&world.to_council.to_string(), "{id}"));
        let again = probe.attempt(&endpoint, "the signed-out cookie", page_get(&world, &ola, path), see_other()).await;
        probe.check(again.location == expired, format!("{path} leads to sign-in: {:?}", again.location));
    }
    let late = page_post(&world, &ola, &respond, respond_form(&ola.csrf, "action_taken", "Booked."));
    let again = probe.attempt(RESPOND, "the signed-out cookie and its token", late, see_other()).await;
    probe.check(again.location == expired, format!("answering leads to sign-in: {:?}", again.location));

    // Signed in again: the old session's form token is refused. A device's token after the
    // office revoked the device.
    let fresh = WebSession { csrf: ola.csrf.clone(), ..world.hub.sign_in("ola@council.example").await };
    let stale = page_post(&world, &fresh, &respond, respond_form(&ola.csrf, "action_taken", "Booked."));
    let carer_id = world.carer.setting("device_id").await;
    let revoke =
        http().post(format!("{}{API_PREFIX}/devices/{carer_id}/revoke", world.url)).bearer_auth(&world.office_token);
    let empty = doorstep_protocol::encode(&SyncRequest {
        cursor: 0,
        push: Vec::new(),
        max_bytes: 1 << 20,
        held_back: Vec::new(),
    });
    let message = doorstep_protocol::encode(&DocSyncRequest { kind: RecordKind::Note, message: Vec::new() });
    let doc_sync = doc_sync_post(&world, &world.carer_token, &world.note.to_string(), message);
    let revoked = || api(StatusCode::FORBIDDEN, "revoked", "revoked").audited();
    let cases = [
        (RESPOND, "a new session, the old form token", stale, page(StatusCode::FORBIDDEN, "This form has expired")),
        (REVOKE, "the carer's tablet", revoke, just(StatusCode::NO_CONTENT).writing()),
        (SYNC, "the revoked tablet's token", sync_post(&world, &world.carer_token, empty), revoked()),
        (DOC_SYNC, "the revoked tablet's token", doc_sync, revoked()),
    ];
    probe.run(cases).await;
    probe.finish();
    world.hub.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_and_foreign_ids_are_refused_like_ids_that_do_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let world = set_up(dir.path()).await;
    let mut probe = Probe::new(&world, "Forged ids and other organisations' ids");
    let office_id = world.office.setting("device_id").await;
    let office = world.office_token.clone();
    let ok = || just(StatusCode::OK);

    // Pushes onto another provider's records: held back as forbidden, the detail made only of
    // what the device sent (not the record's real kind), audited.
    let edit = note_edit(&world, world.northgate_note).await;
    let cases = [
        ("Northgate's note, as a note", world.northgate_note, RecordKind::Note, edit.clone()),
        ("Northgate's note, as a person", world.northgate_note, RecordKind::Person, edit.clone()),
        ("a new person with Northgate's person's id", world.northgate_person, RecordKind::Person, {
            let mut person = Generator::new(8).person();
            person.id.0 = world.northgate_person;
            whole(&person)
        }),
    ];
    for (what, id, kind, bytes) in cases {
        let push = sync_post(&world, &office, one_push(id, kind, bytes));
        let answer = probe.attempt(SYNC, what, push, ok().audited()).await;
        let held = answered(&answer).held_back;
        let said = format!("device {office_id} (manager M001 of {}) may not change {kind} {id}", world.hub.provider);
        probe.check(
            held.len() == 1 && held[0].reason == HoldReason::Forbidden && held[0].detail == said,
            format!("{what}: {held:?}, expected only {said:?}"),
        );
    }
    let carer = sync_post(&world, &world.carer_token, one_push(world.northgate_note, RecordKind::Note, edit.clone()));
    let answer = probe.attempt(SYNC, "Northgate's note, by a carer", carer, ok().audited()).await;
    probe.check(
        answered(&answer).held_back.iter().all(|h| h.reason == HoldReason::Forbidden),
        "the carer's push is forbidden",
    );
    // The same change under an id nobody has: the hub lacks its history, and stores nothing.
    let forged = Uuid::new_v4();
    let body = one_push(forged, RecordKind::Note, edit);
    let answer = probe.attempt(SYNC, "the same change, a forged id", sync_post(&world, &office, body), ok()).await;
    let held = answered(&answer).held_back;
    probe.check(held.len() == 1 && held[0].reason == HoldReason::NeedsDocSync, format!("forged id: {held:?}"));

    // Document sync: another provider's record answers exactly as one that does not exist.
    let hello = |id: Uuid, kind| {
        let body = doorstep_protocol::encode(&DocSyncRequest { kind, message: Vec::new() });
        doc_sync_post(&world, &office, &id.to_string(), body)
    };
    let absent = probe.attempt(DOC_SYNC, "a forged id", hello(forged, RecordKind::Note), ok()).await;
    for (what, id, kind) in [
        ("Northgate's note", world.northgate_note, RecordKind::Note),
        ("Northgate's person", world.northgate_person, RecordKind::Person),
    ] {
        let answer = probe.attempt(DOC_SYNC, what, hello(id, kind), ok().audited()).await;
        probe.check(answer.body == absent.body, format!("{what}: answered unlike an id that does not exist"));
    }
    // …and changes sent for it through the sync protocol are refused when they would be stored.
    let mut mine = AutoCommit::new();
    let mut note: VisitNote = autosurgeon::hydrate(&hub_copy(&world, world.northgate_note).await).unwrap();
    note.narrative = "Overwritten by another provider.".into();
    autosurgeon::reconcile(&mut mine, &note).unwrap();
    let mut state = automerge::sync::State::new();
    let send = |mine: &mut AutoCommit, state: &mut automerge::sync::State| {
        use automerge::sync::SyncDoc;
        let message = mine.sync().generate_sync_message(state).map(|m| m.encode()).unwrap_or_default();
        let body = doorstep_protocol::encode(&DocSyncRequest { kind: RecordKind::Note, message });
        doc_sync_post(&world, &office, &world.northgate_note.to_string(), body)
    };
    let message = send(&mut mine, &mut state);
    let first = probe.attempt(DOC_SYNC, "Northgate's note: a first message", message, ok().audited()).await;
    // The hub's answer, as if from an empty document (an error answer is reported above).
    if let Ok(reply) = doorstep_protocol::decode::<DocSyncResponse>(&first.body) {
        use automerge::sync::SyncDoc;
        let reply = automerge::sync::Message::decode(&reply.message).unwrap();
        mine.sync().receive_sync_message(&mut state, reply).unwrap();
    }
    let refused = api(StatusCode::FORBIDDEN, "forbidden", "may not change").audited();
    probe.attempt(DOC_SYNC, "Northgate's note: its changes", send(&mut mine, &mut state), refused).await;
    let stored: VisitNote = autosurgeon::hydrate(&hub_copy(&world, world.northgate_note).await).unwrap();
    probe.check(!stored.narrative.contains("Overwritten"), "Northgate's note is unchanged");

    // The pages: an item not shared with the partner is "not found", exactly like one that
    // does not exist, whatever the id names; every look is audited.
    let ola = world.ola.clone();
    let get = |path: String| page_get(&world, &ola, &path);
    let not_found = || page(StatusCode::NOT_FOUND, "Page not found").audited();
    let nowhere = probe.attempt(ITEM, "a forged id", get(format!("/items/{}", Uuid::new_v4())), not_found()).await;
    let others = [
        ("the surgery's item", world.to_surgery),
        ("Sunrise's idea behind it", world.insight),
        ("Sunrise's person", world.person),
        ("Northgate's note", world.northgate_note),
    ];
    for (what, id) in others {
        let answer = probe.attempt(ITEM, what, get(format!("/items/{id}")), not_found()).await;
        probe.check(answer.body == nowhere.body, format!("{what}: a page unlike a forged id's"));
    }
    for (what, id) in [("a forged id", Uuid::new_v4()), ("the surgery's item", world.to_surgery)] {
        let fhir = get(format!("/items/{id}/fhir.json"));
        let answer = probe.attempt("GET /items/{id}/fhir.json", what, fhir, not_found()).await;
        probe.check(answer.body == nowhere.body, format!("FHIR of {what}: unlike a forged id's page"));
        let form = respond_form(&ola.csrf, "acknowledged", "Seen.");
        let respond = page_post(&world, &ola, &format!("/items/{id}/respond"), form);
        let answer = probe.attempt(RESPOND, what, respond, not_found()).await;
        probe.check(answer.body == nowhere.body, format!("answering {what}: unlike a forged id's page"));
    }
    let not_a_uuid = get("/items/not-a-uuid".into());
    let answer = probe.attempt(ITEM, "not a UUID", not_a_uuid, page(StatusCode::NOT_FOUND, "Page not found")).await;
    probe.check(answer.body == nowhere.body, "a non-UUID id: unlike a forged id's page");

    // The managers' API: another provider's device is "no such device", like a forged id.
    let revoke = |id: Uuid| http().post(format!("{}{API_PREFIX}/devices/{id}/revoke", world.url)).bearer_auth(&office);
    let no_device = || api(StatusCode::NOT_FOUND, "not_found", "no such device").audited();
    let forged = probe.attempt(REVOKE, "a forged id", revoke(Uuid::new_v4()), no_device()).await;
    let foreign =
        probe.attempt(REVOKE, "Northgate's manager's device", revoke(world.northgate_device), no_device()).await;
    probe.check(forged.body == foreign.body, "another provider's device answers like a forged id");
    let still = world.hub.storage.device(world.northgate_device).await.unwrap().is_some_and(|d| !d.revoked);
    probe.check(still, "Northgate's device is not revoked");
    // Northgate still syncs.
    let empty = doorstep_protocol::encode(&SyncRequest {
        cursor: 0,
        push: Vec::new(),
        max_bytes: 1 << 20,
        held_back: Vec::new(),
    });
    let northgate = sync_post(&world, &world.northgate_token, empty);
    probe.attempt(SYNC, "Northgate's manager, afterwards", northgate, ok()).await;
    probe.finish();
    world.hub.stop().await;
}

/// Half-sent requests (slowloris) cannot hold the hub: a connection whose headers do not finish
/// in time is closed, and when every slot is taken, the next client waits only until one frees.
#[tokio::test]
async fn half_sent_requests_are_cut_off_and_cannot_fill_the_hub() {
    use doorstep_hub::conn_limits::ConnectionLimits;
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = tempfile::tempdir().unwrap();
    let storage = SqliteStorage::open(&dir.path().join("hub.db")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let limits = ConnectionLimits {
        max_connections: 2,
        header_deadline: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(2),
    };
    tokio::spawn(doorstep_hub::server::serve_with_limits(
        storage,
        listener,
        doorstep_hub::server::Transport::PlainHttpForDevelopment,
        limits,
        std::future::pending(),
    ));

    // Two clients start a request and never finish its headers: they take both slots.
    let mut slow = Vec::new();
    for _ in 0..2 {
        let mut tcp = tokio::net::TcpStream::connect(address).await.unwrap();
        tcp.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: hub\r\nX-Slow: ").await.unwrap();
        slow.push(tcp);
    }
    // A real request waits for a slot, and gets one when the slow ones are cut off.
    let started = Instant::now();
    let answer = reqwest::Client::new()
        .get(format!("http://{address}/"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("served once a slot frees");
    assert!(answer.status().as_u16() < 500, "{}", answer.status());
    assert!(started.elapsed() < Duration::from_secs(5), "waited {:?}", started.elapsed());
    // The slow clients were closed by the hub (end of stream or reset), not left open.
    for mut tcp in slow {
        let mut buf = [0u8; 64];
        let read = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf)).await.expect("closed in time");
        assert!(matches!(read, Ok(0) | Err(_)), "the hub closed the half-sent request: {read:?}");
    }
}

/// Forged device tokens by the hundred write one audit line per source and minute, not one
/// each: the audit log cannot be filled (or its rows made to cost) by guessing.
#[tokio::test]
async fn forged_tokens_by_the_hundred_write_one_audit_line_a_minute() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(SqliteStorage::open(&dir.path().join("hub.db")).unwrap()).await;
    let before = hub.storage.audit_log(10_000).await.unwrap().len();
    let http = reqwest::Client::new();
    for _ in 0..300 {
        let forged = format!("ds1.{}.{}", uuid::Uuid::new_v4(), "A".repeat(43));
        let status = http
            .post(format!("{}{API_PREFIX}/sync", hub.url))
            .bearer_auth(forged)
            .header("content-type", SYNC_CONTENT_TYPE)
            .body(Vec::new())
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let written = hub.storage.audit_log(10_000).await.unwrap().len() - before;
    // One line, or two when the run crossed a minute's edge.
    assert!((1..=2).contains(&written), "{written} audit lines for 300 forged tokens");
    hub.stop().await;
}

/// A note carrying more text than any visit needs is held back with the reason and never
/// stored, so it costs no reader anything (a flood of operations is refused even earlier, from
/// the changes' headers: `service::push::pushed_ops_tests`).
#[tokio::test]
async fn oversize_text_is_held_back_and_never_stored() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(SqliteStorage::open(&dir.path().join("hub.db")).unwrap()).await;
    let office = hub.device(dir.path(), "M001", Role::Manager).await;
    let mut generator = Generator::new(5);
    let person = generator.person();
    let visit = generator.visit(&person, at(today(), 9, 0));
    let mut note = generator.note(&visit);
    note.narrative = "x".repeat(doorstep_model::policy::NOTE_TEXT_MOST + 1);
    {
        let mut store = office.store.lock().await;
        store.put(&person).unwrap();
        store.put(&visit).unwrap();
        store.put(&note).unwrap();
    }
    let report = office.sync().await;
    assert_eq!(report.held_back, 1, "the note is held back");
    assert!(hub.storage.load_document(note.id.0).await.unwrap().is_none(), "and never stored");
    assert!(hub.storage.load_document(visit.id.0).await.unwrap().is_some(), "the rest goes through");

    hub.stop().await;
}

/// Behind a TLS proxy on the same machine every request arrives from loopback, with or without
/// X-Forwarded-For: the metrics then answer only their token, never "this machine".
#[tokio::test]
async fn behind_the_proxy_the_metrics_need_their_token() {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(doorstep_hub::server::serve_on(
        SqliteStorage::open(&dir.path().join("hub.db")).unwrap(),
        listener,
        doorstep_hub::server::Transport::BehindTlsProxy,
        std::future::pending(),
    ));
    let http = reqwest::Client::new();
    let mut answer = None;
    for _ in 0..50 {
        match http.get(format!("http://{address}/metrics")).send().await {
            Ok(r) => {
                answer = Some(r.status());
                break;
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
    assert_eq!(answer, Some(StatusCode::FORBIDDEN), "a proxy that adds no X-Forwarded-For is not this machine");
}

/// Enrolment codes are 60 bits ("XXXX-XXXX-XXXX"); every enrolment is in the audit log, and
/// wrong codes are too, one line a source and minute however many are tried.
#[tokio::test]
async fn enrolments_and_wrong_codes_are_audited_without_flooding_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start(SqliteStorage::open(&dir.path().join("hub.db")).unwrap()).await;
    let code = hub.code("C007", Role::Carer).await;
    let shape: Vec<usize> = code.split('-').map(str::len).collect();
    assert_eq!(shape, [4, 4, 4], "{code}");
    let before = hub.storage.audit_log(10_000).await.unwrap().len();
    let store = tokio::sync::Mutex::new(doorstep_store::Store::open(dir.path().join("guess.db")).unwrap());
    for n in 0..40 {
        let guess = format!("AAAA-AAAA-{n:04}");
        assert!(doorstep_sync::enrol(&store, &hub.url, &guess, "a guess").await.is_err());
    }
    let log = hub.storage.audit_log(10_000).await.unwrap();
    let guesses: Vec<&AuditEntry> = log.iter().take(log.len() - before).filter(|e| e.action == "enrol").collect();
    assert!((1..=2).contains(&guesses.len()), "{guesses:?}");
    assert!(guesses.iter().all(|e| !e.allowed));

    let store = tokio::sync::Mutex::new(doorstep_store::Store::open(dir.path().join("real.db")).unwrap());
    let enrolled = doorstep_sync::enrol(&store, &hub.url, &code.to_lowercase(), "Dee's tablet").await.expect("enrol");
    let log = hub.storage.audit_log(5).await.unwrap();
    assert!(
        log.iter().any(|e| e.allowed && e.action == "enrol" && e.actor.contains(&enrolled.device_id.to_string())),
        "{log:?}"
    );
    hub.stop().await;
}
