//! The real app binary, driven through WebDriver the way a carer and a manager use it: Xvfb for
//! a display, `tauri-driver` with Debian's WebKitWebDriver, a real hub on a loopback port.
//!
//! A carer completes a visit with no signal (check in, a note, two soft signs, vitals scoring
//! NEWS2 5 with the medium advice on screen, an idea, check out); the hub comes back; the app
//! syncs; a manager's app sees the visit's NEWS2 on the day's "needs attention" and shares the
//! idea with a council partner (with the latest soft signs and vital signs), who then receives
//! its own shared item of that idea and nothing else: not the idea, no person, no visit. Screenshots of each
//! screen at tablet (portrait and landscape) and desktop size go to target/screenshots/
//! (`cargo xtask screenshots` writes them to docs/screenshots/).
//!
//! Needs Xvfb, tauri-driver and WebKitWebDriver on PATH: `cargo xtask test` installs them.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use doorstep_hub::api::issue_enrolment_code;
use doorstep_hub::sqlite::SqliteStorage;
use doorstep_hub::storage::{HubStorage, OrgKind, Organisation};
use doorstep_model::{PartnerKind, PartnerOrg, Role, SharedItem, StaffId, Visit};
use doorstep_tests::app::{Screens, WAIT, open_app, start_display, start_driver, start_driver_with};
use doorstep_tests::{TestHub, screenshots_dir, today};
use uuid::Uuid;

const PIN: &str = "246813";

fn app() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_doorstep-app"))
}

