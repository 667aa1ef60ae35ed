//! The partner hub's pages over HTTP: thin axum handlers over [`crate::sharing`], markup in
//! [`crate::pages`]. Server-rendered HTML that works without JavaScript; session cookies
//! (HttpOnly, SameSite=Strict, Secure when configured), a CSRF token in every form, and strict
//! security headers on every response.

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use doorstep_model::ResponseOutcome;
use serde::Deserialize;
use uuid::Uuid;

use crate::api::{MAX_FORM_BYTES, declared_over, linger};
use crate::limits::{ClientIp, ClientLimits};
use crate::pages;
use crate::service::Hub;
use crate::sharing::{InboxFilter, WebCaller, WebError, same_secret};
use crate::storage::{HubStorage, WebRole};

const SESSION_COOKIE: &str = "doorstep_session";
/// The sign-in form's CSRF token (double-submit: cookie and hidden field must match).
const SIGN_IN_COOKIE: &str = "doorstep_sign_in";
const NHSUK_CSS: &str = include_str!(concat!(env!("OUT_DIR"), "/nhsuk.css"));
const HUB_CSS: &str = include_str!("../assets/hub.css");

/// How the pages are served.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebOptions {
    /// Mark cookies `Secure`: set when the hub is reached over HTTPS (directly or via a proxy).
    pub secure_cookies: bool,
}

pub struct WebState<S> {
    pub hub: Arc<Hub<S>>,
    pub limits: Arc<ClientLimits>,
    pub options: WebOptions,
}

pub fn routes<S: HubStorage>(hub: Arc<Hub<S>>, limits: Arc<ClientLimits>, options: WebOptions) -> Router {
    let state = Arc::new(WebState { hub, limits, options });
    Router::new()
        .route("/", get(home::<S>))
        .route("/sign-in", get(sign_in_page).post(sign_in::<S>))
        .route("/sign-out", post(sign_out::<S>))
        .route("/forgotten-password", get(|| async { pages::forgotten_password() }))
        .route("/inbox", get(inbox::<S>))
        .route("/inbox.csv", get(inbox_csv::<S>))
        .route("/items/{id}", get(item::<S>))
        .route("/items/{id}/respond", post(respond::<S>))
        .route("/items/{id}/messages", post(post_message::<S>))
        .route("/items/{id}/handle", post(handle::<S>))
        .route("/items/{id}/fhir.json", get(item_fhir::<S>))
        .route("/trends", get(trends::<S>))
        .route("/trends.csv", get(trends_csv::<S>))
        .route("/activity", get(activity::<S>))
        .route("/impact", get(impact::<S>))
        .route("/feed", get(feed::<S>))
        .route("/feed/release", post(release_feed::<S>))
        .route("/assets/nhsuk.css", get(|| async { css(NHSUK_CSS) }))
        .route("/assets/hub.css", get(|| async { css(HUB_CSS) }))
        .fallback(|| async { page_error(&WebError::NotFound) })
        .method_not_allowed_fallback(|| async {
            let status = StatusCode::METHOD_NOT_ALLOWED;
            let problem = WebError::Invalid("This page cannot be used that way. Go back and try again.".into());
            (status, pages::error(status, &problem)).into_response()
        })
        .layer(axum::middleware::map_response(move |response: Response| {
            std::future::ready(security_headers(response, options.secure_cookies))
        }))
        .with_state(state)
}

fn css(body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=3600")], body)
        .into_response()
}

/// No scripts at all, nothing framed, nothing cached that holds personal data; behind HTTPS,
/// browsers are told to use nothing else.
fn security_headers(mut response: Response, https: bool) -> Response {
    let h = response.headers_mut();
    if https {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The pages' one error type answers as a page: handlers return `Result<Response, WebError>`.
impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        page_error(&self)
    }
}

