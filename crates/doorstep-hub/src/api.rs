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
use doorstep_protocol::{
    API_PREFIX, ApiError, CONTENT_ENCODING, DocSyncRequest, EnrolRequest, EnrolResponse, EnrolmentCodeRequest,
    EnrolmentCodeResponse, HUB_EPOCH_HEADER, HUB_RULES_HEADER, SYNC_CONTENT_TYPE, SyncRequest,
};
use uuid::Uuid;

use doorstep_model::PartnerOrg;
use doorstep_model::view::DeviceRow;

use crate::limits::{ClientIp, ClientLimits};
use crate::service::{Caller, Hub, ServiceError, authenticate_from, require_manager};
pub use crate::service::{MAX_STAFF_REF_CHARS, issue_enrolment_code};
use crate::storage::{HubStorage, StorageError};
use crate::web::WebOptions;

/// The largest sync body accepted (a device pushes at most 4 MiB of changes at a time).
pub const MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
/// The largest body of any other request: JSON and the pages' forms (a partner's longest
/// answer, percent-encoded, is under 48 KiB). Nothing else needs more, so nothing gets more.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

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
    if let Some(mail) = hub.mail.clone() {
        tokio::spawn(crate::notify::run_mailer(hub.clone(), mail));
    }
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
        .route("/partner-directory", get(partner_directory::<S>))
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
    Ok(Json(state.hub.enrol(&request, client.0).await?))
}

async fn create_enrolment_code<S: HubStorage>(
    State(state): State<Arc<AppState<S>>>,
    Authenticated(caller): Authenticated,
    ApiJson(request): ApiJson<EnrolmentCodeRequest>,
) -> Result<Json<EnrolmentCodeResponse>, AppError> {
    Ok(Json(state.hub.create_enrolment_code(&caller, &request).await?))
}

/// The partner organisations a manager may share ideas with.
async fn partners<S: HubStorage>(
    State(state): State<Arc<AppState<S>>>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Vec<PartnerOrg>>, AppError> {
    Ok(Json(state.hub.partners(&caller).await?))
}

/// The partner directory, to rank partners for an idea.
async fn partner_directory<S: HubStorage>(
    State(state): State<Arc<AppState<S>>>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Vec<doorstep_model::routing::PartnerListing>>, AppError> {
    Ok(Json(state.hub.partner_listings(&caller).await?))
}

/// The manager's own organisation's devices.
async fn devices<S: HubStorage>(
    State(state): State<Arc<AppState<S>>>,
    Authenticated(caller): Authenticated,
) -> Result<Json<Vec<DeviceRow>>, AppError> {
    Ok(Json(state.hub.devices(&caller).await?))
}

/// See [`Hub::discard_held_back`].
async fn discard_held_back<S: HubStorage>(
    State(state): State<Arc<AppState<S>>>,
    Authenticated(caller): Authenticated,
    ids: Result<Path<(Uuid, Uuid)>, PathRejection>,
) -> Result<StatusCode, AppError> {
    // Refused to other roles before the address is looked at, as ever.
    require_manager(&caller)?;
    let Ok(Path((device, record))) = ids else {
        return Err(ServiceError::NotFound("no such held-back record".into()).into());
    };
    state.hub.discard_held_back(&caller, device, record).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// See [`Hub::ask_held_back_retry`].
async fn ask_held_back_retry<S: HubStorage>(
    State(state): State<Arc<AppState<S>>>,
    Authenticated(caller): Authenticated,
) -> Result<StatusCode, AppError> {
    state.hub.ask_held_back_retry(&caller).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// See [`Hub::revoke_device`].
async fn revoke_device<S: HubStorage>(
    State(state): State<Arc<AppState<S>>>,
    Authenticated(caller): Authenticated,
    id: Result<Path<Uuid>, PathRejection>,
) -> Result<StatusCode, AppError> {
    // Refused to other roles before the address is looked at, as ever.
    require_manager(&caller)?;
    // Not a device id: answered like an id of no device.
    let Ok(Path(id)) = id else { return Err(ServiceError::NotFound("no such device".into()).into()) };
    state.hub.revoke_device(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
