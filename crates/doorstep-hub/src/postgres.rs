//! The hub on PostgreSQL: several hub processes can share one database. A deadpool pool of
//! tokio-postgres connections; the schema (migrations/hub/postgres) mirrors SQLite's.
//!
//! Sequence numbers: every transaction that allocates them (a document write, an access
//! change) first takes one transaction-scoped advisory lock, so the transaction that allocates
//! seq N has committed — and is visible — before any other allocates N+1, across processes.
//! The counter is a row (`hub_sequence`) advanced under that lock, so `max_seq` only ever
//! reports committed numbers. The feed reads in a single statement, so it sees one snapshot.

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Transaction};
use doorstep_model::PartnerKind;
use doorstep_model::RecordKind;
use tokio_postgres::Row;
use uuid::Uuid;

use std::sync::Arc;

use crate::audit;
use crate::code_key::CodeKey;
use crate::pg_tls::PgTarget;
use crate::storage::*;

mod embedded {
    refinery::embed_migrations!("../../migrations/hub/postgres");
}

/// The advisory lock every sequence-allocating transaction holds until it commits
/// (`b"doorstep"` as a big-endian integer).
pub(crate) const SEQUENCE_LOCK: i64 = i64::from_be_bytes(*b"doorstep");
/// The advisory lock every audit append holds until it commits, so the hash chain never forks.
pub(crate) const AUDIT_LOCK: i64 = i64::from_be_bytes(*b"doorstau");
/// The advisory lock (session-scoped) held while migrating, so hub processes starting
/// together do not migrate at once.
const MIGRATION_LOCK: i64 = i64::from_be_bytes(*b"doorstmg");

const POOL_SIZE: usize = 16;

#[derive(Clone)]
pub struct PostgresStorage {
    pool: Pool,
    code_key: Arc<CodeKey>,
}

impl PostgresStorage {
    /// Connects to `url` (`postgres://user:password@host:port/database`, with `sslmode` and
    /// `sslrootcert` as in [`crate::pg_tls`]), migrating the database to the latest schema first.
    pub async fn connect(url: &str) -> StorageResult<PostgresStorage> {
        let target = PgTarget::parse(url)?;
        migrate(&target).await?;
        let manager =
            Manager::from_config(target.config, target.tls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool =
            Pool::builder(manager).max_size(POOL_SIZE).build().map_err(|e| StorageError::Pool(with_causes(&e)))?;
        // Fail now, not on the first request, if the database cannot be reached.
        let mut c = pool.get().await.map_err(|e| StorageError::Pool(with_causes(&e)))?;
        // A hub upgraded from before the audit chain chains its older entries once.
        let chained = chain_unchained_audit(&mut c).await?;
        if chained > 0 {
            tracing::info!(entries = chained, "chained the audit entries written before the audit log was chained");
        }
        drop(c);
        // A key of its own until `with_code_key` gives the hub's file (`server::with_storage`).
        Ok(PostgresStorage { pool, code_key: Arc::new(CodeKey::ephemeral()) })
    }

    /// The same storage with the hub's enrolment-code key (`code_key::for_postgres`).
    pub fn with_code_key(self, key: CodeKey) -> PostgresStorage {
        PostgresStorage { code_key: Arc::new(key), ..self }
    }

    async fn client(&self) -> StorageResult<Object> {
        self.pool.get().await.map_err(|e| StorageError::Pool(with_causes(&e)))
    }
}

/// Runs the embedded migrations on a dedicated connection (refinery wants a plain
/// `&mut tokio_postgres::Client`).
async fn migrate(target: &PgTarget) -> StorageResult<()> {
    let (mut client, driver) = target.connect_one().await.map_err(|e| connect_error(&e))?;
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]).await?;
    let report = match newer_schema(&client).await {
        // Left untouched: an older hub must not run against what a newer one wrote.
        Ok(Some(newer)) => Err(newer),
        Ok(None) => embedded::migrations::runner()
            .run_async(&mut client)
            .await
            .map_err(|e| StorageError::PostgresMigration(with_causes(&e))),
        Err(e) => Err(e.into()),
    };
    // Closing the connection would release the lock anyway; say so explicitly.
    let unlocked = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]).await;
    drop(client);
    let _ = driver.await;
    let report = report?;
    for migration in report.applied_migrations() {
        tracing::info!("applied PostgreSQL migration {migration}");
    }
    unlocked?;
    Ok(())
}

/// The newest migration this build knows.
pub fn known_schema_version() -> i64 {
    embedded::migrations::runner().get_migrations().iter().map(|m| i64::from(m.version())).max().unwrap_or(0)
}

/// `NewerSchema` if the database was migrated past what this build knows.
async fn newer_schema(client: &tokio_postgres::Client) -> Result<Option<StorageError>, tokio_postgres::Error> {
    let row = client.query_one("SELECT to_regclass('refinery_schema_history') IS NOT NULL", &[]).await?;
    if !row.get::<_, bool>(0) {
        return Ok(None);
    }
    let row = client.query_one("SELECT COALESCE(MAX(version), 0)::BIGINT FROM refinery_schema_history", &[]).await?;
    let (found, known) = (row.get::<_, i64>(0), known_schema_version());
    Ok((found > known).then_some(StorageError::NewerSchema { found, known }))
}

/// An error and its causes: tokio-postgres says only "db error", with the server's message in
/// the error's source.
pub(crate) fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        cause = c.source();
    }
    text
}

/// A failed connection, with the server's or the TLS layer's reason and, for a certificate
/// refused, what to check.
fn connect_error(e: &tokio_postgres::Error) -> StorageError {
    let text = with_causes(e);
    let hint = if text.contains("UnknownIssuer") {
        " (the URL's sslrootcert did not sign the server's certificate)"
    } else if text.contains("not valid for name") {
        " (sslmode=verify-full: connect by a name the server's certificate holds, or use verify-ca)"
    } else {
        ""
    };
    StorageError::PostgresConnect(format!("{text}{hint}"))
}

/// Waits for the sequence lock: call first in every transaction that allocates sequence numbers.
async fn lock_sequence(tx: &Transaction<'_>) -> Result<(), tokio_postgres::Error> {
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SEQUENCE_LOCK]).await?;
    Ok(())
}

