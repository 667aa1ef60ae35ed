//! Reading rows back, once for both backends: a decoder reads the columns of one catalogue
//! statement (`storage::statements`, in the order its `*_columns!` give) through [`StoredRow`],
//! which SQLite's and PostgreSQL's rows both provide. A value that is not what its column holds
//! is an error (`storage::decode`), as is a column of another type.

use doorstep_model::{PartnerKind, RecordKind};
use uuid::Uuid;

use super::{
    AuditChainRow, AuditEntry, Device, DeviceStatus, DocFactsRow, FeedItem, HeldBackRow, OrgKind, Organisation,
    StorageError, StorageResult, WebSession, WebUser, WebUserStatus, decode,
};

/// One row of a query's answer, column by column (from 0).
pub(crate) trait StoredRow {
    fn text(&self, i: usize) -> StorageResult<String>;
    fn opt_text(&self, i: usize) -> StorageResult<Option<String>>;
    fn int(&self, i: usize) -> StorageResult<i64>;
    fn opt_int(&self, i: usize) -> StorageResult<Option<i64>>;
    fn flag(&self, i: usize) -> StorageResult<bool>;
    fn bytes(&self, i: usize) -> StorageResult<Vec<u8>>;
    fn opt_bytes(&self, i: usize) -> StorageResult<Option<Vec<u8>>>;

    fn uuid(&self, i: usize) -> StorageResult<Uuid> {
        decode::uuid(&self.text(i)?)
    }

    fn kind(&self, i: usize) -> StorageResult<RecordKind> {
        decode::kind(&self.text(i)?)
    }

    /// A count kept as an integer (attempts, records held back).
    fn count(&self, i: usize) -> StorageResult<u32> {
        let n = self.int(i)?;
        u32::try_from(n).map_err(|_| StorageError::Decode(format!("{n} is not a count")))
    }

    /// A sequence number.
    fn seq(&self, i: usize) -> StorageResult<u64> {
        let n = self.int(i)?;
        u64::try_from(n).map_err(|_| StorageError::Decode(format!("{n} is not a sequence number")))
    }
}

/// The accessors of a backend's row, each one call of its typed `get`.
macro_rules! stored_row {
    ($row:ty, $get:ident) => {
        impl StoredRow for $row {
            fn text(&self, i: usize) -> StorageResult<String> {
                Ok(self.$get(i)?)
            }
            fn opt_text(&self, i: usize) -> StorageResult<Option<String>> {
                Ok(self.$get(i)?)
            }
            fn int(&self, i: usize) -> StorageResult<i64> {
                Ok(self.$get(i)?)
            }
            fn opt_int(&self, i: usize) -> StorageResult<Option<i64>> {
                Ok(self.$get(i)?)
            }
            fn flag(&self, i: usize) -> StorageResult<bool> {
                Ok(self.$get(i)?)
            }
            fn bytes(&self, i: usize) -> StorageResult<Vec<u8>> {
                Ok(self.$get(i)?)
            }
            fn opt_bytes(&self, i: usize) -> StorageResult<Option<Vec<u8>>> {
                Ok(self.$get(i)?)
            }
        }
    };
}

