//! Visits: who is seen, when, by whom, what was done, and how the visit ended.

use crate::ids::{PersonId, StaffId, VisitId};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct Visit {
    pub id: VisitId,
    pub person_id: PersonId,
    pub window: TimeWindow,
    /// One carer, or two on a double-up visit.
    pub carers: Vec<StaffId>,
    pub tasks: Vec<Task>,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::optional_timestamp"))]
    pub checked_in_at: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::optional_timestamp"))]
    pub checked_out_at: Option<DateTime<Utc>>,
    pub status: VisitStatus,
    /// Why the visit could not happen, as the carer said at the door ([`Visit::could_not`]).
    #[serde(default)]
    #[cfg_attr(feature = "automerge", autosurgeon(missing = "Option::default"))]
    pub could_not: Option<CouldNotVisit>,
    /// A manager looked at what this visit raised (a call, a score, a sign, a visit to chase)
    /// and marked it reviewed: the office's "needs attention" then lists it as dealt with.
    #[serde(default)]
    #[cfg_attr(feature = "automerge", autosurgeon(missing = "Option::default"))]
    pub reviewed: Option<Reviewed>,
}

/// Who marked something reviewed, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct Reviewed {
    pub by: StaffId,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::timestamp"))]
    pub at: DateTime<Utc>,
}

/// A visit that could not happen: why, who said so and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct CouldNotVisit {
    pub reason: CouldNotReason,
    /// Anything the office should know ("curtains closed, milk on the step").
    pub detail: String,
    pub by: StaffId,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::timestamp"))]
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub enum CouldNotReason {
    /// No answer at the door: they may be on the floor. The carer phones the office now.
    NoAnswer,
    /// They said no to the visit.
    Refused,
    InHospital,
    CancelledByOffice,
}

impl CouldNotReason {
    pub const ALL: [CouldNotReason; 4] = [
        CouldNotReason::NoAnswer,
        CouldNotReason::Refused,
        CouldNotReason::InHospital,
        CouldNotReason::CancelledByOffice,
    ];

    pub fn label(self) -> &'static str {
        match self {
            CouldNotReason::NoAnswer => "No answer at the door",
            CouldNotReason::Refused => "They said no to the visit",
            CouldNotReason::InHospital => "They are in hospital",
            CouldNotReason::CancelledByOffice => "The office cancelled it",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            CouldNotReason::NoAnswer => "no_answer",
            CouldNotReason::Refused => "refused",
            CouldNotReason::InHospital => "in_hospital",
            CouldNotReason::CancelledByOffice => "cancelled_by_office",
        }
    }

    pub fn from_code(code: &str) -> Option<CouldNotReason> {
        CouldNotReason::ALL.into_iter().find(|r| r.code() == code)
    }

    /// No answer may mean they have fallen: the carer phones the office before leaving, with or
    /// without a signal for the app.
    pub fn phone_the_office_now(self) -> bool {
        self == CouldNotReason::NoAnswer
    }
}

/// Minutes after a visit's window starts with no check-in before the office chases it as late.
pub const LATE_AFTER_MINUTES: i64 = 30;
/// Minutes after the start with no check-in before a visit counts as missed (or the end of its
/// window, if later): a carer running late on a 30-minute call is late, not yet missed.
pub const MISSED_AFTER_MINUTES: i64 = 120;

/// Why the office should chase a visit now (docs/safety.md, "Visits the office must chase").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Chase {
    /// The carer said it could not happen.
    CouldNot(CouldNotReason),
    /// The window has ended with no check-in.
    Missed,
    /// No check-in this many minutes (at least [`LATE_AFTER_MINUTES`]) after the window started.
    Late { minutes: i64 },
}

impl Chase {
    /// The rule, on what the manager's device has synced: a visit not yet checked in is late
    /// from 30 minutes after its window starts, and missed from 2 hours after it (or once its
    /// window has ended, if that is later); a visit the carer could not do is chased for its
    /// reason. Judged at `now`, passed in.
    pub fn of(
        status: &str,
        could_not: Option<CouldNotReason>,
        window: TimeWindow,
        now: DateTime<Utc>,
    ) -> Option<Chase> {
        if let Some(reason) = could_not {
            return Some(Chase::CouldNot(reason));
        }
        if status != "scheduled" {
            return None;
        }
        let minutes = (now - window.start).num_minutes();
        if minutes >= MISSED_AFTER_MINUTES && now >= window.end {
            return Some(Chase::Missed);
        }
        (minutes >= LATE_AFTER_MINUTES).then_some(Chase::Late { minutes })
    }

