//! What a partner organisation receives when a provider shares an idea: a separate document
//! holding only the fields chosen for that partner (minimum necessary), the purpose and consent
//! basis it was shared under, and the partner's responses. The provider's own insight, notes and
//! person records never leave the provider; this is the only thing a partner can read.

use crate::ids::{InsightId, SharedItemId, StaffId};
use crate::insight::{ConsentBasis, Insight, InsightStatus, PartnerKind, PartnerOrg, Urgency};
use crate::news2::{self, News2Assessment, ScoringContext, SpO2Scale, VitalSigns};
use crate::nhs_number::NhsNumber;
use crate::note::{SoftSignObservation, VisitNote};
use crate::person::Person;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct SharedItem {
    pub id: SharedItemId,
    /// The provider's insight this was made from (an id only: the insight stays internal).
    pub insight_id: InsightId,
    pub provider: ProviderRef,
    pub partner: PartnerOrg,
    /// The care worker who raised it, by the provider's staff reference: they hear the answer.
    pub raised_by: StaffId,
    /// The manager who shared it.
    pub shared_by: String,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::timestamp"))]
    pub shared_at: DateTime<Utc>,
    /// Why the partner is told: "So the OT can assess for a grab rail".
    pub purpose: String,
    pub consent_basis: ConsentBasis,
    pub kind: SharedKind,
    pub urgency: Urgency,
    pub summary: String,
    pub detail: String,
    pub suggested_action: String,
    pub who_could_act: Vec<PartnerKind>,
    /// The postcode district ("LS6"): where, for filters and trends, without saying who.
    pub area: String,
    /// Who the person is: present only where their recorded consent covers this partner.
    pub person: Option<SharedPerson>,
    /// The latest soft signs and vital signs, where the manager chose to include them (and only
    /// with an identified person).
    pub observations: Option<SharedObservations>,
    pub responses: Vec<PartnerResponse>,
    /// The conversation about the item between the partner and the provider's people (the
    /// care worker who raised it and the office), oldest first.
    #[cfg_attr(feature = "automerge", autosurgeon(missing = "Vec::new"))]
    #[serde(default)]
    pub messages: Vec<ThreadMessage>,
    /// Who at the partner has taken it on.
    #[cfg_attr(feature = "automerge", autosurgeon(missing = "Option::default"))]
    #[serde(default)]
    pub handled_by: Option<Handling>,
    /// Why it went to a partner that does not cover the person's district (see
    /// [`crate::routing`]); empty when it does.
    #[cfg_attr(feature = "automerge", autosurgeon(missing = "String::new"))]
    #[serde(default)]
    pub out_of_area_reason: String,
    /// Set when the provider stops sharing: the partner loses access.
    pub revoked: Option<Revocation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct ProviderRef {
    pub id: Uuid,
    pub name: String,
}

/// An idea suggests something to do; an observation reports what a carer saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub enum SharedKind {
    Idea,
    Observation,
}

impl SharedKind {
    pub const ALL: [SharedKind; 2] = [SharedKind::Idea, SharedKind::Observation];

