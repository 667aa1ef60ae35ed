//! What the app's screens list and show: rows read from the device's projections. Shared by
//! the store (which fills them), the app shell and the UI (which show them).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::shared::{PartnerResponse, Revocation, SharedStatus};
use crate::watch::{WatchFlag, WatchLevel};
use crate::{DocVersion, PartnerOrg, Person, RecordKind, SoftSign};

/// A visit as a day's list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitRow {
    pub id: String,
    pub person_id: String,
    /// `None` until the person's record has reached this device.
    pub person_name: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: String,
    /// Staff references.
    pub carers: Vec<String>,
    /// The same carers as people know them ("Ben Okafor (C002)"), from the office's directory.
    #[serde(default)]
    pub carer_names: Vec<String>,
    /// Why it could not happen, when the carer said so.
    #[serde(default)]
    pub could_not: Option<crate::CouldNotReason>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRow {
    pub id: String,
    pub client_ref: String,
    pub display_name: String,
    pub watch: WatchLevel,
}

/// One past visit on a person's timeline, with what was noticed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub visit_id: String,
    pub starts_at: DateTime<Utc>,
    pub status: String,
    pub soft_signs: Vec<SoftSign>,
    pub news2_total: Option<u8>,
    pub news2_band: Option<String>,
    /// The NEWS2 is a lower bound: some readings were missing.
    #[serde(default)]
    pub news2_incomplete: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsightRow {
    pub id: String,
    pub person_id: Option<String>,
    pub author: String,
    pub status: String,
    pub urgency: String,
    pub summary: String,
    pub created_at: DateTime<Utc>,
    /// Who it is about, when their record is on the device.
    #[serde(default)]
    pub person_name: Option<String>,
}

/// Everything the person screen shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonOverview {
    pub person: Person,
    /// Newest first.
    pub timeline: Vec<TimelineEntry>,
    pub watch: WatchFlag,
    pub insights: Vec<InsightRow>,
    /// The person record's version as shown: an edit form saves against it.
    #[serde(default)]
    pub version: DocVersion,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub id: String,
    pub kind: RecordKind,
    pub person_id: Option<String>,
    /// A short extract with each matched word between [`SearchHit::MATCH_START`] and
    /// [`SearchHit::MATCH_END`] (characters no one types, so brackets in a note stay brackets).
    pub snippet: String,
    /// Who it is about, when their record is on the device.
    #[serde(default)]
    pub person_name: Option<String>,
    /// When: the visit's start for a note, when it was recorded for an idea.
    #[serde(default)]
    pub at: Option<DateTime<Utc>>,
    /// Who wrote it (staff references, named by the device where it can).
    #[serde(default)]
    pub authors: Vec<String>,
    /// The visit a note belongs to, to open it.
    #[serde(default)]
    pub visit_id: Option<String>,
}

impl SearchHit {
    pub const MATCH_START: char = '\u{E000}';
    pub const MATCH_END: char = '\u{E001}';

    /// The snippet in pieces, each saying whether it is a matched word: for highlighting.
    pub fn snippet_parts(&self) -> Vec<(String, bool)> {
        let mut parts = Vec::new();
        let mut current = String::new();
        let mut matched = false;
        for c in self.snippet.chars() {
            let boundary = match c {
                SearchHit::MATCH_START => Some(true),
                SearchHit::MATCH_END => Some(false),
                _ => None,
            };
            match boundary {
                Some(now_matched) => {
                    if !current.is_empty() {
                        parts.push((std::mem::take(&mut current), matched));
                    }
                    matched = now_matched;
                }
                None => current.push(c),
            }
        }
        if !current.is_empty() {
            parts.push((current, matched));
        }
        parts
    }
}

/// What was noticed on one visit of a day, for the manager's "needs attention" list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaySignal {
    pub visit_id: String,
    pub person_id: String,
    pub person_name: Option<String>,
    /// Soft signs that are a change from the person's usual.
    pub soft_signs: Vec<SoftSign>,
    pub news2_total: Option<u8>,
    pub news2_band: Option<String>,
    /// The NEWS2 is a lower bound: some readings were missing.
    #[serde(default)]
    pub news2_incomplete: bool,
    /// The advice the visit gave the carer (`escalation::advice`).
    #[serde(default)]
    pub advice: Option<crate::news2::EscalationLevel>,
    /// The latest phone call the carer recorded: "Phoned GP practice at 09:12, …".
    #[serde(default)]
    pub last_call: Option<String>,
    /// When the visit was due to start.
    #[serde(default)]
    pub starts_at: DateTime<Utc>,
    /// A recorded call meets the advice (`VisitNote::advice_met`).
    #[serde(default)]
    pub advice_met: bool,
}

/// An enrolled device, as a manager's device list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRow {
    pub id: uuid::Uuid,
    /// What the person who enrolled it called it: "Sam's tablet".
    pub name: String,
    pub staff_ref: String,
    pub role: crate::Role,
    pub revoked: bool,
    /// When it last synced with the hub, if it has.
    #[serde(default)]
    pub last_sync_at: Option<DateTime<Utc>>,
    /// Records its last sync held back (kept on the device, shown there with why): the
    /// office's cue to look at that tablet.
    #[serde(default)]
    pub held_back: u32,
    /// Each record it keeps back, with the hub's reason (what it is, in words, is filled in by
    /// the manager's device from its own records).
    #[serde(default)]
    pub held_back_records: Vec<HeldBackOnDevice>,
}

/// One record a tablet keeps back because the hub would not take it, as the office's devices
/// page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldBackOnDevice {
    pub record: uuid::Uuid,
    pub kind: RecordKind,
    /// "Visit to Agnes Smith, 2 Dec", or what kind of record it is when this device has none.
    #[serde(default)]
    pub what: String,
    /// The hub's reason, in plain words.
    pub reason: String,
    /// When the hub first heard the tablet holds it back.
    pub since: DateTime<Utc>,
    /// The office asked the tablet to discard it; it does so at its next sync.
    pub discard_asked: bool,
}

/// What one partner organisation was sent of an insight, where it stands and their answers, as
/// the idea screens show it (read from the device's `shared_items` projection).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedItemRow {
    pub id: String,
    pub insight_id: String,
    pub partner: PartnerOrg,
    /// Why it was shared: the partner sees this.
    pub purpose: String,
    pub shared_by: String,
    pub shared_at: DateTime<Utc>,
    /// Whether the person's details went with it (their consent covers this partner).
    pub identifies_person: bool,
    pub status: SharedStatus,
    /// The partner's answers, oldest first.
    pub responses: Vec<PartnerResponse>,
    /// The conversation with the partner, oldest first.
    #[serde(default)]
    pub messages: Vec<crate::ThreadMessage>,
    /// Who at the partner has taken it on.
    #[serde(default)]
    pub handled_by: Option<crate::Handling>,
    /// Set once the provider stopped sharing it.
    pub revoked: Option<Revocation>,
}

impl SharedItemRow {
    /// The newest answer, if the partner has answered.
    pub fn latest_response(&self) -> Option<&PartnerResponse> {
        self.responses.iter().max_by_key(|r| r.at)
    }
}
