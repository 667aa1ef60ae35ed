//! What carers' ideas led to: ideas → shared → action taken → outcomes, per provider, per partner
//! and per kind of idea, for commissioners (across their agreements) and a provider's managers
//! (their own provider).
//!
//! Every figure counts **people** (the people the ideas were about), with the commissioners'
//! small-number protection (`trends::publishable`: at least 5 people from at least 2 providers,
//! rounded to 5). A row that names a provider is about that one provider by design, so only its
//! people rule applies there. Outcomes are:
//! - **helped**: the office answered "did it help?" yes, 30 days after the action;
//! - **admission likely avoided**: the partner's own judgement when they answered;
//! - **A&E or admitted within 30 days of the action**: from outcomes carers recorded at visits.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Days, NaiveDate};
use doorstep_model::outcome::{FOLLOW_UP_AFTER_DAYS, HelpAnswer, OutcomeKind};
use doorstep_model::{PartnerKind, RecordKind};
use uuid::Uuid;

use crate::doc_facts::DocFacts;
use crate::service::Hub;
use crate::sharing::{WebCaller, WebError};
use crate::storage::{HubStorage, StorageError, WebRole};
use crate::trends::{MIN_PROVIDERS, publishable};

/// How far back ideas are counted, by the day they were raised.
pub const COUNTED_DAYS: u64 = 365;

/// One idea about a person in scope, with what came of it (nothing that names anyone: the
/// person's id only counts them once and never leaves the hub).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdeaJourney {
    pub provider: Uuid,
    pub person: Uuid,
    pub kinds: Vec<PartnerKind>,
    pub shares: Vec<ShareJourney>,
    pub helped: Option<HelpAnswer>,
    /// Days the person went to A&E or was admitted, from carers' recorded outcomes.
    pub hospital_days: Vec<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareJourney {
    pub partner: Uuid,
    pub action_day: Option<NaiveDate>,
    pub admission_likely_avoided: Option<bool>,
}

/// The steps counted, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    Raised,
    Shared,
    ActionTaken,
    Helped,
    AdmissionLikelyAvoided,
    HospitalAfterAction,
}

impl Stage {
    pub const ALL: [Stage; 6] = [
        Stage::Raised,
        Stage::Shared,
        Stage::ActionTaken,
        Stage::Helped,
        Stage::AdmissionLikelyAvoided,
        Stage::HospitalAfterAction,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Stage::Raised => "Ideas raised",
            Stage::Shared => "Shared with a partner",
            Stage::ActionTaken => "Partner took action",
            Stage::Helped => "Office said it helped",
            Stage::AdmissionLikelyAvoided => "Partner judged an admission likely avoided",
            Stage::HospitalAfterAction => "A&E or admitted within 30 days of the action",
        }
    }
}

/// One row: people at each stage, `None` when too few to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImpactRow {
    pub label: String,
    pub people: Vec<Option<u64>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Impact {
    pub since: Option<NaiveDate>,
    pub by_provider: Vec<ImpactRow>,
    pub by_partner: Vec<ImpactRow>,
    pub by_kind: Vec<ImpactRow>,
}

impl IdeaJourney {
    fn acted(&self, partner: Option<Uuid>) -> impl Iterator<Item = &ShareJourney> {
        self.shares.iter().filter(move |s| s.action_day.is_some() && partner.is_none_or(|p| s.partner == p))
    }

    /// Whether this idea reached `stage`, looking only at shares with `partner` when given.
    fn reached(&self, stage: Stage, partner: Option<Uuid>) -> bool {
        let shares = || self.shares.iter().filter(move |s| partner.is_none_or(|p| s.partner == p));
        match stage {
            Stage::Raised => true,
            Stage::Shared => shares().next().is_some(),
            Stage::ActionTaken => self.acted(partner).next().is_some(),
            Stage::Helped => self.helped == Some(HelpAnswer::Yes) && self.acted(partner).next().is_some(),
            Stage::AdmissionLikelyAvoided => self.acted(partner).any(|s| s.admission_likely_avoided == Some(true)),
            Stage::HospitalAfterAction => self.acted(partner).filter_map(|s| s.action_day).any(|acted| {
                let until = acted + Days::new(FOLLOW_UP_AFTER_DAYS);
                self.hospital_days.iter().any(|d| *d >= acted && *d <= until)
            }),
        }
    }
}

