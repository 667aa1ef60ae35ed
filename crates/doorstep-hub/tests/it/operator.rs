//! The operator's side of the hub, with the real binary on real SQLite files: every admin
//! command (against a hub that devices really synced with), the configuration file and its
//! precedence, the sample config and systemd unit in deploy/, and docs/hub.md walked command
//! by command so the guide cannot drift from the program.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use doorstep_demo::{Generator, at};
use doorstep_hub::config::KEYS;
use doorstep_hub::sqlite::SqliteStorage;
use doorstep_hub::storage::HubStorage;
use doorstep_hub::{Hub, sharing::WebError};
use doorstep_model::{NoteId, StaffId, Visit, VisitNote};
use doorstep_store::Store;
use doorstep_sync::{SyncClient, SyncError};
use serde_json::Value;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::common::{HUB, HubProcess};

const PASSWORD: &str = "a long passphrase";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The hub binary in `dir`, with none of the caller's DOORSTEP_* settings leaking in.
fn hub_command(dir: &Path) -> Command {
    let mut command = Command::new(HUB);
    command.current_dir(dir).env("RUST_LOG", "warn");
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("DOORSTEP_")) {
        command.env_remove(name);
    }
    command
}

/// Runs `doorstep-hub --database DB ARGS`, with `stdin` on standard input.
fn run(db: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut command = hub_command(db.parent().unwrap());
    command.arg("--database").arg(db).args(args);
    run_command(command, stdin)
}

