//! Insights: a carer's hospital-avoidance idea or on-the-ground observation, its journey from
//! draft to a partner's answer, and the conversation around it.

use crate::ids::{InsightId, PersonId, StaffId};
use crate::person::ConsentToShare;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct Insight {
    pub id: InsightId,
    pub person_id: Option<PersonId>,
    pub author: StaffId,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::timestamp"))]
    pub created_at: DateTime<Utc>,
    /// One line: "Grab rail by the back door would stop Peggy's near-falls".
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::text"))]
    pub summary: String,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::text"))]
    pub detail: String,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::text"))]
    pub suggested_action: String,
    pub who_could_act: Vec<PartnerKind>,
    pub urgency: Urgency,
    pub consent_basis: ConsentBasis,
    pub status: InsightStatus,
    pub comments: Vec<Comment>,
    /// Every share with a partner, kept as the record of what went where, why and by whom.
    pub shares: Vec<Share>,
    /// The office's answer to "did it help?", asked 30 days after a partner took action.
    #[serde(default)]
    #[cfg_attr(feature = "automerge", autosurgeon(missing = "Option::default"))]
    pub follow_up: Option<crate::outcome::FollowUp>,
}

/// A partner organisation known to the hub, as a manager picks it to share with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct PartnerOrg {
    pub id: uuid::Uuid,
    pub name: String,
    pub kind: PartnerKind,
}

/// One share of an idea with a partner organisation, under the person's recorded consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct Share {
    pub partner: PartnerOrg,
    /// Why it is shared: "So the OT can assess for a grab rail".
    pub purpose: String,
    pub shared_by: String,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::timestamp"))]
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub enum PartnerKind {
    GpPractice,
    CommunityNursing,
    IntegratedCareBoard,
    CouncilAdultSocialCare,
    OtEquipment,
    Housing,
    Pharmacy,
    VoluntarySector,
    Other,
}

impl PartnerKind {
    pub const ALL: [PartnerKind; 9] = [
        PartnerKind::GpPractice,
        PartnerKind::CommunityNursing,
        PartnerKind::IntegratedCareBoard,
        PartnerKind::CouncilAdultSocialCare,
        PartnerKind::OtEquipment,
        PartnerKind::Housing,
        PartnerKind::Pharmacy,
        PartnerKind::VoluntarySector,
        PartnerKind::Other,
    ];

    pub fn label(self) -> &'static str {
        match self {
            PartnerKind::GpPractice => "GP practice",
            PartnerKind::CommunityNursing => "Community nursing",
            PartnerKind::IntegratedCareBoard => "Integrated care board (ICB)",
            PartnerKind::CouncilAdultSocialCare => "Council adult social care",
            PartnerKind::OtEquipment => "Occupational therapy or equipment",
            PartnerKind::Housing => "Housing",
            PartnerKind::Pharmacy => "Pharmacy",
            PartnerKind::VoluntarySector => "Voluntary or community group",
            PartnerKind::Other => "Someone else",
        }
    }

    /// Stable code for storage and the command line.
    pub fn code(self) -> &'static str {
        match self {
            PartnerKind::GpPractice => "gp_practice",
            PartnerKind::CommunityNursing => "community_nursing",
            PartnerKind::IntegratedCareBoard => "icb",
            PartnerKind::CouncilAdultSocialCare => "council_adult_social_care",
            PartnerKind::OtEquipment => "ot_equipment",
            PartnerKind::Housing => "housing",
            PartnerKind::Pharmacy => "pharmacy",
            PartnerKind::VoluntarySector => "voluntary_sector",
            PartnerKind::Other => "other",
        }
    }

    pub fn from_code(code: &str) -> Option<PartnerKind> {
        PartnerKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Which of the person's consents covers sharing with this kind of partner.
    pub fn sector(self) -> Sector {
        match self {
            PartnerKind::GpPractice
            | PartnerKind::CommunityNursing
            | PartnerKind::IntegratedCareBoard
            | PartnerKind::Pharmacy => Sector::Nhs,
            PartnerKind::CouncilAdultSocialCare | PartnerKind::OtEquipment | PartnerKind::Housing => Sector::Council,
            PartnerKind::VoluntarySector | PartnerKind::Other => Sector::VoluntarySector,
        }
    }
}

/// The groups a person consents to share with (see [`crate::ConsentToShare`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sector {
    Nhs,
    Council,
    VoluntarySector,
}

