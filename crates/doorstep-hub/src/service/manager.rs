//! What a manager's device may do over its own organisation: list its devices and the records
//! they hold back, revoke a device, have a held-back record discarded or all sent again, and
//! list the partners to share with. Every one is refused to other roles.

use chrono::Utc;
use doorstep_model::routing::PartnerListing;
use doorstep_model::view::{DeviceRow, HeldBackOnDevice};
use doorstep_model::{PartnerKind, PartnerOrg};
use doorstep_protocol::Role;
use uuid::Uuid;

use super::{Caller, Hub, ServiceError};
use crate::storage::{AuditEntry, HubStorage, StorageResult};

/// Refuses any device but a manager's.
pub fn require_manager(caller: &Caller) -> Result<(), ServiceError> {
    if caller.device.role == Role::Manager {
        Ok(())
    } else {
        Err(ServiceError::Forbidden("only a manager can do this".into()))
    }
}

impl<S: HubStorage> Hub<S> {
    /// Audits what a manager's device did, or was refused, now.
    async fn audit_manager_action(
        &self,
        caller: &Caller,
        action: &str,
        doc_id: Option<Uuid>,
        allowed: bool,
        detail: String,
    ) -> StorageResult<()> {
        self.storage
            .audit(AuditEntry {
                at: Utc::now().timestamp_millis(),
                actor: caller.describe(),
                action: action.into(),
                doc_id,
                allowed,
                detail,
            })
            .await
    }

    /// The partner organisations a manager may share ideas with.
    pub async fn partners(&self, caller: &Caller) -> Result<Vec<PartnerOrg>, ServiceError> {
        require_manager(caller)?;
        let orgs = self.storage.partner_organisations().await?;
        Ok(orgs
            .into_iter()
            .map(|o| PartnerOrg { id: o.id, name: o.name, kind: o.partner_kind.unwrap_or(PartnerKind::Other) })
            .collect())
    }

    /// The partner directory, to rank partners for an idea (`doorstep_model::routing`); team
    /// mailboxes stay on the hub.
    pub async fn partner_listings(&self, caller: &Caller) -> Result<Vec<PartnerListing>, ServiceError> {
        require_manager(caller)?;
        Ok(self.partner_directory().await?.into_iter().map(|e| e.listing).collect())
    }

    /// The manager's own organisation's devices.
    pub async fn devices(&self, caller: &Caller) -> Result<Vec<DeviceRow>, ServiceError> {
        require_manager(caller)?;
        let devices = self.storage.device_statuses(Some(caller.device.org_id)).await?;
        let held = self.storage.held_back_records(caller.device.org_id).await?;
        Ok(devices
            .into_iter()
            .map(|s| DeviceRow {
                id: s.device.id,
                held_back_records: held
                    .iter()
                    .filter(|h| h.device == s.device.id)
                    .map(|h| HeldBackOnDevice {
                        record: h.record,
                        kind: h.kind,
                        what: String::new(),
                        reason: h.reason.clone(),
                        since: chrono::DateTime::from_timestamp_millis(h.since).unwrap_or_default(),
                        discard_asked: h.discard_asked,
                    })
                    .collect(),
                name: s.device.name,
                staff_ref: s.device.staff_ref,
                role: s.device.role,
                revoked: s.device.revoked,
                last_sync_at: s.last_sync_at.and_then(chrono::DateTime::from_timestamp_millis),
                held_back: s.last_held_back,
            })
            .collect())
    }

    /// A manager decides a record one of the organisation's devices keeps back will not be sent
    /// (say, a change a carer may not make): the device drops its own changes to it at its next
    /// sync and takes the hub's copy. Audited, refused or not.
    pub async fn discard_held_back(&self, caller: &Caller, device: Uuid, record: Uuid) -> Result<(), ServiceError> {
        require_manager(caller)?;
        let storage = &self.storage;
        let audit = |allowed: bool, detail: String| {
            self.audit_manager_action(caller, "held_back_discard", Some(record), allowed, detail)
        };
        // Another organisation's device is answered as one that keeps nothing back.
        let target = storage.device(device).await?.filter(|d| d.org_id == caller.device.org_id);
        let asked = match &target {
            Some(target) => storage.ask_discard(target.id, record, Utc::now().timestamp_millis()).await?,
            None => false,
        };
        if !asked {
            audit(false, format!("device {device} does not keep record {record} back")).await?;
            return Err(ServiceError::NotFound("that device does not keep this record back".into()));
        }
        audit(true, format!("asked device {device} to discard its held-back changes to {record}")).await?;
        Ok(())
    }

    /// A manager asks every device of the organisation to send the records the hub held back again
    /// (after the office fixed what was wrong): each sees it at its next sync. Audited.
    pub async fn ask_held_back_retry(&self, caller: &Caller) -> Result<(), ServiceError> {
        require_manager(caller)?;
        let asked = self.storage.ask_held_back_retry(caller.device.org_id).await?;
        let detail = format!("asked the organisation's devices to send held-back records again (request {asked})");
        self.audit_manager_action(caller, "held_back_retry", None, true, detail).await?;
        Ok(())
    }

    /// A manager revokes one of the organisation's devices: it is refused from its next request.
    /// Audited, refused or not.
    pub async fn revoke_device(&self, caller: &Caller, id: Uuid) -> Result<(), ServiceError> {
        require_manager(caller)?;
        let storage = &self.storage;
        let audit =
            |allowed: bool, detail: String| self.audit_manager_action(caller, "revoke_device", None, allowed, detail);
        // Another organisation's device looks exactly like one that does not exist; both refusals
        // are audited alike.
        let target = storage.device(id).await?.filter(|d| d.org_id == caller.device.org_id);
        let Some(target) = target else {
            audit(false, format!("{id} is not a device of this organisation")).await?;
            return Err(ServiceError::NotFound("no such device".into()));
        };
        storage.revoke_device(target.id, Utc::now().timestamp_millis()).await?;
        audit(true, format!("revoked device {} ({} {})", target.id, target.role.code(), target.staff_ref)).await?;
        tracing::info!(device = %target.id, by = %caller.device.id, "device revoked");
        Ok(())
    }
}
