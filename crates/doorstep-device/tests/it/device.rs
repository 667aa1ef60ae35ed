//! The device core as the app's commands use it, against a real hub on a loopback port: the
//! session (enrolment, PIN, lock), a carer's visit from check-in to check-out, signing out, and
//! sharing an idea under consent, each partner's shared item, their answers and stopping sharing.

use std::path::Path;
use std::time::Duration;

use doorstep_commands::{
    CheckOutArgs, DayArgs, EnrolArgs, ErrorCode, IdeaArgs, NarrativeArgs, RecordCallArgs, ShareArgs, SharedRef,
    SoftSignArgs, TaskArgs, VisitArgs, VitalsArgs,
};
use doorstep_device::{Device, LOCK_AFTER};
use doorstep_hub::Hub;
use doorstep_hub::sqlite::SqliteStorage;
use doorstep_hub::storage::{HubStorage, OrgKind, Organisation, WebRole};
use doorstep_model::news2::News2Assessment;
use doorstep_model::shared::{ResponseOutcome, SharedItem, SharedStatus};
use doorstep_model::{
    Acvpu, CallOutcome, CallTarget, Comparison, ConsentBasis, Insight, InsightStatus, PartnerKind, PartnerOrg, Role,
    SoftSign, Urgency, VisitStatus, VitalSigns,
};
use doorstep_tests::{TestHub, today};
use uuid::Uuid;

/// The PIN the tests' carers choose: six digits, not on the blocklist.
pub(crate) const PIN: &str = "246813";

/// The visit of `device`'s carer to the person whose name holds `name` today.
pub(crate) async fn visit_to(device: &Device, name: &str) -> String {
    let day = device.today(DayArgs { day: None }).await.expect("today");
    day.visits
        .iter()
        .find(|v| v.person_name.as_deref().is_some_and(|n| n.contains(name)))
        .unwrap_or_else(|| panic!("a visit to {name} today"))
        .id
        .clone()
}

pub(crate) async fn hub(dir: &Path) -> TestHub<SqliteStorage> {
    TestHub::start(SqliteStorage::open(&dir.join("hub.db")).expect("hub storage")).await
}

/// A device enrolled through the core, as the enrolment screen does it.
pub(crate) async fn enrolled(
    hub: &TestHub<SqliteStorage>,
    dir: &Path,
    staff: &str,
    role: Role,
    lock_after: Duration,
) -> Device {
    let device = Device::open(dir.join(format!("{staff}.db")), lock_after).expect("open");
    let code = hub.code(staff, role).await;
    device
        .enrol(EnrolArgs {
            hub_url: hub.url.clone(),
            code,
            device_name: format!("{staff}'s tablet"),
            pin: PIN.into(),
            hub_certificate: None,
        })
        .await
        .expect("enrol");
    device
}

/// The office's device with the demo caseload, synced to the hub.
pub(crate) async fn office(hub: &TestHub<SqliteStorage>, dir: &Path) -> Device {
    let device = enrolled(hub, dir, "M001", Role::Manager, LOCK_AFTER).await;
    doorstep_demo::load_demo(&mut device.unlocked_store().await.expect("open"), today()).expect("demo");
    device.sync_now().await.expect("office sync");
    device
}

/// A soft sign the carer noticed at a visit, as the checklist sends it.
fn noticed(visit_id: &str, sign: SoftSign, compared_to_usual: Comparison) -> SoftSignArgs {
    SoftSignArgs { visit_id: visit_id.to_string(), sign, observed: true, compared_to_usual, detail: String::new() }
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
        hub_certificate: None,
    };
    assert_eq!(device.enrol(args("12", &code)).await.unwrap_err().code, ErrorCode::Invalid, "a PIN too short");
    assert_eq!(device.enrol(args(PIN, "WRONG-CODE")).await.unwrap_err().code, ErrorCode::Refused);
    let session = device.enrol(args(PIN, &code)).await.expect("enrol");
    assert!(session.enrolled && !session.locked);
    assert_eq!(session.staff_ref.as_deref(), Some("C001"));
    assert_eq!(session.role, Some(Role::Carer));
    assert_eq!(device.enrol(args(PIN, &code)).await.unwrap_err().code, ErrorCode::Invalid, "already enrolled");

    device.lock().await.expect("lock");
    assert_eq!(device.today(DayArgs { day: None }).await.unwrap_err().code, ErrorCode::Locked);
    assert_eq!(device.unlock("1111").await.unwrap_err().code, ErrorCode::WrongPin);
    assert!(!device.unlock(PIN).await.expect("unlock").locked);
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

