//! What happened to the person afterwards, and whether an idea helped: the other end of the
//! journey that starts with a carer noticing something.
//!
//! - A carer records an **outcome** (went to A&E, admitted, home again, seen by the urgent
//!   community response team, GP visited) with the day it happened, in the visit's note, offline.
//!   It carries what stood before it when it was recorded ([`OutcomeLinks`]): the watch level,
//!   the calls made at recent visits and the person's open ideas, so the office and the hub can
//!   later ask "did the escalation come before the admission?" without re-deriving it.
//! - When a partner answers an idea "action taken", the manager's device asks, 30 days later,
//!   **did it help?** ([`FollowUp`]); the partner may add their own judgement that an admission
//!   was likely avoided (`PartnerResponse::admission_likely_avoided`).

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{InsightId, StaffId};
use crate::shared::{ResponseOutcome, SharedItem};

/// Days after a partner's "action taken" that the office is asked whether it helped.
pub const FOLLOW_UP_AFTER_DAYS: u64 = 30;
/// How far back the calls linked to an outcome reach: escalations of the visits before it.
pub const LINK_CALLS_WITHIN_DAYS: u64 = 14;

/// What happened to the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub enum OutcomeKind {
    WentToAandE,
    Admitted,
    HomeAgain,
    SeenByUcr,
    GpVisited,
}

impl OutcomeKind {
    pub const ALL: [OutcomeKind; 5] = [
        OutcomeKind::WentToAandE,
        OutcomeKind::Admitted,
        OutcomeKind::HomeAgain,
        OutcomeKind::SeenByUcr,
        OutcomeKind::GpVisited,
    ];

    pub fn code(self) -> &'static str {
        match self {
            OutcomeKind::WentToAandE => "went_to_a_and_e",
            OutcomeKind::Admitted => "admitted",
            OutcomeKind::HomeAgain => "home_again",
            OutcomeKind::SeenByUcr => "seen_by_ucr",
            OutcomeKind::GpVisited => "gp_visited",
        }
    }

    pub fn from_code(code: &str) -> Option<OutcomeKind> {
        OutcomeKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// As a carer would say it.
    pub fn label(self) -> &'static str {
        match self {
            OutcomeKind::WentToAandE => "Went to A&E",
            OutcomeKind::Admitted => "Admitted to hospital",
            OutcomeKind::HomeAgain => "Home again from hospital",
            OutcomeKind::SeenByUcr => "Seen by the urgent community response team",
            OutcomeKind::GpVisited => "GP visited",
        }
    }

    /// A&E or admission: what the ideas and escalations hoped to avoid.
    pub fn is_hospital(self) -> bool {
        matches!(self, OutcomeKind::WentToAandE | OutcomeKind::Admitted)
    }
}

/// What stood before an outcome when it was recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct OutcomeLinks {
    /// The person's deterioration watch level (`WatchLevel::code`) over the visits before it.
    pub watch_level: String,
    /// Calls made at visits in the [`LINK_CALLS_WITHIN_DAYS`] before, as "GP practice, 2 Dec 09:12".
    pub escalations: Vec<String>,
    /// The person's ideas still open (not closed or declined) when it was recorded.
    pub open_ideas: Vec<InsightId>,
}

/// An outcome a carer recorded in a visit's note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct PersonOutcome {
    /// Unique within the note, so two recorded apart both survive a merge.
    #[cfg_attr(feature = "automerge", key)]
    pub key: String,
    pub kind: OutcomeKind,
    /// The day it happened (which may be before the visit that learned of it).
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::date"))]
    pub day: NaiveDate,
    pub by: StaffId,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::timestamp"))]
    pub at: DateTime<Utc>,
    pub links: OutcomeLinks,
}

