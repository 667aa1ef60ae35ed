//! The sync badge: an honest one-line answer to "has the office got what I wrote?".

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncBadge {
    pub last_synced_at: Option<DateTime<Utc>>,
    /// Records with changes that have not reached the hub.
    pub waiting: usize,
    /// Records the hub would not take: (what, why).
    pub held_back: Vec<(String, String)>,
    pub offline: bool,
    pub syncing: bool,
    /// Why the last sync failed, in plain words, when it was not just being offline:
    /// "The office's server refused this tablet: ask the office to set it up again."
    #[serde(default)]
    pub problem: Option<String>,
    /// Records the office sent that this device could not open yet: (which, why).
    #[serde(default)]
    pub not_received: Vec<(String, String)>,
    /// Moves each time a sync brings in someone else's changes: an open screen reloads then.
    #[serde(default)]
    pub received: u64,
}

/// How the badge should look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Waiting,
    Problem,
}

impl SyncBadge {
    /// The words on the badge, e.g. "Synced 3 minutes ago" or "Offline: 4 changes waiting".
    pub fn headline(&self, now: DateTime<Utc>) -> String {
        if !self.held_back.is_empty() {
            // The records themselves are listed under the headline, each with why.
            return match self.held_back.len() {
                1 => "Not sent: 1 record the office's server would not take. It is kept on this tablet.".into(),
                n => format!("Not sent: {n} records the office's server would not take. They are kept on this tablet."),
            };
        }
        let waiting = match self.waiting {
            0 => None,
            1 => Some("1 change waiting".to_string()),
            n => Some(format!("{n} changes waiting")),
        };
        if let Some(problem) = &self.problem {
            let since = self.last_synced_at.map(|at| format!(" Last reached the office {}.", ago(now, at)));
            return format!("{problem}{}", since.unwrap_or_default());
        }
        if let Some((what, why)) = self.not_received.first() {
            return format!("Could not open here: {what}. {why}");
        }
        if self.syncing {
            return "Syncing…".into();
        }
        let since = match self.last_synced_at {
            Some(at) => format!("last reached the office {}", ago(now, at)),
            None => "not reached the office yet".to_string(),
        };
        match (self.offline, waiting, self.last_synced_at) {
            (true, Some(w), _) => format!("Offline ({since}): {w}, safe on this device"),
            (true, None, _) => format!("Offline ({since}): nothing waiting"),
            (false, Some(w), _) => w,
            (false, None, Some(at)) => format!("Synced {}", ago(now, at)),
            (false, None, None) => "Not synced yet".into(),
        }
    }

    pub fn tone(&self) -> Tone {
        if !self.held_back.is_empty() || self.problem.is_some() || !self.not_received.is_empty() {
            Tone::Problem
        } else if self.offline || self.waiting > 0 || self.last_synced_at.is_none() {
            Tone::Waiting
        } else {
            Tone::Good
        }
    }
}

fn ago(now: DateTime<Utc>, then: DateTime<Utc>) -> String {
    let minutes = (now - then).num_minutes().max(0);
    match minutes {
        0 => "just now".into(),
        1 => "1 minute ago".into(),
        2..=59 => format!("{minutes} minutes ago"),
        60..=119 => "1 hour ago".into(),
        _ if minutes < 24 * 60 => format!("{} hours ago", minutes / 60),
        _ => format!("on {}", then.format("%-d %b")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_000_000, 0).unwrap()
    }

    #[test]
    fn says_how_long_ago_when_all_is_sent() {
        let badge = SyncBadge { last_synced_at: Some(now() - Duration::minutes(3)), ..Default::default() };
        assert_eq!(badge.headline(now()), "Synced 3 minutes ago");
        assert_eq!(badge.tone(), Tone::Good);
    }

    #[test]
    fn offline_with_changes_says_they_are_safe() {
        let badge = SyncBadge { waiting: 4, offline: true, ..Default::default() };
        assert_eq!(
            badge.headline(now()),
            "Offline (not reached the office yet): 4 changes waiting, safe on this device"
        );
        assert_eq!(badge.tone(), Tone::Waiting);
    }

    #[test]
    fn offline_always_says_when_the_office_was_last_reached() {
        let badge = SyncBadge {
            waiting: 1,
            offline: true,
            last_synced_at: Some(now() - Duration::minutes(95)),
            ..Default::default()
        };
        assert_eq!(
            badge.headline(now()),
            "Offline (last reached the office 1 hour ago): 1 change waiting, safe on this device"
        );
    }

    #[test]
    fn a_refusal_is_said_in_plain_words_not_as_changes_waiting() {
        let badge = SyncBadge {
            waiting: 3,
            problem: Some("The office's server refused this tablet: ask the office to set it up again.".into()),
            last_synced_at: Some(now() - Duration::minutes(20)),
            ..Default::default()
        };
        assert_eq!(
            badge.headline(now()),
            "The office's server refused this tablet: ask the office to set it up again. Last reached the office 20 minutes ago."
        );
        assert_eq!(badge.tone(), Tone::Problem);
    }

    #[test]
    fn a_held_back_record_comes_first_with_why() {
        let badge = SyncBadge {
            waiting: 1,
            held_back: vec![("Visit note".into(), "The office must fix this record.".into())],
            ..Default::default()
        };
        assert_eq!(
            badge.headline(now()),
            "Not sent: 1 record the office's server would not take. It is kept on this tablet."
        );
        assert_eq!(badge.tone(), Tone::Problem);
    }
}