/// The advice the visit screen gives at home, and what reaches the office: a person who
/// responds only to voice → 999; soft signs alone → a card with the SBARD; an incomplete set
/// already High → "needs attention", marked as a lower bound.
#[tokio::test]
async fn the_visit_screen_escalates_as_the_community_rule_says_and_the_office_sees_an_incomplete_high() {
    use doorstep_model::news2::EscalationLevel;
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let office = office(&hub, dir.path()).await;
    let tablet = enrolled(&hub, dir.path(), "C001", Role::Carer, LOCK_AFTER).await;
    tablet.sync_now().await.expect("the rota arrives");
    let visits = tablet.today(DayArgs { day: None }).await.expect("today").visits;
    let (first, second) = (visits[0].id.clone(), visits[1].id.clone());

    // Soft signs alone (no kit): a card and the SBARD, before any reading.
    let screen = tablet
        .set_soft_sign(noticed(&first, SoftSign::EatingDrinkingLess, Comparison::Worse))
        .await
        .expect("soft sign");
    let advice = screen.advice.clone().expect("soft signs alone give advice");
    assert_eq!(advice.level, EscalationLevel::TellSomeoneToday);
    assert!(screen.sbard.is_some(), "and what to say on the phone");

    // Responds only to voice, everything else normal: NEWS2 3, and 999.
    let voice = VitalSigns { consciousness: Some(Acvpu::Voice), ..vitals_scoring_five() };
    let voice = VitalSigns {
        respiration_rate: Some(16),
        spo2_percent: Some(97),
        systolic_bp: Some(120),
        pulse: Some(70),
        temperature_c: Some(37.0),
        ..voice
    };
    let screen = tablet
        .record_vitals(VitalsArgs { visit_id: first.clone(), vitals: voice, checked: false, recheck: false })
        .await
        .expect("vitals");
    let Some(News2Assessment::Scored(score)) = &screen.news2 else { panic!("{:?}", screen.news2) };
    assert_eq!(score.total, 3, "the score itself is unchanged");
    assert_eq!(screen.advice.expect("advice").level, EscalationLevel::Emergency999);

    // An SpO2 of 48 can be real: asked to check it, then scored, and 999 if it is right.
    let low = VitalSigns { spo2_percent: Some(48), ..vitals_scoring_five() };
    let asked = tablet
        .record_vitals(VitalsArgs { visit_id: first.clone(), vitals: low.clone(), checked: false, recheck: false })
        .await
        .unwrap_err();
    assert_eq!(asked.code, ErrorCode::Confirm, "{}", asked.message);
    assert!(asked.message.contains("Oxygen saturation (SpO2) 48"), "{}", asked.message);
    let screen = tablet
        .record_vitals(VitalsArgs { visit_id: first.clone(), vitals: low, checked: true, recheck: false })
        .await
        .expect("checked");
    let advice = screen.advice.expect("advice");
    assert_eq!(advice.level, EscalationLevel::Emergency999);
    assert!(advice.headline.contains("If this reading is right"), "{}", advice.headline);

    // Taken again: the first set is kept with its time, and the card says what each scored.
    let again = VitalSigns { consciousness: Some(Acvpu::Alert), spo2_percent: Some(96), ..vitals_scoring_five() };
    let screen = tablet
        .record_vitals(VitalsArgs { visit_id: first.clone(), vitals: again, checked: false, recheck: true })
        .await
        .expect("the re-check");
    assert_eq!(screen.earlier.len(), 1, "the first set is kept");
    assert!(screen.earlier[0].summary.starts_with("NEWS2"), "{:?}", screen.earlier);
    assert!(screen.earlier[0].at.is_some() && screen.note.vitals_at.is_some());
    assert!(screen.sbard.expect("sbard").assessment.contains("Earlier readings at "));

    // Breathing 30 and pulse 135, nothing else: at least 6 already.
    let partial = VitalSigns { respiration_rate: Some(30), pulse: Some(135), ..VitalSigns::default() };
    let screen = tablet
        .record_vitals(VitalsArgs { visit_id: second.clone(), vitals: partial, checked: false, recheck: false })
        .await
        .expect("vitals");
    let advice = screen.advice.expect("advice");
    assert!(advice.level >= EscalationLevel::UrgentCallNow, "{advice:?}");
    assert!(!advice.action.to_lowercase().contains("carry on"));
    tablet.sync_now().await.expect("sync");
    office.sync_now().await.expect("office sync");
    let day = office.manager_day(DayArgs { day: None }).await.expect("the office's day");
    let flagged = day.attention.iter().find(|a| a.visit_id == second).expect("the incomplete set needs attention");
    assert!(flagged.reason.contains("NEWS2 at least 6"), "{}", flagged.reason);
    assert!(flagged.reason.contains("readings missing"), "{}", flagged.reason);
    hub.stop().await;
}

