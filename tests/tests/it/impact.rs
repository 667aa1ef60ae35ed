//! What carers' ideas led to (`/impact`), end to end on a real hub on SQLite: two providers'
//! devices push ideas, share them with the council, the council answers "action taken" with its
//! judgement, the office answers "did it help?" and carers record admissions; a commissioner
//! sees people at each step across its agreements only, small numbers hidden and the rest
//! rounded; a provider's manager sees their own provider; a partner is refused.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use chrono::{Duration, Utc};
use doorstep_demo::{Generator, at};
use doorstep_hub::impact::{Impact, Stage};
use doorstep_hub::sharing::WebError;
use doorstep_hub::storage::{HubStorage, OrgKind, Organisation, WebRole};
use doorstep_hub::{Hub, SqliteStorage, admin};
use doorstep_model::outcome::{FollowUp, HelpAnswer, OutcomeKind, OutcomeLinks, PersonOutcome};
use doorstep_model::{
    ConsentBasis, Insight, InsightId, InsightStatus, PartnerKind, PartnerOrg, ProviderRef, ResponseOutcome,
    ShareChoices, SharedItem, SharedItemId, StaffId, Urgency,
};
use doorstep_protocol::Role;
use doorstep_tests::partners::{COUNCIL, PASSWORD};
use doorstep_tests::{TestDevice, TestHub, today};
use uuid::Uuid;

/// People at `stage` in the row labelled `label`.
fn cell(rows: &[doorstep_hub::impact::ImpactRow], label: &str, stage: Stage) -> Option<u64> {
    let row = rows.iter().find(|r| r.label == label).unwrap_or_else(|| panic!("a row for {label}: {rows:?}"));
    row.people[Stage::ALL.iter().position(|s| *s == stage).unwrap()]
}

/// `people` people of one provider, each with an idea shared with the council; the first
/// `helped` answered "it helped" by the office, the first `admitted` admitted a week after the
/// council acted. Returns the shared items, for the council to answer.
async fn ideas_shared(
    device: &TestDevice,
    provider: ProviderRef,
    council: &PartnerOrg,
    seed: u64,
    people: usize,
    helped: usize,
    admitted: usize,
) -> Vec<(SharedItem, Insight)> {
    let mut generator = Generator::new(seed);
    let mut shared = Vec::new();
    for n in 0..people {
        let mut person = generator.person();
        person.address.postcode = "NB3 2QT".into();
        let idea = Insight {
            follow_up: (n < helped).then(|| FollowUp {
                answer: HelpAnswer::Yes,
                by: "Mo Manager".into(),
                at: Utc::now(),
                detail: String::new(),
            }),
            id: InsightId(Uuid::new_v4()),
            person_id: Some(person.id),
            author: StaffId::new("M001"),
            created_at: Utc::now() - Duration::days(40),
            summary: "Grab rail by the back door".into(),
            detail: String::new(),
            suggested_action: "OT assessment".into(),
            who_could_act: vec![PartnerKind::OtEquipment],
            urgency: Urgency::Soon,
            consent_basis: ConsentBasis::NotIdentifiable,
            status: InsightStatus::Submitted,
            comments: vec![],
            shares: vec![],
        };
        let item = SharedItem::from_insight(
            SharedItemId(Uuid::new_v4()),
            &idea,
            provider.clone(),
            council.clone(),
            "So the OT can assess",
            "M001",
            Utc::now() - Duration::days(39),
            None,
            None,
            ShareChoices::default(),
        );
        let mut store = device.store.lock().await;
        store.put(&person).unwrap();
        store.put(&idea).unwrap();
        store.put(&item).unwrap();
        if n < admitted {
            let visit = generator.visit(&person, at(today(), 9, 0));
            store.put(&visit).unwrap();
            let mut note = generator.note(&visit);
            note.outcomes.push(PersonOutcome {
                key: Uuid::new_v4().to_string(),
                kind: OutcomeKind::Admitted,
                day: today(),
                by: StaffId::new("M001"),
                at: Utc::now(),
                links: OutcomeLinks::default(),
            });
            store.put(&note).unwrap();
        }
        drop(store);
        shared.push((item, idea));
    }
    device.sync().await;
    shared
}

async fn provider(hub: &TestHub<SqliteStorage>, name: &str) -> Uuid {
    let id = Uuid::new_v4();
    hub.storage
        .create_organisation(Organisation { id, name: name.into(), kind: OrgKind::Provider, partner_kind: None })
        .await
        .unwrap();
    id
}

