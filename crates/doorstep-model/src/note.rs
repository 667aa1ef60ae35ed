//! The visit note: what the carer saw and did, in their words, plus the soft signs of
//! deterioration they noticed, judged against what is usual for this person.
//!
//! The soft-sign list is Doorstep's own plain wording. It draws on the idea behind recognised
//! soft-signs tools (RESTORE2, "Stop and Watch") but is not them: those are licensed and may
//! not be altered or built into software without permission (see docs/safety.md).

use crate::ids::{NoteId, PersonId, StaffId, VisitId};
use crate::news2::VitalSigns;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct VisitNote {
    pub id: NoteId,
    pub visit_id: VisitId,
    pub person_id: PersonId,
    /// Free text. In the Automerge document this is text, so two carers typing apart both keep
    /// their words.
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::text"))]
    pub narrative: String,
    pub soft_signs: Vec<SoftSignObservation>,
    pub food_fluid: FoodFluid,
    pub mood: Option<Mood>,
    pub vitals: Option<VitalSigns>,
    pub authors: Vec<NoteAuthor>,
    /// When the current readings (`vitals`) were taken; None on notes from before it was kept.
    #[serde(default)]
    #[cfg_attr(
        feature = "automerge",
        autosurgeon(with = "crate::am::optional_timestamp", missing = "Option::default")
    )]
    pub vitals_at: Option<DateTime<Utc>>,
    /// Earlier sets of readings at this visit, oldest first: a re-check adds a set and keeps these.
    #[serde(default)]
    #[cfg_attr(feature = "automerge", autosurgeon(missing = "Vec::new"))]
    pub earlier_vitals: Vec<TimedVitals>,
    /// Phone calls made about the person during the visit, oldest first. Notes written before
    /// calls were recorded have none.
    #[serde(default)]
    #[cfg_attr(feature = "automerge", autosurgeon(missing = "Vec::new"))]
    pub calls: Vec<CallRecord>,
    /// What a carer added after the visit closed, each marked late with its time and author:
    /// the visit's record itself is not rewritten afterwards.
    #[serde(default)]
    #[cfg_attr(feature = "automerge", autosurgeon(missing = "Vec::new"))]
    pub late_entries: Vec<LateEntry>,
    /// What happened to the person (A&E, admitted, home again…) as carers learned of it, each
    /// with what stood before it.
    #[serde(default)]
    #[cfg_attr(feature = "automerge", autosurgeon(missing = "Vec::new"))]
    pub outcomes: Vec<crate::outcome::PersonOutcome>,
}

/// Words added to a visit's record after it closed ("Forgot to say: she asked for her daughter to
/// ring"), kept apart from the note written at the time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct LateEntry {
    pub text: String,
    pub by: StaffId,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::timestamp"))]
    pub at: DateTime<Utc>,
}

/// The longest late entry, in characters: a few sentences, not a second note.
pub const LATE_ENTRY_MOST: usize = 1000;

/// A set of readings kept when the carer took them again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct TimedVitals {
    /// None for a set taken before times were kept.
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::optional_timestamp"))]
    pub at: Option<DateTime<Utc>>,
    pub vitals: VitalSigns,
}

/// A phone call a carer made about the person, as they recorded it after the call: the
/// escalation's Decision, for the office and the next carer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct CallRecord {
    pub to: CallTarget,
    /// Who they called by name: the service as the directory or the person's record names it
    /// ("Riverside Surgery", "Northbrook Urgent Community Response"), or as the carer wrote it
    /// when `to` is `Other` ("the district nurses"). Empty when no name is known.
    pub to_name: String,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::timestamp"))]
    pub at: DateTime<Utc>,
    /// Who they spoke to ("Dr Khan", "the receptionist").
    pub spoke_to: String,
    pub outcome: CallOutcome,
    /// What was agreed, in their words ("GP visiting by 14:00", "re-check at 13:00").
    pub detail: String,
    pub by: StaffId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub enum CallTarget {
    GpPractice,
    /// Urgent community response (the 2-hour team).
    UrgentCommunityResponse,
    Nhs111,
    Emergency999,
    Office,
    Other,
    DistrictNursing,
    /// The GP out-of-hours service.
    OutOfHours,
    FallsResponse,
}

impl CallTarget {
    pub const ALL: [CallTarget; 9] = [
        CallTarget::GpPractice,
        CallTarget::UrgentCommunityResponse,
        CallTarget::DistrictNursing,
        CallTarget::OutOfHours,
        CallTarget::Nhs111,
        CallTarget::Emergency999,
        CallTarget::FallsResponse,
        CallTarget::Office,
        CallTarget::Other,
    ];

