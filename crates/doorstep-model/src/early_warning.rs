//! Caseload early warning: clusters of people with the same kind of sign in one postcode district
//! in one week, compared with the provider's own usual weeks, computed on the manager's device
//! with no signal.
//!
//! The rule (also in docs/safety.md, "Caseload early warning"):
//! - **What is counted:** people, not notes (one person with three notes in the week is one),
//!   per postcode district and per kind of signal, over the 7 days ending on the day asked about.
//!   Only soft signs recorded as new or worse than usual count. The kinds ([`SignalKind`]):
//!   *falls* (unsteady, a fall or a near miss); *possible infection* (for the same person within
//!   the week: new or worse confusion together with a bowel or bladder change or no urine, or
//!   very hot, cold or shivering together with breathing signs); *breathing* (faster or short of
//!   breath — flu and RSV season); *eating or drinking less*.
//! - **The baseline:** the mean number of people a week with that kind of signal in the same
//!   district over the [`BASELINE_WEEKS`] weeks before (only weeks the device holds records for),
//!   never taken below [`BASELINE_FLOOR`], so a district that is usually quiet does not alert
//!   on two people.
//! - **An alert** when at least [`MIN_PEOPLE`] people were counted **and**, were the week a usual
//!   one (a Poisson count with the baseline as its mean), a count this high would come less than
//!   [`MAX_CHANCE`] of the time (1 week in 500).
//!
//! So over a baseline of 0.5 a week, 4 people alert (about 1 usual week in 570 has 4 or more) and
//! 3 do not (1 in 70); over a usual 0 (the floor, 0.2), 3 people alert (1 in 870). With 4 kinds
//! in a few districts a provider makes some 600–1,000 such comparisons a year, so the strict
//! chance keeps false alerts to about one a year or fewer.
//!
//! An alert is a prompt to look at those people and talk to the local team, never a diagnosis;
//! escalation at each visit stands on its own and never waits for it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::ids::PersonId;
use crate::note::{SoftSign, VisitNote};
use crate::view::PersonRow;

/// How many weeks before the week in question make its baseline.
pub const BASELINE_WEEKS: u64 = 12;
/// The fewest people that may make an alert, however quiet the district usually is.
pub const MIN_PEOPLE: usize = 3;
/// The lowest baseline used (people a week), so a district that was empty does not alert on 2.
pub const BASELINE_FLOOR: f64 = 0.2;
/// An alert needs a count this unlikely in a usual week (1 in 500).
pub const MAX_CHANCE: f64 = 0.002;

/// The kinds of signal counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SignalKind {
    Falls,
    PossibleInfection,
    Breathing,
    EatingDrinkingLess,
}

impl SignalKind {
    pub const ALL: [SignalKind; 4] =
        [SignalKind::Falls, SignalKind::PossibleInfection, SignalKind::Breathing, SignalKind::EatingDrinkingLess];

    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            SignalKind::Falls => "falls",
            SignalKind::PossibleInfection => "possible_infection",
            SignalKind::Breathing => "breathing",
            SignalKind::EatingDrinkingLess => "eating_drinking_less",
        }
    }

    /// A heading: "Falls".
    pub fn label(self) -> &'static str {
        match self {
            SignalKind::Falls => "Falls",
            SignalKind::PossibleInfection => "Possible infections",
            SignalKind::Breathing => "Breathing signs",
            SignalKind::EatingDrinkingLess => "Eating or drinking less",
        }
    }

    /// What a counted person had: "people {with a fall or near miss}".
    pub fn counted(self) -> &'static str {
        match self {
            SignalKind::Falls => "with a fall, near miss or unsteadiness",
            SignalKind::PossibleInfection => {
                "with signs of a possible infection (new confusion with a bowel or bladder change, or hot or cold with breathing signs)"
            }
            SignalKind::Breathing => "breathing faster or short of breath",
            SignalKind::EatingDrinkingLess => "eating or drinking less",
        }
    }

    /// The kinds a person's signs over one week amount to.
    pub fn of(signs: &BTreeSet<SoftSign>) -> Vec<SignalKind> {
        let has = |s: SoftSign| signs.contains(&s);
        let mut kinds = Vec::new();
        if has(SoftSign::UnsteadyOrFall) {
            kinds.push(SignalKind::Falls);
        }
        let confusion_and_waterworks =
            has(SoftSign::Confusion) && (has(SoftSign::BowelOrBladder) || has(SoftSign::NoUrine));
        let temperature_and_breathing = has(SoftSign::HotColdOrShivering) && has(SoftSign::Breathing);
        if confusion_and_waterworks || temperature_and_breathing {
            kinds.push(SignalKind::PossibleInfection);
        }
        if has(SoftSign::Breathing) {
            kinds.push(SignalKind::Breathing);
        }
        if has(SoftSign::EatingDrinkingLess) {
            kinds.push(SignalKind::EatingDrinkingLess);
        }
        kinds
    }
}

