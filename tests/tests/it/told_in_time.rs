//! A partner is told in time: when a provider shares an item, the hub e-mails the partner team's
//! mailbox (from the partner directory) through a real SMTP conversation with a mail server on
//! loopback, with no personal data in the message; a mail server that refuses for a while loses
//! nothing; and an item unanswered past its time heads the partner's inbox (headless Chromium,
//! axe-core) as it heads the office's day (see doorstep-device's `routing` test).

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::Utc;
use doorstep_demo::Generator;
use doorstep_hub::SqliteStorage;
use doorstep_hub::admin::set_partner_listing;
use doorstep_hub::partner_directory::ListingRecord;
use doorstep_hub::storage::{HubStorage, WebRole};
use doorstep_model::{
    ConsentBasis, ConsentRecord, Insight, InsightId, InsightStatus, PartnerKind, PartnerOrg, Person, ProviderRef,
    ShareChoices, SharedItem, SharedItemId, StaffId, Urgency,
};
use doorstep_protocol::Role;
use doorstep_tests::app::Screens;
use doorstep_tests::browser::{accessibility_violations, open_browser, start_chromedriver};
use doorstep_tests::partners::{COUNCIL, PASSWORD};
use doorstep_tests::smtp_sink::{SmtpSink, eventually};
use doorstep_tests::{TestDevice, TestHub, screenshots_dir};
use fantoccini::Locator;
use uuid::Uuid;

const TEAM: &str = "asc-duty@northbrook.test";

fn idea(person: &Person, summary: &str, urgency: Urgency) -> Insight {
    Insight {
        follow_up: None,
        id: InsightId(Uuid::new_v4()),
        person_id: Some(person.id),
        author: StaffId::new("C001"),
        created_at: Utc::now(),
        summary: summary.into(),
        detail: "She caught herself on the door frame twice this week, going out to the bins.".into(),
        suggested_action: "An OT home assessment".into(),
        who_could_act: vec![PartnerKind::CouncilAdultSocialCare],
        urgency,
        consent_basis: ConsentBasis::PersonConsented,
        status: InsightStatus::Submitted,
        comments: vec![],
        shares: vec![],
    }
}

async fn share(
    hub: &TestHub<SqliteStorage>,
    office: &TestDevice,
    person: &Person,
    to: &PartnerOrg,
    idea: &Insight,
) -> SharedItem {
    office.store.lock().await.put(idea).unwrap();
    let item = SharedItem::from_insight(
        SharedItemId(Uuid::new_v4()),
        idea,
        ProviderRef { id: hub.provider, name: "Sunrise Home Care".into() },
        to.clone(),
        "So the OT can assess for a grab rail",
        "M001",
        Utc::now(),
        Some(person),
        None,
        ShareChoices::default(),
    );
    assert!(item.person.is_some(), "the item names the person: the e-mail must not");
    office.store.lock().await.put(&item).unwrap();
    assert_eq!(office.sync().await.held_back, 0);
    item
}