    pub fn label(self) -> &'static str {
        match self {
            CallTarget::GpPractice => "GP practice",
            CallTarget::UrgentCommunityResponse => "Urgent community response team",
            CallTarget::DistrictNursing => "District nurses",
            CallTarget::OutOfHours => "GP out of hours",
            CallTarget::Nhs111 => "111",
            CallTarget::Emergency999 => "999",
            CallTarget::FallsResponse => "Falls response",
            CallTarget::Office => "The office",
            CallTarget::Other => "Someone else",
        }
    }

    /// A clinician can answer "phone now" here: the GP practice, the urgent community response
    /// team, district nursing, out of hours, 111 or 999 (not the office, a falls pick-up service
    /// or someone else).
    pub fn is_clinical(self) -> bool {
        matches!(
            self,
            CallTarget::GpPractice
                | CallTarget::UrgentCommunityResponse
                | CallTarget::DistrictNursing
                | CallTarget::OutOfHours
                | CallTarget::Nhs111
                | CallTarget::Emergency999
        )
    }

    /// The kind of area service in the provider's directory this target is, if any: its name is
    /// filled in from there.
    pub fn service_kind(self) -> Option<crate::directory::ServiceKind> {
        use crate::directory::ServiceKind;
        match self {
            CallTarget::UrgentCommunityResponse => Some(ServiceKind::UrgentCommunityResponse),
            CallTarget::DistrictNursing => Some(ServiceKind::DistrictNursing),
            CallTarget::OutOfHours => Some(ServiceKind::OutOfHours),
            CallTarget::FallsResponse => Some(ServiceKind::FallsResponse),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub enum CallOutcome {
    GpVisiting,
    AmbulanceCalled,
    /// Advised to watch them and take the readings again (when: in `detail`).
    MonitorAndRecheck,
    /// No answer: try again.
    NoAnswer,
    Other,
}

impl CallOutcome {
    pub const ALL: [CallOutcome; 5] = [
        CallOutcome::GpVisiting,
        CallOutcome::AmbulanceCalled,
        CallOutcome::MonitorAndRecheck,
        CallOutcome::NoAnswer,
        CallOutcome::Other,
    ];

    pub fn label(self) -> &'static str {
        match self {
            CallOutcome::GpVisiting => "A GP or nurse is coming",
            CallOutcome::AmbulanceCalled => "Ambulance on its way",
            CallOutcome::MonitorAndRecheck => "Told to watch them and check again",
            CallOutcome::NoAnswer => "No answer: try again",
            CallOutcome::Other => "Something else",
        }
    }

    /// The same, inside a sentence: "… spoke to Dr Khan: a GP or nurse is coming".
    pub fn phrase(self) -> &'static str {
        match self {
            CallOutcome::GpVisiting => "a GP or nurse is coming",
            CallOutcome::AmbulanceCalled => "an ambulance is on its way",
            CallOutcome::MonitorAndRecheck => "told to watch them and check again",
            CallOutcome::NoAnswer => "no answer, to try again",
            CallOutcome::Other => "see the note",
        }
    }
}

/// A time as the UK's clocks show it ("09:12"): what carers and the office read.
pub fn uk_clock(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::London).format("%H:%M").to_string()
}

/// A day and time as the UK's clocks show them ("3 Dec, 01:08"): handovers and late entries.
pub fn uk_when(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::London).format("%-d %b, %H:%M").to_string()
}

/// The day in the UK at `at`: a reading at 00:30 BST is that day's, not the day before's (UTC).
pub fn uk_day(at: DateTime<Utc>) -> chrono::NaiveDate {
    at.with_timezone(&chrono_tz::Europe::London).date_naive()
}

impl CallRecord {
    /// Who was called, in words: the name kept with the call ("Riverside Surgery"), else what
    /// they are ("GP practice").
    pub fn called(&self) -> String {
        match self.to_name.trim() {
            "" => self.to.label().to_string(),
            name => name.to_string(),
        }
    }

    /// One line for the office, the screen and the SBARD's Decision, at UK time:
    /// "Phoned GP practice at 09:12, spoke to Dr Khan: a GP or nurse is coming (by 14:00)."
    pub fn summary(&self) -> String {
        let mut line = format!("Phoned {} at {}", self.called(), uk_clock(self.at));
        if !self.spoke_to.trim().is_empty() {
            line.push_str(&format!(", spoke to {}", self.spoke_to.trim()));
        }
        line.push_str(&format!(": {}", self.outcome.phrase()));
        if !self.detail.trim().is_empty() {
            line.push_str(&format!(" ({})", self.detail.trim().trim_end_matches('.')));
        }
        line.push('.');
        line
    }

