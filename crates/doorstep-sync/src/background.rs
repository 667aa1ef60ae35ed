//! Sync in the background: every few minutes while online, backing off while offline, and at
//! once when asked ("sync now"). The status is what the UI's sync badge shows.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use doorstep_store::Store;
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, Notify, watch};

use crate::{SyncClient, SyncError};

/// What the sync badge says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    pub last_synced_at: Option<DateTime<Utc>>,
    /// When the last try ended, whether it worked or not.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// Records with changes waiting to reach the hub.
    pub waiting: usize,
    /// Records the hub would not take, with why.
    pub held_back: Vec<(String, String)>,
    pub offline: bool,
    pub syncing: bool,
    pub last_error: Option<String>,
    /// What is wrong, in words for the badge, when the last try failed for a reason other than
    /// being offline ([`SyncError::plain_words`]).
    pub problem: Option<String>,
    /// How many times a sync has brought in others' changes since this started: an open screen
    /// that sees it move reloads what it shows.
    pub received: u64,
}

pub struct Background {
    now: Arc<Notify>,
    status: watch::Receiver<SyncStatus>,
    task: tokio::task::JoinHandle<()>,
}

/// Waits between syncs while all is well, and the first and longest wait while offline.
const EVERY: Duration = Duration::from_secs(120);
const FIRST_RETRY: Duration = Duration::from_secs(5);
const LONGEST_RETRY: Duration = Duration::from_secs(300);

impl Background {
    /// Starts syncing `store` with `client` on the current tokio runtime.
    pub fn start(store: Arc<Mutex<Store>>, client: SyncClient) -> Background {
        Self::start_with(store, client, EVERY, FIRST_RETRY, LONGEST_RETRY)
    }

    pub fn start_with(
        store: Arc<Mutex<Store>>,
        client: SyncClient,
        every: Duration,
        first_retry: Duration,
        longest_retry: Duration,
    ) -> Background {
        let now = Arc::new(Notify::new());
        let (tx, status) = watch::channel(SyncStatus::default());
        let wake = now.clone();
        let task = tokio::spawn(async move {
            let mut retry = first_retry;
            loop {
                tx.send_modify(|s| s.syncing = true);
                let outcome = client.sync(&store, |_| {}).await;
                let local = store.lock().await.local_sync_state();
                let wait = match &outcome {
                    Ok(_) => {
                        retry = first_retry;
                        every
                    }
                    Err(e) if e.is_transient() => {
                        let wait = retry;
                        retry = (retry * 2).min(longest_retry);
                        wait
                    }
                    Err(_) => longest_retry,
                };
                tx.send_modify(|s| {
                    s.syncing = false;
                    s.last_attempt_at = Some(Utc::now());
                    match &outcome {
                        Ok(report) => {
                            s.last_synced_at = Some(Utc::now());
                            s.offline = false;
                            s.last_error = None;
                            s.problem = None;
                            if report.pulled + report.doc_syncs + report.purged > 0 {
                                s.received += 1;
                            }
                        }
                        Err(e) => {
                            s.offline = matches!(e, SyncError::Offline(_));
                            s.last_error = Some(e.to_string());
                            s.problem = e.plain_words();
                        }
                    }
                    if let Ok(local) = &local {
                        s.waiting = local.pending;
                        s.held_back = local.held_back.iter().map(|h| (h.what.clone(), h.reason.clone())).collect();
                    }
                });
                if matches!(outcome, Err(SyncError::Revoked)) {
                    return;
                }
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = wake.notified() => {}
                }
            }
        });
        Background { now, status, task }
    }

    /// Sync as soon as possible.
    pub fn sync_now(&self) {
        self.now.notify_one();
    }

    pub fn status(&self) -> SyncStatus {
        self.status.borrow().clone()
    }

    /// A receiver of every status change, for someone else to follow (the app's events).
    pub fn subscribe(&self) -> watch::Receiver<SyncStatus> {
        self.status.clone()
    }

    /// Waits for the next status change.
    pub async fn changed(&mut self) -> SyncStatus {
        let _ = self.status.changed().await;
        self.status.borrow().clone()
    }

    pub fn stop(self) {
        self.task.abort();
    }
}
