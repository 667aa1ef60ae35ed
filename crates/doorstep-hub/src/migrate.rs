//! Moving a stopped SQLite hub into an empty PostgreSQL database (`doorstep-hub migrate --to`).
//!
//! Plain SQL, not the service layer: each table is read with one SELECT from SQLite and written
//! with one binary COPY into PostgreSQL, from the single column list in [`TABLES`], so the two
//! sides cannot drift. Every row keeps its values: sequence numbers, the hub's sequence and
//! epoch (so devices sync on with their tokens and cursors), and the audit log's hashes (so its
//! chain still verifies).
//!
//! Safety: the SQLite lock file is held exclusively throughout (no hub can be running, or start),
//! the target must hold no hub rows, and everything is written in one PostgreSQL transaction,
//! which also checks each table's row count before it commits: a failure leaves the target with
//! the hub's schema and no rows, ready for another try. The audit chain is verified afterwards
//! with [`crate::audit::verify`], as `audit verify` does.
//!
//! Every table is copied. What is not a table stays behind: SQLite's schema version (PostgreSQL
//! has its own migration history, written by [`PostgresStorage::connect`]), and the hub's memory
//! (doc-sync conversations, rate limits), which a stopped hub does not have. Web sessions are
//! copied too: a session is the hash of a cookie's secret, equally safe in either database, so
//! people signed in to the partner pages stay signed in.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use crate::PostgresStorage;
use crate::backup::{self, BackupError};
use crate::pg_tls::PgTarget;
use crate::postgres::{AUDIT_LOCK, SEQUENCE_LOCK, with_causes};
use crate::storage::{HubStorage, StorageError};

/// Rows sent from the SQLite reader to the COPY at a time.
const BATCH: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Int,
    Bytes,
    /// An SQLite integer 0/1 that PostgreSQL keeps as BOOLEAN.
    Bool,
}

/// One table's columns, in the same order for the SELECT and the COPY; every column may be NULL
/// here (the target's constraints say which may not).
struct Table {
    name: &'static str,
    columns: &'static [(&'static str, Kind)],
}

use Kind::{Bool, Bytes, Int, Text};

/// Every hub table but `hub_sequence` (one row, updated rather than copied), parents before the
/// tables whose foreign keys name them.
const TABLES: &[Table] = &[
    Table {
        name: "organisations",
        columns: &[("id", Text), ("name", Text), ("kind", Text), ("partner_kind", Text), ("held_back_retry", Int)],
    },
    Table {
        name: "devices",
        columns: &[
            ("id", Text),
            ("org_id", Text),
            ("staff_ref", Text),
            ("role", Text),
            ("name", Text),
            ("token_hash", Bytes),
            ("created_at", Int),
            ("revoked_at", Int),
            ("last_sync_at", Int),
            ("last_held_back", Int),
            ("last_refused", Int),
        ],
    },
    Table {
        name: "enrolment_codes",
        columns: &[
            ("code_hash", Bytes),
            ("org_id", Text),
            ("staff_ref", Text),
            ("role", Text),
            ("created_by", Text),
            ("expires_at", Int),
            ("used_at", Int),
            ("device_id", Text),
        ],
    },
    Table {
        name: "documents",
        columns: &[("id", Text), ("kind", Text), ("owner_org", Text), ("snapshot", Bytes), ("snapshot_seq", Int)],
    },
    Table {
        name: "changes",
        columns: &[("seq", Int), ("doc_id", Text), ("hash", Bytes), ("bytes", Bytes), ("device_id", Text)],
    },
    Table {
        name: "doc_access",
        columns: &[("principal", Text), ("doc_id", Text), ("granted_seq", Int), ("via_device", Text)],
    },
    Table { name: "purges", columns: &[("seq", Int), ("principal", Text), ("doc_id", Text), ("kind", Text)] },
    Table {
        name: "visit_index",
        columns: &[
            ("visit_id", Text),
            ("owner_org", Text),
            ("person_id", Text),
            ("day", Text),
            ("carer_1", Text),
            ("carer_2", Text),
        ],
    },
    Table { name: "note_index", columns: &[("note_id", Text), ("person_id", Text)] },
    Table { name: "doc_facts", columns: &[("doc_id", Text), ("kind", Text), ("owner_org", Text), ("facts", Text)] },
    Table {
        name: "web_users",
        columns: &[
            ("id", Text),
            ("org_id", Text),
            ("email", Text),
            ("name", Text),
            ("role", Text),
            ("password_hash", Text),
            ("failed_attempts", Int),
            ("locked_until", Int),
            ("created_at", Int),
            ("disabled_at", Int),
        ],
    },
    Table {
        name: "web_sessions",
        columns: &[("token_hash", Bytes), ("user_id", Text), ("csrf", Text), ("expires_at", Int)],
    },
    Table {
        name: "held_back_records",
        columns: &[
            ("device_id", Text),
            ("record_id", Text),
            ("kind", Text),
            ("reason", Text),
            ("since", Int),
            ("discard_asked_at", Int),
        ],
    },
    Table { name: "rota_departures", columns: &[("principal", Text), ("person_id", Text), ("left_at", Int)] },
    Table {
        name: "commissioning_agreements",
        columns: &[("commissioner_org", Text), ("provider_org", Text), ("districts", Text), ("created_at", Int)],
    },
    Table {
        name: "trend_snapshots",
        columns: &[("commissioner_org", Text), ("week", Text), ("counts", Text), ("published_at", Int)],
    },
    Table {
        name: "feed_releases",
        columns: &[("provider_org", Text), ("week", Text), ("released_by", Text), ("released_at", Int)],
    },
    Table { name: "partner_listings", columns: &[("org_id", Text), ("listing", Text), ("updated_at", Int)] },
    Table {
        name: "mail_outbox",
        columns: &[
            ("id", Text),
            ("to_address", Text),
            ("subject", Text),
            ("body", Text),
            ("queued_at", Int),
            ("attempts", Int),
            ("next_attempt_at", Int),
            ("sent_at", Int),
            ("last_error", Text),
        ],
    },
    Table {
        name: "audit_log",
        columns: &[
            ("seq", Int),
            ("at", Int),
            ("actor", Text),
            ("action", Text),
            ("doc_id", Text),
            ("allowed", Bool),
            ("detail", Text),
            ("prev_hash", Bytes),
            ("hash", Bytes),
        ],
    },
];

