//! Device-to-hub sync, on the device.
//!
//! [`enrol`] turns a manager's one-time code into a device token kept in the store.
//! [`SyncClient::sync`] is the exchange: push what the hub has not acknowledged, apply what it
//! sends, page until done; usually one HTTP round trip. The cursor is saved after every page,
//! so a sync cut off midway resumes from the last page applied, never from zero.
//! [`Background`] runs it on a timer with backoff while offline, and on demand.

mod background;
mod pin;

use std::time::Duration;

use doorstep_model::view::DeviceRow;
use doorstep_model::{PartnerOrg, RecordKind, Role};
use doorstep_protocol::{
    API_PREFIX, ApiError, CONTENT_ENCODING, DocChanges, DocSyncRequest, DocSyncResponse, EnrolRequest, EnrolResponse,
    EnrolmentCodeRequest, EnrolmentCodeResponse, HELD_BACK_HEADER, HUB_EPOCH_HEADER, HUB_RULES_HEADER, HeldBackNote,
    HoldReason, SYNC_CONTENT_TYPE, SyncRequest, SyncResponse,
};
use doorstep_store::{DocSync, Store, StoreError};
use tokio::sync::Mutex;
use uuid::Uuid;

pub use background::{Background, SyncStatus};
pub use pin::{BadFingerprint, CertificatePin};

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
/// The hub epoch of the last sync (doorstep_protocol::HUB_EPOCH_HEADER).
const SETTING_HUB_EPOCH: &str = "hub_epoch";
/// The hub's rules version at the last sync (doorstep_protocol::HUB_RULES_HEADER).
const SETTING_HUB_RULES: &str = "hub_rules";
/// When this device last finished a sync with the hub (RFC 3339), kept so the badge can say it
/// after a restart while offline.
pub const SETTING_LAST_SYNCED: &str = "last_synced_at";
/// SHA-256 of the hub's certificate (lower-case hex) when the device was set up with one.
pub const SETTING_HUB_CERT: &str = "hub_cert_sha256";

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("cannot reach the hub: {0}")]
    Offline(#[source] reqwest::Error),
    /// The hub showed a certificate other than the one pinned at set-up: perhaps someone is in
    /// between. Never retried as if offline.
    #[error("This hub's certificate is not the one this device was set up with. Do not continue; tell your manager.")]
    CertificateMismatch,
    /// Without a pin, the hub's certificate failed the ordinary checks.
    #[error(
        "This device does not trust the hub's certificate. Check the hub address, or ask your manager for the \
         hub's certificate fingerprint and set the device up with it."
    )]
    UntrustedCertificate,
    /// A set-up detail that cannot be used (an address, a fingerprint); the message says why.
    #[error("{0}")]
    Setup(String),
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
    /// What is wrong, in words for the carer's sync badge, or `None` for being offline (the
    /// badge says that itself).
    pub fn plain_words(&self) -> Option<String> {
        Some(match self {
            SyncError::Offline(_) => return None,
            SyncError::Unauthorised(_) => {
                "The office's server refused this tablet: ask the office to set it up again.".to_string()
            }
            SyncError::Revoked => "The office has switched this tablet off.".to_string(),
            SyncError::CertificateMismatch | SyncError::UntrustedCertificate | SyncError::Setup(_) => self.to_string(),
            SyncError::Refused { status, .. } if *status >= 500 => {
                "The office's server has a problem. Doorstep will keep trying; your work is safe here.".to_string()
            }
            SyncError::Refused { message, .. } => format!(
                "The office's server refused this tablet's sync{}. Tell the office; your work is safe here.",
                if message.is_empty() { String::new() } else { format!(" ({message})") }
            ),
            SyncError::BadAnswer(_) => {
                "The office's server sent an answer this tablet cannot read. Doorstep will keep \
                                        trying; if it goes on, the app may need updating."
                    .to_string()
            }
            SyncError::NotEnrolled => "This tablet is not set up with the office yet.".to_string(),
            SyncError::Store(e) if e.is_storage_full() => e.to_string(),
            SyncError::Store(_) => "This tablet could not save what the office sent. Tell the office.".to_string(),
        })
    }

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
    /// Held-back records the office discarded, dropped here.
    pub discarded: usize,
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
    client_builder().build().unwrap_or_default()
}

/// No redirects: the device talks only to the hub it was enrolled with; a redirect would take
/// its token and its records somewhere else.
fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .redirect(reqwest::redirect::Policy::none())
}

