//! What a carer's devices hold: the people on their rota (a window around today), and what
//! leaves the devices when a person leaves it (shared items at once, the carer's own ideas
//! after a grace period).

use std::collections::{BTreeMap, BTreeSet};

use automerge::AutoCommit;
use chrono::{Duration, Utc};
use doorstep_model::{Insight, RecordKind, SharedItem};
use uuid::Uuid;

use super::{Caller, Hub, ServiceError, carer_principal, load_strict};
use crate::doc_facts::DocFacts;
use crate::storage::{AuditEntry, HubStorage};

/// A carer's device holds the people they visit from this many days ago…
pub const ROTA_DAYS_BEFORE: i64 = 14;

/// …to this many days ahead.
pub const ROTA_DAYS_AFTER: i64 = 7;

/// A carer's own ideas about a person stay on their devices this many days after the person
/// leaves their rota (the hub takes the person off the carer's devices), then go: long enough
/// that a fortnight's cover, holiday or sickness does not take a carer's ideas and the replies
/// to them away and send them back again; short enough that what a carer wrote about someone
/// they no longer visit does not stay with them. Shared items (which can carry the person's name,
/// date of birth, NHS number and postcode) have no grace period: they go with the person.
pub const IDEA_GRACE_DAYS: i64 = 14;

impl<S: HubStorage> Hub<S> {
    /// The people on a carer's rota: those they visit in the window around today.
    async fn on_rota(&self, org: Uuid, staff: &str) -> Result<BTreeSet<Uuid>, ServiceError> {
        let today = self.clock.today();
        Ok(self
            .storage
            .people_on_rota(
                org,
                staff.to_string(),
                (today - Duration::days(ROTA_DAYS_BEFORE)).to_string(),
                (today + Duration::days(ROTA_DAYS_AFTER)).to_string(),
            )
            .await?
            .into_iter()
            .collect())
    }

    /// The person an idea names, or a shared item by way of its idea, where the hub holds them.
    pub(super) async fn person_named(
        &self,
        kind: RecordKind,
        doc: &AutoCommit,
        owner: Uuid,
    ) -> Result<Option<Uuid>, ServiceError> {
        let insight = match kind {
            RecordKind::Insight => {
                return Ok(autosurgeon::hydrate::<_, Insight>(doc).ok().and_then(|i| i.person_id.map(|p| p.0)));
            }
            RecordKind::Shared => match autosurgeon::hydrate::<_, SharedItem>(doc) {
                Ok(item) => item.insight_id.0,
                Err(_) => return Ok(None),
            },
            _ => return Ok(None),
        };
        let Some(stored) = self.storage.load_document(insight).await? else { return Ok(None) };
        if stored.kind != RecordKind::Insight || stored.owner_org != owner {
            return Ok(None);
        }
        Ok(load_strict(&stored.bytes)
            .ok()
            .and_then(|d| autosurgeon::hydrate::<_, Insight>(&d).ok())
            .and_then(|i| i.person_id.map(|p| p.0)))
    }

    /// Whether the carer `staff` may read an idea or shared item naming `person` now: while the
    /// person is on their rota; their own idea also for IDEA_GRACE_DAYS after they left (counted
    /// from when the hub first saw them gone).
    pub(super) async fn carer_may_read(
        &self,
        org: Uuid,
        staff: &str,
        kind: RecordKind,
        person: Uuid,
    ) -> Result<bool, ServiceError> {
        if self.on_rota(org, staff).await?.contains(&person) {
            return Ok(true);
        }
        if kind != RecordKind::Insight {
            return Ok(false);
        }
        let principal = carer_principal(org, staff);
        let now = self.clock.now().timestamp_millis();
        let left = self.storage.rota_departures(principal.clone()).await?.into_iter().find(|(p, _)| *p == person);
        Ok(match left {
            Some((_, at)) => now < at + Duration::days(IDEA_GRACE_DAYS).num_milliseconds(),
            None => {
                // Written before the carer's sync noticed they left (an idea typed offline): the
                // grace period starts now.
                self.storage.set_rota_departures(principal, vec![person], now, Vec::new()).await?;
                true
            }
        })
    }