    pub fn code(self) -> &'static str {
        match self {
            SharedKind::Idea => "idea",
            SharedKind::Observation => "observation",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SharedKind::Idea => "Request to act",
            SharedKind::Observation => "Something a care worker noticed",
        }
    }

    pub fn from_code(code: &str) -> Option<SharedKind> {
        SharedKind::ALL.into_iter().find(|k| k.code() == code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct SharedPerson {
    pub name: String,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::optional_date"))]
    pub date_of_birth: Option<NaiveDate>,
    pub nhs_number: Option<NhsNumber>,
    pub postcode: String,
    pub gp_practice: String,
    pub what_matters_to_me: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct SharedObservations {
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::timestamp"))]
    pub observed_at: DateTime<Utc>,
    /// Only the signs that had changed from what is usual for the person.
    pub soft_signs: Vec<SoftSignObservation>,
    pub vitals: Option<VitalSigns>,
    pub spo2_scale: SpO2Scale,
    pub age_years: Option<u32>,
    pub pregnant: bool,
}

impl SharedObservations {
    /// NEWS2 for the shared vital signs, scored the same way the carer's tablet scored them.
    pub fn news2(&self) -> Option<News2Assessment> {
        let ctx = ScoringContext { age_years: self.age_years, pregnant: self.pregnant, spo2_scale: self.spo2_scale };
        self.vitals.as_ref().and_then(|v| news2::assess(v, &ctx).ok())
    }
}

/// Which side of the conversation a message came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub enum ThreadSide {
    Partner,
    Provider,
}

/// One message in an item's conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct ThreadMessage {
    /// Unique within the item, so two messages written at once both survive a merge.
    #[cfg_attr(feature = "automerge", key)]
    pub key: String,
    pub side: ThreadSide,
    /// Who wrote it, as they sign: "Ola Adeyemi", "Sam Taylor (C001)".
    pub by: String,
    /// The provider's staff reference of its writer (empty from a partner): the write policy
    /// checks it is the writer's own.
    pub staff: String,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::timestamp"))]
    pub at: DateTime<Utc>,
    pub text: String,
}

/// A partner's "being handled by".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct Handling {
    pub by: String,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::timestamp"))]
    pub at: DateTime<Utc>,
}

/// A partner's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct PartnerResponse {
    /// Unique within the item, so two answers written at once both survive a merge.
    #[cfg_attr(feature = "automerge", key)]
    pub key: String,
    pub outcome: ResponseOutcome,
    pub message: String,
    /// The partner user's name, as they would sign a letter.
    pub by: String,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::timestamp"))]
    pub at: DateTime<Utc>,
    /// The partner's own judgement, where they give one, that acting avoided a likely admission.
    #[serde(default)]
    #[cfg_attr(feature = "automerge", autosurgeon(missing = "Option::default"))]
    pub admission_likely_avoided: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub enum ResponseOutcome {
    Acknowledged,
    ActionTaken,
    ReferredOn,
    Declined,
}

impl ResponseOutcome {
    pub const ALL: [ResponseOutcome; 4] = [
        ResponseOutcome::Acknowledged,
        ResponseOutcome::ActionTaken,
        ResponseOutcome::ReferredOn,
        ResponseOutcome::Declined,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ResponseOutcome::Acknowledged => "acknowledged",
            ResponseOutcome::ActionTaken => "action_taken",
            ResponseOutcome::ReferredOn => "referred_on",
            ResponseOutcome::Declined => "declined",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ResponseOutcome::Acknowledged => "Acknowledged",
            ResponseOutcome::ActionTaken => "Action taken",
            ResponseOutcome::ReferredOn => "Referred on",
            ResponseOutcome::Declined => "Declined",
        }
    }

    pub fn from_code(code: &str) -> Option<ResponseOutcome> {
        ResponseOutcome::ALL.into_iter().find(|o| o.code() == code)
    }

    /// Where the provider's insight moves when a partner answers this way.
    pub fn insight_status(self, partner: &str, message: &str) -> InsightStatus {
        match self {
            ResponseOutcome::Acknowledged => InsightStatus::Acknowledged,
            ResponseOutcome::ActionTaken | ResponseOutcome::ReferredOn => InsightStatus::Actioned,
            ResponseOutcome::Declined => InsightStatus::Declined { reason: format!("{partner}: {message}") },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "automerge", derive(autosurgeon::Reconcile, autosurgeon::Hydrate))]
pub struct Revocation {
    pub by: String,
    #[cfg_attr(feature = "automerge", autosurgeon(with = "crate::am::timestamp"))]
    pub at: DateTime<Utc>,
}

/// Where a shared item stands, from the partner's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SharedStatus {
    /// Shared, no answer yet.
    New,
    Answered(ResponseOutcome),
    Revoked,
}

