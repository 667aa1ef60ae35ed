//! The deterioration watch: a simple, documented rule over a person's recent visits that flags
//! worsening (more soft signs, a rising NEWS2) so it shows on the device with no signal.
//!
//! The rule (also in docs/safety.md). It looks back over a stated time: every visit with a note
//! in the [`WINDOW_DAYS`] days up to the person's latest such visit, oldest first, however many
//! there are (older visits are stale and do not count). The window is counted back from the
//! latest visit, not from today, so the same notes always give the same flag:
//! - **Concern** when the latest NEWS2 is 5 or more; or the latest NEWS2 is 3 or more above the
//!   lowest earlier score in the window; or NEWS2 rose at each of the last 3 readings (2 → 3 →
//!   4); or soft-sign changes were recorded at 3 or more of the visits; or the number of
//!   soft-sign changes rose at each of the last 3 visits; or nothing was eaten or drunk at 2 of
//!   the last 3 visits.
//! - **Watch** when the latest visit recorded any soft-sign change; or the latest NEWS2 is 2 above
//!   the one before; or NEWS2 stayed at 3–4 for the last 3 readings; or soft-sign changes were
//!   recorded at 2 of the last 3 visits; or the latest visit recorded nothing eaten or drunk, or
//!   a distressed mood.
//! - Otherwise **Clear**.
//!
//! A NEWS2 from an incomplete set counts as its lower bound.
//!
//! A flag is a prompt to look and to talk to the office, never a diagnosis; NEWS2 escalation
//! advice at a visit stands on its own and never waits for this.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How far back from the latest visit the rule looks, in days: older visits are stale.
pub const WINDOW_DAYS: i64 = 7;

/// Whether a visit at `at` is in the window that ends at the person's latest visit, `latest`.
pub fn in_window(latest: DateTime<Utc>, at: DateTime<Utc>) -> bool {
    at <= latest && latest - at <= chrono::Duration::days(WINDOW_DAYS)
}

/// What one visit contributes to the watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitSignal {
    pub at: DateTime<Utc>,
    /// Soft signs recorded as new or worse than usual.
    pub soft_sign_changes: u32,
    /// NEWS2 total where a score was recorded (a lower bound for an incomplete set).
    pub news2_total: Option<u8>,
    /// Nothing eaten, or nothing drunk, at this visit.
    #[serde(default)]
    pub ate_or_drank_nothing: bool,
    /// Their mood was recorded as distressed.
    #[serde(default)]
    pub distressed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum WatchLevel {
    Clear,
    Watch,
    Concern,
}

