//! Where words were lost between the layers: a note editor saving over words merged in while it
//! was open, sign-out deleting what the hub held back, held-back records never sent again,
//! failures hidden behind "changes waiting", and the lock walked around. Each test drives the
//! device core's commands, as the UI sends them, against a real hub on a loopback port.

use std::path::Path;

use doorstep_commands::{DayArgs, EditIdeaArgs, ErrorCode, HeldBackRef, IdeaArgs, NarrativeArgs, ShareArgs};
use doorstep_device::{Device, LOCK_AFTER};
use doorstep_hub::sqlite::SqliteStorage;
use doorstep_model::{
    DocVersion, Insight, InsightId, NoteId, PartnerKind, Person, PersonId, Role, SharedItem, StaffId, Urgency, Visit,
    VisitId,
};
use doorstep_tests::{TestHub, today};
use uuid::Uuid;

use crate::device::{PIN, hub};

async fn enrolled(hub: &TestHub<SqliteStorage>, dir: &Path, staff: &str, role: Role) -> Device {
    crate::device::enrolled(hub, dir, staff, role, LOCK_AFTER).await
}

/// The office with the demo caseload, and Sam (C001) and Priya (C002) with their rotas.
pub(crate) async fn team(hub: &TestHub<SqliteStorage>, dir: &Path) -> (Device, Device, Device) {
    let office = enrolled(hub, dir, "M001", Role::Manager).await;
    doorstep_demo::load_demo(&mut office.unlocked_store().await.expect("open"), today()).expect("demo");
    office.sync_now().await.expect("office sync");
    let sam = enrolled(hub, dir, "C001", Role::Carer).await;
    let priya = enrolled(hub, dir, "C002", Role::Carer).await;
    sam.sync_now().await.expect("Sam's rota");
    priya.sync_now().await.expect("Priya's rota");
    (office, sam, priya)
}

/// Today's double-up: the visit both Sam and Priya are on.
async fn double_up(sam: &Device) -> String {
    let day = sam.today(DayArgs { day: None }).await.expect("today");
    day.visits.iter().find(|v| v.carers.len() == 2).expect("a double-up today").id.clone()
}

fn narrative(visit_id: &str, text: &str, base: &DocVersion) -> NarrativeArgs {
    NarrativeArgs { visit_id: visit_id.to_string(), narrative: text.to_string(), base: base.clone() }
}

#[tokio::test]
async fn a_note_editor_open_while_the_other_carers_words_merge_in_keeps_them() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let (_office, sam, priya) = team(&hub, dir.path()).await;
    let visit = double_up(&sam).await;

    // Both open the visit before anyone has written: each editor types on the empty note.
    let sam_screen = sam.visit(&visit).await.expect("Sam's screen");
    let priya_screen = priya.visit(&visit).await.expect("Priya's screen");
    assert_eq!(sam_screen.note_version, priya_screen.note_version, "the same first version on both");

    let priya_saved = priya
        .save_narrative(narrative(&visit, "Priya: Harold ate all his lunch.", &priya_screen.note_version))
        .await
        .expect("Priya saves");
    priya.sync_now().await.expect("Priya syncs");
    // Background sync merges Priya's words into Sam's note while Sam's editor is still open
    // with the text it loaded (empty).
    sam.sync_now().await.expect("Sam syncs");

    let first = sam
        .save_narrative(narrative(&visit, "Sam: skin on his heels is intact.", &sam_screen.note_version))
        .await
        .expect("Sam saves against what the screen showed");
    assert!(first.narrative.contains("Priya: Harold ate all his lunch."), "{}", first.narrative);
    assert!(first.narrative.contains("Sam: skin on his heels is intact."), "{}", first.narrative);

    // Sam typed on before the merged text reached the screen: the editor saves against the
    // version of the text it sent.
    let more = format!("{} He walked to the kitchen.", "Sam: skin on his heels is intact.");
    let second = sam.save_narrative(narrative(&visit, &more, &first.typed_version)).await.expect("Sam saves again");
    assert!(second.narrative.contains("Priya: Harold ate all his lunch."), "{}", second.narrative);
    assert!(second.narrative.contains("He walked to the kitchen."), "{}", second.narrative);
    assert_eq!(second.narrative.matches("Sam: skin").count(), 1, "nothing doubled: {}", second.narrative);
    // The screen then shows the merged text, and the next edit is made on it.
    let shown = format!("{} Legs raised on the stool.", second.narrative);
    let third =
        sam.save_narrative(narrative(&visit, &shown, &second.version)).await.expect("Sam saves on the merged text");
    assert_eq!(third.narrative, shown);

    // Priya, also still on her first screen, types more against her own last save.
    let priya_more = "Priya: Harold ate all his lunch. Drank two cups of tea.";
    priya.save_narrative(narrative(&visit, priya_more, &priya_saved.version)).await.expect("Priya saves again");
    priya.sync_now().await.expect("Priya syncs");
    sam.sync_now().await.expect("Sam syncs");
    priya.sync_now().await.expect("Priya syncs again");
    let on_sam = sam.visit(&visit).await.expect("Sam's note").note.narrative;
    let on_priya = priya.visit(&visit).await.expect("Priya's note").note.narrative;
    assert_eq!(on_sam, on_priya, "both tablets show the same note");
    for words in ["Drank two cups of tea.", "He walked to the kitchen.", "skin on his heels is intact"] {
        assert!(on_sam.contains(words), "{words:?} lost from {on_sam:?}");
    }
    hub.stop().await;
}

#[tokio::test]
async fn a_managers_idea_form_changes_only_what_the_manager_changed() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let (office, sam, _priya) = team(&hub, dir.path()).await;
    let visit = double_up(&sam).await;
    let person = sam.visit(&visit).await.expect("screen").visit.person_id.to_string();
    let idea = sam
        .record_idea(IdeaArgs {
            person_id: person,
            summary: "Grab rail by the back door".into(),
            detail: "Holds the door frame to step out.".into(),
            suggested_action: "Ask the council for a rail.".into(),
            who_could_act: vec![PartnerKind::CouncilAdultSocialCare],
            urgency: Urgency::Soon,
        })
        .await
        .expect("idea");
    sam.sync_now().await.expect("Sam syncs");
    office.sync_now().await.expect("the office gets it");
    let id = idea.id.to_string();
    let form = office.idea(&id).await.expect("the manager opens the idea");

    // While the form is open, the idea's detail changes on the office's device (another
    // manager's edit, merged in by sync).
    office
        .unlocked_store()
        .await
        .expect("open")
        .update::<Insight>(&id, |i| {
            i.detail = "Holds the door frame to step out; nearly fell on Tuesday.".into();
            Ok(())
        })
        .expect("the other edit");

    // The manager changes only the summary; the form still holds the old detail.
    let edited = office
        .edit_idea(EditIdeaArgs {
            id,
            base: form.version.clone(),
            summary: "Grab rail by the back door (step down)".into(),
            detail: form.insight.detail.clone(),
            suggested_action: form.insight.suggested_action.clone(),
        })
        .await
        .expect("save the form");
    assert_eq!(edited.insight.summary, "Grab rail by the back door (step down)");
    assert_eq!(
        edited.insight.detail, "Holds the door frame to step out; nearly fell on Tuesday.",
        "the other edit stays"
    );
    hub.stop().await;
}

/// The hub, the team, and Sam's tablet holding back a refused change to today's double-up.
async fn with_a_held_back_change() -> (tempfile::TempDir, TestHub<SqliteStorage>, Device, Device, String) {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let (office, sam, _priya) = team(&hub, dir.path()).await;
    let visit = double_up(&sam).await;
    a_change_the_hub_refuses(&sam, &visit).await;
    (dir, hub, office, sam, visit)
}

/// A change the hub refuses from a carer (an older app let carers take others off a visit): the
/// hub holds it back with its reason, and the tablet keeps it.
async fn a_change_the_hub_refuses(sam: &Device, visit: &str) {
    sam.unlocked_store()
        .await
        .expect("open")
        .update::<Visit>(visit, |v| {
            v.carers = vec![StaffId::new("C001")];
            Ok(())
        })
        .expect("the change");
}

