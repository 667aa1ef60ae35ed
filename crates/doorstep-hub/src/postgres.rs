//! The hub on PostgreSQL: several hub processes can share one database. A deadpool pool of
//! tokio-postgres connections; the schema (migrations/hub/postgres) mirrors SQLite's.
//!
//! Sequence numbers: every transaction that allocates them (a document write, an access
//! change) first takes one transaction-scoped advisory lock, so the transaction that allocates
//! seq N has committed — and is visible — before any other allocates N+1, across processes.
//! The counter is a row (`hub_sequence`) advanced under that lock, so `max_seq` only ever
//! reports committed numbers. The feed reads in a single statement, so it sees one snapshot.

use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Object, Pool, RecyclingMethod, Transaction};
use doorstep_model::RecordKind;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use std::sync::Arc;

use crate::audit;
use crate::code_key::CodeKey;
use crate::pg_tls::PgTarget;
use crate::storage::rows::{self, StoredRow};
use crate::storage::statements;
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

// What PostgreSQL runs and SQLite does not (the rest is in `storage::statements`).

/// Takes a transaction-scoped advisory lock: SQLite has a single writer instead.
const XACT_LOCK: &str = "SELECT pg_advisory_xact_lock($1)";
/// The audit log's next seq: an identity column (SQLite's counts on from the newest entry).
const NEXT_AUDIT_SEQ: &str = "SELECT nextval(pg_get_serial_sequence('audit_log', 'seq'))";
/// `statements::AUDIT_APPEND` with OVERRIDING SYSTEM VALUE: the seq is an identity column.
const AUDIT_APPEND: &str = "INSERT INTO audit_log (seq, at, actor, action, doc_id, allowed, detail, prev_hash, hash) \
     OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
/// The feed in one statement over an array of principals, so one snapshot: grants, changes and
/// purges committed between separate queries could otherwise let the cursor pass a number that
/// then becomes visible (SQLite's single writer lets it run three with IN lists). A change is
/// listed once even when several of the principals reach it. `rows::feed_item`'s columns from 1.
const FEED: &str = "SELECT what, seq, doc_id, kind, bytes FROM (
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
     LIMIT $4";
/// An array parameter (SQLite's takes an IN list).
const DOCUMENTS_WITHOUT_FACTS: &str =
    "SELECT id FROM documents WHERE kind = ANY($1) AND id NOT IN (SELECT doc_id FROM doc_facts)";

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// Executes a statement through the connection's statement cache.
async fn exec(c: &impl GenericClient, sql: &str, params: Params<'_>) -> StorageResult<u64> {
    let stmt = c.prepare_cached(sql).await?;
    Ok(c.execute(&stmt, params).await?)
}

/// The row a statement answers, if any, decoded (more than one is an error).
async fn query_opt<T>(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
    f: impl FnOnce(&Row) -> StorageResult<T>,
) -> StorageResult<Option<T>> {
    let stmt = c.prepare_cached(sql).await?;
    c.query_opt(&stmt, params).await?.as_ref().map(f).transpose()
}

/// The one row a statement answers, decoded.
async fn query_one<T>(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
    f: impl FnOnce(&Row) -> StorageResult<T>,
) -> StorageResult<T> {
    let stmt = c.prepare_cached(sql).await?;
    f(&c.query_one(&stmt, params).await?)
}

/// Every row a statement answers, decoded.
async fn query_all<T>(
    c: &impl GenericClient,
    sql: &str,
    params: Params<'_>,
    f: impl FnMut(&Row) -> StorageResult<T>,
) -> StorageResult<Vec<T>> {
    let stmt = c.prepare_cached(sql).await?;
    c.query(&stmt, params).await?.iter().map(f).collect()
}

/// Waits for the sequence lock: call first in every transaction that allocates sequence numbers.
async fn lock_sequence(tx: &Transaction<'_>) -> StorageResult<()> {
    exec(tx, XACT_LOCK, &[&SEQUENCE_LOCK]).await.map(drop)
}