/// The office notes a person's plan for when they become unwell; the carer sees it with the
/// advice and says it on the phone. Only the office may note it.
#[tokio::test]
async fn the_persons_plan_reaches_the_carers_advice_and_what_they_say_on_the_phone() {
    use doorstep_commands::PlanArgs;
    use doorstep_model::PlanKind;
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let office = office(&hub, dir.path()).await;
    let tablet = enrolled(&hub, dir.path(), "C001", Role::Carer, LOCK_AFTER).await;
    tablet.sync_now().await.expect("the rota arrives");
    let visit = tablet.today(DayArgs { day: None }).await.expect("today").visits[0].clone();
    let plan = |kind| PlanArgs {
        person_id: visit.person_id.clone(),
        kind,
        summary: "For treatment at home; would not want hospital. District nurses: 01632 960 456.".into(),
    };
    assert_eq!(tablet.record_plan(plan(Some(PlanKind::Respect))).await.unwrap_err().code, ErrorCode::Invalid);
    let noted = office.record_plan(plan(Some(PlanKind::Respect))).await.expect("the office notes it");
    assert_eq!(noted.person.plan.as_ref().map(|p| p.recorded_by.as_str()), Some("M001"));
    office.sync_now().await.expect("office sync");
    tablet.sync_now().await.expect("sync");

    let screen =
        tablet.set_soft_sign(noticed(&visit.id, SoftSign::Confusion, Comparison::New)).await.expect("soft sign");
    assert_eq!(screen.plan.as_ref().map(|p| p.kind), Some(PlanKind::Respect));
    let background = screen.sbard.expect("what to say").background;
    assert!(background.contains("They have a ReSPECT plan: For treatment at home"), "{background}");
    hub.stop().await;
}

