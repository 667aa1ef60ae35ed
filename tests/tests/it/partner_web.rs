//! The partner hub's pages, used as partners use them: headless Chromium (Debian's chromium and
//! chromedriver) against a real hub on SQLite, with a provider's real devices syncing. A council
//! partner signs in, sees exactly what was shared with it, opens an item, answers; the carer's
//! and manager's devices receive the answer by sync. Screenshots go to target/screenshots/
//! (`cargo xtask screenshots`: docs/screenshots/).

#![allow(clippy::unwrap_used)]

use std::path::Path;

use chrono::{Days, NaiveDate, Utc};
use doorstep_demo::{Generator, at};
use doorstep_hub::admin;
use doorstep_hub::storage::{FeedRelease, HubStorage, OrgKind, Organisation, WebRole};
use doorstep_hub::trends::{self, ALL_AREAS, Measure};
use doorstep_hub::{Hub, SqliteStorage};
use doorstep_model::{
    Acvpu, Comparison, ConsentBasis, ConsentRecord, Insight, InsightId, InsightStatus, PartnerKind, PartnerOrg, Person,
    ProviderRef, ResponseOutcome, ShareChoices, SharedItem, SharedItemId, SharedStatus, SoftSign, SoftSignObservation,
    StaffId, ThreadMessage, ThreadSide, Urgency, VitalSigns,
};
use doorstep_protocol::Role;
use doorstep_tests::app::Screens;
use doorstep_tests::browser::{accessibility_violations, open_browser, start_chromedriver};
use doorstep_tests::partners::{COUNCIL, PASSWORD, SURGERY};
use doorstep_tests::{TestDevice, TestHub, screenshots_dir, today};
use fantoccini::Locator;
use uuid::Uuid;

struct World {
    hub: TestHub<SqliteStorage>,
    manager: TestDevice,
    carer: TestDevice,
    person: Person,
    /// Shared with the council: an urgent idea naming the person, and a routine observation.
    urgent: SharedItem,
    routine: SharedItem,
    /// Shared with the surgery (the person has not agreed to NHS sharing: no identifiers).
    for_surgery: SharedItem,
    council: Uuid,
}

fn idea(person: &Person, summary: &str, action: &str, urgency: Urgency) -> Insight {
    Insight {
        follow_up: None,
        id: InsightId(Uuid::new_v4()),
        person_id: Some(person.id),
        author: StaffId::new("C001"),
        created_at: Utc::now(),
        summary: summary.into(),
        detail: "Twice this week she caught herself on the door frame going out to the bins.".into(),
        suggested_action: action.into(),
        who_could_act: vec![PartnerKind::OtEquipment],
        urgency,
        consent_basis: ConsentBasis::PersonConsented,
        status: InsightStatus::Submitted,
        comments: vec![],
        shares: vec![],
    }
}

async fn set_up(dir: &Path) -> World {
    let storage = SqliteStorage::open(&dir.join("hub.db")).unwrap();
    let hub = TestHub::start(storage).await;
    let partners = hub.partners().await;
    let council = PartnerOrg { id: partners.council, name: COUNCIL.into(), kind: PartnerKind::CouncilAdultSocialCare };
    let surgery = PartnerOrg { id: partners.surgery, name: SURGERY.into(), kind: PartnerKind::GpPractice };
    for (org, email, name, role) in [
        (council.id, "ola@council.example", "Ola Adeyemi", WebRole::Partner),
        (surgery.id, "gp@surgery.example", "Dr Jo Patel", WebRole::Partner),
        (council.id, "commissioning@council.example", "Chris Commissioner", WebRole::Commissioner),
        (hub.provider, "manager@sunrise.example", "Mo Manager", WebRole::Manager),
    ] {
        hub.web_user(org, email, name, role).await;
    }

    let manager = hub.device(dir, "M001", Role::Manager).await;
    let carer = hub.device(dir, "C001", Role::Carer).await;
    let mut generator = Generator::new(55);
    let mut person = generator.person();
    person.address.postcode = "NB3 2QT".into();
    person.nhs_number = Some("943 476 5919".parse().unwrap());
    person.consent.council = Some(ConsentRecord {
        given: true,
        recorded_by: StaffId::new("M001"),
        recorded_at: Utc::now(),
        note: "Happy for the council to be told.".into(),
    });
    let mut visit = generator.visit(&person, at(today(), 9, 0));
    visit.carers = vec![StaffId::new("C001")];
    manager.store.lock().await.put(&person).unwrap();
    manager.store.lock().await.put(&visit).unwrap();
    // The office's number, from the directory its managers keep: partners phone it about an item
    // that does not say who it is about.
    let mut directory = doorstep_model::Directory::new(hub.provider);
    directory.office_phone = "01632 960 100".into();
    directory.office_hours = "Monday to Friday, 8am to 6pm".into();
    // Staff names: the pages name people by them, never by staff code or device id.
    directory.set_staff_name(&StaffId::new("M001"), "Mo Khan");
    directory.set_staff_name(&StaffId::new("C001"), "Sam Taylor");
    manager.store.lock().await.put(&directory).unwrap();
    manager.sync().await;
    carer.sync().await;
    // The visit's note: a near-fall, and vital signs scoring NEWS2 5.
    let mut note = generator.note(&visit);
    note.soft_signs.clear();
    note.observe(SoftSignObservation {
        sign: SoftSign::UnsteadyOrFall,
        compared_to_usual: Comparison::Worse,
        detail: "Caught herself on the door frame".into(),
    });
    note.vitals = Some(VitalSigns {
        respiration_rate: Some(22),
        spo2_percent: Some(95),
        on_oxygen: Some(false),
        systolic_bp: Some(105),
        pulse: Some(95),
        consciousness: Some(Acvpu::Alert),
        temperature_c: Some(37.5),
    });
    carer.store.lock().await.put(&note).unwrap();
    let observed = visit.window.start;

    let rail = idea(&person, "Grab rail by the back door", "OT assessment for a grab rail", Urgency::Urgent);
    let mut bins = idea(&person, "Bins left at the far end of the drive", "", Urgency::Routine);
    bins.consent_basis = ConsentBasis::NotIdentifiable;
    carer.store.lock().await.put(&rail).unwrap();
    carer.store.lock().await.put(&bins).unwrap();
    carer.sync().await;
    manager.sync().await;

    let provider = ProviderRef { id: hub.provider, name: "Sunrise Home Care".into() };
    let share = |insight: &Insight, to: &PartnerOrg, purpose: &str| {
        let observations = insight.urgency == Urgency::Urgent;
        SharedItem::from_insight(
            SharedItemId(Uuid::new_v4()),
            insight,
            provider.clone(),
            to.clone(),
            purpose,
            "M001",
            Utc::now(),
            Some(&person),
            Some((&note, observed)),
            ShareChoices { include_observations: observations },
        )
    };
    let urgent = share(&rail, &council, "So the OT can assess for a grab rail");
    let routine = share(&bins, &council, "For the council's waste team");
    let for_surgery = share(&rail, &surgery, "So the GP knows about the near-falls");
    assert!(urgent.person.is_some() && for_surgery.person.is_none(), "consent decides who sees the person");
    for item in [&urgent, &routine, &for_surgery] {
        manager.store.lock().await.put(item).unwrap();
    }
    manager.sync().await;
    World { hub, manager, carer, person, urgent, routine, for_surgery, council: council.id }
}

