//! The partner side's rules, over any [`HubStorage`]: what each signed-in person (partners,
//! commissioners, provider managers; signing in is `web_auth.rs`) may see, partners' responses and
//! messages, which the hub writes into the shared Automerge document so they reach the provider's
//! devices by ordinary sync.
//!
//! **Architecture Invariant:** every page's data comes through here, and every function checks
//! the caller's role and organisation itself; the HTTP layer only signs people in and out.

use std::collections::BTreeSet;

use automerge::AutoCommit;
use chrono::{DateTime, Utc};
use doorstep_model::{
    Handling, Insight, PartnerResponse, RecordKind, ResponseOutcome, SharedItem, SharedStatus, ThreadMessage,
    ThreadSide,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::doc_facts::{DocFacts, SharedFacts};
use crate::service::{Hub, load_strict, partner_principal};
use crate::storage::{AuditEntry, Device, DocumentWrite, HubStorage, StorageError, WebRole};
use crate::trends::{self, csv_safe};
pub use crate::web_auth::{
    LOCK_OUT_MINUTES, MAX_FAILED_SIGN_INS, MIN_PASSWORD_CHARS, SESSION_HOURS, WebCaller, hash_password, new_form_token,
    same_secret,
};

/// Inbox rows per page.
pub const PAGE_SIZE: usize = 20;

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// One answer for every failed sign-in: a wrong password, an unknown e-mail, a locked account.
    #[error(
        "The email address or password is not right, or the account is locked for {LOCK_OUT_MINUTES} minutes after \
         too many tries. Try again later, or ask your organisation's administrator."
    )]
    WrongPassword,
    #[error("Page not found.")]
    NotFound,
    /// Too many sign-ins at once: try again shortly.
    #[error("The server is busy. Wait a minute, then try again.")]
    Busy,
    #[error("This form has expired. Go back, reload the page and try again.")]
    StaleForm,
    #[error("Your account cannot open this page.")]
    Forbidden,
    #[error("{0}")]
    Invalid(String),
    #[error("What you sent is too large for this page.")]
    TooLarge,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What a partner asked the inbox for; empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct InboxFilter {
    pub kind: String,
    pub urgency: String,
    pub status: String,
    pub provider: String,
    pub area: String,
    pub page: usize,
}

/// One line of the provider's activity page, in plain words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityLine {
    /// Unix ms.
    pub at: i64,
    /// "Ola Adeyemi (Northbrook Adult Social Care) opened 'Grab rail by the back door'".
    pub said: String,
    pub refused: bool,
}

impl ActivityLine {
    fn new(e: &AuditEntry, who: String, item: Option<String>) -> ActivityLine {
        let item = item.unwrap_or_else(|| "a record".into());
        let did = match (e.action.as_str(), e.allowed) {
            ("read", true) => format!("opened {item}"),
            ("read", false) => format!("tried to open {item}"),
            ("respond", true) => format!("answered {item}"),
            ("respond", false) => format!("tried to answer {item}"),
            ("export_fhir", true) => format!("downloaded {item} for an IT system"),
            ("export_csv", true) => format!("downloaded {item} in a spreadsheet"),
            ("message", true) => format!("wrote a message about {item}"),
            ("handle", true) => format!("took on {item}"),
            ("write", false) => format!("tried to change {item}"),
            (other, true) => format!("{} {item}", other.replace('_', " ")),
            (other, false) => format!("tried to {} {item}", other.replace('_', " ")),
        };
        let refused = if e.allowed {
            String::new()
        } else {
            format!(": refused ({})", reason_in_words(&e.detail, &e.actor, &who))
        };
        ActivityLine { at: e.at, said: format!("{who} {did}{refused}"), refused: !e.allowed }
    }
}

