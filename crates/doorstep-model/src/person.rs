//! The person supported: who they are, how to reach the people around them, what matters to
//! them, what is usual for them, and what they have agreed may be shared.

use crate::ids::{PersonId, StaffId};
use crate::news2::SpO2Scale;
use crate::nhs_number::NhsNumber;
use crate::note::SoftSign;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct Person {
    pub id: PersonId,
    /// The provider's own reference for the person (what the rota spreadsheet uses).
    pub client_ref: String,
    pub name: PersonName,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::optional_date"))]
    pub date_of_birth: Option<NaiveDate>,
    pub nhs_number: Option<NhsNumber>,
    pub address: Address,
    pub gp_practice: String,
    /// The practice's phone number, as the advice card offers it ("Phone Riverside Surgery
    /// now – 01632 960 000"). Records from before it was kept have none.
    #[serde(default)]
    #[cfg_attr(feature = "automerge", autosurgeon(missing = "String::new"))]
    pub gp_phone: String,
    pub key_contacts: Vec<Contact>,
    pub communication_needs: String,
    pub known_risks: Vec<String>,
    /// In the person's own words where possible: co-production starts from what matters to them.
    pub what_matters_to_me: String,
    pub strengths_and_interests: Vec<String>,
    /// "What's usual for me": the baseline each soft sign is judged against.
    pub usual: Vec<UsualForMe>,
    /// Which SpO2 scale NEWS2 uses: Scale 2 only where a clinician has set an 88–92% target.
    pub spo2_scale: SpO2Scale,
    /// NEWS2 is not used in pregnancy.
    pub pregnant: bool,
    pub consent: ConsentToShare,
    /// Their plan for when they become unwell (ReSPECT, DNACPR…), as the office noted it: shown
    /// with every piece of advice at a visit and in the SBARD. Never a reason not to phone 999.
    #[serde(default)]
    #[cfg_attr(feature = "automerge", autosurgeon(missing = "Option::default"))]
    pub plan: Option<CarePlan>,
}

/// A plan a clinician made with the person elsewhere, noted here by a manager so that a carer
/// sees it at the moment they escalate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct CarePlan {
    pub kind: PlanKind,
    /// What a carer must know, in the plan's own words where possible ("For treatment at home;
    /// would not want hospital. Phone the district nurses on 01632 960 456").
    pub summary: String,
    pub recorded_by: StaffId,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::timestamp"))]
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub enum PlanKind {
    /// ReSPECT: Recommended Summary Plan for Emergency Care and Treatment.
    Respect,
    TreatmentEscalationPlan,
    /// Do not attempt cardiopulmonary resuscitation.
    Dnacpr,
    EndOfLifeCare,
}

impl PlanKind {
    pub const ALL: [PlanKind; 4] =
        [PlanKind::Respect, PlanKind::TreatmentEscalationPlan, PlanKind::Dnacpr, PlanKind::EndOfLifeCare];