async fn sign_in(screens: &Screens, base: &str, email: &str, password: &str) {
    screens.client.goto(&format!("{base}/sign-in")).await.unwrap();
    screens.wait("#email").await.clear().await.unwrap();
    screens.type_into("#email", email).await;
    screens.type_into("#password", password).await;
    screens.click("button[type=submit].nhsuk-button").await;
}

/// WCAG 2.2 AA as far as axe-core can tell, on the page shown.
async fn assert_accessible(screens: &Screens, page: &str) {
    let violations = accessibility_violations(&screens.client).await;
    assert!(violations.is_empty(), "{page} fails WCAG checks:\n{}", violations.join("\n"));
}

async fn page_text(screens: &Screens) -> String {
    screens.wait("main").await.text().await.unwrap()
}

/// People on a page are named in words: no staff code and no id (a device's or a record's).
fn assert_no_codes_or_ids(page: &str, text: &str) {
    for code in ["C001", "M001"] {
        assert!(!text.contains(code), "{page} shows the staff code {code}: {text}");
    }
    let ids: Vec<&str> = text
        .split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
        .filter(|w| w.len() >= 32 && Uuid::try_parse(w).is_ok())
        .collect();
    assert!(ids.is_empty(), "{page} shows ids {ids:?}: {text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partner_answers_what_was_shared_and_the_carer_sees_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let world = set_up(dir.path()).await;
    let base = world.hub.url.clone();
    let (_driver, driver_url) = start_chromedriver().await;
    let client = open_browser(&driver_url, &dir.path().join("chromium")).await;
    let screens = Screens { client, dir: screenshots_dir() };

    // Signed out, every page leads to sign-in.
    screens.client.goto(&format!("{base}/inbox")).await.unwrap();
    screens.wait("#email").await;
    screens.shot("partner-sign-in").await;
    assert_accessible(&screens, "partner-sign-in").await;
    // A forgotten password: the page says who to ask (no reset links by e-mail).
    screens.click("a[href='/forgotten-password']").await;
    screens.wait_text("h1", "Forgotten your password?").await;
    assert!(page_text(&screens).await.contains("Ask the person who gave you your account"));
    screens.shot("partner-forgotten-password").await;
    assert_accessible(&screens, "partner-forgotten-password").await;

    // The council's inbox: exactly its two items, the urgent one first.
    sign_in(&screens, &base, "ola@council.example", PASSWORD).await;
    screens.wait_text("h1", "Shared with Northbrook Adult Social Care").await;
    let rows = screens.client.find_all(Locator::Css("tbody tr")).await.unwrap();
    assert_eq!(rows.len(), 2, "the council sees its two items and nothing else");
    let first = rows[0].text().await.unwrap();
    assert!(first.contains("Grab rail by the back door") && first.contains("Urgent"), "{first}");
    let text = page_text(&screens).await;
    assert!(text.contains("Bins left at the far end of the drive"));
    screens.shot("partner-inbox").await;
    assert_accessible(&screens, "partner-inbox").await;

    // Filters narrow it.
    screens.client.goto(&format!("{base}/inbox?urgency=routine")).await.unwrap();
    screens.wait_text("main", "1 item").await;
    assert!(!page_text(&screens).await.contains("Grab rail"));

    // The carer who raised it writes to the council from their tablet, signing as the tablet
    // does ("Sam Taylor (C001)").
    world.carer.sync().await;
    world
        .carer
        .store
        .lock()
        .await
        .update::<SharedItem>(&world.urgent.id.to_string(), |item| {
            item.messages.push(ThreadMessage {
                key: Uuid::new_v4().to_string(),
                side: ThreadSide::Provider,
                by: "Sam Taylor (C001)".into(),
                staff: "C001".into(),
                at: Utc::now(),
                text: "She is happiest with mornings.".into(),
            });
            Ok(())
        })
        .unwrap();
    assert_eq!(world.carer.sync().await.held_back, 0, "the carer may write on their own idea");

    // The item, as SBARD, with the person named (their consent covers the council).
    screens.client.goto(&format!("{base}/inbox")).await.unwrap();
    screens.click(&format!("a[href='/items/{}']", world.urgent.id)).await;
    screens.wait_text("h1", "Grab rail by the back door").await;
    let text = page_text(&screens).await;
    for part in ["Situation", "Background", "Assessment", "Recommendation", "Decision"] {
        assert!(text.contains(part), "SBARD {part} missing: {text}");
    }
    assert!(text.contains(&world.person.name.display()) && text.contains("943 476 5919"), "{text}");
    // Who it is about comes first, as a patient banner; then what is asked, and by when.
    let banner = screens.wait("#patient-banner").await.text().await.unwrap();
    assert!(banner.starts_with(&world.person.name.display()) && banner.contains("943 476 5919"), "{banner}");
    let asked = screens.wait("#asked").await.text().await.unwrap();
    assert!(
        asked.contains("What we are asking you to do") && asked.contains("OT assessment for a grab rail"),
        "{asked}"
    );
    assert!(asked.contains("Respond to this"), "{asked}");
    assert!(screens.wait("#due").await.text().await.unwrap().contains("by "), "an answer is due");
    assert!(text.contains("Office: 01632 960 100 (Monday to Friday, 8am to 6pm)"), "{text}");
    assert!(text.contains("Request to act from Sunrise Home Care"), "plain words: {text}");
    assert!(text.contains("For IT systems"), "{text}");
    assert!(text.contains("So the OT can assess for a grab rail"), "the purpose is shown");
    assert!(text.contains("NEWS2 5") && text.contains("Caught herself on the door frame"), "{text}");
    // Who raised it and who wrote, by name and provider: no staff code (minimum necessary).
    assert!(text.contains("Sam Taylor, Sunrise Home Care"), "{text}");
    let messages = screens.wait("#messages").await.text().await.unwrap();
    assert!(messages.contains("Sam Taylor (Sunrise Home Care)"), "{messages}");
    assert_no_codes_or_ids("the item page", &text);
    screens.shot("partner-item").await;
    assert_accessible(&screens, "partner-item").await;

    // Answering: a choice is needed, and declining needs a reason; the typed message is kept.
    screens.click("button[type=submit].nhsuk-button").await;
    screens.wait_text(".nhsuk-error-summary", "Choose what you have done about it").await;
    screens.click("#outcome-declined").await;
    screens.click("button[type=submit].nhsuk-button").await;
    screens.wait_text(".nhsuk-error-summary", "Declining needs a reason").await;
    screens.click("#outcome-action_taken").await;
    screens.type_into("#message", "OT visit booked for Tuesday morning.").await;
    screens.click("button[type=submit].nhsuk-button").await;
    screens.wait_text("main", "Your response is saved").await;
    screens.wait_text("main", "OT visit booked for Tuesday morning.").await;
    screens.shot("partner-item-answered").await;
    assert_accessible(&screens, "partner-item-answered").await;

    // Another organisation's item, and an item that does not exist: the same "not found", and
    // the attempt is in the audit log.
    for id in [world.for_surgery.id.0, Uuid::new_v4()] {
        screens.client.goto(&format!("{base}/items/{id}")).await.unwrap();
        screens.wait_text("h1", "Page not found").await;
    }
    let audit = world.hub.storage.audit_log(100).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| !e.allowed && e.doc_id == Some(world.for_surgery.id.0) && e.actor.contains("ola@council.example")),
        "the refused look is audited: {audit:?}"
    );
    assert!(audit.iter().any(|e| e.allowed && e.action == "respond" && e.doc_id == Some(world.urgent.id.0)));
    // Every allowed read is in the log too, naming the item: the inbox listing, the item opened.
    let urgent = world.urgent.id.0;
    assert!(
        audit.iter().any(|e| e.allowed && e.action == "inbox" && e.detail.contains(&urgent.to_string())),
        "the inbox listing names the items it showed: {audit:?}"
    );
    assert!(audit.iter().any(|e| e.allowed && e.action == "read" && e.doc_id == Some(urgent)), "opened: {audit:?}");
    let hub = doorstep_hub::service::Hub::new(world.hub.storage.clone());
    let (_, ola) = hub.sign_in("ola@council.example", PASSWORD).await.unwrap();
    hub.shared_item(&ola, urgent, "export_fhir").await.unwrap();
    hub.shared_items_csv(&ola).await.unwrap();
    let audit = world.hub.storage.audit_log(200).await.unwrap();
    for action in ["export_fhir", "export_csv"] {
        assert!(
            audit.iter().any(|e| e.allowed && e.action == action && e.doc_id == Some(urgent)),
            "{action} is audited with the item: {audit:?}"
        );
    }

    // The answer reaches the carer and the office by ordinary sync, and the idea moved on.
    world.carer.sync().await;
    world.manager.sync().await;
    for device in [&world.carer, &world.manager] {
        let store = device.store.lock().await;
        let item: SharedItem = store.get(&world.urgent.id.to_string()).unwrap();
        assert_eq!(item.status(), SharedStatus::Answered(ResponseOutcome::ActionTaken));
        assert_eq!(item.responses[0].message, "OT visit booked for Tuesday morning.");
        assert_eq!(item.responses[0].by, "Ola Adeyemi");
        let insight: Insight = store.get(&world.urgent.insight_id.to_string()).unwrap();
        assert_eq!(insight.status, InsightStatus::Actioned);
    }

    // The provider may stop sharing, but not rewrite or remove a partner's answer.
    world
        .manager
        .store
        .lock()
        .await
        .update::<SharedItem>(&world.urgent.id.to_string(), |item| {
            item.responses.clear();
            Ok(())
        })
        .unwrap();
    assert_eq!(world.manager.sync().await.held_back, 1, "the hub refuses to drop the partner's answer");
    screens.client.goto(&format!("{base}/items/{}", world.urgent.id)).await.unwrap();
    screens.wait_text("main", "OT visit booked for Tuesday morning.").await;

    // Ideas about people of two providers, in the latest week a commissioner can see.
    let (week, _) = commissioned_ideas(&world, dir.path()).await;

    // The provider's manager sees who read and answered.
    screens.client.goto(&format!("{base}/inbox")).await.unwrap();
    screens.click("button.hub-link-button").await;
    screens.wait("#email").await;
    sign_in(&screens, &base, "manager@sunrise.example", PASSWORD).await;
    screens.wait_text("h1", "Partner activity").await;
    let text = page_text(&screens).await;
    assert!(
        text.contains("Ola Adeyemi (Northbrook Adult Social Care) answered 'Grab rail by the back door'"),
        "in plain words: {text}"
    );
    assert!(text.contains("Ola Adeyemi (Northbrook Adult Social Care) opened 'Grab rail by the back door'"), "{text}");
    assert!(text.contains("tried to open") && text.contains("Refused"), "{text}");
    assert!(!text.contains("ola@council.example"), "names, not accounts: {text}");
    // Tablets by their user's name, role and provider, never their id.
    assert!(
        text.contains("Mo Khan's tablet (manager, Sunrise Home Care) tried to change 'Grab rail by the back door'"),
        "the refused write, in words: {text}"
    );
    assert!(
        text.contains("Sam Taylor's tablet (care worker, Sunrise Home Care) wrote a message about 'Grab rail"),
        "{text}"
    );
    assert_no_codes_or_ids("the activity page", &text);
    screens.shot("partner-activity").await;
    assert_accessible(&screens, "partner-activity").await;
    // …reviews the week's feed (their own people, by district) and releases it.
    screens.client.goto(&format!("{base}/feed")).await.unwrap();
    screens.wait_text("h1", "Weekly feed to commissioners").await;
    let text = page_text(&screens).await;
    assert!(text.contains("Released weeks go to Northbrook Adult Social Care"), "{text}");
    screens.shot("partner-feed").await;
    assert_accessible(&screens, "manager-feed").await;
    screens.click(&format!("#week-{week} button.nhsuk-button")).await;
    screens.wait_text("main", "is released").await;
    assert!(page_text(&screens).await.contains("Mo Manager (manager@sunrise.example)"));
    screens.shot("partner-feed-released").await;
    assert_accessible(&screens, "manager-feed-released").await;
    release(&world, meadow_org(&world).await, week).await;

    // The surgery sees only its own item, without the person's identifiers.
    screens.click("button.hub-link-button").await;
    sign_in(&screens, &base, "gp@surgery.example", PASSWORD).await;
    screens.wait_text("h1", "Shared with Riverside Surgery").await;
    let rows = screens.client.find_all(Locator::Css("tbody tr")).await.unwrap();
    assert_eq!(rows.len(), 1);
    for id in [world.urgent.id, world.routine.id] {
        screens.client.goto(&format!("{base}/items/{id}")).await.unwrap();
        screens.wait_text("h1", "Page not found").await;
    }
    screens.client.goto(&format!("{base}/items/{}", world.for_surgery.id)).await.unwrap();
    let text = page_text(&screens).await;
    assert!(!text.contains(&world.person.name.family) && !text.contains("943 476 5919"), "{text}");
    assert!(text.contains("not shared with your organisation"));
    // Not identified: who to phone, and what to quote.
    let banner = screens.wait("#patient-banner").await.text().await.unwrap();
    let reference = format!("DS-{}", &world.for_surgery.id.0.simple().to_string().to_uppercase()[..8]);
    assert!(banner.starts_with("Not identified"), "{banner}");
    assert!(banner.contains("phone Sunrise Home Care on 01632 960 100") && banner.contains(&reference), "{banner}");
    screens.shot("partner-item-not-identified").await;
    assert_accessible(&screens, "partner-item-not-identified").await;

    // The commissioner sees counts of people only.
    screens.click("button.hub-link-button").await;
    sign_in(&screens, &base, "commissioning@council.example", PASSWORD).await;
    screens.wait_text("h1", "Trends across providers").await;
    let text = page_text(&screens).await;
    assert!(
        text.contains("Sunrise Home Care: people in NB3") && text.contains("Meadow Care: all their people"),
        "{text}"
    );
    assert!(text.contains("People carers raised an idea about, by week"), "{text}");
    assert!(!text.contains(&world.person.name.family) && !text.contains("Grab rail"), "{text}");
    screens.shot("partner-trends").await;
    assert_accessible(&screens, "partner-trends").await;
    // The first chart (WebDriver's script runs outside the page's CSP; the page has none).
    screens.client.execute("document.getElementById('people_with_ideas').scrollIntoView()", vec![]).await.unwrap();
    screens.shot("partner-trends-chart").await;
    // What carers' ideas led to, across its agreements (here too few people to show).
    screens.client.goto(&format!("{base}/impact")).await.unwrap();
    screens.wait_text("h1", "What carers' ideas led to").await;
    let text = page_text(&screens).await;
    assert!(text.contains("By partner") && !text.contains(&world.person.name.family), "{text}");
    screens.shot("partner-impact").await;
    assert_accessible(&screens, "partner-impact").await;
    // …and cannot open a partner's inbox.
    screens.client.goto(&format!("{base}/inbox")).await.unwrap();
    screens.wait_text("main", "Your account cannot open this page").await;

    let _ = world.council;
    screens.client.close().await.unwrap();
    world.hub.stop().await;
}

