//! The device core as the app's commands use it, against a real hub on a loopback port: the
//! session (enrolment, PIN, lock), a carer's visit from check-in to check-out, signing out, and
//! sharing an idea under consent.

use std::path::Path;
use std::time::Duration;

use doorstep_commands::{
    DayArgs, EnrolArgs, ErrorCode, IdeaArgs, NarrativeArgs, ShareArgs, SoftSignArgs, TaskArgs, VisitArgs, VitalsArgs,
};
use doorstep_device::{Device, LOCK_AFTER};
use doorstep_hub::sqlite::SqliteStorage;
use doorstep_hub::storage::{HubStorage, OrgKind, Organisation};
use doorstep_model::news2::News2Assessment;
use doorstep_model::{Acvpu, Comparison, PartnerKind, PartnerOrg, Role, SoftSign, Urgency, VisitStatus, VitalSigns};
use doorstep_tests::{TestHub, today};
use uuid::Uuid;

async fn hub(dir: &Path) -> TestHub<SqliteStorage> {
    TestHub::start(SqliteStorage::open(&dir.join("hub.db")).expect("hub storage")).await
}

/// A device enrolled through the core, as the enrolment screen does it.
async fn enrolled(hub: &TestHub<SqliteStorage>, dir: &Path, staff: &str, role: Role, lock_after: Duration) -> Device {
    let device = Device::open(dir.join(format!("{staff}.db")), lock_after).expect("open");
    let code = hub.code(staff, role).await;
    device
        .enrol(EnrolArgs {
            hub_url: hub.url.clone(),
            code,
            device_name: format!("{staff}'s tablet"),
            pin: "2468".into(),
        })
        .await
        .expect("enrol");
    device
}

/// The office's device with the demo caseload, synced to the hub.
async fn office(hub: &TestHub<SqliteStorage>, dir: &Path) -> Device {
    let device = enrolled(hub, dir, "M001", Role::Manager, LOCK_AFTER).await;
    doorstep_demo::load_demo(&mut *device.store().lock().await, today()).expect("demo");
    device.sync_now().await.expect("office sync");
    device
}

fn vitals_scoring_five() -> VitalSigns {
    VitalSigns {
        respiration_rate: Some(21),
        spo2_percent: Some(95),
        on_oxygen: Some(false),
        systolic_bp: Some(108),
        pulse: Some(96),
        consciousness: Some(Acvpu::Alert),
        temperature_c: Some(37.9),
    }
}

#[tokio::test]
async fn enrolment_sets_a_pin_and_the_device_locks_and_unlocks() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let device = Device::open(dir.path().join("tablet.db"), LOCK_AFTER).expect("open");
    assert!(!device.session().await.expect("session").enrolled);
    assert_eq!(device.today(DayArgs { day: None }).await.unwrap_err().code, ErrorCode::Locked);

    let code = hub.code("C001", Role::Carer).await;
    let args = |pin: &str, code: &str| EnrolArgs {
        hub_url: hub.url.clone(),
        code: code.into(),
        device_name: "Sam's tablet".into(),
        pin: pin.into(),
    };
    assert_eq!(device.enrol(args("12", &code)).await.unwrap_err().code, ErrorCode::Invalid, "a PIN too short");
    assert_eq!(device.enrol(args("2468", "WRONG-CODE")).await.unwrap_err().code, ErrorCode::Refused);
    let session = device.enrol(args("2468", &code)).await.expect("enrol");
    assert!(session.enrolled && !session.locked);
    assert_eq!(session.staff_ref.as_deref(), Some("C001"));
    assert_eq!(session.role, Some(Role::Carer));
    assert_eq!(device.enrol(args("2468", &code)).await.unwrap_err().code, ErrorCode::Invalid, "already enrolled");

    device.lock().await.expect("lock");
    assert_eq!(device.today(DayArgs { day: None }).await.unwrap_err().code, ErrorCode::Locked);
    assert_eq!(device.unlock("1111").await.unwrap_err().code, ErrorCode::WrongPin);
    assert!(!device.unlock("2468").await.expect("unlock").locked);
    device.today(DayArgs { day: None }).await.expect("today once unlocked");
    hub.stop().await;
}

#[tokio::test]
async fn a_device_left_alone_locks_itself() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let device = enrolled(&hub, dir.path(), "C001", Role::Carer, Duration::from_millis(300)).await;
    device.today(DayArgs { day: None }).await.expect("in use");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(device.today(DayArgs { day: None }).await.unwrap_err().code, ErrorCode::Locked);
    assert!(device.session().await.expect("session").locked);
    hub.stop().await;
}

