//! What the hub notes about a document when it is written, for the partner pages: the shared
//! items a partner's inbox lists and filters, and the anonymised facts commissioners' counts are
//! made of (never free text). Kept as JSON in `doc_facts` (one row per document), so the pages never load
//! Automerge documents to list or count them.

use chrono::{DateTime, NaiveDate, Utc};
use doorstep_model::directory::postcode_district;
use doorstep_model::news2::{self, News2Assessment, ScoringContext};
use doorstep_model::outcome;
use doorstep_model::{Insight, Person, ResponseOutcome, SharedItem, VisitNote};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DocFacts {
    Shared(SharedFacts),
    Idea(IdeaFacts),
    Note(NoteFacts),
    Person(PersonFacts),
}

/// A row of a partner's inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedFacts {
    pub partner_org: Uuid,
    pub provider_name: String,
    /// `SharedKind::code`.
    pub kind: String,
    /// `Urgency::code`, and its rank for sorting (urgent first).
    pub urgency: String,
    pub urgency_rank: u8,
    /// `SharedStatus::code`.
    pub status: String,
    pub area: String,
    pub summary: String,
    /// Unix ms.
    pub shared_at: i64,
    pub answered_at: Option<i64>,
    /// The idea it was shared from: ideas → actions → outcomes joins on it.
    #[serde(default)]
    pub insight: Option<Uuid>,
    /// The UK day a partner first answered "action taken".
    #[serde(default)]
    pub action_day: Option<NaiveDate>,
    /// The partner's judgement that acting likely avoided an admission, where they gave one.
    #[serde(default)]
    pub admission_likely_avoided: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdeaFacts {
    pub person: Option<Uuid>,
    /// The UK day it was raised: commissioners' counts are weekly.
    pub day: NaiveDate,
    /// `PartnerKind` codes of who could act.
    pub categories: Vec<String>,
    /// The office's answer to "did it help?" (`HelpAnswer::code`), once given.
    #[serde(default)]
    pub follow_up: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteFacts {
    pub person: Uuid,
    /// The UK day the note was first written.
    pub day: NaiveDate,
    /// `SoftSign` codes of the signs that had changed from usual.
    pub soft_signs: Vec<String>,
    /// NEWS2 total where every reading was taken. Scored without the person's age or SpO2 scale
    /// (the note does not carry them), so it is a trend figure, not a clinical one.
    pub news2: Option<u8>,
    /// Outcomes carers recorded in the note, as (`OutcomeKind::code`, day it happened).
    #[serde(default)]
    pub outcomes: Vec<(String, NaiveDate)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonFacts {
    /// Postcode district only.
    pub area: String,
}

fn uk_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&chrono_tz::Europe::London).date_naive()
}

impl DocFacts {
    pub fn of_shared(item: &SharedItem) -> DocFacts {
        DocFacts::Shared(SharedFacts {
            partner_org: item.partner.id,
            provider_name: item.provider.name.clone(),
            kind: item.kind.code().into(),
            urgency: item.urgency.code().into(),
            urgency_rank: item.urgency as u8,
            status: item.status().code().into(),
            area: item.area.clone(),
            summary: item.summary.clone(),
            shared_at: item.shared_at.timestamp_millis(),
            answered_at: item.latest_response().map(|r| r.at.timestamp_millis()),
            insight: Some(item.insight_id.0),
            action_day: item
                .responses
                .iter()
                .filter(|r| r.outcome == ResponseOutcome::ActionTaken)
                .map(|r| uk_day(r.at))
                .min(),
            admission_likely_avoided: outcome::admission_likely_avoided(item),
        })
    }

    pub fn of_insight(insight: &Insight) -> DocFacts {
        DocFacts::Idea(IdeaFacts {
            person: insight.person_id.map(|p| p.0),
            day: uk_day(insight.created_at),
            categories: insight.who_could_act.iter().map(|k| k.code().to_string()).collect(),
            follow_up: insight.follow_up.as_ref().map(|f| f.answer.code().to_string()),
        })
    }

    /// `None` for a note nobody has written in yet.
    pub fn of_note(note: &VisitNote) -> Option<DocFacts> {
        let first = note.authors.iter().map(|a| a.first_edit).min()?;
        let news2 = note.vitals.as_ref().and_then(|v| match news2::assess(v, &ScoringContext::default()) {
            Ok(News2Assessment::Scored(score)) => Some(score.total),
            _ => None,
        });
        Some(DocFacts::Note(NoteFacts {
            person: note.person_id.0,
            day: uk_day(first),
            soft_signs: note.changes().map(|s| s.sign.code().to_string()).collect(),
            news2,
            outcomes: note.outcomes.iter().map(|o| (o.kind.code().to_string(), o.day)).collect(),
        }))
    }

    pub fn of_person(person: &Person) -> DocFacts {
        DocFacts::Person(PersonFacts { area: postcode_district(&person.address.postcode).unwrap_or_default() })
    }

    pub fn to_json(&self) -> String {
        // Serialising plain structs of strings and numbers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(json: &str) -> Option<DocFacts> {
        serde_json::from_str(json).ok()
    }
}