/// A refusal's reason for the activity page: the hub's description of the actor (a device id,
/// staff code and organisation id) becomes the words the line starts with, and ids are left out
/// ("may not change shared <id>" reads "may not change the record"), so the page never shows one.
fn reason_in_words(detail: &str, actor: &str, who: &str) -> String {
    let detail = if actor.is_empty() { detail.to_string() } else { detail.replace(actor, who) };
    let mut words: Vec<String> = Vec::new();
    for word in detail.split(' ') {
        // "carer C002": the role says enough; the staff reference is the provider's code.
        let after_role = words
            .last()
            .is_some_and(|w| w.trim_start_matches('(') == "carer" || w.trim_start_matches('(') == "manager");
        let code = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        if after_role && !code.is_empty() && code.chars().any(|c| c.is_ascii_digit()) && Uuid::try_parse(code).is_err()
        {
            continue;
        }
        let id = word.trim_matches(|c: char| !(c.is_ascii_hexdigit() || c == '-'));
        if id.len() < 32 || Uuid::try_parse(id).is_err() {
            words.push(word.to_string());
            continue;
        }
        let named = words.last().and_then(|w| match w.as_str() {
            "device" => Some("the device"),
            "organisation" | "of" => Some("the organisation"),
            _ if RecordKind::from_code(w).is_some() || w == "record" => Some("the record"),
            _ => None,
        });
        let (replacement, drop_previous) = match named {
            Some("the organisation") if words.last().is_some_and(|w| w == "of") => ("the organisation", false),
            Some(named) => (named, true),
            None => ("a record", false),
        };
        if drop_previous {
            words.pop();
        }
        words.push(word.replace(id, replacement));
    }
    words.join(" ")
}

/// What a provider's staff role is called on the pages.
fn role_in_words(role: doorstep_model::Role) -> &'static str {
    match role {
        doorstep_model::Role::Manager => "manager",
        _ => "care worker",
    }
}

/// A provider's device as the activity page names it: "Mo Khan's tablet (manager, Sunrise Home
/// Care)" from the name in the provider's directory; without one, the name the device was given
/// at enrolment where it says no more than a name would ("Sam's tablet (care worker, Sunrise
/// Home Care)"); otherwise "a Sunrise Home Care tablet". Never its id or the staff reference.
pub fn device_in_words(device: &Device, staff_name: Option<&str>, org: &str) -> String {
    let role = role_in_words(device.role);
    let org = org.trim();
    let org = if org.is_empty() { "provider's" } else { org };
    if let Some(name) = staff_name.map(str::trim).filter(|n| !n.is_empty()) {
        return format!("{name}'s tablet ({role}, {org})");
    }
    let given = device.name.trim();
    let reference = device.staff_ref.trim().to_lowercase();
    let plain = !given.is_empty()
        && given.chars().count() <= 60
        && (reference.is_empty() || !given.to_lowercase().contains(&reference))
        && given.split(|c: char| !(c.is_ascii_hexdigit() || c == '-')).all(|w| Uuid::try_parse(w).is_err());
    if plain { format!("{given} ({role}, {org})") } else { format!("a {org} tablet") }
}

/// Who raised a shared item, for the partner: "Sam Taylor, Sunrise Home Care" from the
/// provider's directory, "Staff at Sunrise Home Care" where the office has not named them. A
/// partner needs to know who noticed, not the provider's staff codes; the directory holds no
/// roles, and a manager raises ideas too, so no role is claimed.
pub fn raised_by_in_words(staff_name: Option<&str>, provider: &str) -> String {
    match staff_name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) => format!("{name}, {provider}"),
        None => format!("Staff at {provider}"),
    }
}

/// An item's page: see [`Hub::item_page`].
#[derive(Debug, Clone)]
pub struct ItemPage {
    pub item: SharedItem,
    /// The provider's office phone and hours.
    pub office: Option<(String, String)>,
    pub now: DateTime<Utc>,
    /// The display names, from the provider's directory, of the staff the page mentions (who
    /// raised it, who wrote messages), by staff reference: only those, never the directory.
    pub staff_names: std::collections::HashMap<String, String>,
}

impl ItemPage {
    /// "Sam Taylor, Sunrise Home Care", or "Staff at Sunrise Home Care".
    pub fn raised_by(&self) -> String {
        raised_by_in_words(
            self.staff_names.get(self.item.raised_by.as_str()).map(String::as_str),
            &self.item.provider.name,
        )
    }

