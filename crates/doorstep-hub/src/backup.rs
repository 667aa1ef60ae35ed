//! Backing up and restoring the hub's database.
//!
//! SQLite: SQLite's online backup API copies the database in one read transaction, so the copy
//! is one consistent moment while the hub goes on serving (WAL lets it keep writing).
//! PostgreSQL: `pg_dump` (custom format) and `pg_restore`.
//!
//! A restore refuses a database a hub is using: on SQLite every hub process holds a shared
//! lock on `<database>.lock` while it has the file open, and the restore takes it exclusively;
//! on PostgreSQL other sessions connected to the database count as a running hub unless
//! `--force` is given. The backup is checked first: it must be a Doorstep hub database of a
//! schema this build knows.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use rusqlite::{Connection, OpenFlags};

use crate::server::Database;
use crate::storage::{StorageError, StorageResult};

/// Tables every hub database has had since its first schema.
const HUB_TABLES: [&str; 4] = ["organisations", "devices", "documents", "audit_log"];

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("cannot read or write {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{} is not a Doorstep hub backup: {why}", path.display())]
    NotAHubBackup { path: PathBuf, why: String },
    #[error(
        "the backup {} has schema version {found}, newer than this hub knows (up to {known}): restore it with \
         the doorstep-hub that made it",
        path.display()
    )]
    NewerSchema { path: PathBuf, found: i64, known: i64 },
    #[error("a hub is using {}: stop it first (e.g. systemctl stop doorstep-hub), then restore", path.display())]
    HubRunning { path: PathBuf },
    #[error(
        "{sessions} other session(s) are connected to the PostgreSQL database: stop every hub using it first, or \
         pass --force if they are not hubs"
    )]
    PostgresInUse { sessions: i64 },
    #[error("{tool} was not found: install the PostgreSQL client tools (e.g. apt install postgresql-client)")]
    ToolMissing { tool: &'static str },
    #[error("{tool} failed: {message}")]
    ToolFailed { tool: &'static str, message: String },
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    #[error("{} already exists: choose a new file, so an older backup is never overwritten", path.display())]
    TargetExists { path: PathBuf },
}

/// What a backup or restore did, for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub schema_version: i64,
    pub bytes: u64,
}

/// The file every hub process locks (shared) while it has an SQLite database open.
pub fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

fn open_lock_file(database: &Path) -> std::io::Result<File> {
    File::options().read(true).write(true).create(true).truncate(false).open(lock_path(database))
}

/// Takes the shared "a hub has this open" lock; fails while a restore holds it.
pub fn hold_shared(database: &Path) -> StorageResult<File> {
    let path = lock_path(database);
    let file = open_lock_file(database)
        .map_err(|e| StorageError::Locked(format!("cannot open the lock file {}: {e}", path.display())))?;
    match file.try_lock_shared() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StorageError::Locked(format!(
            "{} is being restored: start the hub again when the restore has finished",
            database.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(StorageError::Locked(format!("cannot lock {}: {e}", path.display())))
        }
    }
}

/// Takes the lock file exclusively: `HubRunning` while any hub process has the database open
/// ([`hold_shared`]); no hub can open it until the returned file is dropped.
pub fn hold_exclusive(database: &Path) -> Result<File, BackupError> {
    let lock = open_lock_file(database).map_err(|source| BackupError::Io { path: lock_path(database), source })?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(std::fs::TryLockError::WouldBlock) => Err(BackupError::HubRunning { path: database.into() }),
        Err(std::fs::TryLockError::Error(source)) => Err(BackupError::Io { path: lock_path(database), source }),
    }
}

/// Backs up the hub's database to `to`, a new file, while the hub may be serving.
pub async fn backup(database: &Database, to: &Path) -> Result<Summary, BackupError> {
    if to.exists() {
        return Err(BackupError::TargetExists { path: to.into() });
    }
    match database {
        Database::Sqlite(path) => {
            let (path, to) = (path.clone(), to.to_path_buf());
            tokio::task::spawn_blocking(move || backup_sqlite(&path, &to))
                .await
                .map_err(|e| StorageError::Task(e.to_string()))?
        }
        Database::Postgres(url) => backup_postgres(url, to).await,
    }
}