/// The one table not in [`TABLES`]: the hub's sequence and epoch, one row.
const HUB_SEQUENCE: &str = "hub_sequence";
const HUB_SEQUENCE_COLUMNS: [&str; 3] = ["id", "value", "epoch"];

type Value = Box<dyn ToSql + Sync + Send>;

impl Kind {
    fn pg_type(self) -> Type {
        match self {
            Text => Type::TEXT,
            Int => Type::INT8,
            Bytes => Type::BYTEA,
            Bool => Type::BOOL,
        }
    }

    fn read(self, row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Value> {
        Ok(match self {
            Text => Box::new(row.get::<_, Option<String>>(i)?),
            Int => Box::new(row.get::<_, Option<i64>>(i)?),
            Bytes => Box::new(row.get::<_, Option<Vec<u8>>>(i)?),
            Bool => Box::new(row.get::<_, Option<i64>>(i)?.map(|v| v != 0)),
        })
    }
}

impl Table {
    fn column_names(&self) -> String {
        self.columns.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
    }

    fn select(&self) -> String {
        format!("SELECT {} FROM {}", self.column_names(), self.name)
    }

    /// COPY writes identity columns as given (audit_log.seq), as OVERRIDING SYSTEM VALUE would.
    fn copy(&self) -> String {
        format!("COPY {} ({}) FROM STDIN (FORMAT binary)", self.name, self.column_names())
    }

    fn column_set(&self) -> BTreeSet<String> {
        self.columns.iter().map(|(name, _)| (*name).to_string()).collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("migrate copies into PostgreSQL: --to must be a postgres:// (or postgresql://) URL")]
    NotPostgres,
    #[error(
        "migrate copies an SQLite hub, but the hub's database is PostgreSQL already: give the SQLite file with \
         --database FILE (or database in the configuration file)"
    )]
    SourceNotSqlite,
    #[error("there is no SQLite hub database at {}", path.display())]
    NoSource { path: PathBuf },
    #[error("a hub is using {}: stop it first (e.g. systemctl stop doorstep-hub), then migrate", path.display())]
    HubRunning { path: PathBuf },
    #[error("{} is not a Doorstep hub database: {why}", path.display())]
    NotAHub { path: PathBuf, why: String },
    #[error(
        "{} has schema version {found}, older than this hub's ({known}): run any doorstep-hub command on it once \
         (e.g. doorstep-hub --database {} list-organisations), which brings it up to date, then migrate",
        path.display(), path.display()
    )]
    OlderSchema { path: PathBuf, found: i64, known: i64 },
    #[error(
        "the {side} database's {table} table has the columns {found:?}, but this doorstep-hub copies {expected:?}: \
         use the doorstep-hub that last ran on the database"
    )]
    UnknownColumns { side: &'static str, table: String, found: BTreeSet<String>, expected: BTreeSet<String> },
    #[error(
        "the SQLite database has tables this doorstep-hub does not know how to copy ({0:?}): use the doorstep-hub \
         that last ran on it"
    )]
    UnknownTables(Vec<String>),
    #[error(
        "the PostgreSQL database is not empty ({table} holds {rows} row(s)): migrate only fills a new, empty \
         database. Nothing was changed. Create an empty one (e.g. createdb -O doorstep doorstep_hub) and name it in \
         --to"
    )]
    TargetNotEmpty { table: String, rows: i64 },
    #[error(
        "{table}: {sqlite} row(s) in SQLite but {postgres} in PostgreSQL after copying. Nothing was committed: the \
         PostgreSQL database has the hub's tables and no rows; migrate can be run again"
    )]
    CountMismatch { table: String, sqlite: i64, postgres: i64 },
    #[error(
        "copying {table}: {message}. Nothing was committed: the PostgreSQL database has the hub's tables (if it \
         could be reached) and no rows; migrate can be run again"
    )]
    Copy { table: String, message: String },
    #[error(
        "the rows are copied and committed, but the audit log on PostgreSQL does not verify: entry {seq}: {why}. \
         Do not start a hub on it. Run `doorstep-hub --database FILE audit verify` on the SQLite hub: if it fails \
         too, the log was broken before the move. To try again, drop the PostgreSQL database and create it empty"
    )]
    AuditBroken { seq: i64, why: String },
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Backup(BackupError),
}

