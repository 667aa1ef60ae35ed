//! The hub on SQLite: one file, no setup. One connection behind a mutex, used from blocking
//! tasks; SQLite's single writer makes sequence numbers visible in order.

use std::path::Path;
use std::sync::{Arc, Mutex};

use doorstep_model::RecordKind;
use include_dir::{Dir, include_dir};
use rusqlite::{Connection, Transaction, TransactionBehavior, params, params_from_iter};
use rusqlite_migration::Migrations;
use uuid::Uuid;

use crate::audit;
use crate::code_key::CodeKey;
use crate::storage::rows::{self, StoredRow};
use crate::storage::statements;
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
        // Room for every statement of the catalogue (rusqlite keeps 16 by default).
        conn.set_prepared_statement_cache_capacity(128);
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

/// Executes a catalogue statement (`statements`) through the statement cache: the hub runs the
/// same few statements for every document, and preparing each anew costs as much as running it.
fn exec(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> StorageResult<usize> {
    Ok(conn.prepare_cached(&statements::sqlite(sql))?.execute(params)?)
}

/// The first row a catalogue statement answers, if any, decoded.
fn query_opt<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    f: impl FnOnce(&rusqlite::Row<'_>) -> StorageResult<T>,
) -> StorageResult<Option<T>> {
    let mut stmt = conn.prepare_cached(&statements::sqlite(sql))?;
    let mut rows = stmt.query(params)?;
    rows.next()?.map(f).transpose()
}

/// The first row a catalogue statement answers, decoded; an error if there is none.
fn query_one<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    f: impl FnOnce(&rusqlite::Row<'_>) -> StorageResult<T>,
) -> StorageResult<T> {
    query_opt(conn, sql, params, f)?.ok_or(StorageError::Sqlite(rusqlite::Error::QueryReturnedNoRows))
}

/// Every row a catalogue statement answers, decoded.
fn query_all<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    f: impl FnMut(&rusqlite::Row<'_>) -> StorageResult<T>,
) -> StorageResult<Vec<T>> {
    let mut stmt = conn.prepare_cached(&statements::sqlite(sql))?;
    collect(stmt.query(params)?, f)
}

fn collect<T>(
    mut rows: rusqlite::Rows<'_>,
    mut f: impl FnMut(&rusqlite::Row<'_>) -> StorageResult<T>,
) -> StorageResult<Vec<T>> {
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(f(row)?);
    }
    Ok(out)
}

fn next_seq(tx: &Transaction<'_>) -> StorageResult<i64> {
    query_one(tx, statements::NEXT_SEQ, [], |r| r.int(0))
}

/// Chains audit entries written before the chain existed (NULL hashes), oldest first, if no
/// entry is chained yet; returns how many. Run when the storage opens (after migrating).
fn chain_unchained_audit(conn: &mut Connection) -> StorageResult<usize> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if query_one(&tx, statements::AUDIT_CHAIN_STARTED, [], |r| r.flag(0))? {
        return Ok(0);
    }
    let rows = query_all(&tx, statements::AUDIT_CHAIN_ALL, [], |r| rows::audit_chain_row(r))?;
    for (seq, prev_hash, hash) in audit::links(&rows) {
        exec(&tx, statements::AUDIT_CHAIN_LINK, params![seq, prev_hash, hash])?;
    }
    tx.commit()?;
    Ok(rows.len())
}

/// `?start, …` for `count` values (an IN list: SQLite has no array parameters).
fn placeholders(start: usize, count: usize) -> String {
    (start..start + count).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ")
}

impl HubStorage for SqliteStorage {
    fn code_key(&self) -> &CodeKey {
        &self.code_key
    }

    async fn create_organisation(&self, org: Organisation) -> StorageResult<()> {
        self.run(move |c| {
            let params = params![org.id.to_string(), org.name, org.kind.code(), org.partner_kind.map(|k| k.code())];
            exec(c, statements::ORGANISATION_UPSERT, params).map(drop)
        })
        .await
    }

    async fn organisation(&self, id: Uuid) -> StorageResult<Option<Organisation>> {
        self.run(move |c| query_opt(c, statements::ORGANISATION, [id.to_string()], |r| rows::organisation(r))).await
    }