/// What one note recorded about one person on one day: the soft signs new or worse than usual,
/// and the postcode district they live in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    pub person: PersonId,
    /// The UK day of the visit.
    pub day: NaiveDate,
    /// Postcode district ("NB3"); "" when the person's postcode is not known.
    pub district: String,
    /// Signs recorded as new or worse than usual (signs usual for them are not counted).
    pub signs: Vec<SoftSign>,
}

impl Observation {
    /// From a note: only its changes from the person's usual count.
    pub fn from_note(note: &VisitNote, day: NaiveDate, district: &str) -> Observation {
        Observation {
            person: note.person_id,
            day,
            district: district.to_string(),
            signs: note.changes().map(|s| s.sign).collect(),
        }
    }
}

/// People counted for one kind in one district in one week, with the usual for comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Count {
    pub district: String,
    pub kind: SignalKind,
    /// The people counted, by id.
    pub people: Vec<PersonId>,
    /// The usual number of people a week (the mean over the baseline weeks, before the floor).
    pub baseline: f64,
    /// How many earlier weeks the baseline is over (fewer than [`BASELINE_WEEKS`] while the
    /// device holds less history).
    pub baseline_weeks: u64,
    /// The chance of this many or more in a usual week.
    pub chance: f64,
}

impl Count {
    /// Whether this count is an alert under the rule.
    pub fn is_alert(&self) -> bool {
        self.people.len() >= MIN_PEOPLE && self.chance < MAX_CHANCE
    }

    /// What was counted, in words: "4 people with a fall, near miss or unsteadiness in NB3 in
    /// the 7 days to 12 Nov; usually about 0.5 a week (the 12 weeks before)."
    pub fn words(&self, last_day: NaiveDate) -> String {
        let n = self.people.len();
        let who = if n == 1 { "1 person".to_string() } else { format!("{n} people") };
        let district = if self.district.is_empty() { "an unknown district".to_string() } else { self.district.clone() };
        let usual = match self.baseline_weeks {
            0 => "there are no earlier weeks on this device to compare with".to_string(),
            1 => format!("usually about {} a week (the week before)", round1(self.baseline)),
            w => format!("usually about {} a week (the {w} weeks before)", round1(self.baseline)),
        };
        let chance = if self.chance > 0.0 && self.chance < 0.5 {
            format!(" A usual week has this many about 1 time in {}.", (1.0 / self.chance).round() as u64)
        } else {
            String::new()
        };
        format!(
            "{who} {} in {district} in the 7 days to {}; {usual}.{chance}",
            self.kind.counted(),
            last_day.format("%-d %b")
        )
    }
}

fn round1(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    if r.fract() == 0.0 { format!("{r:.0}") } else { format!("{r:.1}") }
}

/// One alert: a count the rule flags, with its words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The first and last day of the week counted.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub count: Count,
    /// What was counted and compared with, in plain English.
    pub words: String,
}

/// The manager's early-warning screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlyWarning {
    /// The week counted: 7 days ending today.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Alerts, the least likely first.
    pub alerts: Vec<Alert>,
    /// Every non-zero count this week, alert or not, by district then kind.
    pub counts: Vec<Count>,
    /// The people named in alerts and counts, for names and links.
    pub people: Vec<PersonRow>,
    /// People whose deterioration watch is at concern.
    pub at_concern: Vec<PersonRow>,
    /// The rule, in words.
    pub rule: String,
}