impl SharedStatus {
    pub const FILTERS: [SharedStatus; 5] = [
        SharedStatus::New,
        SharedStatus::Answered(ResponseOutcome::Acknowledged),
        SharedStatus::Answered(ResponseOutcome::ActionTaken),
        SharedStatus::Answered(ResponseOutcome::ReferredOn),
        SharedStatus::Answered(ResponseOutcome::Declined),
    ];

    pub fn code(self) -> &'static str {
        match self {
            SharedStatus::New => "new",
            SharedStatus::Answered(o) => o.code(),
            SharedStatus::Revoked => "revoked",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SharedStatus::New => "New",
            SharedStatus::Answered(o) => o.label(),
            SharedStatus::Revoked => "No longer shared",
        }
    }

    pub fn from_code(code: &str) -> Option<SharedStatus> {
        match code {
            "new" => Some(SharedStatus::New),
            "revoked" => Some(SharedStatus::Revoked),
            other => ResponseOutcome::from_code(other).map(SharedStatus::Answered),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SharedError {
    #[error("A shared item needs a summary.")]
    EmptySummary,
    #[error("Say why it is being shared: the partner sees this purpose.")]
    NoPurpose,
    #[error("The person's details may only go with a recorded consent or best-interests decision.")]
    PersonWithoutConsent,
    #[error("Observations may only go with a person whose consent covers this partner.")]
    ObservationsWithoutPerson,
    #[error("Declining needs a reason, so the care worker knows why.")]
    DeclineWithoutReason,
    #[error("This item is no longer shared with you.")]
    Revoked,
    #[error("A message can be at most {max} characters.")]
    TooLong { max: usize },
    #[error("Write a message first.")]
    EmptyMessage,
    #[error("The reason for sharing out of area can be at most {} characters.", crate::routing::MAX_REASON_CHARS)]
    ReasonTooLong,
}

/// The longest response message accepted.
pub const MAX_MESSAGE_CHARS: usize = 4000;

/// What the manager chose to send with a share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShareChoices {
    /// Add the latest visit's changed soft signs and vital signs (with NEWS2).
    pub include_observations: bool,
}

impl SharedItem {
    /// Builds what one partner receives from an insight. The person's identifiers go only where
    /// the insight is about a person, its consent basis allows it and their recorded consent
    /// covers this kind of partner; otherwise the partner learns only the area.
    #[allow(clippy::too_many_arguments)]
    pub fn from_insight(
        id: SharedItemId,
        insight: &Insight,
        provider: ProviderRef,
        partner: PartnerOrg,
        purpose: &str,
        shared_by: &str,
        at: DateTime<Utc>,
        person: Option<&Person>,
        latest_note: Option<(&VisitNote, DateTime<Utc>)>,
        choices: ShareChoices,
    ) -> SharedItem {
        let consented = matches!(insight.consent_basis, ConsentBasis::PersonConsented | ConsentBasis::BestInterests);
        let identified = person.filter(|p| consented && p.consent.allows(partner.kind.sector()));
        // Observations go only with an identified person: soft signs, an age and an area together
        // could point at someone who was not meant to be named.
        let observations = match (choices.include_observations, latest_note, identified) {
            (true, Some((note, observed_at)), Some(p)) => Some(SharedObservations {
                observed_at,
                soft_signs: note.changes().cloned().collect(),
                vitals: note.vitals.clone().filter(|v| !v.is_empty()),
                spo2_scale: p.spo2_scale,
                age_years: p.age_on(crate::note::uk_day(observed_at)),
                pregnant: p.pregnant,
            }),
            _ => None,
        };
        SharedItem {
            id,
            insight_id: insight.id,
            provider,
            partner,
            raised_by: insight.author.clone(),
            shared_by: shared_by.to_string(),
            shared_at: at,
            purpose: purpose.trim().to_string(),
            consent_basis: insight.consent_basis,
            kind: if insight.suggested_action.trim().is_empty() { SharedKind::Observation } else { SharedKind::Idea },
            urgency: insight.urgency,
            summary: insight.summary.clone(),
            detail: insight.detail.clone(),
            suggested_action: insight.suggested_action.clone(),
            who_could_act: insight.who_could_act.clone(),
            area: person.and_then(|p| crate::directory::postcode_district(&p.address.postcode)).unwrap_or_default(),
            person: identified.map(|p| SharedPerson {
                name: p.name.display(),
                date_of_birth: p.date_of_birth,
                nhs_number: p.nhs_number.clone(),
                postcode: p.address.postcode.trim().to_uppercase(),
                gp_practice: p.gp_practice.clone(),
                what_matters_to_me: p.what_matters_to_me.clone(),
            }),
            observations,
            responses: Vec::new(),
            messages: Vec::new(),
            handled_by: None,
            out_of_area_reason: String::new(),
            revoked: None,
        }
    }

    /// Adds a message to the conversation, trimmed; refused once sharing stopped, when empty or
    /// too long.
    pub fn post(&mut self, message: ThreadMessage) -> Result<(), SharedError> {
        if self.revoked.is_some() {
            return Err(SharedError::Revoked);
        }
        let text = message.text.trim().to_string();
        if text.is_empty() {
            return Err(SharedError::EmptyMessage);
        }
        if text.chars().count() > MAX_MESSAGE_CHARS {
            return Err(SharedError::TooLong { max: MAX_MESSAGE_CHARS });
        }
        self.messages.push(ThreadMessage { text, ..message });
        Ok(())
    }

    /// Whether `later` keeps every message this item holds, word for word.
    pub fn messages_kept_in(&self, later: &SharedItem) -> bool {
        self.messages.iter().all(|m| later.messages.contains(m))
    }

    /// The messages `later` holds that this item does not.
    pub fn new_messages_in<'a>(&self, later: &'a SharedItem) -> impl Iterator<Item = &'a ThreadMessage> {
        later.messages.iter().filter(|m| !self.messages.contains(m))
    }

    /// When the partner's answer is due ([`crate::routing::respond_by`]).
    pub fn respond_by(&self) -> DateTime<Utc> {
        crate::routing::respond_by(self.urgency, self.shared_at)
    }

    /// Still shared, no answer yet, and past the time one was due: someone should chase it.
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        self.revoked.is_none() && self.responses.is_empty() && now > self.respond_by()
    }

    pub fn validate(&self) -> Result<(), SharedError> {
        if self.summary.trim().is_empty() {
            return Err(SharedError::EmptySummary);
        }
        if self.purpose.trim().is_empty() {
            return Err(SharedError::NoPurpose);
        }
        if self.person.is_some()
            && !matches!(self.consent_basis, ConsentBasis::PersonConsented | ConsentBasis::BestInterests)
        {
            return Err(SharedError::PersonWithoutConsent);
        }
        if self.observations.is_some() && self.person.is_none() {
            return Err(SharedError::ObservationsWithoutPerson);
        }
        if self.out_of_area_reason.chars().count() > crate::routing::MAX_REASON_CHARS {
            return Err(SharedError::ReasonTooLong);
        }
        Ok(())
    }

    /// Whether `later` keeps every answer this item holds, word for word: a partner's signed
    /// answer is theirs, and the provider may not rewrite or remove it.
    pub fn answers_kept_in(&self, later: &SharedItem) -> bool {
        self.responses.iter().all(|r| later.responses.contains(r))
    }

    pub fn status(&self) -> SharedStatus {
        if self.revoked.is_some() {
            return SharedStatus::Revoked;
        }
        self.latest_response().map_or(SharedStatus::New, |r| SharedStatus::Answered(r.outcome))
    }

    pub fn latest_response(&self) -> Option<&PartnerResponse> {
        self.responses.iter().max_by_key(|r| r.at)
    }

    /// Records a partner's answer.
    pub fn respond(&mut self, response: PartnerResponse) -> Result<(), SharedError> {
        if self.revoked.is_some() {
            return Err(SharedError::Revoked);
        }
        if response.message.chars().count() > MAX_MESSAGE_CHARS {
            return Err(SharedError::TooLong { max: MAX_MESSAGE_CHARS });
        }
        if response.outcome == ResponseOutcome::Declined && response.message.trim().is_empty() {
            return Err(SharedError::DeclineWithoutReason);
        }
        self.responses.push(PartnerResponse { message: response.message.trim().to_string(), ..response });
        Ok(())
    }

    /// Stops sharing; the partner's access ends at the hub.
    pub fn revoke(&mut self, by: &str, at: DateTime<Utc>) {
        if self.revoked.is_none() {
            self.revoked = Some(Revocation { by: by.to_string(), at });
        }
    }

    /// The item as SBARD, the handover language partners and care staff share. Decision is the
    /// partner's to write (their response).
    pub fn sbard(&self) -> SharedSbard {
        let mut situation = format!("{} ({}).", self.summary.trim(), self.urgency.label().to_lowercase());
        if let Some(p) = &self.person {
            situation = format!("About {}: {situation}", p.name);
        }
        let mut background = Vec::new();
        if !self.detail.trim().is_empty() {
            background.push(self.detail.trim().to_string());
        }
        if let Some(p) = &self.person
            && !p.what_matters_to_me.trim().is_empty()
        {
            background.push(format!("What matters to them: {}", p.what_matters_to_me.trim()));
        }
        let mut assessment = Vec::new();
        if let Some(obs) = &self.observations {
            let signs: Vec<String> = obs
                .soft_signs
                .iter()
                .map(|s| format!("{} ({})", s.sign.label(), s.compared_to_usual.label().to_lowercase()))
                .collect();
            if !signs.is_empty() {
                assessment.push(format!("Soft signs noticed: {}.", signs.join(", ")));
            }
            if let Some(news2) = obs.news2() {
                assessment.push(format!("{}.", news2.summary()));
            }
        }
        let mut recommendation = Vec::new();
        if !self.suggested_action.trim().is_empty() {
            recommendation.push(self.suggested_action.trim().to_string());
        }
        if !self.who_could_act.is_empty() {
            let who: Vec<&str> = self.who_could_act.iter().map(|k| k.label()).collect();
            recommendation.push(format!("Who could act: {}.", who.join(", ")));
        }
        SharedSbard {
            situation,
            background: background.join("\n"),
            assessment: assessment.join(" "),
            recommendation: recommendation.join("\n"),
        }
    }
}

