//! The conversation on a shared item, through the commands the carer's and the office's screens
//! send, against a real hub: a partner asks, the carer who raised the idea sees it as new and
//! answers from the tablet, the partner reads the answer; each step is in the hub's audit log,
//! and the write policy keeps everyone else's hands off.

use doorstep_commands::{ErrorCode, IdeaArgs, ReplyArgs, ShareArgs};
use doorstep_hub::Hub;
use doorstep_hub::storage::{HubStorage, WebRole};
use doorstep_model::shared::SharedItem;
use doorstep_model::{PartnerKind, Role, ThreadSide, Urgency};

use crate::device::{enrolled, hub, office, partner_org};
use doorstep_device::LOCK_AFTER;

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test]
async fn a_partners_question_reaches_the_carer_and_the_answer_comes_back_each_step_audited() {
    let dir = tempfile::TempDir::new().expect("dir");
    let hub = hub(dir.path()).await;
    let council = partner_org(&hub, "Northbrook Adult Social Care", PartnerKind::CouncilAdultSocialCare).await;
    let partner_hub = Hub::new(hub.storage.clone());
    partner_hub
        .create_web_user(council.id, "ola@council.example", "Ola Adeyemi", WebRole::Partner, PASSWORD)
        .await
        .expect("account");
    let (_, ola) = partner_hub.sign_in("ola@council.example", PASSWORD).await.expect("sign in");
    let office = office(&hub, dir.path()).await;
    let sam = enrolled(&hub, dir.path(), "C001", Role::Carer, LOCK_AFTER).await;
    let priya = enrolled(&hub, dir.path(), "C002", Role::Carer, LOCK_AFTER).await;
    sam.sync_now().await.expect("the rota arrives");
    let peggy = {
        let people = office.unlocked_store().await.expect("open").people().expect("people");
        people.into_iter().find(|p| p.display_name.contains("Margaret")).expect("Peggy").id
    };
    let idea = sam
        .record_idea(IdeaArgs {
            person_id: peggy,
            summary: "Grab rail by the back door".into(),
            detail: "She steadies herself on the door frame every morning.".into(),
            suggested_action: "OT home assessment".into(),
            who_could_act: vec![PartnerKind::CouncilAdultSocialCare],
            urgency: Urgency::Soon,
        })
        .await
        .expect("idea");
    sam.sync_now().await.expect("the idea reaches the hub");
    office.sync_now().await.expect("and the office");
    let screen = office
        .share_idea(ShareArgs {
            id: idea.id.to_string(),
            partners: vec![council.clone()],
            purpose: "So an OT can assess her for a grab rail".into(),
            include_observations: false,
            out_of_area_reason: String::new(),
        })
        .await
        .expect("shared");
    let item_id = screen.shared[0].id.clone();
    let item_uuid: uuid::Uuid = item_id.parse().expect("id");
    office.sync_now().await.expect("the share reaches the hub");

    // The partner asks, and takes it on.
    partner_hub.post_message(&ola, item_uuid, "Is she at home on Tuesday mornings?").await.expect("asked");
    partner_hub.handle(&ola, item_uuid).await.expect("taken on");

    // Sam's tablet: the question, marked new, and who has it.
    sam.sync_now().await.expect("sync");
    let mine = sam.my_ideas().await.expect("my ideas");
    let mine = mine.iter().find(|m| m.insight.id == idea.id).expect("the idea");
    assert_eq!(mine.new_messages, 1, "one new message");
    let row = mine.shared.iter().find(|r| r.id == item_id).expect("the shared item");
    assert_eq!(row.messages.len(), 1);
    assert_eq!((row.messages[0].side, row.messages[0].by.as_str()), (ThreadSide::Partner, "Ola Adeyemi"));
    assert_eq!(row.handled_by.as_ref().map(|h| h.by.as_str()), Some("Ola Adeyemi"));
    // Opened: no longer new.
    let again = sam.my_ideas().await.expect("my ideas");
    assert_eq!(again.iter().find(|m| m.insight.id == idea.id).map(|m| m.new_messages), Some(0));

    // Sam answers from the tablet; an empty answer is refused with words to act on.
    let empty = sam.reply_to_partner(ReplyArgs { id: item_id.clone(), text: "  ".into() }).await.unwrap_err();
    assert_eq!(empty.code, ErrorCode::Invalid);
    let row = sam
        .reply_to_partner(ReplyArgs { id: item_id.clone(), text: "Yes, until noon. Her daughter lets you in.".into() })
        .await
        .expect("answered");
    assert_eq!(row.messages.len(), 2);
    assert_eq!(row.messages[1].side, ThreadSide::Provider);
    assert!(row.messages[1].by.contains("C001"), "{}", row.messages[1].by);
    sam.sync_now().await.expect("the answer goes");

    // The partner reads it on the item.
    let item: SharedItem = partner_hub.shared_item(&ola, item_uuid, "read").await.expect("read");
    assert_eq!(item.messages.last().map(|m| m.text.as_str()), Some("Yes, until noon. Her daughter lets you in."));

    // Priya did not raise the idea: her tablet refuses (she does not even hold it), and the
    // hub would too.
    let refused = priya.reply_to_partner(ReplyArgs { id: item_id.clone(), text: "Hello".into() }).await.unwrap_err();
    assert!(matches!(refused.code, ErrorCode::NotFound | ErrorCode::Invalid), "{refused:?}");

    // Each step in the audit log: the partner's message, Sam's message arriving, the partner's
    // read.
    let audit = hub.storage.audit_log(200).await.expect("audit");
    let about = |action: &str, who: &str| {
        audit.iter().any(|e| e.allowed && e.action == action && e.doc_id == Some(item_uuid) && e.actor.contains(who))
    };
    assert!(about("message", "ola@council.example"), "the partner's message: {audit:?}");
    assert!(about("message", "C001"), "Sam's message: {audit:?}");
    assert!(about("handle", "ola@council.example"), "taken on: {audit:?}");
    assert!(about("read", "ola@council.example"), "read: {audit:?}");
}