/// A page for a failure, with the status it deserves.
fn page_error(e: &WebError) -> Response {
    let status = match e {
        WebError::NotFound => StatusCode::NOT_FOUND,
        WebError::Forbidden | WebError::StaleForm => StatusCode::FORBIDDEN,
        WebError::Invalid(_) => StatusCode::BAD_REQUEST,
        WebError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        WebError::WrongPassword => StatusCode::UNAUTHORIZED,
        WebError::Busy => StatusCode::SERVICE_UNAVAILABLE,
        WebError::Storage(err) => {
            tracing::error!(error = %err, "storage failure on a partner page");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    };
    (status, pages::error(status, e)).into_response()
}

/// A form within [`MAX_FORM_BYTES`]; anything else gets a page saying what was wrong, not
/// axum's plain-text rejection.
pub struct PageForm<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for PageForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if declared_over(req.headers(), MAX_FORM_BYTES) {
            linger(req);
            return Err(page_error(&WebError::TooLarge));
        }
        Form::<T>::from_request(req, state).await.map(|Form(form)| PageForm(form)).map_err(|r| {
            page_error(&if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                WebError::TooLarge
            } else {
                WebError::Invalid("This form could not be read. Go back, reload the page and try again.".into())
            })
        })
    }
}

/// A page's query string, or a page saying the address is not right.
pub struct PageQuery<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for PageQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state).await.map(|Query(q)| PageQuery(q)).map_err(|_| {
            page_error(&WebError::Invalid("This page's address is not right: check the link, or go back.".into()))
        })
    }
}

/// The signed-in person, or a redirect to the sign-in page.
pub struct SignedIn(pub WebCaller);

impl<S: HubStorage> FromRequestParts<Arc<WebState<S>>> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<WebState<S>>) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(secret) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) else {
            return Err(Redirect::to("/sign-in").into_response());
        };
        match state.hub.web_caller(&secret).await {
            Ok(Some(caller)) => Ok(SignedIn(caller)),
            Ok(None) => Err(Redirect::to("/sign-in?expired=1").into_response()),
            Err(e) => Err(page_error(&e)),
        }
    }
}

fn check_csrf(caller: &WebCaller, token: &str) -> Result<(), WebError> {
    if same_secret(&caller.session.csrf, token) { Ok(()) } else { Err(WebError::StaleForm) }
}

fn cookie(options: WebOptions, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(options.secure_cookies)
        .build()
}

fn home_of(role: WebRole) -> &'static str {
    match role {
        WebRole::Partner => "/inbox",
        WebRole::Commissioner => "/trends",
        WebRole::Manager => "/activity",
    }
}

