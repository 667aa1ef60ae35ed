//! Escalation at the visit, through the device core and a real hub: an incomplete set already
//! High reaches the office's "needs attention" and the deterioration watch; advice without the
//! person's record; a worried card whose first number is the one its words name; a call that
//! keeps the name of the service phoned and the time the carer gives; and checking out, which
//! asks until the call the advice asked for is recorded.

use chrono::{Datelike, Duration, Utc};
use doorstep_commands::{CheckOutArgs, DayArgs, ErrorCode, RecordCallArgs, SoftSignArgs, VitalsArgs};
use doorstep_device::LOCK_AFTER;
use doorstep_model::news2::{AdviceSource, EscalationLevel, News2Assessment};
use doorstep_model::watch::WatchLevel;
use doorstep_model::{Acvpu, CallOutcome, CallTarget, Comparison, Role, SoftSign, VitalSigns};
use doorstep_tests::today;

use crate::device::{enrolled, hub, office, visit_to};

fn vitals(visit_id: &str, vitals: VitalSigns) -> VitalsArgs {
    VitalsArgs { visit_id: visit_id.to_string(), vitals, checked: false, recheck: false }
}

fn normal() -> VitalSigns {
    VitalSigns {
        respiration_rate: Some(16),
        spo2_percent: Some(97),
        on_oxygen: Some(false),
        systolic_bp: Some(120),
        pulse: Some(70),
        consciousness: Some(Acvpu::Alert),
        temperature_c: Some(37.0),
    }
}

fn call(visit_id: &str, to: CallTarget, outcome: CallOutcome) -> RecordCallArgs {
    RecordCallArgs {
        visit_id: visit_id.to_string(),
        to,
        to_name: String::new(),
        spoke_to: String::new(),
        outcome,
        detail: String::new(),
        at: None,
    }
}

fn out(visit_id: &str) -> CheckOutArgs {
    CheckOutArgs { visit_id: visit_id.to_string(), confirmed: false }
}

/// Breathing 25, SpO2 91 and pulse 135 (3 each), nothing else: at least 9, already High.
#[tokio::test]
async fn an_incomplete_set_already_high_reaches_needs_attention_and_the_watch() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let office = office(&hub, dir.path()).await;
    let tablet = enrolled(&hub, dir.path(), "C001", Role::Carer, LOCK_AFTER).await;
    tablet.sync_now().await.expect("the rota arrives");
    let harold = visit_to(&tablet, "Harold").await;
    let person_id = tablet.visit(&harold).await.expect("the visit").visit.person_id.to_string();
    assert_eq!(office.person(&person_id).await.expect("Harold's page").watch.level, WatchLevel::Clear);

    let partial = VitalSigns {
        respiration_rate: Some(25),
        spo2_percent: Some(91),
        on_oxygen: Some(false),
        pulse: Some(135),
        ..VitalSigns::default()
    };
    let screen = tablet.record_vitals(vitals(&harold, partial)).await.expect("vitals");
    let Some(News2Assessment::Incomplete { partial_total, band_at_least, .. }) = &screen.news2 else {
        panic!("incomplete: {:?}", screen.news2)
    };
    assert_eq!((*partial_total, band_at_least.label()), (9, "High"));
    assert_eq!(screen.advice.as_ref().expect("advice").level, EscalationLevel::Emergency999);
    // The carer's own tablet already watches them, with no signal.
    let watch = tablet.person(&person_id).await.expect("Harold's page").watch;
    assert_eq!(watch.level, WatchLevel::Concern, "{:?}", watch.reasons);

    tablet.sync_now().await.expect("sync");
    office.sync_now().await.expect("office sync");
    let day = office.manager_day(DayArgs { day: None }).await.expect("the office's day");
    let flagged = day.attention.iter().find(|a| a.visit_id == harold).expect("the incomplete set needs attention");
    assert!(flagged.reason.contains("NEWS2 at least 9"), "{}", flagged.reason);
    assert!(flagged.reason.contains("High"), "{}", flagged.reason);
    let watch = office.person(&person_id).await.expect("Harold's page").watch;
    assert_eq!(watch.level, WatchLevel::Concern, "{:?}", watch.reasons);
    assert!(watch.reasons.iter().any(|r| r.contains("Latest NEWS2 score is 9")), "{:?}", watch.reasons);
    hub.stop().await;
}

