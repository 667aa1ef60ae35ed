//! "Did it help?" on the manager's device, offline, by the device's own clock: the demo's idea a
//! partner acted on comes up 30 days later, "too early to tell" brings it back 30 days after that
//! answer, a Yes settles it; a carer cannot answer, and an answer made on an older version of the
//! idea merges with what changed since.

use chrono::{Days, NaiveDate};
use doorstep_commands::{DayArgs, EditIdeaArgs, ErrorCode, FollowUpArgs};
use doorstep_demo::at;
use doorstep_device::LOCK_AFTER;
use doorstep_model::outcome::HelpAnswer;
use doorstep_model::{Insight, PartnerKind, PartnerOrg, ProviderRef, Role};

use crate::device::{enrolled, hub};
use crate::seams::test_clock;

#[tokio::test]
async fn an_idea_acted_on_asks_did_it_help_thirty_days_later_until_the_office_says_yes() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    // The partner acted on day 0; the demo says so 35 days before its today.
    let day0 = NaiveDate::from_ymd_opt(2026, 10, 1).expect("day");
    let demo_today = day0 + Days::new(35);
    let manager = enrolled(&hub, dir.path(), "M001", Role::Manager, LOCK_AFTER).await;
    let carer = enrolled(&hub, dir.path(), "C001", Role::Carer, LOCK_AFTER).await;
    let provider = ProviderRef { id: hub.provider, name: "Sunrise Home Care".into() };
    // From here on, no hub: everything below is the devices' own stores.
    hub.stop().await;
    let (office, clock) = test_clock(manager, at(day0 + Days::new(29), 12, 0));
    let set_day = |day: NaiveDate| *clock.lock().unwrap_or_else(|p| p.into_inner()) = at(day, 12, 0);
    let surgery =
        PartnerOrg { id: uuid::Uuid::from_u128(7), name: "Riverside Surgery".into(), kind: PartnerKind::GpPractice };
    let item = {
        let mut store = office.unlocked_store().await.expect("open");
        doorstep_demo::load_demo(&mut store, demo_today).expect("demo");
        doorstep_demo::follow_up_demo(&mut store, provider, &surgery, demo_today).expect("write").expect("written")
    };
    let idea_id = item.insight_id.to_string();

    // 29 days on: not yet. 30 days on: asked, with what the partner did and judged.
    assert!(office.follow_ups().await.expect("follow ups").is_empty(), "not at 29 days");
    set_day(day0 + Days::new(30));
    let rows = office.follow_ups().await.expect("follow ups");
    assert_eq!(rows.len(), 1, "{rows:#?}");
    let row = &rows[0];
    assert_eq!(row.insight_id, idea_id);
    assert_eq!(row.due, day0 + Days::new(30));
    assert!(row.summary.starts_with("Arthur sleeps in his chair"), "{}", row.summary);
    assert_eq!(row.person_name.as_deref(), Some("Arthur Patel"));
    assert_eq!(row.actions.len(), 1);
    assert_eq!((row.actions[0].partner.as_str(), row.actions[0].by.as_str()), ("Riverside Surgery", "Dr Ruth Evans"));
    assert!(row.actions[0].said.contains("rescue pack"), "{}", row.actions[0].said);
    assert_eq!(row.judgement.as_deref(), Some("Riverside Surgery judged that an admission was likely avoided"));
    assert_eq!(row.asked_before, None);
    let day = office.manager_day(DayArgs { day: None }).await.expect("the office's day");
    assert_eq!(day.follow_ups_due, 1, "counted on the office's day");

    // A carer's tablet cannot answer; nor can a manager with too many words.
    let answer = |seen, answer, detail: &str| FollowUpArgs {
        insight_id: idea_id.clone(),
        seen,
        answer,
        detail: detail.to_string(),
    };
    let refused = carer.answer_follow_up(answer(row.version.clone(), HelpAnswer::Yes, "")).await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Invalid);
    assert_eq!(refused.message, "Only a manager's device can do this.");
    assert_eq!(carer.follow_ups().await.unwrap_err().code, ErrorCode::Invalid);
    let long = "x".repeat(1001);
    let refused = office.answer_follow_up(answer(row.version.clone(), HelpAnswer::Yes, &long)).await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Invalid);
    assert_eq!(refused.message, "Keep what you add under 1000 characters.");

    // Another manager edits the idea's words meanwhile; "too early to tell", saved on the
    // version the screen showed, keeps their edit and takes it off the list.
    let seen = row.version.clone();
    let idea: Insight = office.unlocked_store().await.expect("open").get(&idea_id).expect("idea");
    office
        .edit_idea(EditIdeaArgs {
            id: idea_id.clone(),
            base: seen.clone(),
            summary: "Arthur sleeps in his chair, too breathless to lie flat".into(),
            detail: idea.detail.clone(),
            suggested_action: idea.suggested_action.clone(),
        })
        .await
        .expect("edited");
    let left = office.answer_follow_up(answer(seen.clone(), HelpAnswer::TooEarly, " Still settling in. ")).await;
    assert!(left.expect("answered").is_empty(), "answered: off the list");
    let idea: Insight = office.unlocked_store().await.expect("open").get(&idea_id).expect("idea");
    assert_eq!(idea.summary, "Arthur sleeps in his chair, too breathless to lie flat", "the other edit kept");
    let said = idea.follow_up.clone().expect("the answer is on the idea");
    assert_eq!(
        (said.answer, said.by.as_str(), said.detail.as_str()),
        (HelpAnswer::TooEarly, "Mo Khan (M001)", "Still settling in.")
    );
    assert_eq!(said.at, at(day0 + Days::new(30), 12, 0), "by the device's clock");
    assert_eq!(office.manager_day(DayArgs { day: None }).await.expect("day").follow_ups_due, 0);

    // Too early to tell asks again 30 days after that answer, not before.
    set_day(day0 + Days::new(59));
    assert!(office.follow_ups().await.expect("follow ups").is_empty(), "29 days after 'too early'");
    set_day(day0 + Days::new(60));
    let rows = office.follow_ups().await.expect("follow ups");
    assert_eq!(rows.len(), 1, "asked again");
    assert_eq!(rows[0].due, day0 + Days::new(60));
    assert_eq!(rows[0].summary, "Arthur sleeps in his chair, too breathless to lie flat");
    assert_eq!(rows[0].asked_before.as_deref(), Some("Too early to tell, said Mo Khan (M001) on 31 Oct 2026"));

    // Yes settles it for good.
    let left =
        office.answer_follow_up(answer(rows[0].version.clone(), HelpAnswer::Yes, "No night-time calls since")).await;
    assert!(left.expect("answered").is_empty());
    set_day(day0 + Days::new(200));
    assert!(office.follow_ups().await.expect("follow ups").is_empty(), "a Yes is not asked again");
    let idea: Insight = office.unlocked_store().await.expect("open").get(&idea_id).expect("idea");
    let said = idea.follow_up.expect("the answer");
    assert_eq!((said.answer, said.by.as_str()), (HelpAnswer::Yes, "Mo Khan (M001)"));
    assert_eq!(said.at, at(day0 + Days::new(60), 12, 0));

    // Two answers both made on that same older version (two managers apart): both merge, one
    // answer stands, and the summary another manager changed is kept.
    office.answer_follow_up(answer(seen.clone(), HelpAnswer::No, "")).await.expect("a stale answer merges");
    let idea: Insight = office.unlocked_store().await.expect("open").get(&idea_id).expect("idea");
    assert_eq!(idea.summary, "Arthur sleeps in his chair, too breathless to lie flat");
    let answer = idea.follow_up.expect("an answer stands").answer;
    assert!(matches!(answer, HelpAnswer::Yes | HelpAnswer::No), "a later answer, not 'too early': {answer:?}");
}

