//! Running the hub: configuration, storage selection, the listener, graceful shutdown.

use std::fmt;
use std::future::Future;
use std::path::PathBuf;

use tokio::net::TcpListener;

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

/// Serves the hub on `listener` until `shutdown` completes, then finishes the requests in flight.
pub async fn serve_on<S: HubStorage>(
    storage: S,
    listener: TcpListener,
    web: WebOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let hub = Hub::new(storage);
    match hub.backfill_facts().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(documents = n, "noted page facts of documents stored before this version"),
        Err(e) => tracing::warn!(error = %e, "could not note the page facts of older documents"),
    }
    let app = crate::api::app_with(hub, web);
    // Connection addresses are kept for the per-client rate limits.
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
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
            let storage = PostgresStorage::connect(url).await?;
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
