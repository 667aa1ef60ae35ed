//! "Couldn't do this visit", for each reason a carer gives at the door, through the commands the
//! visit screen sends: the visit closes with who said it and when, only "no answer" says to phone
//! the office now, and the office's device lists every one to chase after the next sync.

use doorstep_commands::{CouldNotArgs, DayArgs};
use doorstep_model::{CouldNotReason, VisitStatus};

use crate::device::{hub, visit_to};

#[tokio::test]
async fn refused_and_cancelled_by_the_office_close_the_visit_and_reach_the_office_in_words() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let (office, sam, priya) = crate::seams::team(&hub, dir.path()).await;

    let arthur = visit_to(&sam, "Arthur").await;
    let refused = sam
        .could_not_visit(CouldNotArgs {
            visit_id: arthur.clone(),
            reason: CouldNotReason::Refused,
            detail: "Said he was too tired today, seemed his usual self".into(),
            admitted_on: None,
        })
        .await
        .expect("refused");
    assert!(matches!(refused.visit.status, VisitStatus::Cancelled { .. }), "{:?}", refused.visit.status);
    let said = refused.visit.could_not.clone().expect("what Sam said");
    assert_eq!((said.reason, said.by.as_str()), (CouldNotReason::Refused, "C001"));
    assert!(!said.reason.phone_the_office_now(), "a refusal is told at the next sync, not phoned in");

    let edna = visit_to(&priya, "Edna").await;
    let cancelled = priya
        .could_not_visit(CouldNotArgs {
            visit_id: edna.clone(),
            reason: CouldNotReason::CancelledByOffice,
            detail: String::new(),
            admitted_on: None,
        })
        .await
        .expect("cancelled by the office");
    assert_eq!(cancelled.visit.could_not.as_ref().map(|c| c.reason), Some(CouldNotReason::CancelledByOffice));
    // The closed visit can no longer be checked in to.
    assert!(priya.check_in(&edna).await.is_err(), "a cancelled visit stays cancelled");

    sam.sync_now().await.expect("Sam syncs");
    priya.sync_now().await.expect("Priya syncs");
    office.sync_now().await.expect("the office syncs");
    let day = office.manager_day(DayArgs { day: None }).await.expect("the office's day");
    let chase: Vec<(&str, &str)> = day.chase.iter().map(|c| (c.person_name.as_str(), c.what.as_str())).collect();
    assert!(
        chase.iter().any(|(who, what)| who.contains("Arthur") && what.contains("said no")),
        "the refusal is listed in words: {chase:?}"
    );
    assert!(
        chase.iter().any(|(who, what)| who.contains("Edna") && what.contains("office cancelled")),
        "the cancellation is listed in words: {chase:?}"
    );
    let arthurs = day.chase.iter().find(|c| c.person_name.contains("Arthur")).expect("Arthur's visit");
    assert_eq!(arthurs.carers, ["Sam Taylor (C001)"], "with the carer's name");
}

/// Nobody answered Peggy's door this morning and no note was written: the evening visit's
/// handover still says so, with who and when, above the last note written.
#[tokio::test]
async fn a_visit_that_could_not_happen_is_in_the_next_visits_handover_without_a_note() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let (office, sam, priya) = crate::seams::team(&hub, dir.path()).await;
    let morning = visit_to(&sam, "Peggy").await;
    sam.could_not_visit(CouldNotArgs {
        visit_id: morning,
        reason: CouldNotReason::NoAnswer,
        detail: "Curtains closed".into(),
        admitted_on: None,
    })
    .await
    .expect("no answer");
    sam.sync_now().await.expect("Sam syncs");
    office.sync_now().await.expect("the office syncs");
    let evening = visit_to(&priya, "Peggy").await;
    let handover =
        office.visit(&evening).await.expect("the office opens the evening visit").handover.expect("handover");
    let said = handover.could_not.expect("the morning's no answer");
    assert!(said.contains("No answer at the door – Curtains closed") && said.contains("Sam Taylor (C001)"), "{said}");
}

/// The carer hears back when the office does not take an idea further: the reason reaches
/// Sam's Today banner after sync, from "The office", and not again once "My ideas" is opened.
#[tokio::test]
async fn an_idea_not_taken_further_reaches_the_carer_who_raised_it() {
    use doorstep_commands::{DeclineArgs, IdeaArgs};
    use doorstep_model::{PartnerKind, Urgency};

    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let (office, sam, _priya) = crate::seams::team(&hub, dir.path()).await;
    let day = sam.today(DayArgs { day: None }).await.expect("today");
    let peggy = day
        .visits
        .iter()
        .find(|v| v.person_name.as_deref().is_some_and(|n| n.contains("Peggy")))
        .expect("Peggy's visit")
        .person_id
        .clone();
    let idea = sam
        .record_idea(IdeaArgs {
            person_id: peggy,
            summary: "A second key safe for the back door".into(),
            detail: String::new(),
            suggested_action: String::new(),
            who_could_act: vec![PartnerKind::CouncilAdultSocialCare],
            urgency: Urgency::Routine,
        })
        .await
        .expect("Sam's idea");
    let id = idea.id.to_string();
    assert!(sam.new_replies().await.expect("none yet").is_empty());
    sam.sync_now().await.expect("Sam syncs");
    office.sync_now().await.expect("the office syncs");
    office
        .decline_idea(DeclineArgs { id: id.clone(), reason: "Her daughter is arranging it this week".into() })
        .await
        .expect("not taken further");
    office.sync_now().await.expect("the office syncs");
    sam.sync_now().await.expect("Sam syncs again");

    let new = sam.new_replies().await.expect("new replies");
    assert_eq!(new.len(), 1, "{new:?}");
    assert_eq!(new[0].from, "The office");
    assert_eq!(new[0].said, "Not taken further: Her daughter is arranging it this week");
    assert_eq!(new[0].person_name.as_deref(), Some("Margaret (Peggy) Jones"));
    sam.my_ideas().await.expect("Sam opens My ideas");
    assert!(sam.new_replies().await.expect("again").is_empty(), "read once opened");
}
