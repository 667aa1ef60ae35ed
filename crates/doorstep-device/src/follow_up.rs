//! "Did it help?" on the manager's device: 30 days after a partner answered an idea "action
//! taken", the office is asked whether it helped, from the device's own store, offline. "Too
//! early to tell" asks again 30 days after that answer (`outcome::follow_up_next`); a Yes or No
//! settles it. The answer is one edit of the idea, against the version the manager saw.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use doorstep_commands::{AppError, ErrorCode, FollowUpAction, FollowUpArgs, FollowUpRow};
use doorstep_model::outcome::{self, FOLLOW_UP_DETAIL_MOST, FollowUp};
use doorstep_model::policy::WritePolicy;
use doorstep_model::shared::ResponseOutcome;
use doorstep_model::{Insight, Person, SharedItem, StaffId};
use doorstep_store::{Store, StoreError};

use crate::{Device, storage_error, uk_today};

impl Device {
    /// Ideas due a follow-up by today (UK), oldest due first.
    pub async fn follow_ups(&self) -> Result<Vec<FollowUpRow>, AppError> {
        self.manager().await?;
        let today = uk_today(self.now());
        let store = self.db().await?;
        follow_ups_due(&store, today)
    }

    /// A manager's answer to "did it help?" on one idea: who, when, the answer and their words,
    /// written as one edit on the version they saw, so anything else changed since is kept.
    pub async fn answer_follow_up(&self, args: FollowUpArgs) -> Result<Vec<FollowUpRow>, AppError> {
        let who = self.manager().await?;
        let detail = args.detail.trim().to_string();
        if detail.chars().count() > FOLLOW_UP_DETAIL_MOST {
            return Err(AppError::new(
                ErrorCode::Invalid,
                format!("Keep what you add under {FOLLOW_UP_DETAIL_MOST} characters."),
            ));
        }
        let now = self.now();
        let mut store = self.db().await?;
        let directory = crate::directory::directory_of(&store)?;
        let follow_up = FollowUp { answer: args.answer, by: directory.staff_label(&who.staff_ref), at: now, detail };
        let staff = StaffId::new(who.staff_ref.clone());
        store
            .update_from::<Insight>(&args.insight_id, &args.seen, |insight| {
                let seen = insight.clone();
                insight.follow_up = Some(follow_up);
                // The hub's own rule, checked here first.
                Insight::check_write(Some(&seen), insight, who.writer(&staff)).map_err(|r| StoreError::Invalid(r.0))
            })
            .map_err(storage_error)?;
        let rows = follow_ups_due(&store, uk_today(now))?;
        drop(store);
        self.sync_soon();
        Ok(rows)
    }
}

/// Every idea whose follow-up is due by `today`, oldest due first (for the screen and the count
/// on the office's day).
pub(crate) fn follow_ups_due(store: &Store, today: NaiveDate) -> Result<Vec<FollowUpRow>, AppError> {
    // Each idea's shared items that a partner answered "action taken", with the day that asks.
    let mut acted: BTreeMap<String, Vec<(SharedItem, NaiveDate)>> = BTreeMap::new();
    for row in store.shared_items().map_err(storage_error)? {
        if !row.responses.iter().any(|r| r.outcome == ResponseOutcome::ActionTaken) {
            continue;
        }
        let item: SharedItem = store.get(&row.id).map_err(storage_error)?;
        if let Some(due) = outcome::follow_up_due(&item) {
            acted.entry(row.insight_id).or_default().push((item, due));
        }
    }
    let mut rows = Vec::new();
    for (insight_id, items) in acted {
        let (insight, version) = match store.get_versioned::<Insight>(&insight_id) {
            Ok(found) => found,
            // The idea itself has not reached this device: nothing to answer on yet.
            Err(StoreError::NotFound { .. }) => continue,
            Err(e) => return Err(storage_error(e)),
        };
        let first_due = items.iter().map(|(_, due)| *due).min().unwrap_or(today);
        let Some(due) = outcome::follow_up_next(first_due, insight.follow_up.as_ref()) else { continue };
        if due > today {
            continue;
        }
        let mut actions: Vec<FollowUpAction> = items
            .iter()
            .flat_map(|(item, _)| {
                item.responses.iter().filter(|r| r.outcome == ResponseOutcome::ActionTaken).map(|r| FollowUpAction {
                    partner: item.partner.name.clone(),
                    by: r.by.clone(),
                    said: r.message.clone(),
                    at: r.at,
                })
            })
            .collect();
        actions.sort_by_key(|a| a.at);
        let judged: Vec<String> = items
            .iter()
            .filter_map(|(item, _)| {
                outcome::admission_likely_avoided(item).map(|avoided| {
                    if avoided {
                        format!("{} judged that an admission was likely avoided", item.partner.name)
                    } else {
                        format!("{} did not judge that an admission was avoided", item.partner.name)
                    }
                })
            })
            .collect();
        let person_name = match insight.person_id {
            Some(id) => match store.get::<Person>(&id.to_string()) {
                Ok(p) => Some(p.name.display()),
                Err(StoreError::NotFound { .. }) => None,
                Err(e) => return Err(storage_error(e)),
            },
            None => None,
        };
        let asked_before = insight
            .follow_up
            .as_ref()
            .map(|f| format!("{}, said {} on {}", f.answer.label(), f.by, crate::uk_today(f.at).format("%-d %b %Y")));
        rows.push(FollowUpRow {
            insight_id,
            version,
            summary: insight.summary,
            person_name,
            actions,
            due,
            judgement: (!judged.is_empty()).then(|| judged.join("; ")),
            asked_before,
        });
    }
    rows.sort_by(|a, b| (a.due, &a.summary).cmp(&(b.due, &b.summary)));
    Ok(rows)
}
