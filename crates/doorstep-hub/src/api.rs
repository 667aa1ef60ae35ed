//! HTTP: thin axum handlers over [`Hub`]. Binary sync bodies, JSON everything else, errors as
//! JSON with a stable code.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{Duration, Utc};
use doorstep_protocol::{
    API_PREFIX, ApiError, CONTENT_ENCODING, DocSyncRequest, EnrolRequest, EnrolResponse, EnrolmentCodeRequest,
    EnrolmentCodeResponse, HUB_EPOCH_HEADER, HUB_RULES_HEADER, Role, SYNC_CONTENT_TYPE, SyncRequest,
};
use uuid::Uuid;

use doorstep_model::view::{DeviceRow, HeldBackOnDevice};
use doorstep_model::{PartnerKind, PartnerOrg};

use crate::limits::{ClientIp, ClientLimits};
use crate::service::{
    Caller, Hub, Refusal, ServiceError, authenticate_from, enrolment_code_hash, new_enrolment_code, new_token,
};
use crate::storage::{AuditEntry, Device, EnrolmentCode, HubStorage, StorageError};
use crate::web::WebOptions;

/// The largest sync body accepted (a device pushes at most 4 MiB of changes at a time).
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// The largest body of any other request: JSON and the pages' forms (a partner's longest
/// answer, percent-encoded, is under 48 KiB). Nothing else needs more, so nothing gets more.
pub const MAX_FORM_BYTES: usize = 64 * 1024;
/// Staff references are short codes from the provider's rota ("C001").
pub const MAX_STAFF_REF_CHARS: usize = 64;

pub struct AppState<S> {
    pub hub: Arc<Hub<S>>,
    pub limits: Arc<ClientLimits>,
}

/// The hub's routes (the devices' API and the partner pages), ready to serve.
pub fn app<S: HubStorage>(hub: Hub<S>) -> Router {
    app_with(hub, WebOptions::default())
}

pub fn app_with<S: HubStorage>(hub: Hub<S>, web: WebOptions) -> Router {
    let hub = Arc::new(hub);
    let limits = Arc::new(ClientLimits::default());
    let state = Arc::new(AppState { hub: hub.clone(), limits: limits.clone() });
    let metrics_hub = hub.clone();
    let api = Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready::<S>))
        .route("/enrol", post(enrol::<S>))
        .route("/sync", post(sync::<S>).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)))
        .route("/docs/{id}/sync", post(doc_sync::<S>).layer(DefaultBodyLimit::max(MAX_BODY_BYTES)))
        .route("/enrolment-codes", post(create_enrolment_code::<S>))
        .route("/partners", get(partners::<S>))
        .route("/devices", get(devices::<S>))
        .route("/devices/{id}/revoke", post(revoke_device::<S>))
        .route("/held-back/retry", post(ask_held_back_retry::<S>))
        .route("/held-back/{device}/{record}/discard", post(discard_held_back::<S>))
        .fallback(|| async { AppError::Service(ServiceError::NotFound("there is no such API address".into())) })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .with_state(state);
    Router::new()
        .nest(API_PREFIX, api)
        .merge(crate::web::routes(hub, limits, web))
        .route("/metrics", get(move |request: Request| crate::metrics::serve(metrics_hub, request)))
        // Sync routes raise this for themselves.
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn(crate::metrics::track))
}

/// Every failure the API reports. Client errors are said plainly and not logged as failures;
/// internal ones are logged and hidden.
#[derive(Debug)]
pub enum AppError {
    Service(ServiceError),
    BadBody(String),
    TooMany(String),
    /// A body over the limit (in bytes) of the address it was sent to.
    TooLarge(usize),
    UnsupportedType(String),
    MethodNotAllowed,
}

impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        AppError::Service(e)
    }
}