/// Sign-in refuses wrong passwords, locks the account after five, and every form needs its
/// CSRF token: checked with a plain HTTP client, as an attacker would try.
#[tokio::test(flavor = "multi_thread")]
async fn sign_in_locks_out_and_forms_need_their_token() {
    let dir = tempfile::tempdir().unwrap();
    let world = set_up(dir.path()).await;
    let base = world.hub.url.clone();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();

    async fn form_token(http: &reqwest::Client, base: &str) -> (String, String) {
        let page = http.get(format!("{base}/sign-in")).send().await.unwrap();
        let cookie = page.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
        let html = page.text().await.unwrap();
        let token = html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        (cookie, token)
    }
    async fn try_password(http: &reqwest::Client, base: &str, password: &str) -> reqwest::Response {
        let (cookie, token) = form_token(http, base).await;
        http.post(format!("{base}/sign-in"))
            .header("cookie", cookie)
            .form(&[("email", "ola@council.example"), ("password", password), ("csrf", &token)])
            .send()
            .await
            .unwrap()
    }

    // Without the sign-in form's token nothing is checked.
    let refused = http
        .post(format!("{base}/sign-in"))
        .form(&[("email", "ola@council.example"), ("password", PASSWORD), ("csrf", "guess")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::SEE_OTHER);
    assert!(refused.headers().get("set-cookie").is_none());

    // A good sign-in gives an HttpOnly, SameSite=Strict session cookie.
    let ok = try_password(&http, &base, PASSWORD).await;
    assert_eq!(ok.status(), reqwest::StatusCode::SEE_OTHER);
    let session = ok
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("doorstep_session="))
        .unwrap();
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Strict"), "{session}");
    let session = session.split(';').next().unwrap().to_string();

    // Answering without the session's CSRF token is refused and writes nothing.
    let forged = http
        .post(format!("{base}/items/{}/respond", world.urgent.id))
        .header("cookie", &session)
        .form(&[("outcome", "acknowledged"), ("message", "forged"), ("csrf", "not-the-token")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), reqwest::StatusCode::FORBIDDEN);
    let page = http.get(format!("{base}/items/{}", world.urgent.id)).header("cookie", &session).send().await.unwrap();
    assert_eq!(page.status(), reqwest::StatusCode::OK);
    let headers = page.headers().clone();
    assert!(headers["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    assert_eq!(headers["cache-control"], "no-store");
    assert!(!page.text().await.unwrap().contains("forged"));

    // Exports: the organisation's items as CSV, one item as a FHIR R4 bundle of the right shape
    // that the FHIR R4 validator (tests/src/fhir_check.rs) accepts.
    let get = |path: String| http.get(format!("{base}{path}")).header("cookie", &session).send();
    let csv = get("/inbox.csv".into()).await.unwrap().text().await.unwrap();
    assert!(
        csv.starts_with("\"item_id\",\"shared_at\",\"provider") && csv.contains("Grab rail by the back door"),
        "{csv}"
    );
    assert!(!csv.contains("near-falls"), "the surgery's item is not in the council's export");
    let fhir: serde_json::Value =
        get(format!("/items/{}/fhir.json", world.urgent.id)).await.unwrap().json().await.unwrap();
    doorstep_hub::fhir::validate_shape(&fhir).unwrap();
    doorstep_tests::fhir_check::assert_valid("the council's urgent item (GET /items/{id}/fhir.json)", &fhir);
    assert_eq!(fhir["resourceType"], "Bundle");
    let types: Vec<&str> =
        fhir["entry"].as_array().unwrap().iter().filter_map(|e| e["resource"]["resourceType"].as_str()).collect();
    assert!(types.contains(&"Patient") && types.contains(&"ServiceRequest") && types.contains(&"Observation"));
    let other = get(format!("/items/{}/fhir.json", world.for_surgery.id)).await.unwrap();
    assert_eq!(other.status(), reqwest::StatusCode::NOT_FOUND);

    // The provider stops sharing the routine item: the council loses it at once.
    assert_eq!(get(format!("/items/{}", world.routine.id)).await.unwrap().status(), reqwest::StatusCode::OK);
    world
        .manager
        .store
        .lock()
        .await
        .update::<SharedItem>(&world.routine.id.to_string(), |item| {
            item.revoke("M001", Utc::now());
            Ok(())
        })
        .unwrap();
    world.manager.sync().await;
    assert_eq!(get(format!("/items/{}", world.routine.id)).await.unwrap().status(), reqwest::StatusCode::NOT_FOUND);
    assert!(!get("/inbox".into()).await.unwrap().text().await.unwrap().contains("Bins left"));

    // A device that names the person to a partner their consent does not cover is refused by
    // the hub, whatever the device decided.
    let mut forged = world.for_surgery.clone();
    forged.id = SharedItemId(Uuid::new_v4());
    forged.person = world.urgent.person.clone();
    world.manager.store.lock().await.put(&forged).unwrap();
    assert_eq!(world.manager.sync().await.held_back, 1);
    assert!(world.hub.storage.load_document(forged.id.0).await.unwrap().is_none());
    // Nor does an item that calls the GP surgery a council team, so that the person's consent to
    // tell the council would cover it: the hub judges by its own record of what the surgery is.
    let mut disguised = world.for_surgery.clone();
    disguised.id = SharedItemId(Uuid::new_v4());
    disguised.person = world.urgent.person.clone();
    disguised.partner.kind = PartnerKind::CouncilAdultSocialCare;
    world.manager.store.lock().await.put(&disguised).unwrap();
    assert_eq!(world.manager.sync().await.held_back, 1, "held back");
    assert!(world.hub.storage.load_document(disguised.id.0).await.unwrap().is_none());

    // Five wrong passwords lock the account; then even the right one is refused for a while, in
    // the same words as a wrong one (the page never says which e-mails have accounts).
    for attempt in 1..=5 {
        let wrong = try_password(&http, &base, "not the password").await;
        assert_eq!(wrong.status(), reqwest::StatusCode::UNAUTHORIZED, "attempt {attempt}");
        let html = wrong.text().await.unwrap();
        assert!(html.contains("The email address or password is not right, or the account is locked"), "{html}");
    }
    let locked = try_password(&http, &base, PASSWORD).await;
    assert_eq!(locked.status(), reqwest::StatusCode::UNAUTHORIZED);
    assert!(
        locked.text().await.unwrap().contains("The email address or password is not right, or the account is locked")
    );

    // Guessing from one network is slowed down: sign-ins, then enrolment codes, get 429.
    let mut limited = None;
    for _ in 0..30 {
        let r = try_password(&http, &base, "another guess").await;
        if r.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r.text().await.unwrap());
            break;
        }
    }
    assert!(limited.is_some_and(|html| html.contains("Too many sign-in attempts")), "sign-in is rate limited");
    let mut enrol_limited = false;
    for n in 0..80 {
        let r = http
            .post(format!("{base}/api/v1/enrol"))
            .json(&serde_json::json!({ "code": format!("GUES-S{n:03}"), "device_name": "guesser" }))
            .send()
            .await
            .unwrap();
        if r.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
            enrol_limited = true;
            break;
        }
    }
    assert!(enrol_limited, "enrolment is rate limited");

    // The stylesheet is the hub's own.
    let css = http.get(format!("{base}/assets/nhsuk.css")).send().await.unwrap();
    assert_eq!(css.status(), reqwest::StatusCode::OK);
    assert!(css.text().await.unwrap().contains(".nhsuk-header"), "the NHS.UK frontend CSS is served by the hub");
    world.hub.stop().await;
}