    /// Who wrote a message, as the partner sees it: a partner as they signed; the provider's
    /// staff by their name in the directory ("Sam Taylor"), or "A care worker" — never the staff
    /// reference a device adds beside the name.
    pub fn message_author(&self, m: &ThreadMessage) -> String {
        match m.side {
            ThreadSide::Partner => m.by.clone(),
            ThreadSide::Provider => {
                if let Some(name) = self.staff_names.get(m.staff.as_str()) {
                    return name.clone();
                }
                let staff = m.staff.trim();
                let signed = if staff.is_empty() {
                    m.by.trim()
                } else {
                    m.by.trim().strip_suffix(&format!("({staff})")).unwrap_or(m.by.trim()).trim_end()
                };
                if signed.is_empty() || (!staff.is_empty() && signed.contains(staff)) {
                    "A member of staff".to_string()
                } else {
                    signed.to_string()
                }
            }
        }
    }

    /// What a partner quotes when they phone about an item that does not name the person.
    pub fn reference(&self) -> String {
        let hex = self.item.id.0.simple().to_string().to_uppercase();
        format!("DS-{}", &hex[..8])
    }
}

impl InboxFilter {
    /// Whether any filter is chosen (the page then shows them open).
    pub fn any(&self) -> bool {
        [&self.kind, &self.urgency, &self.status, &self.provider, &self.area].iter().any(|f| !f.is_empty())
    }
}

#[derive(Debug, Clone)]
pub struct InboxRow {
    pub id: Uuid,
    pub facts: SharedFacts,
}

impl InboxRow {
    /// When an answer is due (`doorstep_model::routing::respond_by`), while none has been given.
    pub fn due(&self) -> Option<DateTime<Utc>> {
        let urgency = doorstep_model::Urgency::from_code(&self.facts.urgency)?;
        let shared_at = DateTime::from_timestamp_millis(self.facts.shared_at)?;
        (self.facts.status == SharedStatus::New.code()).then(|| doorstep_model::routing::respond_by(urgency, shared_at))
    }

    /// Unanswered past its time: on the chase list.
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        self.due().is_some_and(|due| now > due)
    }
}

#[derive(Debug, Clone)]
pub struct Inbox {
    pub rows: Vec<InboxRow>,
    /// Matching rows in all pages.
    pub total: usize,
    /// 1-based, clamped to the pages there are.
    pub page: usize,
    pub pages: usize,
    /// What the filters can choose from (among this organisation's items).
    pub providers: Vec<String>,
    pub areas: Vec<String>,
    /// Unanswered past their time, whatever the filters say, longest overdue first.
    pub overdue: Vec<InboxRow>,
    /// Not yet answered, and of those the urgent ones.
    pub new: usize,
    pub urgent_new: usize,
    /// The hub's time the page was made at, for "due by 5pm today".
    pub now: DateTime<Utc>,
}

impl<S: HubStorage> Hub<S> {
    /// Every item shared with the caller's organisation (the caller's role already checked).
    async fn shared_rows(&self, caller: &WebCaller) -> Result<Vec<InboxRow>, WebError> {
        Ok(self
            .storage
            .doc_facts(RecordKind::Shared, None, Some(partner_principal(caller.org.id)))
            .await?
            .into_iter()
            .filter_map(|row| match DocFacts::from_json(&row.facts) {
                // The access row says it is shared with this organisation; the facts must agree.
                Some(DocFacts::Shared(facts)) if facts.partner_org == caller.org.id => {
                    Some(InboxRow { id: row.doc_id, facts })
                }
                _ => None,
            })
            .collect::<Vec<_>>())
    }

