//! The hub's metrics, served at `/metrics` in the Prometheus text format (0.0.4), and one
//! structured log line per request.
//!
//! No label ever holds an id, a staff reference, an email or a raw path: routes are axum's
//! templates (`/api/v1/docs/{id}/sync`), denials are the audited action's name, held-back
//! records their reason. Process-wide, so the storage backends can count audited refusals
//! without every caller passing a handle around.
//!
//! Who may read it: clients connecting from this machine (loopback, and not through the TLS
//! proxy, which adds `X-Forwarded-For`), or anyone presenting the token set in
//! `DOORSTEP_METRICS_TOKEN`. The counts reveal activity levels, not records, but an
//! outsider has no need of them.

use std::fmt::Write;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::server::Peer;
use crate::service::Hub;
use crate::storage::HubStorage;

/// A device counts as active for this long after its last sync.
pub const ACTIVE_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);
/// The environment variable holding a bearer token that may read `/metrics` from elsewhere.
pub const TOKEN_ENV: &str = "DOORSTEP_METRICS_TOKEN";
/// The routes whose latency and bytes count as sync.
const SYNC_ROUTES: [&str; 2] = ["/api/v1/sync", "/api/v1/docs/{id}/sync"];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    errors: Family<RouteLabels, Counter>,
    denials: Family<ActionLabels, Counter>,
    held_back: Family<ReasonLabels, Counter>,
    sync_seconds: Histogram,
    sync_received: Counter,
    sync_sent: Counter,
    active_devices: Gauge,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process's metrics.
pub fn global() -> &'static Metrics {
    &METRICS
}

impl Metrics {
    fn new() -> Metrics {
        let mut registry = Registry::with_prefix("doorstep_hub");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template and status class",
            requests.clone(),
        );
        let errors = Family::<RouteLabels, Counter>::default();
        registry.register(
            "http_server_errors",
            "Requests answered with a 5xx status, by route template",
            errors.clone(),
        );
        let denials = Family::<ActionLabels, Counter>::default();
        registry.register("denials", "Refusals written to the audit log, by audited action", denials.clone());
        let held_back = Family::<ReasonLabels, Counter>::default();
        registry.register("sync_held_back", "Records a sync held back, by reason", held_back.clone());
        // 5 ms to about 20 s.
        let sync_seconds = Histogram::new(exponential_buckets(0.005, 2.0, 13));
        registry.register(
            "sync_duration_seconds",
            "Time to answer a sync or document-sync request",
            sync_seconds.clone(),
        );
        let sync_received = Counter::default();
        registry.register("sync_received_bytes", "Bytes of sync request bodies, as sent", sync_received.clone());
        let sync_sent = Counter::default();
        registry.register("sync_sent_bytes", "Bytes of sync answers, as sent", sync_sent.clone());
        let active_devices = Gauge::default();
        registry.register(
            "active_devices",
            "Devices (not revoked) that synced in the last 24 hours, from the database: every hub process agrees",
            active_devices.clone(),
        );
        Metrics {
            registry,
            requests,
            errors,
            denials,
            held_back,
            sync_seconds,
            sync_received,
            sync_sent,
            active_devices,
        }
    }

    /// A refusal the hub audited (`action` as in the audit log: "authenticate", "write"…).
    pub fn denied(&self, action: &str) {
        self.denials.get_or_create(&ActionLabels { action: label(action) }).inc();
    }

    /// A record a sync held back, by reason code.
    pub fn held_back(&self, reason: &str) {
        self.held_back.get_or_create(&ReasonLabels { reason: label(reason) }).inc();
    }

    /// The metrics as Prometheus text.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry).is_err() {
            text.clear();
            let _ = writeln!(text, "# the metrics could not be encoded");
        }
        text
    }

    fn record(&self, method: &Method, route: &str, status: StatusCode, elapsed: Duration) {
        let class = format!("{}xx", status.as_u16() / 100);
        self.requests
            .get_or_create(&RequestLabels { method: method_label(method), route: route.into(), status: class })
            .inc();
        if status.is_server_error() {
            self.errors.get_or_create(&RouteLabels { route: route.into() }).inc();
        }
        if SYNC_ROUTES.contains(&route) {
            self.sync_seconds.observe(elapsed.as_secs_f64());
        }
    }
}

