//! The audit log's hash chain, shared by both backends (they only store and fetch rows).
//!
//! Each entry stores `prev_hash` (the hash of the entry before it in `seq` order; 32 zero bytes
//! for the first) and `hash` = SHA-256 over `prev_hash` and an unambiguous encoding of the
//! entry (see [`entry_hash`]). A backend appends under a lock (SQLite: an immediate
//! transaction; PostgreSQL: a transaction-scoped advisory lock), so the chain never forks.
//! Database triggers refuse UPDATE and DELETE against accidents; the chain catches deliberate
//! tampering by someone who can bypass them:
//!
//! - an altered entry: its content no longer matches its hash (or, if its hash was recomputed
//!   too, the next entry no longer follows it);
//! - a removed entry (first or middle): the entry after the gap does not follow the one before.
//!
//! **Limits.** Removing the newest entries leaves a shorter chain that is still whole, and
//! someone who rewrites an entry *and every later one* recomputes a whole chain: SHA-256 has no
//! secret. Both are caught only against a head noted outside the database: `audit verify`
//! prints the newest entry's seq and hash, and `audit verify --anchor SEQ:HASH` fails if that
//! entry is no longer there with that hash.
//!
//! Entries written before the chain existed (NULL hashes) are chained, in `seq` order, when the
//! storage opens, as long as no entry is chained yet; after that an unchained entry is broken.

use sha2::{Digest, Sha256};

use crate::storage::{AuditChainRow, AuditEntry, HubStorage, StorageResult};

/// The `prev_hash` of the first entry.
pub const GENESIS: [u8; 32] = [0; 32];

/// Rows fetched per page while verifying.
const PAGE: u32 = 2_000;

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditVerification {
    /// Entries in the log.
    pub entries: u64,
    /// The newest entry's seq and stored hash: note it somewhere else to check later with an
    /// anchor (the chain alone cannot tell that the newest entries were removed).
    pub head: Option<(i64, Vec<u8>)>,
    /// The first entry where the chain breaks, and why; `None` if it is intact.
    pub first_broken: Option<(i64, String)>,
}

impl AuditVerification {
    pub fn intact(&self) -> bool {
        self.first_broken.is_none()
    }
}

fn put_str(h: &mut Sha256, s: &str) {
    h.update((s.len() as u64).to_be_bytes());
    h.update(s.as_bytes());
}

/// SHA-256 over `prev_hash` and the entry: a version tag, seq and at as big-endian i64,
/// actor and action length-prefixed (u64 big-endian), doc_id as 0 (none) or 1 and the
/// length-prefixed text as stored, allowed as one byte, detail length-prefixed.
#[allow(clippy::too_many_arguments)]
pub fn entry_hash(
    prev_hash: &[u8],
    seq: i64,
    at: i64,
    actor: &str,
    action: &str,
    doc_id: Option<&str>,
    allowed: bool,
    detail: &str,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"doorstep-audit-v1\0");
    h.update((prev_hash.len() as u64).to_be_bytes());
    h.update(prev_hash);
    h.update(seq.to_be_bytes());
    h.update(at.to_be_bytes());
    put_str(&mut h, actor);
    put_str(&mut h, action);
    match doc_id {
        None => h.update([0u8]),
        Some(d) => {
            h.update([1u8]);
            put_str(&mut h, d);
        }
    }
    h.update([u8::from(allowed)]);
    put_str(&mut h, detail);
    h.finalize().into()
}

/// The hash a row should have, given the `prev_hash` it should follow.
pub fn row_hash(prev_hash: &[u8], row: &AuditChainRow) -> [u8; 32] {
    entry_hash(prev_hash, row.seq, row.at, &row.actor, &row.action, row.doc_id.as_deref(), row.allowed, &row.detail)
}

/// The row `entry` is stored as when appended as `seq` after the newest entry's stored hash
/// (`None`: the log is empty), hashed: both backends append exactly this, in
/// `statements::AUDIT_APPEND`'s order. A newest entry with no hash is followed as [`verify`]
/// carries on from it (an empty hash), so the break is reported once, there.
pub fn appended(entry: &AuditEntry, seq: i64, newest_hash: Option<Option<Vec<u8>>>) -> AuditChainRow {
    let prev_hash = match newest_hash {
        None => GENESIS.to_vec(),
        Some(hash) => hash.unwrap_or_default(),
    };
    let mut row = AuditChainRow {
        seq,
        at: entry.at,
        actor: entry.actor.clone(),
        action: entry.action.clone(),
        doc_id: entry.doc_id.map(|d| d.to_string()),
        allowed: entry.allowed,
        detail: entry.detail.clone(),
        prev_hash: None,
        hash: None,
    };
    row.hash = Some(row_hash(&prev_hash, &row).to_vec());
    row.prev_hash = Some(prev_hash);
    row
}