    /// The items shared with the caller's organisation, most urgent and newest first.
    pub async fn inbox(&self, caller: &WebCaller, filter: &InboxFilter) -> Result<Inbox, WebError> {
        self.require(caller, WebRole::Partner, "inbox").await?;
        let rows = self.shared_rows(caller).await?;
        let now = self.clock.now();
        let mut overdue: Vec<InboxRow> = rows.iter().filter(|r| r.overdue(now)).cloned().collect();
        overdue.sort_by_key(|r| (r.due(), r.id));
        let unanswered = |r: &&InboxRow| r.facts.status == SharedStatus::New.code();
        let new = rows.iter().filter(unanswered).count();
        let urgent_new = rows.iter().filter(unanswered).filter(|r| r.facts.urgency == "urgent").count();
        let providers: BTreeSet<String> = rows.iter().map(|r| r.facts.provider_name.clone()).collect();
        let areas: BTreeSet<String> = rows.iter().map(|r| r.facts.area.clone()).filter(|a| !a.is_empty()).collect();
        let wanted = |value: &str, chosen: &str| chosen.is_empty() || value == chosen;
        let mut rows: Vec<InboxRow> = rows
            .into_iter()
            .filter(|r| {
                let f = &r.facts;
                wanted(&f.kind, &filter.kind)
                    && wanted(&f.urgency, &filter.urgency)
                    && wanted(&f.status, &filter.status)
                    && wanted(&f.provider_name, &filter.provider)
                    && wanted(&f.area, &filter.area)
            })
            .collect();
        rows.sort_by(|a, b| {
            (b.facts.urgency_rank, b.facts.shared_at, b.id).cmp(&(a.facts.urgency_rank, a.facts.shared_at, a.id))
        });
        let total = rows.len();
        let pages = total.div_ceil(PAGE_SIZE).max(1);
        let page = filter.page.clamp(1, pages);
        let rows: Vec<InboxRow> = rows.into_iter().skip((page - 1) * PAGE_SIZE).take(PAGE_SIZE).collect();
        // The listing names the items it showed: a summary and an area are a read too.
        let shown: Vec<String> =
            rows.iter().chain(&overdue).map(|r| r.id.to_string()).collect::<BTreeSet<_>>().into_iter().collect();
        let detail = format!("{total} item(s); page {page} showed: {}", shown.join(" "));
        self.audit_web(caller.describe(), "inbox", None, true, detail).await?;
        Ok(Inbox {
            rows,
            total,
            page,
            pages,
            providers: providers.into_iter().collect(),
            areas: areas.into_iter().collect(),
            overdue,
            new,
            urgent_new,
            now,
        })
    }

    /// What an item's page shows: the item (read as [`Hub::shared_item`] reads it), how to reach
    /// the provider that shared it, and the hub's time for "due by".
    pub async fn item_page(&self, caller: &WebCaller, id: Uuid) -> Result<ItemPage, WebError> {
        let item = self.shared_item(caller, id, "read").await?;
        let directory = self.provider_directory(item.provider.id).await?;
        let office = directory
            .as_ref()
            .filter(|d| !d.office_phone.trim().is_empty())
            .map(|d| (d.office_phone.clone(), d.office_hours.clone()));
        let mentioned: BTreeSet<&str> =
            std::iter::once(item.raised_by.as_str()).chain(item.messages.iter().map(|m| m.staff.as_str())).collect();
        let staff_names = directory
            .iter()
            .flat_map(|d| mentioned.iter().filter_map(|r| d.staff_name(r).map(|n| (r.to_string(), n.to_string()))))
            .collect();
        Ok(ItemPage { item, office, now: self.clock.now(), staff_names })
    }

    /// The directory a provider's managers keep (office phone, staff names), which the hub holds
    /// as it holds any record, where they have made one.
    async fn provider_directory(&self, provider: Uuid) -> Result<Option<doorstep_model::Directory>, WebError> {
        let id = doorstep_model::DirectoryId::for_provider(provider).0;
        let Some(stored) = self.storage.load_document(id).await? else { return Ok(None) };
        if stored.kind != RecordKind::Directory || stored.owner_org != provider {
            return Ok(None);
        }
        Ok(load_strict(&stored.bytes)
            .ok()
            .and_then(|doc| autosurgeon::hydrate::<_, doorstep_model::Directory>(&doc).ok()))
    }

    /// One shared item, if it is shared with the caller's organisation. Every look, allowed or
    /// not, is audited with the purpose it was shared for.
    pub async fn shared_item(&self, caller: &WebCaller, id: Uuid, action: &str) -> Result<SharedItem, WebError> {
        self.require(caller, WebRole::Partner, action).await?;
        let (item, _, _) = self.load_shared(caller, id, action).await?;
        self.audit_web(caller.describe(), action, Some(id), true, format!("purpose: {}", item.purpose)).await?;
        Ok(item)
    }