/// The rule in one paragraph, for the screen.
pub fn rule_words() -> String {
    format!(
        "People (not notes) with signs new or worse than usual, counted per postcode district over the \
         last 7 days, compared with the same district's usual week over the {BASELINE_WEEKS} weeks before. \
         An alert needs at least {MIN_PEOPLE} people and a count that a usual week reaches less than 1 time \
         in {}. It is a prompt to look, not a diagnosis.",
        (1.0 / MAX_CHANCE).round() as u64
    )
}

/// The chance that a Poisson count with mean `mean` is `k` or more.
pub fn poisson_at_least(k: usize, mean: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if mean <= 0.0 {
        return 0.0;
    }
    let mut term = (-mean).exp(); // P(X = 0)
    if (k as f64) <= mean {
        // The tail is large: one minus the (short) lower sum loses nothing that matters.
        let mut below = 0.0;
        for i in 0..k {
            below += term;
            term *= mean / (i + 1) as f64;
        }
        return (1.0 - below).clamp(0.0, 1.0);
    }
    for i in 1..=k {
        term *= mean / i as f64;
    }
    // Terms fall from here on (k > mean): add them until they no longer matter.
    let mut tail = 0.0;
    let mut i = k;
    while term > tail * 1e-15 && i < k + 1000 {
        tail += term;
        i += 1;
        term *= mean / i as f64;
    }
    tail.min(1.0)
}

/// People per (district, kind) in the 7 days `from..=to`.
fn people_in(
    observations: &[Observation],
    from: NaiveDate,
    to: NaiveDate,
) -> BTreeMap<(String, SignalKind), BTreeSet<PersonId>> {
    // Each person's signs over the week, per district: a possible infection is two signs in the
    // same person within the week, not necessarily at one visit.
    let mut signs: BTreeMap<(String, PersonId), BTreeSet<SoftSign>> = BTreeMap::new();
    for o in observations.iter().filter(|o| o.day >= from && o.day <= to && !o.signs.is_empty()) {
        signs.entry((o.district.clone(), o.person)).or_default().extend(o.signs.iter().copied());
    }
    let mut people: BTreeMap<(String, SignalKind), BTreeSet<PersonId>> = BTreeMap::new();
    for ((district, person), signs) in signs {
        for kind in SignalKind::of(&signs) {
            people.entry((district.clone(), kind)).or_default().insert(person);
        }
    }
    people
}

/// Every non-zero count for the 7 days ending `last_day`, each with its baseline and chance.
/// `history_from` is the first day the observations cover (the device's earliest visit): earlier
/// weeks are not counted as quiet ones.
pub fn counts(observations: &[Observation], last_day: NaiveDate, history_from: NaiveDate) -> Vec<Count> {
    let week = |back: u64| {
        let to = last_day - Days::new(7 * back);
        (to - Days::new(6), to)
    };
    let (from, to) = week(0);
    let this_week = people_in(observations, from, to);
    if this_week.is_empty() {
        return Vec::new();
    }
    // Only the baseline weeks' observations need looking at.
    let earliest = week(BASELINE_WEEKS).0;
    let history: Vec<&Observation> = observations.iter().filter(|o| o.day >= earliest && o.day < from).collect();
    let weeks: Vec<u64> = (1..=BASELINE_WEEKS).filter(|b| week(*b).0 >= history_from).collect();
    let mut usual: BTreeMap<(String, SignalKind), usize> = BTreeMap::new();
    for b in &weeks {
        let (f, t) = week(*b);
        let in_week: Vec<Observation> =
            history.iter().filter(|o| o.day >= f && o.day <= t).map(|o| (*o).clone()).collect();
        for (key, people) in people_in(&in_week, f, t) {
            *usual.entry(key).or_default() += people.len();
        }
    }
    this_week
        .into_iter()
        .map(|((district, kind), people)| {
            let total = usual.get(&(district.clone(), kind)).copied().unwrap_or(0);
            let baseline = if weeks.is_empty() { 0.0 } else { total as f64 / weeks.len() as f64 };
            let chance = poisson_at_least(people.len(), baseline.max(BASELINE_FLOOR));
            Count {
                district,
                kind,
                people: people.into_iter().collect(),
                baseline,
                baseline_weeks: weeks.len() as u64,
                chance,
            }
        })
        .collect()
}