/// A visit whose person's record has not reached the tablet, for a carer the office has not
/// named: the readings are still scored (as an adult's, on Scale 1), the advice is shown, and
/// the SBARD says whose record is missing and who is calling.
#[tokio::test]
async fn advice_without_the_persons_record_is_scored_as_an_adult_on_scale_1_and_says_so() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let _office = office(&hub, dir.path()).await;
    let tablet = enrolled(&hub, dir.path(), "C009", Role::Carer, LOCK_AFTER).await;
    tablet.sync_now().await.expect("the directory arrives");
    let visit_id = {
        let mut store = tablet.unlocked_store().await.expect("open");
        let mut generator = doorstep_demo::Generator::new(99);
        let stranger = generator.person();
        let mut visit = generator.visit(&stranger, Utc::now() - Duration::minutes(10));
        visit.carers = vec![doorstep_model::StaffId::new("C009")];
        store.put(&visit).expect("a visit whose person has not synced");
        visit.id.to_string()
    };
    // SpO2 93 scores 2 on Scale 1 (0 on Scale 2): everything else normal.
    let screen = tablet
        .record_vitals(vitals(&visit_id, VitalSigns { spo2_percent: Some(93), ..normal() }))
        .await
        .expect("vitals");
    assert!(screen.person_name.is_none(), "the record is not here");
    assert!(screen.scored_without_record);
    let Some(News2Assessment::Scored(score)) = &screen.news2 else { panic!("scored: {:?}", screen.news2) };
    assert_eq!(score.total, 2, "SpO2 93 on Scale 1");
    let advice = screen.advice.clone().expect("advice, without the record");
    assert_eq!(advice.level, EscalationLevel::TellSomeoneToday);
    assert_eq!(screen.phone_first.as_ref().map(|p| p.name.as_str()), Some("The office"));
    let sbard = screen.sbard.expect("what to say, without the record");
    assert!(sbard.situation.contains("(staff reference C009)"), "{}", sbard.situation);
    assert!(!sbard.situation.contains("My name is C009"), "{}", sbard.situation);
    assert!(sbard.situation.contains("record has not reached this tablet"), "{}", sbard.situation);
    assert!(sbard.background.contains("adult's on the usual oxygen scale (NEWS2 Scale 1)"), "{}", sbard.background);
    assert!(
        sbard.background.contains("Their plan, if they have one, has not reached this tablet"),
        "a plan may exist that the tablet cannot show: {}",
        sbard.background
    );

    // Soft signs alone, still without the record: the worried card, and what to say.
    let screen = tablet
        .set_soft_sign(SoftSignArgs {
            visit_id: visit_id.clone(),
            sign: SoftSign::NewPain,
            observed: true,
            compared_to_usual: Comparison::New,
            detail: String::new(),
        })
        .await
        .expect("soft sign");
    let advice = screen.advice.expect("advice");
    assert_eq!(advice.source, AdviceSource::SoftSigns);
    assert!(screen.sbard.is_some());
    hub.stop().await;
}

/// Age is worked out on the visit's UK day: someone who turns 16 on the day of tomorrow's visit
/// is scored at it, though they are 15 today.
#[tokio::test]
async fn age_is_worked_out_on_the_visits_day() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let tablet = enrolled(&hub, dir.path(), "C001", Role::Carer, LOCK_AFTER).await;
    let tomorrow = today().succ_opt().expect("a tomorrow");
    let visit_id = {
        let mut store = tablet.unlocked_store().await.expect("open");
        let mut generator = doorstep_demo::Generator::new(98);
        let mut young = generator.person();
        young.date_of_birth = tomorrow.with_year(tomorrow.year() - 16);
        young.pregnant = false;
        store.put(&young).expect("the person");
        let mut visit = generator.visit(&young, doorstep_demo::at(tomorrow, 12, 0));
        visit.carers = vec![doorstep_model::StaffId::new("C001")];
        store.put(&visit).expect("tomorrow's visit");
        visit.id.to_string()
    };
    let screen = tablet.record_vitals(vitals(&visit_id, normal())).await.expect("vitals");
    assert!(
        matches!(screen.news2, Some(News2Assessment::Scored(_))),
        "16 on the visit's day, so NEWS2 applies: {:?}",
        screen.news2
    );
    hub.stop().await;
}

