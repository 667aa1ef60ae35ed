//! The caseload early warning on the manager's device, from its real encrypted store: people in
//! one postcode district with falls this week against their usual weeks.

use std::sync::Arc;

use chrono::{Days, NaiveDate};
use doorstep_commands::ErrorCode;
use doorstep_demo::{Generator, at};
use doorstep_device::{Device, LOCK_AFTER};
use doorstep_model::early_warning::SignalKind;
use doorstep_model::{Comparison, Person, Role, SoftSign, SoftSignObservation};
use doorstep_store::Store;

use crate::device::{enrolled, hub};

/// Writes a visit on `day` to `person` whose note records `sign` as `compared`.
fn visit_with(
    store: &mut Store,
    g: &mut Generator,
    person: &Person,
    day: NaiveDate,
    sign: SoftSign,
    compared: Comparison,
) {
    let visit = g.visit(person, at(day, 10, 0));
    store.put(&visit).expect("visit");
    let mut note = g.note(&visit);
    note.soft_signs.clear();
    note.observe(SoftSignObservation { sign, compared_to_usual: compared, detail: String::new() });
    store.put(&note).expect("note");
}

#[tokio::test]
async fn four_people_falling_in_one_district_this_week_are_an_alert_that_names_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = hub(dir.path()).await;
    let today = NaiveDate::from_ymd_opt(2026, 3, 12).expect("day");
    let clock: doorstep_device::Clock = Arc::new(move || at(today, 14, 0));
    let office: Device = enrolled(&hub, dir.path(), "M001", Role::Manager, LOCK_AFTER).await.with_clock(clock);
    let mut g = Generator::new(19);
    let mut falling = Vec::new();
    {
        let mut store = office.unlocked_store().await.expect("open");
        let mut people = Vec::new();
        for n in 0..12 {
            let mut person = g.person();
            person.address.postcode = if n < 10 { "NB3 2QT" } else { "NB1 4AA" }.into();
            store.put(&person).expect("person");
            people.push(person);
        }
        // Twelve usual weeks (and one before them): one fall every other week in NB3 (half a
        // week), a note a week each.
        for week in 1..=13u64 {
            let day = today - Days::new(7 * week);
            for (i, person) in people.iter().enumerate() {
                let fell = i == (week as usize % 10) && week % 2 == 0;
                let sign = if fell { SoftSign::UnsteadyOrFall } else { SoftSign::NewPain };
                let compared = if i % 3 == 0 { Comparison::SameAsUsual } else { Comparison::New };
                visit_with(&mut store, &mut g, person, day, sign, if fell { Comparison::New } else { compared });
            }
        }
        // This week: four people in NB3 fall, one of them twice; two more were unsteady as usual
        // for them, and two people fall in NB1.
        for (i, person) in people[..4].iter().enumerate() {
            visit_with(
                &mut store,
                &mut g,
                person,
                today - Days::new(i as u64),
                SoftSign::UnsteadyOrFall,
                Comparison::New,
            );
            falling.push(person.id);
        }
        visit_with(&mut store, &mut g, &people[0], today - Days::new(5), SoftSign::UnsteadyOrFall, Comparison::Worse);
        for person in &people[4..6] {
            visit_with(&mut store, &mut g, person, today, SoftSign::UnsteadyOrFall, Comparison::SameAsUsual);
        }
        for person in &people[10..] {
            visit_with(&mut store, &mut g, person, today, SoftSign::UnsteadyOrFall, Comparison::New);
        }
    }
    let screen = office.early_warning().await.expect("early warning");
    assert_eq!((screen.from, screen.to), (today - Days::new(6), today));
    assert_eq!(screen.alerts.len(), 1, "{:#?}", screen.alerts);
    let alert = &screen.alerts[0];
    assert_eq!((alert.count.district.as_str(), alert.count.kind), ("NB3", SignalKind::Falls));
    let mut listed = alert.count.people.clone();
    listed.sort();
    falling.sort();
    assert_eq!(listed, falling, "people, not notes, and not the usual unsteadiness");
    assert_eq!(alert.count.baseline, 0.5);
    assert!(alert.words.starts_with("4 people with a fall"), "{}", alert.words);
    assert!(alert.words.contains("in NB3 in the 7 days to 12 Mar; usually about 0.5 a week"), "{}", alert.words);
    // Every person an alert names can be shown by name and linked to.
    for p in &falling {
        assert!(screen.people.iter().any(|row| row.id == p.to_string()), "{p:?} named");
    }
    let nb1 = screen.counts.iter().find(|c| c.district == "NB1" && c.kind == SignalKind::Falls).expect("NB1 counted");
    assert!(!nb1.is_alert() && nb1.people.len() == 2);
    assert!(screen.rule.contains("at least 3 people"));

    // A carer's tablet is not shown the caseload.
    let tablet = enrolled(&hub, dir.path(), "C001", Role::Carer, LOCK_AFTER).await;
    let refused = tablet.early_warning().await.expect_err("carers are refused");
    assert_eq!(refused.code, ErrorCode::Invalid);
}

/// What `cargo xtask run` shows the office: the demo's falls in Peggy's district are one alert
/// naming the four people, and nothing else alerts.
#[tokio::test]
async fn the_demos_falls_in_one_district_are_the_alert_the_office_sees() {
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = hub(dir.path()).await;
    let today = NaiveDate::from_ymd_opt(2026, 3, 12).expect("day");
    let clock: doorstep_device::Clock = Arc::new(move || at(today, 14, 0));
    let office: Device = enrolled(&hub, dir.path(), "M001", Role::Manager, LOCK_AFTER).await.with_clock(clock);
    {
        let mut store = office.unlocked_store().await.expect("open");
        doorstep_demo::load_demo(&mut store, today).expect("demo");
        doorstep_demo::load_falls_cluster(&mut store, today).expect("falls");
    }
    let screen = office.early_warning().await.expect("early warning");
    assert_eq!(screen.alerts.len(), 1, "{:#?}", screen.alerts);
    let alert = &screen.alerts[0];
    assert_eq!((alert.count.district.as_str(), alert.count.kind), ("NB3", SignalKind::Falls));
    assert_eq!(alert.count.people.len(), 4, "Peggy and the three others");
    assert!(alert.words.starts_with("4 people with a fall"), "{}", alert.words);
}