impl From<tokio_postgres::Error> for MigrateError {
    fn from(e: tokio_postgres::Error) -> MigrateError {
        MigrateError::Postgres(with_causes(&e))
    }
}

impl From<BackupError> for MigrateError {
    fn from(e: BackupError) -> MigrateError {
        match e {
            BackupError::HubRunning { path } => MigrateError::HubRunning { path },
            other => MigrateError::Backup(other),
        }
    }
}

/// What a migration did.
#[derive(Debug, Clone)]
pub struct MigrateSummary {
    /// Each table and its rows, in the order copied (`hub_sequence` last).
    pub tables: Vec<(&'static str, u64)>,
    pub rows: u64,
    /// The hub's sequence and epoch, kept: devices' cursors stay valid.
    pub sequence: i64,
    pub epoch: String,
    /// The audit log on PostgreSQL, verified: entries and the newest entry (seq, hash).
    pub audit_entries: u64,
    pub audit_head: Option<(i64, Vec<u8>)>,
    /// The SQLite hub's enrolment-code key file, if it has one: a PostgreSQL hub reads
    /// `DOORSTEP_CODE_KEY_FILE` instead (`crate::code_key`).
    pub code_key: Option<PathBuf>,
    pub elapsed: Duration,
}

/// Is `url` a PostgreSQL URL (the only target)?
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Copies the stopped SQLite hub at `source` into the empty PostgreSQL database at `to`, calling
/// `progress` with each table and its row count as it is copied.
pub async fn migrate(
    source: &Path,
    to: &str,
    progress: &mut (dyn FnMut(&str, u64) + Send),
) -> Result<MigrateSummary, MigrateError> {
    let started = Instant::now();
    if !is_postgres_url(to) {
        return Err(MigrateError::NotPostgres);
    }
    if !source.is_file() {
        return Err(MigrateError::NoSource { path: source.into() });
    }
    // Held to the end: no hub may start on the SQLite file while it is copied (nor after, by
    // accident, before the operator has switched over: that is the operator's to decide).
    let _lock = backup::hold_exclusive(source)?;
    let conn = open_source(source)?;
    check_source(&conn, source)?;
    let mut counts = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let n: i64 = conn.query_row(&format!("SELECT COUNT(*) FROM {}", table.name), [], |r| r.get(0))?;
        counts.push(n);
    }
    let (sequence, epoch): (i64, String) =
        conn.query_row("SELECT value, epoch FROM hub_sequence WHERE id = 1", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
    drop(conn);

    let target = PgTarget::parse(to).map_err(StorageError::from)?;
    // Before migrating the target: a database holding another hub is left exactly as it is.
    {
        let (client, driver) = target.connect_one().await?;
        let found = refuse_non_empty(&client, true).await;
        drop(client);
        let _ = driver.await;
        found?;
    }
    // Creates the hub's tables (the PostgreSQL migrations) and checks the schema is this build's.
    let storage = PostgresStorage::connect(to).await?;

    let (mut client, driver) = target.connect_one().await?;
    let copied = copy_all(&mut client, source, &counts, sequence, &epoch, progress).await;
    drop(client);
    let _ = driver.await;
    let mut tables = copied?;
    tables.push((HUB_SEQUENCE, 1));

    let report = storage.verify_audit_chain().await?;
    if let Some((seq, why)) = report.first_broken {
        return Err(MigrateError::AuditBroken { seq, why });
    }
    let code_key = Some(crate::code_key::beside(source)).filter(|p| p.is_file());
    Ok(MigrateSummary {
        rows: tables.iter().map(|(_, n)| n).sum(),
        tables,
        sequence,
        epoch,
        audit_entries: report.entries,
        audit_head: report.head,
        code_key,
        elapsed: started.elapsed(),
    })
}

/// Read-only: migrate never writes to the SQLite hub, which stays as it was.
fn open_source(path: &Path) -> Result<Connection, MigrateError> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| MigrateError::NotAHub { path: path.into(), why: e.to_string() })?;
    conn.busy_timeout(Duration::from_secs(10))?;
    Ok(conn)
}

