//! Signing in to the hub's pages: accounts with Argon2id passwords, the lock-out, sessions and
//! form tokens, and the role check every page's rules start with (`Hub::require`). What each
//! page then shows is `sharing.rs`.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::Utc;
use uuid::Uuid;

use crate::service::{Hub, sha256};
use crate::sharing::WebError;
use crate::storage::{HubStorage, OrgKind, Organisation, SignInClaim, StorageError, WebRole, WebSession, WebUser};

/// Wrong passwords in a row before the account is locked for [`LOCK_OUT_MINUTES`].
pub const MAX_FAILED_SIGN_INS: u32 = 5;
pub const LOCK_OUT_MINUTES: i64 = 15;
/// A session lasts a working day; then the person signs in again.
pub const SESSION_HOURS: i64 = 8;
pub const MIN_PASSWORD_CHARS: usize = 12;

/// A signed-in person: their account, organisation and session.
#[derive(Debug, Clone)]
pub struct WebCaller {
    pub user: WebUser,
    pub org: Organisation,
    pub session: WebSession,
}

impl WebCaller {
    pub(crate) fn describe(&self) -> String {
        format!("{} ({} at {})", self.user.email, self.user.role.code(), self.org.name)
    }
}

pub fn hash_password(password: &str) -> Result<String, WebError> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| WebError::Invalid(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| WebError::Invalid(format!("the password could not be protected: {e}")))
}

fn password_matches(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A hash of a password nobody has, checked for unknown emails so the time taken matches.
fn decoy_hash() -> String {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&random_token()).unwrap_or_default()).clone()
}

/// Argon2 checks at once, at most: each takes ~19 MiB and a core for tens of milliseconds, so a
/// flood of sign-ins queues here instead of exhausting the hub's memory and blocking threads.
static ARGON2_SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);
/// Longer input is refused before any hashing.
const MAX_EMAIL_CHARS: usize = 254;
const MAX_PASSWORD_BYTES: usize = 1024;

/// Sign-ins waiting for an Argon2 slot, at most: beyond this the hub answers "busy" (503) at
/// once, so a flood of sign-ins costs a counter, not a queue that grows without bound.
const ARGON2_QUEUE: usize = 32;
static ARGON2_WAITING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A sign-in's place in the Argon2 queue, given back when dropped.
struct Argon2Turn(());

impl Argon2Turn {
    fn take() -> Result<Argon2Turn, WebError> {
        use std::sync::atomic::Ordering;
        if ARGON2_WAITING.fetch_add(1, Ordering::SeqCst) >= ARGON2_QUEUE {
            ARGON2_WAITING.fetch_sub(1, Ordering::SeqCst);
            return Err(WebError::Busy);
        }
        Ok(Argon2Turn(()))
    }
}

impl Drop for Argon2Turn {
    fn drop(&mut self) {
        ARGON2_WAITING.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Argon2 is deliberately slow: run it off the async threads, a few at a time, for a sign-in
/// that holds a place in the queue.
async fn check_password(_turn: &Argon2Turn, password: String, stored: String) -> bool {
    let Ok(_slot) = ARGON2_SLOTS.acquire().await else { return false };
    tokio::task::spawn_blocking(move || password_matches(&password, &stored)).await.unwrap_or(false)
}

fn random_token() -> String {
    use base64::Engine;
    let secret: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
}

/// A fresh random token for a form.
pub fn new_form_token() -> String {
    random_token()
}

/// Compares secrets in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    subtle::ConstantTimeEq::ct_eq(a.as_bytes(), b.as_bytes()).into()
}

impl<S: HubStorage> Hub<S> {
    /// Creates a sign-in account. Partners and commissioners belong to partner organisations
    /// (an ICB or council commissions), managers to providers.
    pub async fn create_web_user(
        &self,
        org_id: Uuid,
        email: &str,
        name: &str,
        role: WebRole,
        password: &str,
    ) -> Result<WebUser, WebError> {
        let email = email.trim().to_lowercase();
        if !email.contains('@') || email.len() > 254 {
            return Err(WebError::Invalid(format!("{email:?} is not an email address")));
        }
        if name.trim().is_empty() {
            return Err(WebError::Invalid("a name is needed: partners' answers are signed with it".into()));
        }
        if password.chars().count() < MIN_PASSWORD_CHARS {
            return Err(WebError::Invalid(format!("a password needs at least {MIN_PASSWORD_CHARS} characters")));
        }
        let org = self.storage.organisation(org_id).await?.ok_or_else(|| {
            WebError::Invalid(format!("no organisation {org_id}: create it first (create-provider or create-partner)"))
        })?;
        let fits = match role {
            WebRole::Partner | WebRole::Commissioner => org.kind == OrgKind::Partner,
            WebRole::Manager => org.kind == OrgKind::Provider,
        };
        if !fits {
            return Err(WebError::Invalid(format!(
                "a {} account cannot belong to {} (a {})",
                role.code(),
                org.name,
                org.kind.code()
            )));
        }
        let password = password.to_string();
        let hash = tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(|e| StorageError::Task(e.to_string()))??;
        let user = WebUser {
            id: Uuid::new_v4(),
            org_id,
            email,
            name: name.trim().to_string(),
            role,
            password_hash: hash,
            failed_attempts: 0,
            locked_until: None,
        };
        self.storage.create_web_user(user.clone()).await?;
        Ok(user)
    }

