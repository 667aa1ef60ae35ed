//! The app's core on a device: the session (enrolment, PIN, inactivity lock), what each screen
//! shows and every edit a carer or manager makes, over the device store and background sync.
//!
//! The Tauri shell only parses a command and calls one method here; everything a person can do
//! in the app is therefore testable without a webview. Errors leave as [`AppError`]: plain
//! English a carer can act on, with a code the UI branches on.
//!
//! **Architecture Invariant:** every method that reads or writes care records goes through
//! [`Device::unlocked`], so a locked or timed-out device shows nothing.
//!
//! The store is encrypted at rest (SQLCipher) under a key made from the PIN and a device
//! secret (see `keys`): it is opened by the first right PIN after the app starts and stays
//! open, behind the inactivity lock, until the app closes, so sync carries on while locked.
//!
//! Wrong PINs are counted in a file beside the store (see `attempts`), one attempt at a time:
//! after [`FREE_PIN_ATTEMPTS`] each attempt waits longer, and the
//! [`WIPE_AFTER_WRONG_PINS`]th in a row deletes the store and its key.

mod attempts;
mod care;
mod conversation;
mod directory;
mod early_warning;
mod errors;
mod follow_up;
mod keys;
mod manager;
mod outcomes;
mod pin;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, Utc};
use doorstep_commands::{AppError, EnrolArgs, ErrorCode, Session, SyncBadge};
use doorstep_model::Role;
use doorstep_store::{Store, StoreError, StoreKey};
use doorstep_sync::{Background, SyncClient};
use tokio::sync::{Mutex, OwnedMutexGuard};

pub use errors::{storage_error, sync_error};
pub use keys::{SECRET_STORE_ENV, SecretPlace};

/// Locks after this long without a command, unless configured otherwise.
pub const LOCK_AFTER: Duration = Duration::from_secs(5 * 60);
/// The app version that last opened the store: a new one tries held-back records again.
const SETTING_APP_VERSION: &str = "app_version";
/// Wrong PINs in a row before the device makes the next attempt wait (30 s, then 60 s, ...):
/// enough for a carer who mistypes with cold hands.
pub const FREE_PIN_ATTEMPTS: u32 = 5;
/// Wrong PINs in a row that delete this device's records and key. Ten guesses at a PIN of six
/// digits or more give a thief one chance in 100,000 against a random PIN (people choose less
/// evenly, which is what the blocklist is for), yet a carer who has forgotten their PIN is
/// warned from the fifth wrong one, and the waits between tries (7.5 minutes in all) leave time
/// to ring the office first.
pub const WIPE_AFTER_WRONG_PINS: u32 = 10;
/// How much longer each attempt after the free ones waits than the one before.
const PIN_WAIT_STEP: Duration = Duration::from_secs(30);
/// The longest a last sync before that wipe may take: what is waiting is sent if it can be.
const LAST_SYNC: Duration = Duration::from_secs(20);

/// One device's app state: the store, its sync, and whether it is unlocked.
pub struct Device {
    path: PathBuf,
    vault: keys::Vault,
    /// The store once a right PIN has opened it, with the key that did.
    open: StdMutex<Option<OpenStore>>,
    sync: StdMutex<Option<Background>>,
    gate: StdMutex<Gate>,
    /// Wrong PINs in a row, kept beside the store.
    attempts: attempts::Attempts,
    /// Held by one PIN attempt from reading the count to writing it: two attempts at once are
    /// checked one after the other and both counted, never both inside one free try.
    attempt_turn: Mutex<()>,
    /// [`PIN_WAIT_STEP`], or a test's.
    pin_wait_step: Duration,
    lock_after: Duration,
    /// The last "sync now".
    manual_sync: StdMutex<Option<ManualSync>>,
    /// How often background sync runs (and the longest it waits while offline); `None` for
    /// the defaults (`doorstep_sync::Background::start`).
    sync_every: Option<Duration>,
    /// Goes up each time a sync brings records in (background or "sync now"), for the whole life
    /// of the device: the shell turns it into an event, so an open screen reloads what merged.
    arrivals: tokio::sync::watch::Sender<u64>,
    /// The time rules about the clock are judged at (late and missed visits, when a carer said a
    /// visit could not happen): the system clock, or a test's.
    clock: Clock,
}

