//! What happened to the person, recorded by a carer at the visit with no signal: the day it
//! happened, checked against the tablet's clock (injected here), and what stood before it on the
//! tablet (the watch level, the calls of the visits before it, the open ideas). The hub is only
//! used to set the tablets up and, at the end, to carry the outcome to the office.

use chrono::Days;
use doorstep_commands::{CouldNotArgs, ErrorCode, OutcomeArgs, RecordCallArgs};
use doorstep_model::outcome::OutcomeKind;
use doorstep_model::{
    CallOutcome, CallRecord, CallTarget, CouldNotReason, NoteId, StaffId, Visit, VisitNote, VisitStatus,
};
use doorstep_tests::today;

use crate::device::{hub, visit_to};
use crate::seams::test_clock;

fn outcome(visit_id: &str, kind: OutcomeKind, day: chrono::NaiveDate) -> OutcomeArgs {
    OutcomeArgs { visit_id: visit_id.to_string(), kind, day }
}

#[tokio::test]
async fn a_carer_records_an_admission_offline_with_the_watch_the_calls_before_it_and_the_open_idea() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let (office, sam, _priya) = crate::seams::team(&hub, dir.path()).await;
    let yesterday = today() - Days::new(1);
    // Yesterday's carer phoned Peggy's GP at 09:12 (written into the office's records as history).
    {
        let mut store = office.unlocked_store().await.expect("open");
        let row = store
            .visits_on(yesterday, None)
            .expect("yesterday")
            .into_iter()
            .find(|v| v.person_name.as_deref().is_some_and(|n| n.contains("Peggy")))
            .expect("Peggy's visit yesterday");
        let visit: Visit = store.get(&row.id).expect("visit");
        store
            .update::<VisitNote>(&NoteId::for_visit(visit.id).to_string(), |note| {
                note.calls.push(CallRecord {
                    to: CallTarget::GpPractice,
                    to_name: String::new(),
                    at: doorstep_demo::at(yesterday, 9, 12),
                    spoke_to: "the receptionist".into(),
                    outcome: CallOutcome::GpVisiting,
                    detail: String::new(),
                    by: visit.carers[0].clone(),
                });
                Ok(())
            })
            .expect("yesterday's call");
    }
    office.sync_now().await.expect("office syncs");
    sam.sync_now().await.expect("Sam syncs");
    let (sam, _clock) = test_clock(sam, doorstep_demo::at(today(), 10, 0));
    let morning = visit_to(&sam, "Peggy").await;
    let peggy = sam.visit(&morning).await.expect("the visit").visit.person_id.to_string();
    let watch = sam.person(&peggy).await.expect("Peggy's page").watch.level;
    let grab_rail = sam
        .person(&peggy)
        .await
        .expect("Peggy's page")
        .insights
        .into_iter()
        .find(|i| i.summary.contains("Grab rail"))
        .expect("Sam's idea about a grab rail")
        .id;

    sam.check_in(&morning).await.expect("check in");
    // Today's call comes after yesterday's admission: it is not what stood before it.
    sam.record_call(RecordCallArgs {
        visit_id: morning.clone(),
        to: CallTarget::Office,
        to_name: String::new(),
        spoke_to: String::new(),
        outcome: CallOutcome::Other,
        detail: String::new(),
        at: None,
    })
    .await
    .expect("a call today");
    let screen = sam.record_outcome(outcome(&morning, OutcomeKind::Admitted, yesterday)).await.expect("admitted");
    let [recorded] = screen.note.outcomes.as_slice() else { panic!("one outcome: {:?}", screen.note.outcomes) };
    assert_eq!((recorded.kind, recorded.day, recorded.by.as_str()), (OutcomeKind::Admitted, yesterday, "C001"));
    assert_eq!(recorded.at, doorstep_demo::at(today(), 10, 0), "stamped by the tablet's clock");
    assert_ne!(watch.code(), "clear", "Peggy has been slipping");
    assert_eq!(recorded.links.watch_level, watch.code());
    let yesterdays_call = format!("GP practice, {} 09:12", yesterday.format("%-d %b"));
    assert_eq!(recorded.links.escalations, std::slice::from_ref(&yesterdays_call));
    assert_eq!(recorded.links.open_ideas.iter().map(|i| i.0.to_string()).collect::<Vec<_>>(), [grab_rail]);
    let [shown] = screen.outcomes.as_slice() else { panic!("shown on the visit: {:?}", screen.outcomes) };
    assert_eq!(shown.by, "Sam Taylor (C001)");
    assert_eq!(
        shown.links,
        [
            format!("Watch was at {}", watch.code()),
            format!("Calls before it: {yesterdays_call}"),
            "Open idea: Grab rail by Peggy's bath would stop her near-falls".to_string(),
        ]
    );

    // A day that has not come yet is refused in words, and nothing is added.
    let tomorrow = today() + Days::new(1);
    let future = sam.record_outcome(outcome(&morning, OutcomeKind::HomeAgain, tomorrow)).await.unwrap_err();
    assert_eq!(future.code, ErrorCode::Invalid);
    assert!(future.message.contains("is after today: give the day it happened"), "{}", future.message);

    // Seen by the GP today: today's call counts for it, and it comes first.
    let later = sam.record_outcome(outcome(&morning, OutcomeKind::GpVisited, today())).await.expect("GP visited");
    assert_eq!(later.note.outcomes.len(), 2);
    assert_eq!(later.note.outcomes[1].links.escalations.len(), 2, "{:?}", later.note.outcomes[1].links);
    let listed = sam.outcomes_of(&peggy).await.expect("Peggy's outcomes");
    assert_eq!(
        listed.iter().map(|o| (o.kind, o.day)).collect::<Vec<_>>(),
        [(OutcomeKind::GpVisited, today()), (OutcomeKind::Admitted, yesterday)],
        "newest first"
    );

    // A carer writes outcomes only on visits they are on.
    let hers = {
        let mut store = sam.unlocked_store().await.expect("open");
        let mut visit: Visit = store.get(&morning).expect("visit");
        visit.id = doorstep_model::VisitId(uuid::Uuid::new_v4());
        visit.carers = vec![StaffId::new("C002")];
        store.put(&visit).expect("a visit of Priya's on Sam's tablet");
        visit.id.to_string()
    };
    let not_on_it = sam.record_outcome(outcome(&hers, OutcomeKind::Admitted, yesterday)).await.unwrap_err();
    assert_eq!(not_on_it.code, ErrorCode::Invalid);
    assert_eq!(not_on_it.message, "You are not on this visit's rota.");
    hub.stop().await;
}