fn run_command(mut command: Command, stdin: Option<&str>) -> Output {
    command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("start the hub binary");
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs a command that must succeed; returns its standard output.
fn ok(db: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let out = run(db, args, stdin);
    assert!(out.status.success(), "{args:?} failed: {}", text(&out.stderr));
    text(&out.stdout)
}

/// Runs a command that must fail; returns its standard error.
fn fails(db: &Path, args: &[&str], stdin: Option<&str>) -> String {
    let out = run(db, args, stdin);
    assert!(!out.status.success(), "{args:?} should fail: {}", text(&out.stdout));
    text(&out.stderr)
}

fn json(db: &Path, args: &[&str], stdin: Option<&str>) -> Value {
    let mut with_json = vec!["--json"];
    with_json.extend_from_slice(args);
    serde_json::from_str(&ok(db, &with_json, stdin)).expect("JSON output")
}

fn id(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_string()
}

/// `doorstep-hub serve` on plain HTTP for `db`, as [`hub_command`] runs it.
fn serve_plain(db: &Path) -> HubProcess {
    let mut command = hub_command(db.parent().unwrap());
    command.arg("--database").arg(db).args(["serve", "--insecure-http-for-development", "--listen", "127.0.0.1:0"]);
    HubProcess::start(command.stderr(Stdio::piped()))
}

fn store(dir: &Path, name: &str) -> Arc<Mutex<Store>> {
    Arc::new(Mutex::new(Store::open(dir.join(format!("{name}.db"))).unwrap()))
}

/// A device enrolled with `code`, synced; if `plans_for` names a carer, it first plans a
/// visit for them (with its person and note) and returns the visit.
async fn enrolled_device(
    dir: &Path,
    url: &str,
    code: &str,
    name: &str,
    plans_for: Option<&str>,
) -> (Arc<Mutex<Store>>, Option<Visit>) {
    let device = store(dir, name);
    doorstep_sync::enrol(&device, url, code, name).await.expect("enrol");
    let planned = plans_for.map(|carer| {
        let mut generator = Generator::new(11);
        let person = generator.person();
        let mut visit = generator.visit(&person, at(chrono::Utc::now().date_naive(), 9, 0));
        visit.carers = vec![StaffId::new(carer)];
        let mut note = VisitNote::new(NoteId::for_visit(visit.id), visit.id, person.id);
        note.narrative = "Ate well".into();
        (person, visit, note)
    });
    if let Some((person, visit, note)) = &planned {
        let mut s = device.lock().await;
        s.put(person).unwrap();
        s.put(visit).unwrap();
        s.put(note).unwrap();
    }
    let report = sync(&device).await.expect("sync");
    assert_eq!(report.held_back, 0, "{report:?}");
    (device, planned.map(|(_, visit, _)| visit))
}

async fn sync(device: &Arc<Mutex<Store>>) -> Result<doorstep_sync::SyncReport, SyncError> {
    SyncClient::for_store(device).await?.sync(device, |_| {}).await
}

async fn signs_in(db: &Path, email: &str, password: &str) -> Result<(), WebError> {
    Hub::new(SqliteStorage::open(db).unwrap()).sign_in(email, password).await.map(|_| ())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operator_command_works_on_a_hub_devices_synced_with() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");

    // Organisations.
    assert!(ok(&db, &["list-organisations"], None).contains("no organisations yet"));
    let provider = json(&db, &["create-provider", "--name", "Sunrise Home Care", "--manager", "M001"], None);
    let org = id(&provider);
    let manager_code = provider["enrolment_code"].as_str().unwrap().to_string();
    let partner = id(&json(&db, &["create-partner", "--name", "Riverside Surgery", "--kind", "gp_practice"], None));
    let icb = json(&db, &["create-commissioner", "--name", "North ICB"], None);
    assert_eq!((icb["partner_kind"].as_str(), icb["commissioning"].as_bool()), (Some("icb"), Some(true)));
    let icb = id(&icb);
    let council =
        ok(&db, &["create-commissioner", "--name", "Northshire", "--kind", "council_adult_social_care"], None);
    assert!(council.contains("create-web-user --org") && council.contains("--role commissioner"), "{council}");
    let refused = fails(&db, &["create-commissioner", "--name", "Surgery", "--kind", "gp_practice"], None);
    assert!(refused.contains("gp_practice"), "{refused}");
    assert!(fails(&db, &["create-partner", "--name", "X", "--kind", "bank"], None).contains("unknown partner kind"));

    // Agreements: what a commissioner may count.
    let agreed =
        ok(&db, &["set-agreement", "--commissioner", &icb, "--provider", &org, "--districts", "nb3", "NB1"], None);
    assert!(agreed.starts_with("North ICB may now count Sunrise Home Care (NB3, NB1)"), "{agreed}");
    let everyone = ok(&db, &["set-agreement", "--commissioner", &icb, "--provider", &org], None);
    assert!(everyone.contains("(all its people)"), "{everyone}");
    let bad = fails(&db, &["set-agreement", "--commissioner", &icb, "--provider", &org, "--districts", "Flat 2"], None);
    assert!(bad.contains("is not a postcode district"), "{bad}");
    let bad = fails(&db, &["set-agreement", "--commissioner", &partner, "--provider", &org], None);
    assert!(bad.contains("Riverside Surgery is not an ICB or a council"), "{bad}");
    let bad = fails(&db, &["set-agreement", "--commissioner", &icb, "--provider", &partner], None);
    assert!(bad.contains("Riverside Surgery is not a care provider"), "{bad}");

    // Web users: create, list, disable, enable, reset a password.
    let password = format!("{PASSWORD}\n");
    let created = ok(
        &db,
        &[
            "create-web-user",
            "--org",
            &partner,
            "--email",
            "GP@Riverside.example",
            "--name",
            "Dr Jo Patel",
            "--role",
            "partner",
        ],
        Some(&password),
    );
    assert!(created.starts_with("partner account for gp@riverside.example ("), "{created}");
    let args =
        ["create-web-user", "--org", &icb, "--email", "sam@icb.example", "--name", "Sam", "--role", "commissioner"];
    ok(&db, &args, Some(&password));
    let short = fails(
        &db,
        &["create-web-user", "--org", &icb, "--email", "x@icb.example", "--name", "X", "--role", "partner"],
        Some("short\n"),
    );
    assert!(short.contains("at least 12 characters"), "{short}");
    let args =
        ["create-web-user", "--org", &partner, "--email", "c@x.example", "--name", "C", "--role", "commissioner"];
    assert!(fails(&db, &args, Some(&password)).contains("Riverside Surgery is not an ICB or a council"));
    let listed = ok(&db, &["list-web-users", "--org", &partner], None);
    let lines: Vec<&str> = listed.lines().collect();
    assert!(lines[0].starts_with("EMAIL  ") && lines[1].starts_with("gp@riverside.example  partner  active  "));
    assert_eq!(lines[0].find("ROLE"), lines[1].find("partner"), "aligned columns:\n{listed}");
    signs_in(&db, "gp@riverside.example", PASSWORD).await.expect("signs in");

    assert!(ok(&db, &["disable-web-user", "--email", "gp@riverside.example"], None).starts_with("disabled "));
    assert!(matches!(signs_in(&db, "gp@riverside.example", PASSWORD).await, Err(WebError::WrongPassword)));
    let users = json(&db, &["list-web-users", "--org", &partner], None);
    assert_eq!(users["web_users"][0]["status"], "disabled");
    assert!(ok(&db, &["disable-web-user", "--email", "gp@riverside.example"], None).contains("nothing changed"));
    assert!(ok(&db, &["enable-web-user", "--email", "gp@riverside.example"], None).starts_with("enabled "));
    signs_in(&db, "gp@riverside.example", PASSWORD).await.expect("signs in again");
    let reset = ok(&db, &["reset-password", "--email", "gp@riverside.example"], Some("a brand new passphrase\n"));
    assert!(reset.starts_with("new password set for gp@riverside.example"), "{reset}");
    assert!(signs_in(&db, "gp@riverside.example", PASSWORD).await.is_err(), "the old password no longer works");
    signs_in(&db, "gp@riverside.example", "a brand new passphrase").await.expect("the new one does");
    assert!(
        fails(&db, &["reset-password", "--email", "gp@riverside.example"], Some("short\n")).contains("at least 12")
    );
    assert!(
        fails(&db, &["disable-web-user", "--email", "nobody@x.example"], None).contains("no web user nobody@x.example")
    );

    // Devices: a manager's and a carer's enrol and sync with the hub the binary serves.
    let hub = serve_plain(&db);
    let carer_code = json(&db, &["enrolment-code", "--org", &org, "--staff", "C002"], None);
    assert_eq!(carer_code["role"], "carer");
    assert!(fails(&db, &["enrolment-code", "--org", &partner, "--staff", "C9"], None).contains("is a partner"));
    let (office, visit) = enrolled_device(dir.path(), &hub.url, &manager_code, "office", Some("C002")).await;
    let code = carer_code["enrolment_code"].as_str().unwrap();
    let (tablet, _) = enrolled_device(dir.path(), &hub.url, code, "tablet", None).await;
    // The carer moves the visit to another day, which only the office may do: held back.
    let mut moved = visit.unwrap();
    moved.window.start += chrono::Duration::days(1);
    moved.window.end += chrono::Duration::days(1);
    tablet.lock().await.put(&moved).unwrap();
    assert_eq!(sync(&tablet).await.unwrap().held_back, 1);

    let devices = json(&db, &["list-devices", "--org", &org], None);
    let devices = devices["devices"].as_array().unwrap();
    let staff: Vec<&str> = devices.iter().map(|d| d["staff_ref"].as_str().unwrap()).collect();
    assert_eq!(staff, ["C002", "M001"]);
    assert!(devices.iter().all(|d| d["last_sync_at"].is_string() && d["revoked"] == false), "{devices:?}");
    let carer_device = id(&devices[0]);
    assert_eq!(json(&db, &["list-devices", "--org", &partner], None)["devices"], Value::Array(vec![]));
    let table = ok(&db, &["list-devices"], None);
    assert!(table.starts_with("ID  ") && table.contains("C002") && table.contains("(just now)"), "{table}");

    let health = json(&db, &["sync-health"], None);
    let summary = &health["summary"];
    assert_eq!((summary["devices"].as_u64(), summary["active_24h"].as_u64()), (Some(2), Some(2)), "{health}");
    assert_eq!((summary["never_synced"].as_u64(), summary["holding_back"].as_u64()), (Some(0), Some(1)));
    let carer = health["devices"].as_array().unwrap().iter().find(|d| d["staff_ref"] == "C002").unwrap();
    assert_eq!((carer["last_held_back"].as_u64(), carer["last_refused"].as_u64()), (Some(1), Some(1)), "{carer}");
    let text_health = ok(&db, &["sync-health", "--org", &org], None);
    assert!(text_health.starts_with("2 devices (0 revoked): 2 synced in the last 24 h, 2 in the last 7 days"));
    assert!(text_health.contains("STAFF  ROLE     REVOKED  LAST SYNC"), "{text_health}");

    // Revoking: refused from then on, and counted as revoked.
    let revoked = ok(&db, &["revoke-device", "--id", &carer_device], None);
    assert!(revoked.starts_with(&format!("revoked device {carer_device} (carer C002, \"tablet\")")), "{revoked}");
    assert!(ok(&db, &["revoke-device", "--id", &carer_device], None).contains("was already revoked"));
    assert!(fails(&db, &["revoke-device", "--id", &Uuid::new_v4().to_string()], None).contains("no device"));
    assert!(matches!(sync(&tablet).await, Err(SyncError::Revoked)));
    sync(&office).await.expect("the manager's device still syncs");
    let health = json(&db, &["sync-health"], None);
    assert_eq!((health["summary"]["revoked"].as_u64(), health["summary"]["active_24h"].as_u64()), (Some(1), Some(1)));
    let listed = json(&db, &["list-organisations"], None);
    let sunrise = listed["organisations"].as_array().unwrap().iter().find(|o| o["id"] == org.as_str()).unwrap();
    assert_eq!((sunrise["devices"].as_u64(), sunrise["kind"].as_str()), (Some(2), Some("provider")));
    drop(hub);

    // Every change is in the audit log, by the operator, and the chain holds.
    let log = SqliteStorage::open(&db).unwrap().audit_log(500).await.unwrap();
    let by_operator: BTreeSet<&str> =
        log.iter().filter(|e| e.actor.starts_with("operator")).map(|e| e.action.as_str()).collect();
    for action in [
        "create_organisation",
        "create_web_user",
        "disable_web_user",
        "enable_web_user",
        "reset_password",
        "enrolment_code",
        "revoke_device",
    ] {
        assert!(by_operator.contains(action), "{action} audited: {by_operator:?}");
    }
    assert_eq!(log.iter().filter(|e| e.action == "revoke_device").count(), 1, "revoking twice is one revocation");
    assert!(ok(&db, &["audit", "verify"], None).contains("chain intact"));
}

// ---------------------------------------------------------------------------------------------
// Configuration

fn with_config(dir: &Path, config: Option<&Path>, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = hub_command(dir);
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    command.args(args).envs(env.iter().copied());
    run_command(command, None)
}

#[test]
fn flags_beat_environment_which_beats_the_file_which_beats_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = d.join("hub.toml");
    std::fs::write(&config, "database = \"file.db\"\nlog_json = true\n").unwrap();
    let made = |name: &str| d.join(name).exists();

    assert!(with_config(d, None, &[], &["list-organisations"]).status.success());
    assert!(made("doorstep-hub.db"), "the default");
    assert!(with_config(d, Some(&config), &[], &["list-organisations"]).status.success());
    assert!(made("file.db"), "the file");
    let config_env = config.to_str().unwrap();
    assert!(
        with_config(
            d,
            None,
            &[("DOORSTEP_CONFIG", config_env), ("DOORSTEP_DATABASE", "env.db")],
            &["list-organisations"]
        )
        .status
        .success()
    );
    assert!(made("env.db"), "DOORSTEP_CONFIG names the file; the environment beats it");
    let out = with_config(
        d,
        Some(&config),
        &[("DOORSTEP_DATABASE", "env2.db")],
        &["--database", "flag.db", "list-organisations"],
    );
    assert!(out.status.success());
    assert!(made("flag.db") && !made("env2.db"), "the flag beats the environment");

    // A boolean: JSON logs from the file, plain from the environment, JSON again from the flag.
    let log = |env: &[(&str, &str)], extra: &[&str]| {
        let mut args = extra.to_vec();
        args.extend(["audit", "verify"]);
        let mut env = env.to_vec();
        env.push(("RUST_LOG", "info"));
        let out = with_config(d, Some(&config), &env, &args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stderr)
    };
    assert!(log(&[], &[]).starts_with("{\""), "log_json = true in the file");
    let plain = log(&[("DOORSTEP_LOG_JSON", "false")], &[]);
    assert!(!plain.starts_with('{') && plain.contains("verified the audit log"), "{plain}");
    assert!(log(&[("DOORSTEP_LOG_JSON", "false")], &["--log-json"]).starts_with("{\""));
}

