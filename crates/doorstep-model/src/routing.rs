//! Who to share with, and by when they should answer.
//!
//! The hub keeps a directory of partner organisations: what each does (in the insight's "who
//! could act" words), the postcode districts it covers, its hours, its ODS code and its team's
//! contact. When a manager shares an idea, [`rank`] puts the partners that fit it first — the
//! person's own GP practice, then those that do what the idea asks in the person's district —
//! each with its reasons in plain words. A partner whose listed districts do not include the
//! person's is *out of area*: sharing with it needs a reason, which the app asks for and the hub
//! checks ([`needs_reason`]), so the same rule holds whoever sends the item.
//!
//! An item's answer is due by [`respond_by`]: urgent items by 17:00 the working day they are
//! shared (noon the next working day when shared after 17:00 or at a weekend), soon within two
//! working days, routine within ten. Working days are Monday to Friday in UK time; bank holidays
//! are not known here, so an item shared before one is chased a day early, never late.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Europe::London;
use serde::{Deserialize, Serialize};

use crate::insight::{PartnerKind, PartnerOrg, Urgency};

/// Longest reason for sharing out of area.
pub const MAX_REASON_CHARS: usize = 300;

/// One partner organisation as the hub's directory lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnerListing {
    pub org: PartnerOrg,
    /// What it does, in the words of an idea's "who could act". Its own kind is always one.
    pub services: Vec<PartnerKind>,
    /// Postcode districts it covers ("NB1"); none listed: it takes people from anywhere.
    pub districts: Vec<String>,
    /// "Monday to Friday, 8am to 6:30pm".
    pub hours: String,
    /// The NHS Organisation Data Service code, where it has one (GP practices: "B86001").
    pub ods_code: String,
    /// The team's phone, for when an answer cannot wait.
    pub phone: String,
}

impl PartnerListing {
    /// A partner the directory says nothing more about than its name and kind.
    pub fn bare(org: PartnerOrg) -> PartnerListing {
        PartnerListing {
            services: vec![org.kind],
            org,
            districts: Vec::new(),
            hours: String::new(),
            ods_code: String::new(),
            phone: String::new(),
        }
    }

    pub fn offers(&self, kind: PartnerKind) -> bool {
        self.org.kind == kind || self.services.contains(&kind)
    }

    /// Whether it covers `district`; a partner listing no districts covers everywhere, and a
    /// person with no known district is nowhere in particular.
    pub fn covers(&self, district: Option<&str>) -> bool {
        match district {
            Some(d) if !self.districts.is_empty() => self.districts.iter().any(|c| c.eq_ignore_ascii_case(d)),
            _ => true,
        }
    }
}

/// What the idea asks for and where the person is.
#[derive(Debug, Clone, Copy, Default)]
pub struct Need<'a> {
    pub who_could_act: &'a [PartnerKind],
    /// The person's postcode district ("NB1").
    pub district: Option<&'a str>,
    /// The ODS code of the person's GP practice.
    pub gp_ods: Option<&'a str>,
}

/// One partner, placed for one idea.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    pub partner: PartnerListing,
    /// Offered first: the person's practice, or it does what the idea asks in the person's area.
    pub fits: bool,
    /// Sharing with it needs a reason: it does not cover the person's district.
    pub out_of_area: bool,
    /// Why it is placed where it is, in plain words, best first.
    pub reasons: Vec<String>,
}

/// Every partner, best fit first (then by name), each with why.
pub fn rank(partners: Vec<PartnerListing>, need: &Need<'_>) -> Vec<Suggestion> {
    let mut placed: Vec<(u8, Suggestion)> = partners.into_iter().map(|p| place(p, need)).collect();
    placed.sort_by(|(a, x), (b, y)| b.cmp(a).then_with(|| x.partner.org.name.cmp(&y.partner.org.name)));
    placed.into_iter().map(|(_, s)| s).collect()
}