impl Sector {
    pub fn label(self) -> &'static str {
        match self {
            Sector::Nhs => "the NHS",
            Sector::Council => "the council",
            Sector::VoluntarySector => "voluntary and community groups",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub enum Urgency {
    /// Worth doing, no rush.
    Routine,
    /// Within days.
    Soon,
    /// Today: someone could end up in hospital.
    Urgent,
}

impl Urgency {
    pub fn code(self) -> &'static str {
        match self {
            Urgency::Routine => "routine",
            Urgency::Soon => "soon",
            Urgency::Urgent => "urgent",
        }
    }

    pub fn from_code(code: &str) -> Option<Urgency> {
        [Urgency::Routine, Urgency::Soon, Urgency::Urgent].into_iter().find(|u| u.code() == code)
    }

    /// How soon, in plain words.
    pub fn label(self) -> &'static str {
        match self {
            Urgency::Routine => "Routine: no rush",
            Urgency::Soon => "Soon: within days",
            Urgency::Urgent => "Urgent: today",
        }
    }
}

/// On what basis a person's details may go with the insight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub enum ConsentBasis {
    /// The person agreed (recorded on their record).
    PersonConsented,
    /// Someone with lasting power of attorney or a best-interests decision.
    BestInterests,
    /// Nothing identifying is shared: an observation about a place or a pattern.
    NotIdentifiable,
    /// Not yet established: it cannot be shared until it is.
    NotYetAsked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub enum InsightStatus {
    Draft,
    Submitted,
    Reviewed,
    Shared,
    Acknowledged,
    Actioned,
    Closed,
    Declined { reason: String },
}