#[tokio::test]
async fn sign_out_never_deletes_a_record_the_hub_held_back_and_names_it() {
    let (_dir, hub, _office, sam, visit) = with_a_held_back_change().await;
    let badge = sam.sync_now().await.expect("sync");
    assert_eq!(badge.held_back.len(), 1, "{badge:?}");
    let (what, why) = &badge.held_back[0];
    assert!(what.starts_with("Visit to "), "named as a carer knows it: {what}");
    assert!(!why.is_empty());
    assert_eq!(badge.waiting, 0, "held back is not 'waiting'");

    let refused = sam.sign_out().await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Unsynced, "{}", refused.message);
    assert!(refused.message.contains(what.as_str()), "the refusal names the record: {}", refused.message);
    assert!(refused.message.contains("Nothing has been deleted"), "{}", refused.message);
    let kept: Visit = sam.unlocked_store().await.expect("open").get(&visit).expect("still on the tablet");
    assert_eq!(kept.carers, vec![StaffId::new("C001")], "the held-back change is kept");

    // "Try again" sends it again; the hub still refuses it, and still nothing is lost.
    let again = sam.retry_held_back().await.expect("try again");
    assert_eq!(again.held_back.len(), 1, "{again:?}");
    assert_eq!(sam.sign_out().await.unwrap_err().code, ErrorCode::Unsynced);
    hub.stop().await;
}

/// What the hub knows of Sam's tablet: how many records it holds back (for the office's devices
/// page), and how many times the hub has refused `doc` from it (each push of a refused change is
/// audited).
async fn at_hub(hub: &TestHub<SqliteStorage>, doc: &str) -> (u32, usize) {
    use doorstep_hub::storage::HubStorage;
    let devices = hub.storage.device_statuses(Some(hub.provider)).await.expect("devices");
    let sam = devices.iter().find(|d| d.device.staff_ref == "C001").expect("Sam's tablet");
    let doc = Uuid::parse_str(doc).expect("uuid");
    let audit = hub.storage.audit_log(10_000).await.expect("audit");
    let refused = audit.iter().filter(|e| e.action == "write" && !e.allowed && e.doc_id == Some(doc)).count();
    (sam.last_held_back, refused)
}

#[tokio::test]
async fn held_back_records_are_sent_again_when_the_hubs_rules_change_and_after_an_app_update() {
    let (dir, hub, office, sam, visit) = with_a_held_back_change().await;
    assert_eq!(sam.sync_now().await.expect("sync").held_back.len(), 1);
    assert_eq!(at_hub(&hub, &visit).await, (1, 1));
    // Held back: not sent again by an ordinary sync, but still counted for the office.
    sam.sync_now().await.expect("sync");
    assert_eq!(at_hub(&hub, &visit).await, (1, 1), "not pushed again, still held");
    let devices = office.devices().await.expect("the office's devices page");
    let row = devices.iter().find(|d| d.staff_ref == "C001").expect("Sam's tablet");
    assert_eq!(row.held_back, 1, "the office sees which tablet holds records back");
    assert!(row.last_sync_at.is_some());

    // The hub answers with other rules than the tablet last saw: it tries again.
    sam.unlocked_store().await.expect("open").set_setting("hub_rules", "0").expect("set");
    sam.sync_now().await.expect("sync");
    assert_eq!(at_hub(&hub, &visit).await, (1, 2), "sent again under the new rules");
    sam.sync_now().await.expect("sync");
    assert_eq!(at_hub(&hub, &visit).await, (1, 2));

    // The office asks every tablet to send them again (after fixing the cause).
    office.ask_held_back_retry().await.expect("ask");
    sam.sync_now().await.expect("sync");
    assert_eq!(at_hub(&hub, &visit).await, (1, 3), "sent again when the office asked");
    assert_eq!(
        sam.unlocked_store().await.expect("open").setting("hub_rules").expect("setting").as_deref(),
        Some("1.1"),
        "rules version 1, asked once",
    );

    // An app update: the next start tries again.
    sam.unlocked_store().await.expect("open").set_setting("app_version", "0.0.1").expect("set");
    drop(sam);
    let sam = Device::open(dir.path().join("C001.db"), LOCK_AFTER).expect("open");
    sam.unlock(PIN).await.expect("unlock");
    // Unlocking starts background sync, which sends it again at once.
    let started = std::time::Instant::now();
    while at_hub(&hub, &visit).await.1 != 4 {
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "never sent again after the update");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let started = std::time::Instant::now();
    while sam.sync_badge().await.expect("badge").held_back.len() != 1 {
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "held back again, and still kept");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    hub.stop().await;
}

/// "Sync now" pressed while the background sync runs: one sync at a time, so a change is sent
/// once (two at once each sent it, and the hub refused the held-back change twice).
#[tokio::test]
async fn two_syncs_at_once_send_a_change_once() {
    let (_dir, hub, _office, sam, visit) = with_a_held_back_change().await;
    let (first, second) = tokio::join!(sam.sync_now(), sam.sync_now());
    first.expect("sync");
    second.expect("sync");
    assert_eq!(at_hub(&hub, &visit).await, (1, 1), "sent once, held back once");
    hub.stop().await;
}

#[tokio::test]
async fn the_office_lists_each_held_back_record_by_tablet_and_discards_one_for_good() {
    let (_dir, hub, office, sam, visit) = with_a_held_back_change().await;
    assert_eq!(sam.sync_now().await.expect("sync").held_back.len(), 1);

    // The office's devices page: which tablet, which record (named from the office's own
    // records), why, since when.
    let devices = office.devices().await.expect("devices");
    let row = devices.iter().find(|d| d.staff_ref == "C001").expect("Sam's tablet");
    assert_eq!(row.held_back_records.len(), 1, "{row:?}");
    let held = &row.held_back_records[0];
    assert_eq!(held.record.to_string(), visit);
    assert!(held.what.starts_with("Visit to "), "named as the office knows it: {}", held.what);
    assert_eq!(held.reason, "this device is not allowed to change this record");
    assert!(!held.discard_asked);
    let ask = HeldBackRef { device: row.id.to_string(), record: visit.clone() };

    // Only the office may discard, and only what a tablet of its own holds back.
    assert_eq!(sam.discard_held_back(ask.clone()).await.unwrap_err().code, ErrorCode::Invalid);
    let token = sam.unlocked_store().await.expect("open").setting("device_token").expect("setting").expect("token");
    let at_hub = doorstep_sync::SyncClient::new(&hub.url, &token).discard_held_back(row.id, held.record).await;
    assert!(
        matches!(at_hub, Err(doorstep_sync::SyncError::Refused { status: 403, .. })),
        "the hub refuses a carer's device too: {at_hub:?}"
    );
    let unknown = HeldBackRef { device: row.id.to_string(), record: Uuid::new_v4().to_string() };
    assert!(office.discard_held_back(unknown).await.is_err(), "no such held-back record");
    let after = office.discard_held_back(ask).await.expect("discard");
    let row = after.iter().find(|d| d.staff_ref == "C001").expect("Sam's tablet");
    assert!(row.held_back_records[0].discard_asked, "shown as asked until the tablet has done it");

    // Sam's next sync drops the refused change and takes the office's copy; nothing is held back
    // or waiting, so Sam can sign out; the office's list empties.
    let badge = sam.sync_now().await.expect("sync");
    assert!(badge.held_back.is_empty(), "{badge:?}");
    assert_eq!(badge.waiting, 0);
    let kept: Visit = sam.unlocked_store().await.expect("open").get(&visit).expect("the office's copy");
    assert_eq!(kept.carers.len(), 2, "the hub's copy, with both carers: {:?}", kept.carers);
    sam.sync_now().await.expect("sync");
    let devices = office.devices().await.expect("devices");
    let row = devices.iter().find(|d| d.staff_ref == "C001").expect("Sam's tablet");
    assert!(row.held_back_records.is_empty() && row.held_back == 0, "{row:?}");
    sam.sign_out().await.expect("nothing the office lacks: signing out is allowed");

    use doorstep_hub::storage::HubStorage;
    let audit = hub.storage.audit_log(10_000).await.expect("audit");
    let discards: Vec<bool> = audit.iter().filter(|e| e.action == "held_back_discard").map(|e| e.allowed).collect();
    assert_eq!(discards.iter().filter(|a| **a).count(), 1, "the discard is audited");
    assert_eq!(discards.iter().filter(|a| !**a).count(), 1, "and so is the refused one");
    hub.stop().await;
}

/// The office changes a visit's carers; the tablet syncs afterwards.
async fn set_carers(office: &Device, visit: &str, carers: &[&str]) {
    office
        .unlocked_store()
        .await
        .expect("open")
        .update::<Visit>(visit, |v| {
            v.carers = carers.iter().map(|c| StaffId::new(*c)).collect();
            Ok(())
        })
        .expect("rota change");
    office.sync_now().await.expect("office sync");
}

