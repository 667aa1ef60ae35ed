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
        if let Some((what, why)) = self.held_back.first() {
            let more = match self.held_back.len() {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            return format!("Not sent: {what}{more}. {why}");
        }
        let waiting = match self.waiting {
            0 => None,
            1 => Some("1 change waiting".to_string()),
            n => Some(format!("{n} changes waiting")),
        };
        if self.syncing {
            return "Syncing…".into();
        }
        match (self.offline, waiting, self.last_synced_at) {
            (true, Some(w), _) => format!("Offline: {w}, safe on this device"),
            (true, None, _) => "Offline: nothing waiting".into(),
            (false, Some(w), _) => w,
            (false, None, Some(at)) => format!("Synced {}", ago(now, at)),
            (false, None, None) => "Not synced yet".into(),
        }
    }

    pub fn tone(&self) -> Tone {
        if !self.held_back.is_empty() {
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
        assert_eq!(badge.headline(now()), "Offline: 4 changes waiting, safe on this device");
        assert_eq!(badge.tone(), Tone::Waiting);
    }

    #[test]
    fn a_held_back_record_comes_first_with_why() {
        let badge = SyncBadge {
            waiting: 1,
            held_back: vec![("Visit note".into(), "The office must fix this record.".into())],
            ..Default::default()
        };
        assert_eq!(badge.headline(now()), "Not sent: Visit note. The office must fix this record.");
        assert_eq!(badge.tone(), Tone::Problem);
    }
}
