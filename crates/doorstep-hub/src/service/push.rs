//! What a device may write: one document's pushed changes taken or held back, under the size
//! limits, the model's write policy, the shared-item rules and who may create what.

use std::collections::BTreeSet;

use automerge::{AutoCommit, AutomergeError};
use chrono::Utc;
use doorstep_model::policy::{WithinSize, WritePolicy, Writer, check_note};
use doorstep_model::{Directory, Insight, Person, RecordKind, SharedItem, StaffId, Visit, VisitNote};
use doorstep_protocol::{DocChanges, HoldReason, Role};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::facts::{Facts, facts};
use super::{Caller, Hub, ServiceError, carer_principal, load_strict};
use crate::storage::{AuditEntry, DocumentWrite, HubStorage, StorageError};

/// The most one document's pushed changes may weigh in one request.
pub const MAX_DOC_PUSH_BYTES: usize = 4 * 1024 * 1024;

/// Operations in one record's push, at most (a carer's busiest note over days offline is tens of
/// thousands: each typed character is one).
pub const MAX_OPS_PER_PUSH: usize = 200_000;

/// Fold a document's changes into a new snapshot after this many.
const COMPACT_AFTER: u64 = 64;

/// The first text field over its limit (`doorstep_model::policy::WithinSize`), if any.
fn oversize(kind: RecordKind, doc: &AutoCommit) -> Option<String> {
    fn of<T: WithinSize + autosurgeon::Hydrate>(doc: &AutoCommit) -> Option<String> {
        autosurgeon::hydrate::<_, T>(doc).ok().and_then(|record| record.oversize())
    }
    match kind {
        RecordKind::Note => of::<VisitNote>(doc),
        RecordKind::Insight => of::<Insight>(doc),
        RecordKind::Person => of::<Person>(doc),
        RecordKind::Shared => of::<SharedItem>(doc),
        RecordKind::Visit | RecordKind::Directory => None,
    }
}

/// The number of operations in pushed change chunks, read from each change's header without
/// building the document. `None` when the bytes hold a whole saved document (its first push),
/// which the size checks after loading cover.
pub fn pushed_ops(bytes: &[u8]) -> Option<usize> {
    const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
    let mut rest = bytes;
    let mut ops = 0usize;
    while !rest.is_empty() {
        if rest.len() < 9 || rest[..4] != MAGIC {
            return None;
        }
        let kind = rest[8];
        // The chunk's length: unsigned LEB128 after the type byte.
        let (mut length, mut shift, mut at) = (0usize, 0u32, 9usize);
        loop {
            let byte = *rest.get(at)?;
            length |= usize::from(byte & 0x7f).checked_shl(shift)?;
            at += 1;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
            if shift > 63 {
                return None;
            }
        }
        let end = at.checked_add(length)?;
        let chunk = rest.get(..end)?;
        match kind {
            // A change, or a compressed change.
            1 | 2 => ops = ops.saturating_add(automerge::Change::try_from(chunk).ok()?.len()),
            _ => return None,
        }
        rest = &rest[end..];
    }
    Some(ops)
}

