//! Device-to-hub sync, on the device.
//!
//! [`enrol`] turns a manager's one-time code into a device token kept in the store.
//! [`SyncClient::sync`] is the exchange: push what the hub has not acknowledged, apply what it
//! sends, page until done; usually one HTTP round trip. The cursor is saved after every page,
//! so a sync cut off midway resumes from the last page applied, never from zero.
//! [`Background`] runs it on a timer with backoff while offline, and on demand.

mod background;

use std::time::Duration;

use doorstep_model::view::DeviceRow;
use doorstep_model::{PartnerOrg, RecordKind, Role};
use doorstep_protocol::{
    API_PREFIX, ApiError, CONTENT_ENCODING, DocChanges, DocSyncRequest, DocSyncResponse, EnrolRequest, EnrolResponse,
    EnrolmentCodeRequest, EnrolmentCodeResponse, HoldReason, SYNC_CONTENT_TYPE, SyncRequest, SyncResponse,
};
use doorstep_store::{DocSync, Store, StoreError};
use tokio::sync::Mutex;
use uuid::Uuid;

pub use background::{Background, SyncStatus};

/// How much a device pushes in one request, and asks for in one answer.
pub const MAX_PUSH_BYTES: usize = 4 * 1024 * 1024;
pub const MAX_PULL_BYTES: u32 = 4 * 1024 * 1024;

/// The most an answer may unpack to.
const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;
/// Rounds of the Automerge sync protocol before giving up on one document.
const MAX_DOC_SYNC_ROUNDS: usize = 32;
/// A guard against a hub that always says "more".
const MAX_ROUND_TRIPS: usize = 10_000;