#[tokio::test]
async fn a_carer_completes_a_visit_and_cannot_sign_out_until_it_has_reached_the_office() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let office = office(&hub, dir.path()).await;
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
        .save_narrative(NarrativeArgs {
            visit_id: id.visit_id.clone(),
            narrative: "Quieter than usual.".into(),
            base: Default::default(),
        })
        .await
        .expect("note");
    for sign in [SoftSign::Confusion, SoftSign::EatingDrinkingLess] {
        tablet.set_soft_sign(noticed(&id.visit_id, sign, Comparison::New)).await.expect("soft sign");
    }
    let bad = VitalSigns { pulse: Some(400), ..vitals_scoring_five() };
    let refused = tablet
        .record_vitals(VitalsArgs { visit_id: id.visit_id.clone(), vitals: bad, checked: false, recheck: false })
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::Invalid, "a pulse of 400 is a typing slip, never advice");
    let screen = tablet
        .record_vitals(VitalsArgs {
            visit_id: id.visit_id.clone(),
            vitals: vitals_scoring_five(),
            checked: false,
            recheck: false,
        })
        .await
        .expect("vitals");
    let Some(News2Assessment::Scored(score)) = &screen.news2 else { panic!("scored: {:?}", screen.news2) };
    assert_eq!(score.total, 5);
    assert!(screen.sbard.as_ref().is_some_and(|s| s.situation.contains("Margaret")), "the handover to read out");
    let phone = screen.phone_first.clone().expect("who to phone, with the number");
    assert_eq!((phone.name.as_str(), phone.dial.as_str()), ("Riverside Surgery", "01632960000"));
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
    assert_eq!(tablet.my_ideas().await.expect("my ideas")[0].insight.id, idea.id);
    // Told to phone now (NEWS2 5, new confusion) and no call recorded: checking out asks first.
    let out = |confirmed| CheckOutArgs { visit_id: id.visit_id.clone(), confirmed };
    let asked = tablet.check_out(out(false)).await.unwrap_err();
    assert_eq!(asked.code, ErrorCode::Confirm, "{}", asked.message);
    assert!(asked.message.contains("no call is recorded"), "{}", asked.message);
    let screen = tablet
        .record_call(RecordCallArgs {
            visit_id: id.visit_id.clone(),
            to: CallTarget::GpPractice,
            to_name: String::new(),
            spoke_to: "Dr Khan".into(),
            outcome: CallOutcome::GpVisiting,
            detail: "by 14:00".into(),
            at: None,
        })
        .await
        .expect("the call");
    let decision = screen.sbard.as_ref().map(|s| s.decision.clone()).unwrap_or_default();
    assert!(decision.starts_with("Phoned Riverside Surgery at ") && decision.contains("Dr Khan"), "{decision}");
    // The call is recorded; only unmarked tasks (if any) are left to ask about.
    match tablet.check_out(out(false)).await {
        Ok(done) => assert_eq!(done.visit.status, VisitStatus::Completed),
        Err(e) => {
            assert_eq!(e.code, ErrorCode::Confirm);
            assert!(!e.message.contains("call") && e.message.contains("not marked"), "{}", e.message);
            assert_eq!(tablet.check_out(out(true)).await.expect("checked out").visit.status, VisitStatus::Completed);
        }
    }
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
    assert!(tablet.unlocked_store().await.is_err(), "the store is closed");
    assert!(!dir.path().join("C001.db").exists(), "the store file is deleted");
    assert!(!dir.path().join("C001.db.secret").exists(), "the device secret is forgotten");
    // Sign-out sent it: the office sees the call with the visit.
    office.sync_now().await.expect("office sync");
    let day = office.manager_day(DayArgs { day: None }).await.expect("the office's day");
    let seen = day.attention.iter().find(|a| a.visit_id == id.visit_id).expect("the visit needs attention");
    assert!(
        seen.reason.starts_with("Phoned Riverside Surgery at") && seen.reason.contains("coming"),
        "{}",
        seen.reason
    );

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

    let people = office.unlocked_store().await.expect("open").people().expect("people");
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
    let share = |id: &str, purpose: &str| ShareArgs {
        id: id.into(),
        partners: partners.clone(),
        purpose: purpose.into(),
        include_observations: false,
        out_of_area_reason: String::new(),
    };
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

pub(crate) async fn partner_org(hub: &TestHub<SqliteStorage>, name: &str, kind: PartnerKind) -> PartnerOrg {
    let org = Organisation { id: Uuid::new_v4(), name: name.into(), kind: OrgKind::Partner, partner_kind: Some(kind) };
    hub.storage.create_organisation(org.clone()).await.expect("partner");
    PartnerOrg { id: org.id, name: org.name, kind }
}

