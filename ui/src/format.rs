//! Times and dates as a carer reads them, in UK time.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::London;

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
    at.with_timezone(&London).format("%-d %b, %H:%M").to_string()
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
