//! `cargo xtask run`: Doorstep with demo data on embedded SQLite.
//!
//! Starts the hub (SQLite file), enrols the office's
//! device and loads the demo caseload into it, syncs it to the hub, then enrols Sam's tablet
//! (carer C001), which syncs down only Sam's rota, prints what Sam and the office see today, and
//! opens the app as Sam (`--manager`: as the office). The hub serves until the app closes or
//! Ctrl-C. `--once` stops after the summary without opening the app (the tests use it).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Local;
use doorstep_hub::api::issue_enrolment_code;
use doorstep_hub::partner_directory::ListingRecord;
use doorstep_hub::server::{serve_on, shutdown_signal};
use doorstep_hub::sqlite::SqliteStorage;
use doorstep_hub::storage::{HubStorage, OrgKind, Organisation, WebRole};
use doorstep_model::news2::News2Assessment;
use doorstep_model::sbard::{Caller, Sbard, assess_note};
use doorstep_model::{NoteId, PartnerKind, PartnerOrg, Person, VisitNote};
use doorstep_protocol::Role;
use doorstep_store::Store;
use doorstep_sync::SyncClient;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::Result;

/// The demo provider's id, the same every run.
const DEMO_PROVIDER: Uuid = Uuid::from_u128(0x5e11_0000_0000_4000_8000_0000_0000_0001);
const DEMO_ICB: Uuid = Uuid::from_u128(0x5e_0003);

struct Options {
    dir: PathBuf,
    listen: String,
    once: bool,
    manager: bool,
}

/// The demo devices' PIN (printed when the app opens).
const DEMO_PIN: &str = "246813";

fn options(args: &[&str]) -> Result<Options> {
    let mut o =
        Options { dir: PathBuf::from("target/demo"), listen: "127.0.0.1:8470".into(), once: false, manager: false };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match *arg {
            "--dir" => o.dir = PathBuf::from(args.next().ok_or("--dir needs a folder")?),
            "--listen" => o.listen = args.next().ok_or("--listen needs an address")?.to_string(),
            "--once" => o.once = true,
            "--manager" => o.manager = true,
            other => {
                return Err(format!(
                    "unknown option {other}\nusage: cargo xtask run [--manager] [--dir FOLDER] [--listen ADDR] [--once]"
                ));
            }
        }
    }
    Ok(o)
}

fn fresh(path: &Path) -> Result {
    for suffix in ["", "-wal", "-shm"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        if file.exists() {
            std::fs::remove_file(&file).map_err(|e| format!("cannot remove {}: {e}", file.display()))?;
        }
    }
    Ok(())
}

pub fn run(args: &[&str]) -> Result {
    let options = options(args)?;
    let app = if options.once { None } else { Some(crate::sibling("doorstep-app")?) };
    for dir in [options.dir.clone(), options.dir.join("office"), options.dir.join("tablet")] {
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(run_async(options, app))
}

/// Whether a window can open here.
fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"].iter().any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()))
}

/// The demo's partner-hub accounts: (organisation, email, name, role, what they see).
const DEMO_WEB_USERS: [(&str, &str, &str, WebRole, &str); 4] = [
    ("surgery", "gp@surgery.demo", "Dr Jo Patel", WebRole::Partner, "Riverside Surgery's inbox"),
    ("council", "asc@council.demo", "Ola Adeyemi", WebRole::Partner, "Northbrook Adult Social Care's inbox"),
    ("icb", "commissioner@icb.demo", "Chris Morgan", WebRole::Commissioner, "anonymised trends"),
    ("provider", "manager@sunrise.demo", "Mo Khan", WebRole::Manager, "Sunrise's partner activity and weekly feed"),
];
const DEMO_WEB_PASSWORD: &str = "doorstep-demo-2468";