async fn home<S: HubStorage>(State(_): State<Arc<WebState<S>>>, SignedIn(caller): SignedIn) -> Redirect {
    Redirect::to(home_of(caller.user.role))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SignInQuery {
    expired: Option<String>,
}

async fn sign_in_page<S>(
    State(state): State<Arc<WebState<S>>>,
    PageQuery(q): PageQuery<SignInQuery>,
) -> impl IntoResponse {
    let token = crate::sharing::new_form_token();
    let notice = q.expired.map(|_| "Your session has ended. Sign in again.");
    let jar = CookieJar::new().add(cookie(state.options, SIGN_IN_COOKIE, token.clone()));
    (jar, pages::sign_in(&token, "", None, notice))
}

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

async fn sign_in<S: HubStorage>(
    State(state): State<Arc<WebState<S>>>,
    client: ClientIp,
    jar: CookieJar,
    PageForm(form): PageForm<SignInForm>,
) -> Response {
    let expected = jar.get(SIGN_IN_COOKIE).map(|c| c.value().to_string()).unwrap_or_default();
    if expected.is_empty() || !same_secret(&expected, &form.csrf) {
        return Redirect::to("/sign-in?expired=1").into_response();
    }
    let again = |status: StatusCode, message: String| {
        let token = crate::sharing::new_form_token();
        let jar = CookieJar::new().add(cookie(state.options, SIGN_IN_COOKIE, token.clone()));
        (status, jar, pages::sign_in(&token, &form.email, Some(&message), None)).into_response()
    };
    if !state.limits.sign_in(&client) {
        return again(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many sign-in attempts from this network. Wait a minute, then try again.".into(),
        );
    }
    if form.email.trim().is_empty() || form.password.is_empty() {
        return again(StatusCode::BAD_REQUEST, "Enter your email address and password.".into());
    }
    match state.hub.sign_in(&form.email, &form.password).await {
        Ok((secret, caller)) => {
            let jar =
                jar.remove(Cookie::build(SIGN_IN_COOKIE).path("/")).add(cookie(state.options, SESSION_COOKIE, secret));
            (jar, Redirect::to(home_of(caller.user.role))).into_response()
        }
        Err(e @ WebError::WrongPassword) => again(StatusCode::UNAUTHORIZED, e.to_string()),
        Err(e @ WebError::Busy) => again(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
        Err(e) => page_error(&e),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn sign_out<S: HubStorage>(
    State(state): State<Arc<WebState<S>>>,
    SignedIn(caller): SignedIn,
    jar: CookieJar,
    PageForm(form): PageForm<CsrfForm>,
) -> Response {
    if let Err(e) = check_csrf(&caller, &form.csrf) {
        return page_error(&e);
    }
    if let Err(e) = state.hub.sign_out(&caller).await {
        return page_error(&e);
    }
    (jar.remove(Cookie::build(SESSION_COOKIE).path("/")), Redirect::to("/sign-in")).into_response()
}

async fn inbox<S: HubStorage>(
    State(state): State<Arc<WebState<S>>>,
    SignedIn(caller): SignedIn,
    PageQuery(filter): PageQuery<InboxFilter>,
) -> Page {
    let inbox = state.hub.inbox(&caller, &filter).await?;
    Ok(pages::inbox(&caller, &filter, &inbox).into_response())
}

async fn inbox_csv<S: HubStorage>(State(state): State<Arc<WebState<S>>>, SignedIn(caller): SignedIn) -> Page {
    Ok(csv_download("shared-items.csv", state.hub.shared_items_csv(&caller).await?))
}

fn csv_download(filename: &str, body: String) -> Response {
    let disposition = format!("attachment; filename=\"{filename}\"");
    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, disposition)], body)
        .into_response()
}

/// An item's id from its address; anything else is a page that does not exist.
fn parse_id(id: &str) -> Result<Uuid, WebError> {
    Uuid::parse_str(id).map_err(|_| WebError::NotFound)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ItemQuery {
    answered: Option<String>,
    sent: Option<String>,
}

async fn item<S: HubStorage>(
    State(state): State<Arc<WebState<S>>>,
    SignedIn(caller): SignedIn,
    Path(id): Path<String>,
    PageQuery(q): PageQuery<ItemQuery>,
) -> Page {
    let page = state.hub.item_page(&caller, parse_id(&id)?).await?;
    let notice = if q.answered.is_some() {
        Some("Your response is saved. The care provider and the care worker will see it on their next sync.")
    } else if q.sent.is_some() {
        Some("Your message is sent. The care provider and the care worker will see it on their next sync.")
    } else {
        None
    };
    Ok(pages::item(&caller, &page, pages::ItemForms { notice, ..Default::default() }).into_response())
}

#[derive(Deserialize)]
struct RespondForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    message: String,
    /// "yes", "no" or "not_sure" (or nothing): did acting on it likely avoid an admission?
    #[serde(default)]
    avoided: String,
}

async fn respond<S: HubStorage>(
    State(state): State<Arc<WebState<S>>>,
    SignedIn(caller): SignedIn,
    Path(id): Path<String>,
    PageForm(form): PageForm<RespondForm>,
) -> Response {
    let Ok(id) = parse_id(&id) else { return page_error(&WebError::NotFound) };
    if let Err(e) = check_csrf(&caller, &form.csrf) {
        return page_error(&e);
    }
    let outcome = match ResponseOutcome::from_code(&form.outcome) {
        Some(o) => Ok(o),
        None => Err(WebError::Invalid("Choose what you have done about it.".into())),
    };
    let result = match outcome {
        Ok(outcome) => {
            let avoided = match form.avoided.as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            };
            state.hub.respond_judged(&caller, id, outcome, &form.message, avoided).await.map(|_| ())
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Redirect::to(&format!("/items/{id}?answered=1")).into_response(),
        Err(WebError::Invalid(problem)) => {
            let forms = pages::ItemForms {
                respond: Some((&problem, &form.outcome, &form.message)),
                avoided: &form.avoided,
                ..Default::default()
            };
            item_again(&state, &caller, id, forms).await
        }
        Err(e) => page_error(&e),
    }
}

/// The item's page again after a form's problem: the problem said plainly, what was typed kept.
async fn item_again<S: HubStorage>(
    state: &WebState<S>,
    caller: &WebCaller,
    id: Uuid,
    forms: pages::ItemForms<'_>,
) -> Response {
    match state.hub.item_page(caller, id).await {
        Ok(page) => (StatusCode::BAD_REQUEST, pages::item(caller, &page, forms)).into_response(),
        Err(e) => page_error(&e),
    }
}

#[derive(Deserialize)]
struct MessageForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
}