#[tokio::test]
async fn each_partner_gets_its_own_shared_item_answers_reach_the_carer_and_sharing_can_stop() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let council = partner_org(&hub, "Leeds Adult Social Care", PartnerKind::CouncilAdultSocialCare).await;
    let surgery = partner_org(&hub, "Riverside Surgery", PartnerKind::GpPractice).await;
    let befrienders = partner_org(&hub, "Northbrook Befrienders", PartnerKind::VoluntarySector).await;
    let office = office(&hub, dir.path()).await;
    let tablet = enrolled(&hub, dir.path(), "C001", Role::Carer, LOCK_AFTER).await;
    tablet.sync_now().await.expect("the rota arrives");

    // Sam raises an idea about Peggy (who agreed to the NHS and the council being told).
    let peggy = {
        let people = office.unlocked_store().await.expect("open").people().expect("people");
        people.into_iter().find(|p| p.display_name.contains("Margaret")).expect("Peggy").id
    };
    let idea = tablet
        .record_idea(IdeaArgs {
            person_id: peggy.clone(),
            summary: "Grab rail by the back door".into(),
            detail: "She steadies herself on the door frame every morning.".into(),
            suggested_action: "OT home assessment".into(),
            who_could_act: vec![PartnerKind::CouncilAdultSocialCare],
            urgency: Urgency::Soon,
        })
        .await
        .expect("idea");
    tablet.sync_now().await.expect("the idea reaches the hub");
    office.sync_now().await.expect("and the office");
    let id = idea.id.to_string();

    // Shared with the council and the GP practice, with the latest soft signs and vital signs.
    let share = |id: &str, partners: Vec<PartnerOrg>, include_observations: bool| ShareArgs {
        id: id.into(),
        partners,
        purpose: "So an OT can assess Peggy for a grab rail".into(),
        include_observations,
        out_of_area_reason: String::new(),
    };
    let screen = office.share_idea(share(&id, vec![council.clone(), surgery.clone()], true)).await.expect("shared");
    assert_eq!(screen.insight.status, InsightStatus::Shared);
    assert_eq!(screen.insight.shares.len(), 2, "the idea keeps the record of what went where");
    let names: Vec<&str> = screen.shared.iter().map(|s| s.partner.name.as_str()).collect();
    assert_eq!(names, ["Leeds Adult Social Care", "Riverside Surgery"]);
    assert!(screen.shared.iter().all(|s| s.status == SharedStatus::New && s.identifies_person));
    for row in &screen.shared {
        let item: SharedItem = office.unlocked_store().await.expect("open").get(&row.id).expect("shared item");
        assert_eq!(item.insight_id, idea.id);
        assert_eq!(item.raised_by.as_str(), "C001");
        assert_eq!(item.shared_by, "M001");
        assert_eq!(item.provider.id, hub.provider, "the provider is the device's organisation");
        assert_eq!(item.provider.name, "Sunrise Home Care");
        let person = item.person.as_ref().expect("Peggy's consent covers both");
        assert_eq!(person.name, "Margaret (Peggy) Jones");
        assert_eq!(item.area, "NB3");
        let observations = item.observations.as_ref().expect("the latest soft signs and vitals were ticked");
        assert!(!observations.soft_signs.is_empty(), "yesterday's changed soft signs");
        assert!(observations.vitals.is_some());
    }
    // Not again with the same partner while it is still shared.
    let again = office.share_idea(share(&id, vec![council.clone()], false)).await.unwrap_err();
    assert_eq!(again.code, ErrorCode::Invalid);
    assert!(again.message.contains("Leeds Adult Social Care"), "{}", again.message);

    // An observation about Peggy's street goes to a voluntary group with nothing identifying her
    // (she has not agreed to voluntary groups being told): the area only, no signs.
    let street = office
        .record_idea(IdeaArgs {
            person_id: peggy.clone(),
            summary: "Broken street light on Mill Lane".into(),
            detail: String::new(),
            suggested_action: String::new(),
            who_could_act: vec![PartnerKind::VoluntarySector],
            urgency: Urgency::Routine,
        })
        .await
        .expect("observation");
    let street_id = street.id.to_string();
    let refused = office.share_idea(share(&street_id, vec![befrienders.clone()], false)).await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Invalid, "identifiable, and no consent for voluntary groups");
    office
        .unlocked_store()
        .await
        .expect("open")
        .update::<Insight>(&street_id, |i| {
            i.consent_basis = ConsentBasis::NotIdentifiable;
            Ok(())
        })
        .expect("not identifiable");
    let screen = office.share_idea(share(&street_id, vec![befrienders.clone()], false)).await.expect("shared");
    assert!(!screen.shared[0].identifies_person);
    let item: SharedItem = office.unlocked_store().await.expect("open").get(&screen.shared[0].id).expect("item");
    assert_eq!((item.person, item.observations, item.area.as_str()), (None, None, "NB3"));

    // Everything reaches the hub.
    let badge = office.sync_now().await.expect("sync");
    assert_eq!((badge.waiting, badge.held_back.len()), (0, 0), "{:?}", badge.held_back);

    // The council answers at the hub; the answer and the idea's new status reach Sam's tablet.
    let web = Hub::new(hub.storage.clone());
    web.create_web_user(council.id, "sam.patel@leeds.example", "Sam Patel", WebRole::Partner, "a long pass phrase")
        .await
        .expect("partner user");
    let (_, caller) = web.sign_in("sam.patel@leeds.example", "a long pass phrase").await.expect("sign in");
    let council_item = office.idea(&id).await.expect("idea").shared[0].id.clone();
    let item_uuid = Uuid::parse_str(&council_item).expect("uuid");
    web.respond(&caller, item_uuid, ResponseOutcome::ActionTaken, "OT visit booked Tuesday").await.expect("answer");
    tablet.sync_now().await.expect("carer sync");
    // The answer does not arrive silently: Today's banner and the menu's count say so until
    // Sam opens "My ideas".
    let new = tablet.new_replies().await.expect("new replies");
    assert_eq!(new.len(), 1, "{new:?}");
    assert_eq!(
        (new[0].from.as_str(), new[0].said.as_str()),
        ("Leeds Adult Social Care", "Action taken — OT visit booked Tuesday")
    );
    assert_eq!(new[0].person_name.as_deref(), Some("Margaret (Peggy) Jones"), "who the idea is about");
    let mine = tablet.my_ideas().await.expect("my ideas");
    let mine = mine.iter().find(|m| m.insight.id == idea.id).expect("Sam's idea");
    assert_eq!(mine.new_replies, 1, "marked new in the list that shows it");
    assert_eq!(mine.person_name.as_deref(), Some("Margaret (Peggy) Jones"));
    assert!(tablet.new_replies().await.expect("again").is_empty(), "read once opened");
    assert_eq!(mine.insight.status, InsightStatus::Actioned);
    let answered = mine.shared.iter().find(|s| s.partner.id == council.id).expect("the council's item");
    assert_eq!(answered.status, SharedStatus::Answered(ResponseOutcome::ActionTaken));
    let response = answered.latest_response().expect("an answer");
    assert_eq!((response.message.as_str(), response.by.as_str()), ("OT visit booked Tuesday", "Sam Patel"));
    assert!(mine.shared.iter().any(|s| s.partner.id == surgery.id && s.status == SharedStatus::New));

    // The office stops sharing with the practice; the council's answer stays on record.
    office.sync_now().await.expect("office sync");
    let surgery_item = office.idea(&id).await.expect("idea").shared[1].id.clone();
    let refused = tablet.stop_sharing(SharedRef { id: surgery_item.clone() }).await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Invalid, "only a manager stops sharing");
    let screen = office.stop_sharing(SharedRef { id: surgery_item.clone() }).await.expect("stopped");
    let stopped = screen.shared.iter().find(|s| s.id == surgery_item).expect("still listed");
    assert_eq!(stopped.status, SharedStatus::Revoked);
    assert_eq!(stopped.revoked.as_ref().map(|r| r.by.as_str()), Some("M001"));
    assert_eq!(screen.shared[0].status, SharedStatus::Answered(ResponseOutcome::ActionTaken));
    assert_eq!(office.sync_now().await.expect("sync").held_back.len(), 0);
    // After stopping, the same partner may be sent it afresh: a new item.
    let befrienders_item = office.idea(&street_id).await.expect("street").shared[0].id.clone();
    office.stop_sharing(SharedRef { id: befrienders_item.clone() }).await.expect("stopped");
    let screen = office.share_idea(share(&street_id, vec![befrienders.clone()], false)).await.expect("again");
    assert_eq!(screen.shared.len(), 2);
    assert_eq!(screen.shared.iter().filter(|s| s.status == SharedStatus::Revoked).count(), 1);
    hub.stop().await;
}

