//! `cargo xtask bench trends`: the caseload early warning (`doorstep_model::early_warning`) and
//! the commissioners' weekly counts (`doorstep_hub::trends`) on generated caseloads
//! (`doorstep_demo::caseload`), several seeds, a provider of 300 people in three districts.
//!
//! Prints figures, then as its last line `RESULT cluster_detected=… single_event_alerts=…
//! false_alerts_per_52w=… differencing_leaks=… rule_ms=… detect_ms=…`:
//! - `cluster_detected`: seeds where 4 falls injected into one district's quiet week alerted,
//!   as detected/seeds;
//! - `single_event_alerts`: alerts for that district's falls when 1 fall is injected (goal 0);
//! - `false_alerts_per_52w`: alerts over 52 quiet weeks, the mean over the seeds (goal ≤ 1);
//! - `differencing_leaks`: cells of consecutive weekly commissioners' feeds (3 providers, late
//!   tablets) whose shown figures differ because fewer than 5 people arrived in between (goal 0);
//! - `rule_ms`: the median time of the rule alone over 13 weeks of observations already in memory;
//! - `detect_ms`: the manager's device's whole path, as `Device::early_warning` runs it: its
//!   store's read of 13 weeks of notes (a 300-person caseload, a note per person per day), then the
//!   rule (goal under 50 ms).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate};
use doorstep_demo::caseload::{Caseload, DISTRICTS};
use doorstep_demo::{Generator, at};
use doorstep_hub::trends::{ALL_AREAS, Measure, TrendFact, WeekCounts, count_week, countable_weeks};
use doorstep_model::early_warning::{self, BASELINE_WEEKS, Observation, SignalKind};
use doorstep_model::{Comparison, Person, SoftSign, SoftSignObservation};
use doorstep_store::Store;
use rand::{RngExt, SeedableRng};
use uuid::Uuid;

use crate::Result;

const PEOPLE: usize = 300;
const QUIET_WEEKS: u64 = 52;
const PROVIDERS: u64 = 3;

fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 6).unwrap_or_default() // a Monday
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// The weeks of observations the device reads for the week ending `last`.
fn window(observations: &[Observation], last: NaiveDate) -> Vec<Observation> {
    let from = last - Days::new(7 * (BASELINE_WEEKS + 1) - 1);
    observations.iter().filter(|o| o.day >= from && o.day <= last).cloned().collect()
}

fn nb3_falls(found: &[early_warning::Alert]) -> Option<&early_warning::Alert> {
    found.iter().find(|a| a.count.district == "NB3" && a.count.kind == SignalKind::Falls)
}

