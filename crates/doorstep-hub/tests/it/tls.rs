//! Transport security with the real hub binary: HTTPS from a certificate made here, devices
//! that pin it, plain HTTP refused unless asked for, and rate limits keyed on the address a
//! TLS proxy adds only when the hub is told a proxy is in front.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use doorstep_commands::EnrolArgs;
use doorstep_demo::{Generator, at};
use doorstep_device::{Device, LOCK_AFTER};
use doorstep_hub::api::issue_enrolment_code;
use doorstep_hub::sqlite::SqliteStorage;
use doorstep_hub::storage::{HubStorage, OrgKind, Organisation};
use doorstep_model::{NoteId, VisitNote};
use doorstep_protocol::Role;
use doorstep_store::Store;
use doorstep_sync::{SyncClient, SyncError};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::common::{HUB, HubProcess};

/// A self-signed certificate and its key as PEM files; returns them with the certificate's
/// SHA-256 fingerprint, worked out here independently of the hub ("AB:CD:…").
fn certificate(dir: &Path, name: &str) -> (PathBuf, PathBuf, String) {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
    let cert = dir.join(format!("{name}.crt"));
    let key = dir.join(format!("{name}.key"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    let digest = Sha256::digest(made.cert.der().as_ref());
    let fingerprint = digest.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":");
    (cert, key, fingerprint)
}

/// A hub database with a provider and `n` managers' enrolment codes.
async fn hub_db(db: &Path, n: usize) -> Vec<String> {
    let storage = SqliteStorage::open(db).unwrap();
    let provider = Uuid::new_v4();
    storage
        .create_organisation(Organisation {
            id: provider,
            name: "Pinned Care".into(),
            kind: OrgKind::Provider,
            partner_kind: None,
        })
        .await
        .unwrap();
    let mut codes = Vec::new();
    for i in 0..n {
        let code = issue_enrolment_code(&storage, provider, &format!("M{i:03}"), Role::Manager, "test").await.unwrap();
        codes.push(code.code);
    }
    codes
}

fn store(dir: &Path, name: &str) -> Arc<Mutex<Store>> {
    Arc::new(Mutex::new(Store::open(dir.join(format!("{name}.db"))).unwrap()))
}

/// Writes a person, a visit and its note; returns the note's id.
async fn write_note(store: &Mutex<Store>, text: &str) -> String {
    let mut generator = Generator::new(7);
    let person = generator.person();
    let visit = generator.visit(&person, at(chrono::Utc::now().date_naive(), 9, 0));
    let mut note = VisitNote::new(NoteId::for_visit(visit.id), visit.id, person.id);
    note.narrative = text.into();
    let mut store = store.lock().await;
    store.put(&person).unwrap();
    store.put(&visit).unwrap();
    store.put(&note).unwrap();
    note.id.to_string()
}

/// Documents the hub holds changes for, read straight from its SQLite file.
fn hub_changes(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("SELECT COUNT(*) FROM changes", [], |r| r.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pinned_device_enrols_over_https_and_its_note_reaches_the_hub() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = dir.path().join("hub.db");
    let codes = hub_db(&db, 3).await;
    let (cert, key, fingerprint) = certificate(dir.path(), "hub");
    let hub = HubProcess::serve(
        &db,
        "127.0.0.1:0",
        &["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()],
    );
    assert!(hub.url.starts_with("https://127.0.0.1:"), "{}", hub.url);
    assert_eq!(hub.fingerprint.as_deref(), Some(fingerprint.as_str()), "the hub prints its certificate's fingerprint");
    let printed = Command::new(HUB).args(["cert-fingerprint", "--tls-cert", cert.to_str().unwrap()]).output().unwrap();
    assert!(printed.status.success());
    assert_eq!(String::from_utf8_lossy(&printed.stdout).trim(), fingerprint, "cert-fingerprint agrees");

    // Typed as plain lower-case hex on one device, as printed on the other.
    let tablet = store(dir.path(), "tablet");
    let plain_hex = fingerprint.replace(':', "").to_lowercase();
    doorstep_sync::enrol_pinned(&tablet, &hub.url, &codes[0], "tablet", Some(&plain_hex)).await.expect("enrol");
    let note = write_note(&tablet, "Ate well, walked to the shop with me").await;
    let report = SyncClient::for_store(&tablet).await.unwrap().sync(&tablet, |_| {}).await.expect("sync over https");
    assert_eq!((report.pushed, report.held_back), (3, 0), "{report:?}");
    assert_eq!(tablet.lock().await.local_sync_state().unwrap().pending, 0);

    let office = store(dir.path(), "office");
    doorstep_sync::enrol_pinned(&office, &hub.url, &codes[1], "office", Some(&fingerprint)).await.expect("enrol");
    SyncClient::for_store(&office).await.unwrap().sync(&office, |_| {}).await.expect("sync over https");
    let arrived: VisitNote = office.lock().await.get(&note).expect("the note reached the hub and the office");
    assert_eq!(arrived.narrative, "Ate well, walked to the shop with me");

    // Without the fingerprint a self-signed hub is not trusted, and that is not "offline".
    let unpinned = store(dir.path(), "unpinned");
    let refused = doorstep_sync::enrol(&unpinned, &hub.url, &codes[2], "unpinned").await.unwrap_err();
    assert!(matches!(refused, SyncError::UntrustedCertificate), "{refused:?}");
    assert!(!refused.is_transient());

    // A plain-HTTP client gets nothing from the TLS port.
    let plain = reqwest::Client::new().get(format!("http://{}/health", hub.address())).send().await;
    assert!(plain.is_err(), "plain HTTP to the HTTPS port: {plain:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_with_another_certificate_is_refused_and_nothing_reaches_it() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = dir.path().join("hub.db");
    let codes = hub_db(&db, 1).await;
    let (cert, key, fingerprint) = certificate(dir.path(), "hub");
    let (other_cert, other_key, other_fingerprint) = certificate(dir.path(), "impostor");
    let tls = |cert: &Path, key: &Path| {
        ["--tls-cert".to_string(), cert.display().to_string(), "--tls-key".into(), key.display().to_string()]
    };
    let args = tls(&cert, &key);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let hub = HubProcess::serve(&db, "127.0.0.1:0", &args);

    // Set up with the wrong fingerprint: refused before the code is sent, so it still works.
    let tablet = store(dir.path(), "tablet");
    let refused = doorstep_sync::enrol_pinned(&tablet, &hub.url, &codes[0], "tablet", Some(&other_fingerprint))
        .await
        .unwrap_err();
    assert!(matches!(refused, SyncError::CertificateMismatch), "{refused:?}");
    assert_eq!(
        refused.to_string(),
        "This hub's certificate is not the one this device was set up with. Do not continue; tell your manager."
    );
    assert!(!refused.is_transient(), "a mismatch is never retried as if offline");
    assert_eq!(tablet.lock().await.setting("device_token").unwrap(), None);
    let malformed = doorstep_sync::enrol_pinned(&tablet, &hub.url, &codes[0], "tablet", Some("AB:CD")).await;
    assert!(matches!(&malformed, Err(SyncError::Setup(m)) if m.contains("64 letters and numbers")), "{malformed:?}");
    doorstep_sync::enrol_pinned(&tablet, &hub.url, &codes[0], "tablet", Some(&fingerprint))
        .await
        .expect("the code was never spent");
    let note = write_note(&tablet, "Carer noticed a new bruise").await;

    // Another server takes the hub's address with its own certificate: the device sends nothing.
    let address = hub.address();
    let url = hub.url.clone();
    drop(hub);
    let before = hub_changes(&db);
    let args = tls(&other_cert, &other_key);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let impostor = HubProcess::serve(&db, &address, &args);
    assert_eq!(impostor.url, url);
    let client = SyncClient::for_store(&tablet).await.unwrap();
    let outcome = client.sync(&tablet, |_| {}).await;
    assert!(matches!(outcome, Err(SyncError::CertificateMismatch)), "{outcome:?}");
    assert_eq!(hub_changes(&db), before, "nothing reached the other server");
    assert_eq!(tablet.lock().await.local_sync_state().unwrap().pending, 3, "the note waits on the device");
    drop(impostor);

    // The real hub back: the same client syncs.
    let args = tls(&cert, &key);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let _hub = HubProcess::serve(&db, &address, &args);
    let report = client.sync(&tablet, |_| {}).await.expect("sync with the real hub");
    assert_eq!(report.pushed, 3);
    assert!(hub_changes(&db) > before);
    let _: VisitNote = tablet.lock().await.get(&note).unwrap();
}

/// Runs the hub to its end (it must not start); fails the test if it is still running after 30 s.
fn must_not_start(args: &[&str]) -> (String, String) {
    let mut child = Command::new(HUB)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("the hub started with {args:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success(), "{args:?} exits non-zero");
    (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn without_tls_or_a_flag_saying_why_the_hub_will_not_start() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = dir.path().join("hub.db");
    let db = db.to_str().unwrap();
    let (stdout, stderr) = must_not_start(&["--database", db, "serve", "--listen", "127.0.0.1:0"]);
    assert!(!stdout.contains("listening"), "{stdout}");
    for flag in ["--tls-cert", "--behind-tls-proxy", "--insecure-http-for-development"] {
        assert!(stderr.contains(flag), "the refusal names {flag}: {stderr}");
    }
    assert!(!Path::new(db).exists(), "nothing was created");

    // Bad files: a clear error naming the file.
    let (cert, key, _) = certificate(dir.path(), "hub");
    let missing = dir.path().join("missing.crt");
    let missing = missing.to_str().unwrap();
    let (_, stderr) = must_not_start(&["serve", "--tls-cert", missing, "--tls-key", key.to_str().unwrap()]);
    assert!(stderr.contains(missing) && stderr.contains("cannot read TLS certificate"), "{stderr}");
    let cert = cert.to_str().unwrap();
    let (_, stderr) = must_not_start(&["serve", "--tls-cert", cert, "--tls-key", cert]);
    assert!(stderr.contains(cert) && stderr.contains("no TLS private key"), "{stderr}");
    let (_, stderr) = must_not_start(&["cert-fingerprint", "--tls-cert", key.to_str().unwrap()]);
    assert!(stderr.contains("no TLS certificate"), "{stderr}");
}

/// POSTs sign-in attempts (empty credentials, so no password is checked) until one is refused
/// with 429; returns how many were let through.
async fn sign_ins_allowed(http: &reqwest::Client, base: &str, forwarded_for: impl Fn(usize) -> String) -> usize {
    for n in 0..40 {
        let page = http.get(format!("{base}/sign-in")).send().await.unwrap();
        let cookie = page.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
        let html = page.text().await.unwrap();
        let token = html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let response = http
            .post(format!("{base}/sign-in"))
            .header("cookie", cookie)
            .header("x-forwarded-for", forwarded_for(n))
            .form(&[("email", ""), ("password", ""), ("csrf", token.as_str())])
            .send()
            .await
            .unwrap();
        if response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return n;
        }
        assert_eq!(response.status(), reqwest::StatusCode::BAD_REQUEST);
    }
    40
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_behind_a_proxy_do_rate_limits_key_on_the_address_it_added() {
    let dir = tempfile::TempDir::new().unwrap();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let limit = doorstep_hub::limits::SIGN_INS_PER_MINUTE as usize;

    let proxied = HubProcess::serve(&dir.path().join("proxied.db"), "127.0.0.1:0", &["--behind-tls-proxy"]);
    assert!(proxied.url.starts_with("http://"));
    // What the client wrote (left) is ignored; the proxy's entry (right-most) is the client.
    let first = sign_ins_allowed(&http, &proxied.url, |n| format!("198.51.100.{n}, 203.0.113.1")).await;
    // (An allowance refills one attempt every 3 s, so a slow run may see one or two more.)
    assert!((limit..40).contains(&first), "the first forwarded client gets its allowance, once: {first}");
    let second = sign_ins_allowed(&http, &proxied.url, |_| "203.0.113.2".into()).await;
    assert!((limit..40).contains(&second), "a second forwarded client gets its own: {second}");
    let again = sign_ins_allowed(&http, &proxied.url, |n| format!("192.0.2.{n},203.0.113.1")).await;
    assert!(again < limit / 2, "the first client is still limited whatever it puts on the left: {again}");
    let page = http.get(format!("{}/sign-in", proxied.url)).send().await.unwrap();
    let cookie = page.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("Secure"), "behind a TLS proxy cookies are Secure: {cookie}");
    drop(proxied);

    // Without the flag the header is ignored: every request is the one loopback client.
    let direct = HubProcess::serve(&dir.path().join("direct.db"), "127.0.0.1:0", &["--insecure-http-for-development"]);
    let allowed = sign_ins_allowed(&http, &direct.url, |n| format!("203.0.113.{n}")).await;
    assert!((limit..40).contains(&allowed), "a forged X-Forwarded-For buys no extra attempts: {allowed}");
    let page = http.get(format!("{}/sign-in", direct.url)).send().await.unwrap();
    let cookie = page.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(!cookie.contains("Secure"), "plain HTTP for development: {cookie}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_enrol_form_pins_the_fingerprint_the_manager_gave() {
    let dir = tempfile::TempDir::new().unwrap();
    let db = dir.path().join("hub.db");
    let codes = hub_db(&db, 1).await;
    let (cert, key, fingerprint) = certificate(dir.path(), "hub");
    let (_, _, other_fingerprint) = certificate(dir.path(), "other");
    let hub = HubProcess::serve(
        &db,
        "127.0.0.1:0",
        &["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()],
    );
    let device = Device::open(dir.path().join("app.db"), LOCK_AFTER).unwrap();
    let args = |hub_url: &str, fingerprint: Option<&str>| EnrolArgs {
        hub_url: hub_url.into(),
        code: codes[0].clone(),
        device_name: "Sam's tablet".into(),
        pin: "246813".into(),
        hub_certificate: fingerprint.map(String::from),
    };

    let refused = device.enrol(args(&hub.url, Some(&other_fingerprint))).await.unwrap_err();
    assert!(refused.message.contains("not the one this device was set up with"), "{refused:?}");
    let refused = device.enrol(args("http://192.0.2.1:8470", None)).await.unwrap_err();
    assert!(refused.message.contains("https://"), "plain HTTP beyond this machine: {refused:?}");
    let refused = device.enrol(args(&hub.url, Some("not a fingerprint"))).await.unwrap_err();
    assert!(refused.message.contains("certificate fingerprint"), "{refused:?}");
    assert!(!device.session().await.unwrap().enrolled);

    let session = device.enrol(args(&hub.url, Some(&fingerprint.to_lowercase()))).await.expect("enrol");
    assert!(session.enrolled);
    device.sync_now().await.expect("sync over https with the pin");

    // The app's older callers send no fingerprint at all.
    let old: EnrolArgs =
        serde_json::from_str(r#"{"hub_url":"https://hub.example","code":"K","device_name":"d","pin":"246813"}"#)
            .unwrap();
    assert_eq!(old.hub_certificate, None);
}
