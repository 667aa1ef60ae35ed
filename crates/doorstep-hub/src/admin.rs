//! The operator's commands (`doorstep-hub list-devices`, `revoke-device`, `sync-health`…), so
//! that nobody running a hub ever types SQL. `main.rs` parses the command line and prints;
//! everything else is here, on the [`HubStorage`] trait, so both backends behave alike.
//!
//! Every change an operator makes is written to the audit log with the operator as the actor.
//! Listings are not audited: monitoring runs `sync-health` every few minutes, and the log is
//! for who changed or read records, not for who counted devices.

use chrono::{DateTime, Utc};
use doorstep_model::PartnerKind;
use doorstep_protocol::Role;
use serde::Serialize;
use uuid::Uuid;

use crate::Hub;
use crate::api::{AppError, issue_enrolment_code};
use crate::sharing::{MIN_PASSWORD_CHARS, WebError, hash_password};
use crate::storage::{
    Agreement, AuditEntry, DeviceStatus, HubStorage, OrgKind, Organisation, StorageError, WebRole, WebUserStatus,
};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Web(#[from] WebError),
}

impl From<AppError> for AdminError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Service(crate::service::ServiceError::Storage(e)) => AdminError::Storage(e),
            AppError::Service(e) => AdminError::Invalid(e.to_string()),
            AppError::BadBody(m) | AppError::TooMany(m) => AdminError::Invalid(m),
            other => AdminError::Invalid(format!("{other:?}")),
        }
    }
}

impl From<crate::service::ServiceError> for AdminError {
    fn from(e: crate::service::ServiceError) -> Self {
        AppError::Service(e).into()
    }
}

pub type AdminResult<T> = Result<T, AdminError>;

/// Who the audit log names for a command run at the hub's own console: the operator, and
/// the login they ran it as, when the environment says.
pub fn operator() -> String {
    match std::env::var("SUDO_USER").or_else(|_| std::env::var("USER")) {
        Ok(user) if !user.is_empty() => format!("operator ({user})"),
        _ => "operator".into(),
    }
}