    async fn load_shared(
        &self,
        caller: &WebCaller,
        id: Uuid,
        action: &str,
    ) -> Result<(SharedItem, AutoCommit, Uuid), WebError> {
        let readers = self.storage.readers(id).await?;
        let stored = self.storage.load_document(id).await?;
        let stored = match stored {
            Some(doc) if doc.kind == RecordKind::Shared && readers.contains(&partner_principal(caller.org.id)) => doc,
            // Not shared with them, revoked, or no such thing: all look the same from outside.
            _ => {
                self.audit_web(caller.describe(), action, Some(id), false, "not shared with this organisation".into())
                    .await?;
                return Err(WebError::NotFound);
            }
        };
        let doc = load_strict(&stored.bytes).map_err(|e| StorageError::Task(format!("stored {id}: {e}")))?;
        let item: SharedItem =
            autosurgeon::hydrate(&doc).map_err(|e| StorageError::Task(format!("stored {id}: {e}")))?;
        Ok((item, doc, stored.owner_org))
    }

    /// Records a partner's answer in the shared document and moves the provider's insight on.
    pub async fn respond(
        &self,
        caller: &WebCaller,
        id: Uuid,
        outcome: ResponseOutcome,
        message: &str,
    ) -> Result<SharedItem, WebError> {
        self.respond_judged(caller, id, outcome, message, None).await
    }

    /// [`Hub::respond`] with the partner's judgement whether acting on it likely avoided a
    /// hospital admission (`None`: not sure). Only an "Action taken" answer carries it; any other
    /// answer drops it.
    pub async fn respond_judged(
        &self,
        caller: &WebCaller,
        id: Uuid,
        outcome: ResponseOutcome,
        message: &str,
        admission_likely_avoided: Option<bool>,
    ) -> Result<SharedItem, WebError> {
        self.require(caller, WebRole::Partner, "respond").await?;
        let (mut item, mut doc, owner) = self.load_shared(caller, id, "respond").await?;
        let admission_likely_avoided = admission_likely_avoided.filter(|_| outcome == ResponseOutcome::ActionTaken);
        // The same answer sent again (a double click, a replayed form) is taken once.
        let repeated = item.responses.last().is_some_and(|r| {
            r.by == caller.user.name
                && r.outcome == outcome
                && r.message == message.trim()
                && r.admission_likely_avoided == admission_likely_avoided
        });
        if repeated {
            return Ok(item);
        }
        let now = Utc::now();
        let response = PartnerResponse {
            admission_likely_avoided,
            key: Uuid::new_v4().to_string(),
            outcome,
            message: message.to_string(),
            by: caller.user.name.clone(),
            at: now,
        };
        item.respond(response).map_err(|e| WebError::Invalid(e.to_string()))?;
        self.write_as_hub(&mut doc, &item, id, RecordKind::Shared, owner, Some(DocFacts::of_shared(&item))).await?;
        self.move_insight_on(&item, owner, outcome, message).await?;
        self.audit_web(
            caller.describe(),
            "respond",
            Some(id),
            true,
            format!("{}; purpose: {}", outcome.label(), item.purpose),
        )
        .await?;
        Ok(item)
    }

    /// A partner's message in the item's conversation: synced to the provider's devices that
    /// read the item (the office, and the care worker who raised it), audited.
    pub async fn post_message(&self, caller: &WebCaller, id: Uuid, text: &str) -> Result<SharedItem, WebError> {
        self.require(caller, WebRole::Partner, "message").await?;
        let (mut item, mut doc, owner) = self.load_shared(caller, id, "message").await?;
        // The same message sent again (a double click, a replayed form) is taken once.
        if item.messages.last().is_some_and(|m| m.by == caller.user.name && m.text == text.trim()) {
            return Ok(item);
        }
        let message = ThreadMessage {
            key: Uuid::new_v4().to_string(),
            side: ThreadSide::Partner,
            by: caller.user.name.clone(),
            staff: String::new(),
            at: self.clock.now(),
            text: text.to_string(),
        };
        item.post(message).map_err(|e| WebError::Invalid(e.to_string()))?;
        self.write_as_hub(&mut doc, &item, id, RecordKind::Shared, owner, Some(DocFacts::of_shared(&item))).await?;
        let words = text.trim().chars().count();
        self.audit_web(caller.describe(), "message", Some(id), true, format!("{words} characters")).await?;
        Ok(item)
    }