impl From<StorageError> for AppError {
    fn from(e: StorageError) -> Self {
        AppError::Service(ServiceError::Storage(e))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            AppError::BadBody(m) => (StatusCode::BAD_REQUEST, "bad_request", m),
            AppError::TooMany(m) => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests", m),
            AppError::TooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                format!("the request is too large: the hub takes at most {} here", size(limit)),
            ),
            AppError::UnsupportedType(m) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", m),
            AppError::MethodNotAllowed => {
                (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this address does not take that method".into())
            }
            AppError::Service(e) => match e {
                ServiceError::Unauthorised(m) => (StatusCode::UNAUTHORIZED, "unauthorised", m.to_string()),
                ServiceError::Revoked => (StatusCode::FORBIDDEN, "revoked", e.to_string()),
                ServiceError::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m),
                ServiceError::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m),
                ServiceError::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m),
                ServiceError::Storage(e) if e.is_storage_full() => {
                    tracing::error!(error = %e, "the hub's disk is full");
                    (
                        StatusCode::INSUFFICIENT_STORAGE,
                        "storage_full",
                        "the hub's storage is full: nothing was stored; your changes are kept on the device and will be sent later".into(),
                    )
                }
                ServiceError::Storage(e) => {
                    tracing::error!(error = %e, "storage failure");
                    (StatusCode::INTERNAL_SERVER_ERROR, "internal", "the hub could not complete this; try again".into())
                }
            },
        };
        (status, Json(ApiError { code: code.into(), message })).into_response()
    }
}

/// A size for people: "64 KiB", "32 MiB".
pub fn size(bytes: usize) -> String {
    if bytes >= 1024 * 1024 { format!("{} MiB", bytes / (1024 * 1024)) } else { format!("{} KiB", bytes / 1024) }
}

/// Whether a body's declared length is over `limit`: such a body is refused before any of it
/// is read (one sent in chunks is cut off at the limit as it arrives).
pub fn declared_over(headers: &HeaderMap, limit: usize) -> bool {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|n| n > limit as u64)
}

/// The most of a refused body the hub reads and drops, and for how long: closing a connection
/// with a body still arriving resets it, and the client, still sending, would see a broken
/// connection instead of the refusal (HTTP's "lingering close").
const LINGER_BYTES: u64 = 128 * 1024 * 1024;
const LINGER: std::time::Duration = std::time::Duration::from_secs(10);

/// Reads and drops the rest of a refused request's body in the background, within bounds.
pub fn linger(req: Request) {
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > LINGER_BYTES) {
        return;
    }
    let mut body = req.into_body();
    tokio::spawn(tokio::time::timeout(LINGER, async move {
        use axum::body::HttpBody;
        let mut read = 0u64;
        while let Some(Ok(frame)) = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await {
            read += frame.data_ref().map_or(0, |d| d.len() as u64);
            if read > LINGER_BYTES {
                break;
            }
        }
    }));
}

/// A binary sync body of the protocol's content type, within [`MAX_BODY_BYTES`]; anything else
/// is refused with the API's JSON error rather than axum's plain-text one.
pub struct SyncBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for SyncBody {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if content_type.split(';').next().map(str::trim) != Some(SYNC_CONTENT_TYPE) {
            return Err(AppError::UnsupportedType(format!("sync bodies are sent as {SYNC_CONTENT_TYPE}")));
        }
        if declared_over(req.headers(), MAX_BODY_BYTES) {
            linger(req);
            return Err(AppError::TooLarge(MAX_BODY_BYTES));
        }
        Bytes::from_request(req, state)
            .await
            .map(SyncBody)
            .map_err(|r| body_refused(r.status(), r.body_text(), MAX_BODY_BYTES))
    }
}

/// A JSON body within [`MAX_FORM_BYTES`], refused with the API's JSON error otherwise.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if declared_over(req.headers(), MAX_FORM_BYTES) {
            linger(req);
            return Err(AppError::TooLarge(MAX_FORM_BYTES));
        }
        Json::<T>::from_request(req, state)
            .await
            .map(|Json(value)| ApiJson(value))
            .map_err(|r| body_refused(r.status(), r.body_text(), MAX_FORM_BYTES))
    }
}