/// The worried card's first number is their GP practice, as its words say; the call keeps the
/// practice's name and the time the carer gives, and the office reads both.
#[tokio::test]
async fn the_worried_card_phones_the_gp_first_and_the_call_keeps_its_name_and_time() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let office = office(&hub, dir.path()).await;
    let tablet = enrolled(&hub, dir.path(), "C001", Role::Carer, LOCK_AFTER).await;
    tablet.sync_now().await.expect("the rota arrives");
    let peggy = visit_to(&tablet, "Peggy").await;
    tablet.check_in(&peggy).await.expect("check in");
    let screen = tablet
        .set_soft_sign(SoftSignArgs {
            visit_id: peggy.clone(),
            sign: SoftSign::UnsteadyOrFall,
            observed: true,
            compared_to_usual: Comparison::Worse,
            detail: "On the floor by the bed, not hurt".into(),
        })
        .await
        .expect("soft sign");
    let advice = screen.advice.clone().expect("the worried card");
    assert_eq!(advice.level, EscalationLevel::TellSomeoneToday);
    assert_eq!(advice.heading(), "Phone their GP practice today");
    assert!(advice.action.contains("Phone the GP practice today"), "{}", advice.action);
    let first = screen.phone_first.clone().expect("a first number");
    assert_eq!((first.name.as_str(), first.dial.as_str()), ("Riverside Surgery", "01632960000"));
    let then: Vec<&str> = screen.then_phone.iter().map(|p| p.name.as_str()).collect();
    assert!(then.contains(&"Northbrook Falls Response"), "after a fall: {then:?}");
    let at = |name: &str| then.iter().position(|n| *n == name).unwrap_or_else(|| panic!("{name} in {then:?}"));
    assert!(at("NHS 111") < at("The office"), "a clinician before the office: {then:?}");

    // A time in the future, or long before the visit, is refused in words; nothing is added.
    let mut later = call(&peggy, CallTarget::GpPractice, CallOutcome::GpVisiting);
    later.at = Some(Utc::now() + Duration::minutes(30));
    let refused = tablet.record_call(later).await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Invalid);
    assert!(refused.message.contains("is later than now: give the time you phoned"), "{}", refused.message);
    let mut long_before = call(&peggy, CallTarget::GpPractice, CallOutcome::GpVisiting);
    long_before.at = Some(Utc::now() - Duration::hours(13));
    let refused = tablet.record_call(long_before).await.unwrap_err();
    assert!(refused.message.contains("more than 12 hours before this visit began"), "{}", refused.message);
    assert!(tablet.visit(&peggy).await.expect("visit").note.calls.is_empty());

    // Phoned 20 minutes ago: recorded at that time, with the practice's name from her record.
    // As a time picker gives it: to the minute.
    let twenty_ago = (Utc::now() - Duration::minutes(20)).timestamp();
    let phoned_at = chrono::DateTime::from_timestamp(twenty_ago - twenty_ago % 60, 0).expect("a time");
    let mut gp = call(&peggy, CallTarget::GpPractice, CallOutcome::GpVisiting);
    gp.at = Some(phoned_at);
    gp.spoke_to = "Dr Khan".into();
    gp.detail = "by 14:00".into();
    let screen = tablet.record_call(gp).await.expect("the call");
    let recorded = &screen.note.calls[0];
    assert_eq!((recorded.to_name.as_str(), recorded.at), ("Riverside Surgery", phoned_at));
    let line = format!("Phoned Riverside Surgery at {}", doorstep_model::note::uk_clock(phoned_at));
    let decision = screen.sbard.expect("sbard").decision;
    assert!(decision.starts_with(&line), "{decision}");
    tablet.sync_now().await.expect("sync");
    office.sync_now().await.expect("office sync");
    let day = office.manager_day(DayArgs { day: None }).await.expect("the office's day");
    let seen = day.attention.iter().find(|a| a.visit_id == peggy).expect("the visit needs attention");
    assert!(seen.reason.starts_with(&line) && seen.reason.contains("coming (by 14:00)"), "{}", seen.reason);

    // The area's services are named from the directory.
    let screen =
        tablet.record_call(call(&peggy, CallTarget::FallsResponse, CallOutcome::Other)).await.expect("falls call");
    assert_eq!(screen.note.calls[1].to_name, "Northbrook Falls Response");
    hub.stop().await;
}

