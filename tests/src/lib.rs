//! Shared harness for the workspace tests: a real hub on a loopback port, and devices (real
//! store files) enrolled with it.

pub mod app;
pub mod axe;
pub mod browser;
pub mod fhir_check;
pub mod partners;
pub mod smtp_sink;

use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use doorstep_hub::api::issue_enrolment_code;
use doorstep_hub::conn_limits::ConnectionLimits;
use doorstep_hub::server::{Transport, serve_hub};
use doorstep_hub::service::{Hub, HubClock};
use doorstep_hub::storage::{HubStorage, OrgKind, Organisation};
use doorstep_protocol::Role;
use doorstep_store::Store;
use doorstep_sync::{SyncClient, SyncReport};
use tokio::sync::{Mutex, oneshot};
use uuid::Uuid;

/// Where tests save screenshots: `DOORSTEP_SCREENSHOTS` if set (`cargo xtask screenshots` points
/// it at docs/screenshots), else `target/screenshots`, so a test run never changes tracked files.
pub fn screenshots_dir() -> std::path::PathBuf {
    let dir = match std::env::var_os("DOORSTEP_SCREENSHOTS") {
        Some(dir) if !dir.is_empty() => std::path::PathBuf::from(dir),
        _ => match std::env::var_os("CARGO_TARGET_DIR") {
            Some(target) if !target.is_empty() => std::path::PathBuf::from(target),
            _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        }
        .join("screenshots"),
    };
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("screenshots folder {}: {e}", dir.display()));
    dir
}

/// A hub serving on 127.0.0.1 with a provider organisation.
pub struct TestHub<S: HubStorage + Clone> {
    pub url: String,
    pub storage: S,
    pub provider: Uuid,
    /// The hub's clock: move it on to see what happens days later.
    pub clock: HubClock,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl<S: HubStorage + Clone> TestHub<S> {
    /// Starts the hub on an ephemeral port: the listener is bound before this returns, so no
    /// test waits "for the server to start".
    pub async fn start(storage: S) -> TestHub<S> {
        let provider = Self::create_provider(&storage).await;
        Self::serve(storage, provider).await
    }

    async fn create_provider(storage: &S) -> Uuid {
        let provider = Uuid::new_v4();
        storage
            .create_organisation(Organisation {
                id: provider,
                name: "Sunrise Home Care".into(),
                kind: OrgKind::Provider,
                partner_kind: None,
            })
            .await
            .expect("create provider");
        provider
    }

    /// Serves storage that already holds `provider` (a restarted or restored hub).
    pub async fn serve(storage: S, provider: Uuid) -> TestHub<S> {
        Self::serve_at(storage, provider, "127.0.0.1:0").await
    }

    /// Like [`TestHub::serve`] at a given address: a hub coming back where devices expect it.
    pub async fn serve_at(storage: S, provider: Uuid, address: &str) -> TestHub<S> {
        Self::serve_with(storage, provider, address, None).await
    }

    /// Like [`TestHub::start`], e-mailing partners' teams through the SMTP server at `smtp_url`
    /// (an [`smtp_sink::SmtpSink`]); `mail` wakes the hub's mailer.
    pub async fn start_mailing(storage: S, smtp_url: &str) -> (TestHub<S>, doorstep_hub::notify::Mail) {
        let provider = Self::create_provider(&storage).await;
        let mail = doorstep_hub::notify::Mail::new(smtp_url, "Doorstep <doorstep@hub.test>", "https://hub.test")
            .expect("mail settings");
        (Self::serve_with(storage, provider, "127.0.0.1:0", Some(mail.clone())).await, mail)
    }

    async fn serve_with(
        storage: S,
        provider: Uuid,
        address: &str,
        mail: Option<doorstep_hub::notify::Mail>,
    ) -> TestHub<S> {
        let listener = tokio::net::TcpListener::bind(address).await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let (stop, stopped) = oneshot::channel::<()>();
        let clock = HubClock::default();
        let mut hub = Hub::with_clock(storage.clone(), clock.clone());
        if let Some(mail) = mail {
            hub = hub.with_mail(mail);
        }
        let task = tokio::spawn(serve_hub(
            hub,
            listener,
            Transport::PlainHttpForDevelopment,
            ConnectionLimits::default(),
            async {
                let _ = stopped.await;
            },
        ));
        TestHub { url, storage, provider, clock, stop: Some(stop), task: Some(task) }
    }

    /// A one-time code for a member of the provider.
    pub async fn code(&self, staff: &str, role: Role) -> String {
        issue_enrolment_code(&self.storage, self.provider, staff, role, "test").await.expect("code").code
    }

    /// A device with its own store file, enrolled as `staff`.
    pub async fn device(&self, dir: &Path, staff: &str, role: Role) -> TestDevice {
        self.device_in(dir, self.provider, staff, role).await
    }

    /// Like [`TestHub::device`] for a member of any organisation on the hub (another provider,
    /// a partner).
    pub async fn device_in(&self, dir: &Path, org: Uuid, staff: &str, role: Role) -> TestDevice {
        self.enrol(&dir.join(format!("{staff}-{}.db", Uuid::new_v4())), org, staff, role).await
    }

    /// A device whose store is the file at `path`.
    pub async fn device_at(&self, path: &Path, staff: &str, role: Role) -> TestDevice {
        self.enrol(path, self.provider, staff, role).await
    }

    async fn enrol(&self, path: &Path, org: Uuid, staff: &str, role: Role) -> TestDevice {
        let store = Store::open(path).expect("open store");
        let store = Arc::new(Mutex::new(store));
        let code = issue_enrolment_code(&self.storage, org, staff, role, "test").await.expect("code").code;
        doorstep_sync::enrol(&store, &self.url, &code, &format!("{staff}'s tablet")).await.expect("enrol");
        let client = SyncClient::for_store(&store).await.expect("client");
        TestDevice { store, client }
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

pub struct TestDevice {
    pub store: Arc<Mutex<Store>>,
    pub client: SyncClient,
}

impl TestDevice {
    pub async fn sync(&self) -> SyncReport {
        self.client.sync(&self.store, |_| {}).await.expect("sync")
    }

    /// One of the store's settings: `device_id` and `device_token` are what a hand-made request
    /// needs.
    pub async fn setting(&self, name: &str) -> String {
        self.store.lock().await.setting(name).expect("read a setting").unwrap_or_else(|| panic!("no setting {name}"))
    }
}

pub fn today() -> NaiveDate {
    chrono::Utc::now().with_timezone(&chrono_tz::Europe::London).date_naive()
}