fn place(partner: PartnerListing, need: &Need<'_>) -> (u8, Suggestion) {
    let mut score = 0u8;
    let mut reasons = Vec::new();
    let their_practice =
        matches!(need.gp_ods, Some(ods) if !ods.is_empty() && partner.ods_code.eq_ignore_ascii_case(ods));
    if their_practice {
        score += 4;
        reasons.push("The person's own GP practice".to_string());
    }
    let asked: Vec<&str> = need.who_could_act.iter().filter(|k| partner.offers(**k)).map(|k| k.label()).collect();
    if !asked.is_empty() {
        score += 2;
        reasons.push(format!("Offers what the idea asks for: {}", asked.join(", ").to_lowercase()));
    }
    let out_of_area = !partner.covers(need.district);
    match need.district {
        Some(d) if out_of_area => reasons.push(format!("Does not cover {d}: say why if you share with them")),
        Some(d) if !partner.districts.is_empty() => {
            score += 1;
            reasons.push(format!("Covers {d}"));
        }
        _ => reasons.push("Takes people from any area".to_string()),
    }
    let fits = !out_of_area && (their_practice || !asked.is_empty());
    if fits {
        score += 8;
    }
    (score, Suggestion { partner, fits, out_of_area, reasons })
}

/// Whether sharing with `partner` for a person in `district` needs a reason that is missing.
pub fn needs_reason(partner: &PartnerListing, district: Option<&str>, reason: &str) -> bool {
    !partner.covers(district) && reason.trim().is_empty()
}