#[tokio::test]
async fn a_carer_taken_off_a_visit_and_put_back_keeps_it_and_what_they_typed_meanwhile() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let (office, sam, _priya) = team(&hub, dir.path()).await;
    let visit = double_up(&sam).await;

    // Off and back on before Sam's tablet syncs: its next page holds the purge and then the
    // grant again; the visit must stay.
    set_carers(&office, &visit, &["C002"]).await;
    set_carers(&office, &visit, &["C001", "C002"]).await;
    sam.sync_now().await.expect("sync");
    sam.visit(&visit).await.expect("still on Sam's tablet");

    // Off the visit while Sam types: the hub holds the note back (not Sam's visit now), the
    // tablet keeps it; back on, the office asks again and the hub takes it.
    set_carers(&office, &visit, &["C002"]).await;
    let screen = sam.visit(&visit).await.expect("not synced yet");
    sam.save_narrative(narrative(&visit, "Sam: fed the cat.", &screen.note_version)).await.expect("saved");
    let badge = sam.sync_now().await.expect("sync");
    assert_eq!(badge.held_back.len(), 1, "held back while Sam is off the visit: {badge:?}");
    set_carers(&office, &visit, &["C001", "C002"]).await;
    office.ask_held_back_retry().await.expect("ask again");
    let badge = sam.sync_now().await.expect("sync");
    assert!(badge.held_back.is_empty() && badge.waiting == 0, "{badge:?}");
    assert!(sam.visit(&visit).await.expect("back on Sam's tablet").note.narrative.contains("fed the cat"));
    office.sync_now().await.expect("office sync");
    assert!(office.visit(&visit).await.expect("office").note.narrative.contains("fed the cat"), "the office has it");
    hub.stop().await;
}

#[tokio::test]
async fn a_record_from_the_hub_that_will_not_apply_is_recorded_and_shown_and_the_rest_arrives() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let (_office, sam, priya) = team(&hub, dir.path()).await;
    let visit = double_up(&sam).await;
    let visit_uuid = VisitId(Uuid::parse_str(&visit).expect("uuid"));
    // Sam's tablet holds something else under the id Priya's note will have, so the note
    // cannot be applied there.
    let note_id = NoteId::for_visit(visit_uuid);
    let squatter = Insight {
        follow_up: None,
        id: InsightId(note_id.0),
        person_id: Some(PersonId(Uuid::nil())),
        author: StaffId::new("C001"),
        created_at: chrono::Utc::now(),
        summary: "In the way".into(),
        detail: String::new(),
        suggested_action: String::new(),
        who_could_act: vec![],
        urgency: Urgency::Routine,
        consent_basis: doorstep_model::ConsentBasis::NotYetAsked,
        status: doorstep_model::InsightStatus::Submitted,
        comments: vec![],
        shares: vec![],
    };
    sam.unlocked_store().await.expect("open").put(&squatter).expect("put");
    let screen = priya.visit(&visit).await.expect("screen");
    priya.save_narrative(narrative(&visit, "Priya was here.", &screen.note_version)).await.expect("save");
    priya.sync_now().await.expect("Priya syncs");

    let badge = sam.sync_now().await.expect("the sync goes on past the bad record");
    assert_eq!(badge.not_received.len(), 1, "shown on the badge: {badge:?}");
    let state = sam.unlocked_store().await.expect("open").local_sync_state().expect("state");
    assert_eq!(state.pull_failures.len(), 1);
    assert_eq!(state.pull_failures[0].id, note_id.to_string());
    assert!(!state.pull_failures[0].reason.is_empty(), "with its reason");
    assert!(sam.sync_now().await.expect("again").not_received.len() == 1, "kept until it applies");
    hub.stop().await;
}

#[tokio::test]
async fn a_refused_tablet_says_why_in_plain_words_and_when_it_last_reached_the_office() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let (_office, sam, _priya) = team(&hub, dir.path()).await;
    let before = sam.sync_now().await.expect("sync");
    let synced_at = before.last_synced_at.expect("synced");
    sam.unlocked_store().await.expect("open").set_setting("device_token", "ds1.not-a-real-token").expect("set");
    let refused = sam.sync_now().await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Refused, "{}", refused.message);
    let badge = sam.sync_badge().await.expect("badge");
    let problem = badge.problem.clone().expect("a problem, not 'changes waiting'");
    assert!(problem.contains("ask the office to set it up again"), "{problem}");
    assert_eq!(badge.last_synced_at, Some(synced_at), "still says when it last reached the office");
    hub.stop().await;
}

#[tokio::test]
async fn offline_after_a_restart_the_badge_still_says_when_the_office_was_last_reached() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let sam = enrolled(&hub, dir.path(), "C001", Role::Carer).await;
    let synced_at = sam.sync_now().await.expect("sync").last_synced_at.expect("synced");
    drop(sam);
    hub.stop().await;
    let sam = Device::open(dir.path().join("C001.db"), LOCK_AFTER).expect("open");
    sam.unlock(PIN).await.expect("unlock");
    assert!(sam.sync_now().await.expect("offline is not an error").offline);
    let mut badge = sam.sync_badge().await.expect("badge");
    for _ in 0..100 {
        if !badge.syncing {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        badge = sam.sync_badge().await.expect("badge");
    }
    let shown = badge.last_synced_at.expect("the last sync, from before the restart");
    assert!((shown - synced_at).num_seconds().abs() <= 1, "{shown} vs {synced_at}");
    assert!(
        badge.headline(chrono::Utc::now()).contains("last reached the office"),
        "{}",
        badge.headline(chrono::Utc::now())
    );
}

#[tokio::test]
async fn a_locked_device_hands_out_no_store() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let sam = enrolled(&hub, dir.path(), "C001", Role::Carer).await;
    assert!(sam.unlocked_store().await.is_ok());
    sam.lock().await.expect("lock");
    assert_eq!(sam.unlocked_store().await.unwrap_err().code, ErrorCode::Locked);
    sam.unlock(PIN).await.expect("unlock");
    assert!(sam.unlocked_store().await.is_ok());
    hub.stop().await;
}

/// One step of two carers' double-up, as the visit screen, background sync and the office's
/// server take it.
#[derive(Debug, Clone)]
enum Step {
    /// The carer types a new word and the editor saves; `looks` says whether the screen then
    /// shows the merged note (the carer paused) or the carer had typed on (it keeps their text).
    Type {
        carer: usize,
        looks: bool,
    },
    /// The carer deletes the newest of their own words still on their screen, and it saves.
    Delete {
        carer: usize,
    },
    /// Background sync runs on the carer's tablet.
    Sync {
        carer: usize,
    },
    /// The visit screen reloads after a sync (the carer was not typing).
    Reload {
        carer: usize,
    },
    /// The office's server goes away (no signal), or comes back.
    HubDown,
    HubUp,
    /// The tablet locks itself; nothing is readable until the PIN is entered again.
    Lock {
        carer: usize,
    },
    /// The carer tries to sign out; if it is allowed, they set the tablet up again.
    SignOut {
        carer: usize,
    },
    /// The office takes the carer off the visit: what they type meanwhile the hub holds back
    /// (they are not on the visit), and the visit leaves their tablet at its next sync.
    OffRota {
        carer: usize,
    },
    /// The office puts the carer back on the visit and asks tablets to send held-back records
    /// again: the hub now accepts what it held back.
    BackOnRota {
        carer: usize,
    },
    /// The office revokes the carer's tablet (lost): it wipes itself at its next sync, and the
    /// carer gets a new one. Only words that never reached the office may go with it.
    Revoke {
        carer: usize,
    },
}

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    let carer = 0..2usize;
    prop_oneof![
        8 => (carer.clone(), any::<bool>()).prop_map(|(carer, looks)| Step::Type { carer, looks }),
        2 => carer.clone().prop_map(|carer| Step::Delete { carer }),
        6 => carer.clone().prop_map(|carer| Step::Sync { carer }),
        4 => carer.clone().prop_map(|carer| Step::Reload { carer }),
        1 => Just(Step::HubDown),
        2 => Just(Step::HubUp),
        1 => carer.clone().prop_map(|carer| Step::Lock { carer }),
        1 => carer.clone().prop_map(|carer| Step::SignOut { carer }),
        1 => carer.clone().prop_map(|carer| Step::OffRota { carer }),
        2 => carer.clone().prop_map(|carer| Step::BackOnRota { carer }),
        1 => carer.prop_map(|carer| Step::Revoke { carer }),
    ]
}

/// A note editor as the UI's keeps it: the text on screen and the version it was typed on.
#[derive(Default)]
struct Editor {
    text: String,
    base: DocVersion,
}