fn body_refused(status: StatusCode, text: String, limit: usize) -> AppError {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge(limit),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::UnsupportedType(text),
        _ => AppError::BadBody(text),
    }
}

/// The authenticated device behind a request's bearer token.
pub struct Authenticated(pub Caller);

impl<S: HubStorage> FromRequestParts<Arc<AppState<S>>> for Authenticated {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState<S>>) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ServiceError::Unauthorised("a device token is required"))?
            .to_string();
        let ClientIp(source) = ClientIp::from_request_parts(parts, state).await.unwrap_or(ClientIp(None));
        let caller =
            authenticate_from(&state.hub.storage, token.trim(), source, Some(&state.hub.refused_tokens)).await?;
        Ok(Authenticated(caller))
    }
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Readiness: the database answers a real query (liveness, `/health`, asks nothing of it).
async fn ready<S: HubStorage>(State(state): State<Arc<AppState<S>>>) -> Response {
    match state.hub.storage.max_seq().await {
        Ok(_) => Json(serde_json::json!({ "status": "ready" })).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "not ready: the database did not answer");
            let message = "the hub cannot reach its database".to_string();
            (StatusCode::SERVICE_UNAVAILABLE, Json(ApiError { code: "not_ready".into(), message })).into_response()
        }
    }
}

/// A binary body as sent, unpacked if the device compressed it.
fn unpack(headers: &HeaderMap, body: &Bytes) -> Result<Vec<u8>, AppError> {
    match headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()) {
        None | Some("identity") => Ok(body.to_vec()),
        Some(CONTENT_ENCODING) => doorstep_protocol::decompress(body, MAX_BODY_BYTES).map_err(|e| match e {
            // A small body must not unpack into a huge one.
            doorstep_protocol::DecodeError::TooLarge(limit) => AppError::TooLarge(limit),
            e => AppError::BadBody(format!("the body could not be unpacked: {e}")),
        }),
        Some(other) => Err(AppError::BadBody(format!("content encoding {other} is not supported (use deflate)"))),
    }
}

/// A binary answer, compressed when the device accepts it and it helps.
fn binary_answer(headers: &HeaderMap, body: Vec<u8>) -> Response {
    let accepts = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with(CONTENT_ENCODING)));
    let (body, compressed) = if accepts { doorstep_protocol::compress(body) } else { (body, false) };
    if compressed {
        ([(header::CONTENT_TYPE, SYNC_CONTENT_TYPE), (header::CONTENT_ENCODING, CONTENT_ENCODING)], body)
            .into_response()
    } else {
        ([(header::CONTENT_TYPE, SYNC_CONTENT_TYPE)], body).into_response()
    }
}

async fn sync<S: HubStorage>(
    State(state): State<Arc<AppState<S>>>,
    Authenticated(caller): Authenticated,
    headers: HeaderMap,
    SyncBody(body): SyncBody,
) -> Result<Response, AppError> {
    let body = unpack(&headers, &body)?;
    let request: SyncRequest = doorstep_protocol::decode_sync_request(&body)
        .map_err(|e| AppError::BadBody(format!("not a sync request: {e}")))?;
    let seen_epoch = headers.get(HUB_EPOCH_HEADER).and_then(|v| v.to_str().ok());
    // What the device says it still holds back; a count only, for the office's devices page.
    let holding_back = headers
        .get(doorstep_protocol::HELD_BACK_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(0);
    let crate::service::SyncAnswer { response, epoch, rules } =
        state.hub.sync(&caller, request, seen_epoch, holding_back).await?;
    for held in &response.held_back {
        crate::metrics::global().held_back(hold_reason_label(held.reason));
    }
    let mut answer = binary_answer(&headers, doorstep_protocol::encode(&response));
    if let Ok(value) = HeaderValue::from_str(&epoch) {
        answer.headers_mut().insert(HUB_EPOCH_HEADER, value);
    }
    if let Ok(value) = HeaderValue::from_str(&rules) {
        answer.headers_mut().insert(HUB_RULES_HEADER, value);
    }
    Ok(answer)
}

fn hold_reason_label(reason: doorstep_protocol::HoldReason) -> &'static str {
    use doorstep_protocol::HoldReason;
    match reason {
        HoldReason::Corrupt => "corrupt",
        HoldReason::Forbidden => "forbidden",
        HoldReason::TooLarge => "too_large",
        HoldReason::NeedsDocSync => "needs_doc_sync",
    }
}

