//! What happened to the person afterwards (went to A&E, admitted, home again, seen by the urgent
//! community response team, GP visited), recorded by a carer in a visit's note with no signal,
//! with what stood before it on this device: the watch level, the calls of the visits before it
//! and the person's open ideas (`doorstep_model::outcome`).

use chrono::Days;
use doorstep_commands::{AppError, ErrorCode, OutcomeArgs, OutcomeRow, VisitScreen};
use doorstep_model::outcome::{self, LINK_CALLS_WITHIN_DAYS, OutcomeLinks, PersonOutcome};
use doorstep_model::{Directory, Insight, InsightId, NoteId, StaffId, Visit, VisitNote};
use doorstep_store::{Store, StoreError};
use uuid::Uuid;

use crate::{Device, storage_error, uk_today};

impl Device {
    /// Adds an outcome to the visit's note, as one edit that merges with others' (carers on the
    /// visit and managers). Its day is today or before, by this device's clock.
    pub async fn record_outcome(&self, args: OutcomeArgs) -> Result<VisitScreen, AppError> {
        let who = self.unlocked().await?;
        let now = self.now();
        outcome::check_day(args.day, uk_today(now)).map_err(|e| AppError::new(ErrorCode::Invalid, e.to_string()))?;
        let links = {
            let store = self.db().await?;
            let visit: Visit = store.get(&args.visit_id).map_err(storage_error)?;
            crate::care::ensure_on_visit(&who, &visit)?;
            links_before(&store, &visit, args.day)?
        };
        let recorded = PersonOutcome {
            key: Uuid::new_v4().to_string(),
            kind: args.kind,
            day: args.day,
            by: StaffId::new(who.staff_ref),
            at: now,
            links,
        };
        self.edit_note(&args.visit_id, |note| {
            note.outcomes.push(recorded);
            Ok(())
        })
        .await
    }

    /// Every outcome recorded for the person on this device, newest first, in words.
    pub async fn outcomes_of(&self, person_id: &str) -> Result<Vec<OutcomeRow>, AppError> {
        self.unlocked().await?;
        let store = self.db().await?;
        let directory = crate::directory::directory_of(&store)?;
        let overview = store.person_overview(person_id).map_err(storage_error)?;
        let mut rows = Vec::new();
        for entry in &overview.timeline {
            if let Some(note) = note_of(&store, &entry.visit_id)? {
                rows.extend(rows_of(&store, &directory, &note)?);
            }
        }
        rows.sort_by_key(|o| std::cmp::Reverse((o.day, o.at)));
        Ok(rows)
    }
}

/// What stood before an outcome on `day`: the person's watch level now, the calls at their
/// visits in the [`LINK_CALLS_WITHIN_DAYS`] up to that day, and their ideas not closed or declined.
fn links_before(store: &Store, visit: &Visit, day: chrono::NaiveDate) -> Result<OutcomeLinks, AppError> {
    let person_id = visit.person_id.to_string();
    let watch_level = store.watch(&person_id).map_err(storage_error)?.level.code().to_string();
    let from = day.checked_sub_days(Days::new(LINK_CALLS_WITHIN_DAYS)).unwrap_or(day);
    let (visit_ids, open_ideas) = match store.person_overview(&person_id) {
        Ok(overview) => (
            overview.timeline.into_iter().map(|t| t.visit_id).collect(),
            overview
                .insights
                .iter()
                .filter(|i| i.status != "closed" && i.status != "declined")
                .filter_map(|i| Uuid::parse_str(&i.id).ok().map(InsightId))
                .collect(),
        ),
        // Their record has not reached this device yet: this visit's own calls still count.
        Err(StoreError::NotFound { .. }) => (vec![visit.id.to_string()], Vec::new()),
        Err(e) => return Err(storage_error(e)),
    };
    let mut calls = Vec::new();
    for visit_id in visit_ids {
        if let Some(note) = note_of(store, &visit_id)? {
            calls.extend(note.calls.into_iter().filter(|c| (from..=day).contains(&uk_today(c.at))));
        }
    }
    calls.sort_by_key(|c| c.at);
    Ok(OutcomeLinks { watch_level, escalations: calls.iter().map(outcome::call_link).collect(), open_ideas })
}

/// The visit's note, when one has been written.
fn note_of(store: &Store, visit_id: &str) -> Result<Option<VisitNote>, AppError> {
    let Ok(visit_uuid) = Uuid::parse_str(visit_id) else { return Ok(None) };
    let note_id = NoteId::for_visit(doorstep_model::VisitId(visit_uuid)).to_string();
    match store.get::<VisitNote>(&note_id) {
        Ok(note) => Ok(Some(note)),
        Err(StoreError::NotFound { .. }) => Ok(None),
        Err(e) => Err(storage_error(e)),
    }
}

/// A note's outcomes in words, as recorded (oldest first).
pub(crate) fn rows_of(store: &Store, directory: &Directory, note: &VisitNote) -> Result<Vec<OutcomeRow>, AppError> {
    let mut rows = Vec::new();
    for recorded in &note.outcomes {
        let mut ideas = Vec::new();
        for id in &recorded.links.open_ideas {
            match store.get::<Insight>(&id.0.to_string()) {
                Ok(idea) => ideas.push((*id, idea.summary)),
                Err(StoreError::NotFound { .. }) => {}
                Err(e) => return Err(storage_error(e)),
            }
        }
        rows.push(OutcomeRow {
            visit_id: note.visit_id.to_string(),
            kind: recorded.kind,
            day: recorded.day,
            by: directory.staff_label(recorded.by.as_str()),
            at: recorded.at,
            links: recorded.links.words(|id| ideas.iter().find(|(i, _)| i == id).map(|(_, s)| s.clone())),
        });
    }
    Ok(rows)
}
