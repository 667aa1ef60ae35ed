//! How a device joins: one-time enrolment codes, issued for a member of staff and redeemed for
//! a device token.

use chrono::{Duration, Utc};
use doorstep_protocol::{EnrolRequest, EnrolResponse, EnrolmentCodeRequest, EnrolmentCodeResponse, Role};
use uuid::Uuid;

use super::manager::require_manager;
use super::{Caller, Hub, Refusal, ServiceError, new_token};
use crate::storage::{AuditEntry, Device, EnrolmentCode, HubStorage};

/// A one-time code of 12 characters from 32 that cannot be misread (60 bits): "K7QM-2XPD-9HWR".
pub fn new_enrolment_code() -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    // 32 symbols: each random byte's low five bits pick one with no bias.
    let bytes: [u8; 12] = rand::random();
    let chars: String = bytes.iter().map(|b| ALPHABET[usize::from(b & 31)] as char).collect();
    format!("{}-{}-{}", &chars[..4], &chars[4..8], &chars[8..])
}

/// The code as stored: HMAC-SHA256 under the hub's key (`code_key`).
pub fn enrolment_code_hash(key: &crate::code_key::CodeKey, code: &str) -> Vec<u8> {
    key.code_hash(code)
}

/// Staff references are short codes from the provider's rota ("C001").
pub const MAX_STAFF_REF_CHARS: usize = 64;

/// Issues a one-time enrolment code for a member of the manager's own organisation.
pub async fn issue_enrolment_code<S: HubStorage>(
    storage: &S,
    org_id: Uuid,
    staff_ref: &str,
    role: Role,
    created_by: &str,
) -> Result<EnrolmentCodeResponse, ServiceError> {
    let staff_ref = staff_ref.trim();
    if staff_ref.is_empty() {
        return Err(ServiceError::BadRequest("a staff reference is needed".into()));
    }
    // It names the member of staff in every access row and audit entry about them.
    if staff_ref.chars().count() > MAX_STAFF_REF_CHARS {
        return Err(ServiceError::BadRequest(format!(
            "a staff reference has at most {MAX_STAFF_REF_CHARS} characters"
        )));
    }
    let code = new_enrolment_code();
    let expires = Utc::now() + Duration::hours(24);
    storage
        .create_enrolment_code(EnrolmentCode {
            code_hash: enrolment_code_hash(storage.code_key(), &code),
            org_id,
            staff_ref: staff_ref.to_string(),
            role,
            created_by: created_by.to_string(),
            expires_at: expires.timestamp_millis(),
        })
        .await?;
    Ok(EnrolmentCodeResponse { code, expires_at: expires.to_rfc3339() })
}

impl<S: HubStorage> Hub<S> {
    /// A device enrols with a one-time code (`source`: the request's address, for the tally of
    /// wrong codes): the hub stores it as the code's member of staff and answers with its token.
    pub async fn enrol(
        &self,
        request: &EnrolRequest,
        source: Option<std::net::IpAddr>,
    ) -> Result<EnrolResponse, ServiceError> {
        let name = request.device_name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(ServiceError::BadRequest("give the device a name of up to 100 characters".into()));
        }
        let id = Uuid::new_v4();
        let (token, token_hash) = new_token(id);
        let placeholder = Device {
            id,
            org_id: Uuid::nil(),
            staff_ref: String::new(),
            role: Role::Carer,
            name: name.to_string(),
            token_hash,
            revoked: false,
        };
        let storage = &self.storage;
        let now = Utc::now().timestamp_millis();
        let redeemed = storage
            .redeem_enrolment_code(enrolment_code_hash(storage.code_key(), &request.code), now, placeholder)
            .await?;
        let Some(device) = redeemed else {
            // A wrong code is someone guessing (or a typo): in the log, one line a source and minute
            // carrying the count of the rest, as for refused device tokens.
            let refusal = Refusal {
                actor: "enrolment".into(),
                action: "enrol",
                detail: "enrolment code not valid, used or expired".into(),
            };
            self.refused_codes.audit(storage, source, now, refusal).await?;
            return Err(ServiceError::Unauthorised(
                "that enrolment code is not valid, used, or expired: ask your manager for a new one",
            ));
        };
        let org = storage.organisation(device.org_id).await?;
        tracing::info!(device = %device.id, staff = %device.staff_ref, role = device.role.code(), "device enrolled");
        storage
            .audit(AuditEntry {
                at: now,
                actor: format!("device {}", device.id),
                action: "enrol".into(),
                doc_id: None,
                allowed: true,
                detail: format!(
                    "{} {} of {} enrolled as {:?}",
                    device.role.code(),
                    device.staff_ref,
                    device.org_id,
                    device.name
                ),
            })
            .await?;
        Ok(EnrolResponse {
            device_id: device.id,
            token,
            organisation_id: device.org_id,
            organisation_name: org.map(|o| o.name).unwrap_or_default(),
            staff_ref: device.staff_ref,
            role: device.role,
        })
    }

    /// A manager's device asks for an enrolment code for a carer or manager of its own
    /// organisation.
    pub async fn create_enrolment_code(
        &self,
        caller: &Caller,
        request: &EnrolmentCodeRequest,
    ) -> Result<EnrolmentCodeResponse, ServiceError> {
        require_manager(caller)?;
        if !matches!(request.role, Role::Carer | Role::Manager) {
            return Err(ServiceError::BadRequest("devices enrol as carers or managers".into()));
        }
        let d = &caller.device;
        let created_by = format!("{} ({})", d.staff_ref, d.id);
        issue_enrolment_code(&self.storage, d.org_id, &request.staff_ref, request.role, &created_by).await
    }
}