/// Ideas about people of three providers, dated in the latest week a commissioner can see, and
/// the council's agreements: Sunrise's people in NB3 only, and all of Meadow Care's. Sunrise has
/// 4 people in NB3 (one with three ideas) and 2 in NB1; Meadow 3 in NB3; Other Care, with no
/// agreement, 10 in NB3. Returns the week and Meadow's manager's device.
async fn commissioned_ideas(world: &World, dir: &Path) -> (NaiveDate, TestDevice) {
    let week = *trends::countable_weeks(world.hub.clock.today()).last().unwrap();
    let mut meadow = None;
    let mut generator = Generator::new(77);
    for (name, people) in [("Sunrise Home Care", 6), ("Meadow Care", 3), ("Other Care", 10)] {
        let (org, manager) = if name == "Sunrise Home Care" {
            (world.hub.provider, None)
        } else {
            let id = Uuid::new_v4();
            let org = Organisation { id, name: name.into(), kind: OrgKind::Provider, partner_kind: None };
            world.hub.storage.create_organisation(org).await.unwrap();
            (id, Some(world.hub.device_in(dir, id, "M001", Role::Manager).await))
        };
        let device = manager.as_ref().unwrap_or(&world.manager);
        for n in 0..people {
            let mut person = generator.person();
            person.address.postcode = if n >= 4 && name == "Sunrise Home Care" { "NB1 4AA" } else { "NB3 2QT" }.into();
            person.consent = Default::default();
            device.store.lock().await.put(&person).unwrap();
            for again in 0..if n == 0 { 3 } else { 1 } {
                let mut i = idea(&person, "Grab rail by the back door", "", Urgency::Soon);
                i.author = StaffId::new("M001");
                i.created_at = at(week + Days::new(2), 10 + again, 0);
                device.store.lock().await.put(&i).unwrap();
            }
        }
        device.sync().await;
        if name == "Meadow Care" {
            admin::set_agreement(&world.hub.storage, "test", world.council, org, &[]).await.unwrap();
        } else if name == "Sunrise Home Care" {
            admin::set_agreement(&world.hub.storage, "test", world.council, org, &["nb3".into()]).await.unwrap();
        }
        if let Some(m) = manager
            && name == "Meadow Care"
        {
            meadow = Some(m);
        }
    }
    (week, meadow.unwrap())
}

