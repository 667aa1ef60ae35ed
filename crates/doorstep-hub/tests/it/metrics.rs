//! The real hub's `/metrics` (Prometheus text), its readiness check and its per-request log
//! lines: counts by route template, sync latency and bytes, active devices, denials; who may
//! read them; and no ids or staff references anywhere in them.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use doorstep_demo::Generator;
use doorstep_hub::api::issue_enrolment_code;
use doorstep_hub::sqlite::SqliteStorage;
use doorstep_hub::storage::{HubStorage, OrgKind, Organisation};
use doorstep_protocol::Role;
use doorstep_store::Store;
use doorstep_sync::SyncClient;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::common::{HUB, HubProcess};

const TOKEN: &str = "a-long-random-metrics-token";

/// The hub with JSON logs at info level into `log`, and a token for reading metrics.
fn start_hub(db: &Path, log: &Path) -> HubProcess {
    HubProcess::start(
        Command::new(HUB)
            .args(["--database", &db.to_string_lossy(), "--log-json", "serve", "--insecure-http-for-development"])
            .args(["--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "info")
            .env("DOORSTEP_METRICS_TOKEN", TOKEN)
            .stderr(std::fs::File::create(log).unwrap()),
    )
}

/// The value of the sample whose line starts with `name_and_labels`.
fn sample(text: &str, name_and_labels: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name_and_labels).and_then(|rest| rest.trim().parse().ok()))
        .unwrap_or_else(|| panic!("no sample {name_and_labels} in:\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_readiness_and_request_logs() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = dir.path().join("hub.db");
    let log = dir.path().join("hub.log");
    let provider = Uuid::new_v4();
    let code = {
        let storage = SqliteStorage::open(&db).unwrap();
        let org =
            Organisation { id: provider, name: "Metric Care".into(), kind: OrgKind::Provider, partner_kind: None };
        storage.create_organisation(org).await.unwrap();
        issue_enrolment_code(&storage, provider, "STAFF-REF-77", Role::Manager, "test").await.unwrap().code
    };
    let hub = start_hub(&db, &log);
    let url = hub.url.clone();
    let http = reqwest::Client::new();

    let store = Arc::new(Mutex::new(Store::open(dir.path().join("device.db")).unwrap()));
    doorstep_sync::enrol(&store, &url, &code, "tablet").await.unwrap();
    let client = SyncClient::for_store(&store).await.unwrap();
    let device_id = store.lock().await.setting("device_id").unwrap().unwrap_or_default();
    let mut generator = Generator::new(5);
    let person = generator.person();
    store.lock().await.put(&person).unwrap();
    client.sync(&store, |_| {}).await.unwrap();
    client.sync(&store, |_| {}).await.unwrap();

    // A forged token for the real device: refused, and audited as a denial.
    let token = store.lock().await.setting("device_token").unwrap().unwrap();
    let forged = format!("{}.wrong", token.rsplit_once('.').unwrap().0);
    let refused = http
        .post(format!("{url}/api/v1/sync"))
        .bearer_auth(&forged)
        .header("content-type", doorstep_protocol::SYNC_CONTENT_TYPE)
        .body(vec![0u8])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);

    let ready = http.get(format!("{url}/api/v1/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 200);

    let answer = http.get(format!("{url}/metrics")).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert!(answer.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = answer.text().await.unwrap();
    let synced = sample(&text, r#"doorstep_hub_http_requests_total{method="POST",route="/api/v1/sync",status="2xx"}"#);
    assert!(synced >= 2.0, "{text}");
    assert_eq!(
        sample(&text, r#"doorstep_hub_http_requests_total{method="POST",route="/api/v1/sync",status="4xx"}"#),
        1.0
    );
    assert_eq!(
        sample(&text, r#"doorstep_hub_http_requests_total{method="POST",route="/api/v1/enrol",status="2xx"}"#),
        1.0
    );
    assert_eq!(sample(&text, "doorstep_hub_sync_duration_seconds_count"), synced + 1.0, "every sync timed");
    assert!(sample(&text, "doorstep_hub_sync_received_bytes_total") > 100.0, "the person was pushed");
    assert!(sample(&text, "doorstep_hub_sync_sent_bytes_total") > 0.0);
    assert_eq!(sample(&text, "doorstep_hub_active_devices"), 1.0);
    assert_eq!(sample(&text, r#"doorstep_hub_denials_total{action="authenticate"}"#), 1.0);
    assert!(text.contains("# TYPE doorstep_hub_sync_duration_seconds histogram"));
    for personal in [device_id.as_str(), "STAFF-REF-77", &provider.to_string(), &person.id.to_string()] {
        assert!(!personal.is_empty() && !text.contains(personal), "{personal} in the metrics");
    }

    // Through a proxy (X-Forwarded-For) the metrics need the token.
    let proxied = |bearer: Option<&str>| {
        let mut request = http.get(format!("{url}/metrics")).header("x-forwarded-for", "203.0.113.9");
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        request.send()
    };
    assert_eq!(proxied(None).await.unwrap().status(), 403);
    assert_eq!(proxied(Some("not-the-token")).await.unwrap().status(), 403);
    assert_eq!(proxied(Some(TOKEN)).await.unwrap().status(), 200);

    // A database that cannot answer: not ready, in plain words; ready again once it can.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("ALTER TABLE hub_sequence RENAME TO hub_sequence_away").unwrap();
    let not_ready = http.get(format!("{url}/api/v1/ready")).send().await.unwrap();
    assert_eq!(not_ready.status(), 503);
    let body: serde_json::Value = not_ready.json().await.unwrap();
    assert_eq!(body["message"], "the hub cannot reach its database");
    assert_eq!(http.get(format!("{url}/api/v1/health")).send().await.unwrap().status(), 200, "still alive");
    conn.execute_batch("ALTER TABLE hub_sequence_away RENAME TO hub_sequence").unwrap();
    assert_eq!(http.get(format!("{url}/api/v1/ready")).send().await.unwrap().status(), 200);

    hub.kill();

    // One JSON line per request, with the route template, status and latency, and nothing
    // that names a device, a person or a member of staff.
    let log = std::fs::read_to_string(&log).unwrap();
    let requests: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["target"] == "doorstep_hub::request")
        .collect();
    let sync_lines: Vec<_> = requests.iter().filter(|l| l["fields"]["route"] == "/api/v1/sync").collect();
    assert_eq!(sync_lines.len() as f64, synced + 1.0, "{log}");
    assert!(sync_lines.iter().any(|l| l["fields"]["status"] == 401));
    for line in &requests {
        let fields = &line["fields"];
        assert!(fields["method"].is_string() && fields["status"].is_u64() && fields["latency_ms"].is_f64(), "{line}");
        let text = line.to_string();
        for personal in [device_id.as_str(), "STAFF-REF-77", &person.id.to_string()] {
            assert!(!text.contains(personal), "{personal} in {text}");
        }
    }
}