/// A client that trusts only the pinned certificate; an error rather than a client without the pin.
fn pinned_client(pin: CertificatePin) -> Result<reqwest::Client, SyncError> {
    let tls =
        pin::pinned_tls(pin).map_err(|e| SyncError::Setup(format!("cannot set up the secure connection: {e}")))?;
    client_builder()
        .use_preconfigured_tls(tls)
        .build()
        .map_err(|e| SyncError::Setup(format!("cannot set up the secure connection: {e}")))
}

/// A request that did not get an answer: a refused certificate, or the hub out of reach.
fn connection_error(e: reqwest::Error) -> SyncError {
    match pin::certificate_problem(&e) {
        Some(pin::CertificateProblem::PinMismatch) => SyncError::CertificateMismatch,
        Some(pin::CertificateProblem::Untrusted) => SyncError::UntrustedCertificate,
        None => SyncError::Offline(e),
    }
}

/// Refuses a hub address that would send records unencrypted: `http://` is for a hub on this
/// machine only (the demo, tests).
fn check_hub_address(hub_url: &str, pinned: bool) -> Result<(), SyncError> {
    let url = reqwest::Url::parse(hub_url)
        .map_err(|_| SyncError::Setup(format!("\"{hub_url}\" is not a web address: it should start with https://")))?;
    match url.scheme() {
        "https" => Ok(()),
        "http" if pinned => {
            Err(SyncError::Setup("A certificate fingerprint needs a hub address starting with https://.".into()))
        }
        "http" => {
            let host = url.host_str().unwrap_or("").trim_start_matches('[').trim_end_matches(']');
            let loopback = host.eq_ignore_ascii_case("localhost")
                || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if loopback {
                Ok(())
            } else {
                Err(SyncError::Setup(
                    "The hub address must start with https:// so that records are encrypted on the way.".into(),
                ))
            }
        }
        _ => Err(SyncError::Setup("The hub address should start with https://.".into())),
    }
}
async fn refusal(response: reqwest::Response) -> SyncError {
    let status = response.status().as_u16();
    if response.status().is_redirection() {
        return SyncError::Refused {
            status,
            code: "redirect".into(),
            message: "The office's server address sent this tablet elsewhere; it was not followed. Check the address with the office.".into(),
        };
    }
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
    enrol_pinned(store, hub_url, code, device_name, None).await
}

/// Like [`enrol`], optionally pinning the hub's certificate by its SHA-256 fingerprint
/// ("AB:CD:…" or plain hex): from then on this device talks only to a hub showing that
/// certificate. Nothing is sent to a hub whose certificate does not match.
pub async fn enrol_pinned(
    store: &Mutex<Store>,
    hub_url: &str,
    code: &str,
    device_name: &str,
    hub_certificate: Option<&str>,
) -> Result<EnrolResponse, SyncError> {
    let hub_url = hub_url.trim().trim_end_matches('/');
    let pin = match hub_certificate.map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => Some(CertificatePin::parse(text).map_err(|e| SyncError::Setup(e.to_string()))?),
        None => None,
    };
    check_hub_address(hub_url, pin.is_some())?;
    let http = match pin {
        Some(pin) => pinned_client(pin)?,
        None => http_client(),
    };
    let response = http
        .post(format!("{hub_url}{API_PREFIX}/enrol"))
        .json(&EnrolRequest { code: code.to_string(), device_name: device_name.to_string() })
        .send()
        .await
        .map_err(connection_error)?;
    if !response.status().is_success() {
        return Err(refusal(response).await);
    }
    let enrolled: EnrolResponse = response.json().await.map_err(|e| SyncError::BadAnswer(e.to_string()))?;
    let mut store = store.lock().await;
    store.set_setting(SETTING_HUB, hub_url)?;
    // Empty means "not pinned" (a device enrolled again without a fingerprint).
    store.set_setting(SETTING_HUB_CERT, &pin.map(|p| p.hex()).unwrap_or_default())?;
    store.set_setting(SETTING_TOKEN, &enrolled.token)?;
    store.set_setting("device_id", &enrolled.device_id.to_string())?;
    store.set_setting("staff_ref", &enrolled.staff_ref)?;
    store.set_setting("role", enrolled.role.code())?;
    store.set_setting("organisation_id", &enrolled.organisation_id.to_string())?;
    store.set_setting("organisation_name", &enrolled.organisation_name)?;
    Ok(enrolled)
}