/// What time it is, for the device's rules; tests pass their own ([`Device::with_clock`]).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// How the last "sync now" ended.
#[derive(Clone)]
struct ManualSync {
    at: DateTime<Utc>,
    /// It reached the hub and finished.
    reached: bool,
    /// Why it failed, in plain words, when not for being offline.
    problem: Option<String>,
}

struct OpenStore {
    store: Arc<Mutex<Store>>,
    key: StoreKey,
}

#[derive(Default)]
struct Gate {
    /// Unlocked until this instant, pushed on by every command.
    open_until: Option<Instant>,
    /// After too many wrong PINs, no attempt is checked before this.
    next_attempt: Option<Instant>,
    /// `next_attempt` has been worked out from the count kept on disk since the app started.
    resumed: bool,
}

/// Who is signed in on this device (read from the store's settings).
#[derive(Debug, Clone)]
pub(crate) struct Who {
    pub staff_ref: String,
    pub role: Role,
    pub organisation: String,
}

impl Who {
    /// As the write policy names them (`doorstep_model::policy`).
    pub(crate) fn writer<'a>(&self, staff: &'a doorstep_model::StaffId) -> doorstep_model::policy::Writer<'a> {
        doorstep_model::policy::Writer { role: self.role, staff }
    }
}

impl Device {
    /// The device whose encrypted store is (or will be, at enrolment) the file at `path`.
    /// Nothing is read until a PIN opens it.
    pub fn open(path: impl AsRef<Path>, lock_after: Duration) -> Result<Device, AppError> {
        let path = path.as_ref().to_path_buf();
        Ok(Device {
            vault: keys::Vault::for_store(&path),
            attempts: attempts::Attempts::for_store(&path),
            attempt_turn: Mutex::new(()),
            pin_wait_step: PIN_WAIT_STEP,
            path,
            open: StdMutex::new(None),
            sync: StdMutex::new(None),
            gate: StdMutex::new(Gate::default()),
            lock_after,
            manual_sync: StdMutex::new(None),
            sync_every: None,
            arrivals: tokio::sync::watch::Sender::new(0),
            clock: Arc::new(Utc::now),
        })
    }

