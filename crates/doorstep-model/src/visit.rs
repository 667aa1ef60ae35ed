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
        }
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