    /// A call that settled what happens next (not "no answer").
    pub fn got_through(&self) -> bool {
        self.outcome != CallOutcome::NoAnswer
    }

    /// Whether this call does what advice at `level` told the carer to do: for 999, a 999 call
    /// that got through, or any call after which an ambulance is on its way; for "phone now", a
    /// call that got through to a clinician ([`CallTarget::is_clinical`]) — a call to the office
    /// alone is not enough; for anything less urgent, any call that got through.
    pub fn answers(&self, level: crate::news2::EscalationLevel) -> bool {
        use crate::news2::EscalationLevel;
        if self.outcome == CallOutcome::AmbulanceCalled {
            return true;
        }
        self.got_through()
            && match level {
                EscalationLevel::Emergency999 => self.to == CallTarget::Emergency999,
                EscalationLevel::UrgentCallNow => self.to.is_clinical(),
                _ => true,
            }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct NoteAuthor {
    #[cfg_attr(feature = "automerge", key)]
    pub staff: StaffId,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::timestamp"))]
    pub first_edit: DateTime<Utc>,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::timestamp"))]
    pub last_edit: DateTime<Utc>,
}

/// Soft signs that someone may be becoming unwell, in Doorstep's own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub enum SoftSign {
    Breathing,
    EatingDrinkingLess,
    Confusion,
    Sleepy,
    AgitatedOrWithdrawn,
    PaleOrMottled,
    UnsteadyOrFall,
    BowelOrBladder,
    NewPain,
    NotUsualSelf,
    OthersWorried,
    /// Passed no urine (or hardly any) all day.
    NoUrine,
    /// Very hot, very cold, or shivering.
    HotColdOrShivering,
}

impl SoftSign {
    pub const ALL: [SoftSign; 13] = [
        SoftSign::Breathing,
        SoftSign::EatingDrinkingLess,
        SoftSign::Confusion,
        SoftSign::Sleepy,
        SoftSign::AgitatedOrWithdrawn,
        SoftSign::PaleOrMottled,
        SoftSign::UnsteadyOrFall,
        SoftSign::BowelOrBladder,
        SoftSign::NewPain,
        SoftSign::NotUsualSelf,
        SoftSign::OthersWorried,
        SoftSign::NoUrine,
        SoftSign::HotColdOrShivering,
    ];

    /// The words on the checklist.
    pub fn label(self) -> &'static str {
        match self {
            SoftSign::Breathing => "Breathing faster or short of breath",
            SoftSign::EatingDrinkingLess => "Eating or drinking less",
            SoftSign::Confusion => "New or worse confusion",
            SoftSign::Sleepy => "More sleepy than usual",
            SoftSign::AgitatedOrWithdrawn => "Agitated or withdrawn",
            SoftSign::PaleOrMottled => "Pale, grey or mottled skin",
            SoftSign::UnsteadyOrFall => "Unsteady, a fall or a near miss",
            SoftSign::BowelOrBladder => "Bowel or bladder changes",
            SoftSign::NewPain => "New pain",
            SoftSign::NotUsualSelf => "Not their usual self",
            SoftSign::OthersWorried => "Family or another carer is worried",
            SoftSign::NoUrine => "Not passed urine all day",
            SoftSign::HotColdOrShivering => "Very hot, very cold or shivering",
        }
    }

    /// Stable code for SQL and CSV.
    pub fn code(self) -> &'static str {
        match self {
            SoftSign::Breathing => "breathing",
            SoftSign::EatingDrinkingLess => "eating_drinking_less",
            SoftSign::Confusion => "confusion",
            SoftSign::Sleepy => "sleepy",
            SoftSign::AgitatedOrWithdrawn => "agitated_withdrawn",
            SoftSign::PaleOrMottled => "pale_mottled",
            SoftSign::UnsteadyOrFall => "unsteady_fall",
            SoftSign::BowelOrBladder => "bowel_bladder",
            SoftSign::NewPain => "new_pain",
            SoftSign::NotUsualSelf => "not_usual_self",
            SoftSign::OthersWorried => "others_worried",
            SoftSign::NoUrine => "no_urine",
            SoftSign::HotColdOrShivering => "hot_cold_shivering",
        }
    }

    pub fn from_code(code: &str) -> Option<SoftSign> {
        SoftSign::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// How what the carer saw compares with what is usual for this person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub enum Comparison {
    /// Seen, but this is how they usually are: recorded, not a warning.
    SameAsUsual,
    /// Worse than usual.
    Worse,
    /// Not seen in them before.
    New,
}