impl<S: HubStorage> Hub<S> {
    /// Takes one document's pushed changes, or says why not. Storage failures are errors of
    /// the whole request (the device retries); anything about the document itself holds back
    /// only that document.
    pub(super) async fn accept(
        &self,
        caller: &Caller,
        push: DocChanges,
    ) -> Result<Result<(), (HoldReason, String)>, ServiceError> {
        let hold = |reason, detail: String| Ok(Err((reason, detail)));
        if push.bytes.len() > MAX_DOC_PUSH_BYTES {
            return hold(
                HoldReason::TooLarge,
                format!("{} bytes (the limit is {MAX_DOC_PUSH_BYTES})", push.bytes.len()),
            );
        }
        // Operations counted from the changes' headers before anything is expanded: 5 KB of
        // compressed changes can hold millions of characters, which would cost the hub (and every
        // reader) hundreds of megabytes to load.
        if let Some(ops) = pushed_ops(&push.bytes)
            && ops > MAX_OPS_PER_PUSH
        {
            return hold(HoldReason::TooLarge, format!("{ops} operations (the limit is {MAX_OPS_PER_PUSH})"));
        }
        let existing = self.storage.load_document(push.id).await?;
        let device = &caller.device;
        // For a shared item: the hub's copy before this push, to keep partners' answers intact.
        let mut earlier_shared: Option<SharedItem> = None;
        // The hub's copy before this push, for the write policy's before-and-after check.
        let mut before: Option<AutoCommit> = None;
        let (owner, mut combined, old_heads) = match &existing {
            Some(doc) => {
                // Readers first: the answer to anyone else says nothing about the stored record
                // (not its kind), only what they sent.
                let readers = self.storage.readers(push.id).await?;
                if !caller.principals().iter().any(|p| readers.contains(p)) || !device.role.may_edit(push.kind) {
                    return hold(
                        HoldReason::Forbidden,
                        format!("{} may not change {} {}", caller.describe(), push.kind, push.id),
                    );
                }
                if doc.kind != push.kind {
                    return hold(
                        HoldReason::Corrupt,
                        format!("record {} is a {}, not a {}", push.id, doc.kind, push.kind),
                    );
                }
                let mut current =
                    load_strict(&doc.bytes).map_err(|e| StorageError::Task(format!("stored {}: {e}", push.id)))?;
                if push.kind == RecordKind::Shared {
                    earlier_shared = autosurgeon::hydrate(&current).ok();
                }
                let heads = current.get_heads();
                before = Some(current);
                (doc.owner_org, doc.bytes.clone(), heads)
            }
            None => (device.org_id, Vec::new(), Vec::new()),
        };
        combined.extend_from_slice(&push.bytes);
        // Loading is CPU work: off the async threads, so one large record never stalls others.
        let loaded = tokio::task::spawn_blocking(move || load_strict(&combined))
            .await
            .map_err(|e| StorageError::Task(format!("loading {}: {e}", push.id)))?;
        let mut doc = match loaded {
            Ok(doc) => doc,
            Err(AutomergeError::MissingDeps) => {
                return hold(HoldReason::NeedsDocSync, "the hub lacks earlier changes of this record".into());
            }
            Err(e) => return hold(HoldReason::Corrupt, e.to_string()),
        };
        // Changes whose history is missing are queued by Automerge, not applied, and not an
        // error: without this check they would be acknowledged and lost.
        if !doc.get_missing_deps(&[]).is_empty() {
            return hold(HoldReason::NeedsDocSync, "the hub lacks earlier changes of this record".into());
        }
        let (record_id, facts) = match facts(push.kind, &doc, owner) {
            Ok(f) => f,
            Err(detail) => return hold(HoldReason::Corrupt, detail),
        };
        if record_id != push.id {
            return hold(HoldReason::Corrupt, format!("the document describes {} {record_id}", push.kind));
        }
        // A visit or note is about one of its own provider's people: pointing it at another
        // provider's person would hand that person's records to this provider's carers.
        let person = facts.note_person.or(facts.visit.as_ref().map(|v| v.person_id));
        if let Some(person) = person
            && let Some(stored) = self.storage.load_document(person).await?
            && (stored.kind != RecordKind::Person || stored.owner_org != owner)
        {
            return hold(
                HoldReason::Forbidden,
                format!("{} {} names a person of another provider", push.kind, push.id),
            );
        }
        // Oversize text is held back, never stored (it would cost every reader as much again).
        if let Some(too_long) = oversize(push.kind, &doc) {
            return hold(HoldReason::TooLarge, format!("{} {}: {too_long}", push.kind, push.id));
        }
        if let Some(refusal) = self.check_policy(caller, push.kind, before.as_ref(), &doc, facts.parent).await? {
            return hold(HoldReason::Forbidden, format!("{} {}: {refusal}", push.kind, push.id));
        }
        if push.kind == RecordKind::Shared
            && let Some(refusal) = self.check_shared(&doc, earlier_shared.as_ref()).await?
        {
            return hold(HoldReason::Forbidden, refusal);
        }
        let new_item = match push.kind {
            RecordKind::Shared if existing.is_none() => autosurgeon::hydrate::<_, SharedItem>(&doc).ok(),
            _ => None,
        };
        // Messages from the provider's side of an item's conversation, to audit once stored.
        let said: Vec<String> = match &earlier_shared {
            Some(before) => autosurgeon::hydrate::<_, SharedItem>(&doc)
                .map(|after| before.new_messages_in(&after).map(|m| m.by.clone()).collect())
                .unwrap_or_default(),
            None => Vec::new(),
        };
        if existing.is_none()
            && let Some(reason) = self.may_create(caller, push.kind, &facts).await?
        {
            return hold(HoldReason::Forbidden, reason);
        }
        // Nothing new (a retried request, or changes the hub already had): store nothing.
        let new_heads = doc.get_heads();
        if new_heads == old_heads {
            return Ok(Ok(()));
        }
        // The pushed bytes are stored as they came, as one item named by the heads they lead
        // to: re-encoding them change by change would cost more than everything else here, and
        // a retry of the same push names the same item, so it is stored once.
        let item = Sha256::digest(new_heads.iter().flat_map(|h| h.0).collect::<Vec<u8>>()).into();
        let changes = vec![(item, push.bytes)];

        // Readers: the record's own, plus whoever already holds its parent (a note goes to
        // every carer who holds the person); carers who no longer belong are told to purge.
        let mut readers: BTreeSet<String> = facts.readers.into_iter().collect();
        // An idea or a shared item reaches its carer only while they still visit the person it
        // names (their own idea for IDEA_GRACE_DAYS after): a rewrite by anyone never hands it
        // back to a carer who has left, and takes it from one whose time is up.
        if let Some(staff) = &facts.carer_reader
            && let Some(person) = self.person_named(push.kind, &doc, owner).await?
            && !self.carer_may_read(owner, staff, push.kind, person).await?
        {
            readers.remove(&carer_principal(owner, staff));
        }
        if let Some(person) = facts.note_person {
            readers.extend(self.storage.readers(person).await?.into_iter().filter(|p| p.starts_with("carer:")));
            if device.role == Role::Carer {
                readers.insert(carer_principal(device.org_id, &device.staff_ref));
            }
        }
        let current: BTreeSet<String> = if existing.is_some() {
            self.storage.readers(push.id).await?.into_iter().collect()
        } else {
            BTreeSet::new()
        };
        // Who leaves: carers taken off a visit, a partner whose share was revoked, a carer who
        // no longer visits the person an idea or shared item names.
        let leaving: &[&str] = match push.kind {
            RecordKind::Visit | RecordKind::Insight => &["carer:"],
            RecordKind::Shared => &["carer:", "partner:"],
            _ => &[],
        };
        let revoke = current
            .iter()
            .filter(|p| leaving.iter().any(|l| p.starts_with(l)) && !readers.contains(*p))
            .cloned()
            .collect();
        let grant = readers.into_iter().filter(|p| !current.contains(p)).collect();
        let snapshot = if existing.is_some() && self.storage.changes_since_snapshot(push.id).await? >= COMPACT_AFTER {
            Some(doc.save())
        } else {
            None
        };
        self.storage
            .write_document(DocumentWrite {
                id: push.id,
                kind: push.kind,
                owner_org: owner,
                device_id: device.id,
                changes,
                grant,
                revoke,
                visit: facts.visit,
                note_person: facts.note_person,
                snapshot,
                facts: facts.doc_facts.map(|f| f.to_json()),
                mail: match &new_item {
                    Some(item) => self.mail_for_partner(item).await,
                    None => None,
                },
            })
            .await?;
        if let (Some(mail), Some(_)) = (&self.mail, &new_item) {
            mail.wake();
        }
        for by in said {
            self.storage
                .audit(AuditEntry {
                    at: Utc::now().timestamp_millis(),
                    actor: caller.describe(),
                    action: "message".into(),
                    doc_id: Some(push.id),
                    allowed: true,
                    detail: format!("a message from {by} to the partner"),
                })
                .await?;
        }
        Ok(Ok(()))
    }

