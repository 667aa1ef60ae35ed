//! The provider's directory: who to phone and who is who. One document per provider, kept by its
//! managers and held by every one of its tablets, so a carer in a home with no signal still has
//! the office's number, the on-call number, the area's community services and colleagues' names.
//!
//! Which numbers the advice card offers, and in what order, is decided here
//! ([`Directory::who_to_phone`]) so that the visit screen and the SBARD agree; the rule is
//! written down in docs/safety.md.

use crate::StaffId;
use crate::news2::{AdviceSource, Escalation, EscalationLevel};
use crate::person::Person;
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// A directory names at most this many services and staff: enough for a large provider, and a
/// bound on what every tablet holds.
pub const MAX_SERVICES: usize = 100;
pub const MAX_STAFF: usize = 2_000;
const MAX_NAME_CHARS: usize = 80;
const MAX_LINE_CHARS: usize = 120;

/// The id of a provider's directory follows from the provider's, so two managers who each start
/// it offline are writing the same document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DirectoryId(pub Uuid);

impl DirectoryId {
    pub fn for_provider(provider: Uuid) -> DirectoryId {
        const DIRECTORIES: Uuid = Uuid::from_u128(0x64697265_6374_4000_8000_646f6f727374);
        DirectoryId(Uuid::new_v5(&DIRECTORIES, provider.as_bytes()))
    }
}

impl fmt::Display for DirectoryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(feature = "automerge")]
impl autosurgeon::Reconcile for DirectoryId {
    type Key<'a> = autosurgeon::reconcile::NoKey;
    fn reconcile<R: autosurgeon::Reconciler>(&self, reconciler: R) -> Result<(), R::Error> {
        self.0.reconcile(reconciler)
    }
}

