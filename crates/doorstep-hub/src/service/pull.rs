//! What a device reads back: its feed of documents and purges after its cursor, within a
//! byte budget.

use std::collections::{BTreeMap, BTreeSet};

use doorstep_protocol::{DocChanges, Purge};
use uuid::Uuid;

use super::{Caller, Hub, ServiceError, load_strict};
use crate::storage::{FeedItem, HubStorage, StorageError};

/// The most change bytes one answer carries (devices may ask for less).
pub const MAX_PULL_BYTES: u32 = 8 * 1024 * 1024;

/// Feed items read per answer.
const FEED_PAGE: u32 = 2000;

impl<S: HubStorage> Hub<S> {
    pub(super) async fn pull(
        &self,
        caller: &Caller,
        cursor: u64,
        restored: bool,
        max_bytes: u32,
    ) -> Result<(Vec<DocChanges>, Vec<Purge>, u64, bool, u64), ServiceError> {
        let principals = caller.principals();
        if principals.is_empty() {
            return Ok((Vec::new(), Vec::new(), if restored { 0 } else { cursor }, false, 0));
        }
        let visible = self.storage.max_seq().await?;
        // The device last synced with this hub before a restore (another epoch), or, from a device
        // that predates epochs, its cursor is from the future: the hub may lack what the cursor
        // counts as delivered, so start the device's feed again from the beginning (whole
        // documents; nothing is applied twice).
        let cursor = if restored || cursor > visible {
            tracing::warn!(device = %caller.device.id, cursor, visible, restored, "the hub was restored: full feed");
            0
        } else {
            cursor
        };
        let items = self.storage.feed(principals, cursor, caller.device.id, FEED_PAGE).await?;
        let page_full = items.len() == FEED_PAGE as usize;
        let mut docs: Vec<DocChanges> = Vec::new();
        let mut index: BTreeMap<Uuid, usize> = BTreeMap::new();
        let mut purge = Vec::new();
        let mut dropped = BTreeSet::new();
        let mut bytes = 0usize;
        let mut last = cursor;
        let mut taken = 0;
        for item in &items {
            if bytes >= max_bytes as usize && taken > 0 {
                break;
            }
            match item {
                FeedItem::Grant { id, kind, .. } => {
                    // Granted again after a purge in this page: the later grant wins (the device
                    // applies the page's documents before its purges).
                    purge.retain(|p: &Purge| p.id != *id);
                    if let Some(doc) = self.storage.load_document(*id).await? {
                        let whole = load_strict(&doc.bytes)
                            .map_err(|e| StorageError::Task(format!("stored {id}: {e}")))?
                            .save();
                        bytes += whole.len();
                        match index.get(id) {
                            Some(&i) => docs[i].bytes = whole,
                            None => {
                                index.insert(*id, docs.len());
                                docs.push(DocChanges { id: *id, kind: *kind, bytes: whole });
                            }
                        }
                    }
                }
                FeedItem::Change { id, kind, bytes: change, .. } => {
                    purge.retain(|p: &Purge| p.id != *id);
                    bytes += change.len();
                    match index.get(id) {
                        Some(&i) => docs[i].bytes.extend_from_slice(change),
                        None => {
                            index.insert(*id, docs.len());
                            docs.push(DocChanges { id: *id, kind: *kind, bytes: change.clone() });
                        }
                    }
                }
                FeedItem::Purge { id, kind, .. } => {
                    // Purged after it was granted or changed in this page: the purge wins.
                    if let Some(i) = index.remove(id) {
                        dropped.insert(i);
                    }
                    purge.push(Purge { id: *id, kind: *kind });
                }
            }
            last = item.seq();
            taken += 1;
        }
        let docs = docs.into_iter().enumerate().filter(|(i, _)| !dropped.contains(i)).map(|(_, d)| d).collect();
        let more = taken < items.len() || page_full;
        let cursor = if more { last } else { last.max(visible) };
        let remaining = (items.len() - taken) as u64;
        Ok((docs, purge, cursor, more, remaining))
    }
}