    /// The e-mail telling a partner's team that `item` arrived, where the hub sends mail and the
    /// directory names a mailbox; queued with the item itself. A directory that cannot be read
    /// is logged and sends nothing, never the device's problem.
    async fn mail_for_partner(&self, item: &SharedItem) -> Option<crate::storage::OutgoingMail> {
        let mail = self.mail.as_ref()?;
        match self.partner_entry(item.partner.id).await {
            Ok(Some(entry)) if !entry.team_email.is_empty() => {
                Some(mail.new_item(item, &entry.team_email, self.clock.now()))
            }
            Ok(_) => None,
            Err(e) => {
                tracing::error!(error = %e, item = %item.id, "could not read the partner directory to e-mail the partner");
                None
            }
        }
    }

    /// A shared item must name a partner organisation this hub knows, and keep every answer a
    /// partner gave (the provider may stop sharing, never rewrite a partner's words).
    async fn check_shared(
        &self,
        doc: &AutoCommit,
        earlier: Option<&SharedItem>,
    ) -> Result<Option<String>, ServiceError> {
        let Ok(item) = autosurgeon::hydrate::<_, SharedItem>(doc) else { return Ok(None) };
        let partner = self.storage.organisation(item.partner.id).await?;
        let Some(partner) = partner.filter(|p| p.kind == crate::storage::OrgKind::Partner) else {
            return Ok(Some(format!("{} is not a partner organisation on this hub", item.partner.name)));
        };
        // What kind of partner it is comes from the hub's own record, not from the item: an item
        // calling a council "a GP practice" would otherwise pass under NHS consent.
        if let Some(known) = partner.partner_kind
            && known != item.partner.kind
        {
            return Ok(Some(format!(
                "{} is a {} on this hub, not a {}",
                partner.name,
                known.label().to_lowercase(),
                item.partner.kind.label().to_lowercase()
            )));
        }
        // Out of area needs a reason, checked when the item is made (a directory changed since
        // does not hold back a later change, such as ending the share).
        if earlier.is_none()
            && let Some(entry) = self.partner_entry(item.partner.id).await?
            && doorstep_model::routing::needs_reason(
                &entry.listing,
                Some(item.area.as_str()).filter(|a| !a.is_empty()),
                &item.out_of_area_reason,
            )
        {
            return Ok(Some(format!(
                "{} does not cover {}: sharing with them needs a reason",
                partner.name, item.area
            )));
        }
        if earlier.is_some_and(|before| !before.answers_kept_in(&item)) {
            return Ok(Some("a partner's answer cannot be changed or removed".into()));
        }
        if item.person.is_some()
            && item.consent_basis == doorstep_model::ConsentBasis::PersonConsented
            && let Some(person) = self.person_behind(&item).await?
        {
            let sector = item.partner.kind.sector();
            if !person.consent.allows(sector) {
                return Ok(Some(format!(
                    "{} has not agreed to share with {}: the person's details cannot go to {}",
                    person.name.given,
                    sector.label(),
                    item.partner.name
                )));
            }
        }
        Ok(None)
    }