#[cfg(feature = "automerge")]
impl autosurgeon::Hydrate for DirectoryId {
    fn hydrate_bytes(bytes: &[u8]) -> Result<Self, autosurgeon::HydrateError> {
        Uuid::hydrate_bytes(bytes).map(Self)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct Directory {
    pub id: DirectoryId,
    /// The provider (organisation) whose directory this is.
    pub provider: Uuid,
    /// The office, in office hours: "01632 960 100".
    pub office_phone: String,
    /// "Monday to Friday, 8am to 6pm".
    pub office_hours: String,
    /// The manager on call when the office is closed.
    pub on_call_phone: String,
    /// The area's community services, by the postcode districts they cover.
    pub services: Vec<AreaService>,
    /// Staff by their reference, with the name people know them by.
    pub staff: Vec<StaffMember>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct AreaService {
    /// Made by whoever adds the service, so two managers' additions both stay.
    #[cfg_attr(feature = "automerge", key)]
    pub id: String,
    pub kind: ServiceKind,
    /// "Northbrook Urgent Community Response".
    pub name: String,
    pub phone: String,
    /// "8am to 8pm, every day".
    pub hours: String,
    /// Postcode districts covered ("NB1", "NB2"); none: the provider's whole area.
    pub districts: Vec<String>,
}

/// What a community service does, as the advice card needs to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub enum ServiceKind {
    /// The 2-hour urgent community response team.
    UrgentCommunityResponse,
    DistrictNursing,
    FallsResponse,
    /// The GP out-of-hours service.
    OutOfHours,
    Other,
}

impl ServiceKind {
    pub const ALL: [ServiceKind; 5] = [
        ServiceKind::UrgentCommunityResponse,
        ServiceKind::DistrictNursing,
        ServiceKind::FallsResponse,
        ServiceKind::OutOfHours,
        ServiceKind::Other,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ServiceKind::UrgentCommunityResponse => "Urgent community response (2-hour)",
            ServiceKind::DistrictNursing => "District nursing",
            ServiceKind::FallsResponse => "Falls response",
            ServiceKind::OutOfHours => "GP out of hours",
            ServiceKind::Other => "Other",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            ServiceKind::UrgentCommunityResponse => "ucr",
            ServiceKind::DistrictNursing => "district_nursing",
            ServiceKind::FallsResponse => "falls",
            ServiceKind::OutOfHours => "out_of_hours",
            ServiceKind::Other => "other",
        }
    }

    pub fn from_code(code: &str) -> Option<ServiceKind> {
        ServiceKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct StaffMember {
    #[cfg_attr(feature = "automerge", key)]
    pub reference: StaffId,
    /// "Amira Khan": what colleagues, the person and a GP receptionist know them by.
    pub display_name: String,
    /// Their work phone, for the office chasing a late visit ("07700 900 321").
    #[serde(default)]
    #[cfg_attr(feature = "automerge", autosurgeon(missing = "String::new"))]
    pub phone: String,
}

/// Someone to phone: "Riverside Surgery", shown "01632 960 000", dialled "01632960000", with
/// why this number ("Their GP practice", "Urgent community response, 8am to 8pm").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneContact {
    pub name: String,
    pub shown: String,
    pub dial: String,
    #[serde(default)]
    pub why: String,
}

impl PhoneContact {
    /// `None` when `shown` holds no number to dial.
    pub fn new(name: impl Into<String>, shown: &str, why: impl Into<String>) -> Option<PhoneContact> {
        let dial = dial_digits(shown)?;
        Some(PhoneContact { name: name.into(), shown: shown.trim().to_string(), dial, why: why.into() })
    }

    /// The name inside a sentence: "Phone the office now"; names of places keep their capitals.
    pub fn in_a_sentence(&self) -> String {
        match self.name.strip_prefix("The ") {
            Some(rest) => format!("the {rest}"),
            None => self.name.clone(),
        }
    }

    pub fn emergency() -> PhoneContact {
        PhoneContact {
            name: "999".into(),
            shown: "999".into(),
            dial: "999".into(),
            why: "Ambulance. Give the address first and answer their questions.".into(),
        }
    }

    pub fn nhs_111() -> PhoneContact {
        PhoneContact {
            name: "NHS 111".into(),
            shown: "111".into(),
            dial: "111".into(),
            why: "Always there, day and night".into(),
        }
    }
}

/// The digits (and a leading +) of a phone number as people write it; `None` when too few to
/// be a number.
pub fn dial_digits(shown: &str) -> Option<String> {
    let digits: String = shown.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
    (digits.chars().filter(char::is_ascii_digit).count() >= 3).then_some(digits)
}

/// The postcode district (outward code) of a UK postcode: "NB1 2AB" → "NB1", an area of
/// thousands of households, not a home. `None` when it is not shaped like a postcode, so a
/// district is never free text. Spaces and pasted invisible characters are ignored.
pub fn postcode_district(postcode: &str) -> Option<String> {
    let compact: String =
        postcode.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect();
    // A full postcode is 5 to 7 characters; the inward code is always the last three.
    if !(5..=7).contains(&compact.len()) {
        return None;
    }
    let (outward, inward) = compact.split_at(compact.len() - 3);
    let inward_ok = inward.as_bytes()[0].is_ascii_digit() && inward.as_bytes()[1..].iter().all(u8::is_ascii_alphabetic);
    // The outward code: one or two letters, then a digit, then perhaps a digit or a letter.
    let letters = outward.bytes().take_while(u8::is_ascii_alphabetic).count();
    let rest = &outward.as_bytes()[letters..];
    let outward_ok = (1..=2).contains(&letters)
        && rest.first().is_some_and(u8::is_ascii_digit)
        && rest[1..].iter().all(u8::is_ascii_alphanumeric);
    (inward_ok && outward_ok).then(|| outward.to_string())
}

/// A postcode district on its own ("nb1" → "NB1"), by the same rule as [`postcode_district`];
/// `None` when it is not one.
pub fn district(text: &str) -> Option<String> {
    let d = text.trim().to_ascii_uppercase();
    // Any valid inward code completes a district into a postcode the rule can judge.
    postcode_district(&format!("{d} 1AA")).filter(|found| *found == d)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    #[error("{field}: {number:?} is not a phone number. Use digits and spaces, like 01632 960 100.")]
    BadPhone { field: String, number: String },
    #[error("{field} is too long: at most {max} characters.")]
    TooLong { field: String, max: usize },
    #[error("{field} is needed.")]
    Missing { field: String },
    #[error("{0:?} is not a postcode district. Write the first part of a postcode, like NB1.")]
    BadDistrict(String),
    #[error("The directory may list at most {max} {what}.")]
    TooMany { what: &'static str, max: usize },
}

impl Directory {
    pub fn new(provider: Uuid) -> Directory {
        Directory { id: DirectoryId::for_provider(provider), provider, ..Directory::default() }
    }

    /// The name a member of staff is known by, with their reference beside it: "Amira Khan
    /// (C001)"; the reference alone when the office has not named them.
    pub fn staff_label(&self, reference: &str) -> String {
        match self.staff_name(reference) {
            Some(name) => format!("{name} ({reference})"),
            None => reference.to_string(),
        }
    }

    pub fn staff_name(&self, reference: &str) -> Option<&str> {
        self.staff
            .iter()
            .find(|s| s.reference.as_str() == reference)
            .map(|s| s.display_name.trim())
            .filter(|n| !n.is_empty())
    }

    /// Names (or renames) a member of staff; an empty name removes them from the directory.
    pub fn set_staff_name(&mut self, reference: &StaffId, display_name: &str) {
        let name = display_name.trim();
        match self.staff.iter_mut().find(|s| &s.reference == reference) {
            Some(member) if !name.is_empty() => member.display_name = name.to_string(),
            Some(_) => self.staff.retain(|s| &s.reference != reference),
            None if !name.is_empty() => self.staff.push(StaffMember {
                reference: reference.clone(),
                display_name: name.to_string(),
                phone: String::new(),
            }),
            None => {}
        }
    }

    /// A member of staff's work phone, to dial, where the office recorded one.
    pub fn staff_phone(&self, reference: &str) -> Option<PhoneContact> {
        let member = self.staff.iter().find(|s| s.reference.as_str() == reference)?;
        PhoneContact::new(self.staff_label(reference), &member.phone, "Their work phone")
    }

    /// The services that cover a postcode: those naming its district, and those covering the
    /// whole area.
    pub fn services_for<'a>(&'a self, postcode: &str) -> impl Iterator<Item = &'a AreaService> + 'a {
        let district = postcode_district(postcode);
        self.services.iter().filter(move |s| {
            s.districts.is_empty()
                || district.as_ref().is_some_and(|d| s.districts.iter().any(|x| x.eq_ignore_ascii_case(d)))
        })
    }

    /// The office, then the manager on call: whom a carer tells about a visit that could not happen.
    pub fn office_numbers(&self) -> Vec<PhoneContact> {
        self.office().into_iter().chain(self.on_call()).collect()
    }

    fn office(&self) -> Option<PhoneContact> {
        let hours = self.office_hours.trim();
        let why = if hours.is_empty() { "The office".to_string() } else { format!("The office, {hours}") };
        PhoneContact::new("The office", &self.office_phone, why)
    }

    fn on_call(&self) -> Option<PhoneContact> {
        PhoneContact::new("The manager on call", &self.on_call_phone, "When the office is closed")
    }

    fn service(&self, person: Option<&Person>, kind: ServiceKind) -> Vec<PhoneContact> {
        let postcode = person.map(|p| p.address.postcode.as_str()).unwrap_or_default();
        self.services_for(postcode)
            .filter(|s| s.kind == kind)
            .filter_map(|s| {
                let hours = s.hours.trim();
                let why =
                    if hours.is_empty() { kind.label().to_string() } else { format!("{}, {hours}", kind.label()) };
                PhoneContact::new(s.name.trim(), &s.phone, why)
            })
            .collect()
    }

    /// Who to phone, first number first, for readings' advice at `level` about `person` (who
    /// may not have reached this tablet). See [`Directory::who_to_phone_for`].
    pub fn who_to_phone(&self, level: EscalationLevel, person: Option<&Person>) -> Vec<PhoneContact> {
        self.in_order(level, AdviceSource::Readings, false, person)
    }

    /// Who to phone, first number first, for `advice` about `person` (who may not have reached
    /// this tablet). The first number is the one the advice's words name:
    ///
    /// - 999 advice: 999, then the office;
    /// - phone now: their GP practice, the area's urgent community response, out of hours, 111,
    ///   (the falls response after a fall: it lifts and checks, but a clinician must hear of a
    ///   phone-now change first), then the office;
    /// - worried about them (soft signs): their GP practice, district nursing, (the falls response
    ///   after a fall), 111, then the office;
    /// - tell the office (a score of 1–4): the office, their GP practice, (the falls response
    ///   after a fall), district nursing, 111;
    /// - readings missing: their GP practice, 111, the office, district nursing, (falls response).
    ///
    /// 111 is always offered when a clinician is needed, because it is there when every local
    /// number is closed. Each number appears once, where it first comes.
    pub fn who_to_phone_for(&self, advice: &Escalation, person: Option<&Person>) -> Vec<PhoneContact> {
        self.in_order(advice.level, advice.source, advice.after_a_fall, person)
    }

    fn in_order(
        &self,
        level: EscalationLevel,
        source: AdviceSource,
        after_a_fall: bool,
        person: Option<&Person>,
    ) -> Vec<PhoneContact> {
        let gp = person.and_then(|p| {
            let name = if p.gp_practice.trim().is_empty() { "Their GP practice" } else { p.gp_practice.trim() };
            PhoneContact::new(name, &p.gp_phone, "Their GP practice")
        });
        let office = self.office().into_iter().chain(self.on_call());
        let falls = if after_a_fall { self.service(person, ServiceKind::FallsResponse) } else { Vec::new() };
        let nhs_111 = std::iter::once(PhoneContact::nhs_111());
        let mut list: Vec<PhoneContact> = match (level, source) {
            (EscalationLevel::Routine, _) => Vec::new(),
            (EscalationLevel::Emergency999, _) => std::iter::once(PhoneContact::emergency()).chain(office).collect(),
            (EscalationLevel::UrgentCallNow, _) => gp
                .into_iter()
                .chain(self.service(person, ServiceKind::UrgentCommunityResponse))
                .chain(self.service(person, ServiceKind::OutOfHours))
                .chain(nhs_111)
                .chain(falls)
                .chain(office)
                .collect(),
            // "Phone their GP practice today": the practice first, the office last.
            (EscalationLevel::TellSomeoneToday, AdviceSource::SoftSigns) => gp
                .into_iter()
                .chain(self.service(person, ServiceKind::DistrictNursing))
                .chain(falls)
                .chain(nhs_111)
                .chain(office)
                .collect(),
            (EscalationLevel::TellSomeoneToday, AdviceSource::Readings) => office
                .chain(gp)
                .chain(falls)
                .chain(self.service(person, ServiceKind::DistrictNursing))
                .chain(nhs_111)
                .collect(),
            // Take the readings; if they cannot and are worried, a clinician: the GP, else 111.
            (EscalationLevel::ReadingsMissing, _) => gp
                .into_iter()
                .chain(nhs_111)
                .chain(office)
                .chain(self.service(person, ServiceKind::DistrictNursing))
                .chain(falls)
                .collect(),
        };
        // One number once, where it first appears.
        let mut seen = std::collections::BTreeSet::new();
        list.retain(|c| seen.insert(c.dial.clone()));
        list
    }

    /// The number a clinician calls back on: the office, or the on-call manager.
    pub fn callback(&self) -> Option<&str> {
        [&self.office_phone, &self.on_call_phone].into_iter().map(|s| s.trim()).find(|s| dial_digits(s).is_some())
    }

    pub fn validate(&self) -> Result<(), DirectoryError> {
        phone("The office's number", &self.office_phone, false)?;
        phone("The on-call number", &self.on_call_phone, false)?;
        length("The office's hours", &self.office_hours, MAX_LINE_CHARS)?;
        if self.services.len() > MAX_SERVICES {
            return Err(DirectoryError::TooMany { what: "services", max: MAX_SERVICES });
        }
        if self.staff.len() > MAX_STAFF {
            return Err(DirectoryError::TooMany { what: "staff", max: MAX_STAFF });
        }
        for service in &self.services {
            service.validate()?;
        }
        for member in &self.staff {
            if member.display_name.trim().is_empty() {
                return Err(DirectoryError::Missing { field: format!("A name for {}", member.reference) });
            }
            length(&format!("The name of {}", member.reference), &member.display_name, MAX_NAME_CHARS)?;
            phone(&format!("The phone of {}", member.reference), &member.phone, false)?;
        }
        Ok(())
    }
}

impl AreaService {
    pub fn validate(&self) -> Result<(), DirectoryError> {
        if self.name.trim().is_empty() {
            return Err(DirectoryError::Missing { field: "The service's name".into() });
        }
        length("The service's name", &self.name, MAX_NAME_CHARS)?;
        phone(&format!("The number of {}", self.name.trim()), &self.phone, true)?;
        length("The service's hours", &self.hours, MAX_LINE_CHARS)?;
        if let Some(bad) = self.districts.iter().find(|d| district(d).is_none()) {
            return Err(DirectoryError::BadDistrict(bad.clone()));
        }
        Ok(())
    }
}

fn length(field: &str, value: &str, max: usize) -> Result<(), DirectoryError> {
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(DirectoryError::TooLong { field: field.to_string(), max });
    }
    Ok(())
}

fn phone(field: &str, value: &str, needed: bool) -> Result<(), DirectoryError> {
    let value = value.trim();
    if value.is_empty() {
        return if needed { Err(DirectoryError::Missing { field: field.to_string() }) } else { Ok(()) };
    }
    let allowed = value.chars().all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '(' | ')' | '-'));
    if !allowed || dial_digits(value).is_none() || value.chars().count() > 24 {
        return Err(DirectoryError::BadPhone { field: field.to_string(), number: value.to_string() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PersonId;

    fn person_at(postcode: &str, practice: &str, phone: &str) -> Person {
        let mut p = Person::new(PersonId::from_uuid(Uuid::from_u128(1)), "P1", "Harold", "Williams");
        p.address.postcode = postcode.into();
        p.gp_practice = practice.into();
        p.gp_phone = phone.into();
        p
    }

    fn directory() -> Directory {
        let mut d = Directory::new(Uuid::from_u128(7));
        d.office_phone = "01632 960 100".into();
        d.office_hours = "Monday to Friday, 8am to 6pm".into();
        d.on_call_phone = "07700 900 123".into();
        d.services = vec![
            AreaService {
                id: "ucr-north".into(),
                kind: ServiceKind::UrgentCommunityResponse,
                name: "Northbrook UCR".into(),
                phone: "01632 960 200".into(),
                hours: "8am to 8pm".into(),
                districts: vec!["NB1".into()],
            },
            AreaService {
                id: "dn".into(),
                kind: ServiceKind::DistrictNursing,
                name: "District nurses".into(),
                phone: "01632 960 300".into(),
                hours: String::new(),
                districts: vec![],
            },
            AreaService {
                id: "falls".into(),
                kind: ServiceKind::FallsResponse,
                name: "Northbrook Falls Response".into(),
                phone: "01632 960 400".into(),
                hours: "24 hours".into(),
                districts: vec![],
            },
        ];
        d
    }

    fn names(list: Vec<PhoneContact>) -> Vec<String> {
        list.into_iter().map(|c| c.name).collect()
    }

    fn sign(sign: crate::note::SoftSign) -> crate::note::SoftSignObservation {
        crate::note::SoftSignObservation {
            sign,
            compared_to_usual: crate::note::Comparison::New,
            detail: String::new(),
        }
    }

    #[test]
    fn worried_about_them_puts_their_gp_practice_first_as_the_words_say() {
        use crate::note::SoftSign;
        let person = person_at("NB1 2AB", "Riverside Surgery", "01632 960 000");
        let worried = crate::escalation::for_soft_signs(&[sign(SoftSign::NewPain)]).expect("a card");
        assert_eq!(worried.heading(), "Phone their GP practice today");
        assert!(
            worried.action.starts_with("You have seen a change")
                && worried.action.contains("Phone the GP practice today")
        );
        assert_eq!(
            names(directory().who_to_phone_for(&worried, Some(&person))),
            ["Riverside Surgery", "District nurses", "NHS 111", "The office", "The manager on call"]
        );
        // No falls response unless a fall was seen; a score of 1–4 still puts the office first.
        assert_eq!(directory().who_to_phone(EscalationLevel::TellSomeoneToday, Some(&person))[0].name, "The office");
        // Without the person's record there is no GP number: a clinician still comes before the office.
        let first = directory().who_to_phone_for(&worried, None)[0].name.clone();
        assert_eq!(first, "District nurses");
    }

    #[test]
    fn after_a_fall_the_falls_response_is_offered() {
        use crate::note::SoftSign;
        let person = person_at("NB1 2AB", "Riverside Surgery", "01632 960 000");
        let fell = crate::escalation::for_soft_signs(&[sign(SoftSign::UnsteadyOrFall)]).expect("a card");
        assert!(fell.after_a_fall && fell.action.contains("falls response"), "{}", fell.action);
        assert_eq!(
            names(directory().who_to_phone_for(&fell, Some(&person))),
            [
                "Riverside Surgery",
                "District nurses",
                "Northbrook Falls Response",
                "NHS 111",
                "The office",
                "The manager on call"
            ]
        );
        // A fall with new confusion: phone now, a clinician first; the falls response only after
        // 111 (a call to it does not meet "phone now").
        let serious = crate::escalation::for_soft_signs(&[sign(SoftSign::UnsteadyOrFall), sign(SoftSign::Confusion)])
            .expect("a card");
        assert_eq!(serious.level, EscalationLevel::UrgentCallNow);
        let order = names(directory().who_to_phone_for(&serious, Some(&person)));
        assert_eq!(order[..2], ["Riverside Surgery", "Northbrook UCR"]);
        let at = |name: &str| order.iter().position(|n| n == name).unwrap_or_else(|| panic!("{name} in {order:?}"));
        assert!(at("NHS 111") < at("Northbrook Falls Response"), "{order:?}");
        // Readings that say "tell the office", with a fall seen: the falls response is offered too.
        let vitals = crate::news2::VitalSigns { pulse: Some(95), ..crate::news2::tests::normal() };
        let readings = crate::news2::assess(&vitals, &crate::news2::tests::adult()).expect("valid");
        let shown = crate::escalation::advice(Some(&readings), &[sign(SoftSign::UnsteadyOrFall)]).expect("advice");
        assert!(shown.after_a_fall);
        assert!(
            names(directory().who_to_phone_for(&shown, Some(&person)))
                .contains(&"Northbrook Falls Response".to_string())
        );
        // Without a fall, never.
        let pain = crate::escalation::for_soft_signs(&[sign(SoftSign::NewPain)]).expect("a card");
        assert!(
            !names(directory().who_to_phone_for(&pain, Some(&person)))
                .contains(&"Northbrook Falls Response".to_string())
        );
    }

    #[test]
    fn districts_are_the_outward_code() {
        assert_eq!(postcode_district("nb1 2ab").as_deref(), Some("NB1"));
        assert_eq!(postcode_district("SW1A 1AA").as_deref(), Some("SW1A"));
        assert_eq!(postcode_district("M1 1AE").as_deref(), Some("M1"));
        assert_eq!(postcode_district("not a postcode"), None);
        assert_eq!(postcode_district(""), None);
        assert_eq!(postcode_district("LS63A\u{200B}B").as_deref(), Some("LS6"), "pasted invisible characters");
        assert_eq!(postcode_district("EC1A 1BB").as_deref(), Some("EC1A"));
        for free_text in ["Mrs Jones", "ABC 1AA", "12 1AA", "flat 2", "LS6 3A", "LS6 A3B"] {
            assert_eq!(postcode_district(free_text), None, "{free_text}");
        }
    }

    #[test]
    fn phone_now_offers_the_gp_then_the_areas_urgent_team_then_111_then_the_office() {
        let person = person_at("NB1 2AB", "Riverside Surgery", "01632 960 000");
        let names: Vec<String> = directory()
            .who_to_phone(EscalationLevel::UrgentCallNow, Some(&person))
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, ["Riverside Surgery", "Northbrook UCR", "NHS 111", "The office", "The manager on call"]);
    }

    #[test]
    fn a_service_for_another_district_is_not_offered() {
        let person = person_at("NB7 2AB", "Riverside Surgery", "");
        let names: Vec<String> = directory()
            .who_to_phone(EscalationLevel::UrgentCallNow, Some(&person))
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, ["NHS 111", "The office", "The manager on call"]);
    }

    #[test]
    fn tell_the_office_puts_the_office_first_and_missing_readings_the_gp() {
        let person = person_at("NB1 2AB", "Riverside Surgery", "01632 960 000");
        let first = |level| directory().who_to_phone(level, Some(&person))[0].name.clone();
        assert_eq!(first(EscalationLevel::TellSomeoneToday), "The office");
        assert_eq!(first(EscalationLevel::ReadingsMissing), "Riverside Surgery");
    }

    #[test]
    fn nine_nine_nine_comes_first_and_the_office_after() {
        let list = directory().who_to_phone(EscalationLevel::Emergency999, None);
        assert_eq!(list[0].dial, "999");
        assert!(list[0].why.contains("address first"));
        assert_eq!(list[1].name, "The office");
    }

    #[test]
    fn an_empty_directory_still_offers_999_and_111() {
        let empty = Directory::new(Uuid::nil());
        assert_eq!(empty.who_to_phone(EscalationLevel::Emergency999, None)[0].dial, "999");
        assert_eq!(empty.who_to_phone(EscalationLevel::UrgentCallNow, None)[0].dial, "111");
        assert!(empty.who_to_phone(EscalationLevel::Routine, None).is_empty());
    }

    #[test]
    fn staff_are_named_with_their_reference_beside() {
        let mut d = directory();
        let c1 = StaffId::new("C001");
        d.set_staff_name(&c1, "  Amira Khan ");
        assert_eq!(d.staff_label("C001"), "Amira Khan (C001)");
        assert_eq!(d.staff_label("C002"), "C002");
        d.set_staff_name(&c1, "");
        assert_eq!(d.staff_label("C001"), "C001");
    }

    #[test]
    fn bad_numbers_and_districts_are_refused_naming_the_field() {
        let mut d = directory();
        d.office_phone = "call Jo".into();
        assert!(d.validate().unwrap_err().to_string().starts_with("The office's number"));
        let mut d = directory();
        d.services[0].districts = vec!["Northbrook".into()];
        assert!(matches!(d.validate(), Err(DirectoryError::BadDistrict(_))));
        assert_eq!(directory().validate(), Ok(()));
    }
}