    /// Judges late and missed visits (and stamps "could not visit") by `clock`, not the system's.
    pub fn with_clock(mut self, clock: Clock) -> Device {
        self.clock = clock;
        self
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// Waits `step` longer after each wrong PIN beyond the free ones, not 30 s (tests reach the
    /// wipe in seconds this way).
    pub fn with_pin_wait_step(mut self, step: Duration) -> Device {
        self.pin_wait_step = step;
        self
    }

    /// Background sync every `every`, retrying as often while offline (tests and the demo
    /// use seconds; the default is minutes).
    pub fn with_sync_every(mut self, every: Duration) -> Device {
        self.sync_every = Some(every);
        self
    }

    /// The open store, once a PIN has opened it, whether or not the device is locked now:
    /// for background sync and the session's own settings only. Care records are read through
    /// [`Device::unlocked_store`], which passes the lock.
    fn open_store(&self) -> Option<Arc<Mutex<Store>>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|o| o.store.clone())
    }

    /// The store, for someone holding an unlocked session: refused while the device is locked,
    /// exactly as every screen is. (Tools and tests reach the records only this way.)
    pub async fn unlocked_store(&self) -> Result<OwnedMutexGuard<Store>, AppError> {
        self.pass_gate()?;
        Ok(self.opened()?.lock_owned().await)
    }

    /// The open store, or why there is none.
    pub(crate) fn opened(&self) -> Result<Arc<Mutex<Store>>, AppError> {
        self.open_store().ok_or_else(|| {
            if self.path.exists() {
                AppError::new(ErrorCode::Locked, "Doorstep is locked. Enter your PIN.")
            } else {
                AppError::new(ErrorCode::NotEnrolled, "This device is not set up yet.")
            }
        })
    }

    /// The open store, locked for this caller; refused while the device is locked.
    pub(crate) async fn db(&self) -> Result<OwnedMutexGuard<Store>, AppError> {
        self.unlocked_store().await
    }

    /// Starts background sync if the store is open and enrolled (call on a tokio runtime).
    /// After an app update, records the hub held back are tried again: the new version may
    /// have fixed what made them unacceptable.
    pub async fn start_sync(&self) {
        let Some(store) = self.open_store() else { return };
        {
            let mut store = store.lock().await;
            let version = env!("CARGO_PKG_VERSION");
            if store.setting(SETTING_APP_VERSION).ok().flatten().as_deref() != Some(version) {
                match store.retry_held_back().and_then(|n| store.set_setting(SETTING_APP_VERSION, version).map(|()| n))
                {
                    Ok(0) => {}
                    Ok(retried) => tracing::info!(retried, version, "app updated: trying held-back records again"),
                    Err(e) => tracing::warn!(error = %e, "could not note the app version"),
                }
            }
        }
        let Ok(client) = SyncClient::for_store(&store).await else { return };
        let mut slot = self.sync.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            let background = match self.sync_every {
                Some(every) => Background::start_with(store, client, every, every, every),
                None => Background::start(store, client),
            };
            // Records that arrived in the background reach the device's arrivals count; the
            // forwarder ends with the background sync (its sender is dropped on stop).
            let mut status = background.subscribe();
            let arrivals = self.arrivals.clone();
            tokio::spawn(async move {
                let mut seen = status.borrow().received;
                while status.changed().await.is_ok() {
                    let received = status.borrow_and_update().received;
                    if received != seen {
                        seen = received;
                        arrivals.send_modify(|n| *n += 1);
                    }
                }
            });
            *slot = Some(background);
        }
    }

    /// Follows the arrivals count: it changes each time a sync brings records in.
    pub fn arrivals(&self) -> tokio::sync::watch::Receiver<u64> {
        self.arrivals.subscribe()
    }

    fn stop_sync(&self) {
        if let Some(background) = self.sync.lock().unwrap_or_else(|p| p.into_inner()).take() {
            background.stop();
        }
    }

    pub async fn session(&self) -> Result<Session, AppError> {
        let Some(store) = self.open_store() else {
            // Locked since the app started: whether there is a store is all that shows.
            return Ok(Session {
                enrolled: self.path.exists(),
                locked: true,
                staff_ref: None,
                staff_name: None,
                role: None,
                hub_url: None,
                pin_tries_left: self.pin_tries_left(),
            });
        };
        let store = store.lock().await;
        let setting = |k: &str| store.setting(k).map_err(storage_error);
        let enrolled = setting("device_token")?.is_some();
        let staff_ref = setting("staff_ref")?;
        let staff_name = match &staff_ref {
            Some(reference) => directory::directory_of(&store)?.staff_name(reference).map(str::to_string),
            None => None,
        };
        Ok(Session {
            enrolled,
            locked: !self.is_open(),
            staff_ref,
            staff_name,
            role: setting("role")?.as_deref().and_then(Role::from_code),
            hub_url: setting("hub_url")?,
            pin_tries_left: self.pin_tries_left(),
        })
    }

    /// Wrong PINs left before the wipe, once the PIN screen should warn of it (from the
    /// [`FREE_PIN_ATTEMPTS`]th wrong PIN in a row); `None` before then.
    fn pin_tries_left(&self) -> Option<u32> {
        let wrong = self.attempts.load(FREE_PIN_ATTEMPTS).map_or(FREE_PIN_ATTEMPTS, |c| c.wrong);
        (wrong >= FREE_PIN_ATTEMPTS).then(|| WIPE_AFTER_WRONG_PINS.saturating_sub(wrong))
    }

    fn is_open(&self) -> bool {
        let gate = self.gate.lock().unwrap_or_else(|p| p.into_inner());
        gate.open_until.is_some_and(|t| Instant::now() < t)
    }

    /// Enrols with a manager's one-time code: makes the device secret and the encrypted store
    /// the PIN opens, and unlocks.
    pub async fn enrol(&self, args: EnrolArgs) -> Result<Session, AppError> {
        pin::check_new(&args.pin)?;
        let hub_url = args.hub_url.trim();
        if !(hub_url.starts_with("http://") || hub_url.starts_with("https://")) {
            return Err(AppError::new(
                ErrorCode::Invalid,
                "The hub address should start with https:// (your manager can tell you it).",
            ));
        }
        if self.session().await?.enrolled {
            return Err(AppError::new(ErrorCode::Invalid, "This device is already enrolled."));
        }
        let name = if args.device_name.trim().is_empty() { "Doorstep device" } else { args.device_name.trim() };
        // A store left behind by a revoked device (wiped, no enrolment) is replaced.
        self.discard_store();
        let (secret, place) = self.vault.create()?;
        tracing::info!(?place, "made this device's secret");
        let key = keys::store_key(&args.pin, &secret)?;
        let store = Arc::new(Mutex::new(Store::open_encrypted(&self.path, &key).map_err(storage_error)?));
        let pinned = args.hub_certificate.as_deref();
        if let Err(e) = doorstep_sync::enrol_pinned(&store, hub_url, &args.code, name, pinned).await {
            // Leave nothing behind, so the carer can simply try again.
            drop(store);
            self.discard_store();
            return Err(sync_error(e));
        }
        *self.open.lock().unwrap_or_else(|p| p.into_inner()) = Some(OpenStore { store, key });
        self.open_gate();
        self.start_sync().await;
        self.session().await
    }

    /// Closes and deletes this device's store and forgets its secret.
    fn discard_store(&self) {
        self.stop_sync();
        *self.open.lock().unwrap_or_else(|p| p.into_inner()) = None;
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut name = self.path.as_os_str().to_owned();
            name.push(suffix);
            let _ = std::fs::remove_file(name);
        }
        self.vault.forget();
        // A new enrolment starts with a clean count.
        if let Err(e) = self.attempts.clear() {
            tracing::warn!(error = %e.message, "could not reset the wrong-PIN count");
        }
    }

    /// Sets the PIN on a device enrolled some other way (`cargo xtask run`, the benchmarks):
    /// an unencrypted store with no PIN is encrypted under this PIN. Does nothing when the
    /// store already has a PIN.
    pub async fn set_pin_if_unset(&self, new_pin: &str) -> Result<(), AppError> {
        pin::check_new(new_pin)?;
        if !self.is_plain_store()? {
            return Ok(());
        }
        if Store::open(&self.path).map_err(storage_error)?.setting(pin::SETTING).map_err(storage_error)?.is_some() {
            return Ok(());
        }
        self.encrypt_plain_store(new_pin)
    }

    fn is_plain_store(&self) -> Result<bool, AppError> {
        doorstep_store::is_plain_sqlite(&self.path)
            .map_err(|e| AppError::new(ErrorCode::Storage, format!("cannot read {}: {e}", self.path.display())))
    }

    /// Encrypts an older version's unencrypted store under `pin` (its secret made now).
    fn encrypt_plain_store(&self, pin: &str) -> Result<(), AppError> {
        self.vault.forget();
        let (secret, place) = self.vault.create()?;
        tracing::info!(?place, "encrypting the store");
        let key = keys::store_key(pin, &secret)?;
        doorstep_store::encrypt_plain_file(&self.path, &key).map_err(storage_error)?;
        let mut store = Store::open_encrypted(&self.path, &key).map_err(storage_error)?;
        // The PIN is checked by the key now; its old hash would only help a guesser.
        store.delete_setting(pin::SETTING).map_err(storage_error)?;
        Ok(())
    }

    /// Checks a PIN. Each attempt is counted on disk before it is checked (so closing the app
    /// mid-check gives no free guess) and the count is cleared by the right PIN; after
    /// [`FREE_PIN_ATTEMPTS`] wrong ones each attempt waits 30 s longer than the last, and the
    /// [`WIPE_AFTER_WRONG_PINS`]th wipes the device.
    pub async fn unlock(&self, attempt: &str) -> Result<Session, AppError> {
        let _turn = self.attempt_turn.lock().await;
        if !self.path.exists() {
            return Err(AppError::new(ErrorCode::NotEnrolled, "This device is not set up yet."));
        }
        let count = self.attempts.load(FREE_PIN_ATTEMPTS)?;
        if count.wrong >= WIPE_AFTER_WRONG_PINS {
            // The last allowed attempt was counted but never judged (the app closed mid-check).
            return Err(self.wipe_after_wrong_pins().await);
        }
        if let Some(wait) = self.wait_before_attempt(count) {
            return Err(AppError::new(
                ErrorCode::WrongPin,
                format!(
                    "Too many wrong PINs. Try again in {} seconds.{}",
                    wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
                    tries_left_warning(count.wrong)
                ),
            ));
        }
        let claimed = attempts::Count { wrong: count.wrong + 1, last_at: attempts::now_secs() };
        self.attempts.save(claimed)?;
        match self.try_pin(attempt).await {
            Ok(true) => {
                // A count left standing would climb with every right PIN until it wiped the tablet.
                self.attempts.clear().or_else(|_| self.attempts.save(attempts::Count::default()))?;
                self.open_gate();
                self.start_sync().await;
                self.session().await
            }
            Ok(false) if claimed.wrong >= WIPE_AFTER_WRONG_PINS => Err(self.wipe_after_wrong_pins().await),
            Ok(false) => {
                self.gate.lock().unwrap_or_else(|p| p.into_inner()).next_attempt =
                    self.wait_after(claimed.wrong).map(|wait| Instant::now() + wait);
                Err(AppError::new(
                    ErrorCode::WrongPin,
                    format!("That PIN is not right. Try again.{}", tries_left_warning(claimed.wrong)),
                ))
            }
            Err(e) => {
                // Not a verdict on the PIN (the device key is missing, storage failed): the try
                // is given back.
                self.attempts.save(count)?;
                Err(e)
            }
        }
    }

    /// How long before `count`'s next attempt may be checked. The first time after the app
    /// starts this comes from the time kept with the count, but never more than the full wait
    /// (a clock set back cannot lock a carer out); from then on from the monotonic clock, so
    /// changing the clock shortens nothing.
    fn wait_before_attempt(&self, count: attempts::Count) -> Option<Duration> {
        let mut gate = self.gate.lock().unwrap_or_else(|p| p.into_inner());
        if !gate.resumed {
            gate.resumed = true;
            gate.next_attempt = self.wait_after(count.wrong).map(|full| {
                let since = Duration::from_secs(attempts::now_secs().saturating_sub(count.last_at));
                Instant::now() + full.saturating_sub(since).min(full)
            });
        }
        gate.next_attempt.and_then(|t| t.checked_duration_since(Instant::now())).filter(|w| !w.is_zero())
    }

    /// How long after `wrong` wrong PINs in a row the next attempt waits: nothing for the first
    /// [`FREE_PIN_ATTEMPTS`], then 30 s, 60 s, 90 s...
    fn wait_after(&self, wrong: u32) -> Option<Duration> {
        (wrong >= FREE_PIN_ATTEMPTS).then(|| self.pin_wait_step * (wrong + 1 - FREE_PIN_ATTEMPTS))
    }

    /// Deletes this device's records and key after too many wrong PINs, as signing out does, and
    /// says so. If the store is open (a PIN opened it since the app started and background sync
    /// has been running), what has not reached the office is sent first if the hub answers in
    /// time; if not, or if the store was never opened, unsent changes are lost and the message
    /// says so (docs/security.md states the risk).
    async fn wipe_after_wrong_pins(&self) -> AppError {
        let mut unsent = None;
        if let Some(store) = self.open_store() {
            self.stop_sync();
            let waiting = |s: &Store| s.local_sync_state().map(|l| l.unacknowledged).ok();
            let before = waiting(&*store.lock().await);
            if before.is_some_and(|n| n > 0)
                && let Ok(client) = SyncClient::for_store(&store).await
            {
                let _ = tokio::time::timeout(LAST_SYNC, client.sync(&store, |_| {})).await;
            }
            let mut store = store.lock().await;
            unsent = waiting(&store);
            if let Err(e) = store.wipe() {
                tracing::warn!(error = %e, "could not clear the store before deleting it");
            }
        }
        self.discard_store();
        {
            let mut gate = self.gate.lock().unwrap_or_else(|p| p.into_inner());
            gate.open_until = None;
            gate.next_attempt = None;
        }
        tracing::warn!(
            unsent,
            "{WIPE_AFTER_WRONG_PINS} wrong PINs in a row: this device's records and key are deleted"
        );
        let lost = match unsent {
            Some(0) => "Everything on it had reached the office.".to_string(),
            Some(1) => "1 change had not reached the office and is lost: tell your manager.".to_string(),
            Some(n) => format!("{n} changes had not reached the office and are lost: tell your manager."),
            None => "Anything it had not sent to the office is lost: tell your manager.".to_string(),
        };
        AppError::new(
            ErrorCode::NotEnrolled,
            format!(
                "After {WIPE_AFTER_WRONG_PINS} wrong PINs in a row this tablet has deleted its records, to keep them \
                 safe. {lost} Your manager can set the tablet up again."
            ),
        )
    }

    /// Whether `attempt` is the PIN, opening the store with it if it is not open yet.
    async fn try_pin(&self, attempt: &str) -> Result<bool, AppError> {
        if !self.path.exists() {
            return Err(AppError::new(ErrorCode::NotEnrolled, "This device is not set up yet."));
        }
        let open_key = self.open.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|o| o.key.clone());
        if let Some(open_key) = open_key {
            let Some(secret) = self.vault.load()? else { return Ok(false) };
            return Ok(keys::store_key(attempt, &secret)? == open_key);
        }
        if self.is_plain_store()? {
            // A store from before encryption: check the PIN against its hash, then encrypt it.
            let stored =
                Store::open(&self.path).map_err(storage_error)?.setting(pin::SETTING).map_err(storage_error)?;
            let Some(stored) = stored else {
                return Err(AppError::new(ErrorCode::NotEnrolled, "This device is not set up yet."));
            };
            if !pin::verify(attempt, &stored) {
                return Ok(false);
            }
            self.encrypt_plain_store(attempt)?;
        }
        let Some(secret) = self.vault.load()? else {
            return Err(AppError::new(
                ErrorCode::Storage,
                "This device's key is missing, so the records on it cannot be opened. Ask your manager to set the device up again.",
            ));
        };
        let key = keys::store_key(attempt, &secret)?;
        match Store::open_encrypted(&self.path, &key) {
            Ok(store) => {
                *self.open.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(OpenStore { store: Arc::new(Mutex::new(store)), key });
                Ok(true)
            }
            Err(StoreError::WrongKey) => Ok(false),
            Err(e) => Err(storage_error(e)),
        }
    }

    pub async fn lock(&self) -> Result<Session, AppError> {
        self.gate.lock().unwrap_or_else(|p| p.into_inner()).open_until = None;
        self.session().await
    }

    fn open_gate(&self) {
        let mut gate = self.gate.lock().unwrap_or_else(|p| p.into_inner());
        gate.open_until = Some(Instant::now() + self.lock_after);
        gate.next_attempt = None;
    }

    /// Refuses while locked or timed out; otherwise pushes the inactivity lock on.
    fn pass_gate(&self) -> Result<(), AppError> {
        let mut gate = self.gate.lock().unwrap_or_else(|p| p.into_inner());
        match gate.open_until {
            Some(t) if Instant::now() < t => {
                gate.open_until = Some(Instant::now() + self.lock_after);
                Ok(())
            }
            _ => {
                gate.open_until = None;
                Err(AppError::new(ErrorCode::Locked, "Doorstep is locked. Enter your PIN."))
            }
        }
    }

    /// Checks the device is unlocked (pushing the inactivity lock on) and says who is using it.
    pub(crate) async fn unlocked(&self) -> Result<Who, AppError> {
        let store = self.db().await?;
        let setting = |k: &str| store.setting(k).map_err(storage_error);
        let (Some(staff_ref), Some(role)) =
            (setting("staff_ref")?, setting("role")?.as_deref().and_then(Role::from_code))
        else {
            return Err(AppError::new(ErrorCode::NotEnrolled, "This device is not set up yet."));
        };
        Ok(Who { staff_ref, role, organisation: setting("organisation_name")?.unwrap_or_default() })
    }

    pub(crate) async fn manager(&self) -> Result<Who, AppError> {
        let who = self.unlocked().await?;
        if who.role != Role::Manager {
            return Err(AppError::new(ErrorCode::Invalid, "Only a manager's device can do this."));
        }
        Ok(who)
    }

    /// The sync badge: the background sync's last outcome plus what is waiting now.
    pub async fn sync_badge(&self) -> Result<SyncBadge, AppError> {
        self.unlocked().await?;
        self.badge().await
    }

    pub(crate) async fn badge(&self) -> Result<SyncBadge, AppError> {
        let status = self.sync.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(Background::status);
        let (local, last_synced) = {
            let store = self.db().await?;
            let last = store.setting(doorstep_sync::SETTING_LAST_SYNCED).map_err(storage_error)?;
            (store.local_sync_state().map_err(storage_error)?, last)
        };
        let mut status = status.unwrap_or_default();
        // Whichever ended last, the background's try or a "sync now", says whether we are online.
        if let Some(manual) = self.manual_sync.lock().unwrap_or_else(|p| p.into_inner()).clone()
            && status.last_attempt_at.is_none_or(|t| t < manual.at)
        {
            status.offline = !manual.reached && manual.problem.is_none();
            status.problem = manual.problem;
        }
        // Every sync that finishes notes when in the store, so it still shows after a restart
        // with no signal.
        if let Some(at) = last_synced.and_then(|t| DateTime::parse_from_rfc3339(&t).ok()) {
            status.last_synced_at = Some(at.with_timezone(&Utc));
        }
        Ok(SyncBadge {
            last_synced_at: status.last_synced_at,
            waiting: local.pending,
            held_back: local.held_back.iter().map(|h| (h.what.clone(), h.reason.clone())).collect(),
            offline: status.offline,
            syncing: status.syncing,
            problem: status.problem,
            not_received: local
                .pull_failures
                .iter()
                .map(|f| {
                    (
                        format!("a {} from the office", f.kind),
                        "Doorstep is fetching it again; if this stays, the app may need updating.".to_string(),
                    )
                })
                .collect(),
            received: status.received,
        })
    }

    /// Lets the hub check again the records it held back from this device, now (after the
    /// office has fixed what was wrong): the badge after the sync.
    pub async fn retry_held_back(&self) -> Result<SyncBadge, AppError> {
        let retried = self.db().await?.retry_held_back().map_err(storage_error)?;
        tracing::info!(retried, "trying held-back records again");
        self.sync_now().await
    }

    /// Syncs now and waits for it (the "sync now" button): the badge after it.
    pub async fn sync_now(&self) -> Result<SyncBadge, AppError> {
        self.unlocked().await?;
        let store = self.opened()?;
        let client = SyncClient::for_store(&store).await.map_err(sync_error)?;
        let outcome = client.sync(&store, |_| {}).await;
        if outcome.as_ref().is_ok_and(|report| report.pulled > 0 || report.doc_syncs > 0) {
            self.arrivals.send_modify(|n| *n += 1);
        }
        let problem = outcome.as_ref().err().and_then(doorstep_sync::SyncError::plain_words);
        *self.manual_sync.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(ManualSync { at: Utc::now(), reached: outcome.is_ok(), problem });
        match outcome {
            Ok(_) | Err(doorstep_sync::SyncError::Offline(_)) => self.badge().await,
            Err(e) => Err(sync_error(e)),
        }
    }

    /// Signs out, forgetting this device's records and enrolment, but never while the office
    /// lacks something from it: changes waiting to be sent, and records the hub held back
    /// (named, with the hub's reason). It tries to send them first.
    pub async fn sign_out(&self) -> Result<Session, AppError> {
        self.unlocked().await?;
        let unsent = |s: &doorstep_store::LocalSyncState| s.unacknowledged;
        if unsent(&self.db().await?.local_sync_state().map_err(storage_error)?) > 0 {
            let _ = self.sync_now().await;
        }
        let local = self.db().await?.local_sync_state().map_err(storage_error)?;
        if unsent(&local) > 0 {
            let waiting = local.unacknowledged - local.held_back.len();
            let mut message = String::from(
                "The office has not got everything from this tablet, so signing out would lose it. Nothing has been deleted.",
            );
            if waiting > 0 {
                message.push_str(&format!(
                    " {waiting} {} not been sent yet: connect to the internet and sync.",
                    if waiting == 1 { "change has" } else { "changes have" }
                ));
            }
            if !local.held_back.is_empty() {
                message.push_str(" The office's server would not take:");
                for held in &local.held_back {
                    message.push_str(&format!(" {} ({});", held.what, held.reason.trim_end_matches('.')));
                }
                message.pop();
                message.push_str(". Ask the office to look at these, then try again.");
            }
            return Err(AppError::new(ErrorCode::Unsynced, message));
        }
        self.stop_sync();
        self.db().await?.wipe().map_err(storage_error)?;
        // Then the file and its key go too: nothing of this carer's stays on the device.
        self.discard_store();
        self.gate.lock().unwrap_or_else(|p| p.into_inner()).open_until = None;
        self.session().await
    }
}

impl Drop for Device {
    /// Background sync holds the store open: stop it, so the store closes with the device.
    fn drop(&mut self) {
        self.stop_sync();
    }
}

/// What the PIN screen adds once the wipe is near, after `wrong` wrong PINs in a row.
fn tries_left_warning(wrong: u32) -> String {
    match WIPE_AFTER_WRONG_PINS.saturating_sub(wrong) {
        _ if wrong < FREE_PIN_ATTEMPTS => String::new(),
        1 => " 1 try left before this tablet deletes its records.".to_string(),
        left => format!(" {left} tries left before this tablet deletes its records."),
    }
}

/// Today's date where the care happens.
pub(crate) fn uk_today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&chrono_tz::Europe::London).date_naive()
}