/// Told to phone 999, a call to the office or the GP is not enough to leave without being
/// asked; told to phone now, a call to the office is not either.
#[tokio::test]
async fn checkout_asks_until_the_call_the_advice_asked_for_is_recorded() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let office = office(&hub, dir.path()).await;
    let tablet = enrolled(&hub, dir.path(), "C001", Role::Carer, LOCK_AFTER).await;
    tablet.sync_now().await.expect("the rota arrives");
    let (peggy, arthur) = (visit_to(&tablet, "Peggy").await, visit_to(&tablet, "Arthur").await);
    // What the office's "needs attention" says about Peggy's visit, after both sync.
    let office_sees = async |visit: &str| {
        tablet.sync_now().await.expect("the tablet syncs");
        office.sync_now().await.expect("the office syncs");
        let day = office.manager_day(DayArgs { day: None }).await.expect("the office's day");
        day.attention.iter().find(|a| a.visit_id == visit).map(|a| a.reason.clone()).unwrap_or_default()
    };

    // 999: responds only to voice.
    tablet.check_in(&peggy).await.expect("check in");
    let voice = VitalSigns { consciousness: Some(Acvpu::Voice), ..normal() };
    let screen = tablet.record_vitals(vitals(&peggy, voice)).await.expect("vitals");
    assert_eq!(screen.advice.expect("advice").level, EscalationLevel::Emergency999);
    tablet.record_call(call(&peggy, CallTarget::Office, CallOutcome::Other)).await.expect("the office");
    let asked = tablet.check_out(out(&peggy)).await.unwrap_err();
    assert_eq!(asked.code, ErrorCode::Confirm);
    assert!(asked.message.contains("no 999 call is recorded"), "{}", asked.message);
    // The office is told it was not answered, whatever call came after.
    let said = office_sees(&peggy).await;
    assert!(said.contains("Told to phone 999: no 999 call recorded"), "{said}");
    tablet.record_call(call(&peggy, CallTarget::GpPractice, CallOutcome::MonitorAndRecheck)).await.expect("GP");
    let asked = tablet.check_out(out(&peggy)).await.unwrap_err();
    assert!(asked.message.contains("no 999 call is recorded"), "the GP is not 999: {}", asked.message);
    tablet.record_call(call(&peggy, CallTarget::Emergency999, CallOutcome::AmbulanceCalled)).await.expect("999");
    let said = office_sees(&peggy).await;
    assert!(!said.contains("no 999 call recorded") && said.contains("999"), "answered now: {said}");
    match tablet.check_out(out(&peggy)).await {
        Ok(done) => assert!(done.visit.checked_out_at.is_some()),
        Err(e) => assert!(!e.message.contains("999") && !e.message.contains("phone"), "{}", e.message),
    }

    // Phone now: new confusion (a single 3). Arthur is on Scale 2, so his SpO2 of 90 scores 0.
    tablet.check_in(&arthur).await.expect("check in");
    let confused = VitalSigns { consciousness: Some(Acvpu::NewConfusion), spo2_percent: Some(90), ..normal() };
    let screen = tablet.record_vitals(vitals(&arthur, confused)).await.expect("vitals");
    assert_eq!(screen.advice.expect("advice").level, EscalationLevel::UrgentCallNow);
    tablet.record_call(call(&arthur, CallTarget::Office, CallOutcome::Other)).await.expect("the office");
    let asked = tablet.check_out(out(&arthur)).await.unwrap_err();
    assert!(asked.message.contains("telling the office is not enough"), "{}", asked.message);
    tablet
        .record_call(call(&arthur, CallTarget::UrgentCommunityResponse, CallOutcome::GpVisiting))
        .await
        .expect("the urgent team");
    match tablet.check_out(out(&arthur)).await {
        Ok(done) => assert!(done.visit.checked_out_at.is_some()),
        Err(e) => assert!(!e.message.contains("phone"), "{}", e.message),
    }
    hub.stop().await;
}
