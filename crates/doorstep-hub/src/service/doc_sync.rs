//! The per-document fallback: one round of the Automerge sync protocol for a document whose
//! pushed changes the hub could not place.

use automerge::AutoCommit;
use doorstep_protocol::{DocChanges, DocSyncRequest, DocSyncResponse, HoldReason};
use uuid::Uuid;

use super::{Caller, Hub, ServiceError, load_strict};
use crate::storage::{HubStorage, StorageError};

impl<S: HubStorage> Hub<S> {
    /// One round of the Automerge sync protocol for one document, for a device whose changes
    /// the hub could not place (it lacks their history, e.g. after a restore from backup).
    pub async fn doc_sync(
        &self,
        caller: &Caller,
        id: Uuid,
        request: DocSyncRequest,
    ) -> Result<DocSyncResponse, ServiceError> {
        use automerge::sync::{Message, SyncDoc};
        let existing = self.storage.load_document(id).await?;
        let readable = match &existing {
            Some(_) => {
                let readers = self.storage.readers(id).await?;
                caller.principals().iter().any(|p| readers.contains(p))
            }
            None => false,
        };
        let mut doc = match &existing {
            Some(stored) if readable => {
                if stored.kind != request.kind {
                    return Err(ServiceError::NotFound("no such record".into()));
                }
                load_strict(&stored.bytes).map_err(|e| StorageError::Task(format!("stored {id}: {e}")))?
            }
            // Someone else's record is answered exactly as one the hub does not hold, so the
            // answer reveals nothing, not even that it exists; the look is audited. Changes sent
            // for it are refused when they would be stored.
            Some(_) => {
                self.deny(caller, "doc_sync", Some(id), "not a reader of this record".into()).await?;
                AutoCommit::new()
            }
            None => AutoCommit::new(),
        };
        let before = doc.get_heads();
        // Taken out, not locked: other devices' conversations go on while this one writes.
        let mut state = self.doc_sync_states.take(caller.device.id, id);
        let state = &mut state;
        if !request.message.is_empty() {
            let message = Message::decode(&request.message)
                .map_err(|e| ServiceError::BadRequest(format!("not an Automerge sync message: {e}")))?;
            doc.sync()
                .receive_sync_message(state, message)
                .map_err(|e| ServiceError::BadRequest(format!("the sync message could not be applied: {e}")))?;
        }
        if doc.get_heads() != before {
            let bytes = if before.is_empty() { doc.save() } else { doc.save_after(&before) };
            if let Err((reason, detail)) = self.accept(caller, DocChanges { id, kind: request.kind, bytes }).await? {
                if reason == HoldReason::Forbidden {
                    self.deny(caller, "doc_sync", Some(id), detail.clone()).await?;
                    return Err(ServiceError::Forbidden(detail));
                }
                return Err(ServiceError::BadRequest(format!("{}: {detail}", reason.explain())));
            }
        }
        doorstep_model::doc_sync::resend_what_they_need(state);
        let reply = doc.sync().generate_sync_message(state).map(|m| m.encode()).unwrap_or_default();
        if !reply.is_empty() {
            self.doc_sync_states.put(caller.device.id, id, std::mem::take(state));
        }
        Ok(DocSyncResponse { message: reply })
    }
}