/// Restores the hub's database from `from`, replacing what it holds. Refuses while a hub uses
/// it (PostgreSQL: unless `force`).
pub async fn restore(database: &Database, from: &Path, force: bool) -> Result<Summary, BackupError> {
    match database {
        Database::Sqlite(path) => {
            let (path, from) = (path.clone(), from.to_path_buf());
            tokio::task::spawn_blocking(move || restore_sqlite(&path, &from))
                .await
                .map_err(|e| StorageError::Task(e.to_string()))?
        }
        Database::Postgres(url) => restore_postgres(url, from, force).await,
    }
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn backup_sqlite(database: &Path, to: &Path) -> Result<Summary, BackupError> {
    if !database.exists() {
        return Err(BackupError::Io {
            path: database.into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such database"),
        });
    }
    let source = Connection::open_with_flags(database, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    source.busy_timeout(std::time::Duration::from_secs(10))?;
    let schema_version = check_hub_database(&source, database)?;
    let mut target = Connection::open(to)?;
    {
        let backup = rusqlite::backup::Backup::new(&source, &mut target)?;
        // All pages in one step: one read transaction, so the copy is a single moment. WAL
        // keeps the hub's writers going meanwhile; busy or locked only while one is checkpointing.
        loop {
            match backup.step(-1)? {
                rusqlite::backup::StepResult::Done => break,
                _ => std::thread::sleep(std::time::Duration::from_millis(50)),
            }
        }
    }
    // One file, no -wal beside it: the backup can be copied anywhere as it is.
    target.pragma_update(None, "journal_mode", "DELETE")?;
    let integrity: String = target.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    drop(target);
    if integrity != "ok" {
        return Err(BackupError::NotAHubBackup {
            path: to.into(),
            why: format!("the copy fails its check: {integrity}"),
        });
    }
    Ok(Summary { schema_version, bytes: file_size(to) })
}

/// The schema version of an SQLite hub database, if it is one this build knows.
fn check_hub_database(conn: &Connection, path: &Path) -> Result<i64, BackupError> {
    let not_hub = |why: String| BackupError::NotAHubBackup { path: path.into(), why };
    let found: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|e| not_hub(format!("it cannot be read as an SQLite database ({e})")))?;
    for table in HUB_TABLES {
        let exists: bool = conn
            .query_row("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)", [table], |r| {
                r.get(0)
            })
            .map_err(|e| not_hub(format!("it cannot be read as an SQLite database ({e})")))?;
        if !exists {
            return Err(not_hub(format!("it has no {table} table")));
        }
    }
    let known = crate::sqlite::known_schema_version();
    if found > known {
        return Err(BackupError::NewerSchema { path: path.into(), found, known });
    }
    if found < 1 {
        return Err(not_hub("it has no schema version".into()));
    }
    Ok(found)
}

fn restore_sqlite(database: &Path, from: &Path) -> Result<Summary, BackupError> {
    let source = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| BackupError::NotAHubBackup { path: from.into(), why: e.to_string() })?;
    let schema_version = check_hub_database(&source, from)?;
    let integrity: String = source.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if integrity != "ok" {
        return Err(BackupError::NotAHubBackup { path: from.into(), why: format!("it fails its check: {integrity}") });
    }
    // Held until the restore is done: no hub may start on a half-restored file.
    let lock = hold_exclusive(database)?;
    // Through SQLite, not a file copy: any -wal left beside the old file is dealt with properly.
    let mut target = Connection::open(database)?;
    target.busy_timeout(std::time::Duration::from_secs(10))?;
    target.restore(rusqlite::MAIN_DB, from, None::<fn(rusqlite::backup::Progress)>)?;
    target.pragma_update(None, "journal_mode", "WAL")?;
    // A new epoch tells devices that synced after the backup was taken to resend everything. A
    // backup from before epochs has none: the migration to them makes one at the hub's start.
    let has_epoch: bool = target.query_row(
        "SELECT COUNT(*) > 0 FROM pragma_table_info('hub_sequence') WHERE name = 'epoch'",
        [],
        |r| r.get(0),
    )?;
    if has_epoch {
        target.execute("UPDATE hub_sequence SET epoch = lower(hex(randomblob(16)))", [])?;
    }
    drop(target);
    drop(lock);
    Ok(Summary { schema_version, bytes: file_size(from) })
}