    pub fn label(self) -> &'static str {
        match self {
            PlanKind::Respect => "ReSPECT plan",
            PlanKind::TreatmentEscalationPlan => "Treatment escalation plan",
            PlanKind::Dnacpr => "DNACPR decision",
            PlanKind::EndOfLifeCare => "End of life care plan",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct PersonName {
    pub given: String,
    pub family: String,
    /// What they like to be called.
    pub preferred: Option<String>,
}

impl PersonName {
    /// "Margaret (Peggy) Jones" style: full name with the preferred name where it differs.
    pub fn display(&self) -> String {
        match self.preferred.as_deref().map(str::trim) {
            Some(p) if !p.is_empty() && p != self.given => {
                format!("{} ({}) {}", self.given, p, self.family)
            }
            _ => format!("{} {}", self.given, self.family),
        }
    }

    /// What a carer calls them.
    pub fn called(&self) -> &str {
        match self.preferred.as_deref().map(str::trim) {
            Some(p) if !p.is_empty() => p,
            _ => &self.given,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct Address {
    pub lines: Vec<String>,
    pub postcode: String,
    /// Access notes: key safe, which door, the dog.
    pub access: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct Contact {
    pub name: String,
    /// "Daughter", "Neighbour", "District nurse".
    pub relationship: String,
    pub phone: String,
}

/// What is usual for the person in one area, so a change is judged against them, not an average.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct UsualForMe {
    #[cfg_attr(feature = "automerge", key)]
    pub sign: SoftSign,
    pub usual: String,
}

/// Consent to share with each kind of partner. `None` means not asked or not given.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct ConsentToShare {
    pub nhs: Option<ConsentRecord>,
    pub council: Option<ConsentRecord>,
    pub voluntary_sector: Option<ConsentRecord>,
}

impl ConsentToShare {
    /// Whether consent to share with this group is recorded and given.
    pub fn allows(&self, sector: crate::insight::Sector) -> bool {
        use crate::insight::Sector;
        let record = match sector {
            Sector::Nhs => &self.nhs,
            Sector::Council => &self.council,
            Sector::VoluntarySector => &self.voluntary_sector,
        };
        record.as_ref().is_some_and(|r| r.given)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct ConsentRecord {
    pub given: bool,
    pub recorded_by: StaffId,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::timestamp"))]
    pub recorded_at: DateTime<Utc>,
    /// e.g. "Discussed with Peggy and her daughter; happy for GP and council to be told."
    pub note: String,
}

impl Person {
    /// A new person with only the essentials; everything else can be filled in later.
    pub fn new(
        id: PersonId,
        client_ref: impl Into<String>,
        given: impl Into<String>,
        family: impl Into<String>,
    ) -> Self {
        Self {
            id,
            client_ref: client_ref.into(),
            name: PersonName { given: given.into(), family: family.into(), preferred: None },
            date_of_birth: None,
            nhs_number: None,
            address: Address::default(),
            gp_practice: String::new(),
            gp_phone: String::new(),
            key_contacts: Vec::new(),
            communication_needs: String::new(),
            known_risks: Vec::new(),
            what_matters_to_me: String::new(),
            strengths_and_interests: Vec::new(),
            usual: Vec::new(),
            spo2_scale: SpO2Scale::Scale1,
            pregnant: false,
            consent: ConsentToShare::default(),
            plan: None,
        }
    }

    /// Age in whole years on `today`, if the date of birth is known.
    pub fn age_on(&self, today: NaiveDate) -> Option<u32> {
        self.date_of_birth.and_then(|dob| today.years_since(dob))
    }

    /// What's usual for this person for one soft sign, if recorded.
    pub fn usual_for(&self, sign: SoftSign) -> Option<&str> {
        self.usual.iter().find(|u| u.sign == sign).map(|u| u.usual.as_str())
    }

    /// The NEWS2 scoring context for this person on `today`.
    /// The number to dial for the GP practice ("01632960000" from "01632 960 000"), if kept.
    pub fn gp_dial(&self) -> Option<String> {
        crate::directory::dial_digits(&self.gp_phone)
    }

    pub fn scoring_context(&self, today: NaiveDate) -> crate::news2::ScoringContext {
        crate::news2::ScoringContext {
            age_years: self.age_on(today),
            pregnant: self.pregnant,
            spo2_scale: self.spo2_scale,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    #[test]
    fn names_read_as_people_say_them() {
        let mut p = Person::new(PersonId(Uuid::nil()), "C1", "Margaret", "Jones");
        assert_eq!(p.name.display(), "Margaret Jones");
        p.name.preferred = Some("Peggy".into());
        assert_eq!(p.name.display(), "Margaret (Peggy) Jones");
        assert_eq!(p.name.called(), "Peggy");
    }

    #[test]
    fn age_counts_whole_years() {
        let mut p = Person::new(PersonId(Uuid::nil()), "C1", "A", "B");
        p.date_of_birth = NaiveDate::from_ymd_opt(2010, 11, 24);
        assert_eq!(p.age_on(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()), Some(15));
        assert_eq!(p.age_on(NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()), Some(16));
    }
}