/// Every provider's managers released the demo's weeks to the ICB, but Sunrise's latest: its
/// manager's feed page has that week to review, and the commissioner's page shows it waiting.
async fn release_demo_weeks(storage: &SqliteStorage, today: chrono::NaiveDate) -> std::result::Result<(), String> {
    let weeks = doorstep_hub::trends::countable_weeks(today);
    let providers = (0..2u128).map(|n| Uuid::from_u128(0x5e11_0000_0000_4000_8000_0000_0000_0002 + n));
    for provider in providers.chain([DEMO_PROVIDER]) {
        for week in &weeks {
            if provider == DEMO_PROVIDER && Some(week) == weeks.last() {
                continue;
            }
            let release = doorstep_hub::storage::FeedRelease {
                provider,
                week: week.to_string(),
                released_by: "Demo manager (manager@provider.demo)".into(),
                released_at: chrono::Utc::now().timestamp_millis(),
            };
            storage.release_week(release).await.map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// The demo's partner organisations and their sign-in accounts; returns the surgery and council.
async fn demo_partners(storage: &SqliteStorage) -> std::result::Result<(PartnerOrg, PartnerOrg), String> {
    let orgs = [
        ("surgery", Uuid::from_u128(0x5e_0001), "Riverside Surgery", PartnerKind::GpPractice),
        ("council", Uuid::from_u128(0x5e_0002), "Northbrook Adult Social Care", PartnerKind::CouncilAdultSocialCare),
        ("icb", DEMO_ICB, "Northbrook Integrated Care Board", PartnerKind::IntegratedCareBoard),
    ];
    for (_, id, name, kind) in orgs {
        let org = Organisation { id, name: name.into(), kind: OrgKind::Partner, partner_kind: Some(kind) };
        storage.create_organisation(org).await.map_err(|e| e.to_string())?;
    }
    let hub = doorstep_hub::Hub::new(storage.clone());
    for (org, email, name, role, _) in DEMO_WEB_USERS {
        let org_id = orgs.iter().find(|o| o.0 == org).map_or(DEMO_PROVIDER, |o| o.1);
        hub.create_web_user(org_id, email, name, role, DEMO_WEB_PASSWORD).await.map_err(|e| e.to_string())?;
    }
    // The partner directory: what each does, where, and the team mailbox (no mail server in the
    // demo, so no e-mail goes). An OT service for another area shows the out-of-area rule.
    let far_ot = Uuid::from_u128(0x5e_0009);
    let org = Organisation {
        id: far_ot,
        name: "Southfield Community OT".into(),
        kind: OrgKind::Partner,
        partner_kind: Some(PartnerKind::OtEquipment),
    };
    storage.create_organisation(org).await.map_err(|e| e.to_string())?;
    let listing =
        |services: &[&str], districts: &[&str], hours: &str, ods: &str, phone: &str, email: &str| ListingRecord {
            services: services.iter().map(|s| s.to_string()).collect(),
            districts: districts.iter().map(|s| s.to_string()).collect(),
            hours: hours.into(),
            ods_code: ods.into(),
            phone: phone.into(),
            team_email: email.into(),
        };
    for (id, record) in [
        (
            orgs[0].1,
            listing(
                &[],
                &["NB1", "NB2", "NB3"],
                "Monday to Friday, 8am to 6:30pm",
                "Y01234",
                "01632 960 301",
                "riverside.surgery@nhs.demo",
            ),
        ),
        (
            orgs[1].1,
            listing(
                &["ot_equipment", "housing"],
                &["NB1", "NB2", "NB3", "NB4"],
                "Monday to Friday, 9am to 5pm",
                "",
                "01632 960 302",
                "asc-duty@council.demo",
            ),
        ),
        (
            far_ot,
            listing(&[], &["SF1", "SF2"], "Monday to Friday, 9am to 5pm", "", "01632 960 303", "ot@southfield.demo"),
        ),
    ] {
        doorstep_hub::admin::set_partner_listing(storage, "demo", id, record).await.map_err(|e| e.to_string())?;
    }
    let partner = |i: usize| PartnerOrg { id: orgs[i].1, name: orgs[i].2.into(), kind: orgs[i].3 };
    Ok((partner(0), partner(1)))
}

async fn run_async(options: Options, app: Option<PathBuf>) -> Result {
    let text = |e: &dyn std::fmt::Display| e.to_string();
    // A fresh demo each run, so "today" is today.
    let files = ["hub.db", "office/doorstep.db", "tablet/doorstep.db"].map(|f| options.dir.join(f));
    for file in &files {
        fresh(file)?;
    }
    let storage = SqliteStorage::open(&files[0]).map_err(|e| text(&e))?;
    storage
        .create_organisation(Organisation {
            id: DEMO_PROVIDER,
            name: "Sunrise Home Care".into(),
            kind: OrgKind::Provider,
            partner_kind: None,
        })
        .await
        .map_err(|e| text(&e))?;
    let listener = tokio::net::TcpListener::bind(&options.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e} (try --listen 127.0.0.1:0)", options.listen))?;
    let url = format!("http://{}", listener.local_addr().map_err(|e| text(&e))?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    // The demo is plain HTTP on this machine (127.0.0.1 by default); devices accept http:// only
    // for a loopback hub.
    let demo_http = doorstep_hub::server::Transport::PlainHttpForDevelopment;
    let server = tokio::spawn(serve_on(storage.clone(), listener, demo_http, async move {
        tokio::select! {
            () = shutdown_signal() => {}
            _ = stopped => {}
        }
    }));

    let enrol_in = |org: Uuid, staff: &'static str, role: Role, file: PathBuf| {
        let storage = storage.clone();
        let url = url.clone();
        async move {
            let store = Arc::new(Mutex::new(Store::open(&file).map_err(|e| format!("{}: {e}", file.display()))?));
            let code = issue_enrolment_code(&storage, org, staff, role, "demo").await.map_err(|e| format!("{e:?}"))?;
            doorstep_sync::enrol(&store, &url, &code.code, &format!("{staff}'s device")).await.map_err(|e| text(&e))?;
            let client = SyncClient::for_store(&store).await.map_err(|e| text(&e))?;
            Ok::<_, String>((store, client))
        }
    };
    let enrol = |staff: &'static str, role: Role, file: PathBuf| enrol_in(DEMO_PROVIDER, staff, role, file);

    let today = Local::now().date_naive();
    let (surgery, council) = demo_partners(&storage).await?;
    let (office, office_sync) = enrol("M001", Role::Manager, files[1].clone()).await?;
    let loaded = doorstep_demo::load_demo(&mut *office.lock().await, today).map_err(|e| text(&e))?;
    // A cluster of falls in Peggy's district, for the manager's early warning.
    doorstep_demo::load_falls_cluster(&mut *office.lock().await, today).map_err(|e| text(&e))?;
    let provider = doorstep_model::ProviderRef { id: DEMO_PROVIDER, name: "Sunrise Home Care".into() };
    let shared = doorstep_demo::share_demo(&mut *office.lock().await, provider, &surgery, &council, today)
        .map_err(|e| text(&e))?;
    let pushed = office_sync.sync(&office, |_| {}).await.map_err(|e| text(&e))?;
    // The council asks the care worker a question on its item, and takes it on.
    let partner_hub = doorstep_hub::Hub::new(storage.clone());
    let (_, ola) = partner_hub.sign_in("asc@council.demo", DEMO_WEB_PASSWORD).await.map_err(|e| text(&e))?;
    if let Some(item) = shared.iter().find(|i| i.partner.id == council.id) {
        partner_hub
            .post_message(&ola, item.id.0, "Thank you. Is she usually at home on Tuesday mornings, for the OT?")
            .await
            .map_err(|e| text(&e))?;
        partner_hub.handle(&ola, item.id.0).await.map_err(|e| text(&e))?;
    }
    println!("Doorstep hub: {url} (SQLite: {})", files[0].display());
    println!(
        "Office device: loaded {} people, {} visits, {} visit notes, {} ideas; synced {} records to the hub in {} round trip(s).",
        loaded.people, loaded.visits, loaded.notes, loaded.insights, pushed.pushed, pushed.round_trips
    );

    // Two more providers' last twelve weeks, so the ICB's commissioner has figures to see (each
    // needs at least 5 people from at least 2 providers).
    let mut counted = 0;
    for (n, name) in ["Meadow Care", "Hillside Home Care"].into_iter().enumerate() {
        let id = Uuid::from_u128(0x5e11_0000_0000_4000_8000_0000_0000_0002 + n as u128);
        let org = Organisation { id, name: name.into(), kind: OrgKind::Provider, partner_kind: None };
        storage.create_organisation(org).await.map_err(|e| text(&e))?;
        let file = options.dir.join(format!("provider-{}.db", n + 2));
        fresh(&file)?;
        let (store, client) = enrol_in(id, "M001", Role::Manager, file).await?;
        let history = doorstep_demo::load_area_history(&mut *store.lock().await, 100 + n as u64, today, 12, 24)
            .map_err(|e| text(&e))?;
        client.sync(&store, |_| {}).await.map_err(|e| text(&e))?;
        counted += history.people;
        doorstep_hub::admin::set_agreement(&storage, "demo", DEMO_ICB, id, &[]).await.map_err(|e| text(&e))?;
    }
    doorstep_hub::admin::set_agreement(&storage, "demo", DEMO_ICB, DEMO_PROVIDER, &[]).await.map_err(|e| text(&e))?;
    release_demo_weeks(&storage, today).await?;
    let hub = doorstep_hub::Hub::new(storage.clone());
    let (_, commissioner) = hub.sign_in("commissioner@icb.demo", DEMO_WEB_PASSWORD).await.map_err(|e| text(&e))?;
    let trends = hub.trends(&commissioner).await.map_err(|e| text(&e))?;
    println!("Two more providers: {counted} people over the last 12 weeks, for the ICB's weekly counts.");
    if let Some(week) = trends.weeks.last() {
        use doorstep_hub::trends::{ALL_AREAS, Measure, TOO_FEW};
        let say = |m: Measure| week.people(&m, ALL_AREAS).map_or_else(|| TOO_FEW.to_string(), |n| format!("about {n}"));
        println!(
            "  The commissioner's latest week (beginning {}): {} people with a sign new or worse, {} with an idea.",
            week.week.format("%-d %B"),
            say(Measure::AnySign),
            say(Measure::Idea)
        );
    }

    let (sam, sam_sync) = enrol("C001", Role::Carer, files[2].clone()).await?;
    let got = sam_sync.sync(&sam, |_| {}).await.map_err(|e| text(&e))?;
    println!(
        "Sam's tablet (carer C001): received {} records ({} bytes) in {} round trip(s): only the people on Sam's rota.\n",
        got.pulled, got.bytes_received, got.round_trips
    );

    print_carer_day(&*sam.lock().await, today, "C001")?;
    print_office(&*office.lock().await, today)?;
    println!(
        "\nPartner hub: {url}/sign-in  ({} items shared with partners). Password for every demo account: {DEMO_WEB_PASSWORD}",
        shared.len()
    );
    for (email, what) in DEMO_WEB_USERS.iter().map(|(_, email, _, _, what)| (email, what)) {
        println!("  {email:<28} {what}");
    }
    println!(
        "  The council asked Sam a question on its item (Sam's tablet: My ideas). Sharing an idea on the office \
         device offers the partners that fit it first, from the partner directory; Southfield Community OT is \
         out of area and needs a reason. (No mail server in the demo: set smtp_url to e-mail partners' teams.)"
    );

    let code = issue_enrolment_code(&storage, DEMO_PROVIDER, "C002", Role::Carer, "demo")
        .await
        .map_err(|e| format!("{e:?}"))?;
    println!("\nEnrol another device as Priya (carer C002) with code {} at {url}", code.code);
    // The demo's stores were written unencrypted; the PIN encrypts them (after they close).
    drop((office, sam));
    for file in &files[1..] {
        let device = doorstep_device::Device::open(file, doorstep_device::LOCK_AFTER).map_err(|e| e.message)?;
        device.set_pin_if_unset(DEMO_PIN).await.map_err(|e| e.message)?;
    }
    match app {
        None => {
            let _ = stop.send(());
        }
        Some(_) if !has_display() => {
            println!(
                "\nNo display here (DISPLAY and WAYLAND_DISPLAY are unset), so the app's window cannot open.\n\
                 Run it under a virtual display instead:  xvfb-run -a cargo xtask run\n\
                 (or start `Xvfb :99 &` and run with DISPLAY=:99). The hub keeps serving; press Ctrl-C to stop."
            );
        }
        Some(binary) => {
            let (who, folder) = if options.manager {
                ("the office (manager M001)", &files[1])
            } else {
                ("Sam (carer C001)", &files[2])
            };
            let folder = folder.parent().unwrap_or(&options.dir).to_path_buf();
            println!("\nOpening Doorstep as {who}. The PIN is {DEMO_PIN}. Close the window to stop the hub.");
            let mut child = tokio::process::Command::new(&binary)
                .arg("--data-dir")
                .arg(&folder)
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
            tokio::select! {
                status = child.wait() => {
                    let status = status.map_err(|e| text(&e))?;
                    if !status.success() {
                        eprintln!("the app stopped: {status}");
                    }
                }
                () = shutdown_signal() => { let _ = child.kill().await; }
            }
            let _ = stop.send(());
        }
    }
    server.await.map_err(|e| text(&e))?.map_err(|e| text(&e))?;
    Ok(())
}

fn print_carer_day(store: &Store, today: chrono::NaiveDate, carer: &str) -> Result {
    let text = |e: doorstep_store::StoreError| e.to_string();
    println!("Sam's visits today, {}:", today.format("%A %-d %B %Y"));
    for visit in store.visits_on(today, Some(carer)).map_err(text)? {
        let time = visit.starts_at.with_timezone(&chrono::Local).format("%H:%M");
        let who = visit.person_name.as_deref().unwrap_or("(person not on this device yet)");
        let with =
            if visit.carers.len() > 1 { format!("  double-up: {}", visit.carers.join(" + ")) } else { String::new() };
        println!("  {time}  {who:<28} {}{with}", visit.status);
    }
    println!("\nDeterioration watch on Sam's tablet:");
    for person in store.people().map_err(text)? {
        let flag = store.watch(&person.id).map_err(text)?;
        println!("  {:<28} {}", person.display_name, flag.level.code());
        for reason in flag.reasons {
            println!("      - {reason}");
        }
    }
    // The SBARD Sam would read out for the person most at risk.
    if let Some(person) = store.people().map_err(text)?.into_iter().max_by_key(|p| p.watch) {
        let overview = store.person_overview(&person.id).map_err(text)?;
        if let Some(latest) = overview.timeline.iter().find(|t| t.news2_total.is_some() || !t.soft_signs.is_empty()) {
            let visit_id = latest.visit_id.parse().map_err(|e| format!("{e}"))?;
            let note: VisitNote = store.get(&NoteId::for_visit(visit_id).to_string()).map_err(text)?;
            let p: &Person = &overview.person;
            let news2 = assess_note(p, &note, today).transpose().map_err(|e| e.to_string())?;
            if let Some(News2Assessment::Scored(score)) = &news2 {
                println!("\nNEWS2 for {} at the last visit: {} ({})", p.name.called(), score.total, score.band.label());
                println!("  {}", score.escalation.action);
            }
            let sbard = Sbard::build(
                &Caller { name: "Sam", organisation: "Sunrise Home Care", callback: None },
                p,
                &note,
                news2.as_ref(),
                today,
            );
            println!("\nSBARD to read out:\n{}", sbard.to_text());
        }
    }
    Ok(())
}

fn print_office(store: &Store, today: chrono::NaiveDate) -> Result {
    let text = |e: doorstep_store::StoreError| e.to_string();
    println!(
        "The office sees all {} visits today and these ideas waiting for review:",
        store.visits_on(today, None).map_err(text)?.len()
    );
    for idea in store.insights_with_status("submitted").map_err(text)? {
        println!("  [{}] {}", idea.urgency, idea.summary);
    }
    let hits = store.search("bathroom", 5).map_err(text)?;
    println!(
        "Search \"bathroom\": {} match(es){}",
        hits.len(),
        hits.first()
            .map(|h| {
                let shown: String = h
                    .snippet_parts()
                    .into_iter()
                    .map(|(text, matched)| if matched { format!("*{text}*") } else { text })
                    .collect();
                format!(", e.g. {shown}")
            })
            .unwrap_or_default()
    );
    Ok(())
}