/// The office, both carers' tablets and the hub, which a schedule may take away and bring back.
struct World {
    dir: tempfile::TempDir,
    hub: Option<TestHub<SqliteStorage>>,
    storage: SqliteStorage,
    provider: Uuid,
    address: String,
    office: Device,
    carers: [Device; 2],
    /// Sign-outs the schedules made, and refused.
    sign_outs: (usize, usize),
    /// Records held back and later accepted; words that went with a revoked tablet before
    /// ever reaching the office (allowed: it was lost).
    held_then_accepted: usize,
    lost_with_revoked_tablet: usize,
}

const STAFF: [&str; 2] = ["C001", "C002"];

impl World {
    async fn new() -> World {
        let dir = tempfile::TempDir::new().expect("dir");
        let hub = hub(dir.path()).await;
        let (office, sam, priya) = team(&hub, dir.path()).await;
        World {
            storage: hub.storage.clone(),
            provider: hub.provider,
            address: hub.url.trim_start_matches("http://").to_string(),
            hub: Some(hub),
            dir,
            office,
            carers: [sam, priya],
            sign_outs: (0, 0),
            held_then_accepted: 0,
            lost_with_revoked_tablet: 0,
        }
    }

    async fn hub_up(&mut self) {
        if self.hub.is_none() {
            self.hub = Some(TestHub::serve_at(self.storage.clone(), self.provider, &self.address).await);
        }
    }

    async fn hub_down(&mut self) {
        if let Some(hub) = self.hub.take() {
            hub.stop().await;
        }
    }

    async fn note(&self, carer: usize, visit_id: &str) -> Result<String, String> {
        Ok(self.carers[carer].visit(visit_id).await.map_err(|e| e.message)?.note.narrative)
    }

    /// The office puts the carer on the visit, or takes them off, and syncs.
    async fn set_on_visit(&mut self, carer: usize, visit_id: &str, on: bool) -> Result<(), String> {
        self.hub_up().await;
        {
            let mut store = self.office.unlocked_store().await.map_err(|e| e.message)?;
            store
                .update::<Visit>(visit_id, |v| {
                    v.carers.retain(|c| c.as_str() != STAFF[carer]);
                    if on {
                        v.carers.push(StaffId::new(STAFF[carer]));
                    }
                    Ok(())
                })
                .map_err(|e| e.to_string())?;
        }
        self.office.sync_now().await.map_err(|e| e.message)?;
        Ok(())
    }

    /// Sets up a new tablet for the carer, synced (after a sign-out).
    async fn new_tablet(&mut self, carer: usize, visit_id: &str) -> Result<Editor, String> {
        self.hub_up().await;
        let hub = self.hub.as_ref().ok_or("no hub")?;
        self.carers[carer] = enrolled(hub, self.dir.path(), STAFF[carer], Role::Carer).await;
        self.opened_on(carer, visit_id).await
    }

    /// The carer's wiped tablet (revoked) is given a new code and set up again, synced.
    async fn set_up_again(&mut self, carer: usize, visit_id: &str) -> Result<Editor, String> {
        self.hub_up().await;
        let hub = self.hub.as_ref().ok_or("no hub")?;
        let code = hub.code(STAFF[carer], Role::Carer).await;
        let args = doorstep_commands::EnrolArgs {
            hub_url: hub.url.clone(),
            code,
            device_name: format!("{}'s new tablet", STAFF[carer]),
            pin: PIN.into(),
            hub_certificate: None,
        };
        self.carers[carer].enrol(args).await.map_err(|e| e.message)?;
        self.opened_on(carer, visit_id).await
    }

    /// The carer's tablet syncs and opens the visit: the editor as it then stands.
    async fn opened_on(&self, carer: usize, visit_id: &str) -> Result<Editor, String> {
        let tablet = &self.carers[carer];
        tablet.sync_now().await.map_err(|e| e.message)?;
        let screen = tablet.visit(visit_id).await.map_err(|e| e.message)?;
        Ok(Editor { text: screen.note.narrative, base: screen.note_version })
    }
}

/// Runs one schedule on a fresh double-up visit and returns the words saved and not deleted
/// that are missing from the converged note. Checks after every step that each tablet's own
/// note holds every word saved on it and not deleted (after a sign-out, once set up again and
/// synced: sign-out must not have thrown any away).
async fn run_schedule(world: &mut World, steps: &[Step]) -> Result<usize, String> {
    world.hub_up().await;
    // A new double-up for Harold, so every schedule starts from an empty note.
    let template = double_up(&world.carers[0]).await;
    let visit_id = {
        let mut store = world.office.unlocked_store().await.map_err(|e| e.message)?;
        let mut visit: Visit = store.get(&template).map_err(|e| e.to_string())?;
        visit.id = VisitId(Uuid::new_v4());
        store.put(&visit).map_err(|e| e.to_string())?;
        visit.id.to_string()
    };
    world.office.sync_now().await.map_err(|e| e.message)?;
    let mut editors = [Editor::default(), Editor::default()];
    for (carer, editor) in world.carers.iter().zip(&mut editors) {
        carer.sync_now().await.map_err(|e| e.message)?;
        let screen = carer.visit(&visit_id).await.map_err(|e| e.message)?;
        *editor = Editor { text: screen.note.narrative, base: screen.note_version };
    }
    // Words saved: the word, the tablet it was typed on, whether its carer deleted it.
    let mut words: Vec<(String, usize, bool)> = Vec::new();
    // Carers the office has taken off the visit: their tablet may no longer show it.
    let mut off_rota = [false, false];
    for step in steps {
        let gone = |carer: usize, e: &doorstep_commands::AppError| off_rota[carer] && e.code == ErrorCode::NotFound;
        match *step {
            Step::Type { carer, .. } | Step::Delete { carer } | Step::Reload { carer }
                if off_rota[carer] && world.carers[carer].visit(&visit_id).await.is_err_and(|e| gone(carer, &e)) =>
            {
                // Off the visit and it has left the tablet: there is nothing to type into.
            }
            Step::Type { carer, looks } => {
                let word = format!("w{}x", words.len());
                let editor = &mut editors[carer];
                editor.text = format!("{} {word}", editor.text).trim().to_string();
                let saved = world.carers[carer]
                    .save_narrative(narrative(&visit_id, &editor.text, &editor.base))
                    .await
                    .map_err(|e| e.message)?;
                words.push((word, carer, false));
                if looks {
                    editor.text = saved.narrative;
                    editor.base = saved.version;
                } else {
                    editor.base = saved.typed_version;
                }
            }
            Step::Delete { carer } => {
                let editor = &mut editors[carer];
                let Some(i) =
                    words.iter().rposition(|(w, by, gone)| *by == carer && !gone && editor.text.contains(w.as_str()))
                else {
                    continue;
                };
                editor.text = editor.text.replace(&format!(" {}", words[i].0), "").replace(&words[i].0, "");
                let saved = world.carers[carer]
                    .save_narrative(narrative(&visit_id, &editor.text, &editor.base))
                    .await
                    .map_err(|e| e.message)?;
                words[i].2 = true;
                editor.base = saved.typed_version;
            }
            Step::Sync { carer } => {
                // Offline is not an error: the badge says so and the work stays on the tablet.
                world.carers[carer].sync_now().await.map_err(|e| e.message)?;
            }
            Step::Reload { carer } => {
                let screen = world.carers[carer].visit(&visit_id).await.map_err(|e| e.message)?;
                editors[carer] = Editor { text: screen.note.narrative, base: screen.note_version };
            }
            Step::HubDown => world.hub_down().await,
            Step::HubUp => world.hub_up().await,
            Step::Lock { carer } => {
                let tablet = &world.carers[carer];
                tablet.lock().await.map_err(|e| e.message)?;
                match tablet.visit(&visit_id).await {
                    Err(e) if e.code == ErrorCode::Locked => {}
                    other => return Err(format!("a locked tablet showed the visit: {other:?}")),
                }
                if tablet.unlocked_store().await.is_ok() {
                    return Err("a locked tablet handed out its store".into());
                }
                tablet.unlock(PIN).await.map_err(|e| e.message)?;
            }
            Step::SignOut { carer } => match world.carers[carer].sign_out().await {
                Ok(_) if off_rota[carer] => {
                    // Signed out while off the visit: the new tablet will not get it until the
                    // office puts them back on; everything they typed reached the office first.
                    world.sign_outs.0 += 1;
                    world.set_on_visit(carer, &visit_id, true).await?;
                    off_rota[carer] = false;
                    editors[carer] = world.new_tablet(carer, &visit_id).await?;
                }
                Ok(_) => {
                    world.sign_outs.0 += 1;
                    // Set up again, from the office's server: everything typed on the tablet
                    // must come back, or sign-out threw it away.
                    editors[carer] = world.new_tablet(carer, &visit_id).await?;
                }
                Err(e) if e.code == ErrorCode::Unsynced => world.sign_outs.1 += 1,
                Err(e) => return Err(format!("sign-out failed: {}", e.message)),
            },
            Step::OffRota { carer } => {
                // A visit keeps at least one carer (the office cannot save one with none).
                if !off_rota[carer] && !off_rota[1 - carer] {
                    world.set_on_visit(carer, &visit_id, false).await?;
                    off_rota[carer] = true;
                }
            }
            Step::BackOnRota { carer } => {
                if off_rota[carer] {
                    world.set_on_visit(carer, &visit_id, true).await?;
                    let held = world.carers[carer].sync_badge().await.map_err(|e| e.message)?.held_back.len();
                    world.office.ask_held_back_retry().await.map_err(|e| e.message)?;
                    let badge = world.carers[carer].sync_now().await.map_err(|e| e.message)?;
                    if held > 0 && badge.held_back.is_empty() {
                        world.held_then_accepted += held;
                    }
                    off_rota[carer] = false;
                    let screen = world.carers[carer].visit(&visit_id).await.map_err(|e| e.message)?;
                    editors[carer] = Editor { text: screen.note.narrative, base: screen.note_version };
                }
            }
            Step::Revoke { carer } => {
                // What the office has of the note now: the carer's other words go with the
                // lost tablet, and only those.
                world.hub_up().await;
                world.office.sync_now().await.map_err(|e| e.message)?;
                let at_office = world.office.visit(&visit_id).await.map_err(|e| e.message)?.note.narrative;
                for (word, _, gone) in words.iter_mut().filter(|(_, by, gone)| *by == carer && !*gone) {
                    if !at_office.contains(word.as_str()) {
                        *gone = true;
                        world.lost_with_revoked_tablet += 1;
                    }
                }
                let id = world.carers[carer]
                    .unlocked_store()
                    .await
                    .map_err(|e| e.message)?
                    .setting("device_id")
                    .map_err(|e| e.to_string())?
                    .ok_or("no device id")?;
                world.office.revoke_device(&id).await.map_err(|e| e.message)?;
                match world.carers[carer].sync_now().await {
                    Err(e) if e.code == ErrorCode::Refused => {}
                    other => return Err(format!("a revoked tablet synced: {other:?}")),
                }
                if world.carers[carer].session().await.map_err(|e| e.message)?.enrolled {
                    return Err("a revoked tablet kept its enrolment".into());
                }
                if off_rota[carer] {
                    world.set_on_visit(carer, &visit_id, true).await?;
                    off_rota[carer] = false;
                }
                editors[carer] = world.set_up_again(carer, &visit_id).await?;
            }
        }
        for (n, off) in off_rota.iter().enumerate() {
            if *off {
                continue; // checked once they are back on the visit
            }
            let note = world.note(n, &visit_id).await?;
            for (word, _, _) in words.iter().filter(|(_, by, gone)| *by == n && !gone) {
                if !note.contains(word.as_str()) {
                    return Err(format!(
                        "after {step:?}, {word} saved on tablet {n} is missing from its note {note:?}"
                    ));
                }
            }
        }
    }
    world.hub_up().await;
    for (carer, off) in off_rota.iter().enumerate() {
        if *off {
            world.set_on_visit(carer, &visit_id, true).await?;
        }
    }
    if off_rota.iter().any(|off| *off) {
        world.office.ask_held_back_retry().await.map_err(|e| e.message)?;
    }
    for _ in 0..2 {
        for carer in &world.carers {
            carer.sync_now().await.map_err(|e| e.message)?;
        }
    }
    let notes = [world.note(0, &visit_id).await?, world.note(1, &visit_id).await?];
    if notes[0] != notes[1] {
        return Err(format!("the tablets did not converge: {notes:?}"));
    }
    Ok(words.iter().filter(|(w, _, gone)| !gone && !notes[0].contains(w.as_str())).count())
}