impl WatchLevel {
    pub fn code(self) -> &'static str {
        match self {
            WatchLevel::Clear => "clear",
            WatchLevel::Watch => "watch",
            WatchLevel::Concern => "concern",
        }
    }

    pub fn from_code(code: &str) -> Option<WatchLevel> {
        [WatchLevel::Clear, WatchLevel::Watch, WatchLevel::Concern].into_iter().find(|l| l.code() == code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchFlag {
    pub level: WatchLevel,
    /// Plain-English reasons, most serious first.
    pub reasons: Vec<String>,
}

impl WatchFlag {
    pub fn clear() -> Self {
        Self { level: WatchLevel::Clear, reasons: Vec::new() }
    }
}

/// Applies the rule to visits in any order (they are sorted by time; every visit within
/// [`WINDOW_DAYS`] days of the latest counts, and no other).
pub fn assess(visits: &[VisitSignal]) -> WatchFlag {
    let mut recent: Vec<VisitSignal> = visits.to_vec();
    recent.sort_by_key(|v| v.at);
    let Some(newest) = recent.last().map(|v| v.at) else { return WatchFlag::clear() };
    recent.retain(|v| in_window(newest, v.at));
    let recent = recent.as_slice();
    let Some(latest) = recent.last() else { return WatchFlag::clear() };

    let mut concern = Vec::new();
    let mut watch = Vec::new();

    let scores: Vec<u8> = recent.iter().filter_map(|v| v.news2_total).collect();
    if let Some(&now) = latest.news2_total.as_ref() {
        if now >= 5 {
            concern.push(format!("Latest NEWS2 score is {now} (medium or high)."));
        }
        let earlier = &scores[..scores.len() - 1];
        if let Some(&lowest) = earlier.iter().min()
            && now >= lowest + 3
        {
            concern.push(format!("NEWS2 has risen from {lowest} to {now} over recent visits."));
        } else if let Some(&previous) = earlier.last()
            && now >= previous + 2
        {
            watch.push(format!("NEWS2 rose from {previous} to {now} since the last reading."));
        }
    }

    if let [a, b, c] = scores[scores.len().saturating_sub(3)..]
        && a < b
        && b < c
    {
        concern.push(format!("NEWS2 rose at each of the last 3 readings ({a}, {b}, {c})."));
    } else if let [a, b, c] = scores[scores.len().saturating_sub(3)..]
        && [a, b, c].iter().all(|s| (3..=4).contains(s))
    {
        watch.push(format!("NEWS2 has stayed at 3–4 for the last 3 readings ({a}, {b}, {c})."));
    }

    let last_three = &recent[recent.len().saturating_sub(3)..];
    let nothing = last_three.iter().filter(|v| v.ate_or_drank_nothing).count();
    if nothing >= 2 {
        concern.push(format!("Nothing eaten or drunk at {nothing} of the last 3 visits."));
    } else if latest.ate_or_drank_nothing {
        watch.push("Nothing eaten or drunk at the latest visit.".to_string());
    }
    if latest.distressed {
        watch.push("Distressed at the latest visit.".to_string());
    }

    let with_changes = recent.iter().filter(|v| v.soft_sign_changes > 0).count();
    if with_changes >= 3 {
        concern.push(format!("Soft signs were noticed at {with_changes} of the last {} visits.", recent.len()));
    }
    if let [a, b, c] = recent[recent.len().saturating_sub(3)..]
        && a.soft_sign_changes < b.soft_sign_changes
        && b.soft_sign_changes < c.soft_sign_changes
    {
        concern.push(format!(
            "More soft signs at each of the last 3 visits ({}, {}, {}).",
            a.soft_sign_changes, b.soft_sign_changes, c.soft_sign_changes
        ));
    }
    let in_last_three = last_three.iter().filter(|v| v.soft_sign_changes > 0).count();
    if with_changes < 3 && in_last_three >= 2 {
        watch.push(format!("Soft signs were noticed at {in_last_three} of the last 3 visits."));
    }
    if latest.soft_sign_changes > 0 {
        let n = latest.soft_sign_changes;
        watch.push(format!("{n} soft sign{} noticed at the latest visit.", if n == 1 { "" } else { "s" }));
    }

    let level = if !concern.is_empty() {
        WatchLevel::Concern
    } else if !watch.is_empty() {
        WatchLevel::Watch
    } else {
        WatchLevel::Clear
    };
    concern.extend(watch);
    WatchFlag { level, reasons: concern }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steady_rise_is_a_concern_and_a_score_that_stays_at_3_or_4_is_watched() {
        let rising = assess(&visits(&[(0, Some(2)), (0, Some(3)), (0, Some(4))]));
        assert_eq!(rising.level, WatchLevel::Concern, "{:?}", rising.reasons);
        assert!(rising.reasons[0].contains("rose at each of the last 3 readings (2, 3, 4)"));
        let staying = assess(&visits(&[(0, Some(3)), (0, Some(4)), (0, Some(3))]));
        assert_eq!(staying.level, WatchLevel::Watch, "{:?}", staying.reasons);
        assert!(staying.reasons.iter().any(|r| r.contains("stayed at 3–4")));
    }

    #[test]
    fn nothing_eaten_or_drunk_and_distress_count() {
        let mut v = visits(&[(0, None), (0, None), (0, None)]);
        v[2].ate_or_drank_nothing = true;
        assert_eq!(assess(&v).level, WatchLevel::Watch);
        v[1].ate_or_drank_nothing = true;
        assert_eq!(assess(&v).level, WatchLevel::Concern);
        let mut calm = visits(&[(0, None), (0, None)]);
        calm[1].distressed = true;
        let flag = assess(&calm);
        assert_eq!(flag.level, WatchLevel::Watch);
        assert!(flag.reasons[0].contains("Distressed"));
    }

    #[test]
    fn visits_older_than_the_window_are_stale_and_do_not_count() {
        // Soft signs at three visits, but two of them more than a week before the latest.
        let mut v = visits(&[(1, None), (1, None), (1, None)]);
        v[0].at -= chrono::Duration::days(20);
        v[1].at -= chrono::Duration::days(20);
        let flag = assess(&v);
        assert_eq!(flag.level, WatchLevel::Watch, "only the latest counts: {:?}", flag.reasons);
    }

    fn visits(data: &[(u32, Option<u8>)]) -> Vec<VisitSignal> {
        data.iter()
            .enumerate()
            .map(|(i, &(soft_sign_changes, news2_total))| VisitSignal {
                at: DateTime::from_timestamp(1_700_000_000 + i as i64 * 86_400, 0).unwrap_or_default(),
                soft_sign_changes,
                news2_total,
                ate_or_drank_nothing: false,
                distressed: false,
            })
            .collect()
    }

    #[test]
    fn nothing_noticed_is_clear() {
        assert_eq!(assess(&[]).level, WatchLevel::Clear);
        assert_eq!(assess(&visits(&[(0, Some(1)), (0, Some(1)), (0, None)])).level, WatchLevel::Clear);
    }

    #[test]
    fn a_soft_sign_today_is_watch() {
        let flag = assess(&visits(&[(0, Some(0)), (0, Some(0)), (1, Some(0))]));
        assert_eq!(flag.level, WatchLevel::Watch);
        assert_eq!(flag.reasons, vec!["1 soft sign noticed at the latest visit."]);
    }

    #[test]
    fn news2_rising_by_two_is_watch_by_three_is_concern() {
        assert_eq!(assess(&visits(&[(0, Some(1)), (0, Some(3))])).level, WatchLevel::Watch);
        assert_eq!(assess(&visits(&[(0, Some(1)), (0, Some(2)), (0, Some(4))])).level, WatchLevel::Concern);
        assert_eq!(assess(&visits(&[(0, Some(0)), (0, Some(5))])).level, WatchLevel::Concern);
    }

    #[test]
    fn soft_signs_on_most_visits_or_rising_is_concern() {
        assert_eq!(
            assess(&visits(&[(1, None), (0, None), (1, None), (0, None), (1, None)])).level,
            WatchLevel::Concern
        );
        assert_eq!(assess(&visits(&[(0, None), (1, None), (2, None), (3, None)])).level, WatchLevel::Concern);
        assert_eq!(assess(&visits(&[(1, None), (0, None), (1, None)])).level, WatchLevel::Watch);
    }

    #[test]
    fn every_visit_in_the_last_seven_days_counts_and_an_older_one_does_not() {
        // Eight visits a day apart: soft signs eight days before the latest, then seven quiet
        // visits (six days before the latest up to it). Only the quiet ones are in the window.
        let mut v = visits(&[
            (2, Some(9)),
            (0, Some(0)),
            (0, Some(0)),
            (0, Some(0)),
            (0, Some(0)),
            (0, Some(0)),
            (0, Some(0)),
            (0, Some(0)),
        ]);
        v[0].at -= chrono::Duration::days(1);
        assert_eq!(assess(&v).level, WatchLevel::Clear, "a note eight days before the latest is stale");
        // Three visits with soft signs among the first of six+ in the window: with a five-note
        // cap they would have dropped out; over seven days all of them count.
        let mut v = visits(&[(1, None), (1, None), (1, None), (0, None), (0, None), (0, None), (0, None)]);
        assert_eq!(v.len(), 7);
        let flag = assess(&v);
        assert_eq!(flag.level, WatchLevel::Concern, "{:?}", flag.reasons);
        assert!(flag.reasons[0].contains("at 3 of the last 7 visits"), "{:?}", flag.reasons);
        // The same, several a day, still all count; order does not matter.
        for (i, visit) in v.iter_mut().enumerate() {
            visit.at = DateTime::from_timestamp(1_700_000_000 + i as i64 * 3_600, 0).unwrap_or_default();
        }
        v.reverse();
        assert_eq!(assess(&v).level, WatchLevel::Concern);
        // The first moved just past seven days before the latest: two left, no longer a concern.
        v.reverse();
        v[0].at -= chrono::Duration::days(8);
        assert_eq!(assess(&v).level, WatchLevel::Clear, "{:?}", assess(&v).reasons);
    }

    #[test]
    fn the_window_ends_at_the_latest_visit() {
        let latest = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        assert!(in_window(latest, latest));
        assert!(in_window(latest, latest - chrono::Duration::days(7)));
        assert!(!in_window(latest, latest - chrono::Duration::days(7) - chrono::Duration::seconds(1)));
        assert!(!in_window(latest, latest + chrono::Duration::seconds(1)));
    }
}