/// The alerts for the 7 days ending `last_day`, the least likely first.
pub fn alerts(observations: &[Observation], last_day: NaiveDate, history_from: NaiveDate) -> Vec<Alert> {
    alerts_of(&counts(observations, last_day, history_from), last_day)
}

/// The alerts among `counts` (of the 7 days ending `last_day`), the least likely first.
pub fn alerts_of(counts: &[Count], last_day: NaiveDate) -> Vec<Alert> {
    let mut alerts: Vec<Alert> = counts
        .iter()
        .filter(|c| c.is_alert())
        .map(|c| Alert { from: last_day - Days::new(6), to: last_day, count: c.clone(), words: c.words(last_day) })
        .collect();
    alerts.sort_by(|a, b| {
        a.count.chance.total_cmp(&b.count.chance).then_with(|| a.count.district.cmp(&b.count.district))
    });
    alerts
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn day(n: u64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 5).unwrap_or_default() + Days::new(n)
    }

    const TODAY: u64 = 7 * 20;

    fn obs(person: u128, d: u64, district: &str, signs: &[SoftSign]) -> Observation {
        Observation {
            person: PersonId(Uuid::from_u128(person)),
            day: day(d),
            district: district.into(),
            signs: signs.to_vec(),
        }
    }

    /// Six falls in NB3 over the 12 weeks before (0.5 a week), by different people.
    fn usual_falls() -> Vec<Observation> {
        (0..6u64)
            .map(|i| obs(1000 + u128::from(i), TODAY - 7 * (2 * i + 1) - 2, "NB3", &[SoftSign::UnsteadyOrFall]))
            .collect()
    }

    fn falls_this_week(n: u128) -> Vec<Observation> {
        (0..n).map(|i| obs(i, TODAY - (i % 7) as u64, "NB3", &[SoftSign::UnsteadyOrFall])).collect()
    }

    #[test]
    fn poisson_tail_matches_the_formula() {
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9 * b.max(1e-12) + 1e-15;
        // 1 - e^-0.5 (1 + 0.5 + 0.125 + 0.5^3/6)
        let four = 1.0 - (-0.5f64).exp() * (1.0 + 0.5 + 0.125 + 0.125 / 6.0);
        assert!(close(poisson_at_least(4, 0.5), four), "{}", poisson_at_least(4, 0.5));
        assert!(close(poisson_at_least(1, 2.0), 1.0 - (-2.0f64).exp()));
        assert_eq!(poisson_at_least(0, 0.3), 1.0);
        assert!(close(poisson_at_least(3, 5.0), 1.0 - (-5.0f64).exp() * (1.0 + 5.0 + 12.5)));
        assert!(poisson_at_least(40, 0.2) < 1e-40);
    }

    #[test]
    fn four_falls_over_a_usual_half_a_week_alert_and_three_or_one_do_not() {
        for (n, alert) in [(4, true), (5, true), (3, false), (1, false)] {
            let mut o = usual_falls();
            o.extend(falls_this_week(n));
            let found = alerts(&o, day(TODAY), day(0));
            assert_eq!(!found.is_empty(), alert, "{n} falls: {found:?}");
            if alert {
                let a = &found[0];
                assert_eq!(
                    (a.count.kind, a.count.district.as_str(), a.count.people.len()),
                    (SignalKind::Falls, "NB3", n as usize)
                );
                assert_eq!(a.count.baseline, 0.5);
                assert!(a.words.starts_with(&format!("{n} people with a fall")), "{}", a.words);
                assert!(
                    a.words.contains("in NB3 in the 7 days to 25 May; usually about 0.5 a week (the 12 weeks before)"),
                    "{}",
                    a.words
                );
            }
        }
    }

    #[test]
    fn people_are_counted_not_notes() {
        let mut o = usual_falls();
        // Two people with falls at every visit of the week: still two.
        for d in 0..7 {
            o.push(obs(1, TODAY - d, "NB3", &[SoftSign::UnsteadyOrFall]));
            o.push(obs(2, TODAY - d, "NB3", &[SoftSign::UnsteadyOrFall]));
        }
        let c = counts(&o, day(TODAY), day(0));
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].people.len(), 2);
        assert!(alerts(&o, day(TODAY), day(0)).is_empty());
    }

    #[test]
    fn a_zero_baseline_alerts_on_three_not_two() {
        let two = falls_this_week(2);
        assert!(alerts(&two, day(TODAY), day(0)).is_empty());
        let three = falls_this_week(3);
        let found = alerts(&three, day(TODAY), day(0));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].words.contains("usually about 0 a week"), "{}", found[0].words);
    }

    #[test]
    fn other_districts_and_weeks_do_not_mix() {
        let mut o = usual_falls();
        // Four falls, but two in NB1 and two in NB3; then three more in NB3 eight days ago.
        o.extend((0..2).map(|i| obs(i, TODAY, "NB1", &[SoftSign::UnsteadyOrFall])));
        o.extend((2..4).map(|i| obs(i, TODAY, "NB3", &[SoftSign::UnsteadyOrFall])));
        o.extend((4..7).map(|i| obs(i, TODAY - 8, "NB3", &[SoftSign::UnsteadyOrFall])));
        assert!(alerts(&o, day(TODAY), day(0)).is_empty());
    }

    #[test]
    fn a_possible_infection_is_two_signs_in_one_person_within_the_week() {
        let mut o = Vec::new();
        for p in 0..3u128 {
            // Confusion on Monday, bladder change on Thursday: the same person, the same week.
            o.push(obs(p, TODAY - 3, "NB2", &[SoftSign::Confusion]));
            o.push(obs(p, TODAY, "NB2", &[SoftSign::BowelOrBladder]));
        }
        let found = alerts(&o, day(TODAY), day(0));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].count.kind, SignalKind::PossibleInfection);
        // Confusion in three people and a bladder change in three others is no infection cluster.
        let split: Vec<_> = (0..3u128)
            .flat_map(|p| {
                [obs(p, TODAY, "NB2", &[SoftSign::Confusion]), obs(p + 10, TODAY, "NB2", &[SoftSign::BowelOrBladder])]
            })
            .collect();
        assert!(alerts(&split, day(TODAY), day(0)).is_empty());
        // Hot or cold with breathing signs counts as both a possible infection and breathing.
        let kinds = SignalKind::of(&[SoftSign::HotColdOrShivering, SoftSign::Breathing].into_iter().collect());
        assert_eq!(kinds, vec![SignalKind::PossibleInfection, SignalKind::Breathing]);
        assert!(SignalKind::of(&[SoftSign::HotColdOrShivering].into_iter().collect()).is_empty());
    }

    #[test]
    fn baseline_counts_only_weeks_the_device_holds() {
        // Two weeks of history holding three falls: the usual is 1.5 a week, not 3 in 12.
        let mut o = vec![
            obs(50, TODAY - 8, "NB3", &[SoftSign::UnsteadyOrFall]),
            obs(51, TODAY - 10, "NB3", &[SoftSign::UnsteadyOrFall]),
        ];
        o.push(obs(52, TODAY - 13, "NB3", &[SoftSign::UnsteadyOrFall]));
        o.extend(falls_this_week(3));
        let c = counts(&o, day(TODAY), day(TODAY - 20));
        assert_eq!((c[0].baseline_weeks, c[0].baseline), (2, 1.5));
        assert!(alerts(&o, day(TODAY), day(TODAY - 20)).is_empty(), "3 over a usual 1.5 is not unusual");
    }

    #[test]
    fn the_rule_is_stated() {
        assert!(rule_words().contains("at least 3 people") && rule_words().contains("1 time in 500"));
    }
}