/// The model-based test at the command layer: random schedules of typing (on stale and fresh
/// screens), deleting, syncing, reloading, the hub going down and up, locking and signing out on
/// a double-up, against a real hub. No word a carer saved is lost unless they deleted it, sign-out
/// never throws away what the office has not got, and both tablets converge.
/// `DOORSTEP_SEAM_SCHEDULES` sets how many schedules (`cargo xtask chaos` runs 1,000).
#[test]
fn random_double_up_schedules_lose_no_word() {
    use proptest::strategy::{Strategy, ValueTree};
    let schedules: u32 = std::env::var("DOORSTEP_SEAM_SCHEDULES").ok().and_then(|n| n.parse().ok()).unwrap_or(24);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let mut world = World::new().await;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let strategy = proptest::collection::vec(step(), 1..24);
        let (mut lost_words, mut sign_outs) = (0, (0, 0));
        let (mut held_then_accepted, mut lost_with_revoked) = (0, 0);
        for n in 0..schedules {
            // Every schedule adds a visit to everyone's day; a fresh office, team and hub every
            // 50 keeps each schedule's cost the same however many run.
            if n > 0 && n % 50 == 0 {
                sign_outs = (sign_outs.0 + world.sign_outs.0, sign_outs.1 + world.sign_outs.1);
                held_then_accepted += world.held_then_accepted;
                lost_with_revoked += world.lost_with_revoked_tablet;
                world.hub_down().await;
                world = World::new().await;
            }
            let steps = strategy.new_tree(&mut runner).expect("a schedule").current();
            match run_schedule(&mut world, &steps).await {
                Ok(lost) => lost_words += lost,
                Err(failure) => panic!("schedule {n} failed: {failure}\nsteps: {steps:?}"),
            }
        }
        let (signed_out, refused) = (sign_outs.0 + world.sign_outs.0, sign_outs.1 + world.sign_outs.1);
        held_then_accepted += world.held_then_accepted;
        lost_with_revoked += world.lost_with_revoked_tablet;
        println!(
            "RESULT seam_schedules={schedules} lost_words={lost_words} sign_outs={signed_out} \
             sign_outs_refused={refused} held_then_accepted={held_then_accepted} \
             words_on_revoked_tablets={lost_with_revoked}"
        );
        assert_eq!(lost_words, 0);
        world.hub_down().await;
    });
}

/// Who to phone, by name and number, on a carer's tablet with no signal: the office keeps the
/// directory, two managers' edits made apart both stay, and the carer's card, SBARD, header and
/// rota use it. A carer's device cannot change it (the device refuses; the hub too:
/// tests/tests/it/authorisation.rs).
#[tokio::test]
async fn the_offices_directory_reaches_the_carers_card_and_names_them_on_the_phone() {
    use doorstep_commands::{EditDirectoryArgs, SoftSignArgs};
    use doorstep_model::{AreaService, Comparison, ServiceKind, SoftSign};

    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let (office, sam, _priya) = team(&hub, dir.path()).await;
    let deputy = enrolled(&hub, dir.path(), "M002", Role::Manager).await;
    deputy.sync_now().await.expect("the deputy's first sync");

    // Both managers open the directory; the office changes its number while the deputy adds a
    // service, each against what their form showed.
    let seen_by_office = office.directory().await.expect("the office's form");
    let seen_by_deputy = deputy.directory().await.expect("the deputy's form");
    assert_eq!(seen_by_office.version, seen_by_deputy.version);
    let form = |screen: &doorstep_commands::DirectoryScreen| EditDirectoryArgs {
        base: screen.version.clone(),
        office_phone: screen.directory.office_phone.clone(),
        office_hours: screen.directory.office_hours.clone(),
        on_call_phone: screen.directory.on_call_phone.clone(),
        services: screen.directory.services.clone(),
        staff: screen.directory.staff.clone(),
    };
    office
        .edit_directory(EditDirectoryArgs { office_phone: "01632 960 111".into(), ..form(&seen_by_office) })
        .await
        .expect("the office saves");
    let mut services = seen_by_deputy.directory.services.clone();
    services.push(AreaService {
        id: String::new(),
        kind: ServiceKind::Other,
        name: "Northbrook Hospice Advice Line".into(),
        phone: "01632 960 777".into(),
        hours: "24 hours".into(),
        districts: vec!["nb3".into()],
    });
    deputy.edit_directory(EditDirectoryArgs { services, ..form(&seen_by_deputy) }).await.expect("the deputy saves");
    let bad = deputy
        .edit_directory(EditDirectoryArgs { office_phone: "ring Jo".into(), ..form(&seen_by_deputy) })
        .await
        .unwrap_err();
    assert_eq!(bad.code, ErrorCode::Invalid);
    assert!(bad.message.contains("not a phone number"), "{}", bad.message);
    deputy.sync_now().await.expect("deputy syncs");
    office.sync_now().await.expect("office syncs");
    let merged = office.directory().await.expect("merged").directory;
    assert_eq!(merged.office_phone, "01632 960 111", "the office's change stays");
    assert!(merged.services.iter().any(|s| s.name.contains("Hospice") && s.districts == ["NB3"]), "and the deputy's");

    // Sam's tablet, once synced, holds it: names, numbers, a callback for the SBARD.
    sam.sync_now().await.expect("Sam syncs");
    let session = sam.session().await.expect("session");
    assert_eq!(session.signed_in_as(), "Sam Taylor (C001)");
    let day = sam.today(DayArgs { day: None }).await.expect("today");
    let double = day.visits.iter().find(|v| v.carers.len() == 2).expect("double-up");
    assert!(double.carer_names.contains(&"Priya Shah (C002)".to_string()), "{:?}", double.carer_names);
    let refused = sam.edit_directory(form(&sam.directory().await.expect("Sam reads it"))).await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Invalid, "only a manager's device changes the directory");

    // New confusion at Peggy's (NB3): phone now, her GP first, then the area's urgent team.
    let peggy = day
        .visits
        .iter()
        .find(|v| v.person_name.as_deref().is_some_and(|n| n.contains("Peggy")))
        .expect("Peggy's visit today");
    sam.check_in(&peggy.id).await.expect("check in");
    let screen = sam
        .set_soft_sign(SoftSignArgs {
            visit_id: peggy.id.clone(),
            sign: SoftSign::Confusion,
            observed: true,
            compared_to_usual: Comparison::New,
            detail: String::new(),
        })
        .await
        .expect("new confusion");
    let first = screen.phone_first.clone().expect("someone to phone");
    assert_eq!((first.name.as_str(), first.dial.as_str()), ("Riverside Surgery", "01632960000"));
    let then: Vec<&str> = screen.then_phone.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        then,
        [
            "Northbrook Urgent Community Response",
            "Northbrook GP Out of Hours",
            "NHS 111",
            "The office",
            "The manager on call"
        ]
    );
    assert!(screen.then_phone.iter().any(|p| p.dial == "01632960111"), "the office's new number");
    let sbard = screen.sbard.expect("what to say");
    assert!(sbard.situation.starts_with("My name is Sam Taylor, a carer from "), "{}", sbard.situation);
    assert!(sbard.situation.ends_with("You can call us back on 01632 960 111."), "{}", sbard.situation);
}