stored_row!(rusqlite::Row<'_>, get);
// `try_get`: a column of another type is an error, where `get` would panic.
stored_row!(tokio_postgres::Row, try_get);

/// `statements::DEVICE`, `DEVICES_OF`.
pub(crate) fn device(r: &impl StoredRow) -> StorageResult<Device> {
    Ok(Device {
        id: r.uuid(0)?,
        org_id: r.uuid(1)?,
        staff_ref: r.text(2)?,
        role: decode::role(&r.text(3)?)?,
        name: r.text(4)?,
        token_hash: r.bytes(5)?,
        revoked: r.opt_int(6)?.is_some(),
    })
}

/// `statements::DEVICE_STATUSES`.
pub(crate) fn device_status(r: &impl StoredRow) -> StorageResult<DeviceStatus> {
    Ok(DeviceStatus {
        device: device(r)?,
        revoked_at: r.opt_int(6)?,
        enrolled_at: r.int(7)?,
        last_sync_at: r.opt_int(8)?,
        last_held_back: r.count(9)?,
        last_refused: r.count(10)?,
    })
}

/// `statements::ENROLMENT_CODE_REDEEM`: the device its code enrols, with the code's
/// organisation, staff and role.
pub(crate) fn redeemed(r: &impl StoredRow, device: Device) -> StorageResult<Device> {
    Ok(Device { org_id: r.uuid(0)?, staff_ref: r.text(1)?, role: decode::role(&r.text(2)?)?, ..device })
}

fn partner_kind(r: &impl StoredRow, i: usize) -> StorageResult<Option<PartnerKind>> {
    Ok(r.opt_text(i)?.as_deref().and_then(PartnerKind::from_code))
}

/// `statements::ORGANISATION`, `ORGANISATIONS`.
pub(crate) fn organisation(r: &impl StoredRow) -> StorageResult<Organisation> {
    Ok(Organisation {
        id: r.uuid(0)?,
        name: r.text(1)?,
        kind: decode::org_kind(&r.text(2)?)?,
        partner_kind: partner_kind(r, 3)?,
    })
}

/// `statements::PARTNER_ORGANISATIONS`: `None` for a row whose id is not one (it is left out
/// of the list).
pub(crate) fn partner_organisation(r: &impl StoredRow) -> StorageResult<Option<Organisation>> {
    let Ok(id) = Uuid::parse_str(&r.text(0)?) else { return Ok(None) };
    Ok(Some(Organisation { id, name: r.text(1)?, kind: OrgKind::Partner, partner_kind: partner_kind(r, 2)? }))
}

/// `statements::DOCUMENT`: kind, owner, snapshot and the last seq the snapshot holds.
pub(crate) fn document_head(r: &impl StoredRow) -> StorageResult<(RecordKind, Uuid, Vec<u8>, i64)> {
    Ok((r.kind(0)?, r.uuid(1)?, r.bytes(2)?, r.int(3)?))
}

/// `statements::HISTORY_OF`.
pub(crate) fn history_item(r: &impl StoredRow) -> StorageResult<(Uuid, RecordKind)> {
    Ok((r.uuid(0)?, r.kind(1)?))
}

/// `statements::ROTA_DEPARTURES`.
pub(crate) fn rota_departure(r: &impl StoredRow) -> StorageResult<(Uuid, i64)> {
    Ok((r.uuid(0)?, r.int(1)?))
}

/// A feed item whose seq, document id, kind and (for a change) bytes are the columns from
/// `first` on; `what` is "grant", "change" or "purge".
pub(crate) fn feed_item(r: &impl StoredRow, what: &str, first: usize) -> StorageResult<FeedItem> {
    let (seq, id, kind) = (r.seq(first)?, r.uuid(first + 1)?, r.kind(first + 2)?);
    Ok(match what {
        "grant" => FeedItem::Grant { seq, id, kind },
        "purge" => FeedItem::Purge { seq, id, kind },
        _ => FeedItem::Change { seq, id, kind, bytes: r.bytes(first + 3)? },
    })
}

/// `statements::HELD_BACK_OF_DEVICE`: record, reason, and whether a discard was asked, as
/// stored.
pub(crate) fn held_back_stored(r: &impl StoredRow) -> StorageResult<(String, String, bool)> {
    Ok((r.text(0)?, r.text(1)?, r.flag(2)?))
}

/// `statements::HELD_BACK_RECORDS`.
pub(crate) fn held_back_row(r: &impl StoredRow) -> StorageResult<HeldBackRow> {
    Ok(HeldBackRow {
        device: r.uuid(0)?,
        record: r.uuid(1)?,
        kind: r.kind(2)?,
        reason: r.text(3)?,
        since: r.int(4)?,
        discard_asked: r.flag(5)?,
    })
}

/// `statements::DOC_FACTS`.
pub(crate) fn doc_facts_row(r: &impl StoredRow) -> StorageResult<DocFactsRow> {
    Ok(DocFactsRow { doc_id: r.uuid(0)?, owner_org: r.uuid(1)?, facts: r.text(2)? })
}

/// `statements::AGREEMENTS_OF`, for `commissioner`.
pub(crate) fn agreement(r: &impl StoredRow, commissioner: Uuid) -> StorageResult<super::Agreement> {
    Ok(super::Agreement {
        commissioner,
        provider: r.uuid(0)?,
        districts: r.text(1)?.split_whitespace().map(str::to_string).collect(),
        created_at: r.int(2)?,
    })
}

/// `statements::AGREEMENTS_WITH`.
pub(crate) fn agreement_with(r: &impl StoredRow, provider: Uuid) -> StorageResult<super::Agreement> {
    Ok(super::Agreement {
        commissioner: r.uuid(0)?,
        provider,
        districts: r.text(1)?.split_whitespace().map(str::to_string).collect(),
        created_at: r.int(2)?,
    })
}

/// `statements::WEEKS_PUBLISHED`.
pub(crate) fn published_week(r: &impl StoredRow) -> StorageResult<(String, String)> {
    Ok((r.text(0)?, r.text(1)?))
}

/// `statements::FEED_RELEASES_OF`.
pub(crate) fn feed_release(r: &impl StoredRow, provider: Uuid) -> StorageResult<super::FeedRelease> {
    Ok(super::FeedRelease { provider, week: r.text(0)?, released_by: r.text(1)?, released_at: r.int(2)? })
}

/// `statements::WEB_USER`, `WEB_USER_BY_EMAIL`.
pub(crate) fn web_user(r: &impl StoredRow) -> StorageResult<WebUser> {
    Ok(WebUser {
        id: r.uuid(0)?,
        org_id: r.uuid(1)?,
        email: r.text(2)?,
        name: r.text(3)?,
        // The table's CHECK allows only the three codes.
        role: decode::web_role(&r.text(4)?)?,
        password_hash: r.text(5)?,
        failed_attempts: r.count(6)?,
        locked_until: r.opt_int(7)?,
    })
}

/// `statements::WEB_USERS_OF`, `WEB_USER_STATUS`.
pub(crate) fn web_user_status(r: &impl StoredRow) -> StorageResult<WebUserStatus> {
    Ok(WebUserStatus { user: web_user(r)?, created_at: r.int(8)?, disabled_at: r.opt_int(9)? })
}

/// `statements::SESSION`, for the session's `token_hash`.
pub(crate) fn web_session(r: &impl StoredRow, token_hash: Vec<u8>) -> StorageResult<WebSession> {
    Ok(WebSession { token_hash, user_id: r.uuid(0)?, csrf: r.text(1)?, expires_at: r.int(2)? })
}

/// `statements::AUDIT_OF_OWNER`, `AUDIT_LOG`.
pub(crate) fn audit_entry(r: &impl StoredRow) -> StorageResult<AuditEntry> {
    Ok(AuditEntry {
        at: r.int(0)?,
        actor: r.text(1)?,
        action: r.text(2)?,
        doc_id: r.opt_text(3)?.map(|d| decode::uuid(&d)).transpose()?,
        allowed: r.flag(4)?,
        detail: r.text(5)?,
    })
}

/// `statements::AUDIT_CHAIN_ROWS`, `AUDIT_CHAIN_ALL`: the text columns as stored, so the chain
/// covers exactly what is stored.
pub(crate) fn audit_chain_row(r: &impl StoredRow) -> StorageResult<AuditChainRow> {
    Ok(AuditChainRow {
        seq: r.int(0)?,
        at: r.int(1)?,
        actor: r.text(2)?,
        action: r.text(3)?,
        doc_id: r.opt_text(4)?,
        allowed: r.flag(5)?,
        detail: r.text(6)?,
        prev_hash: r.opt_bytes(7)?,
        hash: r.opt_bytes(8)?,
    })
}

/// `statements::AUDIT_NEWEST`: the newest entry's seq and stored hash.
pub(crate) fn audit_newest(r: &impl StoredRow) -> StorageResult<(i64, Option<Vec<u8>>)> {
    Ok((r.int(0)?, r.opt_bytes(1)?))
}

/// `statements::PARTNER_LISTINGS`: the organisation and its listing's JSON.
pub(crate) fn partner_listing(r: &impl StoredRow) -> StorageResult<(Uuid, String)> {
    Ok((r.uuid(0)?, r.text(1)?))
}

/// `statements::MAIL_DUE` and `MAIL_LOG`.
pub(crate) fn mail(r: &impl StoredRow) -> StorageResult<super::OutgoingMail> {
    Ok(super::OutgoingMail {
        id: r.uuid(0)?,
        to: r.text(1)?,
        subject: r.text(2)?,
        body: r.text(3)?,
        queued_at: r.int(4)?,
        attempts: r.count(5)?,
        next_attempt_at: r.int(6)?,
        sent_at: r.opt_int(7)?,
        last_error: r.text(8)?,
    })
}