impl Comparison {
    pub fn label(self) -> &'static str {
        match self {
            Comparison::SameAsUsual => "Usual for them",
            Comparison::Worse => "Worse than usual",
            Comparison::New => "New",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct SoftSignObservation {
    /// One observation per sign per note, so two carers ticking the same sign agree.
    #[cfg_attr(feature = "automerge", key)]
    pub sign: SoftSign,
    pub compared_to_usual: Comparison,
    pub detail: String,
}

impl SoftSignObservation {
    /// A change from the person's own baseline: the thing that matters.
    pub fn is_change(&self) -> bool {
        !matches!(self.compared_to_usual, Comparison::SameAsUsual)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct FoodFluid {
    pub eating: Option<Intake>,
    pub drinking: Option<Intake>,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub enum Intake {
    None,
    Less,
    Usual,
    More,
}

impl Intake {
    pub fn label(self) -> &'static str {
        match self {
            Intake::None => "Nothing",
            Intake::Less => "Less than usual",
            Intake::Usual => "Usual amount",
            Intake::More => "More than usual",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub enum Mood {
    Happy,
    Settled,
    Low,
    Anxious,
    Distressed,
}

impl Mood {
    pub fn label(self) -> &'static str {
        match self {
            Mood::Happy => "Happy",
            Mood::Settled => "Settled",
            Mood::Low => "Low",
            Mood::Anxious => "Anxious",
            Mood::Distressed => "Distressed",
        }
    }
}

impl VisitNote {
    /// Whether the calls recorded meet advice at `level` ([`CallRecord::answers`]). Once
    /// readings are taken, only a call made since them counts (to the minute: a carer gives a
    /// call's time in minutes): a GP phoned about soft signs, or who said "monitor and re-check",
    /// has not heard what these readings say. Without readings, any call counts.
    pub fn advice_met(&self, level: crate::news2::EscalationLevel) -> bool {
        use chrono::Timelike;
        let since = self.vitals_at.map(|t| t - chrono::Duration::seconds(i64::from(t.second())));
        self.calls.iter().filter(|c| since.is_none_or(|t| c.at >= t)).any(|c| c.answers(level))
    }

    pub fn new(id: NoteId, visit_id: VisitId, person_id: PersonId) -> Self {
        Self {
            outcomes: Vec::new(),
            id,
            visit_id,
            person_id,
            narrative: String::new(),
            soft_signs: Vec::new(),
            food_fluid: FoodFluid::default(),
            mood: None,
            vitals: None,
            authors: Vec::new(),
            vitals_at: None,
            earlier_vitals: Vec::new(),
            calls: Vec::new(),
            late_entries: Vec::new(),
        }
    }

    /// Soft signs that are a change from the person's usual.
    pub fn changes(&self) -> impl Iterator<Item = &SoftSignObservation> {
        self.soft_signs.iter().filter(|s| s.is_change())
    }

    /// Adds or updates one soft sign (one entry per sign).
    pub fn observe(&mut self, observation: SoftSignObservation) {
        match self.soft_signs.iter_mut().find(|s| s.sign == observation.sign) {
            Some(existing) => *existing = observation,
            None => self.soft_signs.push(observation),
        }
    }

    /// Records that `staff` edited the note at `at`.
    pub fn touched_by(&mut self, staff: &StaffId, at: DateTime<Utc>) {
        match self.authors.iter_mut().find(|a| &a.staff == staff) {
            Some(author) => author.last_edit = author.last_edit.max(at),
            None => self.authors.push(NoteAuthor { staff: staff.clone(), first_edit: at, last_edit: at }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::news2::EscalationLevel;

    fn call(to: CallTarget, to_name: &str, outcome: CallOutcome) -> CallRecord {
        CallRecord {
            to,
            to_name: to_name.into(),
            at: DateTime::parse_from_rfc3339("2026-11-23T09:12:00Z").map(|t| t.to_utc()).unwrap_or_default(),
            spoke_to: String::new(),
            outcome,
            detail: String::new(),
            by: StaffId::new("C001"),
        }
    }

    #[test]
    fn only_a_call_since_the_readings_meets_the_advice_and_after_a_recheck_since_the_new_ones() {
        let id = |n: u128| uuid::Uuid::from_u128(n);
        let mut note = VisitNote::new(NoteId(id(1)), VisitId(id(2)), PersonId(id(3)));
        let at = |hh: u32, mm: u32| {
            DateTime::parse_from_rfc3339(&format!("2026-11-23T{hh:02}:{mm:02}:00Z"))
                .map(|t| t.to_utc())
                .unwrap_or_default()
        };
        // 08:58 the GP was phoned about soft signs; 09:05 readings say phone now: not heard yet.
        note.calls
            .push(CallRecord { at: at(8, 58), ..call(CallTarget::GpPractice, "", CallOutcome::MonitorAndRecheck) });
        assert!(note.advice_met(EscalationLevel::UrgentCallNow), "no readings yet: the call answers the signs");
        note.vitals_at = Some(at(9, 5) + chrono::Duration::seconds(40));
        assert!(!note.advice_met(EscalationLevel::UrgentCallNow), "a call before the readings does not count");
        // 09:05, typed to the minute: the GP heard the readings and said "monitor and re-check".
        note.calls
            .push(CallRecord { at: at(9, 5), ..call(CallTarget::GpPractice, "", CallOutcome::MonitorAndRecheck) });
        assert!(note.advice_met(EscalationLevel::UrgentCallNow), "the same minute counts");
        // 09:40 the re-check still says phone now: the GP has not heard of it.
        note.earlier_vitals.push(TimedVitals { at: Some(at(9, 5)), vitals: VitalSigns::default() });
        note.vitals_at = Some(at(9, 40));
        assert!(!note.advice_met(EscalationLevel::UrgentCallNow), "a call before the re-check does not count");
        note.calls.push(CallRecord { at: at(9, 44), ..call(CallTarget::Office, "", CallOutcome::Other) });
        assert!(!note.advice_met(EscalationLevel::UrgentCallNow), "nor the office alone");
        note.calls.push(CallRecord { at: at(9, 46), ..call(CallTarget::GpPractice, "", CallOutcome::GpVisiting) });
        assert!(note.advice_met(EscalationLevel::UrgentCallNow));
        assert!(!note.advice_met(EscalationLevel::Emergency999), "999 advice needs a 999 call");
    }

    #[test]
    fn a_call_keeps_the_name_of_the_service_phoned() {
        let gp = call(CallTarget::GpPractice, "Riverside Surgery", CallOutcome::GpVisiting);
        assert_eq!(gp.summary(), "Phoned Riverside Surgery at 09:12: a GP or nurse is coming.");
        let unnamed = call(CallTarget::GpPractice, " ", CallOutcome::GpVisiting);
        assert!(unnamed.summary().starts_with("Phoned GP practice at 09:12"));
    }

    #[test]
    fn only_999_answers_999_and_only_a_clinician_answers_phone_now() {
        use CallOutcome::{AmbulanceCalled, GpVisiting, MonitorAndRecheck, NoAnswer};
        use CallTarget::{
            DistrictNursing, Emergency999, FallsResponse, GpPractice, Nhs111, Office, OutOfHours,
            UrgentCommunityResponse,
        };
        let office = call(Office, "", CallOutcome::Other);
        assert!(!office.answers(EscalationLevel::Emergency999));
        assert!(!office.answers(EscalationLevel::UrgentCallNow), "the office alone is not a clinician");
        assert!(office.answers(EscalationLevel::TellSomeoneToday));
        let gp = call(GpPractice, "", GpVisiting);
        assert!(gp.answers(EscalationLevel::UrgentCallNow));
        assert!(!gp.answers(EscalationLevel::Emergency999), "999 advice needs a 999 call");
        assert!(call(Emergency999, "", MonitorAndRecheck).answers(EscalationLevel::Emergency999));
        assert!(call(Nhs111, "", AmbulanceCalled).answers(EscalationLevel::Emergency999), "an ambulance is coming");
        assert!(!call(Emergency999, "", NoAnswer).answers(EscalationLevel::Emergency999));
        for clinical in [UrgentCommunityResponse, DistrictNursing, OutOfHours, Nhs111, Emergency999] {
            assert!(call(clinical, "", MonitorAndRecheck).answers(EscalationLevel::UrgentCallNow), "{clinical:?}");
        }
        for not_clinical in [FallsResponse, CallTarget::Other, Office] {
            assert!(!call(not_clinical, "", MonitorAndRecheck).answers(EscalationLevel::UrgentCallNow));
        }
    }
}