/// The office records what is usual for a person with who noted it: Scale 2 only with the
/// clinician who set it; two managers' changes to different signs, made apart, both stay; the
/// carer sees the usual beside the sign and the SBARD says who set the oxygen target.
#[tokio::test]
async fn baselines_are_recorded_with_who_set_them_and_reach_the_visit() {
    use doorstep_commands::{BaselinesArgs, SoftSignArgs};
    use doorstep_model::{Comparison, SoftSign, SpO2Scale};

    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let (office, sam, _priya) = team(&hub, dir.path()).await;
    let day = sam.today(DayArgs { day: None }).await.expect("today");
    let peggy = day
        .visits
        .iter()
        .find(|v| v.person_name.as_deref().is_some_and(|n| n.contains("Peggy")))
        .expect("Peggy's visit today")
        .clone();
    let shown = office.person(&peggy.person_id).await.expect("Peggy's page");
    let args = |usual: Vec<(SoftSign, String)>| BaselinesArgs {
        person_id: peggy.person_id.clone(),
        base: shown.version.clone(),
        spo2_scale: SpO2Scale::Scale2,
        scale2_set_by: String::new(),
        scale2_set_on: None,
        scale2_review_on: None,
        pregnant: false,
        usual,
    };
    let refused = office.record_baselines(args(vec![])).await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Invalid);
    assert!(refused.message.contains("which clinician"), "{}", refused.message);

    let saved = office
        .record_baselines(BaselinesArgs {
            scale2_set_by: "Dr A Shah, community respiratory team".into(),
            ..args(vec![(SoftSign::Breathing, "A little breathless on the stairs".into())])
        })
        .await
        .expect("the office saves");
    let setting = saved.person.scale2.clone().expect("who set Scale 2");
    assert_eq!(setting.recorded_by.as_str(), "M001");
    let noted = saved.person.usual.iter().find(|u| u.sign == SoftSign::Breathing).expect("breathing's usual");
    assert_eq!(noted.recorded_by.as_ref().map(|s| s.as_str()), Some("M001"));
    // A second manager, from the version shown before, changes another sign: both stay.
    let deputy = enrolled(&hub, dir.path(), "M002", Role::Manager).await;
    office.sync_now().await.expect("office syncs");
    deputy.sync_now().await.expect("deputy syncs");
    let deputy_saw = deputy.person(&peggy.person_id).await.expect("deputy's page");
    deputy
        .record_baselines(BaselinesArgs {
            base: deputy_saw.version.clone(),
            spo2_scale: deputy_saw.person.spo2_scale,
            scale2_set_by: "Dr A Shah, community respiratory team".into(),
            ..args(vec![(SoftSign::Sleepy, "Naps after lunch".into())])
        })
        .await
        .expect("the deputy saves");
    deputy.sync_now().await.expect("deputy syncs");
    office.sync_now().await.expect("office syncs");
    let both = office.person(&peggy.person_id).await.expect("page").person;
    assert!(
        both.usual_for(SoftSign::Breathing).is_some() && both.usual_for(SoftSign::Sleepy).is_some(),
        "{:?}",
        both.usual
    );
    assert_eq!(both.spo2_scale, SpO2Scale::Scale2);

    // Sam's tablet: the usual beside the sign, and who set the target in the SBARD.
    sam.sync_now().await.expect("Sam syncs");
    sam.check_in(&peggy.id).await.expect("check in");
    let screen = sam
        .set_soft_sign(SoftSignArgs {
            visit_id: peggy.id.clone(),
            sign: SoftSign::Breathing,
            observed: true,
            compared_to_usual: Comparison::Worse,
            detail: String::new(),
        })
        .await
        .expect("breathing worse");
    assert!(screen.usual.iter().any(|u| u.usual == "A little breathless on the stairs"), "{:?}", screen.usual);
    let background = screen.sbard.expect("what to say").background;
    assert!(background.contains("(set by Dr A Shah, community respiratory team)"), "{background}");
}

/// A carer at a door nobody answers says so in one tap and is told to phone the office, with its
/// number; after sync the office's day lists it first, then late and missed visits, judged by the
/// rule at the office's clock (injected: 09:50, then 11:20).
#[tokio::test]
async fn no_answer_at_the_door_reaches_the_office_with_late_and_missed_visits() {
    use doorstep_commands::CouldNotArgs;
    use doorstep_model::{CouldNotReason, VisitStatus};
    use std::sync::{Arc, Mutex};

    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let (office, sam, _priya) = team(&hub, dir.path()).await;
    let clock = Arc::new(Mutex::new(doorstep_demo::at(today(), 9, 50)));
    let read = clock.clone();
    let office = office.with_clock(Arc::new(move || *read.lock().unwrap_or_else(|p| p.into_inner())));

    let day = sam.today(DayArgs { day: None }).await.expect("today");
    let visit_of = |name: &str| {
        day.visits
            .iter()
            .find(|v| v.person_name.as_deref().is_some_and(|n| n.contains(name)))
            .unwrap_or_else(|| panic!("{name}'s visit today"))
            .id
            .clone()
    };
    let peggy = visit_of("Peggy");
    let screen = sam
        .could_not_visit(CouldNotArgs {
            visit_id: peggy.clone(),
            reason: CouldNotReason::NoAnswer,
            detail: "Curtains closed, milk on the step".into(),
            admitted_on: None,
        })
        .await
        .expect("no answer");
    assert!(matches!(screen.visit.status, VisitStatus::Cancelled { .. }));
    let said = screen.visit.could_not.clone().expect("what Sam said");
    assert_eq!((said.reason, said.by.as_str()), (CouldNotReason::NoAnswer, "C001"));
    assert_eq!(screen.office.first().map(|p| p.dial.as_str()), Some("01632960100"), "the office's number to phone now");
    let again = sam
        .could_not_visit(CouldNotArgs {
            visit_id: peggy.clone(),
            reason: CouldNotReason::Refused,
            detail: String::new(),
            admitted_on: None,
        })
        .await
        .unwrap_err();
    assert_eq!(again.code, ErrorCode::Invalid, "a closed visit stays as it was: {}", again.message);
    let checked_in = sam.check_in(&peggy).await.unwrap_err();
    assert_eq!(checked_in.code, ErrorCode::Invalid);

    sam.sync_now().await.expect("Sam syncs");
    office.sync_now().await.expect("office syncs");
    let at_0950 = office.manager_day(DayArgs { day: None }).await.expect("the office's day");
    let chase: Vec<(&str, &str)> = at_0950.chase.iter().map(|c| (c.person_name.as_str(), c.what.as_str())).collect();
    assert!(chase[0].0.contains("Peggy") && chase[0].1 == "No answer at the door", "{chase:?}");
    assert_eq!(at_0950.chase[0].carers, ["Sam Taylor (C001)"]);
    let sams_phone = at_0950.chase[0].carer_phones.first().expect("Sam's work phone, to chase");
    assert_eq!(sams_phone.dial, "07700900301");
    assert!(
        chase.iter().any(|(who, what)| who.contains("Arthur") && what.starts_with("Late: not checked in 35 minutes")),
        "{chase:?}"
    );
    assert_eq!((at_0950.late, at_0950.missed), (1, 0));

    *clock.lock().unwrap_or_else(|p| p.into_inner()) = doorstep_demo::at(today(), 11, 20);
    let at_1120 = office.manager_day(DayArgs { day: None }).await.expect("later");
    assert!(
        at_1120.chase.iter().any(|c| c.person_name.contains("Arthur") && c.what.starts_with("Missed")),
        "{:?}",
        at_1120.chase
    );
    assert_eq!((at_1120.late, at_1120.missed), (0, 1));
}