/// Counts people per stage for each group; `named_provider` rows skip the two-provider rule.
fn rows<K: Ord>(
    journeys: &[IdeaJourney],
    groups: impl Fn(&IdeaJourney) -> Vec<(K, Option<Uuid>)>,
    label: impl Fn(&K) -> String,
    named_provider: bool,
) -> Vec<ImpactRow> {
    type Cell = (BTreeSet<Uuid>, BTreeSet<Uuid>);
    let mut cells: BTreeMap<K, Vec<Cell>> = BTreeMap::new();
    for j in journeys {
        for (key, partner) in groups(j) {
            let row = cells.entry(key).or_insert_with(|| vec![Cell::default(); Stage::ALL.len()]);
            for (i, stage) in Stage::ALL.into_iter().enumerate() {
                if j.reached(stage, partner) {
                    row[i].0.insert(j.person);
                    row[i].1.insert(j.provider);
                }
            }
        }
    }
    cells
        .into_iter()
        .map(|(key, row)| ImpactRow {
            label: label(&key),
            people: row
                .iter()
                .map(|(people, providers)| {
                    let providers = if named_provider { MIN_PROVIDERS } else { providers.len() };
                    publishable(people.len(), providers)
                })
                .collect(),
        })
        .collect()
}

/// The three tables from the journeys; `names` gives provider and partner names by id.
pub fn count(journeys: &[IdeaJourney], names: &HashMap<Uuid, String>, since: NaiveDate) -> Impact {
    let name = |id: &Uuid| names.get(id).cloned().unwrap_or_else(|| "An organisation no longer on the hub".into());
    let by_provider = rows(journeys, |j| vec![(name(&j.provider), None)], Clone::clone, true);
    let by_partner = rows(
        journeys,
        |j| {
            j.shares
                .iter()
                .map(|s| s.partner)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .map(|p| (name(&p), Some(p)))
                .collect()
        },
        Clone::clone,
        false,
    );
    let by_kind =
        rows(journeys, |j| j.kinds.iter().map(|k| (k.label().to_string(), None)).collect(), Clone::clone, false);
    Impact { since: Some(since), by_provider, by_partner, by_kind }
}

impl<S: HubStorage> Hub<S> {
    /// What carers' ideas led to, over the last [`COUNTED_DAYS`]: across a commissioner's
    /// agreements, or a provider manager's own provider.
    pub async fn impact(&self, caller: &WebCaller) -> Result<Impact, WebError> {
        let scope: Vec<(Uuid, Vec<String>)> = match caller.user.role {
            WebRole::Commissioner => self
                .storage
                .agreements_of(caller.org.id)
                .await?
                .into_iter()
                .map(|a| (a.provider, a.districts))
                .collect(),
            WebRole::Manager => vec![(caller.org.id, Vec::new())],
            WebRole::Partner => {
                self.audit_web(
                    caller.describe(),
                    "impact",
                    None,
                    false,
                    "needs the commissioner or manager role".into(),
                )
                .await?;
                return Err(WebError::Forbidden);
            }
        };
        let since = self.clock.today() - Days::new(COUNTED_DAYS);
        let mut journeys = Vec::new();
        let mut names = HashMap::new();
        for (provider, districts) in &scope {
            if let Some(org) = self.storage.organisation(*provider).await? {
                names.insert(*provider, org.name);
            }
            journeys.extend(self.journeys_of(*provider, districts, since).await?);
        }
        for partner in journeys.iter().flat_map(|j| j.shares.iter().map(|s| s.partner)).collect::<BTreeSet<_>>() {
            if let Some(org) = self.storage.organisation(partner).await? {
                names.insert(partner, org.name);
            }
        }
        let detail = format!("{} ideas counted from {} providers", journeys.len(), scope.len());
        self.audit_web(caller.describe(), "impact", None, true, detail).await?;
        Ok(count(&journeys, &names, since))
    }

