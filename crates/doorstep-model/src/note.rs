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
    /// Who they called when `to` is `Other` ("the district nurses"); otherwise empty.
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
}

impl CallTarget {
    pub const ALL: [CallTarget; 6] = [
        CallTarget::GpPractice,
        CallTarget::UrgentCommunityResponse,
        CallTarget::Nhs111,
        CallTarget::Emergency999,
        CallTarget::Office,
        CallTarget::Other,
    ];

    pub fn label(self) -> &'static str {
        match self {
            CallTarget::GpPractice => "GP practice",
            CallTarget::UrgentCommunityResponse => "Urgent community response team",
            CallTarget::Nhs111 => "111",
            CallTarget::Emergency999 => "999",
            CallTarget::Office => "The office",
            CallTarget::Other => "Someone else",
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

impl CallRecord {
    /// Who was called, in words: "GP practice", or the name given for someone else.
    pub fn called(&self) -> String {
        match self.to {
            CallTarget::Other if !self.to_name.trim().is_empty() => self.to_name.trim().to_string(),
            other => other.label().to_string(),
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