/// The next sequence number (under the sequence lock, so numbers commit in order).
async fn next_seq(tx: &Transaction<'_>) -> Result<i64, tokio_postgres::Error> {
    let stmt = tx.prepare_cached("UPDATE hub_sequence SET value = value + 1 WHERE id = 1 RETURNING value").await?;
    Ok(tx.query_one(&stmt, &[]).await?.get(0))
}

fn kind_of(code: &str) -> StorageResult<RecordKind> {
    decode::kind(code)
}

fn uuid_of(text: &str) -> StorageResult<Uuid> {
    decode::uuid(text)
}

fn seq_of(value: i64) -> u64 {
    value.max(0) as u64
}

fn device_from_row(r: &Row) -> StorageResult<Device> {
    Ok(Device {
        id: uuid_of(r.get(0))?,
        org_id: uuid_of(r.get(1))?,
        staff_ref: r.get(2),
        role: decode::role(r.get(3))?,
        name: r.get(4),
        token_hash: r.get(5),
        revoked: r.get::<_, Option<i64>>(6).is_some(),
    })
}

fn chain_row(r: &Row) -> AuditChainRow {
    AuditChainRow {
        seq: r.get(0),
        at: r.get(1),
        actor: r.get(2),
        action: r.get(3),
        doc_id: r.get(4),
        allowed: r.get(5),
        detail: r.get(6),
        prev_hash: r.get(7),
        hash: r.get(8),
    }
}

/// Chains audit entries written before the chain existed (NULL hashes), oldest first, if no
/// entry is chained yet; returns how many. Run when the storage connects (after migrating),
/// under the audit lock, so hubs starting together chain them once.
async fn chain_unchained_audit(c: &mut Object) -> StorageResult<usize> {
    let tx = c.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&AUDIT_LOCK]).await?;
    let started: bool =
        tx.query_one("SELECT EXISTS (SELECT 1 FROM audit_log WHERE hash IS NOT NULL)", &[]).await?.get(0);
    if started {
        return Ok(0);
    }
    let rows: Vec<AuditChainRow> = tx
        .query(
            "SELECT seq, at, actor, action, doc_id, allowed, detail, prev_hash, hash FROM audit_log ORDER BY seq",
            &[],
        )
        .await?
        .iter()
        .map(chain_row)
        .collect();
    let update = tx.prepare("UPDATE audit_log SET prev_hash = $2, hash = $3 WHERE seq = $1").await?;
    let mut prev = audit::GENESIS.to_vec();
    for row in &rows {
        let hash = audit::row_hash(&prev, row);
        tx.execute(&update, &[&row.seq, &prev, &hash.as_slice()]).await?;
        prev = hash.to_vec();
    }
    tx.commit().await?;
    Ok(rows.len())
}

fn audit_from_row(r: &Row) -> StorageResult<AuditEntry> {
    Ok(AuditEntry {
        at: r.get(0),
        actor: r.get(1),
        action: r.get(2),
        doc_id: r.get::<_, Option<&str>>(3).map(uuid_of).transpose()?,
        allowed: r.get(4),
        detail: r.get(5),
    })
}

const WEB_USER_COLUMNS: &str =
    "SELECT id, org_id, email, name, role, password_hash, failed_attempts, locked_until FROM web_users";

fn mail_from_row(r: &Row) -> StorageResult<OutgoingMail> {
    Ok(OutgoingMail {
        id: uuid_of(r.get(0))?,
        to: r.get(1),
        subject: r.get(2),
        body: r.get(3),
        queued_at: r.get(4),
        attempts: u32::try_from(r.get::<_, i32>(5)).unwrap_or(0),
        next_attempt_at: r.get(6),
        sent_at: r.get(7),
        last_error: r.get(8),
    })
}

fn web_user_from_row(r: &Row) -> StorageResult<WebUser> {
    Ok(WebUser {
        id: uuid_of(r.get(0))?,
        org_id: uuid_of(r.get(1))?,
        email: r.get(2),
        name: r.get(3),
        // The table's CHECK allows only the three codes.
        role: decode::web_role(r.get(4))?,
        password_hash: r.get(5),
        failed_attempts: u32::try_from(r.get::<_, i64>(6)).unwrap_or(u32::MAX),
        locked_until: r.get(7),
    })
}

const WEB_USER_STATUS_COLUMNS: &str = "SELECT id, org_id, email, name, role, password_hash, failed_attempts, \
     locked_until, created_at, disabled_at FROM web_users";

fn web_user_status_from_row(r: &Row) -> StorageResult<WebUserStatus> {
    Ok(WebUserStatus { user: web_user_from_row(r)?, created_at: r.get(8), disabled_at: r.get(9) })
}

impl HubStorage for PostgresStorage {
    fn code_key(&self) -> &CodeKey {
        &self.code_key
    }

