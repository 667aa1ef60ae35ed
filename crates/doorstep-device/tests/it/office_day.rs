//! The office's day as counted and the office's forms as refused: "still to come" counts only
//! today's visits not started and not yet to chase, at the office's clock (injected); a refusal
//! names the argument it is about, so the form links its error summary to that field.

use std::sync::{Arc, Mutex};

use doorstep_commands::{
    BaselinesArgs, ConsentArgs, CouldNotArgs, DayArgs, EditDirectoryArgs, ErrorCode, ManagerDay, PlanArgs,
};
use doorstep_model::{CouldNotReason, PlanKind, Sector, SpO2Scale, StaffId, StaffMember};
use doorstep_tests::today;

use crate::device::hub;

/// Every visit of the day is counted once: done, under way, still to come, to chase, or
/// closed without happening.
fn counted_once(day: &ManagerDay) {
    let chase_today = day.visits.iter().filter(|v| day.chase.iter().any(|c| c.visit_id == v.id)).count();
    let closed = day.visits.iter().filter(|v| v.status == "cancelled" && v.could_not.is_none()).count();
    assert_eq!(
        day.completed + day.in_progress + day.to_come + chase_today + closed,
        day.visits.len(),
        "{:?}",
        day.visits.iter().map(|v| (&v.status, v.could_not, v.starts_at)).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn still_to_come_leaves_out_visits_to_chase_and_those_that_could_not_happen() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let (office, sam, _priya) = crate::seams::team(&hub, dir.path()).await;
    let clock = Arc::new(Mutex::new(doorstep_demo::at(today(), 6, 0)));
    let read = clock.clone();
    let office = office.with_clock(Arc::new(move || *read.lock().unwrap_or_else(|p| p.into_inner())));

    let early = office.manager_day(DayArgs { day: None }).await.expect("the office's day at 06:00");
    let scheduled = early.visits.iter().filter(|v| v.status == "scheduled").count();
    assert!(scheduled > 1, "the demo has visits to come today");
    assert_eq!(early.to_come, scheduled, "before any visit is due, every one not started is still to come");
    counted_once(&early);

    // Sam finds no answer at one door: that visit is to chase, not to come.
    let sams = sam.today(DayArgs { day: None }).await.expect("Sam's day");
    let first = sams.visits.iter().find(|v| v.status == "scheduled").expect("a visit of Sam's").id.clone();
    sam.could_not_visit(CouldNotArgs {
        visit_id: first.clone(),
        reason: CouldNotReason::NoAnswer,
        detail: String::new(),
        admitted_on: None,
    })
    .await
    .expect("no answer");
    sam.sync_now().await.expect("Sam syncs");
    office.sync_now().await.expect("the office syncs");
    let after = office.manager_day(DayArgs { day: None }).await.expect("after the no answer");
    assert_eq!(after.to_come, scheduled - 1, "the visit that could not happen is not still to come");
    assert!(after.chase.iter().any(|c| c.visit_id == first));
    counted_once(&after);

    // Late at night every visit not started is missed: none is still to come, and the count
    // (once worked out by subtraction) never goes below nothing.
    *clock.lock().unwrap_or_else(|p| p.into_inner()) = doorstep_demo::at(today(), 23, 30);
    let night = office.manager_day(DayArgs { day: None }).await.expect("at 23:30");
    assert_eq!(night.to_come, 0, "{:?}", night.chase);
    assert!(night.missed > 0);
    counted_once(&night);
}

#[tokio::test]
async fn a_refused_office_form_names_the_field_to_fix() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let (office, _sam, _priya) = crate::seams::team(&hub, dir.path()).await;
    let people = office.unlocked_store().await.expect("the office's store").people().expect("people");
    let person = people.first().expect("someone").id.clone();

    let consent = ConsentArgs { person_id: person.clone(), sector: Sector::Nhs, given: true, note: "  ".into() };
    let refused = office.record_consent(consent).await.unwrap_err();
    assert_eq!((refused.code, refused.field.as_deref()), (ErrorCode::Invalid, Some("note")), "{}", refused.message);

    let plan = PlanArgs { person_id: person.clone(), kind: Some(PlanKind::Respect), summary: String::new() };
    let refused = office.record_plan(plan).await.unwrap_err();
    assert_eq!(refused.field.as_deref(), Some("summary"), "{}", refused.message);

    let overview = office.person(&person).await.expect("their page");
    let baselines = |set_by: &str, review_on| BaselinesArgs {
        person_id: person.clone(),
        base: overview.version.clone(),
        spo2_scale: SpO2Scale::Scale2,
        scale2_set_by: set_by.into(),
        scale2_set_on: today().pred_opt(),
        scale2_review_on: review_on,
        pregnant: false,
        usual: Vec::new(),
    };
    let refused = office.record_baselines(baselines("", None)).await.unwrap_err();
    assert_eq!(refused.field.as_deref(), Some("scale2_set_by"), "{}", refused.message);
    let refused = office.record_baselines(baselines("Dr A Shah", today().pred_opt())).await.unwrap_err();
    assert_eq!(refused.field.as_deref(), Some("scale2_review_on"), "{}", refused.message);

    let screen = office.directory().await.expect("the directory");
    let edit = |office_phone: &str, staff: Vec<StaffMember>| EditDirectoryArgs {
        base: screen.version.clone(),
        office_phone: office_phone.into(),
        office_hours: String::new(),
        on_call_phone: String::new(),
        services: Vec::new(),
        staff,
    };
    let refused = office.edit_directory(edit("call us", Vec::new())).await.unwrap_err();
    assert_eq!(refused.field.as_deref(), Some("office_phone"), "{}", refused.message);
    let sam = |phone: &str| StaffMember {
        reference: StaffId::new("C001"),
        display_name: "Sam Taylor".into(),
        phone: phone.into(),
    };
    let refused = office.edit_directory(edit("01632 960 100", vec![sam("not a number")])).await.unwrap_err();
    assert_eq!(refused.field.as_deref(), Some("staff.C001.phone"), "{}", refused.message);
}