async fn set_up(dir: &Path) -> (TestHub<SqliteStorage>, Hub<SqliteStorage>) {
    let storage = SqliteStorage::open(&dir.join("hub.db")).unwrap();
    let hub = TestHub::start(storage).await;
    let partners = hub.partners().await;
    let council = PartnerOrg { id: partners.council, name: COUNCIL.into(), kind: PartnerKind::CouncilAdultSocialCare };
    let meadow = provider(&hub, "Meadow Care").await;
    let other = provider(&hub, "Other Care").await;
    for (org, email, name, role) in [
        (council.id, "ola@council.example", "Ola Adeyemi", WebRole::Partner),
        (council.id, "commissioning@council.example", "Chris Commissioner", WebRole::Commissioner),
        (hub.provider, "manager@sunrise.example", "Mo Manager", WebRole::Manager),
    ] {
        hub.web_user(org, email, name, role).await;
    }
    // The council commissions Sunrise and Meadow, not Other Care.
    admin::set_agreement(&hub.storage, "test", council.id, hub.provider, &[]).await.unwrap();
    admin::set_agreement(&hub.storage, "test", council.id, meadow, &[]).await.unwrap();

    let sunrise_office = hub.device(dir, "M001", Role::Manager).await;
    let meadow_office = hub.device_in(dir, meadow, "M001", Role::Manager).await;
    let other_office = hub.device_in(dir, other, "M001", Role::Manager).await;
    let refs = |id: Uuid, name: &str| ProviderRef { id, name: name.into() };
    let mut shared = ideas_shared(&sunrise_office, refs(hub.provider, "Sunrise Home Care"), &council, 1, 6, 4, 3).await;
    shared.extend(ideas_shared(&meadow_office, refs(meadow, "Meadow Care"), &council, 2, 6, 3, 3).await);
    shared.extend(ideas_shared(&other_office, refs(other, "Other Care"), &council, 3, 10, 10, 10).await);

    let service = Hub::with_clock(hub.storage.clone(), hub.clock.clone());
    let (_, ola) = service.sign_in("ola@council.example", PASSWORD).await.unwrap();
    for (item, _) in &shared {
        service
            .respond_judged(&ola, item.id.0, ResponseOutcome::ActionTaken, "Rail fitted.", Some(true))
            .await
            .unwrap();
    }
    (hub, service)
}

fn provider_row_is(impact: &Impact, label: &str) -> bool {
    impact.by_provider.iter().any(|r| r.label == label)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_commissioner_sees_what_ideas_led_to_across_its_agreements_only() {
    let dir = tempfile::tempdir().unwrap();
    let (hub, service) = set_up(dir.path()).await;

    let (_, chris) = service.sign_in("commissioning@council.example", PASSWORD).await.unwrap();
    let impact = service.impact(&chris).await.unwrap();
    // Twelve people from two providers at each step up to action taken: shown as 10.
    for stage in [Stage::Raised, Stage::Shared, Stage::ActionTaken, Stage::AdmissionLikelyAvoided] {
        assert_eq!(cell(&impact.by_partner, COUNCIL, stage), Some(10), "{stage:?}");
    }
    // Seven said it helped (four and three): 5; six admitted within the month: 5.
    assert_eq!(cell(&impact.by_partner, COUNCIL, Stage::Helped), Some(5));
    assert_eq!(cell(&impact.by_partner, COUNCIL, Stage::HospitalAfterAction), Some(5));
    assert_eq!(cell(&impact.by_kind, PartnerKind::OtEquipment.label(), Stage::ActionTaken), Some(10));
    // By provider: each is one provider by design; three admitted is too few to show.
    assert_eq!(cell(&impact.by_provider, "Sunrise Home Care", Stage::ActionTaken), Some(5));
    assert_eq!(cell(&impact.by_provider, "Meadow Care", Stage::HospitalAfterAction), None);
    // Other Care's ten people are outside the agreement: no row, and not in any figure.
    assert!(!provider_row_is(&impact, "Other Care"), "{:?}", impact.by_provider);

    // A provider's manager sees their own provider only.
    let (_, mo) = service.sign_in("manager@sunrise.example", PASSWORD).await.unwrap();
    let own = service.impact(&mo).await.unwrap();
    assert_eq!(own.by_provider.len(), 1);
    assert!(provider_row_is(&own, "Sunrise Home Care"));
    assert_eq!(cell(&own.by_partner, COUNCIL, Stage::ActionTaken), None, "one provider's people, by partner");

    // A partner is refused, and the refusal is audited.
    let (secret, ola) = service.sign_in("ola@council.example", PASSWORD).await.unwrap();
    assert!(matches!(service.impact(&ola).await, Err(WebError::Forbidden)));
    let http = reqwest::Client::new();
    let page = http.get(format!("{}/impact", hub.url)).header("cookie", format!("doorstep_session={secret}"));
    assert_eq!(page.send().await.unwrap().status(), reqwest::StatusCode::FORBIDDEN);
    let refused = hub.storage.audit_log(500).await.unwrap();
    assert!(refused.iter().any(|e| e.action == "impact" && !e.allowed), "the refusal is in the audit log");

    // The page, as the commissioner's browser gets it.
    let (secret, _) = service.sign_in("commissioning@council.example", PASSWORD).await.unwrap();
    let page = http.get(format!("{}/impact", hub.url)).header("cookie", format!("doorstep_session={secret}"));
    let html = page.send().await.unwrap().text().await.unwrap();
    assert!(html.contains("What carers&#39; ideas led to") || html.contains("What carers' ideas led to"), "{html}");
    assert!(html.contains("Partner judged an admission likely avoided"));
    assert!(!html.contains("Other Care"));
    hub.stop().await;
}
