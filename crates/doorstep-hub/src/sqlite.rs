//! The hub on SQLite: one file, no setup. One connection behind a mutex, used from blocking
//! tasks; SQLite's single writer makes sequence numbers visible in order.

use std::path::Path;
use std::sync::{Arc, Mutex};

use doorstep_model::{PartnerKind, RecordKind};
use include_dir::{Dir, include_dir};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params, params_from_iter};
use rusqlite_migration::Migrations;
use uuid::Uuid;

use crate::audit;
use crate::code_key::CodeKey;
use crate::storage::*;

static MIGRATIONS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../../migrations/hub/sqlite");

#[derive(Clone)]
pub struct SqliteStorage {
    conn: Arc<Mutex<Connection>>,
    /// A shared lock on the database's lock file while this hub process has it open, so
    /// `restore` can tell that a hub is using it (`backup::lock_path`).
    _in_use: Arc<std::fs::File>,
    code_key: Arc<CodeKey>,
}

impl SqliteStorage {
    pub fn open(path: &Path) -> StorageResult<SqliteStorage> {
        let in_use = crate::backup::hold_shared(path)?;
        // Beside the database, so `serve` and the commands that issue codes share it.
        let code_key = CodeKey::load_or_create(&crate::code_key::beside(path))?;
        let mut conn = Connection::open(path)?;
        // Before anything writes to it: a newer hub's database is left as it is.
        check_schema(&conn)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a change is on disk before the hub acknowledges it to a device, which then
        // stops resending it; NORMAL could lose acknowledged changes in a power cut.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        Migrations::from_directory(&MIGRATIONS)?.to_latest(&mut conn)?;
        // A hub upgraded from before the audit chain chains its older entries once.
        let chained = chain_unchained_audit(&mut conn)?;
        if chained > 0 {
            tracing::info!(entries = chained, "chained the audit entries written before the audit log was chained");
        }
        Ok(SqliteStorage { conn: Arc::new(Mutex::new(conn)), _in_use: Arc::new(in_use), code_key: Arc::new(code_key) })
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> StorageResult<T> + Send + 'static,
    ) -> StorageResult<T> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().map_err(|_| StorageError::Task("the database lock was poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| StorageError::Task(e.to_string()))?
    }
}

/// The newest schema version (SQLite `user_version`) this build knows: one per migration.
pub fn known_schema_version() -> i64 {
    MIGRATIONS.dirs().count() as i64
}

/// The database's schema version; `NewerSchema` if this build does not know it.
pub fn check_schema(conn: &Connection) -> StorageResult<i64> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let known = known_schema_version();
    if found > known {
        return Err(StorageError::NewerSchema { found, known });
    }
    Ok(found)
}

/// Executes through the statement cache: the hub runs the same few statements for every
/// document, and preparing each anew costs as much as running it.
fn exec(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

fn query_one<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    conn.prepare_cached(sql)?.query_row(params, f)
}

fn next_seq(tx: &Transaction<'_>) -> rusqlite::Result<i64> {
    query_one(tx, "UPDATE hub_sequence SET value = value + 1 WHERE id = 1 RETURNING value", [], |r| r.get(0))
}

/// A decoded column inside a rusqlite row closure (`StorageError::from` gives the decoder's error
/// back as it was).
fn decoded<T>(value: StorageResult<T>) -> rusqlite::Result<T> {
    value.map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

fn kind_of(code: &str) -> rusqlite::Result<RecordKind> {
    decoded(decode::kind(code))
}

fn uuid_of(text: &str) -> rusqlite::Result<Uuid> {
    decoded(decode::uuid(text))
}

fn device_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Device> {
    Ok(Device {
        id: uuid_of(&r.get::<_, String>(0)?)?,
        org_id: uuid_of(&r.get::<_, String>(1)?)?,
        staff_ref: r.get(2)?,
        role: decoded(decode::role(&r.get::<_, String>(3)?))?,
        name: r.get(4)?,
        token_hash: r.get(5)?,
        revoked: r.get::<_, Option<i64>>(6)?.is_some(),
    })
}

fn audit_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        at: r.get(0)?,
        actor: r.get(1)?,
        action: r.get(2)?,
        doc_id: r.get::<_, Option<String>>(3)?.map(|s| uuid_of(&s)).transpose()?,
        allowed: r.get(4)?,
        detail: r.get(5)?,
    })
}

fn chain_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditChainRow> {
    Ok(AuditChainRow {
        seq: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        doc_id: r.get(4)?,
        allowed: r.get(5)?,
        detail: r.get(6)?,
        prev_hash: r.get(7)?,
        hash: r.get(8)?,
    })
}

/// Chains audit entries written before the chain existed (NULL hashes), oldest first, if no
/// entry is chained yet; returns how many. Run when the storage opens (after migrating).
fn chain_unchained_audit(conn: &mut Connection) -> StorageResult<usize> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let started: bool =
        query_one(&tx, "SELECT EXISTS (SELECT 1 FROM audit_log WHERE hash IS NOT NULL)", [], |r| r.get(0))?;
    if started {
        return Ok(0);
    }
    let rows: Vec<AuditChainRow> = {
        let mut stmt = tx.prepare(
            "SELECT seq, at, actor, action, doc_id, allowed, detail, prev_hash, hash FROM audit_log ORDER BY seq",
        )?;
        stmt.query_map([], chain_row)?.collect::<rusqlite::Result<_>>()?
    };
    let mut prev = audit::GENESIS.to_vec();
    for row in &rows {
        let hash = audit::row_hash(&prev, row);
        exec(
            &tx,
            "UPDATE audit_log SET prev_hash = ?2, hash = ?3 WHERE seq = ?1",
            params![row.seq, prev, hash.as_slice()],
        )?;
        prev = hash.to_vec();
    }
    tx.commit()?;
    Ok(rows.len())
}

