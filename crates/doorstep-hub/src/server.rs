//! Running the hub: configuration, storage selection, the listener (HTTPS or plain HTTP),
//! graceful shutdown.

use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::extract::connect_info::Connected;
use axum::middleware::Next;
use axum::response::Response;
use axum::serve::{IncomingStream, Listener};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use crate::conn_limits::{ConnectionLimits, Guarded};
use crate::limits::ForwardedClient;
use crate::postgres::PostgresStorage;
use crate::service::Hub;
use crate::sqlite::SqliteStorage;
use crate::storage::{HubStorage, StorageError};
use crate::web::WebOptions;

/// Where the hub keeps its data.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// An SQLite file: embedded, no setup.
    Sqlite(PathBuf),
    /// A PostgreSQL URL: several hub processes can share it.
    Postgres(String),
}

impl Database {
    /// `postgres://…` or `postgresql://…` is PostgreSQL; `sqlite://path` or a plain path is SQLite.
    pub fn parse(text: &str) -> Database {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Database::Postgres(text.to_string())
        } else {
            Database::Sqlite(PathBuf::from(text.strip_prefix("sqlite://").unwrap_or(text)))
        }
    }
}

/// Never prints a PostgreSQL password into logs.
impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            Database::Postgres(url) => match (url.find("://"), url.rfind('@')) {
                (Some(scheme), Some(at)) if at > scheme => {
                    let credentials = &url[scheme + 3..at];
                    let user = credentials.split(':').next().unwrap_or("");
                    write!(f, "{}{user}:***{}", &url[..scheme + 3], &url[at..])
                }
                _ => f.write_str(url),
            },
        }
    }
}

/// How the hub's connections are protected. Every caller says which, so plain HTTP is never
/// the unnoticed default.
#[derive(Clone)]
pub enum Transport {
    /// HTTPS served by the hub itself.
    Tls(TlsConfig),
    /// Plain HTTP from a TLS-terminating proxy in front: the client is the right-most address
    /// in `X-Forwarded-For` (the one the proxy added).
    BehindTlsProxy,
    /// Plain HTTP, for a developer's machine, the demo and tests on 127.0.0.1.
    PlainHttpForDevelopment,
}

impl Transport {
    /// The scheme clients use to reach the hub.
    pub fn scheme(&self) -> &'static str {
        match self {
            Transport::Tls(_) => "https",
            Transport::BehindTlsProxy | Transport::PlainHttpForDevelopment => "http",
        }
    }

    /// Whether people reach the hub over HTTPS (Secure cookies and HSTS then).
    pub fn is_https_to_clients(&self) -> bool {
        !matches!(self, Transport::PlainHttpForDevelopment)
    }
}

/// A loaded certificate and key, ready to serve.
#[derive(Clone)]
pub struct TlsConfig {
    config: Arc<rustls::ServerConfig>,
    /// SHA-256 of the end-entity certificate, as devices pin it.
    pub fingerprint: String,
}

/// Why a certificate or key cannot be used; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {what} file {}: {source}", path.display())]
    Read { what: &'static str, path: PathBuf, source: std::io::Error },
    #[error("{} holds no {what} in PEM form (-----BEGIN …-----): {detail}", path.display())]
    NoPem { what: &'static str, path: PathBuf, detail: String },
    #[error("the certificate {} and key {} cannot be used together: {source}", cert.display(), key.display())]
    Unusable { cert: PathBuf, key: PathBuf, source: rustls::Error },
}

/// Reads the certificate chain (end-entity first) from a PEM file.
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    const WHAT: &str = "TLS certificate";
    let pem = std::fs::read(path).map_err(|source| TlsError::Read { what: WHAT, path: path.into(), source })?;
    let certs = CertificateDer::pem_slice_iter(&pem).collect::<Result<Vec<_>, _>>().map_err(|e| TlsError::NoPem {
        what: WHAT,
        path: path.into(),
        detail: e.to_string(),
    })?;
    if certs.is_empty() {
        return Err(TlsError::NoPem { what: WHAT, path: path.into(), detail: "no certificate found".into() });
    }
    Ok(certs)
}

/// SHA-256 of a certificate's DER bytes as colon-separated upper-case hex, the form
/// `openssl x509 -noout -fingerprint -sha256` prints.
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    let digest = Sha256::digest(cert.as_ref());
    digest.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

impl TlsConfig {
    /// Loads a PEM certificate chain and private key (PKCS#8, PKCS#1 or SEC1).
    pub fn load(cert: &Path, key: &Path) -> Result<TlsConfig, TlsError> {
        let certs = read_certificates(cert)?;
        let fingerprint = fingerprint(&certs[0]);
        const WHAT: &str = "TLS private key";
        let pem = std::fs::read(key).map_err(|source| TlsError::Read { what: WHAT, path: key.into(), source })?;
        let key_der = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| TlsError::NoPem {
            what: WHAT,
            path: key.into(),
            detail: e.to_string(),
        })?;
        let unusable = |source| TlsError::Unusable { cert: cert.into(), key: key.into(), source };
        let mut config =
            rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(unusable)?
                .with_no_client_auth()
                .with_single_cert(certs, key_der)
                .map_err(unusable)?;
        // axum is built here with HTTP/1.1 only: offering h2 would break browsers that take it.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsConfig { config: Arc::new(config), fingerprint })
    }
}

/// Serves the hub on `listener` until `shutdown` completes, then finishes the requests in flight.
pub async fn serve_on<S: HubStorage>(
    storage: S,
    listener: TcpListener,
    transport: Transport,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_limits(storage, listener, transport, ConnectionLimits::default(), shutdown).await
}