    async fn partner_organisations(&self) -> StorageResult<Vec<Organisation>> {
        self.run(move |c| {
            let orgs = query_all(c, statements::PARTNER_ORGANISATIONS, [], |r| rows::partner_organisation(r))?;
            Ok(orgs.into_iter().flatten().collect())
        })
        .await
    }

    async fn create_enrolment_code(&self, code: EnrolmentCode) -> StorageResult<()> {
        self.run(move |c| {
            let params = params![
                code.code_hash,
                code.org_id.to_string(),
                code.staff_ref,
                code.role.code(),
                code.created_by,
                code.expires_at
            ];
            exec(c, statements::ENROLMENT_CODE_INSERT, params).map(drop)
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
            let params = params![code_hash, now, device.id.to_string()];
            let Some(device) =
                query_opt(&tx, statements::ENROLMENT_CODE_REDEEM, params, |r| rows::redeemed(r, device))?
            else {
                return Ok(None);
            };
            exec(
                &tx,
                statements::DEVICE_INSERT,
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
        self.run(move |c| query_opt(c, statements::DEVICE, [id.to_string()], |r| rows::device(r))).await
    }

    async fn revoke_device(&self, id: Uuid, at: i64) -> StorageResult<bool> {
        self.run(move |c| Ok(exec(c, statements::DEVICE_REVOKE, params![id.to_string(), at])? > 0)).await
    }

    async fn devices_of(&self, org: Uuid) -> StorageResult<Vec<Device>> {
        self.run(move |c| query_all(c, statements::DEVICES_OF, [org.to_string()], |r| rows::device(r))).await
    }

    async fn load_document(&self, id: Uuid) -> StorageResult<Option<StoredDocument>> {
        self.run(move |c| {
            let Some((kind, owner_org, mut bytes, snapshot_seq)) =
                query_opt(c, statements::DOCUMENT, [id.to_string()], |r| rows::document_head(r))?
            else {
                return Ok(None);
            };
            let params = params![id.to_string(), snapshot_seq];
            for change in query_all(c, statements::CHANGES_AFTER, params, |r| r.bytes(0))? {
                bytes.extend_from_slice(&change);
            }
            Ok(Some(StoredDocument { kind, owner_org, bytes }))
        })
        .await
    }

    async fn readers(&self, id: Uuid) -> StorageResult<Vec<String>> {
        self.run(move |c| query_all(c, statements::READERS, [id.to_string()], |r| r.text(0))).await
    }

    async fn write_document(&self, write: DocumentWrite) -> StorageResult<()> {
        self.run(move |c| {
            let tx = c.transaction()?;
            let id = write.id.to_string();
            let owner = write.owner_org.to_string();
            exec(&tx, statements::DOCUMENT_INSERT, params![id, write.kind.code(), owner])?;
            for (hash, bytes) in &write.changes {
                if !query_one(&tx, statements::CHANGE_HELD, params![id, hash.as_slice()], |r| r.flag(0))? {
                    let seq = next_seq(&tx)?;
                    let params = params![seq, id, hash.as_slice(), bytes, write.device_id.to_string()];
                    exec(&tx, statements::CHANGE_INSERT, params)?;
                }
            }
            if let Some(snapshot) = &write.snapshot {
                exec(&tx, statements::DOCUMENT_SNAPSHOT, params![id, snapshot])?;
            }
            grant(&tx, &write.grant.iter().map(|p| (write.id, p.clone())).collect::<Vec<_>>(), Some(write.device_id))?;
            revoke(&tx, &write.revoke.iter().map(|p| (write.id, p.clone())).collect::<Vec<_>>())?;
            if let Some(facts) = &write.facts {
                exec(&tx, statements::DOC_FACTS_UPSERT, params![id, write.kind.code(), owner, facts])?;
            }
            if let Some(visit) = &write.visit {
                exec(
                    &tx,
                    statements::VISIT_INDEX_UPSERT,
                    params![
                        id,
                        owner,
                        visit.person_id.to_string(),
                        visit.day,
                        visit.carers.first().cloned().unwrap_or_default(),
                        visit.carers.get(1)
                    ],
                )?;
            }
            if let Some(person) = write.note_person {
                exec(&tx, statements::NOTE_INDEX_UPSERT, params![id, person.to_string()])?;
            }
            if let Some(m) = &write.mail {
                let params = params![m.id.to_string(), m.to, m.subject, m.body, m.queued_at, m.next_attempt_at];
                exec(&tx, statements::MAIL_QUEUE, params)?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn changes_since_snapshot(&self, id: Uuid) -> StorageResult<u64> {
        self.run(move |c| query_one(c, statements::CHANGES_SINCE_SNAPSHOT, [id.to_string()], |r| r.seq(0))).await
    }

    async fn people_on_rota(
        &self,
        org: Uuid,
        staff_ref: String,
        from_day: String,
        to_day: String,
    ) -> StorageResult<Vec<Uuid>> {
        self.run(move |c| {
            let params = params![org.to_string(), staff_ref, from_day, to_day];
            query_all(c, statements::PEOPLE_ON_ROTA, params, |r| r.uuid(0))
        })
        .await
    }

    async fn granted(&self, principal: String, kind: RecordKind) -> StorageResult<Vec<Uuid>> {
        self.run(move |c| query_all(c, statements::GRANTED, params![principal, kind.code()], |r| r.uuid(0))).await
    }

    async fn history_of(&self, person: Uuid) -> StorageResult<Vec<(Uuid, RecordKind)>> {
        self.run(move |c| query_all(c, statements::HISTORY_OF, [person.to_string()], |r| rows::history_item(r))).await
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
        self.run(move |c| query_all(c, statements::ROTA_DEPARTURES, [principal], |r| rows::rota_departure(r))).await
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
                exec(&tx, statements::ROTA_DEPARTURE_DELETE, params![principal, person.to_string()])?;
            }
            for person in &left {
                exec(&tx, statements::ROTA_DEPARTURE_INSERT, params![principal, person.to_string(), at])?;
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
        // Three statements with an IN list of the principals (PostgreSQL's one statement over an
        // array is in postgres.rs): one connection with a single writer sees no gap between them.
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
            items.extend(collect(grants.query(params_from_iter(args.iter()))?, |r| rows::feed_item(r, "grant", 0))?);

            let mut changes = c.prepare(&format!(
                // DISTINCT before LIMIT: a change reached through two principals must not
                // take two places in the page (the cursor would then skip one).
                "SELECT DISTINCT c.seq, c.doc_id, d.kind, c.bytes FROM doc_access a
                 JOIN changes c ON c.doc_id = a.doc_id AND c.seq > ?{cur} AND c.seq > a.granted_seq
                 JOIN documents d ON d.id = a.doc_id
                 WHERE a.principal IN ({p}) AND c.device_id != ?{dev}
                 ORDER BY c.seq LIMIT ?{lim}"
            ))?;
            items.extend(collect(changes.query(params_from_iter(args.iter()))?, |r| rows::feed_item(r, "change", 0))?);

            let mut purges = c.prepare(&format!(
                "SELECT seq, doc_id, kind FROM purges WHERE principal IN ({p}) AND seq > ?{cur} AND ?{dev} IS NOT NULL
                 ORDER BY seq LIMIT ?{lim}"
            ))?;
            items.extend(collect(purges.query(params_from_iter(args.iter()))?, |r| rows::feed_item(r, "purge", 0))?);

            // A change reached through two principals (a manager who is also a carer) once.
            items.sort_by_key(FeedItem::seq);
            items.dedup_by_key(|i| (i.seq(), matches!(i, FeedItem::Purge { .. })));
            items.truncate(limit as usize);
            Ok(items)
        })
        .await
    }

    async fn max_seq(&self) -> StorageResult<u64> {
        self.run(|c| query_one(c, statements::MAX_SEQ, [], |r| r.seq(0))).await
    }

    async fn epoch(&self) -> StorageResult<String> {
        self.run(|c| query_one(c, statements::EPOCH, [], |r| r.text(0))).await
    }

    async fn held_back_retry(&self, org: Uuid) -> StorageResult<i64> {
        self.run(move |c| Ok(query_opt(c, statements::HELD_BACK_RETRY, [org.to_string()], |r| r.int(0))?.unwrap_or(0)))
            .await
    }

    async fn ask_held_back_retry(&self, org: Uuid) -> StorageResult<i64> {
        self.run(move |c| {
            Ok(query_opt(c, statements::HELD_BACK_RETRY_ASK, [org.to_string()], |r| r.int(0))?.unwrap_or(0))
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
            let before = query_all(c, statements::HELD_BACK_OF_DEVICE, [&device], |r| rows::held_back_stored(r))?;
            let wanted: Vec<(String, RecordKind, String)> =
                records.into_iter().map(|(id, kind, reason)| (id.to_string(), kind, reason)).collect();
            let change = held_back_change(&before, &wanted);
            if change.changed {
                let tx = c.transaction()?;
                for id in &change.gone {
                    exec(&tx, statements::HELD_BACK_DELETE, params![device, id])?;
                }
                for (id, kind, reason) in &wanted {
                    exec(&tx, statements::HELD_BACK_UPSERT, params![device, id, kind.code(), reason, now])?;
                }
                tx.commit()?;
            }
            Ok(change.discard)
        })
        .await
    }

    async fn set_agreement(&self, a: Agreement) -> StorageResult<()> {
        self.run(move |c| {
            let params =
                params![a.commissioner.to_string(), a.provider.to_string(), a.districts.join(" "), a.created_at];
            exec(c, statements::AGREEMENT_UPSERT, params).map(drop)
        })
        .await
    }

    async fn agreements_of(&self, commissioner: Uuid) -> StorageResult<Vec<Agreement>> {
        self.run(move |c| {
            query_all(c, statements::AGREEMENTS_OF, [commissioner.to_string()], |r| rows::agreement(r, commissioner))
        })
        .await
    }

    async fn agreements_with(&self, provider: Uuid) -> StorageResult<Vec<Agreement>> {
        self.run(move |c| {
            query_all(c, statements::AGREEMENTS_WITH, [provider.to_string()], |r| rows::agreement_with(r, provider))
        })
        .await
    }

    async fn publish_week(&self, commissioner: Uuid, week: String, counts: String, at: i64) -> StorageResult<()> {
        self.run(move |c| {
            exec(c, statements::WEEK_PUBLISH, params![commissioner.to_string(), week, counts, at]).map(drop)
        })
        .await
    }

    async fn published_weeks(&self, commissioner: Uuid) -> StorageResult<Vec<(String, String)>> {
        self.run(move |c| {
            query_all(c, statements::WEEKS_PUBLISHED, [commissioner.to_string()], |r| rows::published_week(r))
        })
        .await
    }

    async fn release_week(&self, r: FeedRelease) -> StorageResult<()> {
        self.run(move |c| {
            let params = params![r.provider.to_string(), r.week, r.released_by, r.released_at];
            exec(c, statements::FEED_RELEASE, params).map(drop)
        })
        .await
    }

    async fn releases_of(&self, provider: Uuid) -> StorageResult<Vec<FeedRelease>> {
        self.run(move |c| {
            query_all(c, statements::FEED_RELEASES_OF, [provider.to_string()], |r| rows::feed_release(r, provider))
        })
        .await
    }

    async fn set_partner_listing(&self, org: Uuid, listing: String, at: i64) -> StorageResult<()> {
        self.run(move |c| exec(c, statements::PARTNER_LISTING_UPSERT, params![org.to_string(), listing, at]).map(drop))
            .await
    }

    async fn partner_listings(&self) -> StorageResult<Vec<(Uuid, String)>> {
        self.run(move |c| query_all(c, statements::PARTNER_LISTINGS, [], |r| rows::partner_listing(r))).await
    }

    async fn queue_mail(&self, mail: OutgoingMail) -> StorageResult<()> {
        self.run(move |c| {
            let params =
                params![mail.id.to_string(), mail.to, mail.subject, mail.body, mail.queued_at, mail.next_attempt_at];
            exec(c, statements::MAIL_QUEUE, params).map(drop)
        })
        .await
    }

    async fn mail_due(&self, now: i64, limit: u32) -> StorageResult<Vec<OutgoingMail>> {
        self.run(move |c| query_all(c, statements::MAIL_DUE, params![now, limit], |r| rows::mail(r))).await
    }

    async fn mail_attempted(&self, id: Uuid, at: i64, error: Option<String>, retry_at: i64) -> StorageResult<()> {
        self.run(move |c| {
            match error {
                None => exec(c, statements::MAIL_SENT, params![id.to_string(), at]),
                Some(e) => exec(c, statements::MAIL_FAILED, params![id.to_string(), e, retry_at]),
            }
            .map(drop)
        })
        .await
    }

    async fn mail_log(&self, limit: u32) -> StorageResult<Vec<OutgoingMail>> {
        self.run(move |c| query_all(c, statements::MAIL_LOG, [limit], |r| rows::mail(r))).await
    }

    async fn held_back_records(&self, org: Uuid) -> StorageResult<Vec<HeldBackRow>> {
        self.run(move |c| query_all(c, statements::HELD_BACK_RECORDS, [org.to_string()], |r| rows::held_back_row(r)))
            .await
    }

    async fn ask_discard(&self, device: Uuid, record: Uuid, at: i64) -> StorageResult<bool> {
        self.run(move |c| {
            let params = params![device.to_string(), record.to_string(), at];
            Ok(exec(c, statements::HELD_BACK_ASK_DISCARD, params)? > 0)
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
            let params = params![kind.code(), owner.map(|o| o.to_string()), principal];
            query_all(c, statements::DOC_FACTS, params, |r| rows::doc_facts_row(r))
        })
        .await
    }

    async fn documents_without_facts(&self, kinds: Vec<RecordKind>) -> StorageResult<Vec<Uuid>> {
        self.run(move |c| {
            let codes: Vec<&str> = kinds.iter().map(|k| k.code()).collect();
            // An IN list: PostgreSQL's takes an array instead.
            let sql = format!(
                "SELECT id FROM documents WHERE kind IN ({}) AND id NOT IN (SELECT doc_id FROM doc_facts)",
                placeholders(1, codes.len())
            );
            let mut stmt = c.prepare(&sql)?;
            collect(stmt.query(params_from_iter(codes))?, |r| r.uuid(0))
        })
        .await
    }

    async fn put_doc_facts(&self, id: Uuid, kind: RecordKind, owner: Uuid, facts: String) -> StorageResult<()> {
        self.run(move |c| {
            exec(c, statements::DOC_FACTS_UPSERT, params![id.to_string(), kind.code(), owner.to_string(), facts])
                .map(drop)
        })
        .await
    }

    async fn create_web_user(&self, user: WebUser) -> StorageResult<()> {
        self.run(move |c| {
            let inserted = exec(
                c,
                statements::WEB_USER_INSERT,
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
        self.run(move |c| query_opt(c, statements::WEB_USER, [id.to_string()], |r| rows::web_user(r))).await
    }

    async fn web_user_by_email(&self, email: String) -> StorageResult<Option<WebUser>> {
        self.run(move |c| query_opt(c, statements::WEB_USER_BY_EMAIL, [email], |r| rows::web_user(r))).await
    }

    async fn claim_sign_in_attempt(
        &self,
        id: Uuid,
        max_failures: u32,
        lock_until: i64,
        now: i64,
    ) -> StorageResult<SignInClaim> {
        self.run(move |c| {
            let params = params![id.to_string(), max_failures, lock_until, now];
            Ok(match query_opt(c, statements::WEB_USER_CLAIM_SIGN_IN, params, |r| r.opt_int(0))? {
                None => SignInClaim::Locked,
                Some(until) => SignInClaim::Claimed { locks: until == Some(lock_until) },
            })
        })
        .await
    }

    async fn clear_sign_in_failures(&self, id: Uuid) -> StorageResult<()> {
        self.run(move |c| exec(c, statements::WEB_USER_CLEAR_FAILURES, [id.to_string()]).map(drop)).await
    }

    async fn create_session(&self, session: WebSession) -> StorageResult<()> {
        self.run(move |c| {
            let params = params![session.token_hash, session.user_id.to_string(), session.csrf, session.expires_at];
            exec(c, statements::SESSION_INSERT, params).map(drop)
        })
        .await
    }

    async fn session(&self, token_hash: Vec<u8>) -> StorageResult<Option<WebSession>> {
        self.run(move |c| {
            query_opt(c, statements::SESSION, [&token_hash], |r| rows::web_session(r, token_hash.clone()))
        })
        .await
    }

    async fn delete_session(&self, token_hash: Vec<u8>) -> StorageResult<()> {
        self.run(move |c| exec(c, statements::SESSION_DELETE, [token_hash]).map(drop)).await
    }

    async fn delete_sessions_of(&self, user: Uuid) -> StorageResult<()> {
        self.run(move |c| exec(c, statements::SESSIONS_OF_DELETE, [user.to_string()]).map(drop)).await
    }

    async fn delete_expired_sessions(&self, now: i64) -> StorageResult<()> {
        self.run(move |c| exec(c, statements::SESSIONS_EXPIRED_DELETE, [now]).map(drop)).await
    }

    async fn audit_of_owner(&self, org: Uuid, limit: u32) -> StorageResult<Vec<AuditEntry>> {
        self.run(move |c| {
            let params = params![org.to_string(), i64::from(limit)];
            query_all(c, statements::AUDIT_OF_OWNER, params, |r| rows::audit_entry(r))
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
            let newest = query_opt(&tx, statements::AUDIT_NEWEST, [], |r| rows::audit_newest(r))?;
            // The seq is the next after the newest (SQLite's INTEGER PRIMARY KEY; PostgreSQL's is
            // an identity column).
            let seq = newest.as_ref().map_or(1, |(seq, _)| seq + 1);
            let row = audit::appended(&entry, seq, newest.map(|(_, hash)| hash));
            exec(
                &tx,
                statements::AUDIT_APPEND,
                params![
                    row.seq,
                    row.at,
                    row.actor,
                    row.action,
                    row.doc_id,
                    row.allowed,
                    row.detail,
                    row.prev_hash,
                    row.hash
                ],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn audit_chain_rows(&self, after: i64, limit: u32) -> StorageResult<Vec<AuditChainRow>> {
        self.run(move |c| {
            query_all(c, statements::AUDIT_CHAIN_ROWS, params![after, i64::from(limit)], |r| rows::audit_chain_row(r))
        })
        .await
    }

    async fn audit_log(&self, limit: u32) -> StorageResult<Vec<AuditEntry>> {
        self.run(move |c| query_all(c, statements::AUDIT_LOG, [i64::from(limit)], |r| rows::audit_entry(r))).await
    }

    async fn organisations(&self) -> StorageResult<Vec<Organisation>> {
        self.run(move |c| query_all(c, statements::ORGANISATIONS, [], |r| rows::organisation(r))).await
    }

    async fn device_statuses(&self, org: Option<Uuid>) -> StorageResult<Vec<DeviceStatus>> {
        self.run(move |c| {
            query_all(c, statements::DEVICE_STATUSES, [org.map(|o| o.to_string())], |r| rows::device_status(r))
        })
        .await
    }

    async fn record_sync(&self, device: Uuid, at: i64, held_back: u32, refused: u32) -> StorageResult<()> {
        self.run(move |c| {
            exec(c, statements::DEVICE_RECORD_SYNC, params![device.to_string(), at, held_back, refused]).map(drop)
        })
        .await
    }

    async fn web_users_of(&self, org: Uuid) -> StorageResult<Vec<WebUserStatus>> {
        self.run(move |c| query_all(c, statements::WEB_USERS_OF, [org.to_string()], |r| rows::web_user_status(r))).await
    }

    async fn web_user_status(&self, email: String) -> StorageResult<Option<WebUserStatus>> {
        self.run(move |c| query_opt(c, statements::WEB_USER_STATUS, [email], |r| rows::web_user_status(r))).await
    }

    async fn set_web_user_disabled(&self, id: Uuid, at: Option<i64>) -> StorageResult<bool> {
        self.run(move |c| Ok(exec(c, statements::WEB_USER_SET_DISABLED, params![id.to_string(), at])? > 0)).await
    }

    async fn set_web_user_password(&self, id: Uuid, hash: String) -> StorageResult<bool> {
        self.run(move |c| Ok(exec(c, statements::WEB_USER_SET_PASSWORD, params![id.to_string(), hash])? > 0)).await
    }
}

fn grant(tx: &Transaction<'_>, grants: &[(Uuid, String)], via: Option<Uuid>) -> StorageResult<()> {
    for (doc, principal) in grants {
        if !query_one(tx, statements::ACCESS_HELD, params![principal, doc.to_string()], |r| r.flag(0))? {
            let seq = next_seq(tx)?;
            exec(tx, statements::ACCESS_INSERT, params![principal, doc.to_string(), seq, via.map(|d| d.to_string())])?;
        }
    }
    Ok(())
}

fn revoke(tx: &Transaction<'_>, revokes: &[(Uuid, String)]) -> StorageResult<()> {
    for (doc, principal) in revokes {
        let params = params![principal, doc.to_string()];
        if let Some(kind) = query_opt(tx, statements::ACCESS_DELETE, params, |r| r.text(0))? {
            let seq = next_seq(tx)?;
            exec(tx, statements::PURGE_INSERT, params![seq, principal, doc.to_string(), kind])?;
        }
    }
    Ok(())
}