    /// A carer's device holds the people on their rota (a window around today) and their
    /// history; people who have left it are purged at the next sync, with the shared items
    /// naming them, and the carer's own ideas about them IDEA_GRACE_DAYS later.
    pub(super) async fn refresh_carer_scope(&self, caller: &Caller) -> Result<(), ServiceError> {
        let d = &caller.device;
        let principal = carer_principal(d.org_id, &d.staff_ref);
        let on_rota = self.on_rota(d.org_id, &d.staff_ref).await?;
        let held: BTreeSet<Uuid> =
            self.storage.granted(principal.clone(), RecordKind::Person).await?.into_iter().collect();
        let mut grant = Vec::new();
        let mut revoke = Vec::new();
        for person in on_rota.difference(&held) {
            match self.storage.load_document(*person).await? {
                None => continue, // the person's record has not reached the hub yet
                // Only the carer's own provider's people, whatever a visit says.
                Some(doc) if doc.kind != RecordKind::Person || doc.owner_org != d.org_id => continue,
                Some(_) => {}
            }
            grant.push((*person, principal.clone()));
            for (doc, _) in self.storage.history_of(*person).await? {
                grant.push((doc, principal.clone()));
            }
        }
        for person in held.difference(&on_rota) {
            revoke.push((*person, principal.clone()));
            for (doc, _) in self.storage.history_of(*person).await? {
                revoke.push((doc, principal.clone()));
            }
        }
        let left: BTreeSet<Uuid> = held.difference(&on_rota).copied().collect();
        revoke.extend(self.what_names_people_left(d.org_id, &principal, &on_rota, &left).await?);
        if !grant.is_empty() || !revoke.is_empty() {
            tracing::info!(device = %d.id, granted = grant.len(), revoked = revoke.len(), "carer scope changed");
            if !revoke.is_empty() {
                self.storage
                    .audit(AuditEntry {
                        at: Utc::now().timestamp_millis(),
                        actor: "hub".into(),
                        action: "purge".into(),
                        doc_id: None,
                        allowed: true,
                        detail: format!("{} record(s) leave {principal}'s devices: off the rota", revoke.len()),
                    })
                    .await?;
            }
            self.storage.set_access(grant, revoke).await?;
        }
        Ok(())
    }

    /// What names people the carer no longer visits and leaves their devices now: shared items
    /// about them, and the carer's ideas about them once IDEA_GRACE_DAYS have passed since the
    /// hub saw them leave (noted here, the first time it does). `left`: people who left the
    /// rota at this sync.
    async fn what_names_people_left(
        &self,
        org: Uuid,
        principal: &str,
        on_rota: &BTreeSet<Uuid>,
        left: &BTreeSet<Uuid>,
    ) -> Result<Vec<(Uuid, String)>, ServiceError> {
        let now = self.clock.now().timestamp_millis();
        let grace = Duration::days(IDEA_GRACE_DAYS).num_milliseconds();
        let mut departed: BTreeMap<Uuid, i64> =
            self.storage.rota_departures(principal.to_string()).await?.into_iter().collect();
        // Visiting again: the grace period no longer runs.
        let back: Vec<Uuid> = departed.keys().filter(|p| on_rota.contains(p)).copied().collect();
        departed.retain(|p, _| !on_rota.contains(p));
        // The carer's ideas about people off their rota (from the facts: no document loaded).
        let ideas: Vec<(Uuid, Uuid)> = self
            .storage
            .doc_facts(RecordKind::Insight, Some(org), Some(principal.to_string()))
            .await?
            .into_iter()
            .filter_map(|row| match DocFacts::from_json(&row.facts) {
                Some(DocFacts::Idea(idea)) => idea.person.filter(|p| !on_rota.contains(p)).map(|p| (row.doc_id, p)),
                _ => None,
            })
            .collect();
        // Gone from the rota now, or named by an idea the hub had not yet seen them go for (an
        // upgraded hub): the grace period starts now.
        let started: Vec<Uuid> = left
            .iter()
            .copied()
            .chain(ideas.iter().map(|(_, p)| *p))
            .filter(|p| !departed.contains_key(p))
            .collect::<BTreeSet<Uuid>>()
            .into_iter()
            .collect();
        for person in &started {
            departed.insert(*person, now);
        }
        let mut revoke: Vec<(Uuid, String)> = ideas
            .iter()
            .filter(|(_, person)| departed.get(person).is_some_and(|at| now >= at + grace))
            .map(|(idea, _)| (*idea, principal.to_string()))
            .collect();
        // Shared items carry identifiers: they go as soon as the person does. Read only when
        // someone has just gone (later writes never grant them back: see `accept`).
        if !started.is_empty() {
            for id in self.storage.granted(principal.to_string(), RecordKind::Shared).await? {
                let Some(stored) = self.storage.load_document(id).await? else { continue };
                let Ok(doc) = load_strict(&stored.bytes) else { continue };
                if let Some(person) = self.person_named(RecordKind::Shared, &doc, stored.owner_org).await?
                    && !on_rota.contains(&person)
                {
                    revoke.push((id, principal.to_string()));
                }
            }
        }
        if !started.is_empty() || !back.is_empty() {
            self.storage.set_rota_departures(principal.to_string(), started, now, back).await?;
        }
        Ok(revoke)
    }
}