/// [`serve_on`] with the connection limits given (tests shorten the times).
pub async fn serve_with_limits<S: HubStorage>(
    storage: S,
    listener: TcpListener,
    transport: Transport,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_hub(Hub::new(storage), listener, transport, limits, shutdown).await
}

/// Serves `hub` (one made with its own clock, in tests) on `listener`, like [`serve_with_limits`].
pub async fn serve_hub<S: HubStorage>(
    hub: Hub<S>,
    listener: TcpListener,
    transport: Transport,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    match hub.backfill_facts().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(documents = n, "noted page facts of documents stored before this version"),
        Err(e) => tracing::warn!(error = %e, "could not note the page facts of older documents"),
    }
    let web = WebOptions { secure_cookies: transport.is_https_to_clients() };
    let mut app = crate::api::app_with(hub, web);
    if matches!(transport, Transport::BehindTlsProxy) {
        // Only here: a client talking to the hub directly could otherwise choose its own address.
        app = app.layer(axum::middleware::from_fn(forwarded_client));
    }
    // Connection addresses are kept for the per-client rate limits.
    let app = app.into_make_service_with_connect_info::<Peer>();
    match transport {
        Transport::Tls(tls) => {
            let listener = Guarded::new(TlsListener::start(listener, tls)?, limits);
            axum::serve(listener, app).with_graceful_shutdown(shutdown).await
        }
        Transport::BehindTlsProxy | Transport::PlainHttpForDevelopment => {
            axum::serve(Guarded::new(listener, limits), app).with_graceful_shutdown(shutdown).await
        }
    }
}

/// The address a connection came from.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub SocketAddr);

impl Connected<IncomingStream<'_, TcpListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TcpListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

impl<L: Listener<Addr = SocketAddr>> Connected<IncomingStream<'_, Guarded<L>>> for Peer {
    fn connect_info(stream: IncomingStream<'_, Guarded<L>>) -> Self {
        Peer(*stream.remote_addr())
    }
}

/// Notes the client address the proxy added: the right-most `X-Forwarded-For` entry (those to
/// its left were written by the client and prove nothing).
async fn forwarded_client(mut request: Request, next: Next) -> Response {
    // Every request here came through the proxy: a loopback address says nothing about who sent it.
    request.extensions_mut().insert(crate::limits::ThroughProxy);
    let last = request.headers().get_all("x-forwarded-for").iter().next_back();
    let client = last.and_then(|v| v.to_str().ok()).and_then(|v| v.rsplit(',').next()).and_then(|v| {
        let v = v.trim();
        v.parse::<IpAddr>().ok().or_else(|| v.parse::<SocketAddr>().ok().map(|s| s.ip()))
    });
    match client {
        Some(ip) => {
            request.extensions_mut().insert(ForwardedClient(ip));
        }
        None => {
            // Once, not per request: a proxy that never sets the header would flood the log.
            static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
            if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
                tracing::warn!(
                    "a request came through the proxy without a readable X-Forwarded-For: rate limits count it \
                     against the proxy's own address (set X-Forwarded-For in the proxy)"
                );
            }
        }
    }
    next.run(request).await
}

/// How long a client may take over the TLS handshake before it is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes waiting for the server to take them.
const HANDSHAKES_QUEUED: usize = 64;

/// Accepts TCP connections and runs each TLS handshake in its own task, so one slow or
/// silent client never holds up the others; axum takes the finished connections.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    fn start(listener: TcpListener, tls: TlsConfig) -> std::io::Result<TlsListener> {
        let local = listener.local_addr()?;
        let acceptor = TlsAcceptor::from(tls.config);
        let (tx, ready) = mpsc::channel(HANDSHAKES_QUEUED);
        tokio::spawn(async move {
            loop {
                let (tcp, address) = tokio::select! {
                    // The server stopped taking connections (shut down): stop listening.
                    () = tx.closed() => return,
                    accepted = listener.accept() => match accepted {
                        Ok(accepted) => accepted,
                        Err(e) => {
                            // Out of file descriptors and the like: wait rather than spin.
                            tracing::warn!(error = %e, "cannot accept a connection");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            continue;
                        }
                    },
                };
                let _ = tcp.set_nodelay(true);
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => {
                            let _ = tx.send((stream, address)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(client = %address, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(client = %address, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener { ready, local })
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accepting task ended; nothing more will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// Opens the configured storage and calls `f` with it (the backends are different types).
pub async fn with_storage<T, F>(database: &Database, f: F) -> Result<T, StorageError>
where
    F: AsyncStorageFn<T>,
{
    match database {
        Database::Sqlite(path) => {
            let storage = SqliteStorage::open(path)?;
            Ok(f.call(storage).await)
        }
        Database::Postgres(url) => {
            // Connected (and its schema checked) first: a refused database leaves no key file.
            let storage = PostgresStorage::connect(url).await?;
            let key = crate::code_key::CodeKey::load_or_create(&crate::code_key::for_postgres())?;
            let storage = storage.with_code_key(key);
            Ok(f.call(storage).await)
        }
    }
}

/// Something to do with whichever storage the configuration names.
pub trait AsyncStorageFn<T> {
    fn call<S: HubStorage + Clone>(self, storage: S) -> impl Future<Output = T> + Send;
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_postgres_password_never_reaches_the_logs() {
        let db = Database::parse("postgres://doorstep:s3cret@127.0.0.1:5432/doorstep");
        assert_eq!(format!("{db:?}"), "postgres://doorstep:***@127.0.0.1:5432/doorstep");
        assert_eq!(Database::parse("hub.db"), Database::Sqlite("hub.db".into()));
        assert_eq!(Database::parse("sqlite://x/hub.db"), Database::Sqlite("x/hub.db".into()));
    }
}