impl OutcomeLinks {
    /// What stood before the outcome, in words for the person page and the handover:
    /// "Watch was at concern", "Calls before it: GP practice, 2 Dec 09:12", "Open idea: grab
    /// rail". `idea` names an idea by its id (None when it is not on this device).
    pub fn words(&self, idea: impl Fn(&InsightId) -> Option<String>) -> Vec<String> {
        let mut words = Vec::new();
        if !self.watch_level.is_empty() {
            words.push(format!("Watch was at {}", self.watch_level));
        }
        if !self.escalations.is_empty() {
            words.push(format!("Calls before it: {}", self.escalations.join("; ")));
        }
        for id in &self.open_ideas {
            match idea(id) {
                Some(summary) => words.push(format!("Open idea: {summary}")),
                None => words.push("Open idea: one not on this device".to_string()),
            }
        }
        words
    }
}

/// A call as an outcome links it: who was phoned and when, at UK time ("GP practice, 2 Dec 09:12").
pub fn call_link(call: &crate::note::CallRecord) -> String {
    format!("{}, {}", call.called(), call.at.with_timezone(&chrono_tz::Europe::London).format("%-d %b %H:%M"))
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OutcomeError {
    #[error("The day it happened, {day}, is after today: give the day it happened")]
    InFuture { day: NaiveDate },
    #[error("The day it happened, {day}, is more than a year ago: give a recent day")]
    TooOld { day: NaiveDate },
}

/// An outcome's day must be between a year ago and today.
pub fn check_day(day: NaiveDate, today: NaiveDate) -> Result<(), OutcomeError> {
    if day > today {
        return Err(OutcomeError::InFuture { day });
    }
    if today.checked_sub_days(Days::new(366)).is_some_and(|year_ago| day < year_ago) {
        return Err(OutcomeError::TooOld { day });
    }
    Ok(())
}

/// The office's answer to "did it help?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub enum HelpAnswer {
    Yes,
    No,
    TooEarly,
}

impl HelpAnswer {
    pub const ALL: [HelpAnswer; 3] = [HelpAnswer::Yes, HelpAnswer::No, HelpAnswer::TooEarly];

    pub fn code(self) -> &'static str {
        match self {
            HelpAnswer::Yes => "yes",
            HelpAnswer::No => "no",
            HelpAnswer::TooEarly => "too_early",
        }
    }

    pub fn from_code(code: &str) -> Option<HelpAnswer> {
        HelpAnswer::ALL.into_iter().find(|a| a.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            HelpAnswer::Yes => "Yes, it helped",
            HelpAnswer::No => "No, it did not help",
            HelpAnswer::TooEarly => "Too early to tell",
        }
    }
}

/// The manager's answer, kept on the idea.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct FollowUp {
    pub answer: HelpAnswer,
    /// The manager's name, as shown to the office.
    pub by: String,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::timestamp"))]
    pub at: DateTime<Utc>,
    /// Optional words ("no falls since the rail went in").
    pub detail: String,
}

/// When a shared item asks "did it help?": [`FOLLOW_UP_AFTER_DAYS`] after its first "action
/// taken" answer (None when no partner has answered so).
pub fn follow_up_due(item: &SharedItem) -> Option<NaiveDate> {
    let first = item.responses.iter().filter(|r| r.outcome == ResponseOutcome::ActionTaken).map(|r| r.at).min()?;
    uk_day(first).checked_add_days(Days::new(FOLLOW_UP_AFTER_DAYS))
}

/// The day in the UK: an answer at 00:30 BST is that day's, not the day before's (UTC).
fn uk_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&chrono_tz::Europe::London).date_naive()
}

/// Whether any partner judged an admission likely avoided (None when none said either way).
pub fn admission_likely_avoided(item: &SharedItem) -> Option<bool> {
    let judged: Vec<bool> = item.responses.iter().filter_map(|r| r.admission_likely_avoided).collect();
    if judged.is_empty() { None } else { Some(judged.contains(&true)) }
}

/// The most a follow-up's words may hold, in characters (the office's own note, not a report).
pub const FOLLOW_UP_DETAIL_MOST: usize = 1_000;