    /// The person a shared item is about, by way of the provider's insight, where the hub holds
    /// both (they may arrive later in the same sync; the device checked consent when sharing).
    async fn person_behind(&self, item: &SharedItem) -> Result<Option<Person>, ServiceError> {
        let read = |stored: Option<crate::storage::StoredDocument>, kind: RecordKind| {
            stored
                .filter(|d| d.kind == kind && d.owner_org == item.provider.id)
                .and_then(|d| load_strict(&d.bytes).ok())
        };
        let Some(doc) = read(self.storage.load_document(item.insight_id.0).await?, RecordKind::Insight) else {
            return Ok(None);
        };
        let Some(person_id) = autosurgeon::hydrate::<_, Insight>(&doc).ok().and_then(|i| i.person_id) else {
            return Ok(None);
        };
        let Some(doc) = read(self.storage.load_document(person_id.0).await?, RecordKind::Person) else {
            return Ok(None);
        };
        Ok(autosurgeon::hydrate::<_, Person>(&doc).ok())
    }

    /// The model's write policy (`doorstep_model::policy`), on the record before and after this
    /// push: what this device's role may change, field by field. A note is judged with its
    /// visit, as the hub holds it.
    async fn check_policy(
        &self,
        caller: &Caller,
        kind: RecordKind,
        before: Option<&AutoCommit>,
        after: &AutoCommit,
        parent: Option<Uuid>,
    ) -> Result<Option<String>, ServiceError> {
        let staff = StaffId::new(caller.device.staff_ref.clone());
        let writer = Writer { role: caller.device.role, staff: &staff };
        fn judged<T: WritePolicy + autosurgeon::Hydrate>(
            before: Option<&AutoCommit>,
            after: &AutoCommit,
            writer: Writer<'_>,
        ) -> Option<String> {
            let after: T = match autosurgeon::hydrate(after) {
                Ok(after) => after,
                Err(e) => return Some(format!("unreadable: {e}")),
            };
            let before: Option<T> = before.and_then(|b| autosurgeon::hydrate(b).ok());
            T::check_write(before.as_ref(), &after, writer).err().map(|r| r.0)
        }
        Ok(match kind {
            RecordKind::Person => judged::<Person>(before, after, writer),
            RecordKind::Visit => judged::<Visit>(before, after, writer),
            RecordKind::Insight => judged::<Insight>(before, after, writer),
            RecordKind::Directory => judged::<Directory>(before, after, writer),
            RecordKind::Shared => judged::<SharedItem>(before, after, writer),
            RecordKind::Note => {
                let note: VisitNote = match autosurgeon::hydrate(after) {
                    Ok(note) => note,
                    Err(e) => return Ok(Some(format!("unreadable: {e}"))),
                };
                let earlier: Option<VisitNote> = before.and_then(|b| autosurgeon::hydrate(b).ok());
                let visit: Option<Visit> = match parent {
                    Some(id) => match self.storage.load_document(id).await? {
                        Some(stored) if stored.kind == RecordKind::Visit => {
                            load_strict(&stored.bytes).ok().and_then(|d| autosurgeon::hydrate(&d).ok())
                        }
                        _ => None,
                    },
                    None => None,
                };
                check_note(earlier.as_ref(), &note, visit.as_ref(), writer).err().map(|r| r.0)
            }
        })
    }