/// The next sequence number (under the sequence lock, so numbers commit in order).
async fn next_seq(tx: &Transaction<'_>) -> StorageResult<i64> {
    query_one(tx, statements::NEXT_SEQ, &[], |r| r.int(0)).await
}

/// Chains audit entries written before the chain existed (NULL hashes), oldest first, if no
/// entry is chained yet; returns how many. Run when the storage connects (after migrating),
/// under the audit lock, so hubs starting together chain them once.
async fn chain_unchained_audit(c: &mut Object) -> StorageResult<usize> {
    let tx = c.transaction().await?;
    exec(&tx, XACT_LOCK, &[&AUDIT_LOCK]).await?;
    if query_one(&tx, statements::AUDIT_CHAIN_STARTED, &[], |r| r.flag(0)).await? {
        return Ok(0);
    }
    let rows = query_all(&tx, statements::AUDIT_CHAIN_ALL, &[], rows::audit_chain_row).await?;
    for (seq, prev_hash, hash) in audit::links(&rows) {
        exec(&tx, statements::AUDIT_CHAIN_LINK, &[&seq, &prev_hash, &hash]).await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

impl PostgresStorage {
    async fn exec(&self, sql: &str, params: Params<'_>) -> StorageResult<u64> {
        exec(&self.client().await?, sql, params).await
    }

    async fn query_opt<T>(
        &self,
        sql: &str,
        params: Params<'_>,
        f: impl FnOnce(&Row) -> StorageResult<T>,
    ) -> StorageResult<Option<T>> {
        query_opt(&self.client().await?, sql, params, f).await
    }

    async fn query_one<T>(
        &self,
        sql: &str,
        params: Params<'_>,
        f: impl FnOnce(&Row) -> StorageResult<T>,
    ) -> StorageResult<T> {
        query_one(&self.client().await?, sql, params, f).await
    }

    async fn query_all<T>(
        &self,
        sql: &str,
        params: Params<'_>,
        f: impl FnMut(&Row) -> StorageResult<T>,
    ) -> StorageResult<Vec<T>> {
        query_all(&self.client().await?, sql, params, f).await
    }
}

impl HubStorage for PostgresStorage {
    fn code_key(&self) -> &CodeKey {
        &self.code_key
    }

    async fn create_organisation(&self, org: Organisation) -> StorageResult<()> {
        let params: Params = &[&org.id.to_string(), &org.name, &org.kind.code(), &org.partner_kind.map(|k| k.code())];
        self.exec(statements::ORGANISATION_UPSERT, params).await.map(drop)
    }

    async fn organisation(&self, id: Uuid) -> StorageResult<Option<Organisation>> {
        self.query_opt(statements::ORGANISATION, &[&id.to_string()], rows::organisation).await
    }

    async fn partner_organisations(&self) -> StorageResult<Vec<Organisation>> {
        let orgs = self.query_all(statements::PARTNER_ORGANISATIONS, &[], rows::partner_organisation).await?;
        Ok(orgs.into_iter().flatten().collect())
    }

    async fn create_enrolment_code(&self, code: EnrolmentCode) -> StorageResult<()> {
        let params: Params = &[
            &code.code_hash,
            &code.org_id.to_string(),
            &code.staff_ref,
            &code.role.code(),
            &code.created_by,
            &code.expires_at,
        ];
        self.exec(statements::ENROLMENT_CODE_INSERT, params).await.map(drop)
    }

    async fn redeem_enrolment_code(
        &self,
        code_hash: Vec<u8>,
        now: i64,
        device: Device,
    ) -> StorageResult<Option<Device>> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        let params: Params = &[&code_hash, &now, &device.id.to_string()];
        let Some(device) =
            query_opt(&tx, statements::ENROLMENT_CODE_REDEEM, params, |r| rows::redeemed(r, device)).await?
        else {
            return Ok(None);
        };
        let params: Params = &[
            &device.id.to_string(),
            &device.org_id.to_string(),
            &device.staff_ref,
            &device.role.code(),
            &device.name,
            &device.token_hash,
            &now,
        ];
        exec(&tx, statements::DEVICE_INSERT, params).await?;
        tx.commit().await?;
        Ok(Some(device))
    }

    async fn device(&self, id: Uuid) -> StorageResult<Option<Device>> {
        self.query_opt(statements::DEVICE, &[&id.to_string()], rows::device).await
    }

    async fn devices_of(&self, org: Uuid) -> StorageResult<Vec<Device>> {
        self.query_all(statements::DEVICES_OF, &[&org.to_string()], rows::device).await
    }

    async fn revoke_device(&self, id: Uuid, at: i64) -> StorageResult<bool> {
        Ok(self.exec(statements::DEVICE_REVOKE, &[&id.to_string(), &at]).await? > 0)
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
        let Some((kind, owner_org, mut bytes, snapshot_seq)) =
            query_opt(&tx, statements::DOCUMENT, &[&id], rows::document_head).await?
        else {
            return Ok(None);
        };
        for change in query_all(&tx, statements::CHANGES_AFTER, &[&id, &snapshot_seq], |r| r.bytes(0)).await? {
            bytes.extend_from_slice(&change);
        }
        tx.commit().await?;
        Ok(Some(StoredDocument { kind, owner_org, bytes }))
    }

    async fn readers(&self, id: Uuid) -> StorageResult<Vec<String>> {
        self.query_all(statements::READERS, &[&id.to_string()], |r| r.text(0)).await
    }

    async fn write_document(&self, write: DocumentWrite) -> StorageResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        lock_sequence(&tx).await?;
        let id = write.id.to_string();
        let owner = write.owner_org.to_string();
        let device = write.device_id.to_string();
        exec(&tx, statements::DOCUMENT_INSERT, &[&id, &write.kind.code(), &owner]).await?;
        for (hash, bytes) in &write.changes {
            let hash = hash.as_slice();
            if !query_one(&tx, statements::CHANGE_HELD, &[&id, &hash], |r| r.flag(0)).await? {
                let seq = next_seq(&tx).await?;
                exec(&tx, statements::CHANGE_INSERT, &[&seq, &id, &hash, bytes, &device]).await?;
            }
        }
        if let Some(snapshot) = &write.snapshot {
            exec(&tx, statements::DOCUMENT_SNAPSHOT, &[&id, snapshot]).await?;
        }
        grant(&tx, &write.grant.iter().map(|p| (write.id, p.clone())).collect::<Vec<_>>(), Some(write.device_id))
            .await?;
        revoke(&tx, &write.revoke.iter().map(|p| (write.id, p.clone())).collect::<Vec<_>>()).await?;
        if let Some(facts) = &write.facts {
            exec(&tx, statements::DOC_FACTS_UPSERT, &[&id, &write.kind.code(), &owner, facts]).await?;
        }
        if let Some(visit) = &write.visit {
            let params: Params = &[
                &id,
                &owner,
                &visit.person_id.to_string(),
                &visit.day,
                &visit.carers.first().cloned().unwrap_or_default(),
                &visit.carers.get(1),
            ];
            exec(&tx, statements::VISIT_INDEX_UPSERT, params).await?;
        }
        if let Some(person) = write.note_person {
            exec(&tx, statements::NOTE_INDEX_UPSERT, &[&id, &person.to_string()]).await?;
        }
        if let Some(m) = &write.mail {
            let params: Params = &[&m.id.to_string(), &m.to, &m.subject, &m.body, &m.queued_at, &m.next_attempt_at];
            exec(&tx, statements::MAIL_QUEUE, params).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn changes_since_snapshot(&self, id: Uuid) -> StorageResult<u64> {
        self.query_one(statements::CHANGES_SINCE_SNAPSHOT, &[&id.to_string()], |r| r.seq(0)).await
    }

    async fn people_on_rota(
        &self,
        org: Uuid,
        staff_ref: String,
        from_day: String,
        to_day: String,
    ) -> StorageResult<Vec<Uuid>> {
        let params: Params = &[&org.to_string(), &staff_ref, &from_day, &to_day];
        self.query_all(statements::PEOPLE_ON_ROTA, params, |r| r.uuid(0)).await
    }

    async fn granted(&self, principal: String, kind: RecordKind) -> StorageResult<Vec<Uuid>> {
        self.query_all(statements::GRANTED, &[&principal, &kind.code()], |r| r.uuid(0)).await
    }

    async fn history_of(&self, person: Uuid) -> StorageResult<Vec<(Uuid, RecordKind)>> {
        self.query_all(statements::HISTORY_OF, &[&person.to_string()], rows::history_item).await
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
        self.query_all(statements::ROTA_DEPARTURES, &[&principal], rows::rota_departure).await
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
            exec(&tx, statements::ROTA_DEPARTURE_DELETE, &[&principal, &person.to_string()]).await?;
        }
        for person in &left {
            exec(&tx, statements::ROTA_DEPARTURE_INSERT, &[&principal, &person.to_string(), &at]).await?;
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
        let cursor = i64::try_from(cursor).unwrap_or(i64::MAX);
        let params: Params = &[&principals, &cursor, &exclude_device.to_string(), &i64::from(limit)];
        self.query_all(FEED, params, |r| rows::feed_item(r, &r.text(0)?, 1)).await
    }

    async fn max_seq(&self) -> StorageResult<u64> {
        self.query_one(statements::MAX_SEQ, &[], |r| r.seq(0)).await
    }

    async fn epoch(&self) -> StorageResult<String> {
        self.query_one(statements::EPOCH, &[], |r| r.text(0)).await
    }

    async fn held_back_retry(&self, org: Uuid) -> StorageResult<i64> {
        Ok(self.query_opt(statements::HELD_BACK_RETRY, &[&org.to_string()], |r| r.int(0)).await?.unwrap_or(0))
    }

    async fn ask_held_back_retry(&self, org: Uuid) -> StorageResult<i64> {
        Ok(self.query_opt(statements::HELD_BACK_RETRY_ASK, &[&org.to_string()], |r| r.int(0)).await?.unwrap_or(0))
    }

    async fn set_held_back(
        &self,
        device: Uuid,
        records: Vec<(Uuid, RecordKind, String)>,
        now: i64,
    ) -> StorageResult<Vec<Uuid>> {
        let mut c = self.client().await?;
        let device = device.to_string();
        let before = query_all(&c, statements::HELD_BACK_OF_DEVICE, &[&device], rows::held_back_stored).await?;
        let wanted: Vec<(String, RecordKind, String)> =
            records.into_iter().map(|(id, kind, reason)| (id.to_string(), kind, reason)).collect();
        let change = held_back_change(&before, &wanted);
        if change.changed {
            let tx = c.transaction().await?;
            for id in &change.gone {
                exec(&tx, statements::HELD_BACK_DELETE, &[&device, id]).await?;
            }
            for (id, kind, reason) in &wanted {
                exec(&tx, statements::HELD_BACK_UPSERT, &[&device, id, &kind.code(), reason, &now]).await?;
            }
            tx.commit().await?;
        }
        Ok(change.discard)
    }

    async fn set_agreement(&self, a: Agreement) -> StorageResult<()> {
        let params: Params =
            &[&a.commissioner.to_string(), &a.provider.to_string(), &a.districts.join(" "), &a.created_at];
        self.exec(statements::AGREEMENT_UPSERT, params).await.map(drop)
    }

    async fn agreements_of(&self, commissioner: Uuid) -> StorageResult<Vec<Agreement>> {
        self.query_all(statements::AGREEMENTS_OF, &[&commissioner.to_string()], |r| rows::agreement(r, commissioner))
            .await
    }

    async fn agreements_with(&self, provider: Uuid) -> StorageResult<Vec<Agreement>> {
        self.query_all(statements::AGREEMENTS_WITH, &[&provider.to_string()], |r| rows::agreement_with(r, provider))
            .await
    }

    async fn publish_week(&self, commissioner: Uuid, week: String, counts: String, at: i64) -> StorageResult<()> {
        self.exec(statements::WEEK_PUBLISH, &[&commissioner.to_string(), &week, &counts, &at]).await.map(drop)
    }

    async fn published_weeks(&self, commissioner: Uuid) -> StorageResult<Vec<(String, String)>> {
        self.query_all(statements::WEEKS_PUBLISHED, &[&commissioner.to_string()], rows::published_week).await
    }

    async fn release_week(&self, r: FeedRelease) -> StorageResult<()> {
        let params: Params<'_> = &[&r.provider.to_string(), &r.week, &r.released_by, &r.released_at];
        self.exec(statements::FEED_RELEASE, params).await.map(drop)
    }

    async fn releases_of(&self, provider: Uuid) -> StorageResult<Vec<FeedRelease>> {
        self.query_all(statements::FEED_RELEASES_OF, &[&provider.to_string()], |r| rows::feed_release(r, provider))
            .await
    }

    async fn set_partner_listing(&self, org: Uuid, listing: String, at: i64) -> StorageResult<()> {
        self.exec(statements::PARTNER_LISTING_UPSERT, &[&org.to_string(), &listing, &at]).await.map(drop)
    }

    async fn partner_listings(&self) -> StorageResult<Vec<(Uuid, String)>> {
        self.query_all(statements::PARTNER_LISTINGS, &[], rows::partner_listing).await
    }

    async fn queue_mail(&self, mail: OutgoingMail) -> StorageResult<()> {
        let params: Params =
            &[&mail.id.to_string(), &mail.to, &mail.subject, &mail.body, &mail.queued_at, &mail.next_attempt_at];
        self.exec(statements::MAIL_QUEUE, params).await.map(drop)
    }

    async fn mail_due(&self, now: i64, limit: u32) -> StorageResult<Vec<OutgoingMail>> {
        self.query_all(statements::MAIL_DUE, &[&now, &i64::from(limit)], rows::mail).await
    }

    async fn mail_attempted(&self, id: Uuid, at: i64, error: Option<String>, retry_at: i64) -> StorageResult<()> {
        match error {
            None => self.exec(statements::MAIL_SENT, &[&id.to_string(), &at]).await,
            Some(e) => self.exec(statements::MAIL_FAILED, &[&id.to_string(), &e, &retry_at]).await,
        }
        .map(drop)
    }

    async fn mail_log(&self, limit: u32) -> StorageResult<Vec<OutgoingMail>> {
        self.query_all(statements::MAIL_LOG, &[&i64::from(limit)], rows::mail).await
    }

    async fn held_back_records(&self, org: Uuid) -> StorageResult<Vec<HeldBackRow>> {
        self.query_all(statements::HELD_BACK_RECORDS, &[&org.to_string()], rows::held_back_row).await
    }

    async fn ask_discard(&self, device: Uuid, record: Uuid, at: i64) -> StorageResult<bool> {
        let params: Params = &[&device.to_string(), &record.to_string(), &at];
        Ok(self.exec(statements::HELD_BACK_ASK_DISCARD, params).await? > 0)
    }

    async fn doc_facts(
        &self,
        kind: RecordKind,
        owner: Option<Uuid>,
        principal: Option<String>,
    ) -> StorageResult<Vec<DocFactsRow>> {
        let params: Params = &[&kind.code(), &owner.map(|o| o.to_string()), &principal];
        self.query_all(statements::DOC_FACTS, params, rows::doc_facts_row).await
    }

    async fn documents_without_facts(&self, kinds: Vec<RecordKind>) -> StorageResult<Vec<Uuid>> {
        let codes: Vec<String> = kinds.iter().map(|k| k.code().to_string()).collect();
        self.query_all(DOCUMENTS_WITHOUT_FACTS, &[&codes], |r| r.uuid(0)).await
    }

    async fn put_doc_facts(&self, id: Uuid, kind: RecordKind, owner: Uuid, facts: String) -> StorageResult<()> {
        let params: Params = &[&id.to_string(), &kind.code(), &owner.to_string(), &facts];
        self.exec(statements::DOC_FACTS_UPSERT, params).await.map(drop)
    }

    async fn create_web_user(&self, user: WebUser) -> StorageResult<()> {
        let params: Params = &[
            &user.id.to_string(),
            &user.org_id.to_string(),
            &user.email,
            &user.name,
            &user.role.code(),
            &user.password_hash,
            &chrono::Utc::now().timestamp_millis(),
        ];
        if self.exec(statements::WEB_USER_INSERT, params).await? == 0 {
            return Err(StorageError::Conflict(format!("{} already has an account", user.email)));
        }
        Ok(())
    }

    async fn web_user(&self, id: Uuid) -> StorageResult<Option<WebUser>> {
        self.query_opt(statements::WEB_USER, &[&id.to_string()], rows::web_user).await
    }

    async fn web_user_by_email(&self, email: String) -> StorageResult<Option<WebUser>> {
        self.query_opt(statements::WEB_USER_BY_EMAIL, &[&email], rows::web_user).await
    }

    async fn claim_sign_in_attempt(
        &self,
        id: Uuid,
        max_failures: u32,
        lock_until: i64,
        now: i64,
    ) -> StorageResult<SignInClaim> {
        let params: Params = &[&id.to_string(), &i64::from(max_failures), &lock_until, &now];
        Ok(match self.query_opt(statements::WEB_USER_CLAIM_SIGN_IN, params, |r| r.opt_int(0)).await? {
            None => SignInClaim::Locked,
            Some(until) => SignInClaim::Claimed { locks: until == Some(lock_until) },
        })
    }

    async fn clear_sign_in_failures(&self, id: Uuid) -> StorageResult<()> {
        self.exec(statements::WEB_USER_CLEAR_FAILURES, &[&id.to_string()]).await.map(drop)
    }

    async fn create_session(&self, session: WebSession) -> StorageResult<()> {
        let params: Params = &[&session.token_hash, &session.user_id.to_string(), &session.csrf, &session.expires_at];
        self.exec(statements::SESSION_INSERT, params).await.map(drop)
    }

    async fn session(&self, token_hash: Vec<u8>) -> StorageResult<Option<WebSession>> {
        self.query_opt(statements::SESSION, &[&token_hash], |r| rows::web_session(r, token_hash.clone())).await
    }

    async fn delete_session(&self, token_hash: Vec<u8>) -> StorageResult<()> {
        self.exec(statements::SESSION_DELETE, &[&token_hash]).await.map(drop)
    }

    async fn delete_sessions_of(&self, user: Uuid) -> StorageResult<()> {
        self.exec(statements::SESSIONS_OF_DELETE, &[&user.to_string()]).await.map(drop)
    }

    async fn delete_expired_sessions(&self, now: i64) -> StorageResult<()> {
        self.exec(statements::SESSIONS_EXPIRED_DELETE, &[&now]).await.map(drop)
    }

    async fn audit_of_owner(&self, org: Uuid, limit: u32) -> StorageResult<Vec<AuditEntry>> {
        self.query_all(statements::AUDIT_OF_OWNER, &[&org.to_string(), &i64::from(limit)], rows::audit_entry).await
    }

    async fn audit(&self, entry: AuditEntry) -> StorageResult<()> {
        if !entry.allowed {
            crate::metrics::global().denied(&entry.action);
        }
        let mut c = self.client().await?;
        let tx = c.transaction().await?;
        // Held until commit: no other hub process reads the same newest hash and forks the chain.
        exec(&tx, XACT_LOCK, &[&AUDIT_LOCK]).await?;
        let newest = query_opt(&tx, statements::AUDIT_NEWEST, &[], rows::audit_newest).await?;
        // The number is taken under the lock, so seq order is chain order.
        let seq = query_one(&tx, NEXT_AUDIT_SEQ, &[], |r| r.int(0)).await?;
        let row = audit::appended(&entry, seq, newest.map(|(_, hash)| hash));
        let params: Params = &[
            &row.seq,
            &row.at,
            &row.actor,
            &row.action,
            &row.doc_id,
            &row.allowed,
            &row.detail,
            &row.prev_hash,
            &row.hash,
        ];
        exec(&tx, AUDIT_APPEND, params).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn audit_chain_rows(&self, after: i64, limit: u32) -> StorageResult<Vec<AuditChainRow>> {
        self.query_all(statements::AUDIT_CHAIN_ROWS, &[&after, &i64::from(limit)], rows::audit_chain_row).await
    }

    async fn audit_log(&self, limit: u32) -> StorageResult<Vec<AuditEntry>> {
        self.query_all(statements::AUDIT_LOG, &[&i64::from(limit)], rows::audit_entry).await
    }

    async fn organisations(&self) -> StorageResult<Vec<Organisation>> {
        self.query_all(statements::ORGANISATIONS, &[], rows::organisation).await
    }

    async fn device_statuses(&self, org: Option<Uuid>) -> StorageResult<Vec<DeviceStatus>> {
        self.query_all(statements::DEVICE_STATUSES, &[&org.map(|o| o.to_string())], rows::device_status).await
    }

    async fn record_sync(&self, device: Uuid, at: i64, held_back: u32, refused: u32) -> StorageResult<()> {
        let params: Params = &[&device.to_string(), &at, &i64::from(held_back), &i64::from(refused)];
        self.exec(statements::DEVICE_RECORD_SYNC, params).await.map(drop)
    }

    async fn web_users_of(&self, org: Uuid) -> StorageResult<Vec<WebUserStatus>> {
        self.query_all(statements::WEB_USERS_OF, &[&org.to_string()], rows::web_user_status).await
    }

    async fn web_user_status(&self, email: String) -> StorageResult<Option<WebUserStatus>> {
        self.query_opt(statements::WEB_USER_STATUS, &[&email], rows::web_user_status).await
    }

    async fn set_web_user_disabled(&self, id: Uuid, at: Option<i64>) -> StorageResult<bool> {
        Ok(self.exec(statements::WEB_USER_SET_DISABLED, &[&id.to_string(), &at]).await? > 0)
    }

    async fn set_web_user_password(&self, id: Uuid, hash: String) -> StorageResult<bool> {
        Ok(self.exec(statements::WEB_USER_SET_PASSWORD, &[&id.to_string(), &hash]).await? > 0)
    }
}

/// Grants access, each new grant taking a sequence number (caller holds the sequence lock).
async fn grant(tx: &Transaction<'_>, grants: &[(Uuid, String)], via: Option<Uuid>) -> StorageResult<()> {
    let via = via.map(|d| d.to_string());
    for (doc, principal) in grants {
        let doc = doc.to_string();
        if !query_one(tx, statements::ACCESS_HELD, &[principal, &doc], |r| r.flag(0)).await? {
            let seq = next_seq(tx).await?;
            exec(tx, statements::ACCESS_INSERT, &[principal, &doc, &seq, &via]).await?;
        }
    }
    Ok(())
}

/// Revokes access, recording a purge (with a sequence number) for each grant removed (caller
/// holds the sequence lock).
async fn revoke(tx: &Transaction<'_>, revokes: &[(Uuid, String)]) -> StorageResult<()> {
    for (doc, principal) in revokes {
        let doc = doc.to_string();
        if let Some(kind) = query_opt(tx, statements::ACCESS_DELETE, &[principal, &doc], |r| r.text(0)).await? {
            let seq = next_seq(tx).await?;
            exec(tx, statements::PURGE_INSERT, &[&seq, principal, &doc, &kind]).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The audit log is appended to with the same columns, in the same order, on both backends.
    #[test]
    fn the_audit_append_is_the_catalogue_s_with_overriding() {
        assert_eq!(AUDIT_APPEND, statements::AUDIT_APPEND.replace(") VALUES", ") OVERRIDING SYSTEM VALUE VALUES"));
    }
}
