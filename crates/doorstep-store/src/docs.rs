//! Durable Automerge documents in SQLite: a compact snapshot plus appended incremental changes,
//! folded into a new snapshot once enough pile up. Used inside the caller's transaction, so a
//! document and its projections are written together or not at all.

use automerge::{ActorId, AutoCommit, ChangeHash};
use doorstep_model::RecordKind;
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Result, StoreError};

/// Fold the appended changes into a new snapshot after this many, or this many bytes.
pub(crate) const COMPACT_AFTER_CHANGES: i64 = 32;
pub(crate) const COMPACT_AFTER_BYTES: i64 = 256 * 1024;
/// A document the hub has never had is kept as one compact snapshot while it is this small:
/// its first push then sends the stored bytes as they are, with no load or save in the burst of
/// a reconnect (a visit note is about 1 KB; a snapshot write costs about what an append does).
pub(crate) const KEEP_COMPACT_UNDER_BYTES: usize = 64 * 1024;

/// A document as loaded, with what the store needs to append to it.
pub(crate) struct StoredDoc {
    pub doc_no: Option<i64>,
    pub doc: AutoCommit,
    change_count: i64,
    change_bytes: i64,
    /// Heads when loaded: what is new since is what gets appended.
    loaded_heads: Vec<ChangeHash>,
    /// The hub has never acknowledged any of it (see [`KEEP_COMPACT_UNDER_BYTES`]).
    never_synced: bool,
    snapshot_len: usize,
}

impl StoredDoc {
    /// A document not yet in the store.
    pub fn new(doc: AutoCommit) -> Self {
        Self {
            doc_no: None,
            doc,
            change_count: 0,
            change_bytes: 0,
            loaded_heads: Vec::new(),
            never_synced: true,
            snapshot_len: 0,
        }
    }

    pub fn is_new(&self) -> bool {
        self.doc_no.is_none()
    }
}

/// Loads a document, or `None` if the store has no document with that id.
pub(crate) fn load(conn: &Connection, kind: RecordKind, id: &str, actor: &ActorId) -> Result<Option<StoredDoc>> {
    let row = conn
        .query_row(
            "SELECT doc_no, kind, snapshot, change_count, change_bytes, hub_heads IS NULL FROM documents WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Vec<u8>>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, bool>(5)?,
                ))
            },
        )
        .optional()?;
    let Some((doc_no, found_kind, snapshot, change_count, change_bytes, never_synced)) = row else { return Ok(None) };
    let snapshot_len = snapshot.len();
    if found_kind != kind.code() {
        return Err(StoreError::WrongKind { id: id.to_string(), expected: kind, found: found_kind });
    }
    let corrupt = |detail: String| StoreError::CorruptDocument { kind, id: id.to_string(), detail };
    // One load of the snapshot followed by every appended change: loading them one call at a
    // time costs a rebuild per call.
    let bytes = stored_bytes(conn, doc_no, snapshot)?;
    let mut doc = AutoCommit::load(&bytes).map_err(|e| corrupt(e.to_string()))?;
    doc.set_actor(actor.clone());
    let loaded_heads = doc.get_heads();
    Ok(Some(StoredDoc {
        doc_no: Some(doc_no),
        doc,
        change_count,
        change_bytes,
        loaded_heads,
        never_synced,
        snapshot_len,
    }))
}

/// The snapshot followed by every change appended since: a valid Automerge byte string for the
/// whole document (what one load reads).
pub(crate) fn stored_bytes(conn: &Connection, doc_no: i64, snapshot: Vec<u8>) -> Result<Vec<u8>> {
    let mut bytes = snapshot;
    let mut changes = conn.prepare_cached("SELECT bytes FROM document_changes WHERE doc_no = ?1 ORDER BY seq")?;
    let mut rows = changes.query([doc_no])?;
    while let Some(row) = rows.next()? {
        if let rusqlite::types::ValueRef::Blob(b) = row.get_ref(0)? {
            bytes.extend_from_slice(b);
        }
    }
    Ok(bytes)
}

/// Writes what changed since the document was loaded. Returns the document's number, or
/// `None` if nothing changed (nothing is written then).
pub(crate) fn persist(
    conn: &Connection,
    kind: RecordKind,
    id: &str,
    stored: &mut StoredDoc,
    now_ms: i64,
) -> Result<Option<i64>> {
    let Some(doc_no) = stored.doc_no else {
        let snapshot = stored.doc.save();
        let heads = encode_heads(&stored.doc.get_heads());
        let doc_no = conn.query_row(
            "INSERT INTO documents (id, kind, snapshot, updated_at, heads, sync_pending) VALUES (?1, ?2, ?3, ?4, ?5, 1)
             RETURNING doc_no",
            params![id, kind.code(), snapshot, now_ms, heads],
            |r| r.get(0),
        )?;
        stored.doc_no = Some(doc_no);
        stored.snapshot_len = snapshot.len();
        stored.loaded_heads = stored.doc.get_heads();
        return Ok(Some(doc_no));
    };
    if stored.doc.get_heads() == stored.loaded_heads {
        return Ok(None);
    }
    let bytes = stored.doc.save_after(&stored.loaded_heads);
    let len = bytes.len() as i64;
    let keep_compact = stored.never_synced && stored.snapshot_len + bytes.len() < KEEP_COMPACT_UNDER_BYTES;
    if keep_compact
        || stored.change_count + 1 >= COMPACT_AFTER_CHANGES
        || stored.change_bytes + len >= COMPACT_AFTER_BYTES
    {
        let snapshot = stored.doc.save();
        stored.snapshot_len = snapshot.len();
        conn.execute("DELETE FROM document_changes WHERE doc_no = ?1", [doc_no])?;
        conn.execute(
            "UPDATE documents SET snapshot = ?2, change_count = 0, change_bytes = 0, updated_at = ?3 WHERE doc_no = ?1",
            params![doc_no, snapshot, now_ms],
        )?;
        stored.change_count = 0;
        stored.change_bytes = 0;
    } else {
        stored.change_count += 1;
        stored.change_bytes += len;
        conn.execute(
            "INSERT INTO document_changes (doc_no, seq, bytes) VALUES (?1, ?2, ?3)",
            params![doc_no, stored.change_count, bytes],
        )?;
        conn.execute(
            "UPDATE documents SET change_count = ?2, change_bytes = ?3, updated_at = ?4 WHERE doc_no = ?1",
            params![doc_no, stored.change_count, stored.change_bytes, now_ms],
        )?;
    }
    stored.loaded_heads = stored.doc.get_heads();
    conn.execute(
        "UPDATE documents SET heads = ?2, sync_pending = 1 WHERE doc_no = ?1",
        params![doc_no, encode_heads(&stored.loaded_heads)],
    )?;
    Ok(Some(doc_no))
}

/// Heads as stored: the 32-byte hashes one after another.
pub(crate) fn encode_heads(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|h| h.0).collect()
}

pub(crate) fn decode_heads(bytes: &[u8]) -> Vec<ChangeHash> {
    bytes.chunks_exact(32).filter_map(|c| <[u8; 32]>::try_from(c).ok()).map(ChangeHash).collect()
}
