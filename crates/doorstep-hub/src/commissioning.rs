//! Commissioners: what their agreements let them count, and the weekly counts published to them
//! (the counting rules are in `trends`).

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use doorstep_model::{PartnerKind, RecordKind, SoftSign};
use uuid::Uuid;

use crate::doc_facts::DocFacts;
use crate::service::Hub;
use crate::sharing::{WebCaller, WebError};
use crate::storage::{Agreement, FeedRelease, HubStorage, StorageError, WebRole};
use crate::trends::{self, Measure, TrendFact, Trends, Waiting, WeekCounts};

/// A provider's manager's feed page: see [`Hub::feed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed {
    /// The commissioners whose agreements name the provider.
    pub commissioners: Vec<String>,
    /// The districts those agreements count (empty: all the provider's people).
    pub districts: Vec<String>,
    /// Weeks not released yet, newest first, at most [`trends::FEED_WEEKS_SHOWN`].
    pub weeks: Vec<FeedWeek>,
    /// Weeks released, newest first.
    pub released: Vec<FeedRelease>,
}

/// One week the manager may release, with their provider's own people in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedWeek {
    pub week: NaiveDate,
    /// When it is published without this provider's figures if not released.
    pub deadline: NaiveDate,
    /// (measure, district or "All areas", people): exact, before other providers are added.
    pub rows: Vec<(Measure, String, usize)>,
}