/// Every file of the store at `path` (the database and its write-ahead log), as raw bytes.
fn raw_store_files(path: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        bytes.extend(std::fs::read(name).unwrap_or_default());
    }
    bytes
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn the_store_is_encrypted_at_rest_and_only_the_right_pin_on_this_device_opens_it() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let path = dir.path().join("M001.db");
    let office = office(&hub, dir.path()).await;
    let people = office.unlocked_store().await.expect("open").people().expect("people");
    assert!(people.len() >= 3, "{people:?}");
    drop(office);

    // A copy of the files (a lost tablet's disk) shows no name, no client reference, no schema.
    let raw = raw_store_files(&path);
    assert!(raw.len() > 50_000, "the store holds the caseload");
    for person in &people {
        assert!(!holds(&raw, &person.display_name), "{} is readable in the raw file", person.display_name);
        assert!(!holds(&raw, &person.client_ref), "{} is readable in the raw file", person.client_ref);
    }
    assert!(!holds(&raw, "CREATE TABLE") && !holds(&raw, "SQLite format 3"));
    assert!(doorstep_store::Store::open(&path).is_err(), "opened without the key");

    // The app starting again: nothing is shown until the PIN opens the store.
    let device = Device::open(&path, LOCK_AFTER).expect("open");
    let session = device.session().await.expect("session");
    assert!(session.enrolled && session.locked && session.staff_ref.is_none());
    assert_eq!(device.unlock("1357").await.unwrap_err().code, ErrorCode::WrongPin);
    assert!(device.unlocked_store().await.is_err(), "a wrong PIN opened the store");
    assert_eq!(device.manager_day(DayArgs { day: None }).await.unwrap_err().code, ErrorCode::Locked);
    device.unlock(PIN).await.expect("the right PIN");
    device.manager_day(DayArgs { day: None }).await.expect("the office's day");
    assert_eq!(device.unlocked_store().await.expect("open").people().expect("people"), people);
    assert_eq!(device.session().await.expect("session").staff_ref.as_deref(), Some("M001"));
    drop(device);

    // Without this device's secret even the right PIN opens nothing (a copied file is useless).
    let mut secret = path.as_os_str().to_owned();
    secret.push(".secret");
    let secret = std::path::PathBuf::from(secret);
    let kept = std::fs::read(&secret).expect("the secret is a private file here: no OS keyring");
    std::fs::write(&secret, [9u8; 32]).expect("another device's secret");
    let device = Device::open(&path, LOCK_AFTER).expect("open");
    assert_eq!(device.unlock(PIN).await.unwrap_err().code, ErrorCode::WrongPin);
    std::fs::remove_file(&secret).expect("lose the secret");
    let missing = device.unlock(PIN).await.unwrap_err();
    assert_eq!(missing.code, ErrorCode::Storage);
    assert!(missing.message.contains("key is missing"), "{}", missing.message);
    std::fs::write(&secret, kept).expect("secret back");
    hub.stop().await;
}