fn mail_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutgoingMail> {
    Ok(OutgoingMail {
        id: uuid_of(&r.get::<_, String>(0)?)?,
        to: r.get(1)?,
        subject: r.get(2)?,
        body: r.get(3)?,
        queued_at: r.get(4)?,
        attempts: r.get(5)?,
        next_attempt_at: r.get(6)?,
        sent_at: r.get(7)?,
        last_error: r.get(8)?,
    })
}

const WEB_USER_COLUMNS: &str =
    "SELECT id, org_id, email, name, role, password_hash, failed_attempts, locked_until FROM web_users";

fn web_user_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<WebUser> {
    Ok(WebUser {
        id: uuid_of(&r.get::<_, String>(0)?)?,
        org_id: uuid_of(&r.get::<_, String>(1)?)?,
        email: r.get(2)?,
        name: r.get(3)?,
        // The table's CHECK allows only the three codes.
        role: decoded(decode::web_role(&r.get::<_, String>(4)?))?,
        password_hash: r.get(5)?,
        failed_attempts: r.get(6)?,
        locked_until: r.get(7)?,
    })
}

const WEB_USER_STATUS_COLUMNS: &str = "SELECT id, org_id, email, name, role, password_hash, failed_attempts, \
     locked_until, created_at, disabled_at FROM web_users";

fn web_user_status_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<WebUserStatus> {
    Ok(WebUserStatus { user: web_user_from_row(r)?, created_at: r.get(8)?, disabled_at: r.get(9)? })
}

fn placeholders(start: usize, count: usize) -> String {
    (start..start + count).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ")
}

impl HubStorage for SqliteStorage {
    fn code_key(&self) -> &CodeKey {
        &self.code_key
    }

    async fn create_organisation(&self, org: Organisation) -> StorageResult<()> {
        self.run(move |c| {
            exec(
                c,
                "INSERT INTO organisations (id, name, kind, partner_kind) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind,
                     partner_kind = excluded.partner_kind",
                params![org.id.to_string(), org.name, org.kind.code(), org.partner_kind.map(|k| k.code())],
            )?;
            Ok(())
        })
        .await
    }

    async fn organisation(&self, id: Uuid) -> StorageResult<Option<Organisation>> {
        self.run(move |c| {
            Ok(query_one(
                c,
                "SELECT name, kind, partner_kind FROM organisations WHERE id = ?1",
                [id.to_string()],
                |r| {
                    Ok(Organisation {
                        id,
                        name: r.get(0)?,
                        kind: decoded(decode::org_kind(&r.get::<_, String>(1)?))?,
                        partner_kind: r.get::<_, Option<String>>(2)?.as_deref().and_then(PartnerKind::from_code),
                    })
                },
            )
            .optional()?)
        })
        .await
    }