pub fn trends(args: &[&str]) -> Result {
    let seeds: u64 = match args {
        [] => 20,
        ["--seeds", n] => n.parse().map_err(|_| format!("--seeds takes a number, not {n}"))?,
        _ => return Err("usage: cargo xtask bench trends [--seeds N]".into()),
    };
    crate::require_release("bench trends")?;
    println!("Caseload early warning: {seeds} seeds, {PEOPLE} people in {} districts", DISTRICTS.len());
    let (mut detected, mut single, mut false_alerts) = (0u64, 0u64, 0usize);
    let mut timings = Vec::new();
    let mut false_kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for seed in 1..=seeds {
        let history = Generator::new(seed).quiet_caseload(PEOPLE, &DISTRICTS, start(), BASELINE_WEEKS + 1);
        let last = history.last_day;
        let mut cluster = history.clone();
        let injected = cluster.inject("NB3", &[SoftSign::UnsteadyOrFall], 4, last);
        let found = early_warning::alerts(&cluster.observations, last, start());
        let hit = nb3_falls(&found).is_some_and(|a| injected.iter().all(|p| a.count.people.contains(p)));
        detected += u64::from(hit);
        let mut one = history.clone();
        one.inject("NB3", &[SoftSign::UnsteadyOrFall], 1, last);
        let one_alerted = nb3_falls(&early_warning::alerts(&one.observations, last, start())).is_some();
        single += u64::from(one_alerted);

        let quiet = Generator::new(seed).quiet_caseload(PEOPLE, &DISTRICTS, start(), BASELINE_WEEKS + QUIET_WEEKS);
        let mut this_seed = 0;
        for week in BASELINE_WEEKS..BASELINE_WEEKS + QUIET_WEEKS {
            let last = start() + Days::new(7 * week + 6);
            let observations = window(&quiet.observations, last);
            let began = Instant::now();
            let found = early_warning::alerts(&observations, last, start());
            timings.push(began.elapsed());
            for a in &found {
                *false_kinds.entry(a.count.kind.label()).or_default() += 1;
            }
            this_seed += found.len();
        }
        false_alerts += this_seed;
        println!(
            "  seed {seed:>2}: 4 falls {}, 1 fall {}, {this_seed} false alert(s) in {QUIET_WEEKS} quiet weeks",
            if hit { "alerted" } else { "missed" },
            if one_alerted { "alerted" } else { "quiet" }
        );
    }
    println!("  false alerts by kind: {false_kinds:?}");
    let detect = median(timings.clone());
    let worst = timings.iter().max().copied().unwrap_or_default();
    println!("  a week's alerts from the observations: median {:.3} ms, worst {:.3} ms", ms(detect), ms(worst));
    let store_ms = from_store()?;
    println!("  …and from a store of 13 weeks of notes (query and alerts): median {store_ms:.2} ms");

    let (leaks, recount_leaks, cells) = differencing(seeds.min(5));
    println!(
        "Commissioners' weekly feeds: {cells} cells compared between consecutive feeds; {leaks} reveal fewer than 5 \
         people by subtraction (recounting each view instead of publishing each week once would: {recount_leaks})"
    );
    println!(
        "RESULT cluster_detected={detected}/{seeds} single_event_alerts={single} false_alerts_per_52w={:.2} \
         differencing_leaks={leaks} rule_ms={:.3} detect_ms={store_ms:.3}",
        false_alerts as f64 / seeds as f64,
        ms(detect)
    );
    Ok(())
}

/// The device's whole path for one week: its store's query, then the rule, over 13 weeks of a
/// 300-person caseload (a note per person per day, signs as generated).
fn from_store() -> Result<f64> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut store = Store::open(dir.path().join("office.db")).map_err(|e| e.to_string())?;
    let caseload = Generator::new(1).quiet_caseload(PEOPLE, &DISTRICTS, start(), BASELINE_WEEKS + 1);
    let mut g = Generator::new(99);
    let postcode = |d: &str| format!("{d} 2QT");
    let mut by_day: BTreeMap<(doorstep_model::PersonId, NaiveDate), Vec<SoftSign>> = BTreeMap::new();
    for o in &caseload.observations {
        by_day.entry((o.person, o.day)).or_default().extend(o.signs.iter().copied());
    }
    let last = caseload.last_day;
    let days = (last - caseload.first_day).num_days() as u64 + 1;
    let store_err = |e: doorstep_store::StoreError| e.to_string();
    for (id, district) in &caseload.people {
        let mut person: Person = g.person();
        person.id = *id;
        person.address.postcode = postcode(district);
        store.put(&person).map_err(store_err)?;
        for d in 0..days {
            let day = caseload.first_day + Days::new(d);
            let visit = g.visit(&person, at(day, 9, 0));
            store.put(&visit).map_err(store_err)?;
            let mut note = g.note(&visit);
            note.soft_signs.clear();
            for sign in by_day.get(&(*id, day)).into_iter().flatten() {
                note.observe(SoftSignObservation {
                    sign: *sign,
                    compared_to_usual: Comparison::New,
                    detail: String::new(),
                });
            }
            store.put(&note).map_err(store_err)?;
        }
    }
    let mut samples = Vec::new();
    for _ in 0..15 {
        let began = Instant::now();
        let observations =
            store.sign_changes_between(last - Days::new(7 * (BASELINE_WEEKS + 1) - 1), last).map_err(store_err)?;
        let from = store.first_note_day().map_err(store_err)?.unwrap_or(last);
        let counts = early_warning::counts(&observations, last, from);
        std::hint::black_box(early_warning::alerts_of(&counts, last));
        samples.push(began.elapsed());
    }
    Ok(ms(median(samples)))
}