async fn audit_action<S: HubStorage>(storage: &S, actor: &str, action: &str, detail: String) -> AdminResult<()> {
    storage
        .audit(AuditEntry {
            at: Utc::now().timestamp_millis(),
            actor: actor.to_string(),
            action: action.to_string(),
            doc_id: None,
            allowed: true,
            detail,
        })
        .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Output: every report prints as aligned text, or as JSON for scripts.

/// What a command prints.
pub trait Report: Serialize {
    fn text(&self) -> String;
}

/// Columns padded to their widest cell, two spaces apart; the last column is not padded.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        let mut out = String::new();
        for (i, cell) in cells.into_iter().enumerate() {
            if i == last {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        out.trim_end().to_string()
    };
    let mut out = line(headers.to_vec());
    for row in rows {
        out.push('\n');
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// A listing's text: `empty` (a hint at what to do) when there is nothing, else a table with a
/// row per item.
fn listing<T>(
    items: &[T],
    empty: impl FnOnce() -> String,
    headers: &[&str],
    row: impl Fn(&T) -> Vec<String>,
) -> String {
    if items.is_empty() {
        return empty();
    }
    table(headers, &items.iter().map(row).collect::<Vec<_>>())
}

/// RFC 3339 (UTC) for JSON.
fn rfc3339(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// "2026-11-26 14:20 UTC (3 min ago)" for people.
fn when(ms: Option<i64>, now: i64) -> String {
    let Some(ms) = ms else { return "never".into() };
    let at = DateTime::from_timestamp_millis(ms).unwrap_or_default().format("%Y-%m-%d %H:%M UTC");
    let ago = (now - ms).max(0) / 1000;
    let ago = match ago {
        0..60 => "just now".to_string(),
        60..3600 => format!("{} min ago", ago / 60),
        3600..86_400 => format!("{} h ago", ago / 3600),
        _ => format!("{} days ago", ago / 86_400),
    };
    format!("{at} ({ago})")
}

// ---------------------------------------------------------------------------------------------
// Organisations

#[derive(Debug, Clone, Serialize)]
pub struct OrgRow {
    pub id: Uuid,
    pub name: String,
    /// provider or partner.
    pub kind: &'static str,
    /// For partners: gp_practice, icb, council_adult_social_care…
    pub partner_kind: Option<&'static str>,
    /// Whether its web users may be commissioners (an ICB or a council).
    pub commissioning: bool,
    pub devices: usize,
    pub web_users: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrgList {
    pub organisations: Vec<OrgRow>,
}

impl Report for OrgList {
    fn text(&self) -> String {
        let empty = || "no organisations yet: start with create-provider".to_string();
        listing(&self.organisations, empty, &["ID", "KIND", "DEVICES", "WEB USERS", "NAME"], |o| {
            let kind = match o.partner_kind {
                Some(p) => format!("{}: {p}", o.kind),
                None => o.kind.to_string(),
            };
            vec![o.id.to_string(), kind, o.devices.to_string(), o.web_users.to_string(), o.name.clone()]
        })
    }
}

/// ICBs and councils' adult social care teams commission care: their web users may be
/// commissioners, who see anonymised counts across providers.
pub fn commissioning(kind: Option<PartnerKind>) -> bool {
    matches!(kind, Some(PartnerKind::IntegratedCareBoard | PartnerKind::CouncilAdultSocialCare))
}

pub async fn list_organisations<S: HubStorage>(storage: &S) -> AdminResult<OrgList> {
    let devices = storage.device_statuses(None).await?;
    let mut organisations = Vec::new();
    for org in storage.organisations().await? {
        let web_users = storage.web_users_of(org.id).await?.len();
        organisations.push(OrgRow {
            id: org.id,
            kind: org.kind.code(),
            partner_kind: org.partner_kind.map(PartnerKind::code),
            commissioning: commissioning(org.partner_kind),
            devices: devices.iter().filter(|d| d.device.org_id == org.id).count(),
            web_users,
            name: org.name,
        });
    }
    Ok(OrgList { organisations })
}

async fn organisation<S: HubStorage>(storage: &S, id: Uuid) -> AdminResult<Organisation> {
    storage
        .organisation(id)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("no organisation {id}: list-organisations shows them")))
}

#[derive(Debug, Clone, Serialize)]
pub struct ProviderCreated {
    pub id: Uuid,
    pub name: String,
    pub manager: String,
    pub enrolment_code: String,
    pub expires_at: String,
}

impl Report for ProviderCreated {
    fn text(&self) -> String {
        format!(
            "provider {} ({})\nmanager enrolment code for {}: {} (expires {})",
            self.name, self.id, self.manager, self.enrolment_code, self.expires_at
        )
    }
}

/// Registers a home-care provider and issues its first manager's enrolment code.
pub async fn create_provider<S: HubStorage>(
    storage: &S,
    actor: &str,
    name: &str,
    manager: &str,
    id: Option<Uuid>,
) -> AdminResult<ProviderCreated> {
    let org = new_organisation(name, OrgKind::Provider, None, id)?;
    storage.create_organisation(org.clone()).await?;
    audit_action(storage, actor, "create_organisation", format!("provider {} ({})", org.name, org.id)).await?;
    let code = enrolment_code(storage, actor, org.id, manager, Role::Manager).await?;
    Ok(ProviderCreated {
        id: org.id,
        name: org.name,
        manager: code.staff,
        enrolment_code: code.enrolment_code,
        expires_at: code.expires_at,
    })
}

fn new_organisation(
    name: &str,
    kind: OrgKind,
    partner_kind: Option<PartnerKind>,
    id: Option<Uuid>,
) -> AdminResult<Organisation> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AdminError::Invalid("an organisation needs a name".into()));
    }
    Ok(Organisation { id: id.unwrap_or_else(Uuid::new_v4), name: name.to_string(), kind, partner_kind })
}