    async fn partner_organisations(&self) -> StorageResult<Vec<Organisation>> {
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, name, partner_kind FROM organisations WHERE kind = 'partner' ORDER BY name, id",
            )?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get::<_, Option<String>>(2)?)))?;
            let mut out = Vec::new();
            for row in rows {
                let (id, name, partner_kind) = row?;
                let Ok(id) = Uuid::parse_str(&id) else { continue };
                out.push(Organisation {
                    id,
                    name,
                    kind: OrgKind::Partner,
                    partner_kind: partner_kind.as_deref().and_then(PartnerKind::from_code),
                });
            }
            Ok(out)
        })
        .await
    }

    async fn create_enrolment_code(&self, code: EnrolmentCode) -> StorageResult<()> {
        self.run(move |c| {
            exec(
                c,
                "INSERT INTO enrolment_codes (code_hash, org_id, staff_ref, role, created_by, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    code.code_hash,
                    code.org_id.to_string(),
                    code.staff_ref,
                    code.role.code(),
                    code.created_by,
                    code.expires_at
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn redeem_enrolment_code(
        &self,
        code_hash: Vec<u8>,
        now: i64,
        device: Device,
    ) -> StorageResult<Option<Device>> {
        self.run(move |c| {
            let tx = c.transaction()?;
            let code: Option<(String, String, String)> = tx
                .query_row(
                    "UPDATE enrolment_codes SET used_at = ?2, device_id = ?3
                     WHERE code_hash = ?1 AND used_at IS NULL AND expires_at > ?2
                     RETURNING org_id, staff_ref, role",
                    params![code_hash, now, device.id.to_string()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let Some((org_id, staff_ref, role)) = code else { return Ok(None) };
            let device = Device { org_id: uuid_of(&org_id)?, staff_ref, role: decoded(decode::role(&role))?, ..device };
            exec(
                &tx,
                "INSERT INTO devices (id, org_id, staff_ref, role, name, token_hash, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    device.id.to_string(),
                    device.org_id.to_string(),
                    device.staff_ref,
                    device.role.code(),
                    device.name,
                    device.token_hash,
                    now
                ],
            )?;
            tx.commit()?;
            Ok(Some(device))
        })
        .await
    }

    async fn device(&self, id: Uuid) -> StorageResult<Option<Device>> {
        self.run(move |c| {
            Ok(query_one(
                c,
                "SELECT id, org_id, staff_ref, role, name, token_hash, revoked_at FROM devices WHERE id = ?1",
                [id.to_string()],
                device_from_row,
            )
            .optional()?)
        })
        .await
    }

    async fn revoke_device(&self, id: Uuid, at: i64) -> StorageResult<bool> {
        self.run(move |c| {
            Ok(exec(
                c,
                "UPDATE devices SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id.to_string(), at],
            )? > 0)
        })
        .await
    }

    async fn devices_of(&self, org: Uuid) -> StorageResult<Vec<Device>> {
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, org_id, staff_ref, role, name, token_hash, revoked_at FROM devices
                 WHERE org_id = ?1 ORDER BY staff_ref, name, id",
            )?;
            let devices = stmt.query_map([org.to_string()], device_from_row)?.collect::<rusqlite::Result<_>>()?;
            Ok(devices)
        })
        .await
    }

    async fn load_document(&self, id: Uuid) -> StorageResult<Option<StoredDocument>> {
        self.run(move |c| {
            let row: Option<(String, String, Vec<u8>, i64)> = c
                .query_row(
                    "SELECT kind, owner_org, snapshot, snapshot_seq FROM documents WHERE id = ?1",
                    [id.to_string()],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?;
            let Some((kind, owner, mut bytes, snapshot_seq)) = row else { return Ok(None) };
            let mut stmt = c.prepare_cached("SELECT bytes FROM changes WHERE doc_id = ?1 AND seq > ?2 ORDER BY seq")?;
            let mut rows = stmt.query(params![id.to_string(), snapshot_seq])?;
            while let Some(row) = rows.next()? {
                bytes.extend_from_slice(&row.get::<_, Vec<u8>>(0)?);
            }
            Ok(Some(StoredDocument { kind: kind_of(&kind)?, owner_org: uuid_of(&owner)?, bytes }))
        })
        .await
    }

    async fn readers(&self, id: Uuid) -> StorageResult<Vec<String>> {
        self.run(move |c| {
            let mut stmt = c.prepare_cached("SELECT principal FROM doc_access WHERE doc_id = ?1 ORDER BY principal")?;
            Ok(stmt.query_map([id.to_string()], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn write_document(&self, write: DocumentWrite) -> StorageResult<()> {
        self.run(move |c| {
            let tx = c.transaction()?;
            let id = write.id.to_string();
            exec(
                &tx,
                "INSERT INTO documents (id, kind, owner_org) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO NOTHING",
                params![id, write.kind.code(), write.owner_org.to_string()],
            )?;
            for (hash, bytes) in &write.changes {
                let held: bool = query_one(
                    &tx,
                    "SELECT EXISTS (SELECT 1 FROM changes WHERE doc_id = ?1 AND hash = ?2)",
                    params![id, hash.as_slice()],
                    |r| r.get(0),
                )?;
                if !held {
                    let seq = next_seq(&tx)?;
                    exec(
                        &tx,
                        "INSERT INTO changes (seq, doc_id, hash, bytes, device_id) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![seq, id, hash.as_slice(), bytes, write.device_id.to_string()],
                    )?;
                }
            }
            if let Some(snapshot) = &write.snapshot {
                exec(
                    &tx,
                    "UPDATE documents SET snapshot = ?2,
                         snapshot_seq = (SELECT COALESCE(MAX(seq), 0) FROM changes WHERE doc_id = ?1)
                     WHERE id = ?1",
                    params![id, snapshot],
                )?;
            }
            grant(&tx, &write.grant.iter().map(|p| (write.id, p.clone())).collect::<Vec<_>>(), Some(write.device_id))?;
            revoke(&tx, &write.revoke.iter().map(|p| (write.id, p.clone())).collect::<Vec<_>>())?;
            if let Some(visit) = &write.visit {
                exec(
                    &tx,
                    "INSERT INTO visit_index (visit_id, owner_org, person_id, day, carer_1, carer_2)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (visit_id) DO UPDATE SET person_id = excluded.person_id, day = excluded.day,
                         carer_1 = excluded.carer_1, carer_2 = excluded.carer_2",
                    params![
                        id,
                        write.owner_org.to_string(),
                        visit.person_id.to_string(),
                        visit.day,
                        visit.carers.first().cloned().unwrap_or_default(),
                        visit.carers.get(1)
                    ],
                )?;
            }
            if let Some(person) = write.note_person {
                exec(
                    &tx,
                    "INSERT INTO note_index (note_id, person_id) VALUES (?1, ?2)
                     ON CONFLICT (note_id) DO UPDATE SET person_id = excluded.person_id",
                    params![id, person.to_string()],
                )?;
            }
            if let Some(facts) = &write.facts {
                exec(
                    &tx,
                    "INSERT INTO doc_facts (doc_id, kind, owner_org, facts) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (doc_id) DO UPDATE SET facts = excluded.facts",
                    params![id, write.kind.code(), write.owner_org.to_string(), facts],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn changes_since_snapshot(&self, id: Uuid) -> StorageResult<u64> {
        self.run(move |c| {
            let n: i64 = query_one(
                c,
                "SELECT COUNT(*) FROM changes c JOIN documents d ON d.id = c.doc_id
                 WHERE c.doc_id = ?1 AND c.seq > d.snapshot_seq",
                [id.to_string()],
                |r| r.get(0),
            )?;
            Ok(n.max(0) as u64)
        })
        .await
    }

    async fn people_on_rota(
        &self,
        org: Uuid,
        staff_ref: String,
        from_day: String,
        to_day: String,
    ) -> StorageResult<Vec<Uuid>> {
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT person_id FROM visit_index WHERE owner_org = ?1 AND carer_1 = ?2 AND day BETWEEN ?3 AND ?4
                 UNION
                 SELECT person_id FROM visit_index WHERE owner_org = ?1 AND carer_2 = ?2 AND day BETWEEN ?3 AND ?4",
            )?;
            let ids = stmt
                .query_map(params![org.to_string(), staff_ref, from_day, to_day], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(ids.iter().map(|s| uuid_of(s)).collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn granted(&self, principal: String, kind: RecordKind) -> StorageResult<Vec<Uuid>> {
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT a.doc_id FROM doc_access a JOIN documents d ON d.id = a.doc_id
                 WHERE a.principal = ?1 AND d.kind = ?2",
            )?;
            let ids = stmt
                .query_map(params![principal, kind.code()], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(ids.iter().map(|s| uuid_of(s)).collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn history_of(&self, person: Uuid) -> StorageResult<Vec<(Uuid, RecordKind)>> {
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT visit_id, 'visit' FROM visit_index WHERE person_id = ?1
                 UNION ALL SELECT note_id, 'note' FROM note_index WHERE person_id = ?1",
            )?;
            let rows = stmt
                .query_map([person.to_string()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows.iter().map(|(id, kind)| Ok((uuid_of(id)?, kind_of(kind)?))).collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn set_access(&self, grants: Vec<(Uuid, String)>, revokes: Vec<(Uuid, String)>) -> StorageResult<()> {
        self.run(move |c| {
            let tx = c.transaction()?;
            grant(&tx, &grants, None)?;
            revoke(&tx, &revokes)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn rota_departures(&self, principal: String) -> StorageResult<Vec<(Uuid, i64)>> {
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT person_id, left_at FROM rota_departures WHERE principal = ?1 ORDER BY person_id",
            )?;
            let rows = stmt
                .query_map([principal], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows.iter().map(|(id, at)| Ok((uuid_of(id)?, *at))).collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn set_rota_departures(
        &self,
        principal: String,
        left: Vec<Uuid>,
        at: i64,
        done: Vec<Uuid>,
    ) -> StorageResult<()> {
        self.run(move |c| {
            let tx = c.transaction()?;
            for person in &done {
                exec(
                    &tx,
                    "DELETE FROM rota_departures WHERE principal = ?1 AND person_id = ?2",
                    params![principal, person.to_string()],
                )?;
            }
            for person in &left {
                exec(
                    &tx,
                    "INSERT INTO rota_departures (principal, person_id, left_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (principal, person_id) DO NOTHING",
                    params![principal, person.to_string(), at],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn feed(
        &self,
        principals: Vec<String>,
        cursor: u64,
        exclude_device: Uuid,
        limit: u32,
    ) -> StorageResult<Vec<FeedItem>> {
        self.run(move |c| {
            let n = principals.len();
            let cursor = cursor as i64;
            let device = exclude_device.to_string();
            let mut items = Vec::new();
            let mut args: Vec<rusqlite::types::Value> =
                principals.iter().map(|p| rusqlite::types::Value::Text(p.clone())).collect();
            args.push(cursor.into());
            args.push(device.clone().into());
            args.push(i64::from(limit).into());
            let p = placeholders(1, n);
            let (cur, dev, lim) = (n + 1, n + 2, n + 3);

            let mut grants = c.prepare(&format!(
                "SELECT a.granted_seq, a.doc_id, d.kind FROM doc_access a JOIN documents d ON d.id = a.doc_id
                 WHERE a.principal IN ({p}) AND a.granted_seq > ?{cur} AND a.via_device IS NOT ?{dev}
                 ORDER BY a.granted_seq LIMIT ?{lim}"
            ))?;
            let rows = grants.query_map(params_from_iter(args.iter()), |r| {
                Ok(FeedItem::Grant {
                    seq: r.get::<_, i64>(0)? as u64,
                    id: uuid_of(&r.get::<_, String>(1)?)?,
                    kind: kind_of(&r.get::<_, String>(2)?)?,
                })
            })?;
            items.extend(rows.collect::<rusqlite::Result<Vec<_>>>()?);

            let mut changes = c.prepare(&format!(
                // DISTINCT before LIMIT: a change reached through two principals must not
                // take two places in the page (the cursor would then skip one).
                "SELECT DISTINCT c.seq, c.doc_id, d.kind, c.bytes FROM doc_access a
                 JOIN changes c ON c.doc_id = a.doc_id AND c.seq > ?{cur} AND c.seq > a.granted_seq
                 JOIN documents d ON d.id = a.doc_id
                 WHERE a.principal IN ({p}) AND c.device_id != ?{dev}
                 ORDER BY c.seq LIMIT ?{lim}"
            ))?;
            let rows = changes.query_map(params_from_iter(args.iter()), |r| {
                Ok(FeedItem::Change {
                    seq: r.get::<_, i64>(0)? as u64,
                    id: uuid_of(&r.get::<_, String>(1)?)?,
                    kind: kind_of(&r.get::<_, String>(2)?)?,
                    bytes: r.get(3)?,
                })
            })?;
            items.extend(rows.collect::<rusqlite::Result<Vec<_>>>()?);

            let mut purges = c.prepare(&format!(
                "SELECT seq, doc_id, kind FROM purges WHERE principal IN ({p}) AND seq > ?{cur} AND ?{dev} IS NOT NULL
                 ORDER BY seq LIMIT ?{lim}"
            ))?;
            let rows = purges.query_map(params_from_iter(args.iter()), |r| {
                Ok(FeedItem::Purge {
                    seq: r.get::<_, i64>(0)? as u64,
                    id: uuid_of(&r.get::<_, String>(1)?)?,
                    kind: kind_of(&r.get::<_, String>(2)?)?,
                })
            })?;
            items.extend(rows.collect::<rusqlite::Result<Vec<_>>>()?);

            // A change reached through two principals (a manager who is also a carer) once.
            items.sort_by_key(FeedItem::seq);
            items.dedup_by_key(|i| (i.seq(), matches!(i, FeedItem::Purge { .. })));
            items.truncate(limit as usize);
            Ok(items)
        })
        .await
    }

    async fn max_seq(&self) -> StorageResult<u64> {
        self.run(
            |c| Ok(query_one(c, "SELECT value FROM hub_sequence WHERE id = 1", [], |r| r.get::<_, i64>(0))? as u64),
        )
        .await
    }

    async fn epoch(&self) -> StorageResult<String> {
        self.run(|c| Ok(query_one(c, "SELECT epoch FROM hub_sequence WHERE id = 1", [], |r| r.get(0))?)).await
    }

    async fn held_back_retry(&self, org: Uuid) -> StorageResult<i64> {
        self.run(move |c| {
            let mut stmt = c.prepare_cached("SELECT held_back_retry FROM organisations WHERE id = ?1")?;
            Ok(stmt.query_row([org.to_string()], |r| r.get(0)).optional()?.unwrap_or(0))
        })
        .await
    }

    async fn ask_held_back_retry(&self, org: Uuid) -> StorageResult<i64> {
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "UPDATE organisations SET held_back_retry = held_back_retry + 1 WHERE id = ?1 RETURNING held_back_retry",
            )?;
            Ok(stmt.query_row([org.to_string()], |r| r.get(0)).optional()?.unwrap_or(0))
        })
        .await
    }

    async fn set_held_back(
        &self,
        device: Uuid,
        records: Vec<(Uuid, RecordKind, String)>,
        now: i64,
    ) -> StorageResult<Vec<Uuid>> {
        self.run(move |c| {
            let device = device.to_string();
            let before: Vec<(String, String, bool)> = c
                .prepare_cached(
                    "SELECT record_id, reason, discard_asked_at IS NOT NULL FROM held_back_records WHERE device_id = ?1",
                )?
                .query_map([&device], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let wanted: Vec<(String, RecordKind, String)> =
                records.into_iter().map(|(id, kind, reason)| (id.to_string(), kind, reason)).collect();
            let change = held_back_change(&before, &wanted);
            if change.changed {
                let tx = c.transaction()?;
                for id in &change.gone {
                    exec(&tx, "DELETE FROM held_back_records WHERE device_id = ?1 AND record_id = ?2", params![device, id])?;
                }
                for (id, kind, reason) in &wanted {
                    exec(
                        &tx,
                        "INSERT INTO held_back_records (device_id, record_id, kind, reason, since)
                         VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (device_id, record_id) DO UPDATE SET kind = excluded.kind, reason = excluded.reason",
                        params![device, id, kind.code(), reason, now],
                    )?;
                }
                tx.commit()?;
            }
            Ok(change.discard)
        })
        .await
    }

    async fn set_agreement(&self, a: Agreement) -> StorageResult<()> {
        self.run(move |c| {
            exec(
                c,
                "INSERT INTO commissioning_agreements (commissioner_org, provider_org, districts, created_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (commissioner_org, provider_org) DO UPDATE SET districts = excluded.districts",
                rusqlite::params![
                    a.commissioner.to_string(),
                    a.provider.to_string(),
                    a.districts.join(" "),
                    a.created_at
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn agreements_of(&self, commissioner: Uuid) -> StorageResult<Vec<Agreement>> {
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT provider_org, districts, created_at FROM commissioning_agreements
                 WHERE commissioner_org = ?1 ORDER BY provider_org",
            )?;
            let rows = stmt.query_map([commissioner.to_string()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
            })?;
            let mut agreements = Vec::new();
            for row in rows {
                let (provider, districts, created_at) = row?;
                agreements.push(Agreement {
                    commissioner,
                    provider: decode::uuid(&provider)?,
                    districts: districts.split_whitespace().map(str::to_string).collect(),
                    created_at,
                });
            }
            Ok(agreements)
        })
        .await
    }

    async fn publish_week(&self, commissioner: Uuid, week: String, counts: String, at: i64) -> StorageResult<()> {
        self.run(move |c| {
            exec(
                c,
                "INSERT INTO trend_snapshots (commissioner_org, week, counts, published_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (commissioner_org, week) DO NOTHING",
                rusqlite::params![commissioner.to_string(), week, counts, at],
            )?;
            Ok(())
        })
        .await
    }

    async fn published_weeks(&self, commissioner: Uuid) -> StorageResult<Vec<(String, String)>> {
        self.run(move |c| {
            let mut stmt =
                c.prepare_cached("SELECT week, counts FROM trend_snapshots WHERE commissioner_org = ?1 ORDER BY week")?;
            let rows = stmt.query_map([commissioner.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn set_partner_listing(&self, org: Uuid, listing: String, at: i64) -> StorageResult<()> {
        self.run(move |c| {
            exec(
                c,
                "INSERT INTO partner_listings (org_id, listing, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (org_id) DO UPDATE SET listing = excluded.listing, updated_at = excluded.updated_at",
                rusqlite::params![org.to_string(), listing, at],
            )?;
            Ok(())
        })
        .await
    }

    async fn partner_listings(&self) -> StorageResult<Vec<(Uuid, String)>> {
        self.run(move |c| {
            let mut stmt = c.prepare_cached("SELECT org_id, listing FROM partner_listings ORDER BY org_id")?;
            let rows = stmt.query_map([], |r| Ok((uuid_of(&r.get::<_, String>(0)?)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn queue_mail(&self, mail: OutgoingMail) -> StorageResult<()> {
        self.run(move |c| {
            exec(
                c,
                "INSERT INTO mail_outbox (id, to_address, subject, body, queued_at, attempts, next_attempt_at, last_error)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, '') ON CONFLICT (id) DO NOTHING",
                rusqlite::params![mail.id.to_string(), mail.to, mail.subject, mail.body, mail.queued_at, mail.next_attempt_at],
            )?;
            Ok(())
        })
        .await
    }

    async fn mail_due(&self, now: i64, limit: u32) -> StorageResult<Vec<OutgoingMail>> {
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, to_address, subject, body, queued_at, attempts, next_attempt_at, sent_at, last_error FROM mail_outbox
                 WHERE sent_at IS NULL AND next_attempt_at <= ?1 ORDER BY next_attempt_at, queued_at LIMIT ?2",
            )?;
            let rows = stmt.query_map(rusqlite::params![now, limit], mail_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn mail_attempted(&self, id: Uuid, at: i64, error: Option<String>, retry_at: i64) -> StorageResult<()> {
        self.run(move |c| {
            match error {
                None => exec(
                    c,
                    "UPDATE mail_outbox SET attempts = attempts + 1, sent_at = ?2 WHERE id = ?1",
                    rusqlite::params![id.to_string(), at],
                )?,
                Some(e) => exec(
                    c,
                    "UPDATE mail_outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3 WHERE id = ?1",
                    rusqlite::params![id.to_string(), e, retry_at],
                )?,
            };
            Ok(())
        })
        .await
    }

    async fn mail_log(&self, limit: u32) -> StorageResult<Vec<OutgoingMail>> {
        self.run(move |c| {
            let mut stmt =
                c.prepare_cached("SELECT id, to_address, subject, body, queued_at, attempts, next_attempt_at, sent_at, last_error FROM mail_outbox ORDER BY queued_at DESC, id LIMIT ?1")?;
            let rows = stmt.query_map([limit], mail_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn held_back_records(&self, org: Uuid) -> StorageResult<Vec<HeldBackRow>> {
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT h.device_id, h.record_id, h.kind, h.reason, h.since, h.discard_asked_at IS NOT NULL
                 FROM held_back_records h JOIN devices d ON d.id = h.device_id
                 WHERE d.org_id = ?1 ORDER BY h.device_id, h.since, h.record_id",
            )?;
            let rows = stmt.query_map([org.to_string()], |r| {
                Ok(HeldBackRow {
                    device: uuid_of(&r.get::<_, String>(0)?)?,
                    record: uuid_of(&r.get::<_, String>(1)?)?,
                    kind: decoded(decode::kind(&r.get::<_, String>(2)?))?,
                    reason: r.get(3)?,
                    since: r.get(4)?,
                    discard_asked: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn ask_discard(&self, device: Uuid, record: Uuid, at: i64) -> StorageResult<bool> {
        self.run(move |c| {
            let changed = exec(
                c,
                "UPDATE held_back_records SET discard_asked_at = COALESCE(discard_asked_at, ?3)
                 WHERE device_id = ?1 AND record_id = ?2",
                params![device.to_string(), record.to_string(), at],
            )?;
            Ok(changed > 0)
        })
        .await
    }

    async fn doc_facts(
        &self,
        kind: RecordKind,
        owner: Option<Uuid>,
        principal: Option<String>,
    ) -> StorageResult<Vec<DocFactsRow>> {
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT f.doc_id, f.owner_org, f.facts FROM doc_facts f
                 WHERE f.kind = ?1 AND (?2 IS NULL OR f.owner_org = ?2)
                   AND (?3 IS NULL OR EXISTS (SELECT 1 FROM doc_access a WHERE a.principal = ?3 AND a.doc_id = f.doc_id))",
            )?;
            Ok(stmt
                .query_map(params![kind.code(), owner.map(|o| o.to_string()), principal], |r| {
                    Ok(DocFactsRow {
                        doc_id: uuid_of(&r.get::<_, String>(0)?)?,
                        owner_org: uuid_of(&r.get::<_, String>(1)?)?,
                        facts: r.get(2)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn documents_without_facts(&self, kinds: Vec<RecordKind>) -> StorageResult<Vec<Uuid>> {
        self.run(move |c| {
            let codes: Vec<&str> = kinds.iter().map(|k| k.code()).collect();
            let sql = format!(
                "SELECT id FROM documents WHERE kind IN ({}) AND id NOT IN (SELECT doc_id FROM doc_facts)",
                placeholders(1, codes.len())
            );
            let mut stmt = c.prepare(&sql)?;
            let ids = stmt.query_map(params_from_iter(codes), |r| r.get::<_, String>(0))?;
            Ok(ids.map(|id| id.and_then(|id| uuid_of(&id))).collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn put_doc_facts(&self, id: Uuid, kind: RecordKind, owner: Uuid, facts: String) -> StorageResult<()> {
        self.run(move |c| {
            exec(
                c,
                "INSERT INTO doc_facts (doc_id, kind, owner_org, facts) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (doc_id) DO UPDATE SET facts = excluded.facts",
                params![id.to_string(), kind.code(), owner.to_string(), facts],
            )?;
            Ok(())
        })
        .await
    }

    async fn create_web_user(&self, user: WebUser) -> StorageResult<()> {
        self.run(move |c| {
            let inserted = exec(
                c,
                "INSERT INTO web_users (id, org_id, email, name, role, password_hash, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (email) DO NOTHING",
                params![
                    user.id.to_string(),
                    user.org_id.to_string(),
                    user.email,
                    user.name,
                    user.role.code(),
                    user.password_hash,
                    chrono::Utc::now().timestamp_millis()
                ],
            )?;
            if inserted == 0 {
                return Err(StorageError::Conflict(format!("{} already has an account", user.email)));
            }
            Ok(())
        })
        .await
    }

    async fn web_user(&self, id: Uuid) -> StorageResult<Option<WebUser>> {
        self.run(move |c| {
            let sql = format!("{WEB_USER_COLUMNS} WHERE id = ?1 AND disabled_at IS NULL");
            Ok(query_one(c, &sql, [id.to_string()], web_user_from_row).optional()?)
        })
        .await
    }

    async fn web_user_by_email(&self, email: String) -> StorageResult<Option<WebUser>> {
        self.run(move |c| {
            let sql = format!("{WEB_USER_COLUMNS} WHERE email = ?1 AND disabled_at IS NULL");
            Ok(query_one(c, &sql, [email], web_user_from_row).optional()?)
        })
        .await
    }

    async fn claim_sign_in_attempt(
        &self,
        id: Uuid,
        max_failures: u32,
        lock_until: i64,
        now: i64,
    ) -> StorageResult<SignInClaim> {
        self.run(move |c| {
            let row: Option<Option<i64>> = query_one(
                c,
                "UPDATE web_users SET
                     failed_attempts = CASE WHEN failed_attempts + 1 >= ?2 THEN 0 ELSE failed_attempts + 1 END,
                     locked_until = CASE WHEN failed_attempts + 1 >= ?2 THEN ?3 ELSE locked_until END
                 WHERE id = ?1 AND (locked_until IS NULL OR locked_until <= ?4) RETURNING locked_until",
                params![id.to_string(), max_failures, lock_until, now],
                |r| r.get(0),
            )
            .optional()?;
            Ok(match row {
                None => SignInClaim::Locked,
                Some(until) => SignInClaim::Claimed { locks: until == Some(lock_until) },
            })
        })
        .await
    }

    async fn clear_sign_in_failures(&self, id: Uuid) -> StorageResult<()> {
        self.run(move |c| {
            exec(c, "UPDATE web_users SET failed_attempts = 0, locked_until = NULL WHERE id = ?1", [id.to_string()])?;
            Ok(())
        })
        .await
    }

    async fn create_session(&self, session: WebSession) -> StorageResult<()> {
        self.run(move |c| {
            exec(
                c,
                "INSERT INTO web_sessions (token_hash, user_id, csrf, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![session.token_hash, session.user_id.to_string(), session.csrf, session.expires_at],
            )?;
            Ok(())
        })
        .await
    }

    async fn session(&self, token_hash: Vec<u8>) -> StorageResult<Option<WebSession>> {
        self.run(move |c| {
            Ok(query_one(
                c,
                "SELECT user_id, csrf, expires_at FROM web_sessions WHERE token_hash = ?1",
                [&token_hash],
                |r| {
                    Ok(WebSession {
                        token_hash: token_hash.clone(),
                        user_id: uuid_of(&r.get::<_, String>(0)?)?,
                        csrf: r.get(1)?,
                        expires_at: r.get(2)?,
                    })
                },
            )
            .optional()?)
        })
        .await
    }

    async fn delete_session(&self, token_hash: Vec<u8>) -> StorageResult<()> {
        self.run(move |c| {
            exec(c, "DELETE FROM web_sessions WHERE token_hash = ?1", [token_hash])?;
            Ok(())
        })
        .await
    }

    async fn delete_sessions_of(&self, user: Uuid) -> StorageResult<()> {
        self.run(move |c| {
            exec(c, "DELETE FROM web_sessions WHERE user_id = ?1", [user.to_string()])?;
            Ok(())
        })
        .await
    }

    async fn delete_expired_sessions(&self, now: i64) -> StorageResult<()> {
        self.run(move |c| {
            exec(c, "DELETE FROM web_sessions WHERE expires_at <= ?1", [now])?;
            Ok(())
        })
        .await
    }

    async fn audit_of_owner(&self, org: Uuid, limit: u32) -> StorageResult<Vec<AuditEntry>> {
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT at, actor, action, doc_id, allowed, detail FROM audit_log
                 WHERE doc_id IN (SELECT id FROM documents WHERE owner_org = ?1) ORDER BY seq DESC LIMIT ?2",
            )?;
            Ok(stmt
                .query_map(params![org.to_string(), i64::from(limit)], audit_from_row)?
                .collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn audit(&self, entry: AuditEntry) -> StorageResult<()> {
        if !entry.allowed {
            crate::metrics::global().denied(&entry.action);
        }
        self.run(move |c| {
            // Immediate: take the write lock before reading the previous hash, so another
            // process on the same file cannot append in between.
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let last: Option<(i64, Option<Vec<u8>>)> =
                query_one(&tx, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            let seq = last.as_ref().map_or(1, |(seq, _)| seq + 1);
            let prev_hash = last.and_then(|(_, hash)| hash).unwrap_or_else(|| audit::GENESIS.to_vec());
            let doc_id = entry.doc_id.map(|d| d.to_string());
            let hash = audit::entry_hash(
                &prev_hash,
                seq,
                entry.at,
                &entry.actor,
                &entry.action,
                doc_id.as_deref(),
                entry.allowed,
                &entry.detail,
            );
            exec(
                &tx,
                "INSERT INTO audit_log (seq, at, actor, action, doc_id, allowed, detail, prev_hash, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    seq,
                    entry.at,
                    entry.actor,
                    entry.action,
                    doc_id,
                    entry.allowed,
                    entry.detail,
                    prev_hash,
                    hash.as_slice()
                ],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn audit_chain_rows(&self, after: i64, limit: u32) -> StorageResult<Vec<AuditChainRow>> {
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT seq, at, actor, action, doc_id, allowed, detail, prev_hash, hash FROM audit_log
                 WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?;
            Ok(stmt.query_map(params![after, i64::from(limit)], chain_row)?.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn audit_log(&self, limit: u32) -> StorageResult<Vec<AuditEntry>> {
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT at, actor, action, doc_id, allowed, detail FROM audit_log ORDER BY seq DESC LIMIT ?1",
            )?;
            Ok(stmt.query_map([i64::from(limit)], audit_from_row)?.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn organisations(&self) -> StorageResult<Vec<Organisation>> {
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, name, kind, partner_kind FROM organisations
                 ORDER BY kind = 'partner', name, id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(Organisation {
                    id: uuid_of(&r.get::<_, String>(0)?)?,
                    name: r.get(1)?,
                    kind: decoded(decode::org_kind(&r.get::<_, String>(2)?))?,
                    partner_kind: r.get::<_, Option<String>>(3)?.as_deref().and_then(PartnerKind::from_code),
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn device_statuses(&self, org: Option<Uuid>) -> StorageResult<Vec<DeviceStatus>> {
        self.run(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, org_id, staff_ref, role, name, token_hash, revoked_at,
                        created_at, last_sync_at, last_held_back, last_refused
                 FROM devices WHERE ?1 IS NULL OR org_id = ?1 ORDER BY org_id, staff_ref, name, id",
            )?;
            let rows = stmt.query_map([org.map(|o| o.to_string())], |r| {
                Ok(DeviceStatus {
                    device: device_from_row(r)?,
                    enrolled_at: r.get(7)?,
                    revoked_at: r.get(6)?,
                    last_sync_at: r.get(8)?,
                    last_held_back: r.get(9)?,
                    last_refused: r.get(10)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn record_sync(&self, device: Uuid, at: i64, held_back: u32, refused: u32) -> StorageResult<()> {
        self.run(move |c| {
            exec(
                c,
                "UPDATE devices SET last_sync_at = ?2, last_held_back = ?3, last_refused = ?4
                 WHERE id = ?1 AND (last_sync_at IS NULL OR last_sync_at <= ?2 - 60000
                     OR last_held_back != ?3 OR last_refused != ?4)",
                params![device.to_string(), at, held_back, refused],
            )?;
            Ok(())
        })
        .await
    }

    async fn web_users_of(&self, org: Uuid) -> StorageResult<Vec<WebUserStatus>> {
        self.run(move |c| {
            let mut stmt = c.prepare_cached(&format!("{WEB_USER_STATUS_COLUMNS} WHERE org_id = ?1 ORDER BY email"))?;
            Ok(stmt.query_map([org.to_string()], web_user_status_from_row)?.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn web_user_status(&self, email: String) -> StorageResult<Option<WebUserStatus>> {
        self.run(move |c| {
            let sql = format!("{WEB_USER_STATUS_COLUMNS} WHERE email = ?1");
            Ok(query_one(c, &sql, [email], web_user_status_from_row).optional()?)
        })
        .await
    }

    async fn set_web_user_disabled(&self, id: Uuid, at: Option<i64>) -> StorageResult<bool> {
        self.run(move |c| {
            Ok(exec(c, "UPDATE web_users SET disabled_at = ?2 WHERE id = ?1", params![id.to_string(), at])? > 0)
        })
        .await
    }

    async fn set_web_user_password(&self, id: Uuid, hash: String) -> StorageResult<bool> {
        self.run(move |c| {
            Ok(exec(
                c,
                "UPDATE web_users SET password_hash = ?2, failed_attempts = 0, locked_until = NULL WHERE id = ?1",
                params![id.to_string(), hash],
            )? > 0)
        })
        .await
    }
}

fn grant(tx: &Transaction<'_>, grants: &[(Uuid, String)], via: Option<Uuid>) -> rusqlite::Result<()> {
    for (doc, principal) in grants {
        let held: bool = query_one(
            tx,
            "SELECT EXISTS (SELECT 1 FROM doc_access WHERE principal = ?1 AND doc_id = ?2)",
            params![principal, doc.to_string()],
            |r| r.get(0),
        )?;
        if !held {
            let seq = next_seq(tx)?;
            exec(
                tx,
                "INSERT INTO doc_access (principal, doc_id, granted_seq, via_device) VALUES (?1, ?2, ?3, ?4)",
                params![principal, doc.to_string(), seq, via.map(|d| d.to_string())],
            )?;
        }
    }
    Ok(())
}

fn revoke(tx: &Transaction<'_>, revokes: &[(Uuid, String)]) -> rusqlite::Result<()> {
    for (doc, principal) in revokes {
        let kind: Option<String> = tx
            .query_row(
                "DELETE FROM doc_access WHERE principal = ?1 AND doc_id = ?2
                 RETURNING (SELECT kind FROM documents WHERE id = ?2)",
                params![principal, doc.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(kind) = kind {
            let seq = next_seq(tx)?;
            exec(
                tx,
                "INSERT INTO purges (seq, principal, doc_id, kind) VALUES (?1, ?2, ?3, ?4)",
                params![seq, principal, doc.to_string(), kind],
            )?;
        }
    }
    Ok(())
}