/// What the hub says about itself in the headers of its `/sync` answer.
struct HubHeaders {
    epoch: Option<String>,
    rules: Option<String>,
}

#[derive(Clone)]
pub struct SyncClient {
    http: reqwest::Client,
    hub_url: String,
    token: String,
    /// The most bytes of changes asked for in one answer.
    page_bytes: u32,
}

impl SyncClient {
    pub fn new(hub_url: &str, token: &str) -> SyncClient {
        SyncClient {
            http: http_client(),
            hub_url: hub_url.trim_end_matches('/').to_string(),
            token: token.to_string(),
            page_bytes: MAX_PULL_BYTES,
        }
    }

    /// A client that talks only to a hub showing the pinned certificate.
    pub fn pinned(hub_url: &str, token: &str, pin: CertificatePin) -> Result<SyncClient, SyncError> {
        Ok(SyncClient {
            http: pinned_client(pin)?,
            hub_url: hub_url.trim_end_matches('/').to_string(),
            token: token.to_string(),
            page_bytes: MAX_PULL_BYTES,
        })
    }

    /// Asks for answers of at most `bytes` of changes (the hub answers at least 64 KiB): smaller
    /// pages for a slow line, and for tests of a sync cut off between pages.
    pub fn with_page_bytes(self, bytes: u32) -> SyncClient {
        SyncClient { page_bytes: bytes, ..self }
    }

    /// The client for the hub this store is enrolled with (pinned if it was set up so).
    pub async fn for_store(store: &Mutex<Store>) -> Result<SyncClient, SyncError> {
        let store = store.lock().await;
        let pin = store.setting(SETTING_HUB_CERT)?.filter(|p| !p.is_empty());
        match (store.setting(SETTING_HUB)?, store.setting(SETTING_TOKEN)?) {
            (Some(hub), Some(token)) => match pin {
                Some(pin) => {
                    // A damaged pin must not quietly become "no pin".
                    let pin = CertificatePin::parse(&pin).map_err(|e| SyncError::Setup(e.to_string()))?;
                    SyncClient::pinned(&hub, &token, pin)
                }
                None => Ok(SyncClient::new(&hub, &token)),
            },
            _ => Err(SyncError::NotEnrolled),
        }
    }

    /// One `/sync` round trip: the answer, the hub's epoch (None from a hub that predates them),
    /// bytes sent and received.
    async fn exchange(
        &self,
        request: &SyncRequest,
        seen_epoch: Option<&str>,
        holding_back: usize,
    ) -> Result<(SyncResponse, HubHeaders, usize, usize), SyncError> {
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
        if let Some(epoch) = seen_epoch {
            post = post.header(HUB_EPOCH_HEADER, epoch);
        }
        if holding_back > 0 {
            post = post.header(HELD_BACK_HEADER, holding_back.to_string());
        }
        let response = post.body(body).send().await.map_err(connection_error)?;
        if !response.status().is_success() {
            return Err(refusal(response).await);
        }
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let hub = HubHeaders { epoch: header(HUB_EPOCH_HEADER), rules: header(HUB_RULES_HEADER) };
        let packed = response
            .headers()
            .get(reqwest::header::CONTENT_ENCODING)
            .is_some_and(|v| v.as_bytes() == CONTENT_ENCODING.as_bytes());
        let bytes = response.bytes().await.map_err(connection_error)?;
        let received = bytes.len();
        let bytes = if packed {
            doorstep_protocol::decompress(&bytes, MAX_ANSWER_BYTES).map_err(|e| SyncError::BadAnswer(e.to_string()))?
        } else {
            bytes.to_vec()
        };
        let answer =
            doorstep_protocol::decode_sync_response(&bytes).map_err(|e| SyncError::BadAnswer(e.to_string()))?;
        Ok((answer, hub, sent, received))
    }