#[tokio::test]
async fn after_five_wrong_pins_even_the_right_one_waits() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let device = enrolled(&hub, dir.path(), "C001", Role::Carer, LOCK_AFTER).await;
    device.lock().await.expect("lock");
    for _ in 0..4 {
        let wrong = device.unlock("0000").await.unwrap_err();
        assert_eq!(wrong.message, "That PIN is not right. Try again.");
    }
    let fifth = device.unlock("0000").await.unwrap_err();
    assert_eq!(fifth.message, "That PIN is not right. Try again. 5 tries left before this tablet deletes its records.");
    let waiting = device.unlock(PIN).await.unwrap_err();
    assert_eq!(waiting.code, ErrorCode::WrongPin);
    assert_eq!(
        waiting.message,
        "Too many wrong PINs. Try again in 30 seconds. 5 tries left before this tablet deletes its records."
    );
    assert_eq!(device.today(DayArgs { day: None }).await.unwrap_err().code, ErrorCode::Locked);
    hub.stop().await;
}

#[tokio::test]
async fn a_store_written_before_encryption_is_encrypted_by_the_first_right_pin_with_nothing_lost() {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let path = dir.path().join("C001.db");
    {
        // What the previous release left: a plain store, enrolled, with an Argon2 hash of the PIN,
        // four digits as that release allowed (a PIN is judged when chosen, never when typed).
        let old = hub.device_at(&path, "C001", Role::Carer).await;
        let salt = SaltString::encode_b64(b"sixteen byte salt").expect("salt");
        let hash = argon2::Argon2::default().hash_password(b"2468", &salt).expect("hash").to_string();
        let mut store = old.store.lock().await;
        store.set_setting("pin_hash", &hash).expect("pin hash");
        doorstep_demo::load_demo(&mut store, today()).expect("caseload");
    }
    assert!(doorstep_store::is_plain_sqlite(&path).expect("read"));
    let before = doorstep_store::Store::open(&path).expect("plain").people().expect("people").len();

    let device = Device::open(&path, LOCK_AFTER).expect("open");
    assert_eq!(device.unlock("1111").await.unwrap_err().code, ErrorCode::WrongPin);
    assert!(doorstep_store::is_plain_sqlite(&path).expect("read"), "a wrong PIN changed nothing");
    device.unlock("2468").await.expect("the old PIN still works");
    assert!(!doorstep_store::is_plain_sqlite(&path).expect("read"), "encrypted now");
    assert_eq!(device.unlocked_store().await.expect("open").people().expect("people").len(), before);
    drop(device);

    let device = Device::open(&path, LOCK_AFTER).expect("reopen");
    assert_eq!(device.unlock("1111").await.unwrap_err().code, ErrorCode::WrongPin);
    device.unlock("2468").await.expect("the same PIN opens the encrypted store");
    assert_eq!(device.unlocked_store().await.expect("open").people().expect("people").len(), before);
    hub.stop().await;
}