    /// A partner takes the item on: "being handled by" them, for their team and the provider.
    pub async fn handle(&self, caller: &WebCaller, id: Uuid) -> Result<SharedItem, WebError> {
        self.require(caller, WebRole::Partner, "handle").await?;
        let (mut item, mut doc, owner) = self.load_shared(caller, id, "handle").await?;
        if item.revoked.is_some() {
            return Err(WebError::Invalid(doorstep_model::shared::SharedError::Revoked.to_string()));
        }
        if item.handled_by.as_ref().is_some_and(|h| h.by == caller.user.name) {
            return Ok(item);
        }
        item.handled_by = Some(Handling { by: caller.user.name.clone(), at: self.clock.now() });
        self.write_as_hub(&mut doc, &item, id, RecordKind::Shared, owner, Some(DocFacts::of_shared(&item))).await?;
        self.audit_web(caller.describe(), "handle", Some(id), true, String::new()).await?;
        Ok(item)
    }

    /// The provider's insight follows its partners' answers, as far as its lifecycle allows
    /// (an idea already actioned is not moved back by a later acknowledgement).
    async fn move_insight_on(
        &self,
        item: &SharedItem,
        owner: Uuid,
        outcome: ResponseOutcome,
        message: &str,
    ) -> Result<(), WebError> {
        let id = item.insight_id.0;
        let Some(stored) = self.storage.load_document(id).await? else { return Ok(()) };
        if stored.kind != RecordKind::Insight || stored.owner_org != owner {
            return Ok(());
        }
        let mut doc = load_strict(&stored.bytes).map_err(|e| StorageError::Task(format!("stored {id}: {e}")))?;
        let mut insight: Insight =
            autosurgeon::hydrate(&doc).map_err(|e| StorageError::Task(format!("stored {id}: {e}")))?;
        if insight.move_to(outcome.insight_status(&item.partner.name, message.trim())).is_err() {
            return Ok(());
        }
        self.write_as_hub(&mut doc, &insight, id, RecordKind::Insight, owner, Some(DocFacts::of_insight(&insight)))
            .await
    }

    /// Writes the hub's own edit of a document as one change, which every reader's device
    /// then receives by ordinary sync.
    async fn write_as_hub<T: autosurgeon::Reconcile>(
        &self,
        doc: &mut AutoCommit,
        value: &T,
        id: Uuid,
        kind: RecordKind,
        owner: Uuid,
        facts: Option<DocFacts>,
    ) -> Result<(), WebError> {
        let before = doc.get_heads();
        autosurgeon::reconcile(doc, value).map_err(|e| StorageError::Task(format!("{kind} {id}: {e}")))?;
        let after = doc.get_heads();
        if after == before {
            return Ok(());
        }
        let bytes = doc.save_after(&before);
        let item = Sha256::digest(after.iter().flat_map(|h| h.0).collect::<Vec<u8>>()).into();
        self.storage
            .write_document(DocumentWrite {
                id,
                kind,
                owner_org: owner,
                // No device wrote this: every reader's device receives it.
                device_id: Uuid::nil(),
                changes: vec![(item, bytes)],
                grant: Vec::new(),
                revoke: Vec::new(),
                visit: None,
                note_person: None,
                snapshot: None,
                facts: facts.map(|f| f.to_json()),
                mail: None,
            })
            .await?;
        Ok(())
    }