/// A commissioner counts people, not records, of the providers and districts of its
/// agreements, at least 5 from 2 providers, rounded; a week once published never changes.
#[tokio::test(flavor = "multi_thread")]
async fn a_commissioner_counts_people_of_its_agreements_only_in_weeks_that_never_change() {
    let dir = tempfile::tempdir().unwrap();
    let world = set_up(dir.path()).await;
    let hub = Hub::with_clock(world.hub.storage.clone(), world.hub.clock.clone());
    let (_, commissioner) = hub.sign_in("commissioning@council.example", PASSWORD).await.unwrap();
    // No agreement yet: nothing is counted, and no empty week is published to stand for good.
    let none = hub.trends(&commissioner).await.unwrap();
    assert!(none.scope.is_empty() && none.weeks.is_empty(), "{none:?}");

    let (week, meadow) = commissioned_ideas(&world, dir.path()).await;
    // Nothing is counted until the providers' managers release the week.
    let unreleased = hub.trends(&commissioner).await.unwrap();
    assert!(unreleased.weeks.iter().all(|w| w.week != week), "{unreleased:?}");
    assert!(unreleased.waiting.iter().any(|w| w.week == week && w.waiting_for == 2 && w.providers == 2));
    // Every provider releases, Other Care too: it has no agreement with the council, so its
    // people still never count.
    for org in [world.hub.provider, meadow_org(&world).await, other_care_org(&world).await] {
        release(&world, org, week).await;
    }
    let seen = hub.trends(&commissioner).await.unwrap();
    let scope = vec![("Meadow Care".to_string(), vec![]), ("Sunrise Home Care".to_string(), vec!["NB3".to_string()])];
    assert_eq!(seen.scope, scope);
    // Older weeks, never released, were published at their deadline; the week before the latest
    // may still be waiting, depending on the day of the week.
    assert_eq!(seen.weeks.len() + seen.waiting.len(), trends::WEEKS_SHOWN, "{seen:?}");
    let last = seen.weeks.last().unwrap();
    assert_eq!(last.week, week);
    // 4 of Sunrise's people in NB3 and Meadow's 3: 7 people, shown as 5. Counting records would
    // give 9 (shown 10); every provider and district, 19 (shown 20).
    assert_eq!(last.people(&Measure::Idea, ALL_AREAS), Some(5), "{last:?}");
    assert_eq!(last.people(&Measure::Idea, "NB3"), Some(5));
    assert_eq!(last.people(&Measure::IdeaFor(PartnerKind::OtEquipment), ALL_AREAS), Some(5));
    assert!(!last.cells.iter().any(|c| c.area == "NB1"), "NB1 is outside the agreement: {last:?}");
    // set_up's ideas are dated today: not in a counted week yet.
    assert!(seen.weeks.iter().all(|w| w.week < world.hub.clock.today()));

    // Records for that week that arrive late do not change it: views over time never differ.
    let mut generator = Generator::new(78);
    for _ in 0..6 {
        let mut person = generator.person();
        person.address.postcode = "NB3 2QT".into();
        person.consent = Default::default();
        let mut i = idea(&person, "Grab rail by the back door", "", Urgency::Soon);
        i.author = StaffId::new("M001");
        i.created_at = at(week + Days::new(3), 9, 0);
        meadow.store.lock().await.put(&person).unwrap();
        meadow.store.lock().await.put(&i).unwrap();
    }
    meadow.sync().await;
    assert_eq!(hub.trends(&commissioner).await.unwrap(), seen, "a published week stands");
    // A week on, the next week waits for its release and the earlier one is as it was.
    world.hub.clock.advance(std::time::Duration::from_secs(7 * 24 * 3600));
    let later = hub.trends(&commissioner).await.unwrap();
    assert!(later.waiting.iter().any(|w| w.week == week + Days::new(7) && w.waiting_for == 2), "{later:?}");
    assert_eq!(later.weeks.iter().find(|w| w.week == week), Some(last));

    // A hub upgraded from before weekly facts fills them in when it starts: another commissioner
    // with the same agreements, counting that week for the first time, sees all 13 people.
    let db = rusqlite::Connection::open(dir.path().join("hub.db")).unwrap();
    db.execute("DELETE FROM doc_facts WHERE kind IN ('insight', 'note')", []).unwrap();
    assert!(hub.backfill_facts().await.unwrap() >= 13);
    let icb = world.hub.organisation("North ICB", OrgKind::Partner, Some("icb")).await;
    for (provider, districts) in [(world.hub.provider, vec!["NB3".to_string()]), (meadow_org(&world).await, vec![])] {
        admin::set_agreement(&world.hub.storage, "test", icb, provider, &districts).await.unwrap();
    }
    hub.create_web_user(icb, "analyst@icb.example", "Ana Lyst", WebRole::Commissioner, PASSWORD).await.unwrap();
    let (_, analyst) = hub.sign_in("analyst@icb.example", PASSWORD).await.unwrap();
    let theirs = hub.trends(&analyst).await.unwrap();
    let counted = theirs.weeks.iter().find(|w| w.week == week).unwrap();
    assert_eq!(counted.people(&Measure::Idea, ALL_AREAS), Some(15), "13 people, rounded");

    // A partner may not see trends, nor a commissioner an inbox.
    let (_, ola) = hub.sign_in("ola@council.example", PASSWORD).await.unwrap();
    assert!(hub.trends(&ola).await.is_err());
    assert!(hub.inbox(&commissioner, &Default::default()).await.is_err());
    world.hub.stop().await;
}