async fn doc_sync<S: HubStorage>(
    State(state): State<Arc<AppState<S>>>,
    Authenticated(caller): Authenticated,
    id: Result<Path<Uuid>, PathRejection>,
    SyncBody(body): SyncBody,
) -> Result<Response, AppError> {
    let Ok(Path(id)) = id else { return Err(AppError::BadBody("that is not a record id".into())) };
    let request: DocSyncRequest =
        doorstep_protocol::decode(&body).map_err(|e| AppError::BadBody(format!("not a document sync request: {e}")))?;
    let response = state.hub.doc_sync(&caller, id, request).await?;
    Ok(([(header::CONTENT_TYPE, SYNC_CONTENT_TYPE)], doorstep_protocol::encode(&response)).into_response())
}

async fn enrol<S: HubStorage>(
    State(state): State<Arc<AppState<S>>>,
    client: ClientIp,
    ApiJson(request): ApiJson<EnrolRequest>,
) -> Result<Json<EnrolResponse>, AppError> {
    if !state.limits.enrol(&client) {
        return Err(AppError::TooMany("too many enrolment attempts from this network: wait a minute".into()));
    }
    let name = request.device_name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ServiceError::BadRequest("give the device a name of up to 100 characters".into()).into());
    }
    let id = Uuid::new_v4();
    let (token, token_hash) = new_token(id);
    let placeholder = Device {
        id,
        org_id: Uuid::nil(),
        staff_ref: String::new(),
        role: Role::Carer,
        name: name.to_string(),
        token_hash,
        revoked: false,
    };
    let storage = &state.hub.storage;
    let now = Utc::now().timestamp_millis();
    let redeemed =
        storage.redeem_enrolment_code(enrolment_code_hash(storage.code_key(), &request.code), now, placeholder).await?;
    let Some(device) = redeemed else {
        // A wrong code is someone guessing (or a typo): in the log, one line a source and minute
        // carrying the count of the rest, as for refused device tokens.
        let refusal = Refusal {
            actor: "enrolment".into(),
            action: "enrol",
            detail: "enrolment code not valid, used or expired".into(),
        };
        state.hub.refused_codes.audit(storage, client.0, now, refusal).await?;
        return Err(ServiceError::Unauthorised(
            "that enrolment code is not valid, used, or expired: ask your manager for a new one",
        )
        .into());
    };
    let org = storage.organisation(device.org_id).await?;
    tracing::info!(device = %device.id, staff = %device.staff_ref, role = device.role.code(), "device enrolled");
    storage
        .audit(AuditEntry {
            at: now,
            actor: format!("device {}", device.id),
            action: "enrol".into(),
            doc_id: None,
            allowed: true,
            detail: format!(
                "{} {} of {} enrolled as {:?}",
                device.role.code(),
                device.staff_ref,
                device.org_id,
                device.name
            ),
        })
        .await?;
    Ok(Json(EnrolResponse {
        device_id: device.id,
        token,
        organisation_id: device.org_id,
        organisation_name: org.map(|o| o.name).unwrap_or_default(),
        staff_ref: device.staff_ref,
        role: device.role,
    }))
}