/// The hub keeps the same rule: a carer's tablet that writes "did it help?" on an idea (say, an
/// old or altered app) has the change held back, and the idea at the hub stays unanswered.
#[tokio::test]
async fn the_hub_holds_back_a_carers_answer_to_did_it_help() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let office = crate::device::office(&hub, dir.path()).await;
    let sam = enrolled(&hub, dir.path(), "C001", Role::Carer, LOCK_AFTER).await;
    sam.sync_now().await.expect("the rota arrives");
    let peggy = {
        let people = office.unlocked_store().await.expect("open").people().expect("people");
        people.into_iter().find(|p| p.display_name.contains("Margaret")).expect("Peggy").id
    };
    let idea = sam
        .record_idea(doorstep_commands::IdeaArgs {
            person_id: peggy,
            summary: "Grab rail by the back door".into(),
            detail: "She steadies herself on the door frame every morning.".into(),
            suggested_action: "OT home assessment".into(),
            who_could_act: vec![PartnerKind::OtEquipment],
            urgency: doorstep_model::Urgency::Soon,
        })
        .await
        .expect("idea");
    assert!(sam.sync_now().await.expect("the idea reaches the hub").held_back.is_empty());
    let id = idea.id.to_string();
    sam.unlocked_store()
        .await
        .expect("open")
        .update::<Insight>(&id, |i| {
            i.follow_up = Some(doorstep_model::outcome::FollowUp {
                answer: HelpAnswer::Yes,
                by: "Sam".into(),
                at: chrono::Utc::now(),
                detail: String::new(),
            });
            Ok(())
        })
        .expect("written on the tablet");
    let badge = sam.sync_now().await.expect("sync");
    assert_eq!(badge.held_back.len(), 1, "held back: {badge:?}");
    office.sync_now().await.expect("the office syncs");
    let at_office: Insight = office.unlocked_store().await.expect("open").get(&id).expect("idea");
    assert_eq!(at_office.follow_up, None, "the office never receives it");
    hub.stop().await;
}