const SETTING_HUB: &str = "hub_url";
const SETTING_TOKEN: &str = "device_token";
const SETTING_PURGES: &str = "purges_waiting";

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("cannot reach the hub: {0}")]
    Offline(#[source] reqwest::Error),
    #[error("this device has been revoked by the office; its records have been removed")]
    Revoked,
    #[error("the hub did not accept this device: {0}")]
    Unauthorised(String),
    #[error("the hub refused the request ({status}, {code}): {message}")]
    Refused { status: u16, code: String, message: String },
    #[error("the hub's answer could not be read: {0}")]
    BadAnswer(String),
    #[error("this device is not enrolled with a hub")]
    NotEnrolled,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SyncError {
    /// Worth trying again later without anyone doing anything.
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::Offline(_) => true,
            SyncError::Refused { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub round_trips: usize,
    pub pushed: usize,
    pub held_back: usize,
    pub pulled: usize,
    pub purged: usize,
    pub bytes_sent: usize,
    pub bytes_received: usize,
    /// Documents brought back in step with the Automerge sync protocol.
    pub doc_syncs: usize,
    /// Records the hub sent that this device could not apply (kept out, logged).
    pub failed: Vec<String>,
}

/// Progress of a long sync, for the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub round_trips: usize,
    pub pulled: usize,
    /// Roughly how many more records the hub has queued.
    pub remaining: u64,
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap_or_default()
}

async fn refusal(response: reqwest::Response) -> SyncError {
    let status = response.status().as_u16();
    let error: ApiError = response.json().await.unwrap_or(ApiError { code: "unknown".into(), message: String::new() });
    match (status, error.code.as_str()) {
        (403, "revoked") => SyncError::Revoked,
        (401, _) => SyncError::Unauthorised(error.message),
        _ => SyncError::Refused { status, code: error.code, message: error.message },
    }
}

/// Enrols this device with a one-time code from a manager, keeping the token in the store.
pub async fn enrol(
    store: &Mutex<Store>,
    hub_url: &str,
    code: &str,
    device_name: &str,
) -> Result<EnrolResponse, SyncError> {
    let hub_url = hub_url.trim_end_matches('/');
    let response = http_client()
        .post(format!("{hub_url}{API_PREFIX}/enrol"))
        .json(&EnrolRequest { code: code.to_string(), device_name: device_name.to_string() })
        .send()
        .await
        .map_err(SyncError::Offline)?;
    if !response.status().is_success() {
        return Err(refusal(response).await);
    }
    let enrolled: EnrolResponse = response.json().await.map_err(|e| SyncError::BadAnswer(e.to_string()))?;
    let mut store = store.lock().await;
    store.set_setting(SETTING_HUB, hub_url)?;
    store.set_setting(SETTING_TOKEN, &enrolled.token)?;
    store.set_setting("device_id", &enrolled.device_id.to_string())?;
    store.set_setting("staff_ref", &enrolled.staff_ref)?;
    store.set_setting("role", enrolled.role.code())?;
    store.set_setting("organisation_id", &enrolled.organisation_id.to_string())?;
    store.set_setting("organisation_name", &enrolled.organisation_name)?;
    Ok(enrolled)
}

#[derive(Clone)]
pub struct SyncClient {
    http: reqwest::Client,
    hub_url: String,
    token: String,
}

impl SyncClient {
    pub fn new(hub_url: &str, token: &str) -> SyncClient {
        SyncClient { http: http_client(), hub_url: hub_url.trim_end_matches('/').to_string(), token: token.to_string() }
    }

    /// The client for the hub this store is enrolled with.
    pub async fn for_store(store: &Mutex<Store>) -> Result<SyncClient, SyncError> {
        let store = store.lock().await;
        match (store.setting(SETTING_HUB)?, store.setting(SETTING_TOKEN)?) {
            (Some(hub), Some(token)) => Ok(SyncClient::new(&hub, &token)),
            _ => Err(SyncError::NotEnrolled),
        }
    }

    async fn exchange(&self, request: &SyncRequest) -> Result<(SyncResponse, usize, usize), SyncError> {
        let (body, compressed) = doorstep_protocol::compress(doorstep_protocol::encode(request));
        let sent = body.len();
        let mut post = self
            .http
            .post(format!("{}{API_PREFIX}/sync", self.hub_url))
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, SYNC_CONTENT_TYPE)
            .header(reqwest::header::ACCEPT_ENCODING, CONTENT_ENCODING);
        if compressed {
            post = post.header(reqwest::header::CONTENT_ENCODING, CONTENT_ENCODING);
        }
        let response = post.body(body).send().await.map_err(SyncError::Offline)?;
        if !response.status().is_success() {
            return Err(refusal(response).await);
        }
        let packed = response
            .headers()
            .get(reqwest::header::CONTENT_ENCODING)
            .is_some_and(|v| v.as_bytes() == CONTENT_ENCODING.as_bytes());
        let bytes = response.bytes().await.map_err(SyncError::Offline)?;
        let received = bytes.len();
        let bytes = if packed {
            doorstep_protocol::decompress(&bytes, MAX_ANSWER_BYTES).map_err(|e| SyncError::BadAnswer(e.to_string()))?
        } else {
            bytes.to_vec()
        };
        let answer = doorstep_protocol::decode(&bytes).map_err(|e| SyncError::BadAnswer(e.to_string()))?;
        Ok((answer, sent, received))
    }

    /// Sends a management request with this device's token; the hub's refusal becomes an error.
    async fn management(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, SyncError> {
        let response = request.bearer_auth(&self.token).send().await.map_err(SyncError::Offline)?;
        if !response.status().is_success() {
            return Err(refusal(response).await);
        }
        Ok(response)
    }

    async fn management_json<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, SyncError> {
        self.management(request).await?.json().await.map_err(|e| SyncError::BadAnswer(e.to_string()))
    }

    /// The partner organisations this (manager's) device may share ideas with.
    pub async fn partners(&self) -> Result<Vec<PartnerOrg>, SyncError> {
        self.management_json(self.http.get(format!("{}{API_PREFIX}/partners", self.hub_url))).await
    }

    /// The organisation's enrolled devices (managers only).
    pub async fn devices(&self) -> Result<Vec<DeviceRow>, SyncError> {
        self.management_json(self.http.get(format!("{}{API_PREFIX}/devices", self.hub_url))).await
    }

    /// Revokes a lost or stolen device: it can sync nothing more, and wipes itself when it next
    /// reaches the hub (managers only).
    pub async fn revoke_device(&self, id: Uuid) -> Result<(), SyncError> {
        self.management(self.http.post(format!("{}{API_PREFIX}/devices/{id}/revoke", self.hub_url))).await?;
        Ok(())
    }

    /// A one-time code for enrolling a colleague's device (managers only).
    pub async fn create_enrolment_code(&self, staff_ref: &str, role: Role) -> Result<EnrolmentCodeResponse, SyncError> {
        let body = EnrolmentCodeRequest { staff_ref: staff_ref.to_string(), role };
        self.management_json(self.http.post(format!("{}{API_PREFIX}/enrolment-codes", self.hub_url)).json(&body)).await
    }

    /// Runs the Automerge sync protocol for one document until neither side has anything to
    /// say: used when the hub lacks changes the device thought it held.
    pub async fn doc_sync(&self, store: &Mutex<Store>, kind: RecordKind, id: &str) -> Result<(), SyncError> {
        let mut session = DocSync::new();
        for _ in 0..MAX_DOC_SYNC_ROUNDS {
            let message = store.lock().await.doc_sync_message(kind, id, &mut session)?;
            let said_something = message.is_some();
            let body = doorstep_protocol::encode(&DocSyncRequest { kind, message: message.unwrap_or_default() });
            let response = self
                .http
                .post(format!("{}{API_PREFIX}/docs/{id}/sync", self.hub_url))
                .bearer_auth(&self.token)
                .header(reqwest::header::CONTENT_TYPE, SYNC_CONTENT_TYPE)
                .body(body)
                .send()
                .await
                .map_err(SyncError::Offline)?;
            if !response.status().is_success() {
                return Err(refusal(response).await);
            }
            let bytes = response.bytes().await.map_err(SyncError::Offline)?;
            let answer: DocSyncResponse =
                doorstep_protocol::decode(&bytes).map_err(|e| SyncError::BadAnswer(e.to_string()))?;
            let mut store = store.lock().await;
            if !answer.message.is_empty() {
                store.receive_doc_sync_message(kind, id, &mut session, &answer.message)?;
            } else if !said_something {
                store.acknowledge_current(kind, id)?;
                return Ok(());
            }
        }
        Err(SyncError::BadAnswer(format!("the document sync for {id} did not settle")))
    }

    /// Syncs until the hub has everything this device has and the device has everything the
    /// hub has for it. The store is locked only between network calls, so the carer keeps
    /// working while a sync runs.
    pub async fn sync(
        &self,
        store_lock: &Mutex<Store>,
        mut progress: impl FnMut(Progress),
    ) -> Result<SyncReport, SyncError> {
        let store = store_lock;
        let mut report = SyncReport::default();
        loop {
            let (request, outgoing) = {
                let store = store.lock().await;
                let outgoing = store.pending_changes(MAX_PUSH_BYTES)?;
                let push = outgoing
                    .iter()
                    .filter_map(|o| {
                        Uuid::parse_str(&o.id).ok().map(|id| DocChanges { id, kind: o.kind, bytes: o.bytes.clone() })
                    })
                    .collect();
                (SyncRequest { cursor: store.sync_cursor()?, push, max_bytes: MAX_PULL_BYTES }, outgoing)
            };
            let result = self.exchange(&request).await;
            let (answer, sent, received) = match result {
                Err(SyncError::Revoked) => {
                    // A lost tablet must not keep people's records: wipe, then report.
                    store.lock().await.wipe()?;
                    return Err(SyncError::Revoked);
                }
                other => other?,
            };
            report.round_trips += 1;
            report.bytes_sent += sent;
            report.bytes_received += received;

            let mut store = store.lock().await;
            // Everything pushed and not held back is now held by the hub.
            let acks: Vec<(&str, &[_])> = outgoing
                .iter()
                .filter(|o| Uuid::parse_str(&o.id).is_ok_and(|id| !answer.held_back.iter().any(|h| h.id == id)))
                .map(|o| (o.id.as_str(), o.heads.as_slice()))
                .collect();
            let acknowledged = acks.len();
            store.acknowledge_all(acks)?;
            report.pushed += acknowledged;
            let mut needs_doc_sync = Vec::new();
            for held in &answer.held_back {
                tracing::warn!(id = %held.id, reason = ?held.reason, detail = %held.detail, "hub held back a record");
                if held.reason == HoldReason::NeedsDocSync {
                    if let Some(o) = outgoing.iter().find(|o| Uuid::parse_str(&o.id).ok() == Some(held.id)) {
                        needs_doc_sync.push((o.kind, o.id.clone()));
                    }
                } else {
                    store.hold_back(&held.id.to_string(), &format!("{}: {}", held.reason.explain(), held.detail))?;
                    report.held_back += 1;
                }
            }
            for doc in &answer.pull {
                match store.apply_from_hub(doc.kind, &doc.id.to_string(), &doc.bytes) {
                    Ok(_) => report.pulled += 1,
                    Err(
                        e
                        @ (StoreError::BadChanges { .. } | StoreError::CorruptDocument { .. } | StoreError::Vitals(_)),
                    ) => {
                        tracing::error!(id = %doc.id, error = %e, "could not apply a record from the hub");
                        report.failed.push(doc.id.to_string());
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            let mut waiting: Vec<String> =
                store.setting(SETTING_PURGES)?.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
            waiting.extend(answer.purge.iter().map(|p| p.id.to_string()));
            let mut still_waiting = Vec::new();
            for id in waiting {
                if store.purge(&id)? {
                    report.purged += 1;
                } else {
                    still_waiting.push(id); // unsynced changes go first; purge next time
                }
            }
            store
                .set_setting(SETTING_PURGES, &serde_json::to_string(&still_waiting).unwrap_or_else(|_| "[]".into()))?;
            store.set_sync_cursor(answer.cursor)?;
            drop(store);
            for (kind, id) in needs_doc_sync {
                self.doc_sync(store_lock, kind, &id).await?;
                report.doc_syncs += 1;
            }
            let store = store_lock.lock().await;
            progress(Progress { round_trips: report.round_trips, pulled: report.pulled, remaining: answer.remaining });

            // Pending records that did not fit in this request go in the next one.
            let more_to_push = acknowledged > 0 && store.local_sync_state()?.pending > 0;
            if (!answer.more && !more_to_push) || report.round_trips >= MAX_ROUND_TRIPS {
                return Ok(report);
            }
        }
    }
}
