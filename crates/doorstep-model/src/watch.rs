//! The deterioration watch: a simple, documented rule over a person's recent visits that flags
//! worsening (more soft signs, a rising NEWS2) so it shows on the device with no signal.
//!
//! The rule (also in docs/safety.md). It looks at the last [`WINDOW`] visits, oldest first:
//! - **Concern** when the latest NEWS2 is 5 or more; or the latest NEWS2 is 3 or more above the
//!   lowest earlier score in the window; or soft-sign changes were recorded at 3 or more of the
//!   visits; or the number of soft-sign changes rose at each of the last 3 visits.
//! - **Watch** when the latest visit recorded any soft-sign change; or the latest NEWS2 is 2 above
//!   the one before; or soft-sign changes were recorded at 2 of the last 3 visits.
//! - Otherwise **Clear**.
//!
//! A flag is a prompt to look and to talk to the office, never a diagnosis; NEWS2 escalation
//! advice at a visit stands on its own and never waits for this.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How many recent visits the rule looks at.
pub const WINDOW: usize = 5;

/// What one visit contributes to the watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitSignal {
    pub at: DateTime<Utc>,
    /// Soft signs recorded as new or worse than usual.
    pub soft_sign_changes: u32,
    /// NEWS2 total where a complete score was recorded.
    pub news2_total: Option<u8>,
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

/// Applies the rule to visits in any order (they are sorted by time; only the last
/// [`WINDOW`] count).
pub fn assess(visits: &[VisitSignal]) -> WatchFlag {
    let mut recent: Vec<VisitSignal> = visits.to_vec();
    recent.sort_by_key(|v| v.at);
    let recent = &recent[recent.len().saturating_sub(WINDOW)..];
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
    let last_three = &recent[recent.len().saturating_sub(3)..];
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

    fn visits(data: &[(u32, Option<u8>)]) -> Vec<VisitSignal> {
        data.iter()
            .enumerate()
            .map(|(i, &(soft_sign_changes, news2_total))| VisitSignal {
                at: DateTime::from_timestamp(1_700_000_000 + i as i64 * 86_400, 0).unwrap_or_default(),
                soft_sign_changes,
                news2_total,
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
    fn only_the_last_five_visits_count_and_order_does_not_matter() {
        let mut v =
            visits(&[(1, Some(9)), (1, Some(9)), (0, Some(0)), (0, Some(0)), (0, Some(0)), (0, Some(0)), (0, Some(0))]);
        assert_eq!(assess(&v).level, WatchLevel::Clear);
        v.reverse();
        assert_eq!(assess(&v).level, WatchLevel::Clear);
    }
}