pub fn partner_kind(code: &str) -> AdminResult<PartnerKind> {
    PartnerKind::from_code(code).ok_or_else(|| {
        let known: Vec<&str> = PartnerKind::ALL.iter().map(|k| k.code()).collect();
        AdminError::Invalid(format!("unknown partner kind {code:?}: use one of {}", known.join(", ")))
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct PartnerCreated {
    pub id: Uuid,
    pub name: String,
    pub partner_kind: &'static str,
    pub commissioning: bool,
    #[serde(skip)]
    label: &'static str,
}

impl Report for PartnerCreated {
    fn text(&self) -> String {
        let mut text = format!("partner {} ({}, {})", self.name, self.label, self.id);
        if self.commissioning {
            text.push_str(&format!(
                "\nnext: create its commissioners' accounts with create-web-user --org {} --role commissioner",
                self.id
            ));
        }
        text
    }
}

/// Registers a partner organisation (GP practice, ICB, council…).
pub async fn create_partner<S: HubStorage>(
    storage: &S,
    actor: &str,
    name: &str,
    kind: PartnerKind,
    id: Option<Uuid>,
) -> AdminResult<PartnerCreated> {
    let org = new_organisation(name, OrgKind::Partner, Some(kind), id)?;
    storage.create_organisation(org.clone()).await?;
    audit_action(storage, actor, "create_organisation", format!("partner {} ({}, {})", org.name, kind.code(), org.id))
        .await?;
    Ok(PartnerCreated {
        id: org.id,
        name: org.name,
        partner_kind: kind.code(),
        commissioning: commissioning(Some(kind)),
        label: kind.label(),
    })
}

/// Registers the organisation a commissioner works for: an ICB or a council's adult social
/// care team, kept as a partner organisation whose web users have the commissioner role.
pub async fn create_commissioner<S: HubStorage>(
    storage: &S,
    actor: &str,
    name: &str,
    kind: PartnerKind,
    id: Option<Uuid>,
) -> AdminResult<PartnerCreated> {
    if !commissioning(Some(kind)) {
        return Err(AdminError::Invalid(format!(
            "commissioners work for an ICB (icb) or a council (council_adult_social_care), not {}",
            kind.code()
        )));
    }
    create_partner(storage, actor, name, kind, id).await
}

#[derive(Debug, Clone, Serialize)]
pub struct AgreementSet {
    pub commissioner: String,
    pub provider: String,
    /// Empty: all the provider's people.
    pub districts: Vec<String>,
}

impl Report for AgreementSet {
    fn text(&self) -> String {
        let area = if self.districts.is_empty() { "all its people".to_string() } else { self.districts.join(", ") };
        format!(
            "{} may now count {} ({area}): weekly, people not records, at least 5 from 2 providers",
            self.commissioner, self.provider
        )
    }
}

/// Lets a commissioner's organisation count a provider's people (in `districts` only, if any):
/// without an agreement a commissioner counts nothing.
pub async fn set_agreement<S: HubStorage>(
    storage: &S,
    actor: &str,
    commissioner: Uuid,
    provider: Uuid,
    districts: &[String],
) -> AdminResult<AgreementSet> {
    let org = |id: Uuid| async move {
        storage.organisation(id).await?.ok_or_else(|| AdminError::NotFound(format!("no organisation {id}")))
    };
    let (c, p) = (org(commissioner).await?, org(provider).await?);
    if !commissioning(c.partner_kind) {
        return Err(AdminError::Invalid(format!(
            "{} is not an ICB or a council: agreements are with commissioners (create-commissioner makes one)",
            c.name
        )));
    }
    if p.kind != OrgKind::Provider {
        return Err(AdminError::Invalid(format!("{} is not a care provider", p.name)));
    }
    let mut areas = Vec::new();
    for d in districts.iter().flat_map(|d| d.split([',', ' '])).filter(|d| !d.trim().is_empty()) {
        // The district rule people's postcodes follow, so an agreement's area matches theirs.
        match doorstep_model::directory::district(d) {
            Some(x) if !areas.contains(&x) => areas.push(x),
            Some(_) => {}
            None => return Err(AdminError::Invalid(format!("{d:?} is not a postcode district (e.g. LS6)"))),
        }
    }
    let agreement =
        Agreement { commissioner, provider, districts: areas.clone(), created_at: Utc::now().timestamp_millis() };
    storage.set_agreement(agreement).await?;
    let scope = if areas.is_empty() { "all".to_string() } else { areas.join(" ") };
    audit_action(storage, actor, "set_agreement", format!("{} counts {} ({scope})", c.name, p.name)).await?;
    Ok(AgreementSet { commissioner: c.name, provider: p.name, districts: areas })
}

#[derive(Debug, Clone, Serialize)]
pub struct ListingSet {
    pub partner: String,
    pub services: Vec<String>,
    pub districts: Vec<String>,
    pub team_email: String,
}

impl Report for ListingSet {
    fn text(&self) -> String {
        let area = if self.districts.is_empty() { "any area".to_string() } else { self.districts.join(", ") };
        let told = if self.team_email.is_empty() {
            "not e-mailed when something arrives (no team mailbox)".to_string()
        } else {
            format!("e-mailed at {} when something arrives", self.team_email)
        };
        format!("{} is listed for {} in {area}; {told}", self.partner, self.services.join(", "))
    }
}

/// Sets a partner organisation's directory listing: what it does, where, when, its ODS code,
/// phone and team mailbox (`partner_directory.rs`).
pub async fn set_partner_listing<S: HubStorage>(
    storage: &S,
    actor: &str,
    org: Uuid,
    record: crate::partner_directory::ListingRecord,
) -> AdminResult<ListingSet> {
    let partner =
        storage.organisation(org).await?.ok_or_else(|| AdminError::NotFound(format!("no organisation {org}")))?;
    if partner.kind != OrgKind::Partner {
        return Err(AdminError::Invalid(format!("{} is not a partner organisation", partner.name)));
    }
    let record = record.checked().map_err(|e| AdminError::Invalid(e.to_string()))?;
    let json = serde_json::to_string(&record).map_err(|e| AdminError::Invalid(e.to_string()))?;
    storage.set_partner_listing(org, json, Utc::now().timestamp_millis()).await?;
    let mut services = vec![partner.partner_kind.unwrap_or(doorstep_model::PartnerKind::Other).code().to_string()];
    services.extend(record.services.iter().filter(|s| !services.contains(s)).cloned().collect::<Vec<_>>());
    let area = if record.districts.is_empty() { "any area".to_string() } else { record.districts.join(" ") };
    audit_action(storage, actor, "set_partner_listing", format!("{} ({area})", partner.name)).await?;
    Ok(ListingSet { partner: partner.name, services, districts: record.districts, team_email: record.team_email })
}

// ---------------------------------------------------------------------------------------------
// Web users

#[derive(Debug, Clone, Serialize)]
pub struct WebUserRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: &'static str,
    /// active, locked (too many wrong passwords, for a while) or disabled (by an operator).
    pub status: &'static str,
    pub created_at: String,
    pub disabled_at: Option<String>,
    pub locked_until: Option<String>,
}

fn web_user_row(status: &WebUserStatus, now: i64) -> WebUserRow {
    let user = &status.user;
    let locked = user.locked_until.filter(|u| *u > now);
    WebUserRow {
        id: user.id,
        org_id: user.org_id,
        email: user.email.clone(),
        name: user.name.clone(),
        role: user.role.code(),
        status: match (status.disabled_at, locked) {
            (Some(_), _) => "disabled",
            (None, Some(_)) => "locked",
            (None, None) => "active",
        },
        created_at: rfc3339(status.created_at),
        disabled_at: status.disabled_at.map(rfc3339),
        locked_until: locked.map(rfc3339),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct WebUserList {
    pub org_id: Uuid,
    pub org_name: String,
    pub web_users: Vec<WebUserRow>,
}

impl Report for WebUserList {
    fn text(&self) -> String {
        let empty = || format!("{} has no web users yet: create-web-user adds one", self.org_name);
        listing(&self.web_users, empty, &["EMAIL", "ROLE", "STATUS", "ID", "NAME"], |u| {
            vec![u.email.clone(), u.role.into(), u.status.into(), u.id.to_string(), u.name.clone()]
        })
    }
}

pub async fn list_web_users<S: HubStorage>(storage: &S, org: Uuid) -> AdminResult<WebUserList> {
    let org = organisation(storage, org).await?;
    let now = Utc::now().timestamp_millis();
    let web_users = storage.web_users_of(org.id).await?.iter().map(|u| web_user_row(u, now)).collect();
    Ok(WebUserList { org_id: org.id, org_name: org.name, web_users })
}

#[derive(Debug, Clone, Serialize)]
pub struct WebUserChanged {
    /// created, disabled, enabled, password_reset; or unchanged.
    pub outcome: &'static str,
    pub user: WebUserRow,
}

impl Report for WebUserChanged {
    fn text(&self) -> String {
        let u = &self.user;
        match self.outcome {
            "created" => format!("{} account for {} ({})", u.role, u.email, u.id),
            "disabled" => format!("disabled {} ({}): signed out everywhere; enable-web-user undoes it", u.email, u.id),
            "enabled" => format!("enabled {} ({}): they can sign in again", u.email, u.id),
            "password_reset" => format!("new password set for {} ({}): signed out everywhere", u.email, u.id),
            _ => format!("{} ({}) was already {}: nothing changed", u.email, u.id, u.status),
        }
    }
}

async fn web_user_by_email<S: HubStorage>(storage: &S, email: &str) -> AdminResult<WebUserStatus> {
    let email = email.trim().to_lowercase();
    storage
        .web_user_status(email.clone())
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("no web user {email}: list-web-users --org ID shows them")))
}

async fn changed<S: HubStorage>(storage: &S, email: &str, outcome: &'static str) -> AdminResult<WebUserChanged> {
    let status = web_user_by_email(storage, email).await?;
    Ok(WebUserChanged { outcome, user: web_user_row(&status, Utc::now().timestamp_millis()) })
}

/// Creates a sign-in account for the partner pages (the role checks are `Hub::create_web_user`'s).
pub async fn create_web_user<S: HubStorage + Clone>(
    storage: &S,
    actor: &str,
    org: Uuid,
    email: &str,
    name: &str,
    role: WebRole,
    password: &str,
) -> AdminResult<WebUserChanged> {
    // Commissioners see counts across every provider: only an ICB's or a council's people.
    if role == WebRole::Commissioner {
        let org = organisation(storage, org).await?;
        if !commissioning(org.partner_kind) {
            return Err(AdminError::Invalid(format!(
                "{} is not an ICB or a council: commissioners' accounts belong to one (create-commissioner makes it)",
                org.name
            )));
        }
    }
    let hub = Hub::new(storage.clone());
    let user = hub.create_web_user(org, email, name, role, password).await?;
    let detail = format!("{} account {} ({}) in {org}", user.role.code(), user.email, user.id);
    audit_action(storage, actor, "create_web_user", detail).await?;
    changed(storage, &user.email, "created").await
}

/// Disables or enables an account. Disabling ends its sessions at once.
pub async fn set_web_user_enabled<S: HubStorage>(
    storage: &S,
    actor: &str,
    email: &str,
    enabled: bool,
) -> AdminResult<WebUserChanged> {
    let status = web_user_by_email(storage, email).await?;
    let user = &status.user;
    if status.disabled_at.is_none() == enabled {
        return changed(storage, &user.email, "unchanged").await;
    }
    let at = (!enabled).then(|| Utc::now().timestamp_millis());
    storage.set_web_user_disabled(user.id, at).await?;
    if !enabled {
        storage.delete_sessions_of(user.id).await?;
    }
    let (action, outcome) = if enabled { ("enable_web_user", "enabled") } else { ("disable_web_user", "disabled") };
    audit_action(storage, actor, action, format!("{} ({})", user.email, user.id)).await?;
    changed(storage, &user.email, outcome).await
}

/// Sets a new password, clears any lock-out and ends the account's sessions. A disabled
/// account stays disabled.
pub async fn reset_password<S: HubStorage>(
    storage: &S,
    actor: &str,
    email: &str,
    password: &str,
) -> AdminResult<WebUserChanged> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AdminError::Invalid(format!("a password needs at least {MIN_PASSWORD_CHARS} characters")));
    }
    let status = web_user_by_email(storage, email).await?;
    let password = password.to_string();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| StorageError::Task(e.to_string()))??;
    storage.set_web_user_password(status.user.id, hash).await?;
    storage.delete_sessions_of(status.user.id).await?;
    audit_action(storage, actor, "reset_password", format!("{} ({})", status.user.email, status.user.id)).await?;
    changed(storage, &status.user.email, "password_reset").await
}

