//! Sharing an idea with the right partner, through the commands the manager's share screen sends,
//! against a real hub holding a partner directory: who is offered first and why, and the
//! out-of-area rule, which the hub enforces even on a share the app never made.

use doorstep_commands::{DayArgs, ErrorCode, IdeaArgs, IdeaRef, ShareArgs};
use doorstep_hub::admin::set_partner_listing;
use doorstep_hub::partner_directory::ListingRecord;
use doorstep_hub::storage::HubStorage;
use doorstep_model::shared::SharedItem;
use doorstep_model::{Insight, PartnerKind, PartnerOrg, Person, Role, ShareChoices, SharedItemId, Urgency};
use doorstep_store::Store;
use uuid::Uuid;

use crate::device::{enrolled, hub, office, partner_org};
use doorstep_device::LOCK_AFTER;

async fn listed(
    hub: &doorstep_tests::TestHub<doorstep_hub::sqlite::SqliteStorage>,
    name: &str,
    kind: PartnerKind,
    districts: &[&str],
    ods: &str,
) -> PartnerOrg {
    let org = partner_org(hub, name, kind).await;
    let record = ListingRecord {
        districts: districts.iter().map(|d| d.to_string()).collect(),
        ods_code: ods.into(),
        hours: "Monday to Friday, 9am to 5pm".into(),
        ..ListingRecord::default()
    };
    set_partner_listing(&hub.storage, "test", org.id, record).await.expect("listing");
    org
}