/// Chains entries written before the chain existed, oldest first from the start of the log:
/// each one's (seq, prev_hash, hash).
pub fn links(unchained: &[AuditChainRow]) -> Vec<(i64, Vec<u8>, Vec<u8>)> {
    let mut prev = GENESIS.to_vec();
    unchained
        .iter()
        .map(|row| {
            let hash = row_hash(&prev, row).to_vec();
            (row.seq, std::mem::replace(&mut prev, hash.clone()), hash)
        })
        .collect()
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses `SEQ:HEX` (an anchor noted from an earlier `audit verify`).
pub fn parse_anchor(text: &str) -> Result<(i64, Vec<u8>), String> {
    let bad = || format!("an anchor is SEQ:HASH (64 hex digits), as `audit verify` prints it; not {text:?}");
    let (seq, hash) = text.split_once(':').ok_or_else(bad)?;
    let seq: i64 = seq.trim().parse().map_err(|_| bad())?;
    let hash = hash.trim();
    if hash.len() != 64 || !hash.is_ascii() {
        return Err(bad());
    }
    let bytes = (0..32)
        .map(|i| u8::from_str_radix(&hash[2 * i..2 * i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| bad())?;
    Ok((seq, bytes))
}

/// Walks the whole log in seq order, a page at a time, checking each entry follows the one
/// before and matches its hash; with an `anchor` (seq, hash), also that this entry is still there
/// with this hash.
pub async fn verify<S: HubStorage + ?Sized>(
    storage: &S,
    anchor: Option<(i64, Vec<u8>)>,
) -> StorageResult<AuditVerification> {
    let mut entries = 0u64;
    let mut first_broken: Option<(i64, String)> = None;
    let mut prev: Option<(i64, Vec<u8>)> = None;
    let mut anchor_seen = false;
    let mut after = i64::MIN;
    loop {
        let rows = storage.audit_chain_rows(after, PAGE).await?;
        let Some(last) = rows.last() else { break };
        after = last.seq;
        for row in rows {
            entries += 1;
            let problem = check(prev.as_ref(), &row);
            if let Some((seq, hash)) = &anchor
                && *seq == row.seq
            {
                anchor_seen = true;
                if first_broken.is_none() && row.hash.as_deref() != Some(hash.as_slice()) {
                    first_broken = Some((row.seq, "its hash is not the one noted in the anchor: rewritten".into()));
                }
            }
            if first_broken.is_none()
                && let Some(why) = problem
            {
                first_broken = Some((row.seq, why));
            }
            // Carry on from the stored hash, so one break is reported once.
            prev = Some((row.seq, row.hash.unwrap_or_default()));
        }
    }
    if let Some((seq, _)) = &anchor
        && !anchor_seen
        && first_broken.is_none()
    {
        first_broken =
            Some((*seq, "the anchored entry is missing: the newest entries were removed or rewritten".into()));
    }
    Ok(AuditVerification { entries, head: prev, first_broken })
}

fn check(prev: Option<&(i64, Vec<u8>)>, row: &AuditChainRow) -> Option<String> {
    let (Some(prev_hash), Some(hash)) = (&row.prev_hash, &row.hash) else {
        return Some("it has no hash: it was added without the chain".into());
    };
    let expected_prev: &[u8] = prev.map_or(&GENESIS, |(_, h)| h.as_slice());
    if prev_hash.as_slice() != expected_prev {
        return Some(match prev {
            None => "it does not start the chain: earlier entries were removed".into(),
            Some((p, _)) => format!("it does not follow entry {p}: entries between were removed, or entry {p} altered"),
        });
    }
    if row_hash(prev_hash, row).as_slice() != hash.as_slice() {
        return Some("its content does not match its hash: altered".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_encoding_is_unambiguous() {
        let a = entry_hash(&GENESIS, 1, 2, "ab", "c", None, true, "");
        let b = entry_hash(&GENESIS, 1, 2, "a", "bc", None, true, "");
        let c = entry_hash(&GENESIS, 1, 2, "ab", "c", Some(""), true, "");
        let d = entry_hash(&GENESIS, 1, 2, "ab", "c", None, false, "");
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        assert_eq!(a, entry_hash(&GENESIS, 1, 2, "ab", "c", None, true, ""));
    }

    /// Both backends append through `appended` and chain old entries through `links`: the two
    /// agree, and an entry after one with no hash follows it as `verify` carries on.
    #[test]
    fn appending_and_chaining_old_entries_agree() {
        let entry = |n: i64| AuditEntry {
            at: n,
            actor: format!("device {n}"),
            action: "push".into(),
            doc_id: None,
            allowed: n % 2 == 0,
            detail: String::new(),
        };
        let first = appended(&entry(1), 1, None);
        let second = appended(&entry(2), 2, Some(first.hash.clone()));
        assert_eq!(first.prev_hash.as_deref(), Some(&GENESIS[..]));
        let unchained: Vec<AuditChainRow> =
            [&first, &second].iter().map(|r| AuditChainRow { prev_hash: None, hash: None, ..(*r).clone() }).collect();
        let chained: Vec<_> =
            [&first, &second].iter().map(|r| (r.seq, r.prev_hash.clone().unwrap(), r.hash.clone().unwrap())).collect();
        assert_eq!(links(&unchained), chained);
        assert_eq!(appended(&entry(3), 3, Some(None)).prev_hash, Some(Vec::new()));
    }

    #[test]
    fn anchors_parse() {
        let hash = "ab".repeat(32);
        assert_eq!(parse_anchor(&format!("57:{hash}")), Ok((57, vec![0xab; 32])));
        assert!(parse_anchor("57").is_err());
        assert!(parse_anchor("x:00").is_err());
        assert!(parse_anchor(&format!("1:{}", "é".repeat(32))).is_err());
        assert!(parse_anchor(&format!("1:{}", "zz".repeat(32))).is_err());
    }
}
