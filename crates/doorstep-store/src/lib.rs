//! The device store: the care record a tablet holds, kept safe with no signal.
//!
//! Each record (person, visit, visit note, insight, shared item) is an Automerge document stored in SQLite
//! (bundled, WAL, foreign keys on). SQL projections (visits by day, notes by person, insights by
//! status, the deterioration watch, full-text search) are rewritten in the same transaction as
//! the document, so they never disagree with it.
//!
//! **Architecture Invariant:** every write is one SQLite transaction holding the document
//! change and its projection rows; every Automerge change comes from one call (a save or a
//! pause in typing), never one per keystroke.

mod cipher;
mod docs;
mod error;
pub mod import;
mod queries;
mod record;
mod sync;

use std::path::{Path, PathBuf};

use automerge::{
    ActorId, AutoCommit, ChangeHash, LoadOptions, OnPartialLoad, VerificationMode, transaction::CommitOptions,
};
use chrono::{DateTime, Utc};
use doorstep_model::{DocVersion, RecordKind};
use include_dir::{Dir, include_dir};
use rusqlite::{Connection, OptionalExtension, Transaction};
use rusqlite_migration::{Migrations, SchemaVersion};

pub use cipher::{StoreKey, encrypt_plain_file, is_plain_sqlite};
pub use error::{Result, StoreError};
pub use queries::{InsightRow, PersonOverview, PersonRow, SearchHit, SharedItemRow, TimelineEntry, VisitRow};
pub use record::Record;
pub use sync::{DocSync, HeldBackRecord, LocalSyncState, Outgoing, PullFailure};

use docs::StoredDoc;

static MIGRATIONS_DIR: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../migrations/device");

/// The device database's migrations, from `migrations/device/`.
pub fn migrations() -> Result<Migrations<'static>> {
    Ok(Migrations::from_directory(&MIGRATIONS_DIR)?)
}

/// The schema version this build writes.
pub fn schema_version() -> usize {
    MIGRATIONS_DIR.dirs().count()
}

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// A new Automerge change was stored.
    Changed,
    /// The record already said that: nothing was stored.
    Unchanged,
}