    /// Whether this device may create a record of this kind: managers anything in their
    /// provider; carers notes for visits they are on, and their own ideas.
    async fn may_create(
        &self,
        caller: &Caller,
        kind: RecordKind,
        facts: &Facts,
    ) -> Result<Option<String>, ServiceError> {
        let d = &caller.device;
        Ok(match (d.role, kind) {
            (Role::Manager, _) => None,
            (Role::Carer, RecordKind::Note) => {
                let visit = facts.parent.unwrap_or_default();
                let readers = self.storage.readers(visit).await?;
                if readers.contains(&carer_principal(d.org_id, &d.staff_ref)) {
                    None
                } else {
                    Some(format!("{} is not on visit {visit}", caller.describe()))
                }
            }
            (Role::Carer, RecordKind::Insight) if facts.author.as_deref() == Some(d.staff_ref.as_str()) => None,
            _ => Some(format!("a {} device may not create a {kind}", d.role.code())),
        })
    }
}

#[cfg(test)]
mod pushed_ops_tests {
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ObjType, ROOT};

    use super::{MAX_OPS_PER_PUSH, pushed_ops};

    #[test]
    fn operations_are_counted_from_the_changes_without_loading_them() {
        let mut doc = AutoCommit::new();
        let text = doc.put_object(ROOT, "narrative", ObjType::Text).expect("text");
        let first = doc.save();
        assert_eq!(pushed_ops(&first), None, "a whole saved document is checked after loading");
        let heads = doc.get_heads();
        doc.splice_text(&text, 0, 0, "Ate well.").expect("typing");
        doc.commit();
        doc.splice_text(&text, 9, 0, " Tea.").expect("more");
        let changes = doc.save_after(&heads);
        assert_eq!(pushed_ops(&changes), Some(14), "one op a character, over two changes");

        let heads = doc.get_heads();
        doc.splice_text(&text, 0, 0, &"x".repeat(MAX_OPS_PER_PUSH + 1)).expect("a flood");
        let flood = doc.save_after(&heads);
        assert!(pushed_ops(&flood).is_some_and(|n| n > MAX_OPS_PER_PUSH));
        assert_eq!(pushed_ops(b"not automerge"), None);
    }
}