/// Runs a PostgreSQL client tool, saying plainly when it is not installed.
fn run_tool(tool: &'static str, args: &[&str], env: &[(&'static str, String)]) -> Result<Vec<u8>, BackupError> {
    let output =
        Command::new(tool).args(args).envs(env.iter().map(|(k, v)| (*k, v))).output().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => BackupError::ToolMissing { tool },
            _ => BackupError::ToolFailed { tool, message: e.to_string() },
        })?;
    if !output.status.success() {
        let message = String::from_utf8_lossy(&output.stderr).trim().to_string();
        return Err(BackupError::ToolFailed { tool, message });
    }
    Ok(output.stdout)
}

/// The database URL as libpq's environment (`PGHOST`, `PGPASSWORD`…) for `pg_dump` and
/// `pg_restore`: a password in their arguments would be readable by every user of the machine
/// (`ps`), the environment is not.
fn libpq_env(url: &str) -> Result<Vec<(&'static str, String)>, BackupError> {
    use tokio_postgres::config::Host;
    let target = crate::pg_tls::PgTarget::parse(url)
        .map_err(|e| BackupError::ToolFailed { tool: "pg_dump", message: e.to_string() })?;
    let config = &target.config;
    let mut env = Vec::new();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.to_string_lossy().to_string(),
        })
        .collect();
    if !hosts.is_empty() {
        env.push(("PGHOST", hosts.join(",")));
    }
    let ports: Vec<String> = config.get_ports().iter().map(ToString::to_string).collect();
    if !ports.is_empty() {
        env.push(("PGPORT", ports.join(",")));
    }
    if let Some(user) = config.get_user() {
        env.push(("PGUSER", user.to_string()));
    }
    if let Some(password) = config.get_password() {
        env.push(("PGPASSWORD", String::from_utf8_lossy(password).to_string()));
    }
    if let Some(db) = config.get_dbname() {
        env.push(("PGDATABASE", db.to_string()));
    }
    env.push(("PGSSLMODE", target.ssl_mode.as_str().to_string()));
    if let Some(root) = &target.root_cert {
        env.push(("PGSSLROOTCERT", root.clone()));
    }
    Ok(env)
}

async fn backup_postgres(url: &str, to: &Path) -> Result<Summary, BackupError> {
    let to_text = to.to_string_lossy().to_string();
    let env = libpq_env(url)?;
    // pg_dump takes one snapshot for the whole dump: consistent while the hub writes.
    tokio::task::spawn_blocking(move || {
        run_tool("pg_dump", &["--format=custom", "--no-owner", "--no-privileges", "--file", &to_text], &env)
    })
    .await
    .map_err(|e| StorageError::Task(e.to_string()))??;
    let schema_version = dump_schema_version(to).await?;
    Ok(Summary { schema_version, bytes: file_size(to) })
}