/// The hub's facts for one provider's caseload: each observation as the hub notes it, arriving
/// when the tablet syncs (most the same day or the next, one in ten up to three weeks late).
fn facts_of(provider: Uuid, caseload: &Caseload, rng: &mut rand::rngs::StdRng) -> Vec<(NaiveDate, TrendFact)> {
    caseload
        .observations
        .iter()
        .map(|o| {
            let late = if rng.random_bool(0.1) { rng.random_range(3..21) } else { rng.random_range(0..2) };
            let mut measures = vec![Measure::AnySign];
            measures.extend(o.signs.iter().map(|s| Measure::Sign(*s)));
            let fact = TrendFact { provider, person: o.person.0, area: o.district.clone(), day: o.day, measures };
            (o.day + Days::new(late), fact)
        })
        .collect()
}

/// People behind a cell, counted exactly (what the hub never shows).
fn true_people(facts: &[&TrendFact], week: NaiveDate, measure: &str, area: &str) -> usize {
    let end = week + Days::new(7);
    let mut people: Vec<Uuid> = facts
        .iter()
        .filter(|f| f.day >= week && f.day < end && (area == ALL_AREAS || f.area == area))
        .filter(|f| f.measures.iter().any(|m| m.code() == measure))
        .map(|f| f.person)
        .collect();
    people.sort();
    people.dedup();
    people.len()
}

/// Consecutive weekly commissioners' feeds over a year of three providers' caseloads, compared
/// cell by cell: (leaks as the hub publishes — each week counted once, then shown as published;
/// leaks if every view recounted; cells compared).
fn differencing(seeds: u64) -> (usize, usize, usize) {
    let (mut leaks, mut recount_leaks, mut cells) = (0, 0, 0);
    for seed in 1..=seeds {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut arrivals = Vec::new();
        for p in 0..PROVIDERS {
            let caseload = Generator::new(seed * 100 + p).quiet_caseload(PEOPLE, &DISTRICTS, start(), 52);
            arrivals.extend(facts_of(Uuid::from_u128(u128::from(p + 1)), &caseload, &mut rng));
        }
        let mut published: BTreeMap<NaiveDate, WeekCounts> = BTreeMap::new();
        let mut previous: Option<(Vec<WeekCounts>, Vec<WeekCounts>, Vec<&TrendFact>)> = None;
        // The commissioner looks every Wednesday.
        for view in 2..52u64 {
            let today = start() + Days::new(7 * view + 2);
            let known: Vec<&TrendFact> = arrivals.iter().filter(|(a, _)| *a <= today).map(|(_, f)| f).collect();
            let owned: Vec<TrendFact> = known.iter().map(|f| (*f).clone()).collect();
            let weeks: Vec<NaiveDate> = countable_weeks(today).into_iter().filter(|w| *w >= start()).collect();
            let feed: Vec<WeekCounts> =
                weeks.iter().map(|w| published.entry(*w).or_insert_with(|| count_week(&owned, *w)).clone()).collect();
            let recount: Vec<WeekCounts> = weeks.iter().map(|w| count_week(&owned, *w)).collect();
            if let Some((before, recount_before, known_before)) = &previous {
                for (now, then, leak) in [(&feed, before, &mut leaks), (&recount, recount_before, &mut recount_leaks)] {
                    for week in now {
                        let Some(old) = then.iter().find(|w| w.week == week.week) else { continue };
                        for cell in &week.cells {
                            cells += 1;
                            let was = old.cells.iter().find(|c| c.measure == cell.measure && c.area == cell.area);
                            if was.and_then(|c| c.people) == cell.people {
                                continue;
                            }
                            let arrived = true_people(&known, week.week, &cell.measure, &cell.area)
                                - true_people(known_before, week.week, &cell.measure, &cell.area);
                            if (1..5).contains(&arrived) {
                                *leak += 1;
                            }
                        }
                    }
                }
            }
            previous = Some((feed, recount, known));
        }
    }
    (leaks, recount_leaks, cells / 2)
}
