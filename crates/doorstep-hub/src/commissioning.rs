//! Commissioners: what their agreements let them count, and the weekly counts published to them
//! (the counting rules are in `trends`).

use std::collections::BTreeSet;

use chrono::NaiveDate;
use doorstep_model::{PartnerKind, RecordKind, SoftSign};

use crate::doc_facts::DocFacts;
use crate::service::Hub;
use crate::sharing::{WebCaller, WebError};
use crate::storage::{Agreement, HubStorage, StorageError, WebRole};
use crate::trends::{self, Measure, TrendFact, Trends, WeekCounts};

impl<S: HubStorage> Hub<S> {
    /// The commissioner's page as of the hub's today (UK): weeks not yet published are counted
    /// now, from the providers and districts of the commissioner's agreements, and stored; every
    /// week is then shown as it was first published.
    pub async fn trends(&self, caller: &WebCaller) -> Result<Trends, WebError> {
        self.require(caller, WebRole::Commissioner, "trends").await?;
        let today = self.clock.today();
        let commissioner = caller.org.id;
        let agreements = self.storage.agreements_of(commissioner).await?;
        let mut scope = Vec::new();
        for a in &agreements {
            let name = self.storage.organisation(a.provider).await?.map_or_else(|| a.provider.to_string(), |o| o.name);
            scope.push((name, a.districts.clone()));
        }
        scope.sort();
        let countable = trends::countable_weeks(today);
        let published: BTreeSet<String> =
            self.storage.published_weeks(commissioner).await?.into_iter().map(|(week, _)| week).collect();
        let due: Vec<NaiveDate> = countable.iter().copied().filter(|w| !published.contains(&w.to_string())).collect();
        // No agreement, nothing counted: an empty week published now would stand for good.
        if !agreements.is_empty() && !due.is_empty() {
            let facts = self.trend_facts(&agreements).await?;
            let at = self.clock.now().timestamp_millis();
            for week in &due {
                let counts = trends::count_week(&facts, *week);
                let json = serde_json::to_string(&counts).map_err(|e| StorageError::Task(format!("counts: {e}")))?;
                self.storage.publish_week(commissioner, week.to_string(), json, at).await?;
            }
        }
        let first = countable.first().map(ToString::to_string).unwrap_or_default();
        let mut weeks = Vec::new();
        for (week, json) in self.storage.published_weeks(commissioner).await? {
            if week >= first {
                let counts: WeekCounts = serde_json::from_str(&json)
                    .map_err(|e| StorageError::Decode(format!("published week {week}: {e}")))?;
                weeks.push(counts);
            }
        }
        let detail = format!("{} weeks shown from {} agreements", weeks.len(), agreements.len());
        self.audit_web(caller.describe(), "trends", None, true, detail).await?;
        Ok(Trends { scope, weeks, next_count: Some(trends::next_count(today)) })
    }

    /// What the agreements cover, one fact per idea or note about a person in scope.
    async fn trend_facts(&self, agreements: &[Agreement]) -> Result<Vec<TrendFact>, StorageError> {
        let mut facts = Vec::new();
        for a in agreements {
            let mut areas = std::collections::HashMap::new();
            for row in self.storage.doc_facts(RecordKind::Person, Some(a.provider), None).await? {
                if let Some(DocFacts::Person(p)) = DocFacts::from_json(&row.facts) {
                    areas.insert(row.doc_id, p.area);
                }
            }
            for kind in [RecordKind::Insight, RecordKind::Note] {
                for row in self.storage.doc_facts(kind, Some(a.provider), None).await? {
                    let (person, day, measures) = match DocFacts::from_json(&row.facts) {
                        // An idea about no one in particular counts no one.
                        Some(DocFacts::Idea(i)) => {
                            let Some(person) = i.person else { continue };
                            let kinds = i.categories.iter().filter_map(|c| PartnerKind::from_code(c));
                            let measures = std::iter::once(Measure::Idea).chain(kinds.map(Measure::IdeaFor)).collect();
                            (person, i.day, measures)
                        }
                        Some(DocFacts::Note(n)) => {
                            let mut measures: Vec<Measure> =
                                n.soft_signs.iter().filter_map(|s| SoftSign::from_code(s)).map(Measure::Sign).collect();
                            if !measures.is_empty() {
                                measures.push(Measure::AnySign);
                            }
                            if n.news2.is_some_and(|score| score >= 5) {
                                measures.push(Measure::News2High);
                            }
                            (n.person, n.day, measures)
                        }
                        _ => continue,
                    };
                    let area = areas.get(&person).cloned().unwrap_or_default();
                    if measures.is_empty() || (!a.districts.is_empty() && !a.districts.contains(&area)) {
                        continue;
                    }
                    facts.push(TrendFact { provider: a.provider, person, area, day, measures });
                }
            }
        }
        Ok(facts)
    }
}