/// "They are in hospital" records the admission in the same tap; a wrong day leaves the visit as
/// it was; the office sees it after a sync and may add "home again"; the hub refuses an outcome
/// written in another carer's name.
#[tokio::test]
async fn in_hospital_records_the_admission_and_the_office_sees_it_after_sync() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let (office, sam, _priya) = crate::seams::team(&hub, dir.path()).await;
    let (sam, _clock) = test_clock(sam, doorstep_demo::at(today(), 8, 5));
    let morning = visit_to(&sam, "Peggy").await;
    let in_hospital = |day| CouldNotArgs {
        visit_id: morning.clone(),
        reason: CouldNotReason::InHospital,
        detail: "Her daughter rang: taken in last night".into(),
        admitted_on: Some(day),
    };

    let wrong = sam.could_not_visit(in_hospital(today() + Days::new(2))).await.unwrap_err();
    assert_eq!(wrong.code, ErrorCode::Invalid, "{}", wrong.message);
    assert_eq!(sam.visit(&morning).await.expect("visit").visit.status, VisitStatus::Scheduled, "not half done");

    let yesterday = today() - Days::new(1);
    let screen = sam.could_not_visit(in_hospital(yesterday)).await.expect("in hospital");
    assert!(matches!(screen.visit.status, VisitStatus::Cancelled { .. }), "{:?}", screen.visit.status);
    assert_eq!(screen.visit.could_not.as_ref().map(|c| c.reason), Some(CouldNotReason::InHospital));
    let [admitted] = screen.note.outcomes.as_slice() else { panic!("{:?}", screen.note.outcomes) };
    assert_eq!((admitted.kind, admitted.day), (OutcomeKind::Admitted, yesterday));

    sam.sync_now().await.expect("Sam syncs");
    office.sync_now().await.expect("office syncs");
    let peggy = screen.visit.person_id.to_string();
    let seen = office.outcomes_of(&peggy).await.expect("the office's list");
    assert_eq!(
        seen.iter().map(|o| (o.kind, o.by.as_str())).collect::<Vec<_>>(),
        [(OutcomeKind::Admitted, "Sam Taylor (C001)")]
    );
    let home = office.record_outcome(outcome(&morning, OutcomeKind::HomeAgain, today())).await.expect("home again");
    assert_eq!(home.outcomes.len(), 2, "a manager records too");

    // The demo's Arthur went in nine days ago after a call to his GP, and was home the next day.
    let arthur =
        office.unlocked_store().await.expect("open").person_by_client_ref("P00002").expect("lookup").expect("Arthur");
    let his = office.outcomes_of(&arthur).await.expect("Arthur's outcomes");
    assert_eq!(
        his.iter().map(|o| (o.kind, o.day)).collect::<Vec<_>>(),
        [(OutcomeKind::HomeAgain, today() - Days::new(8)), (OutcomeKind::Admitted, today() - Days::new(9)),]
    );
    let call = format!("Calls before it: GP practice, {} 10:20", (today() - Days::new(9)).format("%-d %b"));
    assert!(his[1].links.contains(&call), "{:?}", his[1].links);

    // A tablet that writes an outcome as another carer (not through the app) is held back.
    {
        let mut store = sam.unlocked_store().await.expect("open");
        store
            .update::<VisitNote>(&NoteId::for_visit(screen.visit.id).to_string(), |note| {
                let mut forged = note.outcomes[0].clone();
                forged.key = "forged".into();
                forged.by = StaffId::new("C002");
                note.outcomes.push(forged);
                Ok(())
            })
            .expect("the forged outcome");
    }
    let badge = sam.sync_now().await.expect("sync");
    assert_eq!(badge.held_back.len(), 1, "{badge:?}");
    hub.stop().await;
}