    /// Most urgent first: no answer (they may have fallen), missed, the other reasons, late.
    pub fn weight(self) -> u8 {
        match self {
            Chase::CouldNot(CouldNotReason::NoAnswer) => 4,
            Chase::Missed => 3,
            Chase::CouldNot(_) => 2,
            Chase::Late { .. } => 1,
        }
    }

    pub fn describe(self) -> String {
        match self {
            Chase::CouldNot(reason) => reason.label().to_string(),
            Chase::Missed => "Missed: no check-in 2 hours after the start".to_string(),
            Chase::Late { minutes } => format!("Late: not checked in {minutes} minutes after the start"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct TimeWindow {
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::timestamp"))]
    pub start: DateTime<Utc>,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::timestamp"))]
    pub end: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct Task {
    /// Stable within the visit, so two carers ticking different tasks both count.
    #[cfg_attr(feature = "automerge", key)]
    pub key: String,
    pub kind: TaskKind,
    pub description: String,
    pub outcome: Option<TaskOutcome>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub enum TaskKind {
    PersonalCare,
    MedicationPrompt,
    Meal,
    Drink,
    Mobility,
    Domestic,
    Shopping,
    Companionship,
    Other,
}

impl TaskKind {
    pub const ALL: [TaskKind; 9] = [
        TaskKind::PersonalCare,
        TaskKind::MedicationPrompt,
        TaskKind::Meal,
        TaskKind::Drink,
        TaskKind::Mobility,
        TaskKind::Domestic,
        TaskKind::Shopping,
        TaskKind::Companionship,
        TaskKind::Other,
    ];

    pub fn label(self) -> &'static str {
        match self {
            TaskKind::PersonalCare => "Personal care",
            TaskKind::MedicationPrompt => "Medication prompt",
            TaskKind::Meal => "Meal",
            TaskKind::Drink => "Drink",
            TaskKind::Mobility => "Moving about",
            TaskKind::Domestic => "Housework",
            TaskKind::Shopping => "Shopping",
            TaskKind::Companionship => "Company and a chat",
            TaskKind::Other => "Other",
        }
    }

    /// Reads the rota spreadsheet's word for a task ("meal", "Medication prompt", "meds").
    pub fn parse(word: &str) -> Option<TaskKind> {
        let w = word.trim().to_ascii_lowercase().replace(['-', '_'], " ");
        Some(match w.as_str() {
            "personal care" | "wash" | "washing" => TaskKind::PersonalCare,
            "medication prompt" | "medication" | "meds" => TaskKind::MedicationPrompt,
            "meal" | "food" => TaskKind::Meal,
            "drink" | "drinks" | "fluids" => TaskKind::Drink,
            "mobility" | "moving about" => TaskKind::Mobility,
            "domestic" | "housework" => TaskKind::Domestic,
            "shopping" => TaskKind::Shopping,
            "companionship" | "company" | "social" => TaskKind::Companionship,
            "other" => TaskKind::Other,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub enum TaskOutcome {
    Done,
    /// Not done, and why ("declined", "no food in the house").
    NotDone {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub enum VisitStatus {
    Scheduled,
    InProgress,
    Completed,
    Missed,
    Cancelled { reason: String },
}

impl VisitStatus {
    /// The word stored in SQL projections and shown on badges.
    pub fn code(&self) -> &'static str {
        match self {
            VisitStatus::Scheduled => "scheduled",
            VisitStatus::InProgress => "in_progress",
            VisitStatus::Completed => "completed",
            VisitStatus::Missed => "missed",
            VisitStatus::Cancelled { .. } => "cancelled",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            VisitStatus::Scheduled => "Not started",
            VisitStatus::InProgress => "In progress",
            VisitStatus::Completed => "Completed",
            VisitStatus::Missed => "Missed",
            VisitStatus::Cancelled { .. } => "Cancelled",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VisitError {
    #[error("A visit needs one carer, or two for a double-up visit (this one has {0}).")]
    CarerCount(usize),
    #[error("The visit must end after it starts.")]
    WindowBackwards,
    #[error("A cancelled visit needs a reason.")]
    CancelWithoutReason,
    #[error("A task marked not done needs a reason (task \"{0}\").")]
    NotDoneWithoutReason(String),
    #[error("Two tasks share the key \"{0}\".")]
    DuplicateTaskKey(String),
    #[error("This visit is already checked in.")]
    AlreadyCheckedIn,
    #[error("Check in before checking out.")]
    NotCheckedIn,
    #[error("Check-out cannot be before check-in.")]
    CheckOutBeforeCheckIn,
    #[error("This visit is {0} and can no longer be changed that way.")]
    Closed(&'static str),
    #[error("There is no task \"{0}\" on this visit.")]
    NoSuchTask(String),
}

impl Visit {
    /// The day the visit belongs to: the UK date of its scheduled start (a 00:30 BST visit is
    /// on the day it feels like, not the UTC day before).
    pub fn day(&self) -> NaiveDate {
        self.window.start.with_timezone(&chrono_tz::Europe::London).date_naive()
    }

    /// Checked out, or closed without happening: what it records is now added to only by late
    /// entries.
    pub fn is_closed(&self) -> bool {
        matches!(self.status, VisitStatus::Completed | VisitStatus::Missed | VisitStatus::Cancelled { .. })
    }

    pub fn is_double_up(&self) -> bool {
        self.carers.len() == 2
    }

    /// Checks the rules every stored visit keeps.
    pub fn validate(&self) -> Result<(), VisitError> {
        if !(1..=2).contains(&self.carers.len()) {
            return Err(VisitError::CarerCount(self.carers.len()));
        }
        if self.window.end <= self.window.start {
            return Err(VisitError::WindowBackwards);
        }
        if let VisitStatus::Cancelled { reason } = &self.status
            && reason.trim().is_empty()
        {
            return Err(VisitError::CancelWithoutReason);
        }
        let mut keys = std::collections::BTreeSet::new();
        for task in &self.tasks {
            if !keys.insert(task.key.as_str()) {
                return Err(VisitError::DuplicateTaskKey(task.key.clone()));
            }
            if let Some(TaskOutcome::NotDone { reason }) = &task.outcome
                && reason.trim().is_empty()
            {
                return Err(VisitError::NotDoneWithoutReason(task.description.clone()));
            }
        }
        if let (Some(i), Some(o)) = (self.checked_in_at, self.checked_out_at)
            && o < i
        {
            return Err(VisitError::CheckOutBeforeCheckIn);
        }
        Ok(())
    }

    fn ensure_open(&self) -> Result<(), VisitError> {
        match self.status {
            VisitStatus::Scheduled | VisitStatus::InProgress => Ok(()),
            ref closed => Err(VisitError::Closed(closed.code())),
        }
    }

    pub fn check_in(&mut self, at: DateTime<Utc>) -> Result<(), VisitError> {
        self.ensure_open()?;
        if self.checked_in_at.is_some() {
            return Err(VisitError::AlreadyCheckedIn);
        }
        self.checked_in_at = Some(at);
        self.status = VisitStatus::InProgress;
        Ok(())
    }

    pub fn check_out(&mut self, at: DateTime<Utc>) -> Result<(), VisitError> {
        self.ensure_open()?;
        let checked_in = self.checked_in_at.ok_or(VisitError::NotCheckedIn)?;
        if at < checked_in {
            return Err(VisitError::CheckOutBeforeCheckIn);
        }
        self.checked_out_at = Some(at);
        self.status = VisitStatus::Completed;
        Ok(())
    }

    pub fn cancel(&mut self, reason: impl Into<String>) -> Result<(), VisitError> {
        self.ensure_open()?;
        let reason = reason.into();
        if reason.trim().is_empty() {
            return Err(VisitError::CancelWithoutReason);
        }
        self.status = VisitStatus::Cancelled { reason };
        Ok(())
    }

    /// The visit could not happen: it is closed as cancelled with the reason, and says why, who
    /// and when. Only a visit not yet checked in: one under way is checked out instead.
    pub fn could_not(&mut self, what: CouldNotVisit) -> Result<(), VisitError> {
        if self.status != VisitStatus::Scheduled {
            return Err(VisitError::Closed(self.status.code()));
        }
        self.status = VisitStatus::Cancelled { reason: what.reason.label().to_string() };
        self.could_not = Some(what);
        Ok(())
    }

    pub fn record_task(&mut self, key: &str, outcome: TaskOutcome) -> Result<(), VisitError> {
        if let TaskOutcome::NotDone { reason } = &outcome
            && reason.trim().is_empty()
        {
            return Err(VisitError::NotDoneWithoutReason(key.to_string()));
        }
        let task =
            self.tasks.iter_mut().find(|t| t.key == key).ok_or_else(|| VisitError::NoSuchTask(key.to_string()))?;
        task.outcome = Some(outcome);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use uuid::Uuid;

    fn visit() -> Visit {
        Visit {
            id: VisitId(Uuid::nil()),
            person_id: PersonId(Uuid::nil()),
            window: TimeWindow {
                start: Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap(),
                end: Utc.with_ymd_and_hms(2026, 11, 23, 8, 30, 0).unwrap(),
            },
            carers: vec![StaffId::new("C1")],
            tasks: vec![Task {
                key: "t1".into(),
                kind: TaskKind::Meal,
                description: "Breakfast".into(),
                outcome: None,
            }],
            checked_in_at: None,
            checked_out_at: None,
            status: VisitStatus::Scheduled,
            could_not: None,
            reviewed: None,
        }
    }

    #[test]
    fn late_after_thirty_minutes_missed_when_the_window_ends() {
        let v = visit();
        let at = |min: i64| v.window.start + chrono::Duration::minutes(min);
        assert_eq!(Chase::of("scheduled", None, v.window, at(29)), None);
        assert_eq!(Chase::of("scheduled", None, v.window, at(LATE_AFTER_MINUTES)), Some(Chase::Late { minutes: 30 }));
        // A 30-minute visit half an hour behind is late, not missed; two hours on, missed.
        assert_eq!(Chase::of("scheduled", None, v.window, at(119)), Some(Chase::Late { minutes: 119 }));
        assert_eq!(Chase::of("scheduled", None, v.window, at(MISSED_AFTER_MINUTES)), Some(Chase::Missed));
        assert_eq!(Chase::of("in_progress", None, v.window, at(90)), None);
        assert_eq!(Chase::of("completed", None, v.window, at(90)), None);
        let no_answer = Chase::of("cancelled", Some(CouldNotReason::NoAnswer), v.window, at(5));
        assert_eq!(no_answer, Some(Chase::CouldNot(CouldNotReason::NoAnswer)));
        assert!(no_answer.map(|c| c.weight()) > Some(Chase::Missed.weight()));
        // A long visit (a sit of 3 hours) is missed only when its window has ended.
        let mut long = v.clone();
        long.window.end = long.window.start + chrono::Duration::hours(3);
        assert_eq!(Chase::of("scheduled", None, long.window, at(150)), Some(Chase::Late { minutes: 150 }));
        assert_eq!(Chase::of("scheduled", None, long.window, at(180)), Some(Chase::Missed));
    }

    #[test]
    fn a_visit_that_could_not_happen_is_closed_with_its_reason() {
        let mut v = visit();
        let said = CouldNotVisit {
            reason: CouldNotReason::InHospital,
            detail: "Neighbour says ambulance came last night".into(),
            by: StaffId::new("C1"),
            at: v.window.start,
        };
        v.could_not(said.clone()).unwrap();
        assert_eq!(v.status, VisitStatus::Cancelled { reason: "They are in hospital".into() });
        v.validate().unwrap();
        assert_eq!(v.could_not(said), Err(VisitError::Closed("cancelled")));
        let mut started = visit();
        started.check_in(started.window.start).unwrap();
        let again = CouldNotVisit {
            reason: CouldNotReason::Refused,
            detail: String::new(),
            by: StaffId::new("C1"),
            at: started.window.start,
        };
        assert_eq!(started.could_not(again), Err(VisitError::Closed("in_progress")));
    }

    #[test]
    fn a_visit_goes_from_check_in_to_check_out() {
        let mut v = visit();
        let t = v.window.start;
        v.check_in(t).unwrap();
        assert_eq!(v.status, VisitStatus::InProgress);
        assert_eq!(v.check_in(t), Err(VisitError::AlreadyCheckedIn));
        v.record_task("t1", TaskOutcome::Done).unwrap();
        assert_eq!(v.check_out(t - chrono::Duration::minutes(1)), Err(VisitError::CheckOutBeforeCheckIn));
        v.check_out(t + chrono::Duration::minutes(25)).unwrap();
        assert_eq!(v.status, VisitStatus::Completed);
        assert_eq!(v.cancel("x"), Err(VisitError::Closed("completed")));
        v.validate().unwrap();
    }

    #[test]
    fn bad_visits_are_refused_with_reasons() {
        let mut v = visit();
        v.carers = vec![StaffId::new("a"), StaffId::new("b"), StaffId::new("c")];
        assert_eq!(v.validate(), Err(VisitError::CarerCount(3)));
        let mut v = visit();
        v.window.end = v.window.start;
        assert_eq!(v.validate(), Err(VisitError::WindowBackwards));
        let mut v = visit();
        assert_eq!(v.cancel("  "), Err(VisitError::CancelWithoutReason));
        assert_eq!(
            v.record_task("t1", TaskOutcome::NotDone { reason: "".into() }),
            Err(VisitError::NotDoneWithoutReason("t1".into()))
        );
        assert_eq!(v.record_task("nope", TaskOutcome::Done), Err(VisitError::NoSuchTask("nope".into())));
    }

    #[test]
    fn task_words_from_spreadsheets_are_understood() {
        assert_eq!(TaskKind::parse(" Meds "), Some(TaskKind::MedicationPrompt));
        assert_eq!(TaskKind::parse("personal-care"), Some(TaskKind::PersonalCare));
        assert_eq!(TaskKind::parse("juggling"), None);
    }
}