fn require_manager(caller: &Caller) -> Result<(), AppError> {
    if caller.device.role == Role::Manager {
        Ok(())
    } else {
        Err(ServiceError::Forbidden("only a manager can do this".into()).into())
    }
}

/// Issues a one-time enrolment code for a member of the manager's own organisation.
pub async fn issue_enrolment_code<S: HubStorage>(
    storage: &S,
    org_id: Uuid,
    staff_ref: &str,
    role: Role,
    created_by: &str,
) -> Result<EnrolmentCodeResponse, AppError> {
    let staff_ref = staff_ref.trim();
    if staff_ref.is_empty() {
        return Err(ServiceError::BadRequest("a staff reference is needed".into()).into());
    }
    // It names the member of staff in every access row and audit entry about them.
    if staff_ref.chars().count() > MAX_STAFF_REF_CHARS {
        return Err(ServiceError::BadRequest(format!(
            "a staff reference has at most {MAX_STAFF_REF_CHARS} characters"
        ))
        .into());
    }
    let code = new_enrolment_code();
    let expires = Utc::now() + Duration::hours(24);
    storage
        .create_enrolment_code(EnrolmentCode {
            code_hash: enrolment_code_hash(storage.code_key(), &code),
            org_id,
            staff_ref: staff_ref.to_string(),
            role,
            created_by: created_by.to_string(),
            expires_at: expires.timestamp_millis(),
        })
        .await?;
    Ok(EnrolmentCodeResponse { code, expires_at: expires.to_rfc3339() })
}

async fn create_enrolment_code<S: HubStorage>(
    State(state): State<Arc<AppState<S>>>,
    Authenticated(caller): Authenticated,
    ApiJson(request): ApiJson<EnrolmentCodeRequest>,
) -> Result<Json<EnrolmentCodeResponse>, AppError> {
    require_manager(&caller)?;
    if !matches!(request.role, Role::Carer | Role::Manager) {
        return Err(ServiceError::BadRequest("devices enrol as carers or managers".into()).into());
    }
    let d = &caller.device;
    let created_by = format!("{} ({})", d.staff_ref, d.id);
    Ok(Json(issue_enrolment_code(&state.hub.storage, d.org_id, &request.staff_ref, request.role, &created_by).await?))
}

