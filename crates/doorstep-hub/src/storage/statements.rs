//! Every statement the two backends run alike, written once, with PostgreSQL's `$1, $2…`
//! parameters; SQLite runs them through [`sqlite`]. What truly differs between the dialects
//! (advisory locks, array parameters, the audit log's identity column, the feed's one
//! statement) stays in its backend, saying why.
//!
//! A statement's `$` only ever starts a parameter: no `$` in a string literal or a name (the
//! tests check the whole catalogue). Statements that select a row a decoder reads
//! (`storage::rows`) take their columns from the `*_columns!` macros, in the decoder's order.

/// Declares the statements, and (for the tests) the list of them all.
macro_rules! catalogue {
    ($($(#[$doc:meta])* $name:ident = $sql:expr;)*) => {
        $($(#[$doc])* pub(crate) const $name: &str = $sql;)*
        /// Every statement in the catalogue, by name.
        #[cfg(test)]
        pub(crate) const ALL: &[(&str, &str)] = &[$((stringify!($name), $name)),*];
    };
}

/// `rows::device`'s columns.
macro_rules! device_columns {
    () => {
        "id, org_id, staff_ref, role, name, token_hash, revoked_at"
    };
}

/// `rows::device_status`'s columns: a device's, then its sync state.
macro_rules! device_status_columns {
    () => {
        concat!(device_columns!(), ", created_at, last_sync_at, last_held_back, last_refused")
    };
}

/// `rows::organisation`'s columns.
macro_rules! organisation_columns {
    () => {
        "id, name, kind, partner_kind"
    };
}

/// `rows::web_user`'s columns.
macro_rules! web_user_columns {
    () => {
        "id, org_id, email, name, role, password_hash, failed_attempts, locked_until"
    };
}

/// `rows::web_user_status`'s columns: an account's, then when it was created and disabled.
macro_rules! web_user_status_columns {
    () => {
        concat!(web_user_columns!(), ", created_at, disabled_at")
    };
}

/// `rows::mail`'s columns.
macro_rules! mail_columns {
    () => {
        "id, to_address, subject, body, queued_at, attempts, next_attempt_at, sent_at, last_error"
    };
}

/// `rows::audit_entry`'s columns.
macro_rules! audit_entry_columns {
    () => {
        "at, actor, action, doc_id, allowed, detail"
    };
}

/// `rows::audit_chain_row`'s columns, and the order an appended entry's values are given in:
/// the hash chain covers exactly these.
macro_rules! audit_chain_columns {
    () => {
        concat!("seq, ", audit_entry_columns!(), ", prev_hash, hash")
    };
}

catalogue! {
    // The hub's sequence.

    /// The next sequence number (PostgreSQL: under the sequence lock).
    NEXT_SEQ = "UPDATE hub_sequence SET value = value + 1 WHERE id = 1 RETURNING value";
    MAX_SEQ = "SELECT value FROM hub_sequence WHERE id = 1";
    EPOCH = "SELECT epoch FROM hub_sequence WHERE id = 1";

    // Organisations.

    ORGANISATION_UPSERT = "INSERT INTO organisations (id, name, kind, partner_kind) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind,
             partner_kind = excluded.partner_kind";
    ORGANISATION = concat!("SELECT ", organisation_columns!(), " FROM organisations WHERE id = $1");
    /// Providers first, then by name.
    ORGANISATIONS = concat!("SELECT ", organisation_columns!(), " FROM organisations ORDER BY kind = 'partner', name, id");
    /// `rows::partner_organisation`'s columns.
    PARTNER_ORGANISATIONS = "SELECT id, name, partner_kind FROM organisations WHERE kind = 'partner' ORDER BY name, id";
    HELD_BACK_RETRY = "SELECT held_back_retry FROM organisations WHERE id = $1";
    HELD_BACK_RETRY_ASK =
        "UPDATE organisations SET held_back_retry = held_back_retry + 1 WHERE id = $1 RETURNING held_back_retry";

    // Enrolment and devices.

    ENROLMENT_CODE_INSERT = "INSERT INTO enrolment_codes (code_hash, org_id, staff_ref, role, created_by, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6)";
    /// Row-locking on PostgreSQL: a concurrent redeem of the same code waits, then finds it used.
    /// `rows::redeemed`'s columns.
    ENROLMENT_CODE_REDEEM = "UPDATE enrolment_codes SET used_at = $2, device_id = $3
         WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2
         RETURNING org_id, staff_ref, role";
    DEVICE_INSERT = "INSERT INTO devices (id, org_id, staff_ref, role, name, token_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)";
    DEVICE = concat!("SELECT ", device_columns!(), " FROM devices WHERE id = $1");
    DEVICES_OF = concat!("SELECT ", device_columns!(), " FROM devices WHERE org_id = $1 ORDER BY staff_ref, name, id");
    DEVICE_REVOKE = "UPDATE devices SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";
    /// One organisation's (`$1`) or, with `$1` NULL, every one's. The CAST names the parameter's
    /// type for PostgreSQL.
    DEVICE_STATUSES = concat!(
        "SELECT ", device_status_columns!(), " FROM devices
         WHERE CAST($1 AS TEXT) IS NULL OR org_id = $1 ORDER BY org_id, staff_ref, name, id"
    );
    /// Writes only when the counts change or the last note is a minute old. The CASTs name the
    /// parameters' type for PostgreSQL.
    DEVICE_RECORD_SYNC = "UPDATE devices SET last_sync_at = CAST($2 AS BIGINT), last_held_back = CAST($3 AS BIGINT),
             last_refused = CAST($4 AS BIGINT)
         WHERE id = $1 AND (last_sync_at IS NULL OR last_sync_at <= CAST($2 AS BIGINT) - 60000
             OR last_held_back != CAST($3 AS BIGINT) OR last_refused != CAST($4 AS BIGINT))";

    // Documents and their changes.

    /// `rows::document_head`'s columns.
    DOCUMENT = "SELECT kind, owner_org, snapshot, snapshot_seq FROM documents WHERE id = $1";
    DOCUMENT_INSERT = "INSERT INTO documents (id, kind, owner_org) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING";
    DOCUMENT_SNAPSHOT = "UPDATE documents SET snapshot = $2,
             snapshot_seq = (SELECT COALESCE(MAX(seq), 0) FROM changes WHERE doc_id = $1)
         WHERE id = $1";
    CHANGES_AFTER = "SELECT bytes FROM changes WHERE doc_id = $1 AND seq > $2 ORDER BY seq";
    CHANGE_HELD = "SELECT EXISTS (SELECT 1 FROM changes WHERE doc_id = $1 AND hash = $2)";
    CHANGE_INSERT = "INSERT INTO changes (seq, doc_id, hash, bytes, device_id) VALUES ($1, $2, $3, $4, $5)";
    CHANGES_SINCE_SNAPSHOT = "SELECT COUNT(*) FROM changes c JOIN documents d ON d.id = c.doc_id
         WHERE c.doc_id = $1 AND c.seq > d.snapshot_seq";
    VISIT_INDEX_UPSERT = "INSERT INTO visit_index (visit_id, owner_org, person_id, day, carer_1, carer_2)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (visit_id) DO UPDATE SET person_id = excluded.person_id, day = excluded.day,
             carer_1 = excluded.carer_1, carer_2 = excluded.carer_2";
    NOTE_INDEX_UPSERT = "INSERT INTO note_index (note_id, person_id) VALUES ($1, $2)
         ON CONFLICT (note_id) DO UPDATE SET person_id = excluded.person_id";
    PEOPLE_ON_ROTA = "SELECT person_id FROM visit_index WHERE owner_org = $1 AND carer_1 = $2 AND day BETWEEN $3 AND $4
         UNION
         SELECT person_id FROM visit_index WHERE owner_org = $1 AND carer_2 = $2 AND day BETWEEN $3 AND $4";
    HISTORY_OF = "SELECT visit_id, 'visit' FROM visit_index WHERE person_id = $1
         UNION ALL SELECT note_id, 'note' FROM note_index WHERE person_id = $1";

    // Who may read what.

    READERS = "SELECT principal FROM doc_access WHERE doc_id = $1 ORDER BY principal";
    GRANTED = "SELECT a.doc_id FROM doc_access a JOIN documents d ON d.id = a.doc_id
         WHERE a.principal = $1 AND d.kind = $2";
    ACCESS_HELD = "SELECT EXISTS (SELECT 1 FROM doc_access WHERE principal = $1 AND doc_id = $2)";
    ACCESS_INSERT = "INSERT INTO doc_access (principal, doc_id, granted_seq, via_device) VALUES ($1, $2, $3, $4)";
    /// Answers the document's kind when a grant was removed.
    ACCESS_DELETE = "DELETE FROM doc_access WHERE principal = $1 AND doc_id = $2
         RETURNING (SELECT kind FROM documents WHERE id = $2)";
    PURGE_INSERT = "INSERT INTO purges (seq, principal, doc_id, kind) VALUES ($1, $2, $3, $4)";
    ROTA_DEPARTURES = "SELECT person_id, left_at FROM rota_departures WHERE principal = $1 ORDER BY person_id";
    ROTA_DEPARTURE_DELETE = "DELETE FROM rota_departures WHERE principal = $1 AND person_id = $2";
    /// An earlier note of the same person is kept.
    ROTA_DEPARTURE_INSERT = "INSERT INTO rota_departures (principal, person_id, left_at) VALUES ($1, $2, $3)
         ON CONFLICT (principal, person_id) DO NOTHING";

    // Records devices hold back.

    HELD_BACK_OF_DEVICE =
        "SELECT record_id, reason, discard_asked_at IS NOT NULL FROM held_back_records WHERE device_id = $1";
    HELD_BACK_DELETE = "DELETE FROM held_back_records WHERE device_id = $1 AND record_id = $2";
    HELD_BACK_UPSERT = "INSERT INTO held_back_records (device_id, record_id, kind, reason, since)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (device_id, record_id) DO UPDATE SET kind = excluded.kind, reason = excluded.reason";
    /// `rows::held_back_row`'s columns.
    HELD_BACK_RECORDS = "SELECT h.device_id, h.record_id, h.kind, h.reason, h.since, h.discard_asked_at IS NOT NULL
         FROM held_back_records h JOIN devices d ON d.id = h.device_id
         WHERE d.org_id = $1 ORDER BY h.device_id, h.since, h.record_id";
    HELD_BACK_ASK_DISCARD = "UPDATE held_back_records SET discard_asked_at = COALESCE(discard_asked_at, $3)
         WHERE device_id = $1 AND record_id = $2";

    // What the pages list and count.

    DOC_FACTS_UPSERT = "INSERT INTO doc_facts (doc_id, kind, owner_org, facts) VALUES ($1, $2, $3, $4)
         ON CONFLICT (doc_id) DO UPDATE SET facts = excluded.facts";
    /// `rows::doc_facts_row`'s columns. `$2` (an owner) and `$3` (a principal) may be NULL; the
    /// CASTs name their type for PostgreSQL.
    DOC_FACTS = "SELECT f.doc_id, f.owner_org, f.facts FROM doc_facts f
         WHERE f.kind = $1 AND (CAST($2 AS TEXT) IS NULL OR f.owner_org = $2)
           AND (CAST($3 AS TEXT) IS NULL
                OR EXISTS (SELECT 1 FROM doc_access a WHERE a.principal = $3 AND a.doc_id = f.doc_id))";
    AGREEMENT_UPSERT = "INSERT INTO commissioning_agreements (commissioner_org, provider_org, districts, created_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (commissioner_org, provider_org) DO UPDATE SET districts = excluded.districts";
    /// `rows::agreement`'s columns.
    AGREEMENTS_OF = "SELECT provider_org, districts, created_at FROM commissioning_agreements
         WHERE commissioner_org = $1 ORDER BY provider_org";
    /// `rows::agreement_with`'s columns.
    AGREEMENTS_WITH = "SELECT commissioner_org, districts, created_at FROM commissioning_agreements
         WHERE provider_org = $1 ORDER BY commissioner_org";
    /// The first publication of a week stands.
    WEEK_PUBLISH = "INSERT INTO trend_snapshots (commissioner_org, week, counts, published_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (commissioner_org, week) DO NOTHING";
    WEEKS_PUBLISHED = "SELECT week, counts FROM trend_snapshots WHERE commissioner_org = $1 ORDER BY week";
    /// The first release of a provider's week stands.
    FEED_RELEASE = "INSERT INTO feed_releases (provider_org, week, released_by, released_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (provider_org, week) DO NOTHING";
    /// `rows::feed_release`'s columns.
    FEED_RELEASES_OF = "SELECT week, released_by, released_at FROM feed_releases WHERE provider_org = $1 ORDER BY week";

    // The partner directory and the mail outbox (`partner_directory.rs`, `notify.rs`).

    PARTNER_LISTING_UPSERT = "INSERT INTO partner_listings (org_id, listing, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (org_id) DO UPDATE SET listing = excluded.listing, updated_at = excluded.updated_at";
    /// `rows::partner_listing`'s columns.
    PARTNER_LISTINGS = "SELECT org_id, listing FROM partner_listings ORDER BY org_id";
    /// A message already queued (the same id) is left as it is.
    MAIL_QUEUE = "INSERT INTO mail_outbox (id, to_address, subject, body, queued_at, attempts, next_attempt_at, last_error)
         VALUES ($1, $2, $3, $4, $5, 0, $6, '') ON CONFLICT (id) DO NOTHING";
    MAIL_DUE = concat!(
        "SELECT ", mail_columns!(), " FROM mail_outbox
         WHERE sent_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at, queued_at LIMIT $2"
    );
    MAIL_SENT = "UPDATE mail_outbox SET attempts = attempts + 1, sent_at = $2 WHERE id = $1";
    MAIL_FAILED = "UPDATE mail_outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 WHERE id = $1";
    MAIL_LOG = concat!("SELECT ", mail_columns!(), " FROM mail_outbox ORDER BY queued_at DESC, id LIMIT $1");

    // Sign-in accounts and sessions.

    WEB_USER_INSERT = "INSERT INTO web_users (id, org_id, email, name, role, password_hash, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (email) DO NOTHING";
    WEB_USER = concat!("SELECT ", web_user_columns!(), " FROM web_users WHERE id = $1 AND disabled_at IS NULL");
    WEB_USER_BY_EMAIL =
        concat!("SELECT ", web_user_columns!(), " FROM web_users WHERE email = $1 AND disabled_at IS NULL");
    WEB_USERS_OF = concat!("SELECT ", web_user_status_columns!(), " FROM web_users WHERE org_id = $1 ORDER BY email");
    WEB_USER_STATUS = concat!("SELECT ", web_user_status_columns!(), " FROM web_users WHERE email = $1");
    /// Counts an attempt unless the account is locked; the `$2`-th locks it until `$3`.
    WEB_USER_CLAIM_SIGN_IN = "UPDATE web_users SET
             failed_attempts = CASE WHEN failed_attempts + 1 >= $2 THEN 0 ELSE failed_attempts + 1 END,
             locked_until = CASE WHEN failed_attempts + 1 >= $2 THEN $3 ELSE locked_until END
         WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $4) RETURNING locked_until";
    WEB_USER_CLEAR_FAILURES = "UPDATE web_users SET failed_attempts = 0, locked_until = NULL WHERE id = $1";
    WEB_USER_SET_DISABLED = "UPDATE web_users SET disabled_at = $2 WHERE id = $1";
    WEB_USER_SET_PASSWORD =
        "UPDATE web_users SET password_hash = $2, failed_attempts = 0, locked_until = NULL WHERE id = $1";
    SESSION_INSERT = "INSERT INTO web_sessions (token_hash, user_id, csrf, expires_at) VALUES ($1, $2, $3, $4)";
    /// `rows::web_session`'s columns.
    SESSION = "SELECT user_id, csrf, expires_at FROM web_sessions WHERE token_hash = $1";
    SESSION_DELETE = "DELETE FROM web_sessions WHERE token_hash = $1";
    SESSIONS_OF_DELETE = "DELETE FROM web_sessions WHERE user_id = $1";
    SESSIONS_EXPIRED_DELETE = "DELETE FROM web_sessions WHERE expires_at <= $1";

    // The audit log (`crate::audit`).

    AUDIT_OF_OWNER = concat!(
        "SELECT ", audit_entry_columns!(), " FROM audit_log
         WHERE doc_id IN (SELECT id FROM documents WHERE owner_org = $1) ORDER BY seq DESC LIMIT $2"
    );
    AUDIT_LOG = concat!("SELECT ", audit_entry_columns!(), " FROM audit_log ORDER BY seq DESC LIMIT $1");
    /// The newest entry's seq and hash: what an appended entry follows.
    AUDIT_NEWEST = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";
    /// Appends one entry, its values in `rows::audit_chain_row`'s order (PostgreSQL adds
    /// OVERRIDING SYSTEM VALUE: its seq is an identity column).
    AUDIT_APPEND = concat!(
        "INSERT INTO audit_log (", audit_chain_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    );
    AUDIT_CHAIN_ROWS =
        concat!("SELECT ", audit_chain_columns!(), " FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2");
    /// Whether any entry is chained yet (entries from before the chain are chained once).
    AUDIT_CHAIN_STARTED = "SELECT EXISTS (SELECT 1 FROM audit_log WHERE hash IS NOT NULL)";
    AUDIT_CHAIN_ALL = concat!("SELECT ", audit_chain_columns!(), " FROM audit_log ORDER BY seq");
    /// Chains one entry written before the chain (the triggers allow it once).
    AUDIT_CHAIN_LINK = "UPDATE audit_log SET prev_hash = $2, hash = $3 WHERE seq = $1";
}

/// A catalogue statement as SQLite takes it: each `$N` becomes `?N`, SQLite's numbered
/// parameter (SQLite reads `$N` as a parameter *named* "$N", numbered by where it first
/// appears). Nothing else changes: statements hold no `$` but in parameters.
pub(crate) fn sqlite(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_numbered_for_sqlite() {
        assert_eq!(sqlite("SELECT a FROM t WHERE b = $1 AND c = $2"), "SELECT a FROM t WHERE b = ?1 AND c = ?2");
        assert_eq!(sqlite("VALUES ($1, $10, $2)"), "VALUES (?1, ?10, ?2)");
        assert_eq!(sqlite("$3 IS NULL OR x = $3"), "?3 IS NULL OR x = ?3");
        assert_eq!(sqlite("SELECT 'a' FROM t"), "SELECT 'a' FROM t");
        // Not a parameter: left alone (the catalogue holds none, see below).
        assert_eq!(sqlite("SELECT '$' || $1"), "SELECT '$' || ?1");
    }

    /// The `$`s of every statement are its parameters, numbered from 1 without a gap, none in a
    /// string literal; no statement uses SQLite's own `?`.
    #[test]
    fn every_statement_has_numbered_parameters_only() {
        for (name, sql) in ALL {
            let mut in_literal = false;
            let mut numbers = Vec::new();
            let bytes = sql.as_bytes();
            for (i, &b) in bytes.iter().enumerate() {
                match b {
                    b'\'' => in_literal = !in_literal,
                    b'$' => {
                        assert!(!in_literal, "{name}: a $ in a string literal");
                        let digits: String =
                            bytes[i + 1..].iter().take_while(|d| d.is_ascii_digit()).map(|&d| char::from(d)).collect();
                        assert!(!digits.is_empty(), "{name}: a $ that is not a parameter");
                        numbers.push(digits.parse::<usize>().unwrap());
                    }
                    b'?' => panic!("{name}: a ? (catalogue statements use $N)"),
                    _ => {}
                }
            }
            assert!(!in_literal, "{name}: an unclosed string literal");
            let highest = numbers.iter().copied().max().unwrap_or(0);
            for n in 1..=highest {
                assert!(numbers.contains(&n), "{name}: ${n} is missing below ${highest}");
            }
            assert!(!sqlite(sql).contains('$'), "{name}");
        }
    }

    #[test]
    fn statements_are_named_once() {
        let mut sqls: Vec<&str> = ALL.iter().map(|(_, sql)| *sql).collect();
        sqls.sort_unstable();
        let before = sqls.len();
        sqls.dedup();
        assert_eq!(sqls.len(), before, "two names for one statement");
    }
}