impl InsightStatus {
    pub fn code(&self) -> &'static str {
        match self {
            InsightStatus::Draft => "draft",
            InsightStatus::Submitted => "submitted",
            InsightStatus::Reviewed => "reviewed",
            InsightStatus::Shared => "shared",
            InsightStatus::Acknowledged => "acknowledged",
            InsightStatus::Actioned => "actioned",
            InsightStatus::Closed => "closed",
            InsightStatus::Declined { .. } => "declined",
        }
    }

    fn rank(&self) -> Option<u8> {
        Some(match self {
            InsightStatus::Draft => 0,
            InsightStatus::Submitted => 1,
            InsightStatus::Reviewed => 2,
            InsightStatus::Shared => 3,
            InsightStatus::Acknowledged => 4,
            InsightStatus::Actioned => 5,
            InsightStatus::Closed => 6,
            InsightStatus::Declined { .. } => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct Comment {
    /// Unique within the insight, so concurrent comments interleave instead of overwriting.
    #[cfg_attr(feature = "automerge", key)]
    pub key: String,
    pub author: String,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::timestamp"))]
    pub at: DateTime<Utc>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InsightError {
    #[error("An idea needs a short summary.")]
    EmptySummary,
    #[error("An idea cannot go from {from} to {to}.")]
    BadTransition { from: &'static str, to: &'static str },
    #[error("Declining an idea needs a reason, so the carer knows why.")]
    DeclineWithoutReason,
    #[error("This idea cannot be shared until the person's consent is recorded.")]
    NoConsent,
    #[error("A comment cannot be empty.")]
    EmptyComment,
    #[error("Choose at least one partner to share with.")]
    NoPartner,
    #[error("Say why it is being shared: the partner sees this purpose.")]
    NoPurpose,
    #[error("{name} has not agreed to share with {sector}: record their consent first.")]
    NoConsentFor { name: String, sector: &'static str },
}

impl Insight {
    pub fn validate(&self) -> Result<(), InsightError> {
        if self.summary.trim().is_empty() {
            return Err(InsightError::EmptySummary);
        }
        if let InsightStatus::Declined { reason } = &self.status
            && reason.trim().is_empty()
        {
            return Err(InsightError::DeclineWithoutReason);
        }
        Ok(())
    }

    /// Moves the status on. The lifecycle only goes forward (draft → submitted → reviewed →
    /// shared → acknowledged → actioned → closed) and may be declined, with a reason, from any
    /// open step. Sharing needs a consent basis other than "not yet asked".
    pub fn move_to(&mut self, to: InsightStatus) -> Result<(), InsightError> {
        let bad = || InsightError::BadTransition { from: self.status.code(), to: to.code() };
        match (&self.status, &to) {
            (InsightStatus::Declined { .. } | InsightStatus::Closed, _) => return Err(bad()),
            (_, InsightStatus::Declined { reason }) if reason.trim().is_empty() => {
                return Err(InsightError::DeclineWithoutReason);
            }
            (_, InsightStatus::Declined { .. }) => {}
            (from, to_status) => {
                let (Some(a), Some(b)) = (from.rank(), to_status.rank()) else { return Err(bad()) };
                if b <= a {
                    return Err(bad());
                }
                if b >= 3 && a < 3 && self.consent_basis == ConsentBasis::NotYetAsked && self.person_id.is_some() {
                    return Err(InsightError::NoConsent);
                }
            }
        }
        self.status = to;
        Ok(())
    }

    /// Shares the idea with each partner organisation for a stated purpose. Allowed only where the
    /// person's recorded consent covers that partner (or nothing identifying is shared).
    pub fn share(
        &mut self,
        partners: &[PartnerOrg],
        purpose: &str,
        consent: Option<(&str, &ConsentToShare)>,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<(), InsightError> {
        if partners.is_empty() {
            return Err(InsightError::NoPartner);
        }
        if purpose.trim().is_empty() {
            return Err(InsightError::NoPurpose);
        }
        if self.person_id.is_some() && self.consent_basis != ConsentBasis::NotIdentifiable {
            let Some((name, consent)) = consent else { return Err(InsightError::NoConsent) };
            for partner in partners {
                let sector = partner.kind.sector();
                if !consent.allows(sector) {
                    return Err(InsightError::NoConsentFor { name: name.to_string(), sector: sector.label() });
                }
            }
            if self.consent_basis == ConsentBasis::NotYetAsked {
                self.consent_basis = ConsentBasis::PersonConsented;
            }
        }
        // An idea a partner already answered can still go to another partner; its status stays.
        match self.status {
            InsightStatus::Draft | InsightStatus::Submitted | InsightStatus::Reviewed => {
                self.move_to(InsightStatus::Shared)?;
            }
            InsightStatus::Declined { .. } | InsightStatus::Closed => {
                return Err(InsightError::BadTransition { from: self.status.code(), to: "shared" });
            }
            InsightStatus::Shared | InsightStatus::Acknowledged | InsightStatus::Actioned => {}
        }
        for partner in partners {
            self.shares.push(Share {
                partner: partner.clone(),
                purpose: purpose.trim().to_string(),
                shared_by: by.into(),
                at,
            });
        }
        Ok(())
    }

    pub fn add_comment(
        &mut self,
        key: String,
        author: String,
        at: DateTime<Utc>,
        text: String,
    ) -> Result<(), InsightError> {
        if text.trim().is_empty() {
            return Err(InsightError::EmptyComment);
        }
        self.comments.push(Comment { key, author, at, text });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn idea() -> Insight {
        Insight {
            follow_up: None,
            id: InsightId(Uuid::nil()),
            person_id: Some(PersonId(Uuid::nil())),
            author: StaffId::new("C1"),
            created_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            summary: "Grab rail by the back door".into(),
            detail: String::new(),
            suggested_action: String::new(),
            who_could_act: vec![PartnerKind::OtEquipment],
            urgency: Urgency::Soon,
            consent_basis: ConsentBasis::NotYetAsked,
            status: InsightStatus::Draft,
            comments: vec![],
            shares: vec![],
        }
    }

    #[test]
    fn the_lifecycle_only_moves_forward() {
        let mut i = idea();
        i.move_to(InsightStatus::Submitted).unwrap();
        i.move_to(InsightStatus::Reviewed).unwrap();
        assert_eq!(i.move_to(InsightStatus::Shared), Err(InsightError::NoConsent));
        i.consent_basis = ConsentBasis::PersonConsented;
        i.move_to(InsightStatus::Shared).unwrap();
        assert!(matches!(i.move_to(InsightStatus::Draft), Err(InsightError::BadTransition { .. })));
        i.move_to(InsightStatus::Actioned).unwrap();
        i.move_to(InsightStatus::Closed).unwrap();
        assert!(i.move_to(InsightStatus::Declined { reason: "x".into() }).is_err());
    }

    #[test]
    fn an_answered_idea_can_go_to_another_partner_and_keeps_its_status() {
        let mut i = idea();
        i.consent_basis = ConsentBasis::NotIdentifiable;
        let partner = |name: &str| PartnerOrg {
            id: Uuid::from_u128(name.len() as u128),
            name: name.into(),
            kind: PartnerKind::Housing,
        };
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        i.share(&[partner("Housing")], "repair", None, "M1", at).unwrap();
        i.move_to(InsightStatus::Actioned).unwrap();
        i.share(&[partner("Council")], "adaptations", None, "M1", at).unwrap();
        assert_eq!((i.status.clone(), i.shares.len()), (InsightStatus::Actioned, 2));
        i.move_to(InsightStatus::Closed).unwrap();
        assert!(i.share(&[partner("GP")], "x", None, "M1", at).is_err());
    }

    #[test]
    fn declining_needs_a_reason() {
        let mut i = idea();
        assert_eq!(i.move_to(InsightStatus::Declined { reason: " ".into() }), Err(InsightError::DeclineWithoutReason));
        i.move_to(InsightStatus::Declined { reason: "Already under the district nurses".into() }).unwrap();
        assert!(i.move_to(InsightStatus::Submitted).is_err());
    }
}