#[tokio::test]
async fn partners_that_fit_come_first_with_why_and_out_of_area_needs_a_reason_the_hub_checks_too() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    // Peggy lives in NB3 and is registered at Riverside Surgery (ODS Y01234, the demo's).
    let near_ot = listed(&hub, "Northbrook OT", PartnerKind::OtEquipment, &["NB3", "NB4"], "").await;
    let far_ot = listed(&hub, "Southfield OT", PartnerKind::OtEquipment, &["SF1"], "").await;
    listed(&hub, "Riverside Surgery", PartnerKind::GpPractice, &["NB1", "NB2", "NB3"], "Y01234").await;
    listed(&hub, "Northbrook Housing", PartnerKind::Housing, &["NB3"], "").await;
    let office = office(&hub, dir.path()).await;
    let tablet = enrolled(&hub, dir.path(), "C001", Role::Carer, LOCK_AFTER).await;
    tablet.sync_now().await.expect("the rota arrives");
    let peggy = {
        let people = office.unlocked_store().await.expect("open").people().expect("people");
        people.into_iter().find(|p| p.display_name.contains("Margaret")).expect("Peggy").id
    };
    let idea = tablet
        .record_idea(IdeaArgs {
            person_id: peggy,
            summary: "Grab rail by the back door".into(),
            detail: "She steadies herself on the door frame every morning.".into(),
            suggested_action: "OT home assessment".into(),
            who_could_act: vec![PartnerKind::OtEquipment],
            urgency: Urgency::Soon,
        })
        .await
        .expect("idea");
    tablet.sync_now().await.expect("the idea reaches the hub");
    office.sync_now().await.expect("and the office");
    let id = idea.id.to_string();

    // Offered first: her own practice, then the OT that covers NB3; the out-of-area OT after,
    // saying so; housing (in area, not what the idea asks) last.
    let ranked = office.partner_suggestions(IdeaRef { id: id.clone() }).await.expect("suggestions");
    let names: Vec<&str> = ranked.iter().map(|s| s.partner.org.name.as_str()).collect();
    assert_eq!(names, ["Riverside Surgery", "Northbrook OT", "Southfield OT", "Northbrook Housing"]);
    assert_eq!(ranked.iter().map(|s| s.fits).collect::<Vec<_>>(), [true, true, false, false]);
    assert_eq!(ranked[0].reasons[0], "The person's own GP practice");
    assert_eq!(ranked[1].reasons, ["Offers what the idea asks for: occupational therapy or equipment", "Covers NB3"]);
    assert!(ranked[2].out_of_area);
    assert!(ranked[2].reasons.contains(&"Does not cover NB3: say why if you share with them".to_string()));

    // Out of area without a reason: refused, naming who and where.
    let share = |partners: Vec<PartnerOrg>, reason: &str| ShareArgs {
        id: id.clone(),
        partners,
        purpose: "So an OT can assess her for a grab rail".into(),
        include_observations: false,
        out_of_area_reason: reason.into(),
    };
    let refused = office.share_idea(share(vec![far_ot.clone()], " ")).await.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Invalid);
    assert!(refused.message.starts_with("Southfield OT does not cover NB3."), "{}", refused.message);
    // With a reason it goes, and the reason goes with it to that partner only.
    let why = "She moves to her daughter's in Southfield next week";
    let screen = office.share_idea(share(vec![near_ot.clone(), far_ot.clone()], why)).await.expect("shared");
    let store = office.unlocked_store().await.expect("open");
    let items: Vec<SharedItem> =
        screen.shared.iter().map(|row| store.get::<SharedItem>(&row.id).expect("item")).collect();
    drop(store);
    let reason_for = |org: Uuid| items.iter().find(|i| i.partner.id == org).map(|i| i.out_of_area_reason.clone());
    assert_eq!(reason_for(far_ot.id).as_deref(), Some(why));
    assert_eq!(reason_for(near_ot.id).as_deref(), Some(""), "in area: no reason needed or kept");
    office.sync_now().await.expect("the shares reach the hub");
    for item in &items {
        assert!(hub.storage.load_document(item.id.0).await.expect("load").is_some(), "{} stored", item.partner.name);
    }

    // The office's day lists what partners have not answered in time: nothing yet; a week on
    // (the idea is "soon": two working days), both shares.
    let (office, clock) = crate::seams::test_clock(office, chrono::Utc::now());
    let day = office.manager_day(DayArgs { day: None }).await.expect("day");
    assert!(day.unanswered.is_empty(), "nothing is due yet: {:?}", day.unanswered);
    *clock.lock().unwrap_or_else(|p| p.into_inner()) = chrono::Utc::now() + chrono::Duration::days(8);
    let day = office.manager_day(DayArgs { day: None }).await.expect("day");
    let mut late: Vec<&str> = day.unanswered.iter().map(|u| u.partner.as_str()).collect();
    late.sort_unstable();
    assert_eq!(late, ["Northbrook OT", "Southfield OT"]);
    assert!(day.unanswered.iter().all(|u| u.summary == "Grab rail by the back door" && u.idea_id == id));
    assert!(day.unanswered[0].due_words.starts_with("was due by 5pm "), "{}", day.unanswered[0].due_words);

    // A share the app would not make (out of area, no reason), written straight into the
    // office's store: the hub holds it back and never stores it.
    let forged = {
        let mut store = office.unlocked_store().await.expect("open");
        let insight: Insight = store.get(&id).expect("idea");
        let person: Person = store.get(&insight.person_id.expect("person").to_string()).expect("person");
        let provider = doorstep_model::ProviderRef { id: hub.provider, name: "Sunrise Home Care".into() };
        let item = SharedItem::from_insight(
            SharedItemId(Uuid::new_v4()),
            &insight,
            provider,
            far_ot.clone(),
            "Forged",
            "M001",
            chrono::Utc::now(),
            Some(&person),
            None,
            ShareChoices::default(),
        );
        put(&mut store, &item);
        item
    };
    office.sync_now().await.expect("sync");
    assert!(hub.storage.load_document(forged.id.0).await.expect("load").is_none(), "never stored");
    let held = hub.storage.held_back_records(hub.provider).await.expect("held back");
    let row = held.iter().find(|h| h.record == forged.id.0).expect("held back and listed for the office");
    assert!(row.reason.contains("refused") || !row.reason.is_empty(), "{row:?}");
    let audit = hub.storage.audit_log(50).await.expect("audit");
    assert!(
        audit.iter().any(|e| !e.allowed && e.detail.contains("Southfield OT does not cover NB3")),
        "the refusal is audited with its reason"
    );
}

fn put(store: &mut Store, item: &SharedItem) {
    store.put(item).expect("put");
}