/// A provider's week released, as its manager's button does (straight to storage: the page's
/// own test releases through the hub).
async fn release(world: &World, provider: Uuid, week: NaiveDate) {
    let release = FeedRelease {
        provider,
        week: week.to_string(),
        released_by: "A manager (manager@provider.example)".into(),
        released_at: Utc::now().timestamp_millis(),
    };
    world.hub.storage.release_week(release).await.unwrap();
}

async fn other_care_org(world: &World) -> Uuid {
    let orgs = world.hub.storage.organisations().await.unwrap();
    orgs.into_iter().find(|o| o.name == "Other Care").map(|o| o.id).unwrap()
}

/// A signed-in session over plain HTTP: its cookie and its form token.
async fn http_session(http: &reqwest::Client, base: &str, email: &str) -> (String, String) {
    let page = http.get(format!("{base}/sign-in")).send().await.unwrap();
    let cookie = page.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let html = page.text().await.unwrap();
    let token = html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let signed_in = http
        .post(format!("{base}/sign-in"))
        .header("cookie", cookie)
        .form(&[("email", email), ("password", PASSWORD), ("csrf", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), reqwest::StatusCode::SEE_OTHER, "{email} signs in");
    let session = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("doorstep_session="))
        .unwrap();
    let session = session.split(';').next().unwrap().to_string();
    let home = http.get(format!("{base}/")).header("cookie", &session).send().await.unwrap();
    let home = home.headers()["location"].to_str().unwrap().to_string();
    let html = http.get(format!("{base}{home}")).header("cookie", &session).send().await.unwrap().text().await.unwrap();
    let csrf = html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    (session, csrf)
}