/// When an idea asks "did it help?" next, given the day its first "action taken" made it due and
/// the office's answer so far: a Yes or No settles it (None); "too early to tell" asks again
/// [`FOLLOW_UP_AFTER_DAYS`] after that answer, and a later Yes or No replaces it.
pub fn follow_up_next(due: NaiveDate, answered: Option<&FollowUp>) -> Option<NaiveDate> {
    match answered {
        None => Some(due),
        Some(f) if f.answer == HelpAnswer::TooEarly => {
            uk_day(f.at).checked_add_days(Days::new(FOLLOW_UP_AFTER_DAYS)).map(|again| again.max(due))
        }
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outcome_happened_between_a_year_ago_and_today() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        assert!(check_day(today, today).is_ok());
        assert!(check_day(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(), today).is_ok());
        assert_eq!(
            check_day(NaiveDate::from_ymd_opt(2026, 12, 4).unwrap(), today),
            Err(OutcomeError::InFuture { day: NaiveDate::from_ymd_opt(2026, 12, 4).unwrap() })
        );
        assert!(matches!(
            check_day(NaiveDate::from_ymd_opt(2025, 11, 1).unwrap(), today),
            Err(OutcomeError::TooOld { .. })
        ));
    }

    #[test]
    fn links_read_as_words_with_calls_at_uk_time() {
        let call = crate::note::CallRecord {
            to: crate::note::CallTarget::GpPractice,
            to_name: String::new(),
            // 09:12 in London in summer is 08:12 UTC.
            at: NaiveDate::from_ymd_opt(2026, 7, 2).unwrap().and_hms_opt(8, 12, 0).unwrap().and_utc(),
            spoke_to: String::new(),
            outcome: crate::note::CallOutcome::GpVisiting,
            detail: String::new(),
            by: StaffId::new("C001"),
        };
        assert_eq!(call_link(&call), "GP practice, 2 Jul 09:12");
        let known = InsightId(uuid::Uuid::from_u128(1));
        let links = OutcomeLinks {
            watch_level: "concern".into(),
            escalations: vec![call_link(&call)],
            open_ideas: vec![known, InsightId(uuid::Uuid::from_u128(2))],
        };
        let words = links.words(|id| (id == &known).then(|| "Grab rail".to_string()));
        assert_eq!(
            words,
            [
                "Watch was at concern",
                "Calls before it: GP practice, 2 Jul 09:12",
                "Open idea: Grab rail",
                "Open idea: one not on this device",
            ]
        );
        assert!(OutcomeLinks::default().words(|_| None).is_empty());
    }

    #[test]
    fn a_follow_up_counts_uk_days() {
        use chrono::TimeZone;
        let due = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        // 23:30 UTC on 30 June is 00:30 on 1 July in the UK: asked again 30 UK days on.
        let late = FollowUp {
            answer: HelpAnswer::TooEarly,
            by: "Mo Khan".into(),
            at: Utc.with_ymd_and_hms(2026, 6, 30, 23, 30, 0).unwrap(),
            detail: String::new(),
        };
        assert_eq!(follow_up_next(due, Some(&late)), NaiveDate::from_ymd_opt(2026, 7, 31));
    }

    #[test]
    fn codes_round_trip() {
        for k in OutcomeKind::ALL {
            assert_eq!(OutcomeKind::from_code(k.code()), Some(k));
        }
        for a in HelpAnswer::ALL {
            assert_eq!(HelpAnswer::from_code(a.code()), Some(a));
        }
    }

    #[test]
    fn too_early_to_tell_asks_again_thirty_days_later_and_yes_or_no_settles_it() {
        let due = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        assert_eq!(follow_up_next(due, None), Some(due));
        let answer = |answer, day: u32| FollowUp {
            answer,
            by: "Mo Khan (M001)".into(),
            at: NaiveDate::from_ymd_opt(2026, 11, day).unwrap().and_hms_opt(10, 0, 0).unwrap().and_utc(),
            detail: String::new(),
        };
        assert_eq!(follow_up_next(due, Some(&answer(HelpAnswer::TooEarly, 3))), NaiveDate::from_ymd_opt(2026, 12, 3));
        assert_eq!(follow_up_next(due, Some(&answer(HelpAnswer::Yes, 3))), None);
        assert_eq!(follow_up_next(due, Some(&answer(HelpAnswer::No, 3))), None);
    }
}
