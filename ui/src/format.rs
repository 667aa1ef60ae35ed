//! Times and dates as a carer reads them, in UK time.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::London;
use doorstep_model::shared::{PartnerResponse, ResponseOutcome, SharedStatus};

/// "09:30"
pub fn time(at: DateTime<Utc>) -> String {
    at.with_timezone(&London).format("%H:%M").to_string()
}

/// "Thursday 26 November"
pub fn day(day: NaiveDate) -> String {
    day.format("%A %-d %B").to_string()
}

/// "26 Nov, 09:30"
pub fn when(at: DateTime<Utc>) -> String {
    doorstep_model::note::uk_when(at)
}

/// "24 Nov"
pub fn date(at: DateTime<Utc>) -> String {
    at.with_timezone(&London).format("%-d %b").to_string()
}

/// A partner's answer in plain English: "Leeds Adult Social Care: Action taken — OT visit booked
/// Tuesday (Sam Patel, 24 Nov)".
pub fn response(partner: &str, r: &PartnerResponse) -> String {
    let message = r.message.trim();
    let said = if message.is_empty() { String::new() } else { format!(" — {message}") };
    format!("{partner}: {}{said} ({}, {})", r.outcome.label(), r.by, date(r.at))
}

/// The NHS.UK tag colour for where a shared item stands.
pub fn shared_tag(status: SharedStatus) -> &'static str {
    match status {
        SharedStatus::New => "nhsuk-tag--blue",
        SharedStatus::Answered(ResponseOutcome::Acknowledged) => "nhsuk-tag--aqua-green",
        SharedStatus::Answered(ResponseOutcome::ActionTaken) => "nhsuk-tag--green",
        SharedStatus::Answered(ResponseOutcome::ReferredOn) => "nhsuk-tag--purple",
        SharedStatus::Answered(ResponseOutcome::Declined) => "nhsuk-tag--orange",
        SharedStatus::Revoked => "nhsuk-tag--grey",
    }
}

pub fn status_tag(code: &str) -> (&'static str, &'static str) {
    match code {
        "scheduled" => ("Not started", "nhsuk-tag--grey"),
        "in_progress" => ("In progress", "nhsuk-tag--blue"),
        "completed" => ("Completed", "nhsuk-tag--green"),
        "missed" => ("Missed", "nhsuk-tag--red"),
        "cancelled" => ("Cancelled", "nhsuk-tag--white"),
        "submitted" => ("Waiting for review", "nhsuk-tag--grey"),
        "reviewed" => ("Reviewed", "nhsuk-tag--blue"),
        "shared" => ("Shared with partners", "nhsuk-tag--purple"),
        "acknowledged" => ("Partner has seen it", "nhsuk-tag--aqua-green"),
        "actioned" => ("Acted on", "nhsuk-tag--green"),
        "closed" => ("Closed", "nhsuk-tag--white"),
        "declined" => ("Not taken forward", "nhsuk-tag--orange"),
        "draft" => ("Draft", "nhsuk-tag--white"),
        _ => ("Unknown", "nhsuk-tag--white"),
    }
}