// ---------------------------------------------------------------------------------------------
// Devices

#[derive(Debug, Clone, Serialize)]
pub struct EnrolmentCodeIssued {
    pub org_id: Uuid,
    pub staff: String,
    pub role: &'static str,
    pub enrolment_code: String,
    pub expires_at: String,
}

impl Report for EnrolmentCodeIssued {
    fn text(&self) -> String {
        format!(
            "{} enrolment code for {}: {} (expires {})",
            self.role, self.staff, self.enrolment_code, self.expires_at
        )
    }
}

/// A one-time code (24 hours) with which a carer's or manager's device enrols.
pub async fn enrolment_code<S: HubStorage>(
    storage: &S,
    actor: &str,
    org: Uuid,
    staff: &str,
    role: Role,
) -> AdminResult<EnrolmentCodeIssued> {
    let org = organisation(storage, org).await?;
    if org.kind != OrgKind::Provider {
        return Err(AdminError::Invalid(format!(
            "{} is a partner: devices belong to providers' carers and managers; partners use the web pages",
            org.name
        )));
    }
    let code = issue_enrolment_code(storage, org.id, staff, role, actor).await?;
    let staff = staff.trim().to_string();
    let detail = format!("{} enrolment code for {staff} of {}", role.code(), org.id);
    audit_action(storage, actor, "enrolment_code", detail).await?;
    Ok(EnrolmentCodeIssued {
        org_id: org.id,
        staff,
        role: role.code(),
        enrolment_code: code.code,
        expires_at: code.expires_at,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct DeviceRow {
    pub id: Uuid,
    pub org_id: Uuid,
    pub staff_ref: String,
    pub role: &'static str,
    pub name: String,
    pub revoked: bool,
    pub enrolled_at: String,
    pub revoked_at: Option<String>,
    pub last_sync_at: Option<String>,
    /// Documents the last sync held back (the device keeps them and says why).
    pub last_held_back: u32,
    /// Of those, documents the device was not allowed to write.
    pub last_refused: u32,
    #[serde(skip)]
    last_sync_ms: Option<i64>,
}

fn device_row(d: &DeviceStatus) -> DeviceRow {
    DeviceRow {
        id: d.device.id,
        org_id: d.device.org_id,
        staff_ref: d.device.staff_ref.clone(),
        role: d.device.role.code(),
        name: d.device.name.clone(),
        revoked: d.device.revoked,
        enrolled_at: rfc3339(d.enrolled_at),
        revoked_at: d.revoked_at.map(rfc3339),
        last_sync_at: d.last_sync_at.map(rfc3339),
        last_held_back: d.last_held_back,
        last_refused: d.last_refused,
        last_sync_ms: d.last_sync_at,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DeviceList {
    pub devices: Vec<DeviceRow>,
    #[serde(skip)]
    now: i64,
}

impl Report for DeviceList {
    fn text(&self) -> String {
        let empty = || "no devices: enrolment-code gives one a code to enrol with".to_string();
        let headers = ["ID", "ORGANISATION", "STAFF", "ROLE", "STATUS", "LAST SYNC", "NAME"];
        listing(&self.devices, empty, &headers, |d| {
            vec![
                d.id.to_string(),
                d.org_id.to_string(),
                d.staff_ref.clone(),
                d.role.into(),
                if d.revoked { "revoked" } else { "active" }.into(),
                when(d.last_sync_ms, self.now),
                d.name.clone(),
            ]
        })
    }
}

pub async fn list_devices<S: HubStorage>(storage: &S, org: Option<Uuid>) -> AdminResult<DeviceList> {
    if let Some(org) = org {
        organisation(storage, org).await?;
    }
    let devices = storage.device_statuses(org).await?.iter().map(device_row).collect();
    Ok(DeviceList { devices, now: Utc::now().timestamp_millis() })
}

#[derive(Debug, Clone, Serialize)]
pub struct DeviceRevoked {
    /// False if it was revoked already.
    pub revoked_now: bool,
    pub device: DeviceRow,
}

impl Report for DeviceRevoked {
    fn text(&self) -> String {
        let d = &self.device;
        let who = format!("{} ({} {}, \"{}\")", d.id, d.role, d.staff_ref, d.name);
        if self.revoked_now {
            format!("revoked device {who}: it is refused from now on and wipes its records when it next connects")
        } else {
            format!("device {who} was already revoked")
        }
    }
}

/// Revokes a device (lost, stolen, or its holder left): refused from now on, and it wipes its
/// store when it next reaches the hub.
pub async fn revoke_device<S: HubStorage>(storage: &S, actor: &str, id: Uuid) -> AdminResult<DeviceRevoked> {
    let Some(device) = storage.device(id).await? else {
        return Err(AdminError::NotFound(format!("no device {id}: list-devices shows them")));
    };
    let revoked_now = storage.revoke_device(id, Utc::now().timestamp_millis()).await?;
    if revoked_now {
        let detail = format!("revoked device {} ({} {})", device.id, device.role.code(), device.staff_ref);
        audit_action(storage, actor, "revoke_device", detail).await?;
    }
    let status = storage
        .device_statuses(Some(device.org_id))
        .await?
        .into_iter()
        .find(|d| d.device.id == id)
        .ok_or_else(|| AdminError::NotFound(format!("no device {id}")))?;
    Ok(DeviceRevoked { revoked_now, device: device_row(&status) })
}

// ---------------------------------------------------------------------------------------------
// Sync health

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SyncSummary {
    pub devices: usize,
    pub revoked: usize,
    /// Devices not revoked that synced in the last 24 hours / 7 days.
    pub active_24h: usize,
    pub active_7d: usize,
    /// Devices not revoked that have never synced.
    pub never_synced: usize,
    /// Devices not revoked whose last sync held something back.
    pub holding_back: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct SyncHealth {
    pub at: String,
    pub summary: SyncSummary,
    pub devices: Vec<DeviceRow>,
    #[serde(skip)]
    now: i64,
}

impl Report for SyncHealth {
    fn text(&self) -> String {
        let s = &self.summary;
        let mut text = format!(
            "{} devices ({} revoked): {} synced in the last 24 h, {} in the last 7 days, {} never; \
             {} held something back at their last sync",
            s.devices, s.revoked, s.active_24h, s.active_7d, s.never_synced, s.holding_back
        );
        if self.devices.is_empty() {
            return text;
        }
        let rows: Vec<Vec<String>> = self
            .devices
            .iter()
            .map(|d| {
                vec![
                    d.staff_ref.clone(),
                    d.role.into(),
                    if d.revoked { "yes" } else { "no" }.into(),
                    when(d.last_sync_ms, self.now),
                    d.last_held_back.to_string(),
                    d.last_refused.to_string(),
                    d.id.to_string(),
                    d.name.clone(),
                ]
            })
            .collect();
        text.push_str("\n\n");
        text.push_str(&table(
            &["STAFF", "ROLE", "REVOKED", "LAST SYNC", "HELD BACK", "REFUSED", "DEVICE", "NAME"],
            &rows,
        ));
        text
    }
}

/// Per device: when it last synced and what its last sync held back; and how many devices
/// synced lately. `now` is unix ms (passed in so the counts can be tested).
pub async fn sync_health<S: HubStorage>(storage: &S, org: Option<Uuid>, now: i64) -> AdminResult<SyncHealth> {
    if let Some(org) = org {
        organisation(storage, org).await?;
    }
    let statuses = storage.device_statuses(org).await?;
    let live: Vec<&DeviceStatus> = statuses.iter().filter(|d| !d.device.revoked).collect();
    let since = |ms: i64| live.iter().filter(|d| d.last_sync_at.is_some_and(|at| at > now - ms)).count();
    let summary = SyncSummary {
        devices: statuses.len(),
        revoked: statuses.len() - live.len(),
        active_24h: since(86_400_000),
        active_7d: since(7 * 86_400_000),
        never_synced: live.iter().filter(|d| d.last_sync_at.is_none()).count(),
        holding_back: live.iter().filter(|d| d.last_held_back > 0).count(),
    };
    // Longest silent first: those are the devices to chase.
    let mut devices: Vec<DeviceRow> = statuses.iter().map(device_row).collect();
    devices.sort_by_key(|d| (d.revoked, d.last_sync_ms.unwrap_or(i64::MIN), d.staff_ref.clone()));
    Ok(SyncHealth { at: rfc3339(now), summary, devices, now })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_every_column_but_the_last() {
        let t = table(&["ID", "NAME"], &[vec!["1".into(), "Ann".into()], vec!["12345".into(), "Bo".into()]]);
        assert_eq!(t, "ID     NAME\n1      Ann\n12345  Bo");
    }

    #[test]
    fn times_read_as_how_long_ago() {
        let now = 1_800_000_000_000;
        assert_eq!(when(None, now), "never");
        assert!(when(Some(now - 5 * 60_000), now).ends_with("(5 min ago)"));
        assert!(when(Some(now - 3 * 86_400_000), now).ends_with("(3 days ago)"));
    }
}