/// The hub schema version recorded in a custom-format dump (its migration table's rows).
async fn dump_schema_version(dump: &Path) -> Result<i64, BackupError> {
    let mut magic = [0u8; 5];
    let read = File::open(dump).and_then(|mut f| f.read_exact(&mut magic));
    if read.is_err() || &magic != b"PGDMP" {
        return Err(BackupError::NotAHubBackup {
            path: dump.into(),
            why: "it is not a pg_dump custom-format file".into(),
        });
    }
    let path = dump.to_string_lossy().to_string();
    let listing = tokio::task::spawn_blocking(move || {
        run_tool("pg_restore", &["--data-only", "--table=refinery_schema_history", "--file=-", &path], &[])
    })
    .await
    .map_err(|e| StorageError::Task(e.to_string()))??;
    let text = String::from_utf8_lossy(&listing);
    let not_hub = |why: &str| BackupError::NotAHubBackup { path: dump.into(), why: why.into() };
    let mut rows = text.lines().skip_while(|l| !l.starts_with("COPY ")).skip(1).take_while(|l| *l != "\\.");
    let found = rows
        .try_fold(0i64, |max, row| row.split('\t').next()?.parse::<i64>().ok().map(|v| max.max(v)))
        .ok_or_else(|| not_hub("its migration table cannot be read"))?;
    if found < 1 {
        return Err(not_hub("it holds no Doorstep hub schema"));
    }
    let known = crate::postgres::known_schema_version();
    if found > known {
        return Err(BackupError::NewerSchema { path: dump.into(), found, known });
    }
    Ok(found)
}

async fn restore_postgres(url: &str, from: &Path, force: bool) -> Result<Summary, BackupError> {
    let schema_version = dump_schema_version(from).await?;
    let (client, driver) = connect(url).await?;
    let mut sessions = 0;
    // A hub that has just stopped may take a moment to close its connections.
    for attempt in 0..6 {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        sessions = client
            .query_one(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
                &[],
            )
            .await?
            .get(0);
        if sessions == 0 || force {
            break;
        }
    }
    if sessions > 0 && !force {
        return Err(BackupError::PostgresInUse { sessions });
    }
    // The dump holds the hub's tables only: drop what is there so nothing of the newer state
    // (rows the backup never had) survives beside it.
    client.batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;").await?;
    drop(client);
    let _ = driver.await;
    let from_text = from.to_string_lossy().to_string();
    let env = libpq_env(url)?;
    let dbname = env.iter().find(|(k, _)| *k == "PGDATABASE").map(|(_, v)| v.clone()).unwrap_or_default();
    tokio::task::spawn_blocking(move || {
        run_tool(
            "pg_restore",
            &[
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                "--dbname",
                &dbname,
                &from_text,
            ],
            &env,
        )
    })
    .await
    .map_err(|e| StorageError::Task(e.to_string()))??;
    // A new epoch, as for SQLite (restore_sqlite).
    let (client, driver) = connect(url).await?;
    client
        .batch_execute(
            "DO $$ BEGIN
               IF EXISTS (SELECT 1 FROM information_schema.columns
                          WHERE table_schema = 'public' AND table_name = 'hub_sequence' AND column_name = 'epoch')
               THEN UPDATE hub_sequence SET epoch = md5(random()::text || clock_timestamp()::text);
               END IF;
             END $$;",
        )
        .await?;
    drop(client);
    let _ = driver.await;
    Ok(Summary { schema_version, bytes: file_size(from) })
}

/// One connection to `url`, with its TLS settings.
async fn connect(url: &str) -> Result<(tokio_postgres::Client, tokio::task::JoinHandle<()>), BackupError> {
    let target = crate::pg_tls::PgTarget::parse(url).map_err(StorageError::from)?;
    Ok(target.connect_one().await?)
}

#[cfg(test)]
mod tests {
    use super::libpq_env;

    #[test]
    fn the_database_password_goes_to_pg_dump_in_its_environment_not_its_arguments() {
        let env = libpq_env("postgres://hub:s3cret%21@db.internal:5433/doorstep?sslmode=require&sslrootcert=system")
            .expect("a URL");
        let get = |key: &str| env.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str());
        assert_eq!(get("PGPASSWORD"), Some("s3cret!"));
        assert_eq!((get("PGHOST"), get("PGPORT"), get("PGUSER")), (Some("db.internal"), Some("5433"), Some("hub")));
        assert_eq!((get("PGDATABASE"), get("PGSSLMODE")), (Some("doorstep"), Some("require")));
        assert_eq!(get("PGSSLROOTCERT"), Some("system"));
    }
}