/// The first four parts of SBARD for a shared item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedSbard {
    pub situation: String,
    pub background: String,
    pub assessment: String,
    pub recommendation: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::PersonId;
    use crate::insight::InsightStatus;
    use crate::person::ConsentRecord;

    fn insight(basis: ConsentBasis) -> Insight {
        Insight {
            follow_up: None,
            id: InsightId(Uuid::nil()),
            person_id: Some(PersonId(Uuid::nil())),
            author: StaffId::new("C1"),
            created_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
            summary: "Grab rail by the back door".into(),
            detail: "Nearly fell twice this week".into(),
            suggested_action: "OT assessment".into(),
            who_could_act: vec![PartnerKind::OtEquipment],
            urgency: Urgency::Soon,
            consent_basis: basis,
            status: InsightStatus::Reviewed,
            comments: vec![],
            shares: vec![],
        }
    }

    fn person(council: bool) -> Person {
        let mut p = Person::new(PersonId(Uuid::nil()), "P1", "Margaret", "Jones");
        p.address.postcode = "ls6 3ab".into();
        p.consent.council = Some(ConsentRecord {
            given: council,
            recorded_by: StaffId::new("M1"),
            recorded_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
            note: String::new(),
        });
        p
    }

    fn share(basis: ConsentBasis, p: &Person) -> SharedItem {
        let partner =
            PartnerOrg { id: Uuid::nil(), name: "Leeds ASC".into(), kind: PartnerKind::CouncilAdultSocialCare };
        SharedItem::from_insight(
            SharedItemId(Uuid::nil()),
            &insight(basis),
            ProviderRef { id: Uuid::nil(), name: "Sunrise Care".into() },
            partner,
            " OT to assess ",
            "M1",
            DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
            Some(p),
            None,
            ShareChoices::default(),
        )
    }

    #[test]
    fn the_person_goes_only_where_their_consent_covers_the_partner() {
        let with = share(ConsentBasis::PersonConsented, &person(true));
        assert_eq!(with.person.as_ref().map(|p| p.name.as_str()), Some("Margaret Jones"));
        assert_eq!(with.area, "LS6");
        assert_eq!(with.purpose, "OT to assess");
        let refused = share(ConsentBasis::PersonConsented, &person(false));
        assert_eq!(refused.person, None);
        assert_eq!(refused.area, "LS6");
        let anonymous = share(ConsentBasis::NotIdentifiable, &person(true));
        assert_eq!(anonymous.person, None);
        assert_eq!(anonymous.validate(), Ok(()));
    }

    #[test]
    fn responses_move_the_status_and_declining_needs_a_reason() {
        let mut item = share(ConsentBasis::PersonConsented, &person(true));
        assert_eq!(item.status(), SharedStatus::New);
        let at = DateTime::from_timestamp(1_700_000_100, 0).unwrap_or_default();
        let answer = |outcome, message: &str| PartnerResponse {
            admission_likely_avoided: None,
            key: message.into(),
            outcome,
            message: message.into(),
            by: "Sam OT".into(),
            at,
        };
        assert_eq!(item.respond(answer(ResponseOutcome::Declined, " ")), Err(SharedError::DeclineWithoutReason));
        item.respond(answer(ResponseOutcome::ActionTaken, "OT visit booked Tuesday")).unwrap_or_default();
        assert_eq!(item.status(), SharedStatus::Answered(ResponseOutcome::ActionTaken));
        item.revoke("M1", at);
        assert_eq!(item.status(), SharedStatus::Revoked);
        assert_eq!(item.respond(answer(ResponseOutcome::Acknowledged, "ok")), Err(SharedError::Revoked));
    }

    #[test]
    fn the_age_shared_is_on_the_uk_day_the_person_was_seen() {
        // Born 1 July 1940; seen at 00:30 BST on 1 July 2026, which is still 30 June in UTC.
        let mut p = person(true);
        p.date_of_birth = chrono::NaiveDate::from_ymd_opt(1940, 7, 1);
        let observed_at = DateTime::parse_from_rfc3339("2026-06-30T23:30:00Z").map(|t| t.to_utc()).unwrap_or_default();
        let note = crate::note::VisitNote::new(
            crate::ids::NoteId(Uuid::nil()),
            crate::ids::VisitId(Uuid::nil()),
            PersonId(Uuid::nil()),
        );
        let item = SharedItem::from_insight(
            SharedItemId(Uuid::nil()),
            &insight(ConsentBasis::PersonConsented),
            ProviderRef { id: Uuid::nil(), name: "Sunrise Care".into() },
            PartnerOrg { id: Uuid::nil(), name: "Leeds ASC".into(), kind: PartnerKind::CouncilAdultSocialCare },
            "OT to assess",
            "M1",
            observed_at,
            Some(&p),
            Some((&note, observed_at)),
            ShareChoices { include_observations: true },
        );
        assert_eq!(item.observations.map(|o| o.age_years), Some(Some(86)), "their birthday, in the UK");
    }

    #[test]
    fn sbard_reads_as_a_handover() {
        let s = share(ConsentBasis::PersonConsented, &person(true)).sbard();
        assert_eq!(s.situation, "About Margaret Jones: Grab rail by the back door (soon: within days).");
        assert!(s.recommendation.contains("OT assessment"));
    }
}
