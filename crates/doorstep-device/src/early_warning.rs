//! The caseload early warning on the manager's device: this week's clusters of falls, possible
//! infections, breathing signs and eating or drinking less per postcode district, against the
//! provider's own usual weeks (`doorstep_model::early_warning`), from the device's own store, with
//! no signal.

use chrono::Days;
use doorstep_commands::AppError;
use doorstep_model::early_warning::{self, BASELINE_WEEKS, EarlyWarning};
use doorstep_model::watch::WatchLevel;

use crate::{Device, storage_error, uk_today};

impl Device {
    /// The 7 days ending today (UK), counted per district and kind against the 12 weeks before,
    /// with the people each count names and everyone at concern on the deterioration watch.
    pub async fn early_warning(&self) -> Result<EarlyWarning, AppError> {
        self.manager().await?;
        let today = uk_today(self.now());
        let from = today - Days::new(7 * (BASELINE_WEEKS + 1) - 1);
        let store = self.db().await?;
        let observations = store.sign_changes_between(from, today).map_err(storage_error)?;
        let history_from = store.first_note_day().map_err(storage_error)?.unwrap_or(today);
        let people = store.people().map_err(storage_error)?;
        drop(store);
        let counts = early_warning::counts(&observations, today, history_from);
        let alerts = early_warning::alerts_of(&counts, today);
        let named: std::collections::BTreeSet<String> =
            counts.iter().flat_map(|c| c.people.iter().map(|p| p.0.to_string())).collect();
        let at_concern = people.iter().filter(|p| p.watch == WatchLevel::Concern).cloned().collect();
        let people = people.into_iter().filter(|p| named.contains(&p.id)).collect();
        Ok(EarlyWarning {
            from: today - Days::new(6),
            to: today,
            alerts,
            counts,
            people,
            at_concern,
            rule: early_warning::rule_words(),
        })
    }
}