impl<S: HubStorage> Hub<S> {
    /// The commissioner's page as of the hub's today (UK): weeks not yet published are counted
    /// now from the facts of the providers that released them (`/feed`), within the districts of
    /// the commissioner's agreements, and stored — once every provider of the agreements has
    /// released the week, or after [`trends::RELEASE_DEADLINE_DAYS`] with whatever was released.
    /// Every week is then shown as it was first published.
    pub async fn trends(&self, caller: &WebCaller) -> Result<Trends, WebError> {
        self.require(caller, WebRole::Commissioner, "trends").await?;
        let today = self.clock.today();
        let commissioner = caller.org.id;
        let agreements = self.storage.agreements_of(commissioner).await?;
        let mut scope = Vec::new();
        let mut released: HashMap<Uuid, BTreeSet<String>> = HashMap::new();
        for a in &agreements {
            let name = self.storage.organisation(a.provider).await?.map_or_else(|| a.provider.to_string(), |o| o.name);
            scope.push((name, a.districts.clone()));
            let weeks = self.storage.releases_of(a.provider).await?.into_iter().map(|r| r.week).collect();
            released.insert(a.provider, weeks);
        }
        scope.sort();
        let countable = trends::countable_weeks(today);
        let published: BTreeSet<String> =
            self.storage.published_weeks(commissioner).await?.into_iter().map(|(week, _)| week).collect();
        let mut waiting = Vec::new();
        let mut ready = Vec::new();
        for week in countable.iter().copied().filter(|w| !published.contains(&w.to_string())) {
            let from: BTreeSet<Uuid> =
                released.iter().filter(|(_, weeks)| weeks.contains(&week.to_string())).map(|(p, _)| *p).collect();
            let deadline = trends::release_deadline(week);
            if from.len() == agreements.len() || today >= deadline {
                ready.push((week, from));
            } else {
                let waiting_for = agreements.len() - from.len();
                waiting.push(Waiting { week, waiting_for, providers: agreements.len(), deadline });
            }
        }
        // No agreement, nothing counted: an empty week published now would stand for good.
        if !agreements.is_empty() && !ready.is_empty() {
            let facts = self.trend_facts(&agreements).await?;
            let at = self.clock.now().timestamp_millis();
            for (week, from) in &ready {
                // Only what each provider's manager released goes into the week.
                let theirs: Vec<TrendFact> = facts.iter().filter(|f| from.contains(&f.provider)).cloned().collect();
                let counts = trends::count_week(&theirs, *week);
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
        let detail = format!(
            "{} weeks shown from {} agreements; {} waiting for release",
            weeks.len(),
            agreements.len(),
            waiting.len()
        );
        self.audit_web(caller.describe(), "trends", None, true, detail).await?;
        Ok(Trends { scope, weeks, next_count: Some(trends::next_count(today)), waiting })
    }

    /// A provider's manager's feed page: the weeks they may release, each with their own
    /// provider's people as they would be counted, where the figures go, and what was released.
    pub async fn feed(&self, caller: &WebCaller) -> Result<Feed, WebError> {
        self.require(caller, WebRole::Manager, "feed").await?;
        let provider = caller.org.id;
        let today = self.clock.today();
        let agreements = self.storage.agreements_with(provider).await?;
        let mut commissioners = Vec::new();
        for a in &agreements {
            let name =
                self.storage.organisation(a.commissioner).await?.map_or_else(|| a.commissioner.to_string(), |o| o.name);
            commissioners.push(name);
        }
        commissioners.sort();
        let mut released = self.storage.releases_of(provider).await?;
        released.reverse();
        let done: BTreeSet<&str> = released.iter().map(|r| r.week.as_str()).collect();
        let open: Vec<NaiveDate> = trends::countable_weeks(today)
            .into_iter()
            .rev()
            .filter(|w| !done.contains(w.to_string().as_str()) && today < trends::release_deadline(*w))
            .take(trends::FEED_WEEKS_SHOWN)
            .collect();
        // What the agreements would count: the districts they name, or every person when one
        // takes all (or when there is no agreement yet, so the manager still sees their figures).
        let districts = if agreements.iter().any(|a| a.districts.is_empty()) {
            vec![]
        } else {
            agreements.iter().flat_map(|a| a.districts.clone()).collect::<BTreeSet<_>>().into_iter().collect()
        };
        let own = Agreement { commissioner: Uuid::nil(), provider, districts: districts.clone(), created_at: 0 };
        let facts = if open.is_empty() { vec![] } else { self.trend_facts(std::slice::from_ref(&own)).await? };
        let weeks = open
            .into_iter()
            .map(|week| FeedWeek {
                week,
                deadline: trends::release_deadline(week),
                rows: trends::own_counts(&facts, week),
            })
            .collect::<Vec<_>>();
        let detail = format!("{} weeks to release, {} released", weeks.len(), released.len());
        self.audit_web(caller.describe(), "feed", None, true, detail).await?;
        Ok(Feed { commissioners, districts, weeks, released })
    }

    /// A manager releases their provider's week to the commissioners of its agreements. The
    /// provider is the manager's own whatever the form says: another provider's week is refused
    /// and audited.
    pub async fn release_week(&self, caller: &WebCaller, provider: &str, week: &str) -> Result<(), WebError> {
        self.require(caller, WebRole::Manager, "release_feed").await?;
        if Uuid::parse_str(provider.trim()).ok() != Some(caller.org.id) {
            let detail = format!("week {week} of provider {provider}: not the manager's own provider");
            self.audit_web(caller.describe(), "release_feed", None, false, detail).await?;
            return Err(WebError::Forbidden);
        }
        let countable = trends::countable_weeks(self.clock.today());
        let Some(week) = NaiveDate::parse_from_str(week.trim(), "%Y-%m-%d").ok().filter(|w| countable.contains(w))
        else {
            return Err(WebError::Invalid("That week cannot be released: it has not been counted yet, or is too old. Go back and reload the page.".into()));
        };
        let release = FeedRelease {
            provider: caller.org.id,
            week: week.to_string(),
            released_by: format!("{} ({})", caller.user.name, caller.user.email),
            released_at: self.clock.now().timestamp_millis(),
        };
        self.storage.release_week(release).await?;
        self.audit_web(caller.describe(), "release_feed", None, true, format!("week beginning {week}")).await?;
        Ok(())
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