/// The next carer reads what the last one saw: Sam's morning note at Peggy's reaches Priya's
/// evening visit, with who wrote it and when, and the door (address, how to get in).
#[tokio::test]
async fn the_next_carer_sees_the_last_visits_note_and_how_to_get_in() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let (_office, sam, priya) = team(&hub, dir.path()).await;
    let peggy_of = |day: &doorstep_commands::Today| {
        day.visits
            .iter()
            .find(|v| v.person_name.as_deref().is_some_and(|n| n.contains("Peggy")))
            .expect("Peggy's visit today")
            .id
            .clone()
    };
    let morning = peggy_of(&sam.today(DayArgs { day: None }).await.expect("Sam's day"));
    let evening = peggy_of(&priya.today(DayArgs { day: None }).await.expect("Priya's day"));
    let before = sam.visit(&morning).await.expect("Sam's screen");
    let earlier = before.handover.expect("a visit from the history before this one");
    assert!(earlier.at < before.visit.window.start);
    assert!(before.at_the_door.address.iter().any(|l| l.contains("14 Mill Lane")), "{:?}", before.at_the_door);
    assert!(before.at_the_door.access.contains("Key safe"));

    sam.check_in(&morning).await.expect("check in");
    sam.save_narrative(narrative(&morning, "Peggy ate all her porridge and was chatty.", &before.note_version))
        .await
        .expect("Sam's note");
    sam.sync_now().await.expect("Sam syncs");
    priya.sync_now().await.expect("Priya syncs");
    // Priya's tablet holds Sam's note (she visits Peggy too) but not Sam's visit (not hers).
    let handover = priya.visit(&evening).await.expect("Priya's screen").handover.expect("the handover");
    assert_eq!(handover.narrative, "Peggy ate all her porridge and was chatty.");
    assert_eq!(handover.by, ["Sam Taylor (C001)"]);
    assert_eq!(handover.visit_id, morning);
}

/// A clock the test moves: the device reads it for "now".
pub(crate) fn test_clock(
    device: Device,
    at: chrono::DateTime<chrono::Utc>,
) -> (Device, std::sync::Arc<std::sync::Mutex<chrono::DateTime<chrono::Utc>>>) {
    let clock = std::sync::Arc::new(std::sync::Mutex::new(at));
    let read = clock.clone();
    (device.with_clock(std::sync::Arc::new(move || *read.lock().unwrap_or_else(|p| p.into_inner()))), clock)
}

/// The office's 24 hours: last evening's concern is still on the list at 8am the next day, and
/// gone a day after its visit; a manager marks it reviewed, the list says who and when and puts
/// it below what is not yet reviewed, and another manager's device sees the mark after sync.
#[tokio::test]
async fn last_nights_concern_is_on_the_office_list_at_8am_until_a_manager_marks_it_reviewed() {
    use doorstep_model::{Comparison, SoftSign};

    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let (office, _sam, priya) = team(&hub, dir.path()).await;
    let deputy = enrolled(&hub, dir.path(), "M002", Role::Manager).await;
    let tomorrow = today().succ_opt().expect("a tomorrow");
    let (office, clock) = test_clock(office, doorstep_demo::at(tomorrow, 8, 0));

    let evening = priya
        .today(DayArgs { day: None })
        .await
        .expect("Priya's day")
        .visits
        .into_iter()
        .find(|v| v.person_name.as_deref().is_some_and(|n| n.contains("Peggy")))
        .expect("Priya's evening visit to Peggy")
        .id;
    priya.check_in(&evening).await.expect("check in");
    priya
        .set_soft_sign(doorstep_commands::SoftSignArgs {
            visit_id: evening.clone(),
            sign: SoftSign::Confusion,
            observed: true,
            compared_to_usual: Comparison::New,
            detail: "Did not know it was evening".into(),
        })
        .await
        .expect("a new sign");
    priya.sync_now().await.expect("Priya syncs");
    office.sync_now().await.expect("office syncs");

    let at_8am = office.manager_day(DayArgs { day: None }).await.expect("the office at 8am");
    assert_eq!(at_8am.day, tomorrow, "the office's day has turned over");
    let concern = at_8am.attention.iter().find(|a| a.visit_id == evening).expect("last night's concern at 8am");
    assert!(concern.reason.contains("New:"), "{}", concern.reason);
    assert_eq!(concern.reviewed, None);
    assert_eq!(at_8am.attention_since, doorstep_demo::at(today(), 8, 0));

    *clock.lock().unwrap_or_else(|p| p.into_inner()) = doorstep_demo::at(tomorrow, 8, 5);
    let marked = office.mark_reviewed(&evening).await.expect("mark reviewed");
    let concern = marked.attention.iter().find(|a| a.visit_id == evening).expect("still listed, as reviewed");
    assert_eq!(concern.reviewed.as_deref(), Some("Reviewed by Mo Khan (M001) at 08:05"));
    assert!(
        marked.attention.iter().position(|a| a.visit_id == evening)
            >= marked.attention.iter().position(|a| a.reviewed.is_some())
    );
    assert!(
        marked.attention.iter().skip_while(|a| a.reviewed.is_none()).all(|a| a.reviewed.is_some()),
        "not yet reviewed first: {:?}",
        marked.attention
    );

    office.sync_now().await.expect("office syncs the mark");
    deputy.sync_now().await.expect("the deputy syncs");
    let (deputy, _deputy_clock) = test_clock(deputy, doorstep_demo::at(tomorrow, 8, 30));
    let seen = deputy.manager_day(DayArgs { day: None }).await.expect("the deputy's list");
    let concern = seen.attention.iter().find(|a| a.visit_id == evening).expect("on the deputy's list");
    assert_eq!(concern.reviewed.as_deref(), Some("Reviewed by Mo Khan (M001) at 08:05"), "the mark travelled");

    let carer_marks = priya.mark_reviewed(&evening).await.unwrap_err();
    assert_eq!(carer_marks.code, ErrorCode::Invalid, "only managers mark reviewed");

    *clock.lock().unwrap_or_else(|p| p.into_inner()) = doorstep_demo::at(tomorrow, 18, 0);
    let next_evening = office.manager_day(DayArgs { day: None }).await.expect("a day later");
    assert!(next_evening.attention.iter().all(|a| a.visit_id != evening), "more than 24 hours ago: off the list");
}