/// A provider's manager reviews their own people's week on /feed and releases it; the
/// commissioner's page says the week is waiting until every provider of its agreements has
/// released it, and then shows it. A manager cannot release another provider's week, whatever
/// the form says (403, audited), nor open a commissioner's page, nor a commissioner the feed.
#[tokio::test(flavor = "multi_thread")]
async fn a_manager_releases_the_week_and_only_then_the_commissioner_sees_it() {
    let dir = tempfile::tempdir().unwrap();
    let world = set_up(dir.path()).await;
    let base = world.hub.url.clone();
    let hub = Hub::with_clock(world.hub.storage.clone(), world.hub.clock.clone());
    let (week, _meadow) = commissioned_ideas(&world, dir.path()).await;
    let meadow = meadow_org(&world).await;
    world.hub.web_user(meadow, "manager@meadow.example", "Mia Meadow", WebRole::Manager).await;
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let (council, _) = http_session(&http, &base, "commissioning@council.example").await;
    let (mo, mo_csrf) = http_session(&http, &base, "manager@sunrise.example").await;
    let get = |path: &str, session: &str| http.get(format!("{base}{path}")).header("cookie", session).send();
    let short = week.format("%-d %b").to_string();

    let page = get("/trends", &council).await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("Week of {short}: waiting for 2 of 2 providers to release")), "{page}");

    // Sunrise's manager sees their own people in the week, by district, exactly (4 in NB3;
    // its 2 in NB1 are outside the council's agreement), where they go, and the rules.
    let feed = get("/feed", &mo).await.unwrap();
    assert_eq!(feed.status(), reqwest::StatusCode::OK);
    let feed = feed.text().await.unwrap();
    assert!(feed.contains("Released weeks go to <strong>Northbrook Adult Social Care</strong>"), "{feed}");
    assert!(feed.contains("Only people in NB3 are counted."), "{feed}");
    let row = |area: &str, n: usize| {
        format!(
            "An idea raised</th><td class=\"nhsuk-table__cell\">{area}</td><td class=\"nhsuk-table__cell\">{n}</td>"
        )
    };
    assert!(feed.contains(&row("NB3", 4)) && feed.contains(&row(ALL_AREAS, 4)), "{feed}");
    assert!(!feed.contains("NB1"), "outside every agreement: {feed}");
    assert!(feed.contains("at least 5 people from at least 2 providers"), "{feed}");
    assert!(feed.contains(&format!("Release week of {short}")), "{feed}");

    // Meadow's week, released by Sunrise's manager: refused and audited, nothing stored.
    let post = |form: Vec<(&'static str, String)>| {
        http.post(format!("{base}/feed/release")).header("cookie", &mo).form(&form).send()
    };
    let theirs = post(vec![("csrf", mo_csrf.clone()), ("provider", meadow.to_string()), ("week", week.to_string())]);
    assert_eq!(theirs.await.unwrap().status(), reqwest::StatusCode::FORBIDDEN);
    assert!(world.hub.storage.releases_of(meadow).await.unwrap().is_empty());
    let audit = world.hub.storage.audit_log(200).await.unwrap();
    assert!(
        audit.iter().any(|e| !e.allowed && e.action == "release_feed" && e.actor.contains("manager@sunrise.example")),
        "{audit:?}"
    );
    // Without the session's form token: refused.
    let own = world.hub.provider.to_string();
    let forged = post(vec![("csrf", "guess".into()), ("provider", own.clone()), ("week", week.to_string())]);
    assert_eq!(forged.await.unwrap().status(), reqwest::StatusCode::FORBIDDEN);
    assert!(world.hub.storage.releases_of(world.hub.provider).await.unwrap().is_empty());

    let released = post(vec![("csrf", mo_csrf.clone()), ("provider", own), ("week", week.to_string())]).await.unwrap();
    assert_eq!(released.status(), reqwest::StatusCode::SEE_OTHER);
    let feed = get("/feed", &mo).await.unwrap().text().await.unwrap();
    assert!(feed.contains("Mo Manager (manager@sunrise.example)"), "who released it: {feed}");
    assert!(!feed.contains(&format!("Release week of {short}")), "released once: {feed}");
    assert!(audit_has(&world, "release_feed", true).await && audit_has(&world, "feed", true).await);

    // One of two released: still waiting, nothing counted.
    let page = get("/trends", &council).await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("Week of {short}: waiting for 1 of 2 providers to release")), "{page}");
    let (_, commissioner) = hub.sign_in("commissioning@council.example", PASSWORD).await.unwrap();
    assert!(hub.trends(&commissioner).await.unwrap().weeks.iter().all(|w| w.week != week));

    // Meadow's manager releases theirs: the week is counted and shown.
    let (_, mia) = hub.sign_in("manager@meadow.example", PASSWORD).await.unwrap();
    hub.release_week(&mia, &meadow.to_string(), &week.to_string()).await.unwrap();
    let page = get("/trends", &council).await.unwrap().text().await.unwrap();
    assert!(!page.contains(&format!("Week of {short}: waiting")), "{page}");
    let counted = hub.trends(&commissioner).await.unwrap();
    let counted = counted.weeks.iter().find(|w| w.week == week).unwrap();
    assert_eq!(counted.people(&Measure::Idea, ALL_AREAS), Some(5), "7 people of the agreements, rounded");
    // Each measure's chart over the weeks, with its numbers beneath, weeks as rows.
    for heading in [
        "People with a sign new or worse, by week",
        "People unsteady or with a fall, by week",
        "People with a NEWS2 of 5 or more, by week",
        "People carers raised an idea about, by week",
    ] {
        assert!(page.contains(&format!("{heading}</title>")), "a chart for {heading}: {page}");
    }
    assert!(
        page.contains(&format!(
            "<th class=\"nhsuk-table__header\" scope=\"row\">w/c {short}</th><td class=\"nhsuk-table__cell\">5</td>"
        )),
        "{page}"
    );
    // Weeks too small to show are gaps the chart's note counts, and the table names.
    assert!(page.contains("– too few to show: "), "gaps are noted: {page}");
    assert!(page.contains("<td class=\"nhsuk-table__cell\">too few to show</td>"), "and named: {page}");
    let csv = get("/trends.csv", &council).await.unwrap().text().await.unwrap();
    assert!(csv.contains(&format!("\"{week}\",\"An idea raised\",\"All areas\",\"5\"")), "{csv}");

    // Each role keeps to its own pages.
    assert_eq!(get("/trends", &mo).await.unwrap().status(), reqwest::StatusCode::FORBIDDEN);
    assert_eq!(get("/feed", &council).await.unwrap().status(), reqwest::StatusCode::FORBIDDEN);
    world.hub.stop().await;
}