    /// One provider's ideas since `since` about people in `districts` (all when empty).
    async fn journeys_of(
        &self,
        provider: Uuid,
        districts: &[String],
        since: NaiveDate,
    ) -> Result<Vec<IdeaJourney>, StorageError> {
        let facts = |kind| self.storage.doc_facts(kind, Some(provider), None);
        let mut in_scope = BTreeSet::new();
        for row in facts(RecordKind::Person).await? {
            if let Some(DocFacts::Person(p)) = DocFacts::from_json(&row.facts)
                && (districts.is_empty() || districts.contains(&p.area))
            {
                in_scope.insert(row.doc_id);
            }
        }
        let mut hospital: HashMap<Uuid, Vec<NaiveDate>> = HashMap::new();
        for row in facts(RecordKind::Note).await? {
            if let Some(DocFacts::Note(n)) = DocFacts::from_json(&row.facts) {
                let days =
                    n.outcomes.iter().filter(|(kind, _)| OutcomeKind::from_code(kind).is_some_and(|k| k.is_hospital()));
                hospital.entry(n.person).or_default().extend(days.map(|(_, day)| *day));
            }
        }
        let mut shares: HashMap<Uuid, Vec<ShareJourney>> = HashMap::new();
        for row in facts(RecordKind::Shared).await? {
            if let Some(DocFacts::Shared(s)) = DocFacts::from_json(&row.facts)
                && let Some(insight) = s.insight
            {
                shares.entry(insight).or_default().push(ShareJourney {
                    partner: s.partner_org,
                    action_day: s.action_day,
                    admission_likely_avoided: s.admission_likely_avoided,
                });
            }
        }
        let mut journeys = Vec::new();
        for row in facts(RecordKind::Insight).await? {
            let Some(DocFacts::Idea(idea)) = DocFacts::from_json(&row.facts) else { continue };
            // An idea about no one in particular counts no one.
            let Some(person) = idea.person.filter(|p| in_scope.contains(p)) else { continue };
            if idea.day < since {
                continue;
            }
            journeys.push(IdeaJourney {
                provider,
                person,
                kinds: idea.categories.iter().filter_map(|c| PartnerKind::from_code(c)).collect(),
                shares: shares.remove(&row.doc_id).unwrap_or_default(),
                helped: idea.follow_up.as_deref().and_then(HelpAnswer::from_code),
                hospital_days: hospital.get(&person).cloned().unwrap_or_default(),
            });
        }
        Ok(journeys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(n: u64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 10, 1).unwrap() + Days::new(n)
    }

    const OT: Uuid = Uuid::from_u128(900);

    fn journey(provider: u128, person: u128, acted: bool, helped: bool, hospital: &[u64]) -> IdeaJourney {
        IdeaJourney {
            provider: Uuid::from_u128(provider),
            person: Uuid::from_u128(person),
            kinds: vec![PartnerKind::OtEquipment],
            shares: vec![ShareJourney {
                partner: OT,
                action_day: acted.then(|| day(0)),
                admission_likely_avoided: acted.then_some(true),
            }],
            helped: helped.then_some(HelpAnswer::Yes),
            hospital_days: hospital.iter().map(|n| day(*n)).collect(),
        }
    }

    fn names() -> HashMap<Uuid, String> {
        HashMap::from([
            (Uuid::from_u128(1), "Riverside Care".to_string()),
            (Uuid::from_u128(2), "Hillview Homecare".to_string()),
            (OT, "Community OT".to_string()),
        ])
    }

    #[test]
    fn each_stage_counts_people_from_two_providers_rounded() {
        // Seven people across two providers: all raised and shared, six acted on, five helped.
        let mut journeys: Vec<IdeaJourney> = (0..7).map(|i| journey(1 + i % 2, 10 + i, i < 6, i < 5, &[])).collect();
        // One person with two ideas is still one person.
        journeys.push(journey(1, 10, true, true, &[]));
        let impact = count(&journeys, &names(), day(0));
        let ot = impact.by_partner.iter().find(|r| r.label == "Community OT").expect("OT row");
        assert_eq!(ot.people, vec![Some(5), Some(5), Some(5), Some(5), Some(5), None]);
        let kind = &impact.by_kind[0];
        assert_eq!(kind.people[0], Some(5));
    }

    #[test]
    fn one_providers_people_are_shown_by_provider_but_not_alone_by_partner() {
        let journeys: Vec<IdeaJourney> = (0..6).map(|i| journey(1, 10 + i, true, false, &[])).collect();
        let impact = count(&journeys, &names(), day(0));
        assert_eq!(impact.by_provider[0].label, "Riverside Care");
        assert_eq!(impact.by_provider[0].people[2], Some(5), "six people acted on, shown rounded");
        assert!(impact.by_partner[0].people.iter().all(Option::is_none), "one provider's people never show by partner");
        let four: Vec<IdeaJourney> = (0..4).map(|i| journey(1, 10 + i, true, false, &[])).collect();
        assert!(count(&four, &names(), day(0)).by_provider[0].people.iter().all(Option::is_none));
    }

    #[test]
    fn hospital_counts_only_within_thirty_days_after_the_action() {
        let journeys: Vec<IdeaJourney> = (0..10)
            .map(|i| {
                // Five admitted 10 days after the action; five admitted before it or long after.
                let when: &[u64] = if i < 5 {
                    &[10]
                } else if i < 8 {
                    &[40]
                } else {
                    &[]
                };
                let mut j = journey(1 + i % 2, 10 + i, true, false, when);
                if i >= 8 {
                    j.shares[0].action_day = Some(day(5));
                    j.hospital_days = vec![day(2)];
                }
                j
            })
            .collect();
        let impact = count(&journeys, &names(), day(0));
        let hospital = Stage::ALL.iter().position(|s| *s == Stage::HospitalAfterAction).unwrap();
        assert_eq!(impact.by_partner[0].people[hospital], Some(5));
        let unreached: Vec<IdeaJourney> = journeys.into_iter().skip(5).collect();
        assert_eq!(count(&unreached, &names(), day(0)).by_partner[0].people[hospital], None);
    }
}