/// A carer opens a visit that has ended and adds what they forgot, marked late with its time and
/// author; an open visit takes words in its note instead.
#[tokio::test]
async fn a_late_entry_is_added_to_a_closed_visit_marked_late_with_its_time() {
    use doorstep_commands::{CheckOutArgs, LateEntryArgs};

    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let (office, sam, priya) = team(&hub, dir.path()).await;
    let (sam, clock) = test_clock(sam, doorstep_demo::at(today(), 19, 40));
    let visit = sam.today(DayArgs { day: None }).await.expect("today").visits[0].id.clone();
    let late = |text: &str| LateEntryArgs { visit_id: visit.clone(), text: text.into() };

    sam.check_in(&visit).await.expect("check in");
    let open = sam.add_late_entry(late("She asked for her daughter to ring")).await.unwrap_err();
    assert_eq!(open.code, ErrorCode::Invalid, "{}", open.message);
    sam.check_out(CheckOutArgs { visit_id: visit.clone(), confirmed: true }).await.expect("check out");
    let empty = sam.add_late_entry(late("   ")).await.unwrap_err();
    assert_eq!(empty.code, ErrorCode::Invalid);
    let long = sam.add_late_entry(late(&"x".repeat(1001))).await.unwrap_err();
    assert_eq!(long.code, ErrorCode::Invalid);

    let screen = sam.add_late_entry(late("  She asked for her daughter to ring  ")).await.expect("late entry");
    let entry = screen.note.late_entries.first().expect("the late entry");
    assert_eq!(entry.text, "She asked for her daughter to ring");
    assert_eq!(entry.by.as_str(), "C001");
    assert_eq!(entry.at, doorstep_demo::at(today(), 19, 40), "its own time, not the visit's");
    *clock.lock().unwrap_or_else(|p| p.into_inner()) = doorstep_demo::at(today(), 20, 0);
    let screen = sam.add_late_entry(late("Fridge light not working")).await.expect("a second");
    assert_eq!(screen.note.late_entries.len(), 2);

    sam.sync_now().await.expect("Sam syncs");
    office.sync_now().await.expect("office syncs");
    let at_office = office.visit(&visit).await.expect("the office opens the visit");
    assert_eq!(at_office.note.late_entries, screen.note.late_entries, "late entries reach the office");

    // Priya's evening visit to Peggy: the handover carries what Sam added late, by name.
    priya.sync_now().await.expect("Priya syncs");
    let evening = priya
        .today(DayArgs { day: None })
        .await
        .expect("Priya's day")
        .visits
        .iter()
        .find(|v| v.person_name.as_deref().is_some_and(|n| n.contains("Peggy")))
        .expect("Priya's visit to Peggy")
        .id
        .clone();
    let handover = priya.visit(&evening).await.expect("Priya opens it").handover.expect("the handover");
    assert!(
        handover.late_entries.iter().any(|e| e.contains("Fridge light not working") && e.contains("Sam Taylor (C001)")),
        "{:?}",
        handover.late_entries
    );
    assert!(!handover.visit_here, "Sam's visit is not on Priya's tablet, so it is not offered to open");
}

/// Search says what each hit is, who it is about, when and who wrote it, and opens the visit.
#[tokio::test]
async fn a_search_hit_names_the_person_the_time_and_the_author_and_opens_its_visit() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let (office, _sam, _priya) = team(&hub, dir.path()).await;
    let hits = office.search("bathroom").await.expect("search");
    let note = hits.iter().find(|h| h.kind == doorstep_model::RecordKind::Note).expect("a note about the bathroom");
    assert!(note.person_name.is_some() && note.at.is_some(), "{note:?}");
    assert!(!note.authors.is_empty(), "{note:?}");
    let visit = note.visit_id.as_deref().expect("the visit to open");
    assert_eq!(office.visit(visit).await.expect("opens").note.id.to_string(), note.id);
    assert!(note.snippet_parts().iter().any(|(word, matched)| *matched && word.eq_ignore_ascii_case("bathroom")));
}

/// Staff are named where the office already types their names: creating a tablet's code and
/// importing the rota put them in the directory, and the office's lists use them.
#[tokio::test]
async fn names_from_an_enrolment_code_and_the_rota_reach_the_directory_and_the_lists() {
    use doorstep_commands::{CsvKind, EnrolmentCodeArgs, ImportArgs, ImportOutcome};

    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let (office, _sam, _priya) = team(&hub, dir.path()).await;
    office
        .create_enrolment_code(EnrolmentCodeArgs {
            staff_ref: "C009".into(),
            staff_name: " Kofi Mensah ".into(),
            role: Role::Carer,
        })
        .await
        .expect("a code, and a name");
    let bad = office
        .create_enrolment_code(EnrolmentCodeArgs {
            staff_ref: "C010".into(),
            staff_name: "Kofi\nMensah".into(),
            role: Role::Carer,
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code, ErrorCode::Invalid);

    let day = today();
    let rota = format!(
        "client_ref,date,start,end,carer,second_carer,tasks,carer_name\nP00001,{day},20:00,20:30,C011,,,Dee Walsh\n"
    );
    let outcome = office.import_csv(ImportArgs { kind: CsvKind::Rota, text: rota }).await.expect("import");
    assert!(matches!(outcome, ImportOutcome::Imported { created: 1, .. }), "{outcome:?}");
    let directory = office.directory().await.expect("directory").directory;
    assert_eq!(directory.staff_label("C009"), "Kofi Mensah (C009)");
    assert_eq!(directory.staff_label("C011"), "Dee Walsh (C011)");
    assert_eq!(directory.staff_label("C001"), "Sam Taylor (C001)", "names already there stay");
    let evening = office.today(DayArgs { day: None }).await.expect("today");
    assert!(evening.visits.iter().any(|v| v.carer_names == ["Dee Walsh (C011)"]), "{:?}", evening.visits);
}

/// Whether Sam's tablet holds the record.
async fn holds<R: doorstep_store::Record>(device: &Device, id: &str) -> bool {
    device.unlocked_store().await.expect("open").get::<R>(id).is_ok()
}

#[tokio::test]
async fn a_person_off_a_carers_rota_takes_the_shared_items_at_once_and_the_carers_ideas_after_the_grace_period() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let council =
        crate::device::partner_org(&hub, "Leeds Adult Social Care", PartnerKind::CouncilAdultSocialCare).await;
    let (office, sam, _priya) = team(&hub, dir.path()).await;
    // Peggy is on Sam's rota; she agreed to the council being told who she is.
    let peggy = {
        let people = sam.unlocked_store().await.expect("open").people().expect("people");
        people.into_iter().find(|p| p.display_name.contains("Margaret")).expect("Peggy on Sam's rota").id
    };
    let idea = sam
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
    let idea = idea.id.to_string();
    sam.sync_now().await.expect("the idea reaches the hub");
    office.sync_now().await.expect("and the office");
    let screen = office
        .share_idea(ShareArgs {
            id: idea.clone(),
            partners: vec![council],
            purpose: "So an OT can assess Peggy for a grab rail".into(),
            include_observations: false,
            out_of_area_reason: String::new(),
        })
        .await
        .expect("shared");
    let shared = screen.shared[0].id.clone();
    office.sync_now().await.expect("the share reaches the hub");
    sam.sync_now().await.expect("and Sam, who raised it");
    let item: SharedItem = sam.unlocked_store().await.expect("open").get(&shared).expect("Sam holds the shared item");
    assert!(item.person.is_some(), "it names Peggy");

    // The office takes Sam off every visit to Peggy.
    {
        let store = office.unlocked_store().await.expect("open");
        let now = chrono::Utc::now();
        let visits =
            store.visits_between(now - chrono::Duration::days(60), now + chrono::Duration::days(60)).expect("visits");
        drop(store);
        let sams: Vec<String> = visits
            .into_iter()
            .filter(|v| v.person_id == peggy && v.carers.iter().any(|c| c == "C001"))
            .map(|v| v.id)
            .collect();
        assert!(!sams.is_empty(), "Sam visits Peggy");
        for visit in sams {
            office
                .unlocked_store()
                .await
                .expect("open")
                .update::<Visit>(&visit, |v| {
                    v.carers.retain(|c| c.as_str() != "C001");
                    if v.carers.is_empty() {
                        v.carers.push(StaffId::new("C002"));
                    }
                    Ok(())
                })
                .expect("Sam off the visit");
        }
    }
    office.sync_now().await.expect("the rota change reaches the hub");

    sam.sync_now().await.expect("Sam syncs");
    assert!(!holds::<Person>(&sam, &peggy).await, "Peggy leaves Sam's tablet");
    assert!(!holds::<SharedItem>(&sam, &shared).await, "and the shared item naming her goes with her");
    assert!(holds::<Insight>(&sam, &idea).await, "Sam's own idea stays for the grace period");

    let day = std::time::Duration::from_secs(24 * 60 * 60);
    let grace = u32::try_from(doorstep_hub::service::IDEA_GRACE_DAYS).expect("days");
    hub.clock.advance(day * (grace - 1));
    sam.sync_now().await.expect("Sam syncs a day before the grace period ends");
    assert!(holds::<Insight>(&sam, &idea).await, "still there within the grace period");

    hub.clock.advance(day * 2);
    sam.sync_now().await.expect("Sam syncs after it");
    assert!(!holds::<Insight>(&sam, &idea).await, "the idea naming Peggy goes once the grace period is over");
    assert!(holds::<Insight>(&office, &idea).await, "the office keeps it");
    hub.stop().await;
}