    async fn create_organisation(&self, org: Organisation) -> StorageResult<()> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO organisations (id, name, kind, partner_kind) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind,
                 partner_kind = excluded.partner_kind",
            &[&org.id.to_string(), &org.name, &org.kind.code(), &org.partner_kind.map(|k| k.code())],
        )
        .await?;
        Ok(())
    }

    async fn organisation(&self, id: Uuid) -> StorageResult<Option<Organisation>> {
        let c = self.client().await?;
        let row =
            c.query_opt("SELECT name, kind, partner_kind FROM organisations WHERE id = $1", &[&id.to_string()]).await?;
        row.map(|r| {
            Ok(Organisation {
                id,
                name: r.get(0),
                kind: decode::org_kind(r.get(1))?,
                partner_kind: r.get::<_, Option<String>>(2).as_deref().and_then(PartnerKind::from_code),
            })
        })
        .transpose()
    }

    async fn partner_organisations(&self) -> StorageResult<Vec<Organisation>> {
        let c = self.client().await?;
        let rows = c
            .query("SELECT id, name, partner_kind FROM organisations WHERE kind = 'partner' ORDER BY name, id", &[])
            .await?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                Some(Organisation {
                    id: Uuid::parse_str(r.get::<_, &str>(0)).ok()?,
                    name: r.get(1),
                    kind: OrgKind::Partner,
                    partner_kind: r.get::<_, Option<String>>(2).as_deref().and_then(PartnerKind::from_code),
                })
            })
            .collect())
    }

    async fn create_enrolment_code(&self, code: EnrolmentCode) -> StorageResult<()> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO enrolment_codes (code_hash, org_id, staff_ref, role, created_by, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &code.code_hash,
                &code.org_id.to_string(),
                &code.staff_ref,
                &code.role.code(),
                &code.created_by,
                &code.expires_at,
            ],
        )
        .await?;
        Ok(())
    }

    async fn redeem_enrolment_code(
        &self,
        code_hash: Vec<u8>,
        now: i64,
        device: Device,
    ) -> StorageResult<Option<Device>> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        // Row-locking: a concurrent redeem of the same code waits, then finds it used.
        let code = tx
            .query_opt(
                "UPDATE enrolment_codes SET used_at = $2, device_id = $3
                 WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2
                 RETURNING org_id, staff_ref, role",
                &[&code_hash, &now, &device.id.to_string()],
            )
            .await?;
        let Some(code) = code else { return Ok(None) };
        let device = Device {
            org_id: uuid_of(code.get(0))?,
            staff_ref: code.get(1),
            role: decode::role(code.get(2))?,
            ..device
        };
        tx.execute(
            "INSERT INTO devices (id, org_id, staff_ref, role, name, token_hash, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &device.id.to_string(),
                &device.org_id.to_string(),
                &device.staff_ref,
                &device.role.code(),
                &device.name,
                &device.token_hash,
                &now,
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(Some(device))
    }

    async fn device(&self, id: Uuid) -> StorageResult<Option<Device>> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "SELECT id, org_id, staff_ref, role, name, token_hash, revoked_at FROM devices WHERE id = $1",
                &[&id.to_string()],
            )
            .await?;
        row.as_ref().map(device_from_row).transpose()
    }

    async fn devices_of(&self, org: Uuid) -> StorageResult<Vec<Device>> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT id, org_id, staff_ref, role, name, token_hash, revoked_at FROM devices
                 WHERE org_id = $1 ORDER BY staff_ref, name, id",
                &[&org.to_string()],
            )
            .await?;
        rows.iter().map(device_from_row).collect()
    }

    async fn revoke_device(&self, id: Uuid, at: i64) -> StorageResult<bool> {
        let c = self.client().await?;
        Ok(c.execute(
            "UPDATE devices SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            &[&id.to_string(), &at],
        )
        .await?
            > 0)
    }

    async fn load_document(&self, id: Uuid) -> StorageResult<Option<StoredDocument>> {
        let mut c = self.client().await?;
        // One snapshot for both reads, so a compaction in between cannot drop or double changes.
        let tx = c
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let id = id.to_string();
        let Some(doc) =
            tx.query_opt("SELECT kind, owner_org, snapshot, snapshot_seq FROM documents WHERE id = $1", &[&id]).await?
        else {
            return Ok(None);
        };
        let snapshot_seq: i64 = doc.get(3);
        let mut bytes: Vec<u8> = doc.get(2);
        let stmt = tx.prepare_cached("SELECT bytes FROM changes WHERE doc_id = $1 AND seq > $2 ORDER BY seq").await?;
        for row in tx.query(&stmt, &[&id, &snapshot_seq]).await? {
            bytes.extend_from_slice(row.get::<_, &[u8]>(0));
        }
        tx.commit().await?;
        Ok(Some(StoredDocument { kind: kind_of(doc.get(0))?, owner_org: uuid_of(doc.get(1))?, bytes }))
    }

    async fn readers(&self, id: Uuid) -> StorageResult<Vec<String>> {
        let c = self.client().await?;
        let stmt = c.prepare_cached("SELECT principal FROM doc_access WHERE doc_id = $1 ORDER BY principal").await?;
        Ok(c.query(&stmt, &[&id.to_string()]).await?.iter().map(|r| r.get(0)).collect())
    }

    async fn write_document(&self, write: DocumentWrite) -> StorageResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        lock_sequence(&tx).await?;
        let id = write.id.to_string();
        let device = write.device_id.to_string();
        tx.execute(
            "INSERT INTO documents (id, kind, owner_org) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
            &[&id, &write.kind.code(), &write.owner_org.to_string()],
        )
        .await?;
        let held_stmt =
            tx.prepare_cached("SELECT EXISTS (SELECT 1 FROM changes WHERE doc_id = $1 AND hash = $2)").await?;
        let insert_stmt = tx
            .prepare_cached("INSERT INTO changes (seq, doc_id, hash, bytes, device_id) VALUES ($1, $2, $3, $4, $5)")
            .await?;
        for (hash, bytes) in &write.changes {
            let hash = hash.as_slice();
            let held: bool = tx.query_one(&held_stmt, &[&id, &hash]).await?.get(0);
            if !held {
                let seq = next_seq(&tx).await?;
                tx.execute(&insert_stmt, &[&seq, &id, &hash, bytes, &device]).await?;
            }
        }
        if let Some(snapshot) = &write.snapshot {
            tx.execute(
                "UPDATE documents SET snapshot = $2,
                     snapshot_seq = (SELECT COALESCE(MAX(seq), 0) FROM changes WHERE doc_id = $1)
                 WHERE id = $1",
                &[&id, snapshot],
            )
            .await?;
        }
        grant(&tx, &write.grant.iter().map(|p| (write.id, p.clone())).collect::<Vec<_>>(), Some(write.device_id))
            .await?;
        revoke(&tx, &write.revoke.iter().map(|p| (write.id, p.clone())).collect::<Vec<_>>()).await?;
        if let Some(facts) = &write.facts {
            tx.execute(
                "INSERT INTO doc_facts (doc_id, kind, owner_org, facts) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (doc_id) DO UPDATE SET facts = excluded.facts",
                &[&id, &write.kind.code(), &write.owner_org.to_string(), facts],
            )
            .await?;
        }
        if let Some(visit) = &write.visit {
            tx.execute(
                "INSERT INTO visit_index (visit_id, owner_org, person_id, day, carer_1, carer_2)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (visit_id) DO UPDATE SET person_id = excluded.person_id, day = excluded.day,
                     carer_1 = excluded.carer_1, carer_2 = excluded.carer_2",
                &[
                    &id,
                    &write.owner_org.to_string(),
                    &visit.person_id.to_string(),
                    &visit.day,
                    &visit.carers.first().cloned().unwrap_or_default(),
                    &visit.carers.get(1),
                ],
            )
            .await?;
        }
        if let Some(person) = write.note_person {
            tx.execute(
                "INSERT INTO note_index (note_id, person_id) VALUES ($1, $2)
                 ON CONFLICT (note_id) DO UPDATE SET person_id = excluded.person_id",
                &[&id, &person.to_string()],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn changes_since_snapshot(&self, id: Uuid) -> StorageResult<u64> {
        let c = self.client().await?;
        let n: i64 = c
            .query_one(
                "SELECT COUNT(*) FROM changes c JOIN documents d ON d.id = c.doc_id
                 WHERE c.doc_id = $1 AND c.seq > d.snapshot_seq",
                &[&id.to_string()],
            )
            .await?
            .get(0);
        Ok(seq_of(n))
    }

    async fn people_on_rota(
        &self,
        org: Uuid,
        staff_ref: String,
        from_day: String,
        to_day: String,
    ) -> StorageResult<Vec<Uuid>> {
        let c = self.client().await?;
        let stmt = c
            .prepare_cached(
                "SELECT person_id FROM visit_index WHERE owner_org = $1 AND carer_1 = $2 AND day BETWEEN $3 AND $4
                 UNION
                 SELECT person_id FROM visit_index WHERE owner_org = $1 AND carer_2 = $2 AND day BETWEEN $3 AND $4",
            )
            .await?;
        let rows = c.query(&stmt, &[&org.to_string(), &staff_ref, &from_day, &to_day]).await?;
        rows.iter().map(|r| uuid_of(r.get(0))).collect()
    }

    async fn granted(&self, principal: String, kind: RecordKind) -> StorageResult<Vec<Uuid>> {
        let c = self.client().await?;
        let stmt = c
            .prepare_cached(
                "SELECT a.doc_id FROM doc_access a JOIN documents d ON d.id = a.doc_id
                 WHERE a.principal = $1 AND d.kind = $2",
            )
            .await?;
        let rows = c.query(&stmt, &[&principal, &kind.code()]).await?;
        rows.iter().map(|r| uuid_of(r.get(0))).collect()
    }

    async fn history_of(&self, person: Uuid) -> StorageResult<Vec<(Uuid, RecordKind)>> {
        let c = self.client().await?;
        let stmt = c
            .prepare_cached(
                "SELECT visit_id, 'visit' FROM visit_index WHERE person_id = $1
                 UNION ALL SELECT note_id, 'note' FROM note_index WHERE person_id = $1",
            )
            .await?;
        let rows = c.query(&stmt, &[&person.to_string()]).await?;
        rows.iter().map(|r| Ok((uuid_of(r.get(0))?, kind_of(r.get(1))?))).collect()
    }

    async fn set_access(&self, grants: Vec<(Uuid, String)>, revokes: Vec<(Uuid, String)>) -> StorageResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        lock_sequence(&tx).await?;
        grant(&tx, &grants, None).await?;
        revoke(&tx, &revokes).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn rota_departures(&self, principal: String) -> StorageResult<Vec<(Uuid, i64)>> {
        let c = self.client().await?;
        let stmt = c
            .prepare_cached("SELECT person_id, left_at FROM rota_departures WHERE principal = $1 ORDER BY person_id")
            .await?;
        let rows = c.query(&stmt, &[&principal]).await?;
        rows.iter().map(|r| Ok((uuid_of(r.get(0))?, r.get(1)))).collect()
    }

    async fn set_rota_departures(
        &self,
        principal: String,
        left: Vec<Uuid>,
        at: i64,
        done: Vec<Uuid>,
    ) -> StorageResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        for person in &done {
            tx.execute(
                "DELETE FROM rota_departures WHERE principal = $1 AND person_id = $2",
                &[&principal, &person.to_string()],
            )
            .await?;
        }
        for person in &left {
            tx.execute(
                "INSERT INTO rota_departures (principal, person_id, left_at) VALUES ($1, $2, $3)
                 ON CONFLICT (principal, person_id) DO NOTHING",
                &[&principal, &person.to_string(), &at],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn feed(
        &self,
        principals: Vec<String>,
        cursor: u64,
        exclude_device: Uuid,
        limit: u32,
    ) -> StorageResult<Vec<FeedItem>> {
        let c = self.client().await?;
        // One statement, so one snapshot: grants, changes and purges committed between separate
        // queries could otherwise let the cursor pass a number that then becomes visible.
        // A change is listed once even when several of the principals reach it.
        let stmt = c
            .prepare_cached(
                "SELECT what, seq, doc_id, kind, bytes FROM (
                     SELECT 'grant' AS what, a.granted_seq AS seq, a.doc_id, d.kind, NULL::bytea AS bytes
                     FROM doc_access a JOIN documents d ON d.id = a.doc_id
                     WHERE a.principal = ANY ($1) AND a.granted_seq > $2 AND a.via_device IS DISTINCT FROM $3
                   UNION ALL
                     SELECT 'change', c.seq, c.doc_id, d.kind, c.bytes
                     FROM changes c JOIN documents d ON d.id = c.doc_id
                     WHERE c.seq > $2 AND c.device_id <> $3 AND EXISTS (
                         SELECT 1 FROM doc_access a
                         WHERE a.doc_id = c.doc_id AND a.principal = ANY ($1) AND a.granted_seq < c.seq)
                   UNION ALL
                     SELECT 'purge', p.seq, p.doc_id, p.kind, NULL
                     FROM purges p
                     WHERE p.principal = ANY ($1) AND p.seq > $2
                 ) items
                 ORDER BY seq
                 LIMIT $4",
            )
            .await?;
        let cursor = i64::try_from(cursor).unwrap_or(i64::MAX);
        let rows = c.query(&stmt, &[&principals, &cursor, &exclude_device.to_string(), &i64::from(limit)]).await?;
        rows.into_iter()
            .map(|r| {
                let seq = seq_of(r.get(1));
                let id = uuid_of(r.get(2))?;
                let kind = kind_of(r.get(3))?;
                Ok(match r.get::<_, &str>(0) {
                    "grant" => FeedItem::Grant { seq, id, kind },
                    "purge" => FeedItem::Purge { seq, id, kind },
                    _ => FeedItem::Change { seq, id, kind, bytes: r.get(4) },
                })
            })
            .collect()
    }

    async fn max_seq(&self) -> StorageResult<u64> {
        let c = self.client().await?;
        let stmt = c.prepare_cached("SELECT value FROM hub_sequence WHERE id = 1").await?;
        Ok(seq_of(c.query_one(&stmt, &[]).await?.get(0)))
    }

    async fn epoch(&self) -> StorageResult<String> {
        let c = self.client().await?;
        let stmt = c.prepare_cached("SELECT epoch FROM hub_sequence WHERE id = 1").await?;
        Ok(c.query_one(&stmt, &[]).await?.get(0))
    }

    async fn held_back_retry(&self, org: Uuid) -> StorageResult<i64> {
        let c = self.client().await?;
        let stmt = c.prepare_cached("SELECT held_back_retry FROM organisations WHERE id = $1").await?;
        Ok(c.query_opt(&stmt, &[&org.to_string()]).await?.map(|r| r.get(0)).unwrap_or(0))
    }

    async fn ask_held_back_retry(&self, org: Uuid) -> StorageResult<i64> {
        let c = self.client().await?;
        let stmt = c
            .prepare_cached(
                "UPDATE organisations SET held_back_retry = held_back_retry + 1 WHERE id = $1 RETURNING held_back_retry",
            )
            .await?;
        Ok(c.query_opt(&stmt, &[&org.to_string()]).await?.map(|r| r.get(0)).unwrap_or(0))
    }

    async fn set_held_back(
        &self,
        device: Uuid,
        records: Vec<(Uuid, RecordKind, String)>,
        now: i64,
    ) -> StorageResult<Vec<Uuid>> {
        let mut c = self.client().await?;
        let device = device.to_string();
        let stmt = c
            .prepare_cached(
                "SELECT record_id, reason, discard_asked_at IS NOT NULL FROM held_back_records WHERE device_id = $1",
            )
            .await?;
        let before: Vec<(String, String, bool)> =
            c.query(&stmt, &[&device]).await?.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
        let wanted: Vec<(String, RecordKind, String)> =
            records.into_iter().map(|(id, kind, reason)| (id.to_string(), kind, reason)).collect();
        let change = held_back_change(&before, &wanted);
        if change.changed {
            let tx = c.transaction().await?;
            for id in &change.gone {
                tx.execute("DELETE FROM held_back_records WHERE device_id = $1 AND record_id = $2", &[&device, id])
                    .await?;
            }
            for (id, kind, reason) in &wanted {
                tx.execute(
                    "INSERT INTO held_back_records (device_id, record_id, kind, reason, since)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (device_id, record_id) DO UPDATE SET kind = excluded.kind, reason = excluded.reason",
                    &[&device, id, &kind.code(), reason, &now],
                )
                .await?;
            }
            tx.commit().await?;
        }
        Ok(change.discard)
    }

    async fn set_agreement(&self, a: Agreement) -> StorageResult<()> {
        let c = self.client().await?;
        let stmt = c
            .prepare_cached(
                "INSERT INTO commissioning_agreements (commissioner_org, provider_org, districts, created_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (commissioner_org, provider_org) DO UPDATE SET districts = excluded.districts",
            )
            .await?;
        c.execute(
            &stmt,
            &[&a.commissioner.to_string(), &a.provider.to_string(), &a.districts.join(" "), &a.created_at],
        )
        .await?;
        Ok(())
    }

    async fn agreements_of(&self, commissioner: Uuid) -> StorageResult<Vec<Agreement>> {
        let c = self.client().await?;
        let stmt = c
            .prepare_cached(
                "SELECT provider_org, districts, created_at FROM commissioning_agreements
                 WHERE commissioner_org = $1 ORDER BY provider_org",
            )
            .await?;
        let mut agreements = Vec::new();
        for r in c.query(&stmt, &[&commissioner.to_string()]).await? {
            let districts: String = r.get(1);
            agreements.push(Agreement {
                commissioner,
                provider: decode::uuid(r.get(0))?,
                districts: districts.split_whitespace().map(str::to_string).collect(),
                created_at: r.get(2),
            });
        }
        Ok(agreements)
    }

    async fn publish_week(&self, commissioner: Uuid, week: String, counts: String, at: i64) -> StorageResult<()> {
        let c = self.client().await?;
        let stmt = c
            .prepare_cached(
                "INSERT INTO trend_snapshots (commissioner_org, week, counts, published_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (commissioner_org, week) DO NOTHING",
            )
            .await?;
        c.execute(&stmt, &[&commissioner.to_string(), &week, &counts, &at]).await?;
        Ok(())
    }

    async fn published_weeks(&self, commissioner: Uuid) -> StorageResult<Vec<(String, String)>> {
        let c = self.client().await?;
        let stmt = c
            .prepare_cached("SELECT week, counts FROM trend_snapshots WHERE commissioner_org = $1 ORDER BY week")
            .await?;
        Ok(c.query(&stmt, &[&commissioner.to_string()]).await?.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn set_partner_listing(&self, org: Uuid, listing: String, at: i64) -> StorageResult<()> {
        let c = self.client().await?;
        let stmt = c
            .prepare_cached(
                "INSERT INTO partner_listings (org_id, listing, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (org_id) DO UPDATE SET listing = excluded.listing, updated_at = excluded.updated_at",
            )
            .await?;
        c.execute(&stmt, &[&org.to_string(), &listing, &at]).await?;
        Ok(())
    }

    async fn partner_listings(&self) -> StorageResult<Vec<(Uuid, String)>> {
        let c = self.client().await?;
        let stmt = c.prepare_cached("SELECT org_id, listing FROM partner_listings ORDER BY org_id").await?;
        c.query(&stmt, &[]).await?.iter().map(|r| Ok((uuid_of(r.get(0))?, r.get(1)))).collect()
    }

    async fn queue_mail(&self, mail: OutgoingMail) -> StorageResult<()> {
        let c = self.client().await?;
        let stmt = c
            .prepare_cached(
                "INSERT INTO mail_outbox (id, to_address, subject, body, queued_at, attempts, next_attempt_at, last_error)
                 VALUES ($1, $2, $3, $4, $5, 0, $6, '') ON CONFLICT (id) DO NOTHING",
            )
            .await?;
        c.execute(
            &stmt,
            &[&mail.id.to_string(), &mail.to, &mail.subject, &mail.body, &mail.queued_at, &mail.next_attempt_at],
        )
        .await?;
        Ok(())
    }

    async fn mail_due(&self, now: i64, limit: u32) -> StorageResult<Vec<OutgoingMail>> {
        let c = self.client().await?;
        let stmt = c
            .prepare_cached(
                "SELECT id, to_address, subject, body, queued_at, attempts, next_attempt_at, sent_at, last_error FROM mail_outbox
                 WHERE sent_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at, queued_at LIMIT $2",
            )
            .await?;
        c.query(&stmt, &[&now, &i64::from(limit)]).await?.iter().map(mail_from_row).collect()
    }

    async fn mail_attempted(&self, id: Uuid, at: i64, error: Option<String>, retry_at: i64) -> StorageResult<()> {
        let c = self.client().await?;
        match error {
            None => {
                let stmt = c
                    .prepare_cached("UPDATE mail_outbox SET attempts = attempts + 1, sent_at = $2 WHERE id = $1")
                    .await?;
                c.execute(&stmt, &[&id.to_string(), &at]).await?;
            }
            Some(e) => {
                let stmt = c
                    .prepare_cached(
                        "UPDATE mail_outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 WHERE id = $1",
                    )
                    .await?;
                c.execute(&stmt, &[&id.to_string(), &e, &retry_at]).await?;
            }
        }
        Ok(())
    }

    async fn mail_log(&self, limit: u32) -> StorageResult<Vec<OutgoingMail>> {
        let c = self.client().await?;
        let stmt = c.prepare_cached("SELECT id, to_address, subject, body, queued_at, attempts, next_attempt_at, sent_at, last_error FROM mail_outbox ORDER BY queued_at DESC, id LIMIT $1").await?;
        c.query(&stmt, &[&i64::from(limit)]).await?.iter().map(mail_from_row).collect()
    }

    async fn held_back_records(&self, org: Uuid) -> StorageResult<Vec<HeldBackRow>> {
        let c = self.client().await?;
        let stmt = c
            .prepare_cached(
                "SELECT h.device_id, h.record_id, h.kind, h.reason, h.since, h.discard_asked_at IS NOT NULL
                 FROM held_back_records h JOIN devices d ON d.id = h.device_id
                 WHERE d.org_id = $1 ORDER BY h.device_id, h.since, h.record_id",
            )
            .await?;
        c.query(&stmt, &[&org.to_string()])
            .await?
            .iter()
            .map(|r| {
                Ok(HeldBackRow {
                    device: uuid_of(r.get(0))?,
                    record: uuid_of(r.get(1))?,
                    kind: decode::kind(r.get(2))?,
                    reason: r.get(3),
                    since: r.get(4),
                    discard_asked: r.get(5),
                })
            })
            .collect()
    }

    async fn ask_discard(&self, device: Uuid, record: Uuid, at: i64) -> StorageResult<bool> {
        let c = self.client().await?;
        let stmt = c
            .prepare_cached(
                "UPDATE held_back_records SET discard_asked_at = COALESCE(discard_asked_at, $3)
                 WHERE device_id = $1 AND record_id = $2",
            )
            .await?;
        Ok(c.execute(&stmt, &[&device.to_string(), &record.to_string(), &at]).await? > 0)
    }

    async fn doc_facts(
        &self,
        kind: RecordKind,
        owner: Option<Uuid>,
        principal: Option<String>,
    ) -> StorageResult<Vec<DocFactsRow>> {
        let c = self.client().await?;
        let stmt = c
            .prepare_cached(
                "SELECT f.doc_id, f.owner_org, f.facts FROM doc_facts f
                 WHERE f.kind = $1 AND ($2::TEXT IS NULL OR f.owner_org = $2)
                   AND ($3::TEXT IS NULL
                        OR EXISTS (SELECT 1 FROM doc_access a WHERE a.principal = $3 AND a.doc_id = f.doc_id))",
            )
            .await?;
        c.query(&stmt, &[&kind.code(), &owner.map(|o| o.to_string()), &principal])
            .await?
            .iter()
            .map(|r| Ok(DocFactsRow { doc_id: uuid_of(r.get(0))?, owner_org: uuid_of(r.get(1))?, facts: r.get(2) }))
            .collect()
    }

    async fn documents_without_facts(&self, kinds: Vec<RecordKind>) -> StorageResult<Vec<Uuid>> {
        let c = self.client().await?;
        let codes: Vec<String> = kinds.iter().map(|k| k.code().to_string()).collect();
        let rows = c
            .query(
                "SELECT id FROM documents WHERE kind = ANY($1) AND id NOT IN (SELECT doc_id FROM doc_facts)",
                &[&codes],
            )
            .await?;
        rows.iter().map(|r| uuid_of(r.get(0))).collect()
    }

    async fn put_doc_facts(&self, id: Uuid, kind: RecordKind, owner: Uuid, facts: String) -> StorageResult<()> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO doc_facts (doc_id, kind, owner_org, facts) VALUES ($1, $2, $3, $4)
             ON CONFLICT (doc_id) DO UPDATE SET facts = excluded.facts",
            &[&id.to_string(), &kind.code(), &owner.to_string(), &facts],
        )
        .await?;
        Ok(())
    }

    async fn create_web_user(&self, user: WebUser) -> StorageResult<()> {
        let c = self.client().await?;
        let inserted = c
            .execute(
                "INSERT INTO web_users (id, org_id, email, name, role, password_hash, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (email) DO NOTHING",
                &[
                    &user.id.to_string(),
                    &user.org_id.to_string(),
                    &user.email,
                    &user.name,
                    &user.role.code(),
                    &user.password_hash,
                    &chrono::Utc::now().timestamp_millis(),
                ],
            )
            .await?;
        if inserted == 0 {
            return Err(StorageError::Conflict(format!("{} already has an account", user.email)));
        }
        Ok(())
    }

    async fn web_user(&self, id: Uuid) -> StorageResult<Option<WebUser>> {
        let c = self.client().await?;
        let sql = format!("{WEB_USER_COLUMNS} WHERE id = $1 AND disabled_at IS NULL");
        let row = c.query_opt(&sql, &[&id.to_string()]).await?;
        row.as_ref().map(web_user_from_row).transpose()
    }

    async fn web_user_by_email(&self, email: String) -> StorageResult<Option<WebUser>> {
        let c = self.client().await?;
        let sql = format!("{WEB_USER_COLUMNS} WHERE email = $1 AND disabled_at IS NULL");
        let row = c.query_opt(&sql, &[&email]).await?;
        row.as_ref().map(web_user_from_row).transpose()
    }

    async fn claim_sign_in_attempt(
        &self,
        id: Uuid,
        max_failures: u32,
        lock_until: i64,
        now: i64,
    ) -> StorageResult<SignInClaim> {
        let c = self.client().await?;
        let row = c
            .query_opt(
                "UPDATE web_users SET
                     failed_attempts = CASE WHEN failed_attempts + 1 >= $2 THEN 0 ELSE failed_attempts + 1 END,
                     locked_until = CASE WHEN failed_attempts + 1 >= $2 THEN $3 ELSE locked_until END
                 WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $4) RETURNING locked_until",
                &[&id.to_string(), &i64::from(max_failures), &lock_until, &now],
            )
            .await?;
        Ok(match row {
            None => SignInClaim::Locked,
            Some(r) => SignInClaim::Claimed { locks: r.get::<_, Option<i64>>(0) == Some(lock_until) },
        })
    }

    async fn clear_sign_in_failures(&self, id: Uuid) -> StorageResult<()> {
        let c = self.client().await?;
        c.execute("UPDATE web_users SET failed_attempts = 0, locked_until = NULL WHERE id = $1", &[&id.to_string()])
            .await?;
        Ok(())
    }

    async fn create_session(&self, session: WebSession) -> StorageResult<()> {
        let c = self.client().await?;
        c.execute(
            "INSERT INTO web_sessions (token_hash, user_id, csrf, expires_at) VALUES ($1, $2, $3, $4)",
            &[&session.token_hash, &session.user_id.to_string(), &session.csrf, &session.expires_at],
        )
        .await?;
        Ok(())
    }

    async fn session(&self, token_hash: Vec<u8>) -> StorageResult<Option<WebSession>> {
        let c = self.client().await?;
        let row = c
            .query_opt("SELECT user_id, csrf, expires_at FROM web_sessions WHERE token_hash = $1", &[&token_hash])
            .await?;
        row.map(|r| {
            Ok(WebSession {
                token_hash: token_hash.clone(),
                user_id: uuid_of(r.get(0))?,
                csrf: r.get(1),
                expires_at: r.get(2),
            })
        })
        .transpose()
    }

    async fn delete_session(&self, token_hash: Vec<u8>) -> StorageResult<()> {
        let c = self.client().await?;
        c.execute("DELETE FROM web_sessions WHERE token_hash = $1", &[&token_hash]).await?;
        Ok(())
    }

    async fn delete_sessions_of(&self, user: Uuid) -> StorageResult<()> {
        let c = self.client().await?;
        c.execute("DELETE FROM web_sessions WHERE user_id = $1", &[&user.to_string()]).await?;
        Ok(())
    }

    async fn delete_expired_sessions(&self, now: i64) -> StorageResult<()> {
        let c = self.client().await?;
        c.execute("DELETE FROM web_sessions WHERE expires_at <= $1", &[&now]).await?;
        Ok(())
    }

    async fn audit_of_owner(&self, org: Uuid, limit: u32) -> StorageResult<Vec<AuditEntry>> {
        let c = self.client().await?;
        let stmt = c
            .prepare_cached(
                "SELECT at, actor, action, doc_id, allowed, detail FROM audit_log
                 WHERE doc_id IN (SELECT id FROM documents WHERE owner_org = $1) ORDER BY seq DESC LIMIT $2",
            )
            .await?;
        c.query(&stmt, &[&org.to_string(), &i64::from(limit)])
            .await?
            .iter()
            .map(audit_from_row)
            .collect::<StorageResult<_>>()
    }

    async fn audit(&self, entry: AuditEntry) -> StorageResult<()> {
        if !entry.allowed {
            crate::metrics::global().denied(&entry.action);
        }
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        // Held until commit: no other hub process reads the same newest hash and forks the chain.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&AUDIT_LOCK]).await?;
        let last = tx.prepare_cached("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1").await?;
        let prev_hash: Vec<u8> = match tx.query_opt(&last, &[]).await? {
            Some(row) => row.get::<_, Option<Vec<u8>>>(0).unwrap_or_default(),
            None => audit::GENESIS.to_vec(),
        };
        // The number is taken under the lock, so seq order is chain order.
        let next = tx.prepare_cached("SELECT nextval(pg_get_serial_sequence('audit_log', 'seq'))").await?;
        let seq: i64 = tx.query_one(&next, &[]).await?.get(0);
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
        let insert = tx
            .prepare_cached(
                "INSERT INTO audit_log (seq, at, actor, action, doc_id, allowed, detail, prev_hash, hash)
                 OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .await?;
        tx.execute(
            &insert,
            &[
                &seq,
                &entry.at,
                &entry.actor,
                &entry.action,
                &doc_id,
                &entry.allowed,
                &entry.detail,
                &prev_hash,
                &hash.as_slice(),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn audit_chain_rows(&self, after: i64, limit: u32) -> StorageResult<Vec<AuditChainRow>> {
        let c = self.client().await?;
        let stmt = c
            .prepare_cached(
                "SELECT seq, at, actor, action, doc_id, allowed, detail, prev_hash, hash FROM audit_log
                 WHERE seq > $1 ORDER BY seq LIMIT $2",
            )
            .await?;
        Ok(c.query(&stmt, &[&after, &i64::from(limit)]).await?.iter().map(chain_row).collect())
    }

    async fn audit_log(&self, limit: u32) -> StorageResult<Vec<AuditEntry>> {
        let c = self.client().await?;
        let stmt = c
            .prepare_cached(
                "SELECT at, actor, action, doc_id, allowed, detail FROM audit_log ORDER BY seq DESC LIMIT $1",
            )
            .await?;
        c.query(&stmt, &[&i64::from(limit)]).await?.iter().map(audit_from_row).collect::<StorageResult<_>>()
    }

    async fn organisations(&self) -> StorageResult<Vec<Organisation>> {
        let c = self.client().await?;
        let rows = c
            .query("SELECT id, name, kind, partner_kind FROM organisations ORDER BY kind = 'partner', name, id", &[])
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Organisation {
                    id: uuid_of(r.get(0))?,
                    name: r.get(1),
                    kind: decode::org_kind(r.get(2))?,
                    partner_kind: r.get::<_, Option<String>>(3).as_deref().and_then(PartnerKind::from_code),
                })
            })
            .collect()
    }

    async fn device_statuses(&self, org: Option<Uuid>) -> StorageResult<Vec<DeviceStatus>> {
        let c = self.client().await?;
        let rows = c
            .query(
                "SELECT id, org_id, staff_ref, role, name, token_hash, revoked_at,
                        created_at, last_sync_at, last_held_back, last_refused
                 FROM devices WHERE $1::text IS NULL OR org_id = $1 ORDER BY org_id, staff_ref, name, id",
                &[&org.map(|o| o.to_string())],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(DeviceStatus {
                    device: device_from_row(r)?,
                    enrolled_at: r.get(7),
                    revoked_at: r.get(6),
                    last_sync_at: r.get(8),
                    last_held_back: u32::try_from(r.get::<_, i64>(9)).unwrap_or(u32::MAX),
                    last_refused: u32::try_from(r.get::<_, i64>(10)).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }

    async fn record_sync(&self, device: Uuid, at: i64, held_back: u32, refused: u32) -> StorageResult<()> {
        let c = self.client().await?;
        c.execute(
            "UPDATE devices SET last_sync_at = $2::bigint, last_held_back = $3::bigint, last_refused = $4::bigint
             WHERE id = $1 AND (last_sync_at IS NULL OR last_sync_at <= $2::bigint - 60000
                 OR last_held_back != $3::bigint OR last_refused != $4::bigint)",
            &[&device.to_string(), &at, &i64::from(held_back), &i64::from(refused)],
        )
        .await?;
        Ok(())
    }

    async fn web_users_of(&self, org: Uuid) -> StorageResult<Vec<WebUserStatus>> {
        let c = self.client().await?;
        let sql = format!("{WEB_USER_STATUS_COLUMNS} WHERE org_id = $1 ORDER BY email");
        c.query(&sql, &[&org.to_string()]).await?.iter().map(web_user_status_from_row).collect::<StorageResult<_>>()
    }

    async fn web_user_status(&self, email: String) -> StorageResult<Option<WebUserStatus>> {
        let c = self.client().await?;
        let sql = format!("{WEB_USER_STATUS_COLUMNS} WHERE email = $1");
        c.query_opt(&sql, &[&email]).await?.as_ref().map(web_user_status_from_row).transpose()
    }

    async fn set_web_user_disabled(&self, id: Uuid, at: Option<i64>) -> StorageResult<bool> {
        let c = self.client().await?;
        Ok(c.execute("UPDATE web_users SET disabled_at = $2 WHERE id = $1", &[&id.to_string(), &at]).await? > 0)
    }

    async fn set_web_user_password(&self, id: Uuid, hash: String) -> StorageResult<bool> {
        let c = self.client().await?;
        Ok(c.execute(
            "UPDATE web_users SET password_hash = $2, failed_attempts = 0, locked_until = NULL WHERE id = $1",
            &[&id.to_string(), &hash],
        )
        .await?
            > 0)
    }
}

/// Grants access, each new grant taking a sequence number (caller holds the sequence lock).
async fn grant(
    tx: &Transaction<'_>,
    grants: &[(Uuid, String)],
    via: Option<Uuid>,
) -> Result<(), tokio_postgres::Error> {
    let held_stmt =
        tx.prepare_cached("SELECT EXISTS (SELECT 1 FROM doc_access WHERE principal = $1 AND doc_id = $2)").await?;
    let insert_stmt = tx
        .prepare_cached("INSERT INTO doc_access (principal, doc_id, granted_seq, via_device) VALUES ($1, $2, $3, $4)")
        .await?;
    let via = via.map(|d| d.to_string());
    for (doc, principal) in grants {
        let doc = doc.to_string();
        let held: bool = tx.query_one(&held_stmt, &[principal, &doc]).await?.get(0);
        if !held {
            let seq = next_seq(tx).await?;
            tx.execute(&insert_stmt, &[principal, &doc, &seq, &via]).await?;
        }
    }
    Ok(())
}

/// Revokes access, recording a purge (with a sequence number) for each grant removed (caller
/// holds the sequence lock).
async fn revoke(tx: &Transaction<'_>, revokes: &[(Uuid, String)]) -> Result<(), tokio_postgres::Error> {
    let delete_stmt = tx
        .prepare_cached(
            "DELETE FROM doc_access WHERE principal = $1 AND doc_id = $2
             RETURNING (SELECT kind FROM documents WHERE id = $2)",
        )
        .await?;
    let insert_stmt =
        tx.prepare_cached("INSERT INTO purges (seq, principal, doc_id, kind) VALUES ($1, $2, $3, $4)").await?;
    for (doc, principal) in revokes {
        let doc = doc.to_string();
        if let Some(row) = tx.query_opt(&delete_stmt, &[principal, &doc]).await? {
            let kind: String = row.get(0);
            let seq = next_seq(tx).await?;
            tx.execute(&insert_stmt, &[&seq, principal, &doc, &kind]).await?;
        }
    }
    Ok(())
}