/// The partner organisations a manager may share ideas with.
async fn partners<S: HubStorage>(
    State(state): State<Arc<AppState<S>>>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Vec<PartnerOrg>>, AppError> {
    require_manager(&caller)?;
    let orgs = state.hub.storage.partner_organisations().await?;
    Ok(Json(
        orgs.into_iter()
            .map(|o| PartnerOrg { id: o.id, name: o.name, kind: o.partner_kind.unwrap_or(PartnerKind::Other) })
            .collect(),
    ))
}

/// The manager's own organisation's devices.
async fn devices<S: HubStorage>(
    State(state): State<Arc<AppState<S>>>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Vec<DeviceRow>>, AppError> {
    require_manager(&caller)?;
    let devices = state.hub.storage.device_statuses(Some(caller.device.org_id)).await?;
    let held = state.hub.storage.held_back_records(caller.device.org_id).await?;
    Ok(Json(
        devices
            .into_iter()
            .map(|s| DeviceRow {
                id: s.device.id,
                held_back_records: held
                    .iter()
                    .filter(|h| h.device == s.device.id)
                    .map(|h| HeldBackOnDevice {
                        record: h.record,
                        kind: h.kind,
                        what: String::new(),
                        reason: h.reason.clone(),
                        since: chrono::DateTime::from_timestamp_millis(h.since).unwrap_or_default(),
                        discard_asked: h.discard_asked,
                    })
                    .collect(),
                name: s.device.name,
                staff_ref: s.device.staff_ref,
                role: s.device.role,
                revoked: s.device.revoked,
                last_sync_at: s.last_sync_at.and_then(chrono::DateTime::from_timestamp_millis),
                held_back: s.last_held_back,
            })
            .collect(),
    ))
}

/// A manager decides a record one of the organisation's devices keeps back will not be sent
/// (say, a change a carer may not make): the device drops its own changes to it at its next
/// sync and takes the hub's copy. Audited, refused or not.
async fn discard_held_back<S: HubStorage>(
    State(state): State<Arc<AppState<S>>>,
    Authenticated(caller): Authenticated,
    ids: Result<Path<(Uuid, Uuid)>, PathRejection>,
) -> Result<StatusCode, AppError> {
    require_manager(&caller)?;
    let Ok(Path((device, record))) = ids else {
        return Err(ServiceError::NotFound("no such held-back record".into()).into());
    };
    let storage = &state.hub.storage;
    let audit = |allowed: bool, detail: String| {
        storage.audit(crate::storage::AuditEntry {
            at: Utc::now().timestamp_millis(),
            actor: caller.describe(),
            action: "held_back_discard".into(),
            doc_id: Some(record),
            allowed,
            detail,
        })
    };
    // Another organisation's device is answered as one that keeps nothing back.
    let target = storage.device(device).await?.filter(|d| d.org_id == caller.device.org_id);
    let asked = match &target {
        Some(target) => storage.ask_discard(target.id, record, Utc::now().timestamp_millis()).await?,
        None => false,
    };
    if !asked {
        audit(false, format!("device {device} does not keep record {record} back")).await?;
        return Err(ServiceError::NotFound("that device does not keep this record back".into()).into());
    }
    audit(true, format!("asked device {device} to discard its held-back changes to {record}")).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A manager asks every device of the organisation to send the records the hub held back again
/// (after the office fixed what was wrong): each sees it at its next sync. Audited.
async fn ask_held_back_retry<S: HubStorage>(
    State(state): State<Arc<AppState<S>>>,
    Authenticated(caller): Authenticated,
) -> Result<StatusCode, AppError> {
    require_manager(&caller)?;
    let storage = &state.hub.storage;
    let asked = storage.ask_held_back_retry(caller.device.org_id).await?;
    storage
        .audit(crate::storage::AuditEntry {
            at: Utc::now().timestamp_millis(),
            actor: caller.describe(),
            action: "held_back_retry".into(),
            doc_id: None,
            allowed: true,
            detail: format!("asked the organisation's devices to send held-back records again (request {asked})"),
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn revoke_device<S: HubStorage>(
    State(state): State<Arc<AppState<S>>>,
    Authenticated(caller): Authenticated,
    id: Result<Path<Uuid>, PathRejection>,
) -> Result<StatusCode, AppError> {
    require_manager(&caller)?;
    // Not a device id: answered like an id of no device.
    let Ok(Path(id)) = id else { return Err(ServiceError::NotFound("no such device".into()).into()) };
    let storage = &state.hub.storage;
    let audit = |allowed: bool, detail: String| {
        storage.audit(crate::storage::AuditEntry {
            at: Utc::now().timestamp_millis(),
            actor: caller.describe(),
            action: "revoke_device".into(),
            doc_id: None,
            allowed,
            detail,
        })
    };
    // Another organisation's device looks exactly like one that does not exist; both refusals
    // are audited alike.
    let target = storage.device(id).await?.filter(|d| d.org_id == caller.device.org_id);
    let Some(target) = target else {
        audit(false, format!("{id} is not a device of this organisation")).await?;
        return Err(ServiceError::NotFound("no such device".into()).into());
    };
    storage.revoke_device(target.id, Utc::now().timestamp_millis()).await?;
    audit(true, format!("revoked device {} ({} {})", target.id, target.role.code(), target.staff_ref)).await?;
    tracing::info!(device = %target.id, by = %caller.device.id, "device revoked");
    Ok(StatusCode::NO_CONTENT)
}