    /// Sends a management request with this device's token; the hub's refusal becomes an error.
    async fn management(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, SyncError> {
        let response = request.bearer_auth(&self.token).send().await.map_err(connection_error)?;
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

    /// The partner directory, to rank partners for an idea (managers only).
    pub async fn partner_directory(&self) -> Result<Vec<doorstep_model::routing::PartnerListing>, SyncError> {
        self.management_json(self.http.get(format!("{}{API_PREFIX}/partner-directory", self.hub_url))).await
    }

    /// The organisation's enrolled devices (managers only).
    pub async fn devices(&self) -> Result<Vec<DeviceRow>, SyncError> {
        self.management_json(self.http.get(format!("{}{API_PREFIX}/devices", self.hub_url))).await
    }

    /// Asks every device of the organisation to send the records the hub held back again, at
    /// its next sync (managers only; audited by the hub).
    pub async fn ask_held_back_retry(&self) -> Result<(), SyncError> {
        self.management(self.http.post(format!("{}{API_PREFIX}/held-back/retry", self.hub_url))).await?;
        Ok(())
    }

    /// Asks `device` to discard its held-back changes to `record` at its next sync (managers
    /// only; audited by the hub).
    pub async fn discard_held_back(&self, device: Uuid, record: Uuid) -> Result<(), SyncError> {
        let url = format!("{}{API_PREFIX}/held-back/{device}/{record}/discard", self.hub_url);
        self.management(self.http.post(url)).await?;
        Ok(())
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
                .map_err(connection_error)?;
            if !response.status().is_success() {
                return Err(refusal(response).await);
            }
            let bytes = response.bytes().await.map_err(connection_error)?;
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

    /// Asks the hub for the whole of a record this device could not apply (the Automerge sync
    /// protocol, which sends whatever the device lacks). Applied: no longer a failure. Still
    /// not applying: the failure keeps the newest reason, for the badge, and is tried again
    /// at the next sync.
    async fn fetch_whole(
        &self,
        store: &Mutex<Store>,
        kind: RecordKind,
        id: &str,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        match self.doc_sync(store, kind, id).await {
            Ok(()) => {
                store.lock().await.clear_pull_failure(id)?;
                report.doc_syncs += 1;
                Ok(())
            }
            Err(SyncError::Store(e)) if e.is_about_the_record() => {
                store.lock().await.record_pull_failure(kind, id, &e.to_string())?;
                report.failed.push(id.to_string());
                Ok(())
            }
            // The hub no longer lets this device read it (a purge will follow): nothing to apply.
            Err(SyncError::Refused { status: 404, .. }) => Ok(store.lock().await.clear_pull_failure(id)?),
            Err(e) => Err(e),
        }
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
        let turn = store.lock().await.sync_turn();
        let _our_turn = turn.lock().await;
        let mut report = SyncReport::default();
        // Records that would not apply before are fetched whole again first: an app update may
        // read them now.
        let failed_before = store.lock().await.pull_failures()?;
        for failure in failed_before {
            self.fetch_whole(store_lock, failure.kind, &failure.id, &mut report).await?;
        }
        loop {
            let (request, outgoing, seen_epoch, holding_back) = {
                let store = store.lock().await;
                let outgoing = store.pending_changes(MAX_PUSH_BYTES)?;
                let push = outgoing
                    .iter()
                    .filter_map(|o| {
                        Uuid::parse_str(&o.id).ok().map(|id| DocChanges { id, kind: o.kind, bytes: o.bytes.clone() })
                    })
                    .collect();
                let held_back = store
                    .held_back_notes()?
                    .into_iter()
                    .filter_map(|(id, kind, reason)| {
                        Uuid::parse_str(&id).ok().map(|id| HeldBackNote { id, kind, reason })
                    })
                    .take(doorstep_protocol::MAX_HELD_BACK_NOTES)
                    .collect();
                let request = SyncRequest { cursor: store.sync_cursor()?, push, max_bytes: self.page_bytes, held_back };
                (request, outgoing, store.setting(SETTING_HUB_EPOCH)?, store.held_back_count()?)
            };
            let result = self.exchange(&request, seen_epoch.as_deref(), holding_back).await;
            let (answer, HubHeaders { epoch, rules }, sent, received) = match result {
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
            // Another epoch (or, from a hub that predates epochs, a cursor going back) means the
            // hub was restored from a backup: it may lack changes it acknowledged before, which no
            // later push would carry. Send everything again; the hub restarted our feed too.
            let restored = matches!((&seen_epoch, &epoch), (Some(seen), Some(now)) if seen != now);
            let hub_went_back = restored || answer.cursor < request.cursor;
            if hub_went_back {
                // A store from before the role was kept resends everything, as a manager's does.
                let role = store.setting("role")?.and_then(|code| Role::from_code(&code)).unwrap_or(Role::Manager);
                let documents = store.resend_all(role)?;
                tracing::warn!(
                    documents,
                    "the hub went back to an earlier state (a restore): sending every record again"
                );
            }
            // New rules at the hub may accept what it held back under the old ones.
            let mut retried = 0;
            if let Some(rules) = &rules
                && store.setting(SETTING_HUB_RULES)?.as_deref() != Some(rules.as_str())
            {
                retried = store.retry_held_back()?;
                store.set_setting(SETTING_HUB_RULES, rules)?;
                if retried > 0 {
                    tracing::info!(retried, rules, "the hub's rules changed: trying held-back records again");
                }
            }
            let mut needs_doc_sync = Vec::new();
            for held in &answer.held_back {
                tracing::warn!(id = %held.id, reason = ?held.reason, detail = %held.detail, "hub held back a record");
                if held.reason == HoldReason::NeedsDocSync {
                    if let Some(o) = outgoing.iter().find(|o| Uuid::parse_str(&o.id).ok() == Some(held.id)) {
                        needs_doc_sync.push((o.kind, o.id.clone()));
                    }
                } else {
                    // The carer and the office read the plain reason; the hub's detail (ids, rule)
                    // is in the log above and in the hub's audit.
                    store.hold_back(&held.id.to_string(), held.reason.explain())?;
                    report.held_back += 1;
                }
            }
            // The office decided these will not be sent: drop this device's changes and take the
            // hub's copy (fetched whole below), if it has one this device may read.
            let mut discarded = Vec::new();
            for id in &answer.discard {
                if let Some(kind) = store.discard_held_back(&id.to_string())? {
                    tracing::info!(%id, "the office discarded a held-back record: taking the hub's copy");
                    discarded.push((kind, id.to_string()));
                    report.discarded += 1;
                }
            }
            let mut could_not_apply = Vec::new();
            for doc in &answer.pull {
                let id = doc.id.to_string();
                match store.apply_from_hub(doc.kind, &id, &doc.bytes) {
                    Ok(_) => report.pulled += 1,
                    Err(e) if e.is_about_the_record() => {
                        tracing::error!(id = %doc.id, error = %e, "could not apply a record from the hub");
                        store.record_pull_failure(doc.kind, &id, &e.to_string())?;
                        could_not_apply.push((doc.kind, id));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            let mut waiting: Vec<String> =
                store.setting(SETTING_PURGES)?.and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
            // A record granted again since its purge was put off stays (the hub leaves a purge
            // out of a page that grants the record again after it).
            if !waiting.is_empty() {
                let arrived: std::collections::HashSet<String> = answer.pull.iter().map(|d| d.id.to_string()).collect();
                waiting.retain(|id| !arrived.contains(id));
            }
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
            if let Some(epoch) = &epoch {
                store.set_setting(SETTING_HUB_EPOCH, epoch)?;
            }
            drop(store);
            for (kind, id) in needs_doc_sync {
                self.doc_sync(store_lock, kind, &id).await?;
                report.doc_syncs += 1;
            }
            for (kind, id) in could_not_apply.into_iter().chain(discarded) {
                self.fetch_whole(store_lock, kind, &id, &mut report).await?;
            }
            let store = store_lock.lock().await;
            progress(Progress { round_trips: report.round_trips, pulled: report.pulled, remaining: answer.remaining });

            // Pending records that did not fit in this request go in the next one.
            let more_to_push =
                (acknowledged > 0 || hub_went_back || retried > 0) && store.local_sync_state()?.pending > 0;
            if (!answer.more && !more_to_push) || report.round_trips >= MAX_ROUND_TRIPS {
                drop(store);
                store_lock.lock().await.set_setting(SETTING_LAST_SYNCED, &chrono::Utc::now().to_rfc3339())?;
                return Ok(report);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_only_for_a_hub_on_this_machine() {
        for ok in ["https://hub.example", "http://127.0.0.1:8470", "http://localhost:1", "http://[::1]:2"] {
            assert!(check_hub_address(ok, false).is_ok(), "{ok}");
        }
        for refused in ["http://hub.example", "http://192.168.1.20:8470", "ftp://hub.example", "hub.example"] {
            assert!(matches!(check_hub_address(refused, false), Err(SyncError::Setup(_))), "{refused}");
        }
        assert!(check_hub_address("http://127.0.0.1:8470", true).is_err(), "a pin needs https");
    }

    #[test]
    fn a_pin_mismatch_is_neither_offline_nor_retried() {
        assert!(!SyncError::CertificateMismatch.is_transient());
        assert!(SyncError::CertificateMismatch.to_string().contains("tell your manager"));
    }
}