pub struct Store {
    conn: Connection,
    actor: ActorId,
    path: PathBuf,
    sync_turn: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).field("actor", &self.actor.to_hex_string()).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the store at `path`, upgrading an older schema. A database
    /// from a newer Doorstep is refused, untouched.
    ///
    /// The file is not encrypted: the app opens its store with [`Store::open_encrypted`]; this
    /// is for tests, tools and the demo's simulated devices.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        let conn = Connection::open(&path)?;
        Store::from_connection(conn, path)
    }

    /// Opens (creating if needed) a store encrypted with SQLCipher under `key`. A wrong key
    /// reads nothing and changes nothing: [`StoreError::WrongKey`].
    pub fn open_encrypted(path: impl AsRef<Path>, key: &StoreKey) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        cipher::wait_until_ready()?;
        let conn = Connection::open(&path)?;
        cipher::apply_key(&conn, key)?;
        Store::from_connection(conn, path)
    }

    /// One sync at a time for this store: two at once (the background one and "sync now") would
    /// each send the same waiting change, and the hub would refuse a held-back one twice.
    pub fn sync_turn(&self) -> std::sync::Arc<tokio::sync::Mutex<()>> {
        self.sync_turn.clone()
    }

    fn from_connection(mut conn: Connection, path: PathBuf) -> Result<Store> {
        // Check the version before touching anything: a newer database is left as it was.
        let migrations = migrations()?;
        let before = match migrations.current_version(&conn)? {
            SchemaVersion::Outside(found) => {
                return Err(StoreError::NewerSchema { found: found.get(), supported: schema_version() });
            }
            v => usize::from(&v),
        };
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a commit is on disk before the carer's screen says "saved", even if the
        // tablet's battery dies the next moment (NORMAL can lose the newest commits then).
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // Migrations run with foreign keys off, so one may rebuild a table others refer to
        // (SQLite's procedure for schema changes ALTER TABLE cannot make) without cascading.
        conn.pragma_update(None, "foreign_keys", false)?;
        migrations.to_latest(&mut conn)?;
        conn.pragma_update(None, "foreign_keys", true)?;
        let mut store = Store { actor: ActorId::random(), conn, path, sync_turn: Default::default() };
        store.actor = store.device_actor()?;
        if before > 0 && before < schema_version() {
            // The projections may have changed shape: rebuild them from the documents.
            store.reproject_all()?;
        }
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// This device's Automerge actor, made once and kept.
    fn device_actor(&self) -> Result<ActorId> {
        let existing: Option<String> = self
            .conn
            .query_row("SELECT value FROM device_settings WHERE key = 'actor_id'", [], |r| r.get(0))
            .optional()?;
        if let Some(hex) = existing
            && let Ok(actor) = ActorId::try_from(hex.as_str())
        {
            return Ok(actor);
        }
        let actor = ActorId::random();
        self.conn.execute(
            "INSERT OR REPLACE INTO device_settings (key, value) VALUES ('actor_id', ?1)",
            [actor.to_hex_string()],
        )?;
        Ok(actor)
    }

    /// Stores `record` as it is, one Automerge change for everything that differs.
    ///
    /// For edits prefer [`Store::update`], which starts from the stored record: a `put` of a
    /// value read before another device's changes were merged would write over them.
    pub fn put<R: Record>(&mut self, record: &R) -> Result<Written> {
        let id = record.doc_id();
        let tx = self.conn.transaction()?;
        let written = write(&tx, &self.actor, &id, |_| Ok(record.clone()))?;
        tx.commit()?;
        Ok(written)
    }

    /// Stores many records in one transaction: all or none (imports, first sync, test data).
    pub fn put_all<'a, R: Record + 'a>(&mut self, records: impl IntoIterator<Item = &'a R>) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let mut changed = 0;
        for record in records {
            if write(&tx, &self.actor, &record.doc_id(), |_| Ok(record.clone()))? == Written::Changed {
                changed += 1;
            }
        }
        tx.commit()?;
        Ok(changed)
    }

    /// Reads the stored record, applies `edit` and stores the result as one change.
    pub fn update<R: Record>(&mut self, id: &str, edit: impl FnOnce(&mut R) -> Result<()>) -> Result<R> {
        let tx = self.conn.transaction()?;
        let mut result = None;
        write(&tx, &self.actor, id, |current: Option<R>| {
            let mut record = current.ok_or_else(|| StoreError::NotFound { kind: R::KIND, id: id.to_string() })?;
            edit(&mut record)?;
            result = Some(record.clone());
            Ok(record)
        })?;
        tx.commit()?;
        result.ok_or_else(|| StoreError::NotFound { kind: R::KIND, id: id.to_string() })
    }

    /// An edit a person made on a screen that showed the record at `base`: `edit` is applied to
    /// the record as it was at `base`, and that change is merged with whatever reached this
    /// device since (another carer's words merged by sync), so nothing they wrote is lost. A
    /// field the person did not change keeps its newer value; text merges character by
    /// character. An empty `base` edits the record as it is now.
    ///
    /// Returns the merged record, its version, and the version of exactly what the person
    /// wrote (the record as it was at `base`, plus their edit): a screen still showing their own
    /// text saves its next edit against that one, and one that shows the merged record against
    /// the merged version.
    pub fn update_from<R: Record>(
        &mut self,
        id: &str,
        base: &DocVersion,
        edit: impl FnOnce(&mut R) -> Result<()>,
    ) -> Result<Updated<R>> {
        let base = parse_version(R::KIND, id, base)?;
        let tx = self.conn.transaction()?;
        let mut stored = docs::load(&tx, R::KIND, id, &self.actor)?
            .ok_or_else(|| StoreError::NotFound { kind: R::KIND, id: id.to_string() })?;
        // Made on what the document is now: edit it in place. Made on an older version: on a
        // branch at that version, with an actor of its own (this device's actor may have written
        // since `base`, and one actor's changes must follow one another), merged back after.
        let mut branch = if base.is_empty() || base == stored.doc.get_heads() {
            None
        } else {
            Some(
                stored
                    .doc
                    .fork_at(&base)
                    .map_err(|_| StoreError::UnknownVersion { kind: R::KIND, id: id.to_string() })?,
            )
        };
        let target = match &mut branch {
            Some(branch) => branch,
            None => &mut stored.doc,
        };
        let mut seen: R = hydrate(target, R::KIND, id)?;
        edit(&mut seen)?;
        if seen.doc_id() != id {
            return Err(StoreError::Invalid(format!("a {} cannot change its id", R::KIND)));
        }
        seen.check()?;
        let now = Utc::now();
        autosurgeon::reconcile(target, &seen)
            .map_err(|e| StoreError::Reconcile { kind: R::KIND, detail: e.to_string() })?;
        let committed = target.commit_with(commit_options(now)).is_some();
        let written = version_of(&target.get_heads());
        if let Some(branch) = &mut branch
            && committed
        {
            stored.doc.merge(branch).map_err(|e| StoreError::Reconcile { kind: R::KIND, detail: e.to_string() })?;
        }
        let merged: R = hydrate(&stored.doc, R::KIND, id)?;
        merged.check()?;
        let now_ms = now.timestamp_millis();
        if let Some(doc_no) = docs::persist(&tx, R::KIND, id, &mut stored, now_ms)? {
            merged.project(&tx, doc_no, now_ms)?;
        }
        let version = version_of(&stored.doc.get_heads());
        tx.commit()?;
        Ok(Updated { record: merged, version, written })
    }

    /// A record with its version: what a screen that shows it saves its edits against (see
    /// [`Store::update_from`]).
    pub fn get_versioned<R: Record>(&self, id: &str) -> Result<(R, DocVersion)> {
        let mut stored = self.load_existing(R::KIND, id)?;
        let record = hydrate(&stored.doc, R::KIND, id)?;
        Ok((record, version_of(&stored.doc.get_heads())))
    }

    /// The version every device gives a record two may create apart (a visit's note) before
    /// anyone writes in it: what a screen showing "no note yet" edits against.
    pub fn genesis_version<R: Record>(&self, record: &R) -> Result<DocVersion> {
        match record.genesis() {
            Some(_) => Ok(version_of(&new_document(record, &self.actor)?.get_heads())),
            None => Ok(DocVersion::default()),
        }
    }

    /// Edits one record and stores the new records the edit makes (an insight shared, and what
    /// each partner receives of it) in one transaction: all of it, or none.
    pub fn update_and_put<R: Record, S: Record>(
        &mut self,
        id: &str,
        edit: impl FnOnce(&mut R) -> Result<Vec<S>>,
    ) -> Result<(R, Vec<S>)> {
        let tx = self.conn.transaction()?;
        let mut result = None;
        let mut made = Vec::new();
        write(&tx, &self.actor, id, |current: Option<R>| {
            let mut record = current.ok_or_else(|| StoreError::NotFound { kind: R::KIND, id: id.to_string() })?;
            made = edit(&mut record)?;
            result = Some(record.clone());
            Ok(record)
        })?;
        for record in &made {
            write(&tx, &self.actor, &record.doc_id(), |_| Ok(record.clone()))?;
        }
        tx.commit()?;
        let record = result.ok_or_else(|| StoreError::NotFound { kind: R::KIND, id: id.to_string() })?;
        Ok((record, made))
    }

    /// Reads one record. A damaged document is an error for that record only.
    pub fn get<R: Record>(&self, id: &str) -> Result<R> {
        let stored = docs::load(&self.conn, R::KIND, id, &self.actor)?
            .ok_or_else(|| StoreError::NotFound { kind: R::KIND, id: id.to_string() })?;
        hydrate(&stored.doc, R::KIND, id)
    }

    /// Applies another replica's changes (or a whole saved document) and re-projects.
    /// Changes already held are ignored, so applying the same bytes twice is harmless.
    pub fn apply_changes(&mut self, kind: RecordKind, id: &str, bytes: &[u8]) -> Result<Written> {
        let tx = self.conn.transaction()?;
        let written = match kind {
            RecordKind::Person => merge::<doorstep_model::Person>(&tx, &self.actor, id, bytes),
            RecordKind::Visit => merge::<doorstep_model::Visit>(&tx, &self.actor, id, bytes),
            RecordKind::Note => merge::<doorstep_model::VisitNote>(&tx, &self.actor, id, bytes),
            RecordKind::Insight => merge::<doorstep_model::Insight>(&tx, &self.actor, id, bytes),
            RecordKind::Shared => merge::<doorstep_model::SharedItem>(&tx, &self.actor, id, bytes),
            RecordKind::Directory => merge::<doorstep_model::Directory>(&tx, &self.actor, id, bytes),
        }?;
        tx.commit()?;
        Ok(written)
    }

    /// The whole document, compacted: what another replica needs to start from nothing.
    pub fn document_bytes(&self, kind: RecordKind, id: &str) -> Result<Vec<u8>> {
        let mut stored = self.load_existing(kind, id)?;
        Ok(stored.doc.save())
    }

    /// The document's heads: the changes it has seen, as another replica compares them.
    pub fn heads(&self, kind: RecordKind, id: &str) -> Result<Vec<ChangeHash>> {
        let mut stored = self.load_existing(kind, id)?;
        Ok(stored.doc.get_heads())
    }

    /// The changes a replica at `heads` lacks.
    pub fn changes_since(&self, kind: RecordKind, id: &str, heads: &[ChangeHash]) -> Result<Vec<u8>> {
        let mut stored = self.load_existing(kind, id)?;
        Ok(stored.doc.save_after(heads))
    }

    fn load_existing(&self, kind: RecordKind, id: &str) -> Result<StoredDoc> {
        docs::load(&self.conn, kind, id, &self.actor)?.ok_or_else(|| StoreError::NotFound { kind, id: id.to_string() })
    }

    /// Rebuilds every projection from the documents (after an upgrade). A damaged document is
    /// skipped and reported; the rest are rebuilt.
    pub fn reproject_all(&mut self) -> Result<Vec<StoreError>> {
        let tx = self.conn.transaction()?;
        for table in [
            "people",
            "visits",
            "notes",
            "insights",
            "shared_items",
            "shared_responses",
            "deterioration_flags",
            "search_index",
        ] {
            tx.execute(&format!("DELETE FROM {table}"), [])?;
        }
        let docs: Vec<(String, String)> = {
            // People first: notes are scored with what is known of their person.
            let mut stmt = tx.prepare(
                "SELECT id, kind FROM documents ORDER BY CASE kind WHEN 'person' THEN 0 WHEN 'visit' THEN 1 ELSE 2 END, doc_no",
            )?;
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?
        };
        let mut damaged = Vec::new();
        let now = now_ms();
        for (id, kind) in docs {
            let outcome = match RecordKind::from_code(&kind) {
                Some(RecordKind::Person) => reproject::<doorstep_model::Person>(&tx, &self.actor, &id, now),
                Some(RecordKind::Visit) => reproject::<doorstep_model::Visit>(&tx, &self.actor, &id, now),
                Some(RecordKind::Note) => reproject::<doorstep_model::VisitNote>(&tx, &self.actor, &id, now),
                Some(RecordKind::Insight) => reproject::<doorstep_model::Insight>(&tx, &self.actor, &id, now),
                Some(RecordKind::Shared) => reproject::<doorstep_model::SharedItem>(&tx, &self.actor, &id, now),
                Some(RecordKind::Directory) => reproject::<doorstep_model::Directory>(&tx, &self.actor, &id, now),
                None => Ok(()),
            };
            match outcome {
                Ok(()) => {}
                Err(e @ (StoreError::CorruptDocument { .. } | StoreError::Vitals(_))) => damaged.push(e),
                Err(e) => return Err(e),
            }
        }
        tx.commit()?;
        Ok(damaged)
    }

    /// Runs `f` in one transaction (used by imports: all rows or none).
    pub(crate) fn in_transaction<T>(&mut self, f: impl FnOnce(&Transaction<'_>, &ActorId) -> Result<T>) -> Result<T> {
        let tx = self.conn.transaction()?;
        let out = f(&tx, &self.actor)?;
        tx.commit()?;
        Ok(out)
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    pub(crate) fn actor(&self) -> &ActorId {
        &self.actor
    }
}

fn version_of(heads: &[ChangeHash]) -> DocVersion {
    DocVersion(heads.iter().map(ChangeHash::to_string).collect())
}

fn parse_version(kind: RecordKind, id: &str, version: &DocVersion) -> Result<Vec<ChangeHash>> {
    version
        .0
        .iter()
        .map(|hex| hex.parse::<ChangeHash>().map_err(|_| StoreError::UnknownVersion { kind, id: id.to_string() }))
        .collect()
}

pub(crate) fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn hydrate<R: Record>(doc: &AutoCommit, kind: RecordKind, id: &str) -> Result<R> {
    autosurgeon::hydrate(doc).map_err(|e| StoreError::CorruptDocument {
        kind,
        id: id.to_string(),
        detail: e.to_string(),
    })
}

/// What [`Store::update_from`] made of an edit.
#[derive(Debug, Clone)]
pub struct Updated<R> {
    /// The record after the edit, with everything merged in.
    pub record: R,
    /// Its version: the base for an edit made on a screen showing `record`.
    pub version: DocVersion,
    /// The version of what the person wrote, before anything else merged in: the base for an
    /// edit made on a screen still showing their own text.
    pub written: DocVersion,
}

/// The one write path: load (or create) the document, let `make` decide the new value from the
/// current one, reconcile it as one change, store it, and re-project.
pub(crate) fn write<R: Record>(
    conn: &Connection,
    actor: &ActorId,
    id: &str,
    make: impl FnOnce(Option<R>) -> Result<R>,
) -> Result<Written> {
    let existing = docs::load(conn, R::KIND, id, actor)?;
    let current = match &existing {
        Some(stored) => Some(hydrate::<R>(&stored.doc, R::KIND, id)?),
        None => None,
    };
    let record = make(current)?;
    if record.doc_id() != id {
        return Err(StoreError::Invalid(format!("a {} cannot change its id", R::KIND)));
    }
    record.check()?;
    let mut stored = match existing {
        Some(stored) => stored,
        None => StoredDoc::new(new_document(&record, actor)?),
    };
    let now = Utc::now();
    autosurgeon::reconcile(&mut stored.doc, &record)
        .map_err(|e| StoreError::Reconcile { kind: R::KIND, detail: e.to_string() })?;
    let changed = stored.doc.commit_with(commit_options(now)).is_some();
    if !changed && !stored.is_new() {
        return Ok(Written::Unchanged);
    }
    let now_ms = now.timestamp_millis();
    let Some(doc_no) = docs::persist(conn, R::KIND, id, &mut stored, now_ms)? else {
        return Ok(Written::Unchanged);
    };
    let stored_value = hydrate::<R>(&stored.doc, R::KIND, id)?;
    stored_value.project(conn, doc_no, now_ms)?;
    Ok(Written::Changed)
}

/// A fresh document: the shared genesis for records two devices may create apart, else empty.
fn new_document<R: Record>(record: &R, actor: &ActorId) -> Result<AutoCommit> {
    match record.genesis() {
        Some((skeleton, genesis_actor)) => {
            let mut doc = AutoCommit::new().with_actor(genesis_actor);
            autosurgeon::reconcile(&mut doc, &skeleton)
                .map_err(|e| StoreError::Reconcile { kind: R::KIND, detail: e.to_string() })?;
            // Time zero and a fixed actor make this change identical on every device.
            doc.commit_with(CommitOptions::default().with_time(0));
            doc.set_actor(actor.clone());
            Ok(doc)
        }
        None => Ok(AutoCommit::new().with_actor(actor.clone())),
    }
}

fn commit_options(now: DateTime<Utc>) -> CommitOptions {
    CommitOptions::default().with_time(now.timestamp())
}

fn merge<R: Record>(conn: &Connection, actor: &ActorId, id: &str, bytes: &[u8]) -> Result<Written> {
    let bad = |detail: String| StoreError::BadChanges { kind: R::KIND, id: id.to_string(), detail };
    let mut existing = docs::load(conn, R::KIND, id, actor)?;
    // Automerge's incremental load skips what it cannot parse and reports success, which would
    // make a cut-off or damaged message look like "nothing new". Loading the stored document
    // and the incoming bytes together, strictly, refuses them instead.
    let mut combined = match &mut existing {
        Some(stored) => stored.doc.save_nocompress(),
        None => Vec::new(),
    };
    combined.extend_from_slice(bytes);
    let strict =
        LoadOptions::new().on_partial_load(OnPartialLoad::Error).verification_mode(VerificationMode::DontCheck);
    let mut merged_doc =
        AutoCommit::load_with_options(&combined, strict).map_err(|e| bad(e.to_string()))?.with_actor(actor.clone());
    // Changes whose history is missing would be queued silently, not applied: refuse them.
    if !merged_doc.get_missing_deps(&[]).is_empty() {
        return Err(bad("earlier changes these depend on are missing".into()));
    }
    let mut stored = match existing {
        Some(mut stored) => {
            if merged_doc.get_heads() == stored.doc.get_heads() {
                return Ok(Written::Unchanged);
            }
            stored.doc = merged_doc;
            stored
        }
        None => StoredDoc::new(merged_doc),
    };
    // The merged document must still be a valid record before anything is written.
    let merged: R = autosurgeon::hydrate(&stored.doc).map_err(|e| bad(e.to_string()))?;
    if merged.doc_id() != id {
        return Err(bad(format!("the document describes {} {}", R::KIND, merged.doc_id())));
    }
    merged.check()?;
    let now_ms = now_ms();
    let Some(doc_no) = docs::persist(conn, R::KIND, id, &mut stored, now_ms)? else {
        return Ok(Written::Unchanged);
    };
    merged.project(conn, doc_no, now_ms)?;
    Ok(Written::Changed)
}

fn reproject<R: Record>(conn: &Connection, actor: &ActorId, id: &str, now_ms: i64) -> Result<()> {
    let Some(stored) = docs::load(conn, R::KIND, id, actor)? else { return Ok(()) };
    let Some(doc_no) = stored.doc_no else { return Ok(()) };
    let record: R = hydrate(&stored.doc, R::KIND, id)?;
    record.project(conn, doc_no, now_ms)
}
