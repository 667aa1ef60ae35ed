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
    /// The practice's ODS code where known ("Y01234"): how the NHS names the practice, so a
    /// partner's system can find it whatever the practice is called locally.
    #[serde(default)]
    #[cfg_attr(feature = "automerge", autosurgeon(missing = "String::new"))]
    pub gp_ods: String,
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
    /// Who set the Scale 2 target and when it is due for review, as the office recorded it.
    #[serde(default)]
    #[cfg_attr(feature = "automerge", autosurgeon(missing = "Option::default"))]
    pub scale2: Option<ClinicalSetting>,
    /// NEWS2 is not used in pregnancy.
    pub pregnant: bool,
    /// Who in the office noted whether they are pregnant, and when (none before it was kept).
    #[serde(default)]
    #[cfg_attr(feature = "automerge", autosurgeon(missing = "Option::default"))]
    pub pregnancy_recorded_by: Option<StaffId>,
    #[serde(default)]
    #[cfg_attr(
        feature = "automerge",
        autosurgeon(with = "crate::am::optional_timestamp", missing = "Option::default")
    )]
    pub pregnancy_recorded_at: Option<DateTime<Utc>>,
    pub consent: ConsentToShare,
    /// Their plan for when they become unwell (ReSPECT, DNACPR…), as the office noted it: shown
    /// with every piece of advice at a visit and in the SBARD. Never a reason not to phone 999.
    #[serde(default)]
    #[cfg_attr(feature = "automerge", autosurgeon(missing = "Option::default"))]
    pub plan: Option<CarePlan>,
}

/// A clinical baseline a clinician set elsewhere (Scale 2's 88–92% oxygen target), with who set
/// it and when it is due for review, and who in the office noted it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct ClinicalSetting {
    /// The clinician as their letter or plan names them: "Dr A Shah, respiratory team".
    pub set_by: String,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::optional_date"))]
    pub set_on: Option<NaiveDate>,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::optional_date"))]
    pub review_on: Option<NaiveDate>,
    pub recorded_by: StaffId,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::timestamp"))]
    pub recorded_at: DateTime<Utc>,
}

impl ClinicalSetting {
    /// "set by Dr A Shah, respiratory team, on 3 March 2026; review by 3 March 2027".
    pub fn describe(&self) -> String {
        let mut text = format!("set by {}", self.set_by.trim());
        if let Some(on) = self.set_on {
            text.push_str(&format!(" on {}", on.format("%-d %B %Y")));
        }
        if let Some(review) = self.review_on {
            text.push_str(&format!("; review by {}", review.format("%-d %B %Y")));
        }
        text
    }

    /// Past its review date on `today`: still followed (a clinician set it), and the office is told.
    pub fn review_overdue(&self, today: NaiveDate) -> bool {
        self.review_on.is_some_and(|r| r < today)
    }
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
    /// Who in the office wrote it down, and when (none for records imported before it was kept).
    #[serde(default)]
    #[cfg_attr(feature = "automerge", autosurgeon(missing = "Option::default"))]
    pub recorded_by: Option<StaffId>,
    #[serde(default)]
    #[cfg_attr(
        feature = "automerge",
        autosurgeon(with = "crate::am::optional_timestamp", missing = "Option::default")
    )]
    pub recorded_at: Option<DateTime<Utc>>,
}

impl UsualForMe {
    /// What is usual, with no record of who noted it (imported, or the demo's).
    pub fn new(sign: SoftSign, usual: impl Into<String>) -> UsualForMe {
        UsualForMe { sign, usual: usual.into(), recorded_by: None, recorded_at: None }
    }
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
            gp_ods: String::new(),
            key_contacts: Vec::new(),
            communication_needs: String::new(),
            known_risks: Vec::new(),
            what_matters_to_me: String::new(),
            strengths_and_interests: Vec::new(),
            usual: Vec::new(),
            spo2_scale: SpO2Scale::Scale1,
            scale2: None,
            pregnant: false,
            pregnancy_recorded_by: None,
            pregnancy_recorded_at: None,
            consent: ConsentToShare::default(),
            plan: None,
        }
    }

    /// Notes whether they are pregnant, and who noted it when, if it changed.
    pub fn note_pregnancy(&mut self, pregnant: bool, by: &StaffId, at: DateTime<Utc>) {
        if self.pregnant != pregnant {
            self.pregnant = pregnant;
            self.pregnancy_recorded_by = Some(by.clone());
            self.pregnancy_recorded_at = Some(at);
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

    /// The GP practice as a clinician would want it: "Riverside Surgery (ODS code Y01234)".
    pub fn gp_named(&self) -> String {
        match (self.gp_practice.trim(), self.gp_ods.trim()) {
            ("", "") => String::new(),
            (name, "") => name.to_string(),
            ("", ods) => format!("the practice with ODS code {ods}"),
            (name, ods) => format!("{name} (ODS code {ods})"),
        }
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