/// The source is a hub database of exactly this build's schema, whose tables and columns are
/// those [`TABLES`] copies.
fn check_source(conn: &Connection, path: &Path) -> Result<(), MigrateError> {
    let found: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|e| MigrateError::NotAHub { path: path.into(), why: e.to_string() })?;
    let known = crate::sqlite::known_schema_version();
    if found > known {
        return Err(StorageError::NewerSchema { found, known }.into());
    }
    if found < 1 {
        return Err(MigrateError::NotAHub { path: path.into(), why: "it has no hub schema".into() });
    }
    if found < known {
        return Err(MigrateError::OlderSchema { path: path.into(), found, known });
    }
    let tables: BTreeSet<String> = {
        let mut stmt = conn.prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
        )?;
        stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
    };
    let known_tables: BTreeSet<String> =
        TABLES.iter().map(|t| t.name.to_string()).chain([HUB_SEQUENCE.to_string()]).collect();
    let unknown: Vec<String> = tables.difference(&known_tables).cloned().collect();
    if !unknown.is_empty() {
        return Err(MigrateError::UnknownTables(unknown));
    }
    let expected = TABLES
        .iter()
        .map(|t| (t.name, t.column_set()))
        .chain([(HUB_SEQUENCE, HUB_SEQUENCE_COLUMNS.iter().map(|c| (*c).to_string()).collect())]);
    for (table, expected) in expected {
        let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
        let found: BTreeSet<String> = stmt.query_map([table], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        if found != expected {
            return Err(MigrateError::UnknownColumns { side: "SQLite", table: table.into(), found, expected });
        }
    }
    Ok(())
}

/// `TargetNotEmpty` if any hub table in the target holds a row or its sequence has moved;
/// `before_migrating`: tables may not exist yet.
async fn refuse_non_empty<C: tokio_postgres::GenericClient>(
    client: &C,
    before_migrating: bool,
) -> Result<(), MigrateError> {
    for name in TABLES.iter().map(|t| t.name).chain([HUB_SEQUENCE]) {
        if before_migrating {
            let exists: bool = client.query_one("SELECT to_regclass($1) IS NOT NULL", &[&name]).await?.get(0);
            if !exists {
                continue;
            }
        }
        let rows: i64 = if name == HUB_SEQUENCE {
            // Its one row is made by the migrations; a hub that has written has moved it.
            client.query_one("SELECT COUNT(*) FROM hub_sequence WHERE value <> 0", &[]).await?.get(0)
        } else {
            client.query_one(&format!("SELECT COUNT(*) FROM {name}"), &[]).await?.get(0)
        };
        if rows > 0 {
            return Err(MigrateError::TargetNotEmpty { table: name.into(), rows });
        }
    }
    Ok(())
}