async fn audit_has(world: &World, action: &str, allowed: bool) -> bool {
    let audit = world.hub.storage.audit_log(500).await.unwrap();
    audit.iter().any(|e| e.action == action && e.allowed == allowed)
}

/// A week that not every provider releases is published at the deadline with what was released,
/// and stands: a provider releasing late changes nothing, so comparing views never reveals its
/// people by subtraction.
#[tokio::test(flavor = "multi_thread")]
async fn at_the_deadline_a_week_is_published_with_what_was_released_and_stands() {
    let dir = tempfile::tempdir().unwrap();
    let world = set_up(dir.path()).await;
    let hub = Hub::with_clock(world.hub.storage.clone(), world.hub.clock.clone());
    let (week, _) = commissioned_ideas(&world, dir.path()).await;
    let (meadow, other) = (meadow_org(&world).await, other_care_org(&world).await);
    // An ICB with all three providers' people: Sunrise 6, Meadow 3, Other Care 10.
    let icb = world.hub.organisation("North ICB", OrgKind::Partner, Some("icb")).await;
    for provider in [world.hub.provider, meadow, other] {
        admin::set_agreement(&world.hub.storage, "test", icb, provider, &[]).await.unwrap();
    }
    hub.create_web_user(icb, "analyst@icb.example", "Ana Lyst", WebRole::Commissioner, PASSWORD).await.unwrap();
    let (_, analyst) = hub.sign_in("analyst@icb.example", PASSWORD).await.unwrap();
    let (_, mo) = hub.sign_in("manager@sunrise.example", PASSWORD).await.unwrap();
    hub.release_week(&mo, &world.hub.provider.to_string(), &week.to_string()).await.unwrap();
    release(&world, meadow, week).await;

    let before = hub.trends(&analyst).await.unwrap();
    assert!(before.weeks.iter().all(|w| w.week != week));
    let waiting = before.waiting.iter().find(|w| w.week == week).unwrap();
    assert_eq!((waiting.waiting_for, waiting.providers), (1, 3));
    assert_eq!(waiting.deadline, week + Days::new(7 + trends::RELEASE_DEADLINE_DAYS));

    // The deadline passes: Sunrise's 6 and Meadow's 3 are counted (shown 10); Other Care's 10
    // were never released (all 19 would show 20).
    let days = (waiting.deadline - world.hub.clock.today()).num_days();
    world.hub.clock.advance(std::time::Duration::from_secs(u64::try_from(days).unwrap() * 24 * 3600));
    let published = hub.trends(&analyst).await.unwrap();
    let counted = published.weeks.iter().find(|w| w.week == week).unwrap().clone();
    assert_eq!(counted.people(&Measure::Idea, ALL_AREAS), Some(10), "{counted:?}");
    assert!(published.waiting.iter().all(|w| w.week != week));

    // Other Care releases late: the published week stands.
    release(&world, other, week).await;
    let again = hub.trends(&analyst).await.unwrap();
    assert_eq!(again.weeks.iter().find(|w| w.week == week), Some(&counted));
    world.hub.stop().await;
}

/// A partner answering "Action taken" may judge that acting on it likely avoided a hospital
/// admission: stored in the item, shown in its history, synced to the provider; any other
/// answer carries no judgement whatever the form says.
#[tokio::test(flavor = "multi_thread")]
async fn a_partner_judges_whether_acting_likely_avoided_an_admission() {
    let dir = tempfile::tempdir().unwrap();
    let world = set_up(dir.path()).await;
    let base = world.hub.url.clone();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let (ola, csrf) = http_session(&http, &base, "ola@council.example").await;
    let answer = |id: SharedItemId, outcome: &'static str, avoided: &'static str| {
        http.post(format!("{base}/items/{id}/respond"))
            .header("cookie", &ola)
            .form(&[("csrf", csrf.as_str()), ("outcome", outcome), ("message", "Seen to."), ("avoided", avoided)])
            .send()
    };
    let page = http.get(format!("{base}/items/{}", world.urgent.id)).header("cookie", &ola).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("did acting on this likely avoid a hospital admission?</legend>"), "{page}");
    assert!(page.contains("id=\"avoided-not_sure\""), "{page}");

    assert_eq!(answer(world.urgent.id, "action_taken", "yes").await.unwrap().status(), reqwest::StatusCode::SEE_OTHER);
    assert_eq!(answer(world.routine.id, "acknowledged", "yes").await.unwrap().status(), reqwest::StatusCode::SEE_OTHER);
    let page = http.get(format!("{base}/items/{}", world.urgent.id)).header("cookie", &ola).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("Ola Adeyemi judged that an admission was likely avoided."), "{page}");
    let page = http.get(format!("{base}/items/{}", world.routine.id)).header("cookie", &ola).send().await.unwrap();
    assert!(!page.text().await.unwrap().contains("judged that"), "no judgement with an acknowledgement");

    world.manager.sync().await;
    let store = world.manager.store.lock().await;
    let urgent: SharedItem = store.get(&world.urgent.id.to_string()).unwrap();
    assert_eq!(urgent.responses.last().unwrap().admission_likely_avoided, Some(true));
    assert_eq!(doorstep_model::outcome::admission_likely_avoided(&urgent), Some(true));
    let routine: SharedItem = store.get(&world.routine.id.to_string()).unwrap();
    assert_eq!(routine.responses.last().unwrap().admission_likely_avoided, None);
    drop(store);
    world.hub.stop().await;
}

async fn meadow_org(world: &World) -> Uuid {
    let orgs = world.hub.storage.organisations().await.unwrap();
    orgs.into_iter().find(|o| o.name == "Meadow Care").map(|o| o.id).unwrap()
}

/// The accessibility check itself can fail: a field with no label is reported.
#[tokio::test(flavor = "multi_thread")]
async fn the_accessibility_check_reports_an_unlabelled_field() {
    let dir = tempfile::tempdir().unwrap();
    let (_driver, driver_url) = start_chromedriver().await;
    let client = open_browser(&driver_url, &dir.path().join("chromium")).await;
    client.goto("data:text/html,<html lang='en'><title>t</title><main><input id='q'></main></html>").await.unwrap();
    let violations = accessibility_violations(&client).await;
    assert!(violations.iter().any(|v| v.starts_with("label ")), "{violations:?}");
    client.close().await.unwrap();
}