#[tokio::test(flavor = "multi_thread")]
async fn the_partners_team_is_emailed_without_personal_data_and_overdue_items_head_the_inbox() {
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start().await;
    let storage = SqliteStorage::open(&dir.path().join("hub.db")).unwrap();
    let (hub, mail) = TestHub::start_mailing(storage, &sink.url).await;
    let partners = hub.partners().await;
    let council = PartnerOrg { id: partners.council, name: COUNCIL.into(), kind: PartnerKind::CouncilAdultSocialCare };
    let listing = ListingRecord {
        districts: vec!["NB3".into()],
        phone: "01632 960 400".into(),
        team_email: TEAM.into(),
        ..ListingRecord::default()
    };
    set_partner_listing(&hub.storage, "test", council.id, listing).await.unwrap();
    hub.web_user(council.id, "ola@council.example", "Ola Adeyemi", WebRole::Partner).await;

    let office = hub.device(dir.path(), "M001", Role::Manager).await;
    let mut person = Generator::new(7).person();
    person.address.postcode = "NB3 2QT".into();
    person.nhs_number = Some("943 476 5919".parse().unwrap());
    person.consent.council = Some(ConsentRecord {
        given: true,
        recorded_by: StaffId::new("M001"),
        recorded_at: Utc::now(),
        note: "Happy for the council to be told.".into(),
    });
    office.store.lock().await.put(&person).unwrap();

    // An urgent item: one e-mail to the team, with the provider, the urgency, when an answer is
    // due and a link, and nothing about the person or what the carer wrote.
    let rail = idea(&person, "Grab rail by the back door", Urgency::Urgent);
    let urgent = share(&hub, &office, &person, &council, &rail).await;
    let got = sink.wait_for(1, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 1, "one e-mail for one item");
    let message = &got[0];
    assert_eq!(message.to, [TEAM]);
    assert_eq!(message.from, "doorstep@hub.test");
    // Unfolded: long headers and lines are wrapped in transit.
    let text = message.data.replace("=\r\n", "").replace("\r\n ", " ");
    assert!(text.contains("Subject: Doorstep: an urgent request from Sunrise Home Care"), "{text}");
    assert!(text.contains(&format!("https://hub.test/items/{}", urgent.id)), "{text}");
    assert!(text.contains("An answer is due by "), "{text}");
    let dob = person.date_of_birth.map(|d| d.format("%d/%m/%Y").to_string()).unwrap_or_default();
    for secret in [
        person.name.given.as_str(),
        person.name.family.as_str(),
        "943 476 5919",
        "9434765919",
        "NB3 2QT",
        dob.as_str(),
        "Grab rail",
        "door frame",
        "OT home assessment",
        "So the OT can assess",
    ] {
        assert!(secret.is_empty() || !text.contains(secret), "the e-mail holds {secret:?}:\n{text}");
    }
    println!("the partner's e-mail, as the mail server received it:\n{text}");

    // The mail server refuses for a while: the message waits in the outbox, and goes once it
    // takes mail again.
    sink.refuse(true);
    let steps = idea(&person, "Steps at the front door are crumbling", Urgency::Routine);
    let routine = share(&hub, &office, &person, &council, &steps).await;
    assert!(
        eventually(
            async || hub.storage.mail_log(10).await.unwrap().iter().any(|m| m.attempts >= 1 && m.sent_at.is_none()),
            Duration::from_secs(20)
        )
        .await,
        "the refusal is noted"
    );
    let waiting = hub.storage.mail_log(10).await.unwrap();
    let waiting = waiting.iter().find(|m| m.sent_at.is_none()).unwrap();
    assert!(waiting.last_error.contains("try again later"), "{waiting:?}");
    sink.refuse(false);
    hub.clock.advance(Duration::from_secs(120));
    mail.wake();
    let got = sink.wait_for(2, Duration::from_secs(20)).await;
    assert_eq!(got.len(), 2, "sent once the server took mail again");
    assert!(
        got[1].data.contains(&routine.id.to_string()) && got[1].data.contains("a routine request"),
        "{}",
        got[1].data
    );
    // Sharing the same item again (a retried sync) sends nothing more.
    office.sync().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.messages().await.len(), 2);

    // Four days on, the urgent item is overdue (an answer was due by 5pm the working day it was
    // shared, or noon the next): it heads the partner's inbox; the routine one (ten working
    // days) is not yet.
    hub.clock.advance(Duration::from_secs(4 * 24 * 3600));
    let (_driver, driver_url) = start_chromedriver().await;
    let client = open_browser(&driver_url, &dir.path().join("chromium")).await;
    let screens = Screens { client, dir: screenshots_dir() };
    screens.client.goto(&format!("{}/sign-in", hub.url)).await.unwrap();
    screens.type_into("#email", "ola@council.example").await;
    screens.type_into("#password", PASSWORD).await;
    screens.click("button[type=submit].nhsuk-button").await;
    screens.wait_text("#inbox-counts", "2 new").await;
    let counts = screens.wait("#inbox-counts").await.text().await.unwrap();
    assert!(counts.contains("1 urgent") && counts.contains("1 overdue"), "{counts}");
    let overdue = screens.wait("#overdue").await.text().await.unwrap();
    assert!(overdue.contains("Grab rail by the back door") && overdue.contains("Was due by"), "{overdue}");
    assert!(!overdue.contains("Steps at the front door"), "{overdue}");
    // The items come before the filters, which are folded away.
    let filters_open = screens.client.find(Locator::Css("details#filters[open]")).await.is_ok();
    assert!(!filters_open, "filters folded away until used");
    screens.shot("partner-inbox-overdue").await;
    let violations = accessibility_violations(&screens.client).await;
    assert!(violations.is_empty(), "the inbox fails WCAG checks:\n{}", violations.join("\n"));
    screens.client.close().await.unwrap();

    let _ = urgent;
    hub.stop().await;
}