/// Copies every table in one transaction, checking each count before it commits.
async fn copy_all(
    client: &mut tokio_postgres::Client,
    source: &Path,
    counts: &[i64],
    sequence: i64,
    epoch: &str,
    progress: &mut (dyn FnMut(&str, u64) + Send),
) -> Result<Vec<(&'static str, u64)>, MigrateError> {
    let tx = client.transaction().await?;
    // No hub on the target may allocate a sequence number or append to the audit log meanwhile.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SEQUENCE_LOCK]).await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&AUDIT_LOCK]).await?;
    refuse_non_empty(&tx, false).await?;
    let mut tables = Vec::with_capacity(TABLES.len());
    for (table, &expected) in TABLES.iter().zip(counts) {
        check_target_columns(&tx, table).await?;
        let copied = copy_table(&tx, source, table)
            .await
            .map_err(|message| MigrateError::Copy { table: table.name.into(), message })?;
        let stored: i64 = tx.query_one(&format!("SELECT COUNT(*) FROM {}", table.name), &[]).await?.get(0);
        if i64::try_from(copied).ok() != Some(expected) || stored != expected {
            return Err(MigrateError::CountMismatch { table: table.name.into(), sqlite: expected, postgres: stored });
        }
        progress(table.name, copied);
        tables.push((table.name, copied));
    }
    let updated =
        tx.execute("UPDATE hub_sequence SET value = $1, epoch = $2 WHERE id = 1", &[&sequence, &epoch]).await?;
    if updated != 1 {
        return Err(MigrateError::CountMismatch { table: HUB_SEQUENCE.into(), sqlite: 1, postgres: updated as i64 });
    }
    progress(HUB_SEQUENCE, 1);
    // The hub numbers new audit entries from the identity's sequence: on from the copied ones.
    tx.execute(
        "SELECT setval(pg_get_serial_sequence('audit_log', 'seq'), COALESCE(MAX(seq), 1), MAX(seq) IS NOT NULL) \
         FROM audit_log",
        &[],
    )
    .await?;
    tx.commit().await?;
    Ok(tables)
}

async fn check_target_columns(tx: &tokio_postgres::Transaction<'_>, table: &Table) -> Result<(), MigrateError> {
    let found: BTreeSet<String> = tx
        .query(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1",
            &[&table.name],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let expected = table.column_set();
    if found != expected {
        return Err(MigrateError::UnknownColumns { side: "PostgreSQL", table: table.name.into(), found, expected });
    }
    Ok(())
}

/// Streams one table: a blocking task reads SQLite and hands rows over in batches; the COPY
/// writes them. Returns the rows written, or what went wrong.
async fn copy_table(tx: &tokio_postgres::Transaction<'_>, source: &Path, table: &'static Table) -> Result<u64, String> {
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Vec<Vec<Value>>>(4);
    let path = source.to_path_buf();
    let reader = tokio::task::spawn_blocking(move || read_table(&path, table, &sender));
    let sink = tx.copy_in(&table.copy()).await.map_err(|e| with_causes(&e))?;
    let types: Vec<Type> = table.columns.iter().map(|(_, kind)| kind.pg_type()).collect();
    let mut writer = std::pin::pin!(BinaryCopyInWriter::new(sink, &types));
    while let Some(batch) = receiver.recv().await {
        for row in &batch {
            let values: Vec<&(dyn ToSql + Sync)> = row.iter().map(|v| v.as_ref() as &(dyn ToSql + Sync)).collect();
            writer.as_mut().write(&values).await.map_err(|e| with_causes(&e))?;
        }
    }
    let read = reader.await.map_err(|e| e.to_string())?.map_err(|e| format!("reading SQLite: {e}"))?;
    let written = writer.finish().await.map_err(|e| with_causes(&e))?;
    if read != written {
        return Err(format!("read {read} row(s) from SQLite but wrote {written}"));
    }
    Ok(written)
}

fn read_table(
    path: &Path,
    table: &Table,
    sender: &tokio::sync::mpsc::Sender<Vec<Vec<Value>>>,
) -> Result<u64, rusqlite::Error> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut stmt = conn.prepare(&table.select())?;
    let mut rows = stmt.query([])?;
    let (mut batch, mut read) = (Vec::with_capacity(BATCH), 0u64);
    while let Some(row) = rows.next()? {
        let values = table
            .columns
            .iter()
            .enumerate()
            .map(|(i, (_, kind))| kind.read(row, i))
            .collect::<rusqlite::Result<_>>()?;
        batch.push(values);
        read += 1;
        // A closed channel means the COPY failed: it reports why.
        if batch.len() == BATCH && sender.blocking_send(std::mem::take(&mut batch)).is_err() {
            return Ok(read);
        }
    }
    if !batch.is_empty() {
        let _ = sender.blocking_send(batch);
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new table or column in the SQLite migrations without a line here fails this test (and
    /// `migrate` refuses such a database rather than leaving it behind).
    #[test]
    fn every_table_and_column_of_the_sqlite_schema_is_copied() {
        let dir = tempfile::tempdir().expect("a directory");
        let path = dir.path().join("hub.db");
        drop(crate::SqliteStorage::open(&path).expect("a new hub database"));
        let conn = open_source(&path).expect("open");
        check_source(&conn, &path).expect("every table and column known");
    }

    #[test]
    fn only_postgres_urls_are_targets() {
        assert!(is_postgres_url("postgres://u:p@h/db"));
        assert!(is_postgres_url("postgresql://h/db"));
        assert!(!is_postgres_url("hub.db"));
        assert!(!is_postgres_url("host=localhost dbname=doorstep"));
    }
}