#[tokio::test]
async fn a_revoked_tablet_wipes_itself_at_its_next_contact_and_can_be_set_up_again() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let office = office(&hub, dir.path()).await;
    let tablet = enrolled(&hub, dir.path(), "C001", Role::Carer, LOCK_AFTER).await;
    tablet.sync_now().await.expect("the rota arrives");
    let visits = tablet.today(DayArgs { day: None }).await.expect("today").visits;
    let names: Vec<String> = visits.iter().filter_map(|v| v.person_name.clone()).collect();
    assert!(!names.is_empty());

    let sams =
        office.devices().await.expect("devices").into_iter().find(|d| d.staff_ref == "C001").expect("Sam's tablet");
    office.revoke_device(&sams.id.to_string()).await.expect("revoke");
    let refused = tablet.sync_now().await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Refused, "{}", refused.message);
    let session = tablet.session().await.expect("session");
    assert!(!session.enrolled, "the enrolment is gone");
    assert!(tablet.unlocked_store().await.expect("still open").people().expect("people").is_empty());
    let raw = raw_store_files(&dir.path().join("C001.db"));
    assert!(names.iter().all(|n| !holds(&raw, n)));

    // The manager can give the tablet a new code: it starts afresh, with a new secret.
    let code = hub.code("C001", Role::Carer).await;
    let args = EnrolArgs {
        hub_url: hub.url.clone(),
        code,
        device_name: "Sam's tablet".into(),
        pin: "581379".into(),
        hub_certificate: None,
    };
    tablet.enrol(args).await.expect("enrol again");
    tablet.sync_now().await.expect("the rota again");
    assert_eq!(tablet.today(DayArgs { day: None }).await.expect("today").visits.len(), visits.len());
    hub.stop().await;
}