    /// Checks a password and opens a session, returning the cookie's secret. Unknown emails
    /// and locked accounts take as long as wrong passwords.
    pub async fn sign_in(&self, email: &str, password: &str) -> Result<(String, WebCaller), WebError> {
        let now = Utc::now();
        let email = email.trim().to_lowercase();
        // Control characters have no place in an e-mail or a password, and a newline in an
        // e-mail would forge a line in a log: refused before anything is looked up.
        if email.chars().any(char::is_control) || password.chars().any(char::is_control) {
            self.audit_web("(an e-mail with control characters)".into(), "sign_in", None, false, "refused".into())
                .await?;
            return Err(WebError::WrongPassword);
        }
        if email.chars().count() > MAX_EMAIL_CHARS || password.len() > MAX_PASSWORD_BYTES {
            return Err(WebError::WrongPassword);
        }
        // A place in the Argon2 queue first: when it is full, nothing is looked up or counted.
        let turn = Argon2Turn::take()?;
        // Every failure gets the same answer and takes as long (an Argon2 check against a decoy
        // where there is nothing to check), so the page tells no one which e-mails have accounts
        // or which are locked.
        let Some(user) = self.storage.web_user_by_email(email.clone()).await? else {
            check_password(&turn, password.to_string(), decoy_hash()).await;
            self.audit_web(format!("{email} (no such account)"), "sign_in", None, false, "unknown email".into())
                .await?;
            return Err(WebError::WrongPassword);
        };
        // The attempt is counted before its password is checked, in one step with the lock-out
        // check: a burst of attempts checks at most MAX_FAILED_SIGN_INS passwords.
        let lock_until = (now + chrono::Duration::minutes(LOCK_OUT_MINUTES)).timestamp_millis();
        let claim = self
            .storage
            .claim_sign_in_attempt(user.id, MAX_FAILED_SIGN_INS, lock_until, now.timestamp_millis())
            .await?;
        let SignInClaim::Claimed { locks } = claim else {
            check_password(&turn, password.to_string(), decoy_hash()).await;
            self.audit_web(user.email.clone(), "sign_in", None, false, "account locked".into()).await?;
            return Err(WebError::WrongPassword);
        };
        if !check_password(&turn, password.to_string(), user.password_hash.clone()).await {
            if locks {
                // Whoever was signed in to this account is signed out too.
                self.storage.delete_sessions_of(user.id).await?;
            }
            let detail = if locks { "wrong password: account locked" } else { "wrong password" };
            self.audit_web(user.email.clone(), "sign_in", None, false, detail.into()).await?;
            return Err(WebError::WrongPassword);
        }
        self.storage.clear_sign_in_failures(user.id).await?;
        self.storage.delete_expired_sessions(now.timestamp_millis()).await?;
        let org = self.storage.organisation(user.org_id).await?.ok_or(WebError::Forbidden)?;
        let secret = random_token();
        let session = WebSession {
            token_hash: sha256(secret.as_bytes()),
            user_id: user.id,
            csrf: random_token(),
            expires_at: (now + chrono::Duration::hours(SESSION_HOURS)).timestamp_millis(),
        };
        self.storage.create_session(session.clone()).await?;
        self.audit_web(user.email.clone(), "sign_in", None, true, String::new()).await?;
        Ok((secret, WebCaller { user, org, session }))
    }

    /// Refuses (and audits) a page the caller's role may not open.
    pub(crate) async fn require(&self, caller: &WebCaller, role: WebRole, action: &str) -> Result<(), WebError> {
        if caller.user.role == role {
            return Ok(());
        }
        self.audit_web(caller.describe(), action, None, false, format!("needs the {} role", role.code())).await?;
        Err(WebError::Forbidden)
    }

    /// The person behind a session cookie, if it is current.
    pub async fn web_caller(&self, secret: &str) -> Result<Option<WebCaller>, WebError> {
        let Some(session) = self.storage.session(sha256(secret.as_bytes())).await? else { return Ok(None) };
        if session.expires_at <= Utc::now().timestamp_millis() {
            self.storage.delete_session(session.token_hash).await?;
            return Ok(None);
        }
        let Some(user) = self.storage.web_user(session.user_id).await? else { return Ok(None) };
        let Some(org) = self.storage.organisation(user.org_id).await? else { return Ok(None) };
        Ok(Some(WebCaller { user, org, session }))
    }

    pub async fn sign_out(&self, caller: &WebCaller) -> Result<(), WebError> {
        self.storage.delete_session(caller.session.token_hash.clone()).await?;
        Ok(())
    }
}

#[cfg(test)]
mod argon2_queue_tests {
    use super::*;

    #[test]
    fn the_argon2_queue_is_bounded_and_a_place_is_given_back() {
        let turns: Vec<Argon2Turn> = (0..ARGON2_QUEUE).map(|_| Argon2Turn::take().expect("a place")).collect();
        assert!(matches!(Argon2Turn::take(), Err(WebError::Busy)), "full: busy at once");
        drop(turns);
        assert!(Argon2Turn::take().is_ok(), "places are given back");
    }
}