/// A device store for the app at `dir/doorstep.db`, enrolled, synced, with the PIN set.
/// A manager's device also gets the demo's caseload, its falls cluster and, with `surgery`, the
/// idea the surgery acted on 35 days ago (the office's "did it help?").
async fn enrolled_device(
    hub: &TestHub<SqliteStorage>,
    dir: &Path,
    staff: &str,
    role: Role,
    surgery: Option<&PartnerOrg>,
) -> PathBuf {
    std::fs::create_dir_all(dir).expect("data dir");
    let path = dir.join("doorstep.db");
    let device = hub.device_at(&path, staff, role).await;
    if role == Role::Manager {
        let mut store = device.store.lock().await;
        doorstep_demo::load_demo(&mut store, today()).expect("demo caseload");
        doorstep_demo::load_falls_cluster(&mut store, today()).expect("falls cluster");
        if let Some(surgery) = surgery {
            let provider = doorstep_model::ProviderRef { id: hub.provider, name: "Sunrise Home Care".into() };
            let shared = doorstep_demo::follow_up_demo(&mut store, provider, surgery, today()).expect("follow-up");
            assert!(shared.is_some(), "Arthur's idea the surgery acted on");
        }
    }
    device.sync().await;
    drop(device);
    let core = doorstep_device::Device::open(&path, doorstep_device::LOCK_AFTER).expect("open");
    core.set_pin_if_unset(PIN).await.expect("PIN");
    dir.to_path_buf()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_carer_completes_a_visit_offline_and_a_manager_shares_the_idea() {
    let work = tempfile::TempDir::new().expect("temp dir");
    let storage = SqliteStorage::open(&work.path().join("hub.db")).expect("hub storage");
    let hub = TestHub::start(storage.clone()).await;
    let council = Organisation {
        id: Uuid::new_v4(),
        name: "Northbrook Council Adult Social Care".into(),
        kind: OrgKind::Partner,
        partner_kind: Some(PartnerKind::CouncilAdultSocialCare),
    };
    storage.create_organisation(council.clone()).await.expect("partner");
    // The partner directory: the council covers Peggy's district; an OT service elsewhere does
    // not (the share screen says so, and would ask why).
    let listing = |districts: &[&str]| doorstep_hub::partner_directory::ListingRecord {
        services: vec!["ot_equipment".into()],
        districts: districts.iter().map(|d| d.to_string()).collect(),
        hours: "Monday to Friday, 9am to 5pm".into(),
        ..Default::default()
    };
    doorstep_hub::admin::set_partner_listing(&storage, "test", council.id, listing(&["NB1", "NB2", "NB3"]))
        .await
        .expect("listing");
    let far = Organisation {
        id: Uuid::new_v4(),
        name: "Southfield Community OT".into(),
        kind: OrgKind::Partner,
        partner_kind: Some(PartnerKind::OtEquipment),
    };
    storage.create_organisation(far.clone()).await.expect("partner");
    doorstep_hub::admin::set_partner_listing(&storage, "test", far.id, listing(&["SF1"])).await.expect("listing");
    // The surgery that acted on Arthur's idea five weeks ago: the office is asked whether it helped.
    let surgery = Organisation {
        id: Uuid::new_v4(),
        name: "Riverside Surgery".into(),
        kind: OrgKind::Partner,
        partner_kind: Some(PartnerKind::GpPractice),
    };
    storage.create_organisation(surgery.clone()).await.expect("partner");
    let surgery = PartnerOrg { id: surgery.id, name: surgery.name, kind: PartnerKind::GpPractice };
    let office = enrolled_device(&hub, &work.path().join("office"), "M001", Role::Manager, Some(&surgery)).await;
    let tablet = enrolled_device(&hub, &work.path().join("tablet"), "C001", Role::Carer, None).await;

    // No signal from here: the hub goes away.
    let (provider, address) = (hub.provider, hub.url.trim_start_matches("http://").to_string());
    hub.stop().await;

    let (_display, display) = start_display();
    let (_driver, driver) = start_driver(&display).await;
    let shots = screenshots_dir();

    // The carer's tablet.
    let carer = Screens { client: open_app(&driver, app(), &tablet).await, dir: shots.clone() };
    let _ = carer.client.set_window_size(768, 1024).await;
    carer.wait("#unlock").await;
    carer.shot("01-unlock").await;
    carer.unlock(PIN).await;
    carer.wait(".ds-visit__card").await;
    carer.shot("02-carer-today").await;
    // The whole card is the touch target, not only the name in its heading.
    carer.click_labelled(".ds-visit__card", "Margaret").await;
    carer.wait("#check-in").await;
    // Before going in: what the last carer saw, the address, and how to get in behind "Show".
    let handover = carer.wait_text("#handover", "Last visit:").await;
    let last_note = carer.wait(".ds-handover__note").await.text().await.expect("the last visit's note");
    assert!(!last_note.trim().is_empty(), "the last carer's note is there to read: {handover}");
    carer.click("#show-access").await;
    carer.wait_text("#access", "Key safe").await;
    carer.shot("03-visit-before-check-in").await;
    carer.click("#check-in").await;
    carer.wait_text("#visit-status", "In progress").await;

    // The visit is a short checklist: the tasks and the note open, the rest folded to a line
    // saying what they hold.
    carer.wait_text("#signs-heading", "Nothing ticked yet").await;
    carer.wait_text("#vitals-heading", "No readings yet").await;
    carer.type_into("#note", "Peggy was quieter than usual and left most of her breakfast.").await;
    carer.wait_text("#note-saved", "Saved at").await;
    carer.wait_text("#note-heading", "Saved").await;
    // A task not done: why, in one tap.
    carer.click_labelled(".ds-task label", "Not done").await;
    carer.wait_text(".ds-not-done", "Why was it not done?").await;
    let _ = carer.client.execute("document.querySelector('.ds-not-done').scrollIntoView()", vec![]).await;
    carer.shot("39-visit-task-not-done").await;
    carer.click_labelled(".ds-not-done label", "They said no").await;
    carer.wait_text("#tasks-heading", "1 of").await;
    // Ticking a sign asks how it compares with their usual; nothing is chosen for the carer.
    carer.click("#signs-heading button").await;
    carer.click("#sign-confusion").await;
    carer.click("label[for=sign-confusion-new]").await;
    carer.click("#sign-eating_drinking_less").await;
    carer.click("label[for=sign-eating_drinking_less-worse]").await;
    carer.wait_text("#signs-heading", "Anything different").await;
    let _ = carer.client.execute("document.getElementById('signs-heading').scrollIntoView()", vec![]).await;
    carer.shot("29-visit-soft-signs").await;
    carer.wait_text("#signs-heading", "2 signs").await;
    carer.click("#vitals-heading button").await;
    for (field, value) in [("#resp", "21"), ("#spo2", "95"), ("#bp", "108"), ("#pulse", "96"), ("#temp", "37.9")] {
        carer.type_into(field, value).await;
    }
    carer.click("label[for=air]").await;
    carer.select("#consciousness", "alert").await;
    carer.click("#score").await;
    let score = carer.wait_text("#news2-score", "NEWS2 5").await;
    assert!(score.contains("Medium"), "{score}");
    let headline = carer.wait("#news2-headline").await.text().await.expect("advice");
    assert!(!headline.trim().is_empty(), "the medium-score advice is on screen");
    carer.wait("#sbard").await;
    carer.wait_text("#phone-first", "Phone Riverside Surgery now – 01632 960 000").await;
    // Then the office's directory, synced to the tablet: the area's urgent team, 111, the office.
    carer.wait_text("#then-phone", "Northbrook Urgent Community Response").await;
    carer.wait_text("#sbard", "My name is Sam Taylor, a carer from").await;
    let _ = carer.client.execute("document.getElementById('news2').scrollIntoView()", vec![]).await;
    carer.shot("04-visit-news2-medium").await;

    // The carer phones the GP and records the call: it becomes the SBARD's Decision.
    carer.click("label[for=call-to-gppractice]").await;
    carer.type_into("#call-spoke-to", "Dr Khan").await;
    carer.click("label[for=call-outcome-gpvisiting]").await;
    carer.type_into("#call-detail", "by 14:00").await;
    carer.click("#save-call").await;
    let decision = carer.wait_text("#sbard", "Phoned Riverside Surgery at").await;
    assert!(decision.contains("Dr Khan") && decision.contains("by 14:00"), "{decision}");
    carer.wait_text("#calls", "Phoned Riverside Surgery").await;
    let _ = carer.client.execute("document.getElementById('calls-heading').scrollIntoView()", vec![]).await;
    carer.shot("20-visit-call-recorded").await;

    carer.click("#new-idea").await;
    carer.type_into("#idea-summary", "Grab rail by the back door would stop Peggy's near-falls").await;
    carer.type_into("#idea-detail", "She steadies herself on the door frame every morning.").await;
    carer.type_into("#idea-action", "Occupational therapy home assessment").await;
    carer.click_labelled("#who label", "Council adult social care").await;
    carer.shot("05-record-an-idea").await;
    carer.click("#save-idea").await;
    carer.wait_text("#idea-sent", "Idea sent to the office").await;
    carer.shot("33-idea-sent").await;
    carer.click("#idea-sent-back").await;
    // Back at the visit: what is done is folded to a line each, the tasks still open.
    carer.wait_text("#signs-heading", "2 signs").await;
    carer.wait_text("#note-heading", "Written").await;
    let _ = carer.client.execute("document.getElementById('tasks-heading').scrollIntoView()", vec![]).await;
    carer.shot("45-visit-checklist").await;
    // The GP came out this morning: what happened to her goes in the visit too, offline.
    carer.click("#outcomes summary").await;
    carer.click_labelled("#outcomes label", "GP visited").await;
    carer.click("#save-outcome").await;
    carer.wait("#outcome-saved").await;
    let _ = carer.client.execute("document.getElementById('outcomes').scrollIntoView()", vec![]).await;
    carer.shot("38-visit-outcome").await;
    carer.wait("#check-out").await;
    carer.click("#check-out").await;
    // Check your answers: what the office will read, then check out.
    carer.wait_text("#check-answers", "Check before you check out").await;
    carer.click("#check-out-now").await;
    // The tasks are not marked: "Before you go" asks first, and the carer may still go.
    carer.wait_text("#before-you-go", "not marked").await;
    let _ = carer.client.execute("document.getElementById('before-you-go').scrollIntoView()", vec![]).await;
    carer.shot("21-before-you-go").await;
    carer.click("#check-out-anyway").await;
    carer.wait_text("#visit-status", "Completed").await;
    // The visit has ended: it reads as its record, and what she forgot goes in as a late entry.
    carer.wait_text("#visit-record", "What was recorded").await;
    carer.type_into("#late-entry", "Forgot to say: she asked for her daughter to ring tonight").await;
    carer.click("#add-late-entry").await;
    carer.wait_text("#late-entries", "Late entry").await;
    let _ = carer.client.execute("document.getElementById('visit-record').scrollIntoView()", vec![]).await;
    carer.shot("34-visit-late-entry").await;
    carer.click_labelled("button", "About Margaret").await;
    carer.wait_text(".ds-what-matters", "Biscuit").await;
    carer.shot("06-person").await;
    let _ = carer.client.execute("document.getElementById('watch-chart').scrollIntoView()", vec![]).await;
    carer.shot("30-person-watch-chart").await;
    carer.click(".ds-back").await;

    // The next visit, Arthur's: soft signs alone give advice with his GP's number; readings of
    // 1–4 say tell the office; two readings alone never say "carry on"; a person who responds
    // only to voice, whatever the other readings, is 999.
    carer.wait(".ds-visit__card").await;
    let _ = carer.client.execute("document.querySelectorAll('.ds-visit__card a')[1].click()", vec![]).await;
    carer.click("#check-in").await;
    carer.wait_text("#visit-status", "In progress").await;
    carer.click("#signs-heading button").await;
    carer.click("#sign-eating_drinking_less").await;
    carer.click("label[for=sign-eating_drinking_less-new]").await;
    carer.wait_text("#news2-headline", "worried about them").await;
    carer.wait_text("#news2", "Phone their GP practice today").await;
    carer.wait_text("#phone-first", "Northbrook Medical Centre").await;
    carer.wait_text("#phone-first", "01632 960 123").await;
    carer.wait("#sbard").await;
    let _ = carer.client.execute("document.getElementById('news2').scrollIntoView()", vec![]).await;
    carer.shot("22-visit-soft-signs-worried").await;
    // Not new after all: untick it, and take a full set.
    carer.click("#sign-eating_drinking_less").await;
    carer.click("#vitals-heading button").await;
    for (field, value) in [("#resp", "18"), ("#spo2", "94"), ("#bp", "125"), ("#pulse", "95"), ("#temp", "38.4")] {
        carer.type_into(field, value).await;
    }
    carer.click("label[for=air]").await;
    carer.select("#consciousness", "alert").await;
    carer.click("#score").await;
    carer.wait_text("#news2-score", "NEWS2 2").await;
    carer.wait_text("#news2", "Tell the office before you leave").await;
    let _ = carer.client.execute("document.getElementById('news2').scrollIntoView()", vec![]).await;
    carer.shot("40-visit-tell-the-office").await;
    // Taken again with two readings only, already a lower bound of 4: never "carry on".
    carer.click("#recheck").await;
    carer.type_into("#pulse", "125").await;
    carer.type_into("#temp", "39.5").await;
    carer.click("#score").await;
    carer.wait_text("#news2-headline", "Take the missing readings now").await;
    carer.wait_text("#earlier-readings", "NEWS2 2").await;
    let _ = carer.client.execute("document.getElementById('news2').scrollIntoView()", vec![]).await;
    carer.shot("28-visit-readings-missing").await;
    carer.select("#consciousness", "voice").await;
    carer.click("#score").await;
    carer.wait_text("#news2-headline", "phone 999 now").await;
    carer.wait_text("#phone-first", "Phone 999 now").await;
    // Arthur's plan is on the card, and never stops the 999 call.
    carer.wait_text("#news2", "ReSPECT").await;
    // The numbers under "Phone 999 now" can be read: blue on white inside the dark card.
    let colours = carer
        .client
        .execute(
            "const a = document.querySelector('#then-phone a'); const s = getComputedStyle(a); return [s.color, s.backgroundColor];",
            vec![],
        )
        .await
        .expect("the office's number under 999");
    assert_ne!(colours[0], colours[1], "the number's text and its box differ: {colours:?}");
    assert_ne!(colours[0].as_str(), Some("rgb(255, 255, 255)"), "not white on the white box: {colours:?}");
    let _ = carer.client.execute("document.getElementById('news2').scrollIntoView()", vec![]).await;
    carer.shot("23-visit-999").await;
    let _ = carer.client.execute("document.getElementById('then-phone').scrollIntoView()", vec![]).await;
    carer.shot("41-visit-999-plan").await;
    carer.click(".ds-back").await;

    // Harold's visit: nobody answers the door. One tap for why; the card says to phone the office.
    carer.wait(".ds-visit__card").await;
    let _ = carer.client.execute("document.querySelectorAll('.ds-visit__card a')[2].click()", vec![]).await;
    carer.wait("#check-in").await;
    carer.click("#could-not summary").await;
    // "Tell the office" before choosing why: the error summary says so and links to the question.
    carer.click("#tell-office").await;
    carer.wait_text("#could-not .nhsuk-error-summary", "Choose why the visit could not happen").await;
    carer.shot("31-visit-error-summary").await;
    carer.click("#could-not .nhsuk-error-summary a").await;
    let focused = carer.client.execute("return document.activeElement.id", vec![]).await.expect("focused element");
    assert_eq!(focused.as_str(), Some("could-not-no_answer"), "the summary's link moves focus to the first reason");
    carer.click("label[for=could-not-no_answer]").await;
    carer.type_into("#could-not-detail", "Curtains closed, milk on the step").await;
    carer.click("#tell-office").await;
    carer.wait_text("#phone-office", "Phone the office now – 01632 960 100").await;
    let _ = carer.client.execute("document.getElementById('could-not-said').scrollIntoView()", vec![]).await;
    carer.shot("27-visit-no-answer").await;
    carer.click(".ds-back").await;
    let offline = carer.wait_text("#sync-status", "waiting").await;
    carer.shot("07-carer-today-offline").await;

    // The signal comes back: the hub is where the tablet expects it, and "Sync now" sends all.
    let hub = TestHub::serve_at(storage.clone(), provider, &address).await;
    carer.click(".ds-sync__button").await;
    carer.wait_text("#sync-status", "Synced").await;
    carer.shot("08-carer-today-synced").await;
    carer.click_labelled(".ds-nav-link", "My ideas").await;
    carer.wait(".ds-idea").await;
    carer.shot("09-my-ideas").await;
    carer.click_labelled(".ds-nav-link", "Phone numbers").await;
    carer.wait_text("#numbers", "01632 960 100").await;
    carer.shot("24-carer-phone-numbers").await;
    carer.client.close().await.expect("close the tablet app");
    assert!(offline.contains("Offline") || offline.contains("waiting"), "{offline}");

    // The office.
    let manager = Screens { client: open_app(&driver, app(), &office).await, dir: shots.clone() };
    let _ = manager.client.set_window_size(1280, 800).await;
    manager.unlock(PIN).await;
    manager.click(".ds-sync__button").await;
    manager.wait_text("#sync-status", "Synced").await;
    let chase = manager.wait_text("#chase", "No answer at the door").await;
    assert!(chase.contains("Harold") && chase.contains("Sam Taylor"), "{chase}");
    let attention = manager.wait_text("#attention", "NEWS2 5").await;
    assert!(attention.contains("Margaret"), "{attention}");
    manager.shot("10-manager-today").await;
    // The office phoned Sam about Harold's door: marked reviewed, with who and when.
    manager.click("#chase .ds-mark-reviewed").await;
    let reviewed = manager.wait_text("#chase", "Reviewed").await;
    assert!(reviewed.contains("Mo Khan (M001)"), "reviewed by name: {reviewed}");
    manager.click("#count-chase a").await;
    manager.wait_text("#count-chase-list", "Visits to chase now").await;
    let _ = manager.client.execute("document.getElementById('chase').scrollIntoView()", vec![]).await;
    manager.shot("32-manager-chase-reviewed").await;
    // The caseload early warning: four people fell in Peggy's district this week.
    manager.click("#count-watch a").await;
    let alerts = manager.wait_text("#early-warning-alerts", "4 people with a fall").await;
    assert!(alerts.contains("NB3"), "{alerts}");
    manager.client.execute("document.getElementById('early-warning').scrollIntoView()", vec![]).await.expect("scroll");
    manager.shot("36-manager-early-warning").await;
    // Did it help? The surgery acted on Arthur's idea five weeks ago.
    manager.click("#count-follow-up a").await;
    let due = manager.wait_text("#follow-ups", "Arthur").await;
    assert!(due.contains("Riverside Surgery"), "{due}");
    let _ = manager.client.execute("document.getElementById('follow-up').scrollIntoView()", vec![]).await;
    manager.shot("37-manager-follow-up").await;
    manager.click_labelled("#follow-ups label", "Yes, it helped").await;
    manager.click("#follow-ups button.nhsuk-button").await;
    manager.wait("#follow-up-saved").await;
    manager.click("#count-follow-up a").await;
    manager.click_labelled(".ds-idea-card a", "back door").await;
    // The council is offered first, with why; the out-of-area OT below it, saying so.
    let suggested = manager.wait_text("#partners-suggested", "Northbrook Council").await;
    assert!(suggested.contains("Covers NB3"), "{suggested}");
    let other = manager.wait_text("#partners-other", "Southfield Community OT").await;
    assert!(other.contains("Does not cover NB3"), "{other}");
    manager.click_labelled("#partners-suggested label", "Northbrook Council").await;
    manager.type_into("#purpose", "So an occupational therapist can assess Peggy for a grab rail").await;
    manager.click("#include-observations").await;
    manager.shot("11-manager-review-idea").await;
    manager.click("#share").await;
    manager.wait_text("#idea-status", "Shared").await;
    manager.wait_text("#shared-with", "Northbrook Council").await;
    manager.shot("12-manager-idea-shared").await;
    // The council asks a question on its item; the office syncs and answers it from the idea's
    // page (found again by searching).
    let partner_hub = doorstep_hub::Hub::new(storage.clone());
    let password = "correct horse battery staple";
    let partner = doorstep_hub::storage::WebRole::Partner;
    partner_hub
        .create_web_user(council.id, "ola@council.example", "Ola Adeyemi", partner, password)
        .await
        .expect("account");
    let (_, ola) = partner_hub.sign_in("ola@council.example", password).await.expect("sign in");
    let shared_ids = loop {
        // The share reaches the hub with the office's next (background) sync.
        let ids = storage
            .granted(format!("partner:{}", council.id), doorstep_model::RecordKind::Shared)
            .await
            .expect("granted");
        if !ids.is_empty() {
            break ids;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    partner_hub.post_message(&ola, shared_ids[0], "Is she at home on Tuesday mornings?").await.expect("asked");
    manager.click_labelled(".ds-nav-link", "Today").await;
    manager.click(".ds-sync__button").await;
    manager.wait_text("#sync-status", "Synced").await;
    manager.click_labelled(".ds-nav-link", "Search").await;
    manager.type_into("#search", "back door").await;
    manager.click("button[type=submit]").await;
    manager.click_labelled(".ds-hit a", "Idea").await;
    manager.wait_text("#shared-with", "Is she at home on Tuesday mornings?").await;
    manager.type_into(".ds-thread textarea", "Yes, until noon. Her daughter lets visitors in.").await;
    manager.click(".ds-send-reply").await;
    manager.wait_text("#shared-with", "Her daughter lets visitors in.").await;
    manager.shot("35-manager-conversation").await;
    manager.click_labelled(".ds-nav-link", "Today").await;
    manager.click(".ds-sync__button").await;
    manager.wait_text("#sync-status", "Synced").await;
    let item = partner_hub.shared_item(&ola, shared_ids[0], "read").await.expect("read");
    assert_eq!(item.messages.len(), 2, "the office's answer reached the partner: {:?}", item.messages);
    manager.click_labelled(".ds-nav-link", "Search").await;
    manager.type_into("#search", "breakfast").await;
    manager.click("button[type=submit]").await;
    let hit = manager.wait_text(".ds-hit", "breakfast").await;
    assert!(hit.contains("Visit note:"), "the hit says what it is and who it is about: {hit}");
    manager.wait(".ds-hit mark").await;
    manager.shot("13-manager-search").await;
    manager.click_labelled(".ds-nav-link", "Import").await;
    manager.type_into("#csv", "client_ref,given_name,family_name\nP00009,,Smith\n").await;
    manager.click("#import").await;
    manager.wait_text(".nhsuk-error-summary", "Nothing was imported").await;
    manager.shot("14-manager-import-errors").await;
    manager.click_labelled(".ds-nav-link", "Devices").await;
    manager.wait_text("#devices", "Sam Taylor (C001)").await;
    manager.shot("15-manager-devices").await;
    manager.click_labelled(".ds-nav-link", "Directory").await;
    manager.wait("#save-directory").await;
    manager.wait("#staff-C001").await;
    manager.shot("25-manager-directory").await;
    // Peggy's page, as the office sees it: her plan and what is usual for her, with who noted it.
    manager.click_labelled(".ds-nav-link", "Today").await;
    manager.click_labelled("#attention .ds-attention a", "Margaret").await;
    manager.wait("#visit-status").await;
    manager.shot("44-manager-visit").await;
    manager.click_labelled("button", "About Margaret").await;
    manager.wait_text("#baselines", "Oxygen scale").await;
    let _ = manager
        .client
        .execute("document.querySelectorAll('details').forEach(d => d.open = true); document.getElementById('scale-1').scrollIntoView()", vec![])
        .await;
    manager.wait("#save-baselines").await;
    manager.shot("26-manager-person-baselines").await;
    // Arthur's page: his ReSPECT plan and his oxygen scale, each with who set it and when.
    manager.click_labelled(".ds-nav-link", "Today").await;
    manager.click_labelled("#attention .ds-attention a", "Arthur").await;
    manager.wait("#visit-status").await;
    manager.click_labelled("button", "About Arthur").await;
    manager.wait_text("#baselines", "Scale 2").await;
    manager.shot("42-manager-person-plan-scale2").await;
    manager.client.close().await.expect("close the office app");

    // The council answers Peggy's idea: Sam sees it on Today, with a count on "My ideas".
    partner_hub
        .respond(
            &ola,
            shared_ids[0],
            doorstep_model::shared::ResponseOutcome::ActionTaken,
            "OT visit booked for Tuesday",
        )
        .await
        .expect("the council answers");
    let carer = Screens { client: open_app(&driver, app(), &tablet).await, dir: shots.clone() };
    let _ = carer.client.set_window_size(768, 1024).await;
    carer.unlock(PIN).await;
    carer.click(".ds-sync__button").await;
    carer.wait_text("#sync-status", "Synced").await;
    let banner = carer.wait_text("#new-replies", "answered").await;
    assert!(banner.contains("Action taken"), "{banner}");
    carer.wait(".ds-nav-count").await;
    carer.shot("43-carer-partner-answered").await;
    carer.client.close().await.expect("close the tablet app");

    // A new tablet, before it is set up.
    let fresh = work.path().join("fresh");
    std::fs::create_dir_all(&fresh).expect("fresh data dir");
    let new_tablet = Screens { client: open_app(&driver, app(), &fresh).await, dir: shots.clone() };
    new_tablet.wait("#enrol").await;
    new_tablet.shot("00-enrol").await;
    new_tablet.client.close().await.expect("close the new tablet's app");

    // The council partner receives its shared item of that idea, and nothing else.
    let code = issue_enrolment_code(&storage, council.id, "OT1", Role::Partner, "test").await.expect("partner code");
    let partner_store = work.path().join("partner.db");
    let store =
        std::sync::Arc::new(tokio::sync::Mutex::new(doorstep_store::Store::open(&partner_store).expect("store")));
    doorstep_sync::enrol(&store, &hub.url, &code.code, "council laptop").await.expect("partner enrols");
    let client = doorstep_sync::SyncClient::for_store(&store).await.expect("client");
    let started = Instant::now();
    loop {
        client.sync(&store, |_| {}).await.expect("partner sync");
        let items = store.lock().await.shared_items().expect("shared items");
        if let Some(row) = items.first() {
            assert_eq!(items.len(), 1, "one item: the one shared with this council");
            assert_eq!(row.partner.id, council.id);
            assert_eq!(row.purpose, "So an occupational therapist can assess Peggy for a grab rail");
            let item: SharedItem = store.lock().await.get(&row.id).expect("shared item");
            assert!(item.summary.contains("Grab rail"), "{}", item.summary);
            assert_eq!(item.raised_by.as_str(), "C001");
            assert!(item.person.is_some(), "Peggy agreed to the council being told");
            assert!(item.observations.is_some(), "the manager ticked the latest soft signs and vital signs");
            break;
        }
        assert!(started.elapsed() < WAIT, "the shared item never reached the partner");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let store = store.lock().await;
    assert!(store.people().expect("people").is_empty(), "a partner receives no person records");
    assert!(store.visits_on(today(), None).expect("visits").is_empty(), "nor visits");
    assert!(store.insights_by_author("C001").expect("ideas").is_empty(), "nor the provider's idea itself");
    assert_eq!(store.local_sync_state().expect("state").held_back.len(), 0);
    hub.stop().await;
}

/// Two carers on a double-up, each with the app open on the visit, type into the same note with
/// no signal; when the hub comes back, background sync merges the note and both screens end with
/// both carers' words. Sam's tablet also holds a change the hub refuses: the badge lists it by
/// name with "Send again", sign-out refuses naming it, and the office's devices page counts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_carers_type_into_one_note_and_both_screens_end_with_both_texts() {
    let work = tempfile::TempDir::new().expect("temp dir");
    let storage = SqliteStorage::open(&work.path().join("hub.db")).expect("hub storage");
    let hub = TestHub::start(storage.clone()).await;
    let office = enrolled_device(&hub, &work.path().join("office"), "M001", Role::Manager, None).await;
    let sam = enrolled_device(&hub, &work.path().join("sam"), "C001", Role::Carer, None).await;
    let priya = enrolled_device(&hub, &work.path().join("priya"), "C002", Role::Carer, None).await;
    {
        // An older app let carers move a visit to someone else; the hub refuses that from a carer.
        let core = doorstep_device::Device::open(sam.join("doorstep.db"), doorstep_device::LOCK_AFTER).expect("open");
        core.unlock(PIN).await.expect("unlock");
        let mut store = core.unlocked_store().await.expect("store");
        let own = store.visits_on(today(), Some("C001")).expect("visits");
        let single = own.iter().find(|v| v.carers.len() == 1).expect("a visit of Sam's alone");
        store
            .update::<Visit>(&single.id, |v| {
                v.carers = vec![StaffId::new("C003")];
                Ok(())
            })
            .expect("the refused change");
    }

    // No signal while they type.
    let (provider, address) = (hub.provider, hub.url.trim_start_matches("http://").to_string());
    hub.stop().await;

    let (_display, display) = start_display();
    let fast = [("DOORSTEP_SYNC_EVERY_SECS", "2")];
    let (_sam_driver, sam_driver) = start_driver_with(&display, &fast).await;
    let (_priya_driver, priya_driver) = start_driver_with(&display, &fast).await;
    let shots = screenshots_dir();
    let sam_app = Screens { client: open_app(&sam_driver, app(), &sam).await, dir: shots.clone() };
    let priya_app = Screens { client: open_app(&priya_driver, app(), &priya).await, dir: shots.clone() };
    for (carer, words) in
        [(&sam_app, "Sam: heels checked, skin intact."), (&priya_app, "Priya: Harold ate all his lunch.")]
    {
        let _ = carer.client.set_window_size(768, 1024).await;
        carer.unlock(PIN).await;
        carer.click_labelled(".ds-visit__card a", "Harold").await;
        carer.click("#check-in").await;
        carer.wait_text("#visit-status", "In progress").await;
        carer.type_into("#note", words).await;
        carer.wait_text("#note-saved", "Saved at").await;
    }

    // The signal comes back: background sync on both tablets merges the note, and each open
    // screen takes in the other's words.
    let hub = TestHub::serve_at(storage.clone(), provider, &address).await;
    let both = ["Sam: heels checked, skin intact.", "Priya: Harold ate all his lunch."];
    let on_sam = sam_app.wait_value("#note", &both).await;
    let on_priya = priya_app.wait_value("#note", &both).await;
    assert_eq!(on_sam, on_priya, "both screens show the same note");
    sam_app.shot("16-double-up-note-merged").await;
    priya_app.client.close().await.expect("close Priya's app");

    // Sam's held-back change: listed on the badge with "Send again"; sign-out refuses, naming it.
    sam_app.click(".ds-back").await;
    let held = sam_app.wait_text("#held-back", "Visit to").await;
    sam_app.wait("#send-again").await;
    sam_app.shot("17-carer-held-back").await;
    sam_app.click_labelled(".ds-nav-link", "Sign out").await;
    sam_app.click("#sign-out").await;
    let refusal = sam_app.wait_text(".nhsuk-error-summary", "would not take").await;
    let name = held.split(':').next().unwrap_or_default().trim().to_string();
    assert!(refusal.contains(&name), "the refusal names {name:?}: {refusal}");
    sam_app.shot("18-sign-out-refused-held-back").await;
    sam_app.client.close().await.expect("close Sam's app");

    // The office sees which tablet holds which records back.
    let (_office_driver, office_driver) = start_driver(&display).await;
    let manager = Screens { client: open_app(&office_driver, app(), &office).await, dir: shots };
    let _ = manager.client.set_window_size(1280, 800).await;
    manager.unlock(PIN).await;
    manager.click_labelled(".ds-nav-link", "Devices").await;
    manager.wait_text("#devices", "1 held back").await;
    // Which record, from which tablet, and why; the office discards the change for good.
    manager.wait_text("#held-back", &name).await;
    let _ = manager.client.execute("document.getElementById('held-back-heading').scrollIntoView()", vec![]).await;
    manager.shot("19-manager-devices-held-back").await;
    manager.click(".ds-discard").await;
    manager.click(".ds-discard-confirm").await;
    manager.wait_text("#held-back", "Discarded at the tablet's next sync").await;
    manager.client.close().await.expect("close the office app");
    hub.stop().await;
}
