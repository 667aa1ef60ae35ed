//! What the sync client needs from the store: the changes the hub has not acknowledged, the
//! hub's answers applied, the cursor, purges, and a status the UI can show.

use automerge::ChangeHash;
use doorstep_model::{RecordKind, Role};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::docs::{self, decode_heads, encode_heads};
use crate::error::{Result, StoreError};
use crate::{Store, Written};

/// One document's changes to send to the hub.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: String,
    pub kind: RecordKind,
    pub bytes: Vec<u8>,
    /// The heads these changes bring the hub to: acknowledge with these.
    pub heads: Vec<ChangeHash>,
}

/// A document the hub would not take, and why (shown to the carer, never silently dropped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldBackRecord {
    pub id: String,
    pub kind: RecordKind,
    /// Which record, in words a carer recognises: "Visit note for Agnes Smith, 2 Dec".
    pub what: String,
    pub reason: String,
}

/// A record the hub sent that this device could not apply, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullFailure {
    pub id: String,
    pub kind: RecordKind,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalSyncState {
    /// Documents with changes the hub has not acknowledged (held-back ones not counted).
    pub pending: usize,
    /// Documents with changes the hub has not got, held back included: what signing out would lose.
    pub unacknowledged: usize,
    pub held_back: Vec<HeldBackRecord>,
    pub pull_failures: Vec<PullFailure>,
    pub cursor: u64,
}

/// One document's run of the Automerge sync protocol with the hub: the fallback when the hub
/// lacks changes the device thought it had (e.g. a hub restored from a backup).
#[derive(Default)]
pub struct DocSync {
    state: automerge::sync::State,
}

impl DocSync {
    pub fn new() -> Self {
        Self::default()
    }
}

impl Store {
    /// The next Automerge sync message for a document, or `None` when there is nothing to say.
    /// A record not held here (one that would not apply) starts from nothing, so the hub sends it whole.
    pub fn doc_sync_message(&self, kind: RecordKind, id: &str, session: &mut DocSync) -> Result<Option<Vec<u8>>> {
        let mut doc = match docs::load(self.conn(), kind, id, self.actor())? {
            Some(stored) => stored.doc,
            None => automerge::AutoCommit::new(),
        };
        use automerge::sync::SyncDoc;
        doorstep_model::doc_sync::resend_what_they_need(&mut session.state);
        Ok(doc.sync().generate_sync_message(&mut session.state).map(|m| m.encode()))
    }

    /// Applies the hub's Automerge sync message to a document (and its projections).
    pub fn receive_doc_sync_message(
        &mut self,
        kind: RecordKind,
        id: &str,
        session: &mut DocSync,
        message: &[u8],
    ) -> Result<Written> {
        use automerge::sync::SyncDoc;
        let bad = |detail: String| StoreError::BadChanges { kind, id: id.to_string(), detail };
        let message = automerge::sync::Message::decode(message).map_err(|e| bad(e.to_string()))?;
        let mut doc = match docs::load(self.conn(), kind, id, self.actor())? {
            Some(stored) => stored.doc,
            None => automerge::AutoCommit::new(),
        };
        let before = doc.get_heads();
        doc.sync().receive_sync_message(&mut session.state, message).map_err(|e| bad(e.to_string()))?;
        if doc.get_heads() == before {
            return Ok(Written::Unchanged);
        }
        // The same path as any merge: checked, stored, projected in one transaction.
        let new = doc.save_after(&before);
        self.apply_changes(kind, id, &new)
    }

    /// The document's heads now: what the hub holds once a doc sync has finished.
    pub fn acknowledge_current(&mut self, kind: RecordKind, id: &str) -> Result<()> {
        let heads = self.heads(kind, id)?;
        self.acknowledge(id, &heads)
    }