    /// Every item shared with the caller's organisation and each response, as CSV.
    pub async fn shared_items_csv(&self, caller: &WebCaller) -> Result<String, WebError> {
        self.require(caller, WebRole::Partner, "export_csv").await?;
        let mut rows = self.shared_rows(caller).await?;
        rows.sort_by_key(|r| std::cmp::Reverse(r.facts.shared_at));
        let mut out = trends::csv_writer();
        let header = [
            "item_id",
            "shared_at",
            "provider",
            "kind",
            "urgency",
            "status",
            "area",
            "summary",
            "purpose",
            "response_at",
            "response_by",
            "outcome",
            "message",
        ];
        let csv_error = |e: csv::Error| StorageError::Task(format!("CSV: {e}"));
        out.write_record(header).map_err(csv_error)?;
        for row in &rows {
            let Ok((item, _, _)) = self.load_shared(caller, row.id, "export_csv").await else { continue };
            // Each item exported is in the log its provider sees.
            self.audit_web(
                caller.describe(),
                "export_csv",
                Some(item.id.0),
                true,
                format!("purpose: {}", item.purpose),
            )
            .await?;
            let base = [
                item.id.to_string(),
                item.shared_at.to_rfc3339(),
                csv_safe(&item.provider.name),
                item.kind.code().to_string(),
                item.urgency.code().to_string(),
                item.status().code().to_string(),
                csv_safe(&item.area),
                csv_safe(&item.summary),
                csv_safe(&item.purpose),
            ];
            if item.responses.is_empty() {
                out.write_record(base.iter().cloned().chain([
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ]))
                .map_err(csv_error)?;
            }
            for r in &item.responses {
                let answer = [r.at.to_rfc3339(), csv_safe(&r.by), r.outcome.code().to_string(), csv_safe(&r.message)];
                out.write_record(base.iter().cloned().chain(answer)).map_err(csv_error)?;
            }
        }
        let bytes = out.into_inner().map_err(|e| StorageError::Task(format!("CSV: {e}")))?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Who read and answered what the caller's provider shared, newest first.
    pub async fn partner_activity(&self, caller: &WebCaller) -> Result<Vec<ActivityLine>, WebError> {
        self.require(caller, WebRole::Manager, "activity").await?;
        let entries = self.storage.audit_of_owner(caller.org.id, 500).await?;
        // People and items are looked up once each, however many lines name them.
        let mut people: std::collections::HashMap<String, String> = Default::default();
        let mut titles: std::collections::HashMap<Uuid, String> = Default::default();
        let mut lines = Vec::with_capacity(entries.len());
        for e in entries {
            let who = match people.get(&e.actor) {
                Some(who) => who.clone(),
                None => {
                    let who = self.actor_in_words(caller, &e.actor).await?;
                    people.insert(e.actor.clone(), who.clone());
                    who
                }
            };
            let item = match e.doc_id {
                Some(id) => match titles.get(&id) {
                    Some(t) => Some(t.clone()),
                    None => {
                        let title = self.item_title(id, caller.org.id).await?;
                        titles.insert(id, title.clone());
                        Some(title)
                    }
                },
                None => None,
            };
            lines.push(ActivityLine::new(&e, who, item));
        }
        Ok(lines)
    }

    /// "Ola Adeyemi (Northbrook Adult Social Care)" for an audit entry's "ola@… (partner at
    /// Northbrook Adult Social Care)"; a device ("device <id> (manager M001 of <org>)") as
    /// [`device_in_words`] names it; the entry's own words where there is no such account.
    async fn actor_in_words(&self, caller: &WebCaller, actor: &str) -> Result<String, WebError> {
        if let Some(rest) = actor.strip_prefix("device ") {
            let id = rest.split(' ').next().and_then(|id| Uuid::try_parse(id).ok());
            let device = match id {
                Some(id) => self.storage.device(id).await?,
                None => None,
            };
            return Ok(match device {
                // Another organisation's device, or one the hub does not know: not named here.
                Some(d) if d.org_id == caller.org.id => {
                    let directory = self.provider_directory(d.org_id).await?;
                    let name = directory.as_ref().and_then(|dir| dir.staff_name(&d.staff_ref));
                    device_in_words(&d, name, &caller.org.name)
                }
                Some(_) => "a tablet of another organisation".to_string(),
                None => "a tablet the hub does not know".to_string(),
            });
        }
        let Some((email, rest)) = actor.split_once(" (") else { return Ok(actor.to_string()) };
        let org = rest.trim_end_matches(')').split_once(" at ").map(|(_, org)| org.to_string());
        let name = self.storage.web_user_by_email(email.to_lowercase()).await?.map(|u| u.name);
        Ok(match (name, org) {
            (Some(name), Some(org)) => format!("{name} ({org})"),
            (Some(name), None) => name,
            _ => actor.to_string(),
        })
    }

    /// An item's summary, shortened, for the activity page: only the provider's own items.
    async fn item_title(&self, id: Uuid, owner: Uuid) -> Result<String, WebError> {
        let item = match self.storage.load_document(id).await? {
            Some(d) if d.kind == RecordKind::Shared && d.owner_org == owner => {
                load_strict(&d.bytes).ok().and_then(|doc| autosurgeon::hydrate::<_, SharedItem>(&doc).ok())
            }
            _ => None,
        };
        Ok(item.map_or_else(
            || "a record".to_string(),
            |i| {
                let words: String = i.summary.chars().take(40).collect();
                if i.summary.chars().count() > 40 { format!("'{}…'", words.trim_end()) } else { format!("'{words}'") }
            },
        ))
    }

    pub(crate) async fn audit_web(
        &self,
        actor: String,
        action: &str,
        doc: Option<Uuid>,
        allowed: bool,
        detail: String,
    ) -> Result<(), WebError> {
        if !allowed {
            tracing::warn!(%actor, action, doc = ?doc, %detail, "denied");
        }
        self.storage
            .audit(AuditEntry {
                at: Utc::now().timestamp_millis(),
                actor,
                action: action.into(),
                doc_id: doc,
                allowed,
                detail,
            })
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use doorstep_model::Role;

    use super::*;

    fn device(role: Role, staff: &str, name: &str) -> Device {
        Device {
            id: Uuid::new_v4(),
            org_id: Uuid::new_v4(),
            staff_ref: staff.into(),
            role,
            name: name.into(),
            token_hash: vec![],
            revoked: false,
        }
    }

    #[test]
    fn a_device_is_named_in_words_never_by_its_id_or_staff_code() {
        let mo = device(Role::Manager, "M001", "M001's tablet");
        assert_eq!(
            device_in_words(&mo, Some("Mo Khan"), "Sunrise Home Care"),
            "Mo Khan's tablet (manager, Sunrise Home Care)"
        );
        // No name in the directory: the device's own name only when it says no code or id.
        assert_eq!(device_in_words(&mo, None, "Sunrise Home Care"), "a Sunrise Home Care tablet");
        assert_eq!(device_in_words(&mo, Some("  "), "Sunrise Home Care"), "a Sunrise Home Care tablet");
        let sam = device(Role::Carer, "C001", "Sam's tablet");
        assert_eq!(device_in_words(&sam, None, "Sunrise Home Care"), "Sam's tablet (care worker, Sunrise Home Care)");
        let odd = device(Role::Carer, "C001", &format!("tablet {}", Uuid::new_v4()));
        assert_eq!(device_in_words(&odd, None, "Sunrise Home Care"), "a Sunrise Home Care tablet");
        let lower = device(Role::Carer, "C001", "c001 tablet");
        assert_eq!(device_in_words(&lower, None, "Sunrise Home Care"), "a Sunrise Home Care tablet");
    }

    #[test]
    fn who_raised_an_item_is_a_name_and_provider_never_a_staff_code() {
        assert_eq!(raised_by_in_words(Some("Sam Taylor"), "Sunrise Home Care"), "Sam Taylor, Sunrise Home Care");
        assert_eq!(raised_by_in_words(None, "Sunrise Home Care"), "Staff at Sunrise Home Care");
        assert_eq!(raised_by_in_words(Some(""), "Sunrise Home Care"), "Staff at Sunrise Home Care");
    }

    #[test]
    fn a_refusal_reason_names_the_actor_in_words_and_no_ids() {
        let device = Uuid::new_v4();
        let org = Uuid::new_v4();
        let record = Uuid::new_v4();
        let actor = format!("device {device} (manager M001 of {org})");
        let detail = format!("{actor} may not change shared {record}");
        let said = reason_in_words(&detail, &actor, "Mo Khan's tablet (manager, Sunrise Home Care)");
        assert_eq!(said, "Mo Khan's tablet (manager, Sunrise Home Care) may not change the record");
        let said = reason_in_words(&format!("record {record} is a shared, not a note"), &actor, "x");
        assert_eq!(said, "the record is a shared, not a note");
        let said = reason_in_words(&format!("device {device} (carer C002 of {org}) is not on visit {record}"), "", "x");
        assert_eq!(said, "the device (carer of the organisation) is not on the record");
        assert_eq!(reason_in_words(&format!("{record}"), "", "x"), "a record");
    }
}
