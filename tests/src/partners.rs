//! The hub's other organisations and its pages' accounts, as the partner stories set them up
//! (the authorisation matrix, hostile input, the partner pages): another provider, the council
//! and the surgery, web users and their signed-in sessions. One version, so the three tests
//! stand on the same ground.
//!
//! Everything here goes through the hub's storage and service, not over HTTP: the requests a
//! test sends (and checks) are then only its own.

use doorstep_hub::Hub;
use doorstep_hub::admin::partner_kind;
use doorstep_hub::storage::{HubStorage, OrgKind, Organisation, WebRole};
use uuid::Uuid;

use crate::TestHub;

/// Every web user's password.
pub const PASSWORD: &str = "correct horse battery staple";

/// The council's name (a `PartnerKind::CouncilAdultSocialCare`).
pub const COUNCIL: &str = "Northbrook Adult Social Care";

/// The GP surgery's name (a `PartnerKind::GpPractice`).
pub const SURGERY: &str = "Riverside Surgery";

/// The partner organisations a provider shares with.
#[derive(Debug, Clone, Copy)]
pub struct Partners {
    pub council: Uuid,
    pub surgery: Uuid,
}

/// A person signed in at the hub's pages: what their browser sends back.
#[derive(Debug, Clone)]
pub struct WebSession {
    /// `doorstep_session=…`, as a `Cookie` header.
    pub cookie: String,
    /// The session's form token.
    pub csrf: String,
}

impl<S: HubStorage + Clone> TestHub<S> {
    /// Another home-care provider on the same hub.
    pub async fn other_provider(&self, name: &str) -> Uuid {
        self.organisation(name, OrgKind::Provider, None).await
    }

    /// The council ([`COUNCIL`]) and the surgery ([`SURGERY`]), in that order.
    pub async fn partners(&self) -> Partners {
        let council = self.organisation(COUNCIL, OrgKind::Partner, Some("council_adult_social_care")).await;
        let surgery = self.organisation(SURGERY, OrgKind::Partner, Some("gp_practice")).await;
        Partners { council, surgery }
    }

    /// `partner` is a partner kind's code, parsed as the hub's admin commands parse it: the
    /// harness does not depend on the model crate that names the kinds.
    pub async fn organisation(&self, name: &str, kind: OrgKind, partner: Option<&str>) -> Uuid {
        let partner_kind = partner.map(|code| partner_kind(code).expect("a partner kind's code"));
        let id = Uuid::new_v4();
        let organisation = Organisation { id, name: name.into(), kind, partner_kind };
        self.storage.create_organisation(organisation).await.expect("create organisation");
        id
    }

    /// An account at the hub's pages, with [`PASSWORD`].
    pub async fn web_user(&self, org: Uuid, email: &str, name: &str, role: WebRole) {
        let hub = Hub::new(self.storage.clone());
        hub.create_web_user(org, email, name, role, PASSWORD).await.expect("create web user");
    }

    /// Signs an existing account in (a new session each time).
    pub async fn sign_in(&self, email: &str) -> WebSession {
        let (secret, caller) = Hub::new(self.storage.clone()).sign_in(email, PASSWORD).await.expect("sign in");
        WebSession { cookie: format!("doorstep_session={secret}"), csrf: caller.session.csrf }
    }

    /// A new account, signed in.
    pub async fn web_session(&self, org: Uuid, email: &str, name: &str, role: WebRole) -> WebSession {
        self.web_user(org, email, name, role).await;
        self.sign_in(email).await
    }
}