    /// Documents with changes the hub has not acknowledged, in the order they were first
    /// stored, up to about `max_bytes` (always at least one document if any are waiting).
    pub fn pending_changes(&self, max_bytes: usize) -> Result<Vec<Outgoing>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT id, kind, hub_heads, change_count, heads FROM documents
             WHERE sync_pending = 1 AND held_back IS NULL ORDER BY doc_no",
        )?;
        type Row = (String, String, Option<Vec<u8>>, i64, Option<Vec<u8>>);
        let rows: Vec<Row> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Vec::new();
        let mut total = 0;
        for (id, kind, hub_heads, change_count, heads) in rows {
            let Some(kind) = RecordKind::from_code(&kind) else { continue };
            let (bytes, heads) = match (hub_heads, change_count, heads) {
                // Never pushed and kept compact (see docs.rs): the stored snapshot is exactly
                // what a first push sends, so nothing is loaded or saved.
                (None, 0, Some(heads)) => (self.snapshot(&id)?, decode_heads(&heads)),
                (hub_heads, ..) => {
                    // Otherwise from the loaded document: a compact save() for a first push
                    // is 3–4 times smaller on the wire than the stored snapshot plus its
                    // appended changes, and cheaper for the hub to load.
                    let mut stored = match docs::load(self.conn(), kind, &id, self.actor()) {
                        Ok(Some(stored)) => stored,
                        Ok(None) => continue,
                        // A damaged document cannot be sent; it stays on the device, reported
                        // by the store, and the rest sync.
                        Err(StoreError::CorruptDocument { .. }) => continue,
                        Err(e) => return Err(e),
                    };
                    let bytes = match hub_heads {
                        Some(hub) => stored.doc.save_after(&decode_heads(&hub)),
                        None => stored.doc.save(),
                    };
                    (bytes, stored.doc.get_heads())
                }
            };
            if bytes.is_empty() {
                continue;
            }
            if !out.is_empty() && total + bytes.len() > max_bytes {
                break;
            }
            total += bytes.len();
            out.push(Outgoing { id, kind, bytes, heads });
        }
        Ok(out)
    }

    fn snapshot(&self, id: &str) -> Result<Vec<u8>> {
        Ok(self.conn().query_row("SELECT snapshot FROM documents WHERE id = ?1", [id], |r| r.get(0))?)
    }

    /// The hub holds each of these documents up to the given heads (one transaction).
    pub fn acknowledge_all<'a>(&mut self, acks: impl IntoIterator<Item = (&'a str, &'a [ChangeHash])>) -> Result<()> {
        let tx = self.conn_mut().transaction()?;
        for (id, heads) in acks {
            acknowledge_in(&tx, id, heads)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The hub holds this document up to `heads`. Still pending if it changed since.
    pub fn acknowledge(&mut self, id: &str, heads: &[ChangeHash]) -> Result<()> {
        acknowledge_in(self.conn(), id, heads)
    }

    /// The hub refused this document's changes: keep them, say why, stop resending.
    pub fn hold_back(&mut self, id: &str, reason: &str) -> Result<()> {
        self.conn().execute("UPDATE documents SET held_back = ?2 WHERE id = ?1", params![id, reason])?;
        Ok(())
    }

    /// The hub went back to an earlier state (restored from a backup) and may lack changes it
    /// once acknowledged: every document a device of `role` may write is sent again whole; the
    /// hub keeps only what it lacks. The rest (a carer's shared items) would only be refused and
    /// held back here for good; their writers send them again.
    pub fn resend_all(&mut self, role: Role) -> Result<usize> {
        let tx = self.conn_mut().transaction()?;
        let mut marked = 0;
        for kind in RecordKind::ALL.into_iter().filter(|kind| role.resends_after_restore(*kind)) {
            marked +=
                tx.execute("UPDATE documents SET hub_heads = NULL, sync_pending = 1 WHERE kind = ?1", [kind.code()])?;
        }
        tx.commit()?;
        Ok(marked)
    }

    /// Lets held-back documents be tried again: after an app update, when the hub says its rules
    /// changed, or when someone asks to try again.
    pub fn retry_held_back(&mut self) -> Result<usize> {
        Ok(self.conn().execute("UPDATE documents SET held_back = NULL WHERE held_back IS NOT NULL", [])?)
    }

    /// Applies changes the hub sent. If the device had nothing unsent for the document, the
    /// hub now holds exactly what the device holds.
    pub fn apply_from_hub(&mut self, kind: RecordKind, id: &str, bytes: &[u8]) -> Result<Written> {
        let was_pending: Option<bool> =
            self.conn().query_row("SELECT sync_pending FROM documents WHERE id = ?1", [id], |r| r.get(0)).optional()?;
        let written = self.apply_changes(kind, id, bytes)?;
        if !was_pending.unwrap_or(false) {
            self.conn().execute("UPDATE documents SET hub_heads = heads, sync_pending = 0 WHERE id = ?1", [id])?;
        }
        Ok(written)
    }

    /// Deletes a document the device may no longer hold, with its projections. Refuses (returns
    /// `false`) while it has changes the hub has not acknowledged: those are sent first.
    pub fn purge(&mut self, id: &str) -> Result<bool> {
        let tx = self.conn_mut().transaction()?;
        let row: Option<(i64, String, bool)> = tx
            .query_row("SELECT doc_no, kind, sync_pending FROM documents WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        let Some((doc_no, kind, pending)) = row else { return Ok(true) };
        if pending {
            return Ok(false);
        }
        delete_document(&tx, doc_no, &kind, id)?;
        tx.commit()?;
        Ok(true)
    }

    /// Removes every record and the enrolment (a revoked device): nothing about people stays.
    pub fn wipe(&mut self) -> Result<()> {
        let tx = self.conn_mut().transaction()?;
        for table in ["search_index", "deterioration_flags", "pull_failures", "documents"] {
            tx.execute(&format!("DELETE FROM {table}"), [])?;
        }
        tx.execute("DELETE FROM device_settings WHERE key <> 'actor_id'", [])?;
        tx.commit()?;
        // Reclaim the freed pages so the deleted records do not linger in the file.
        self.conn().execute_batch("VACUUM")?;
        Ok(())
    }

    pub fn sync_cursor(&self) -> Result<u64> {
        let value: Option<String> = self
            .conn()
            .query_row("SELECT value FROM device_settings WHERE key = 'sync_cursor'", [], |r| r.get(0))
            .optional()?;
        Ok(value.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    pub fn set_sync_cursor(&mut self, cursor: u64) -> Result<()> {
        self.conn().execute(
            "INSERT INTO device_settings (key, value) VALUES ('sync_cursor', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [cursor.to_string()],
        )?;
        Ok(())
    }

    /// A device setting (hub address, device id…), kept in the store.
    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self.conn().query_row("SELECT value FROM device_settings WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    pub fn set_setting(&mut self, key: &str, value: &str) -> Result<()> {
        self.conn().execute(
            "INSERT INTO device_settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    pub fn delete_setting(&mut self, key: &str) -> Result<()> {
        self.conn().execute("DELETE FROM device_settings WHERE key = ?1", [key])?;
        Ok(())
    }

    pub fn local_sync_state(&self) -> Result<LocalSyncState> {
        let pending: i64 = self.conn().query_row(
            "SELECT COUNT(*) FROM documents WHERE sync_pending = 1 AND held_back IS NULL",
            [],
            |r| r.get(0),
        )?;
        let held_back = self.described(None)?;
        let unacknowledged: i64 =
            self.conn().query_row("SELECT COUNT(*) FROM documents WHERE sync_pending = 1", [], |r| r.get(0))?;
        Ok(LocalSyncState {
            pending: pending as usize,
            unacknowledged: unacknowledged as usize,
            held_back,
            pull_failures: self.pull_failures()?,
            cursor: self.sync_cursor()?,
        })
    }

    /// Held-back records named as a person would know them; or only the record `id`, held back
    /// or not (its reason then empty when it is not held back).
    fn described(&self, id: Option<&str>) -> Result<Vec<HeldBackRecord>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT d.id, d.kind, COALESCE(d.held_back, ''), COALESCE(pn.display_name, pv.display_name, p.display_name),
                    COALESCE(vn.day, v.day), i.summary
             FROM documents d
             LEFT JOIN notes n ON n.doc_no = d.doc_no
             LEFT JOIN visits vn ON vn.id = n.visit_id
             LEFT JOIN people pn ON pn.id = n.person_id
             LEFT JOIN visits v ON v.doc_no = d.doc_no
             LEFT JOIN people pv ON pv.id = v.person_id
             LEFT JOIN insights i ON i.doc_no = d.doc_no
             LEFT JOIN people p ON p.doc_no = d.doc_no
             WHERE (?1 IS NULL AND d.held_back IS NOT NULL) OR d.id = ?1 ORDER BY d.doc_no",
        )?;
        let described = stmt
            .query_map([id], |r| {
                let kind = RecordKind::from_code(&r.get::<_, String>(1)?).unwrap_or(RecordKind::Note);
                let name: Option<String> = r.get(3)?;
                let day: Option<String> = r.get(4)?;
                let summary: Option<String> = r.get(5)?;
                Ok(HeldBackRecord {
                    id: r.get(0)?,
                    kind,
                    what: describe(kind, name.as_deref(), day.as_deref(), summary.as_deref()),
                    reason: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(described)
    }

    /// A record named as a person would know it ("Visit to Agnes Smith, 2 Dec"); for one this
    /// device does not hold, what kind of record it is.
    pub fn describe_record(&self, id: &str, kind: RecordKind) -> Result<String> {
        Ok(match self.described(Some(id))?.pop() {
            Some(record) => record.what,
            None => match kind {
                RecordKind::Note => "A visit note not on this device".to_string(),
                RecordKind::Visit => "A visit not on this device".to_string(),
                RecordKind::Insight => "A new idea, not on this device".to_string(),
                RecordKind::Person => "A person's details, not on this device".to_string(),
                RecordKind::Shared => "An idea shared with a partner".to_string(),
                RecordKind::Directory => "The office's directory of numbers and staff names".to_string(),
            },
        })
    }

    /// What this device keeps back, as it reports it to the hub: id, kind, reason.
    pub fn held_back_notes(&self) -> Result<Vec<(String, RecordKind, String)>> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT id, kind, held_back FROM documents WHERE held_back IS NOT NULL ORDER BY doc_no")?;
        let notes = stmt
            .query_map([], |r| {
                let kind = RecordKind::from_code(&r.get::<_, String>(1)?).unwrap_or(RecordKind::Note);
                Ok((r.get(0)?, kind, r.get(2)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(notes)
    }

    /// The office decided a held-back record will not be sent: the device's copy, with every
    /// change in it, is deleted (the hub's copy, if any, is fetched again by the caller).
    /// Answers the record's kind, or None when it is not held back here (then nothing changes).
    pub fn discard_held_back(&mut self, id: &str) -> Result<Option<RecordKind>> {
        let tx = self.conn_mut().transaction()?;
        let row: Option<(i64, String)> = tx
            .query_row("SELECT doc_no, kind FROM documents WHERE id = ?1 AND held_back IS NOT NULL", [id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let Some((doc_no, kind)) = row else { return Ok(None) };
        delete_document(&tx, doc_no, &kind, id)?;
        tx.commit()?;
        Ok(RecordKind::from_code(&kind))
    }

    /// Records from the hub that would not apply here, oldest first.
    pub fn pull_failures(&self) -> Result<Vec<PullFailure>> {
        let mut stmt = self.conn().prepare_cached("SELECT id, kind, reason FROM pull_failures ORDER BY failed_at")?;
        let failures = stmt
            .query_map([], |r| {
                Ok(PullFailure {
                    id: r.get(0)?,
                    kind: RecordKind::from_code(&r.get::<_, String>(1)?).unwrap_or(RecordKind::Note),
                    reason: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(failures)
    }

    /// How many records the hub held back that this device keeps.
    pub fn held_back_count(&self) -> Result<usize> {
        let n: i64 =
            self.conn().query_row("SELECT COUNT(*) FROM documents WHERE held_back IS NOT NULL", [], |r| r.get(0))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// Notes that a record from the hub could not be applied here, and why (kept until it applies).
    pub fn record_pull_failure(&mut self, kind: RecordKind, id: &str, reason: &str) -> Result<()> {
        self.conn().execute(
            "INSERT INTO pull_failures (id, kind, reason, failed_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET reason = excluded.reason, failed_at = excluded.failed_at",
            params![id, kind.code(), reason, crate::now_ms()],
        )?;
        Ok(())
    }

    /// The record now applies (or has gone): it is no longer a failure.
    pub fn clear_pull_failure(&mut self, id: &str) -> Result<()> {
        self.conn().execute("DELETE FROM pull_failures WHERE id = ?1", [id])?;
        Ok(())
    }
}

/// A record named as a carer or manager would recognise it.
fn describe(kind: RecordKind, name: Option<&str>, day: Option<&str>, summary: Option<&str>) -> String {
    let day = day
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .map(|d| d.format(", %-d %b").to_string())
        .unwrap_or_default();
    let whose = name.unwrap_or("someone");
    match kind {
        RecordKind::Note => format!("Visit note for {whose}{day}"),
        RecordKind::Visit => format!("Visit to {whose}{day}"),
        RecordKind::Insight => match summary {
            Some(summary) => format!("Idea: {summary}"),
            None => "An idea".to_string(),
        },
        RecordKind::Person => format!("{whose}'s details"),
        RecordKind::Shared => "An idea shared with a partner".to_string(),
        RecordKind::Directory => "The office's directory of numbers and staff names".to_string(),
    }
}

/// Deletes one document with what is projected from it (the projection tables go with it).
fn delete_document(tx: &rusqlite::Transaction<'_>, doc_no: i64, kind: &str, id: &str) -> Result<()> {
    tx.execute("DELETE FROM search_index WHERE rowid = ?1", [doc_no])?;
    if kind == RecordKind::Person.code() {
        tx.execute("DELETE FROM deterioration_flags WHERE person_id = ?1", [id])?;
    }
    tx.execute("DELETE FROM documents WHERE doc_no = ?1", [doc_no])?;
    Ok(())
}

fn acknowledge_in(conn: &rusqlite::Connection, id: &str, heads: &[ChangeHash]) -> Result<()> {
    let encoded = encode_heads(heads);
    conn.execute(
        // `heads` is NULL only for documents untouched since the upgrade that added it.
        "UPDATE documents SET hub_heads = ?2, held_back = NULL, heads = COALESCE(heads, ?2),
             sync_pending = (COALESCE(heads, ?2) IS NOT ?2) WHERE id = ?1",
        params![id, encoded],
    )?;
    Ok(())
}