#[tokio::test]
async fn a_carer_completes_a_visit_and_cannot_sign_out_until_it_has_reached_the_office() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let _office = office(&hub, dir.path()).await;
    let tablet = enrolled(&hub, dir.path(), "C001", Role::Carer, LOCK_AFTER).await;
    tablet.sync_now().await.expect("the rota arrives");

    let today_list = tablet.today(DayArgs { day: None }).await.expect("today");
    assert!(!today_list.visits.is_empty(), "Sam has visits today");
    assert!(today_list.visits.windows(2).all(|w| w[0].starts_at <= w[1].starts_at), "in time order");
    let visit = &today_list.visits[0];
    let id = VisitArgs { visit_id: visit.id.clone() };

    let screen = tablet.check_in(&id.visit_id).await.expect("check in");
    assert_eq!(screen.visit.status, VisitStatus::InProgress);
    assert_eq!(tablet.check_in(&id.visit_id).await.unwrap_err().code, ErrorCode::Invalid, "twice");
    let task = screen.visit.tasks[0].key.clone();
    let refused = tablet
        .record_task(TaskArgs { visit_id: id.visit_id.clone(), key: task.clone(), done: false, reason: None })
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::Invalid, "not done needs a reason");
    tablet
        .record_task(TaskArgs { visit_id: id.visit_id.clone(), key: task, done: true, reason: None })
        .await
        .expect("task done");

    tablet
        .save_narrative(NarrativeArgs { visit_id: id.visit_id.clone(), narrative: "Quieter than usual.".into() })
        .await
        .expect("note");
    for sign in [SoftSign::Confusion, SoftSign::EatingDrinkingLess] {
        tablet
            .set_soft_sign(SoftSignArgs {
                visit_id: id.visit_id.clone(),
                sign,
                observed: true,
                compared_to_usual: Comparison::New,
                detail: String::new(),
            })
            .await
            .expect("soft sign");
    }
    let bad = VitalSigns { pulse: Some(400), ..vitals_scoring_five() };
    let refused = tablet.record_vitals(VitalsArgs { visit_id: id.visit_id.clone(), vitals: bad }).await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Invalid, "a pulse of 400 is a typing slip, never advice");
    let screen = tablet
        .record_vitals(VitalsArgs { visit_id: id.visit_id.clone(), vitals: vitals_scoring_five() })
        .await
        .expect("vitals");
    let Some(News2Assessment::Scored(score)) = &screen.news2 else { panic!("scored: {:?}", screen.news2) };
    assert_eq!(score.total, 5);
    assert!(screen.sbard.as_ref().is_some_and(|s| s.situation.contains("Margaret")), "the handover to read out");
    assert_eq!(screen.note.narrative, "Quieter than usual.");
    assert_eq!(screen.note.soft_signs.len(), 2);

    let idea = tablet
        .record_idea(IdeaArgs {
            person_id: screen.visit.person_id.to_string(),
            summary: "Grab rail by the back door".into(),
            detail: String::new(),
            suggested_action: "OT assessment".into(),
            who_could_act: vec![PartnerKind::OtEquipment],
            urgency: Urgency::Soon,
        })
        .await
        .expect("idea");
    assert_eq!(tablet.my_ideas().await.expect("my ideas")[0].id, idea.id);
    assert_eq!(tablet.check_out(&id.visit_id).await.expect("check out").visit.status, VisitStatus::Completed);

    // Offline, signing out would lose the visit: refused, and everything is still there.
    let address = hub.url.clone();
    let (storage, provider) = (hub.storage.clone(), hub.provider);
    hub.stop().await;
    assert!(tablet.sync_now().await.expect("badge").offline);
    let refused = tablet.sign_out().await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Unsynced, "{}", refused.message);
    assert_eq!(tablet.visit(&id.visit_id).await.expect("still here").visit.status, VisitStatus::Completed);

    // Back online: sign-out sends everything first, then forgets the device's records.
    let hub = TestHub::serve_at(storage, provider, address.trim_start_matches("http://")).await;
    let session = tablet.sign_out().await.expect("sign out");
    assert!(!session.enrolled);
    assert!(tablet.store().lock().await.people().expect("people").is_empty());
    hub.stop().await;
}

#[tokio::test]
async fn an_idea_is_shared_only_under_consent_and_with_a_purpose() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let council = Organisation {
        id: Uuid::new_v4(),
        name: "Northbrook Council".into(),
        kind: OrgKind::Partner,
        partner_kind: Some(PartnerKind::CouncilAdultSocialCare),
    };
    hub.storage.create_organisation(council.clone()).await.expect("partner");
    let office = office(&hub, dir.path()).await;
    let partners = office.partners().await.expect("partners");
    assert_eq!(
        partners,
        vec![PartnerOrg { id: council.id, name: council.name.clone(), kind: PartnerKind::CouncilAdultSocialCare }]
    );

    let people = office.store().lock().await.people().expect("people");
    let person = |given: &str| people.iter().find(|p| p.display_name.contains(given)).expect("person").id.clone();
    let idea_for = |person_id: String| IdeaArgs {
        person_id,
        summary: "Grab rail".into(),
        detail: String::new(),
        suggested_action: String::new(),
        who_could_act: vec![PartnerKind::CouncilAdultSocialCare],
        urgency: Urgency::Routine,
    };
    // Edna has no consent to share recorded.
    let edna = office.record_idea(idea_for(person("Edna"))).await.expect("idea");
    let screen = office.idea(&edna.id.to_string()).await.expect("review");
    assert!(screen.cannot_share.is_some());
    let share =
        |id: &str, purpose: &str| ShareArgs { id: id.into(), partners: partners.clone(), purpose: purpose.into() };
    let refused = office.share_idea(share(&edna.id.to_string(), "For an OT visit")).await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Invalid, "{}", refused.message);

    // Peggy agreed to the council being told: shared, once a purpose is given.
    let peggy = office.record_idea(idea_for(person("Margaret"))).await.expect("idea");
    let refused = office.share_idea(share(&peggy.id.to_string(), " ")).await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Invalid);
    let shared = office.share_idea(share(&peggy.id.to_string(), "For an OT visit")).await.expect("shared");
    assert_eq!(shared.insight.status.code(), "shared");
    assert_eq!(shared.insight.shares[0].partner.id, council.id);
    assert_eq!(shared.insight.shares[0].shared_by, "M001");
    hub.stop().await;
}
