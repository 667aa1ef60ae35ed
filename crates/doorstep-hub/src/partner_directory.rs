//! The partner directory as the hub keeps it: per partner organisation, what it does, the
//! postcode districts it covers, its hours, its ODS code, its team's phone and the team mailbox
//! the hub e-mails when something arrives (`notify.rs`). The operator sets it
//! (`doorstep-hub set-partner-listing`); managers' devices read it, without the mailbox, to rank
//! partners for an idea (`doorstep_model::routing`), and the hub checks pushes against it.

use doorstep_model::routing::PartnerListing;
use doorstep_model::{PartnerKind, PartnerOrg};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::service::{Hub, ServiceError};
use crate::storage::{HubStorage, OrgKind, Organisation};

/// What is stored per partner (JSON in `partner_listings.listing`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListingRecord {
    /// `PartnerKind` codes.
    pub services: Vec<String>,
    pub districts: Vec<String>,
    pub hours: String,
    pub ods_code: String,
    pub phone: String,
    /// The team mailbox told when something arrives; never sent to devices.
    pub team_email: String,
}

/// One partner with its listing and mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    pub listing: PartnerListing,
    pub team_email: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListingError {
    #[error("{0:?} is not a service: use one of {1}")]
    Service(String, String),
    #[error("{0:?} is not a postcode district (e.g. NB1)")]
    District(String),
    #[error("{0:?} is not an ODS code (letters and digits, 3 to 10 of them, like B86001)")]
    Ods(String),
    #[error("{0:?} is not a phone number (digits and spaces, like 01632 960 200)")]
    Phone(String),
    #[error("{0:?} is not an e-mail address")]
    Email(String),
    #[error("{what} is too long: at most {most} characters")]
    TooLong { what: &'static str, most: usize },
}

const MAX_HOURS_CHARS: usize = 120;

impl ListingRecord {
    /// Checks and tidies what the operator typed: districts upper-case and de-duplicated by the
    /// rule people's postcodes follow, so a listing's area matches theirs.
    pub fn checked(mut self) -> Result<ListingRecord, ListingError> {
        for s in &self.services {
            if PartnerKind::from_code(s).is_none() {
                let known: Vec<&str> = PartnerKind::ALL.iter().map(|k| k.code()).collect();
                return Err(ListingError::Service(s.clone(), known.join(", ")));
            }
        }
        let mut districts: Vec<String> = Vec::new();
        for d in &self.districts {
            match doorstep_model::directory::district(d) {
                Some(x) if !districts.contains(&x) => districts.push(x),
                Some(_) => {}
                None => return Err(ListingError::District(d.clone())),
            }
        }
        self.districts = districts;
        let ods = self.ods_code.trim().to_ascii_uppercase();
        if (!ods.is_empty() && !(3..=10).contains(&ods.len())) || !ods.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ListingError::Ods(self.ods_code));
        }
        self.ods_code = ods;
        self.phone = self.phone.trim().to_string();
        if !self.phone.is_empty() && doorstep_model::directory::dial_digits(&self.phone).is_none() {
            return Err(ListingError::Phone(self.phone));
        }
        self.team_email = self.team_email.trim().to_string();
        if !self.team_email.is_empty() && self.team_email.parse::<lettre::Address>().is_err() {
            return Err(ListingError::Email(self.team_email));
        }
        self.hours = self.hours.trim().to_string();
        if self.hours.chars().count() > MAX_HOURS_CHARS {
            return Err(ListingError::TooLong { what: "hours", most: MAX_HOURS_CHARS });
        }
        Ok(self)
    }

    fn entry(self, org: &Organisation) -> DirectoryEntry {
        let kind = org.partner_kind.unwrap_or(PartnerKind::Other);
        let mut services: Vec<PartnerKind> = vec![kind];
        services.extend(self.services.iter().filter_map(|s| PartnerKind::from_code(s)).filter(|k| *k != kind));
        DirectoryEntry {
            listing: PartnerListing {
                org: PartnerOrg { id: org.id, name: org.name.clone(), kind },
                services,
                districts: self.districts,
                hours: self.hours,
                ods_code: self.ods_code,
                phone: self.phone,
            },
            team_email: self.team_email,
        }
    }
}

impl<S: HubStorage> Hub<S> {
    /// Every partner organisation with its listing (a bare one where the operator set none).
    pub async fn partner_directory(&self) -> Result<Vec<DirectoryEntry>, ServiceError> {
        let orgs = self.storage.partner_organisations().await?;
        let stored = self.storage.partner_listings().await?;
        Ok(orgs
            .iter()
            .filter(|o| o.kind == OrgKind::Partner)
            .map(|org| {
                let record = stored
                    .iter()
                    .find(|(id, _)| *id == org.id)
                    // A listing that no longer parses is treated as none: the partner stays
                    // reachable, only unranked.
                    .and_then(|(_, json)| serde_json::from_str::<ListingRecord>(json).ok())
                    .unwrap_or_default();
                record.entry(org)
            })
            .collect())
    }

    /// One partner's entry.
    pub async fn partner_entry(&self, org: Uuid) -> Result<Option<DirectoryEntry>, ServiceError> {
        Ok(self.partner_directory().await?.into_iter().find(|e| e.listing.org.id == org))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_are_checked_and_tidied() {
        let ok = ListingRecord {
            services: vec!["ot_equipment".into()],
            districts: vec!["nb1".into(), "NB1".into(), "nb2".into()],
            ods_code: "b86001".into(),
            phone: "01632 960 200".into(),
            team_email: "ot-team@northbrook.test".into(),
            ..ListingRecord::default()
        }
        .checked()
        .unwrap();
        assert_eq!(ok.districts, ["NB1", "NB2"]);
        assert_eq!(ok.ods_code, "B86001");
        let bad = |r: ListingRecord| r.checked().unwrap_err();
        assert!(matches!(
            bad(ListingRecord { services: vec!["wizard".into()], ..Default::default() }),
            ListingError::Service(..)
        ));
        assert!(matches!(
            bad(ListingRecord { districts: vec!["Leeds".into()], ..Default::default() }),
            ListingError::District(_)
        ));
        assert!(matches!(
            bad(ListingRecord { ods_code: "B8-6001".into(), ..Default::default() }),
            ListingError::Ods(_)
        ));
        assert!(matches!(bad(ListingRecord { phone: "call us".into(), ..Default::default() }), ListingError::Phone(_)));
        assert!(matches!(
            bad(ListingRecord { team_email: "team at nhs".into(), ..Default::default() }),
            ListingError::Email(_)
        ));
    }
}