/// Only lower-case letters, digits and underscores, at most 40 of them: a label value can
/// never carry anything a caller chose.
fn label(text: &str) -> String {
    let clean = text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if clean && !text.is_empty() && text.len() <= 40 { text.to_string() } else { "other".into() }
}

/// Standard methods by name; anything else (clients may invent methods) as "other".
fn method_label(method: &Method) -> String {
    const KNOWN: [Method; 7] =
        [Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::HEAD, Method::OPTIONS, Method::PATCH];
    if KNOWN.contains(method) { method.as_str().to_string() } else { "other".into() }
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

/// Middleware: counts each request by route template and status class, times syncs, counts
/// their bytes, and logs one line (method, route template, status, latency) with nothing
/// personal in it.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    // The template, never the path itself: paths carry record and device ids.
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_string();
    let received = declared_length(request.headers());
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status();
    let metrics = global();
    metrics.record(&method, &route, status, elapsed);
    if SYNC_ROUTES.contains(&route.as_str()) {
        metrics.sync_received.inc_by(received.unwrap_or(0));
        let sent = declared_length(response.headers())
            .or_else(|| axum::body::HttpBody::size_hint(response.body()).exact())
            .unwrap_or(0);
        metrics.sync_sent.inc_by(sent);
    }
    tracing::info!(
        target: "doorstep_hub::request",
        method = %method,
        route = %route,
        status = status.as_u16(),
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    response
}

/// Devices that synced within [`ACTIVE_WINDOW`] and are not revoked.
async fn active_devices<S: HubStorage>(hub: &Hub<S>) -> Option<i64> {
    let since = chrono::Utc::now().timestamp_millis() - ACTIVE_WINDOW.as_millis() as i64;
    match hub.storage.device_statuses(None).await {
        Ok(devices) => {
            let active =
                devices.iter().filter(|d| d.revoked_at.is_none() && d.last_sync_at.is_some_and(|t| t >= since));
            Some(active.count() as i64)
        }
        Err(e) => {
            tracing::warn!(error = %e, "metrics: cannot count the active devices");
            None
        }
    }
}

/// `GET /metrics`: the metrics, for this machine or the holder of the metrics token.
pub async fn serve<S: HubStorage>(hub: Arc<Hub<S>>, request: Request) -> Response {
    if !may_read(&request) {
        return (
            StatusCode::FORBIDDEN,
            "metrics are served only to this machine, or with the metrics token (DOORSTEP_METRICS_TOKEN)\n",
        )
            .into_response();
    }
    if let Some(active) = active_devices(&hub).await {
        global().active_devices.set(active);
    }
    ([(header::CONTENT_TYPE, prometheus_client::encoding::prometheus_text::CONTENT_TYPE)], global().render())
        .into_response()
}

fn may_read(request: &Request) -> bool {
    static TOKEN: LazyLock<Option<[u8; 32]>> = LazyLock::new(|| {
        std::env::var(TOKEN_ENV).ok().filter(|t| !t.trim().is_empty()).map(|t| Sha256::digest(t.trim()).into())
    });
    let headers = request.headers();
    if let Some(expected) = *TOKEN {
        let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()?.strip_prefix("Bearer "));
        // Compared as SHA-256 digests, in constant time: how long it takes says nothing of the token.
        if given.is_some_and(|g| bool::from(Sha256::digest(g.trim()).as_slice().ct_eq(&expected))) {
            return true;
        }
    }
    let local = request.extensions().get::<ConnectInfo<Peer>>().is_some_and(|c| c.0.0.ip().is_loopback());
    // A request relayed by a proxy on this machine came from elsewhere, whatever its headers say:
    // behind the proxy, only the token reads the metrics.
    let proxied = request.extensions().get::<crate::limits::ThroughProxy>().is_some();
    local && !proxied && !headers.contains_key("x-forwarded-for")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_carry_only_known_shapes() {
        assert_eq!(label("authenticate"), "authenticate");
        assert_eq!(label("needs_doc_sync"), "needs_doc_sync");
        // Anything a caller could have chosen, or that looks like an id or an email, is "other".
        for odd in ["", "Jo@example.org", "5b0e3d1c-7f4a-4f7e", "a b", &"x".repeat(41)] {
            assert_eq!(label(odd), "other", "{odd:?}");
        }
        assert_eq!(method_label(&Method::POST), "POST");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
    }
}