#[test]
fn a_bad_configuration_file_is_refused_with_its_name_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let refuse = |contents: Option<&str>, args: &[&str]| {
        let config = d.join("hub.toml");
        match contents {
            Some(contents) => std::fs::write(&config, contents).unwrap(),
            None => {
                let _ = std::fs::remove_file(&config);
            }
        }
        let out = with_config(d, Some(&config), &[], args);
        assert!(!out.status.success(), "{contents:?} was accepted");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(config.to_str().unwrap()), "names the file: {stderr}");
        stderr
    };
    let unknown = refuse(Some("database = \"a.db\"\nlisten_on = \"0.0.0.0:1\"\n"), &["list-organisations"]);
    assert!(unknown.contains("unknown key `listen_on`"), "{unknown}");
    let nested = refuse(Some("[serve]\nlisten = \"0.0.0.0:1\"\n"), &["list-organisations"]);
    assert!(nested.contains("unknown key `serve`"), "{nested}");
    assert!(refuse(None, &["list-organisations"]).contains("cannot read the configuration file"));
    assert!(refuse(Some("database = "), &["list-organisations"]).contains("not valid TOML"));
    let typed = refuse(Some("log_json = \"yes\"\n"), &["list-organisations"]);
    assert!(typed.contains("bad value") && typed.contains("log_json"), "{typed}");
    assert!(!d.join("a.db").exists() && !d.join("doorstep-hub.db").exists(), "nothing was opened");
    // Two ways of serving, one from the file and one from a flag.
    std::fs::write(d.join("proxy.toml"), "behind_tls_proxy = true\n").unwrap();
    let out = with_config(d, Some(&d.join("proxy.toml")), &[], &["serve", "--insecure-http-for-development"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("choose one way to serve"), "{}", text(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_configuration_serves_and_documents_every_key() {
    let sample = repo().join("deploy/hub.toml");
    let sample_text = std::fs::read_to_string(&sample).unwrap();
    let guide = std::fs::read_to_string(repo().join("docs/hub.md")).unwrap();
    for key in KEYS {
        let set = sample_text.lines().any(|l| {
            let l = l.trim_start_matches(['#', ' ']);
            l.starts_with(&format!("{} = ", key.name))
        });
        assert!(set, "deploy/hub.toml shows {}", key.name);
        assert!(sample_text.contains(key.env), "deploy/hub.toml names {}", key.env);
        let row = format!("| `{}` | {} | `{}` | `{}` |", key.name, key.kind, key.default, key.env);
        let row_without_default = format!("| `{}` | {} | {} | `{}` |", key.name, key.kind, key.default, key.env);
        assert!(guide.contains(&row) || guide.contains(&row_without_default), "docs/hub.md has the row {row}");
    }

    // The sample as it ships (behind a proxy, JSON logs), with the database and port moved
    // by environment variables, as systemd's Environment= would.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hub.db");
    let mut command = hub_command(dir.path());
    command
        .args(["--config", sample.to_str().unwrap(), "serve"])
        .env("DOORSTEP_DATABASE", &db)
        .env("DOORSTEP_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped());
    let hub = HubProcess::start(&mut command);
    assert!(hub.url.starts_with("http://127.0.0.1:"), "{}", hub.url);
    let health = reqwest::get(format!("{}/api/v1/health", hub.url)).await.unwrap();
    assert_eq!(health.status(), 200);
    assert!(db.exists(), "the database came from the environment");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut hub.kill().expect("stderr piped"), &mut stderr).unwrap();
    let lines: Vec<Value> =
        stderr.lines().map(|l| serde_json::from_str(l).expect("JSON log lines (log_json = true)")).collect();
    let messages: Vec<&str> = lines.iter().filter_map(|l| l["fields"]["message"].as_str()).collect();
    assert!(messages.iter().any(|m| m.contains("behind a TLS proxy")), "the file chose the proxy: {messages:?}");
}

#[test]
fn the_systemd_unit_runs_the_hub_unprivileged_and_hardened() {
    let unit = std::fs::read_to_string(repo().join("deploy/doorstep-hub.service")).unwrap();
    for line in [
        "User=doorstep",
        "StateDirectory=doorstep",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "PrivateTmp=yes",
        "CapabilityBoundingSet=",
        "LimitNOFILE=8192",
        "ExecStart=/usr/local/bin/doorstep-hub --config /etc/doorstep/hub.toml serve",
    ] {
        assert!(unit.lines().any(|l| l == line), "the unit has {line}");
    }
    // systemd-analyze checks every directive; the binary is pointed at the one just built.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("doorstep-hub.service");
    std::fs::write(&copy, unit.replace("/usr/local/bin/doorstep-hub", HUB)).unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&copy)
        .output()
        .expect("systemd-analyze (from systemd) checks the unit; install systemd to run this test");
    assert!(out.status.success(), "systemd-analyze verify: {}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(text(&out.stderr).trim(), "", "no warnings");
}

// ---------------------------------------------------------------------------------------------
// docs/hub.md, walked

const NOT_RUN: &str = "# not run by tests:";
const ENROL_HERE: &str = "<!-- tests: a carer's device enrols here as C002 and syncs -->";

/// The guide's shell commands, in order, split where a device enrols. Lines ending in `\`
/// are joined; a command whose line ends with "# not run by tests: why" is left out.
fn guide_commands(guide: &str) -> (Vec<Vec<String>>, Vec<String>) {
    let (mut pieces, mut skipped) = (vec![Vec::new()], Vec::new());
    let (mut in_sh, mut pending) = (false, String::new());
    for line in guide.lines() {
        if !in_sh {
            if line.trim() == "```sh" {
                in_sh = true;
            } else if line.trim() == ENROL_HERE {
                pieces.push(Vec::new());
            }
            continue;
        }
        if line.trim() == "```" {
            in_sh = false;
            assert!(pending.is_empty(), "a command continues past its block: {pending}");
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head);
            continue;
        }
        let command = format!("{pending}{line}");
        pending.clear();
        if command.trim().is_empty() {
            continue;
        }
        if let Some((_, why)) = command.split_once(NOT_RUN) {
            assert!(!why.trim().is_empty(), "say why a command is not run: {command}");
            skipped.push(command);
        } else {
            pieces.last_mut().unwrap().push(command);
        }
    }
    (pieces, skipped)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_in_the_operators_guide_runs() {
    let guide = std::fs::read_to_string(repo().join("docs/hub.md")).unwrap();
    let (mut pieces, skipped) = guide_commands(&guide);
    // `migrate` needs a PostgreSQL server: a database of its own from DOORSTEP_TEST_POSTGRES, as
    // the storage suite; without that variable only that command is left out.
    let postgres = match std::env::var("DOORSTEP_TEST_POSTGRES") {
        Ok(_) => Some(doorstep_hub::testing::TestDatabase::create().await),
        Err(_) => {
            eprintln!("DOORSTEP_TEST_POSTGRES is unset: the guide's `migrate` is not run");
            for piece in &mut pieces {
                piece.retain(|c| !c.contains("$POSTGRES_URL"));
            }
            None
        }
    };
    assert_eq!(pieces.len(), 2, "the guide marks where a device enrols");
    let run_count: usize = pieces.iter().map(Vec::len).sum();
    assert!(run_count >= 25, "{run_count} commands run");
    // Only what needs root, systemd, a release build or the running service is left out, or a
    // variable this test sets itself.
    let needs = ["sudo ", "systemctl ", "journalctl ", "cargo build", "curl ", "BACKUPS=", "POSTGRES_URL="];
    assert!(skipped.iter().all(|c| needs.iter().any(|n| c.contains(n))), "{skipped:?}");
    // Every command of the binary appears in the guide.
    let help = text(&hub_command(Path::new(".")).arg("--help").output().unwrap().stdout);
    let commands = help.split("Commands:").nth(1).unwrap().split("Options:").next().unwrap();
    for name in commands.lines().filter_map(|l| l.split_whitespace().next()).filter(|n| *n != "help") {
        assert!(guide.contains(&format!("`{name}")), "docs/hub.md documents `{name}`");
    }

    // A temporary hub: the database and certificate the guide's configuration would name.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bin = d.join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(HUB, bin.join("doorstep-hub")).unwrap();
    let db = d.join("hub.db");
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    std::fs::write(d.join("hub.crt"), made.cert.pem()).unwrap();
    let vars: BTreeSet<String> = pieces
        .iter()
        .flatten()
        .filter_map(|c| c.split_once('=').map(|(name, _)| name.to_string()))
        .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .collect();
    let vars = vars.into_iter().collect::<Vec<_>>().join(" ");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let passwords = "first account passphrase\n".repeat(10);
    let mut outputs = String::new();
    std::fs::create_dir(d.join("backups")).unwrap();
    for (n, piece) in pieces.iter().enumerate() {
        if n > 0 {
            // Where the guide says a device enrols: the carer's code, as an operator would issue it.
            let hub = serve_plain(&db);
            let state = std::fs::read_to_string(d.join("vars.sh")).unwrap();
            let provider = state
                .lines()
                .find_map(|l| l.strip_prefix("declare -- PROVIDER=\""))
                .map(|l| l.trim_end_matches('"').to_string())
                .expect("the guide names the provider PROVIDER");
            let code = json(&db, &["enrolment-code", "--org", &provider, "--staff", "C002"], None);
            enrolled_device(d, &hub.url, code["enrolment_code"].as_str().unwrap(), "tablet", None).await;
            // Stopped again: the guide's restore wants the hub stopped, as it says.
            drop(hub);
        }
        let script = format!(
            "set -euo pipefail\nset -x\n[ -f vars.sh ] && source vars.sh\n{}\n\
             for v in {vars}; do if [ -n \"${{!v+x}}\" ]; then declare -p \"$v\"; fi; done > vars.sh\n",
            piece.join("\n")
        );
        let mut command = Command::new("bash");
        command.arg("-c").arg(&script).current_dir(d).env("PATH", &path);
        for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("DOORSTEP_")) {
            command.env_remove(name);
        }
        command.env("DOORSTEP_DATABASE", &db).env("DOORSTEP_TLS_CERT", d.join("hub.crt")).env("RUST_LOG", "warn");
        command.env("BACKUPS", d.join("backups"));
        if let Some(database) = &postgres {
            command.env("POSTGRES_URL", &database.url);
        }
        let out = run_command(command, Some(&passwords));
        assert!(out.status.success(), "docs/hub.md, part {}: {}\n{}", n + 1, text(&out.stdout), text(&out.stderr));
        outputs.push_str(&text(&out.stdout));
    }

    // What the guide did, it did.
    for expected in [
        "provider Sunrise Home Care (",
        "carer enrolment code for C002",
        "partner account for gp@riverside.example",
        "commissioner account for sam@riverside-icb.example",
        "disabled gp@riverside.example",
        "new password set for gp@riverside.example",
        "revoked device ",
        "audit log: ",
        "backed up to ",
        "restored from ",
    ] {
        assert!(outputs.contains(expected), "{expected:?} in\n{outputs}");
    }
    if let Some(database) = postgres {
        assert!(outputs.contains("migrated ") && outputs.contains("audit log on PostgreSQL: "), "{outputs}");
        database.drop().await;
    }
    let storage = SqliteStorage::open(&db).unwrap();
    let devices = storage.device_statuses(None).await.unwrap();
    assert!(devices.iter().any(|d| d.device.staff_ref == "C002" && d.device.revoked), "{devices:?}");
    let digest = <sha2::Sha256 as sha2::Digest>::digest(made.cert.der().as_ref());
    let fingerprint = digest.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":");
    assert!(outputs.lines().any(|l| l == fingerprint), "cert-fingerprint printed {fingerprint}");
}