fn working_day(d: NaiveDate) -> bool {
    !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

fn next_working_day(mut d: NaiveDate) -> NaiveDate {
    loop {
        d += Duration::days(1);
        if working_day(d) {
            return d;
        }
    }
}

/// `time` on `day`, UK time, as an instant (the later one when the clocks go back).
fn uk(day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = day.and_time(time);
    London
        .from_local_datetime(&local)
        .latest()
        // 17:00 and 12:00 are never in the hour the clocks skip; this is for completeness.
        .unwrap_or_else(|| London.from_utc_datetime(&local))
        .with_timezone(&Utc)
}

fn at(hour: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or(NaiveTime::MIN)
}

/// When an answer to an item shared at `shared_at` with this urgency is due (see the module's
/// rule).
pub fn respond_by(urgency: Urgency, shared_at: DateTime<Utc>) -> DateTime<Utc> {
    let local = shared_at.with_timezone(&London);
    let day = local.date_naive();
    let close = at(17);
    let first_working = if working_day(day) { day } else { next_working_day(day) };
    match urgency {
        Urgency::Urgent => {
            if working_day(day) && local.time() < close {
                uk(day, close)
            } else {
                uk(next_working_day(day), at(12))
            }
        }
        Urgency::Soon => uk((0..2).fold(first_working, |d, _| next_working_day(d)), close),
        Urgency::Routine => uk((0..10).fold(first_working, |d, _| next_working_day(d)), close),
    }
}

/// "by 5pm today", "by 12 noon Tuesday 8 December": when an answer is due, from `now`.
pub fn due_words(due: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let due_local = due.with_timezone(&London);
    let now_day = now.with_timezone(&London).date_naive();
    let time = match due_local.format("%H:%M").to_string().as_str() {
        "17:00" => "5pm".to_string(),
        "12:00" => "12 noon".to_string(),
        other => other.to_string(),
    };
    let day = due_local.date_naive();
    if day == now_day {
        format!("by {time} today")
    } else if Some(day) == now_day.succ_opt() {
        format!("by {time} tomorrow")
    } else {
        format!("by {time} {}", due_local.format("%A %-d %B"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn listing(name: &str, kind: PartnerKind, districts: &[&str], ods: &str) -> PartnerListing {
        PartnerListing {
            org: PartnerOrg { id: Uuid::new_v5(&Uuid::nil(), name.as_bytes()), name: name.into(), kind },
            services: vec![kind],
            districts: districts.iter().map(|d| d.to_string()).collect(),
            hours: String::new(),
            ods_code: ods.into(),
            phone: String::new(),
        }
    }

    fn names(ranked: &[Suggestion]) -> Vec<&str> {
        ranked.iter().map(|s| s.partner.org.name.as_str()).collect()
    }

    #[test]
    fn an_in_area_ot_ranks_above_an_out_of_area_one_and_says_why() {
        let need = Need { who_could_act: &[PartnerKind::OtEquipment], district: Some("NB1"), gp_ods: None };
        let ranked = rank(
            vec![
                listing("Far OT", PartnerKind::OtEquipment, &["ZZ9"], ""),
                listing("Near OT", PartnerKind::OtEquipment, &["NB1", "NB2"], ""),
                listing("Housing", PartnerKind::Housing, &["NB1"], ""),
            ],
            &need,
        );
        // The right service out of area before an in-area one that does something else.
        assert_eq!(names(&ranked), ["Near OT", "Far OT", "Housing"]);
        assert!(ranked[0].fits && !ranked[0].out_of_area);
        assert_eq!(
            ranked[0].reasons,
            ["Offers what the idea asks for: occupational therapy or equipment", "Covers NB1"]
        );
        assert!(ranked[1].out_of_area && !ranked[1].fits);
        assert!(ranked[1].reasons.iter().any(|r| r == "Does not cover NB1: say why if you share with them"));
        assert!(!ranked[2].fits, "in area but not what the idea asks for");
    }

    #[test]
    fn the_persons_own_practice_comes_first() {
        let need =
            Need { who_could_act: &[PartnerKind::CommunityNursing], district: Some("NB1"), gp_ods: Some("b86001") };
        let ranked = rank(
            vec![
                listing("Nurses", PartnerKind::CommunityNursing, &["NB1"], ""),
                listing("Other Surgery", PartnerKind::GpPractice, &["NB1"], "B86099"),
                listing("Albion Surgery", PartnerKind::GpPractice, &["NB1"], "B86001"),
            ],
            &need,
        );
        assert_eq!(names(&ranked), ["Albion Surgery", "Nurses", "Other Surgery"]);
        assert_eq!(ranked[0].reasons[0], "The person's own GP practice");
    }

    #[test]
    fn out_of_area_needs_a_reason_and_no_area_needs_none() {
        let far = listing("Far OT", PartnerKind::OtEquipment, &["ZZ9"], "");
        assert!(needs_reason(&far, Some("NB1"), " "));
        assert!(!needs_reason(&far, Some("NB1"), "The person is moving to ZZ9 next week"));
        assert!(!needs_reason(&far, Some("zz9"), ""));
        assert!(!needs_reason(&far, None, ""), "no district known: nothing to be out of");
        let anywhere = listing("Helpline", PartnerKind::VoluntarySector, &[], "");
        assert!(!needs_reason(&anywhere, Some("NB1"), ""));
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn urgent_is_due_by_five_the_same_working_day_or_noon_the_next() {
        // Thursday 3 December 2026, 10:00 GMT.
        assert_eq!(respond_by(Urgency::Urgent, utc("2026-12-03T10:00:00Z")), utc("2026-12-03T17:00:00Z"));
        // Thursday 18:30: noon Friday.
        assert_eq!(respond_by(Urgency::Urgent, utc("2026-12-03T18:30:00Z")), utc("2026-12-04T12:00:00Z"));
        // Friday 17:30: noon Monday.
        assert_eq!(respond_by(Urgency::Urgent, utc("2026-12-04T17:30:00Z")), utc("2026-12-07T12:00:00Z"));
        // Saturday morning: noon Monday.
        assert_eq!(respond_by(Urgency::Urgent, utc("2026-12-05T09:00:00Z")), utc("2026-12-07T12:00:00Z"));
        // British Summer Time: 17:00 in London is 16:00 UTC.
        assert_eq!(respond_by(Urgency::Urgent, utc("2026-06-10T09:00:00Z")), utc("2026-06-10T16:00:00Z"));
    }

    #[test]
    fn soon_and_routine_count_working_days() {
        // Thursday: soon by Monday 17:00, routine by Thursday fortnight.
        assert_eq!(respond_by(Urgency::Soon, utc("2026-12-03T10:00:00Z")), utc("2026-12-07T17:00:00Z"));
        assert_eq!(respond_by(Urgency::Routine, utc("2026-12-03T10:00:00Z")), utc("2026-12-17T17:00:00Z"));
        // Shared on a Sunday: counted from Monday.
        assert_eq!(respond_by(Urgency::Soon, utc("2026-12-06T10:00:00Z")), utc("2026-12-09T17:00:00Z"));
    }

    #[test]
    fn due_times_read_as_people_say_them() {
        let now = utc("2026-12-03T10:00:00Z");
        assert_eq!(due_words(utc("2026-12-03T17:00:00Z"), now), "by 5pm today");
        assert_eq!(due_words(utc("2026-12-04T12:00:00Z"), now), "by 12 noon tomorrow");
        assert_eq!(due_words(utc("2026-12-07T17:00:00Z"), now), "by 5pm Monday 7 December");
    }
}