/// A partner's message in the item's conversation; a problem re-shows the page with the words
/// kept.
async fn post_message<S: HubStorage>(
    State(state): State<Arc<WebState<S>>>,
    SignedIn(caller): SignedIn,
    Path(id): Path<String>,
    PageForm(form): PageForm<MessageForm>,
) -> Response {
    let Ok(id) = parse_id(&id) else { return page_error(&WebError::NotFound) };
    if let Err(e) = check_csrf(&caller, &form.csrf) {
        return page_error(&e);
    }
    match state.hub.post_message(&caller, id, &form.text).await {
        Ok(_) => Redirect::to(&format!("/items/{id}?sent=1#conversation")).into_response(),
        Err(WebError::Invalid(problem)) => {
            let forms = pages::ItemForms { message: Some((&problem, &form.text)), ..Default::default() };
            item_again(&state, &caller, id, forms).await
        }
        Err(e) => page_error(&e),
    }
}

/// "I am handling this".
async fn handle<S: HubStorage>(
    State(state): State<Arc<WebState<S>>>,
    SignedIn(caller): SignedIn,
    Path(id): Path<String>,
    PageForm(form): PageForm<CsrfForm>,
) -> Page {
    let id = parse_id(&id)?;
    check_csrf(&caller, &form.csrf)?;
    state.hub.handle(&caller, id).await?;
    Ok(Redirect::to(&format!("/items/{id}")).into_response())
}

async fn item_fhir<S: HubStorage>(
    State(state): State<Arc<WebState<S>>>,
    SignedIn(caller): SignedIn,
    Path(id): Path<String>,
) -> Page {
    let item = state.hub.shared_item(&caller, parse_id(&id)?, "export_fhir").await?;
    let fhir = [(header::CONTENT_TYPE, "application/fhir+json; charset=utf-8")];
    Ok((fhir, Json(crate::fhir::bundle(&item, "urn:doorstep"))).into_response())
}

type Page = Result<Response, WebError>;

async fn trends<S: HubStorage>(State(state): State<Arc<WebState<S>>>, SignedIn(caller): SignedIn) -> Page {
    let t = state.hub.trends(&caller).await?;
    Ok(pages::trends(&caller, &t).into_response())
}

async fn trends_csv<S: HubStorage>(State(state): State<Arc<WebState<S>>>, SignedIn(caller): SignedIn) -> Page {
    let t = state.hub.trends(&caller).await?;
    Ok(csv_download("trends.csv", crate::trends::to_csv(&t)))
}

async fn impact<S: HubStorage>(State(state): State<Arc<WebState<S>>>, SignedIn(caller): SignedIn) -> Page {
    let i = state.hub.impact(&caller).await?;
    Ok(pages::impact(&caller, &i).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FeedQuery {
    released: Option<String>,
}

async fn feed<S: HubStorage>(
    State(state): State<Arc<WebState<S>>>,
    SignedIn(caller): SignedIn,
    PageQuery(q): PageQuery<FeedQuery>,
) -> Page {
    let feed = state.hub.feed(&caller).await?;
    Ok(pages::feed(&caller, &feed, q.released.as_deref()).into_response())
}

#[derive(Deserialize)]
struct ReleaseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    week: String,
}

/// A manager releases one week of their provider's feed; the hub checks the provider is theirs.
async fn release_feed<S: HubStorage>(
    State(state): State<Arc<WebState<S>>>,
    SignedIn(caller): SignedIn,
    PageForm(form): PageForm<ReleaseForm>,
) -> Page {
    check_csrf(&caller, &form.csrf)?;
    state.hub.release_week(&caller, &form.provider, &form.week).await?;
    let week = urlencoding_week(&form.week);
    Ok(Redirect::to(&format!("/feed?released={week}")).into_response())
}

/// A week's date for the address after a release: only digits and dashes get through.
fn urlencoding_week(week: &str) -> String {
    week.trim().chars().filter(|c| c.is_ascii_digit() || *c == '-').take(10).collect()
}

async fn activity<S: HubStorage>(State(state): State<Arc<WebState<S>>>, SignedIn(caller): SignedIn) -> Page {
    let entries = state.hub.partner_activity(&caller).await?;
    Ok(pages::activity(&caller, &entries).into_response())
}
