//! The device store end to end, on real SQLite files: every record kind round-trips, edits are
//! one change each, projections (day lists, timelines, the deterioration watch, search) follow
//! the documents, documents compact, two devices merge, and one damaged record stays one
//! damaged record.

use std::path::Path;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use doorstep_demo::{at, load_demo};
use doorstep_model::insight::{Comment, ConsentBasis, Insight, InsightStatus, PartnerKind, Urgency};
use doorstep_model::news2::{Acvpu, VitalSigns};
use doorstep_model::note::{Comparison, FoodFluid, Intake, Mood, SoftSign, SoftSignObservation, VisitNote};
use doorstep_model::person::{ConsentRecord, Contact, UsualForMe};
use doorstep_model::visit::{Task, TaskKind, TaskOutcome, TimeWindow, Visit, VisitError, VisitStatus};
use doorstep_model::watch::WatchLevel;
use doorstep_model::{InsightId, NhsNumber, NoteId, Person, PersonId, RecordKind, SpO2Scale, StaffId, VisitId};
use doorstep_store::{Store, StoreError, Written};
use rusqlite::Connection;
use tempfile::TempDir;
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).expect("a real date")
}

/// A store in its own temporary directory; the directory lives as long as the returned guard.
fn new_store() -> (TempDir, Store) {
    let dir = TempDir::new().expect("temp dir");
    let store = Store::open(dir.path().join("device.sqlite")).expect("open store");
    (dir, store)
}

/// A second, plain connection to the store's file, to look at what is really on disk.
fn raw(path: &Path) -> Connection {
    Connection::open(path).expect("second connection")
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).expect(sql)
}

/// How many Automerge changes the stored document holds (its whole history).
fn history(store: &Store, kind: RecordKind, id: &str) -> usize {
    let bytes = store.document_bytes(kind, id).expect("document bytes");
    automerge::AutoCommit::load(&bytes).expect("load").get_changes(&[]).len()
}

/// Incremental change rows appended after the document's snapshot.
fn change_rows(conn: &Connection, id: &str) -> i64 {
    conn.query_row(
        "SELECT COUNT(*) FROM document_changes c JOIN documents d ON d.doc_no = c.doc_no WHERE d.id = ?1",
        [id],
        |r| r.get(0),
    )
    .expect("count changes")
}

fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(0x1000_0000_0000_4000_8000_0000_0000_0000 | n)
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).single().expect("a real time")
}

fn peggy() -> Person {
    let mut p = Person::new(PersonId(uuid(1)), "P00001", "Margaret", "Jones");
    p.name.preferred = Some("Peggy".into());
    p.date_of_birth = NaiveDate::from_ymd_opt(1938, 5, 2);
    p.nhs_number = Some(NhsNumber::parse("943 476 5919").expect("valid NHS number"));
    p.address.lines = vec!["14 Mill Lane".into(), "Northbrook".into()];
    p.address.postcode = "NB3 2QT".into();
    p.address.access = "Key safe by the back door".into();
    p.gp_practice = "Riverside Surgery".into();
    p.key_contacts =
        vec![Contact { name: "Sue Jones".into(), relationship: "Daughter".into(), phone: "07700 900123".into() }];
    p.communication_needs = "Hard of hearing on the left".into();
    p.known_risks = vec!["Falls".into(), "Type 2 diabetes".into()];
    p.what_matters_to_me = "Staying at home with Biscuit the cat".into();
    p.strengths_and_interests = vec!["Crosswords".into()];
    p.usual = vec![UsualForMe::new(SoftSign::Confusion, "Sharp, knows the day")];
    p.spo2_scale = SpO2Scale::Scale1;
    p.consent.nhs = Some(ConsentRecord {
        given: true,
        recorded_by: StaffId::new("M001"),
        recorded_at: utc(2026, 9, 1, 10, 30),
        note: "Happy for the GP to be told".into(),
    });
    p
}

fn arthur() -> Person {
    let mut p = Person::new(PersonId(uuid(2)), "P00002", "Arthur", "Patel");
    p.date_of_birth = NaiveDate::from_ymd_opt(1944, 9, 17);
    p.spo2_scale = SpO2Scale::Scale2;
    p
}

fn visit(n: u128, person: &Person, start: DateTime<Utc>, carers: &[&str]) -> Visit {
    Visit {
        id: VisitId(uuid(100 + n)),
        person_id: person.id,
        window: TimeWindow { start, end: start + Duration::minutes(30) },
        carers: carers.iter().map(|c| StaffId::new(*c)).collect(),
        tasks: vec![
            Task {
                key: "personalcare-1".into(),
                kind: TaskKind::PersonalCare,
                description: "Wash and dress".into(),
                outcome: None,
            },
            Task { key: "meal-1".into(), kind: TaskKind::Meal, description: "Breakfast".into(), outcome: None },
        ],
        checked_in_at: None,
        checked_out_at: None,
        status: VisitStatus::Scheduled,
        could_not: None,
        reviewed: None,
    }
}

fn note_for(visit: &Visit, narrative: &str) -> VisitNote {
    let mut note = VisitNote::new(NoteId::for_visit(visit.id), visit.id, visit.person_id);
    note.narrative = narrative.into();
    note
}

fn sign(sign: SoftSign, compared_to_usual: Comparison, detail: &str) -> SoftSignObservation {
    SoftSignObservation { sign, compared_to_usual, detail: detail.into() }
}

/// Complete vitals scoring NEWS2 5 (respiration 21 → 2, SpO2 95 → 1, BP 108 → 1, pulse 96 → 1):
/// the Medium band.
fn vitals_scoring_five() -> VitalSigns {
    VitalSigns {
        respiration_rate: Some(21),
        spo2_percent: Some(95),
        on_oxygen: Some(false),
        systolic_bp: Some(108),
        pulse: Some(96),
        consciousness: Some(Acvpu::Alert),
        temperature_c: Some(37.9),
    }
}

fn insight(n: u128, person: &Person, summary: &str) -> Insight {
    Insight {
        follow_up: None,
        id: InsightId(uuid(500 + n)),
        person_id: Some(person.id),
        author: StaffId::new("C001"),
        created_at: utc(2026, 11, 22, 8, 40),
        summary: summary.into(),
        detail: "She steadies herself on the sink and the towel rail.".into(),
        suggested_action: "OT home assessment.".into(),
        who_could_act: vec![PartnerKind::OtEquipment, PartnerKind::CouncilAdultSocialCare],
        urgency: Urgency::Soon,
        consent_basis: ConsentBasis::PersonConsented,
        status: InsightStatus::Submitted,
        comments: vec![Comment {
            key: "c1".into(),
            author: "M001".into(),
            at: utc(2026, 11, 22, 12, 0),
            text: "Spoke to her daughter about it".into(),
        }],
        shares: vec![],
    }
}

// ---------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------

/// Puts `record`, reads it back, then puts it again unchanged and checks that wrote nothing.
fn assert_round_trip<R>(store: &mut Store, record: &R, id: &str)
where
    R: doorstep_store::Record + PartialEq + std::fmt::Debug,
{
    assert_eq!(store.put(record).expect("first put"), Written::Changed);
    let back: R = store.get(id).expect("get");
    assert_eq!(&back, record);

    let conn = raw(store.path());
    let rows_before = count(&conn, "SELECT COUNT(*) FROM document_changes");
    let snapshot_before: Vec<u8> =
        conn.query_row("SELECT snapshot FROM documents WHERE id = ?1", [id], |r| r.get(0)).expect("snapshot");
    assert_eq!(store.put(record).expect("second put"), Written::Unchanged);
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM document_changes"),
        rows_before,
        "an unchanged put added a change row"
    );
    let snapshot_after: Vec<u8> =
        conn.query_row("SELECT snapshot FROM documents WHERE id = ?1", [id], |r| r.get(0)).expect("snapshot");
    assert_eq!(snapshot_after, snapshot_before, "an unchanged put rewrote the snapshot");
    assert_eq!(&store.get::<R>(id).expect("get again"), record);
}

#[test]
fn a_person_round_trips_and_an_identical_put_writes_nothing() {
    let (_dir, mut store) = new_store();
    let p = peggy();
    assert_round_trip(&mut store, &p, &p.id.to_string());
}

#[test]
fn a_visit_round_trips_and_an_identical_put_writes_nothing() {
    let (_dir, mut store) = new_store();
    let p = peggy();
    store.put(&p).expect("person");
    let mut v = visit(1, &p, at(today(), 8, 0), &["C001", "C002"]);
    v.check_in(v.window.start + Duration::minutes(2)).expect("check in");
    v.record_task("meal-1", TaskOutcome::NotDone { reason: "Had eaten already".into() }).expect("task");
    assert_round_trip(&mut store, &v, &v.id.to_string());
}

#[test]
fn a_visit_note_with_vitals_soft_signs_and_narrative_round_trips() {
    let (_dir, mut store) = new_store();
    let p = peggy();
    let v = visit(1, &p, at(today(), 8, 0), &["C001"]);
    let mut note = note_for(&v, "Quiet this morning, said she slept badly. Took her tablets with water.");
    note.observe(sign(SoftSign::Confusion, Comparison::New, "Asked twice what day it was"));
    note.observe(sign(SoftSign::UnsteadyOrFall, Comparison::SameAsUsual, "Uses her frame"));
    note.vitals = Some(vitals_scoring_five());
    note.food_fluid =
        FoodFluid { eating: Some(Intake::Less), drinking: Some(Intake::Usual), detail: "Half her porridge".into() };
    note.mood = Some(Mood::Low);
    note.touched_by(&StaffId::new("C001"), v.window.start + Duration::minutes(20));
    assert_round_trip(&mut store, &note, &note.id.to_string());
}

#[test]
fn an_insight_round_trips_and_an_identical_put_writes_nothing() {
    let (_dir, mut store) = new_store();
    let p = peggy();
    let idea = insight(1, &p, "Grab rail by Peggy's bath would stop her near-falls");
    assert_round_trip(&mut store, &idea, &idea.id.to_string());
}

#[test]
fn a_changed_put_adds_exactly_one_change_row() {
    let (_dir, mut store) = new_store();
    let mut p = peggy();
    store.put(&p).expect("put");
    let id = p.id.to_string();
    let before = history(&store, RecordKind::Person, &id);
    p.gp_practice = "Northbrook Medical Centre".into();
    p.known_risks.push("Lives alone".into());
    assert_eq!(store.put(&p).expect("put changed"), Written::Changed);
    assert_eq!(history(&store, RecordKind::Person, &id), before + 1);
    assert_eq!(store.get::<Person>(&id).expect("get"), p);
}

#[test]
fn reading_a_record_that_is_not_there_is_not_found_and_the_wrong_kind_is_refused() {
    let (_dir, mut store) = new_store();
    let p = peggy();
    store.put(&p).expect("put");
    let missing = uuid(999).to_string();
    assert!(matches!(store.get::<Person>(&missing), Err(StoreError::NotFound { kind: RecordKind::Person, .. })));
    assert!(matches!(store.get::<Visit>(&p.id.to_string()), Err(StoreError::WrongKind { .. })));
}

// ---------------------------------------------------------------------------------------------
// Visits and the day list
// ---------------------------------------------------------------------------------------------

#[test]
fn each_visit_update_is_one_change_and_the_day_list_shows_status_in_time_order() {
    let (_dir, mut store) = new_store();
    let (p, a) = (peggy(), arthur());
    store.put(&p).expect("peggy");
    store.put(&a).expect("arthur");
    let evening = visit(3, &p, at(today(), 17, 30), &["C002"]);
    let morning = visit(1, &p, at(today(), 8, 0), &["C001"]);
    let double_up = visit(2, &a, at(today(), 13, 0), &["C001", "C002"]);
    // Written out of order on purpose: the list orders by time, not by insertion.
    for v in [&evening, &double_up, &morning] {
        store.put(v).expect("put visit");
    }

    let id = morning.id.to_string();
    let mut expected = history(&store, RecordKind::Visit, &id);
    let t = morning.window.start + Duration::minutes(3);

    let after = store.update::<Visit>(&id, |v| Ok(v.check_in(t)?)).expect("check in");
    assert_eq!(after.status, VisitStatus::InProgress);
    expected += 1;
    assert_eq!(history(&store, RecordKind::Visit, &id), expected, "check-in is one change");
    assert_eq!(store.visits_on(today(), None).expect("list")[0].status, "in_progress");

    store.update::<Visit>(&id, |v| Ok(v.record_task("meal-1", TaskOutcome::Done)?)).expect("task");
    expected += 1;
    assert_eq!(history(&store, RecordKind::Visit, &id), expected, "recording a task is one change");

    let done = store.update::<Visit>(&id, |v| Ok(v.check_out(t + Duration::minutes(25))?)).expect("check out");
    expected += 1;
    assert_eq!(history(&store, RecordKind::Visit, &id), expected, "check-out is one change");
    assert_eq!(done.status, VisitStatus::Completed);

    let stored: Visit = store.get(&id).expect("get");
    assert_eq!(stored.checked_in_at, Some(t));
    assert_eq!(stored.checked_out_at, Some(t + Duration::minutes(25)));
    assert_eq!(
        stored.tasks.iter().find(|k| k.key == "meal-1").and_then(|k| k.outcome.clone()),
        Some(TaskOutcome::Done)
    );

    let day = store.visits_on(today(), None).expect("day list");
    let ids: Vec<&str> = day.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, [morning.id.to_string(), double_up.id.to_string(), evening.id.to_string()]);
    assert!(day.windows(2).all(|w| w[0].starts_at < w[1].starts_at));
    let statuses: Vec<&str> = day.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(statuses, ["completed", "scheduled", "scheduled"]);
    assert_eq!(day[0].person_name.as_deref(), Some("Margaret (Peggy) Jones"));
    assert_eq!(day[0].starts_at, morning.window.start);
    assert_eq!(day[0].ends_at, morning.window.end);
    assert_eq!(day[1].carers, ["C001", "C002"]);

    let sam: Vec<String> = store.visits_on(today(), Some("C001")).expect("C001").into_iter().map(|r| r.id).collect();
    assert_eq!(sam, [morning.id.to_string(), double_up.id.to_string()]);
    let priya: Vec<String> = store.visits_on(today(), Some("C002")).expect("C002").into_iter().map(|r| r.id).collect();
    assert_eq!(priya, [double_up.id.to_string(), evening.id.to_string()], "the double-up is on both carers' lists");
    assert!(store.visits_on(today(), Some("C999")).expect("nobody").is_empty());
    assert!(store.visits_on(today() + Duration::days(1), None).expect("tomorrow").is_empty());
}

#[test]
fn a_refused_visit_edit_writes_nothing() {
    let (_dir, mut store) = new_store();
    let p = peggy();
    let v = visit(1, &p, at(today(), 8, 0), &["C001"]);
    store.put(&v).expect("put");
    let id = v.id.to_string();
    let before = history(&store, RecordKind::Visit, &id);

    let err = store.update::<Visit>(&id, |v| Ok(v.check_out(v.window.end)?)).expect_err("check-out before check-in");
    assert!(matches!(err, StoreError::Visit(VisitError::NotCheckedIn)), "{err:?}");
    let err = store.update::<Visit>(&id, |v| {
        v.carers.clear();
        Ok(())
    });
    assert!(matches!(err, Err(StoreError::Visit(VisitError::CarerCount(0)))), "{err:?}");

    assert_eq!(history(&store, RecordKind::Visit, &id), before);
    assert_eq!(store.get::<Visit>(&id).expect("get"), v);
    assert_eq!(store.visits_on(today(), None).expect("list")[0].status, "scheduled");
}

#[test]
fn updating_a_record_that_is_not_there_is_not_found() {
    let (_dir, mut store) = new_store();
    let err = store.update::<Visit>(&uuid(4242).to_string(), |_| Ok(())).expect_err("nothing to update");
    assert!(matches!(err, StoreError::NotFound { kind: RecordKind::Visit, .. }), "{err:?}");
}

#[test]
fn a_visit_just_after_midnight_in_summer_is_listed_on_its_uk_day() {
    let (_dir, mut store) = new_store();
    let p = peggy();
    let july = NaiveDate::from_ymd_opt(2026, 7, 15).expect("date");
    // 00:30 BST on 15 July is 23:30 UTC on 14 July.
    let v = visit(1, &p, at(july, 0, 30), &["C001"]);
    assert_eq!(v.window.start, utc(2026, 7, 14, 23, 30));
    store.put(&v).expect("put");
    assert_eq!(store.visits_on(july, None).expect("15th").len(), 1);
    assert!(store.visits_on(july - Duration::days(1), None).expect("14th").is_empty());
}

// ---------------------------------------------------------------------------------------------
// Notes: NEWS2 and the deterioration watch
// ---------------------------------------------------------------------------------------------

#[test]
fn a_note_with_complete_vitals_shows_its_news2_score_on_the_timeline() {
    let (_dir, mut store) = new_store();
    let p = peggy();
    store.put(&p).expect("person");
    let earlier = visit(1, &p, at(today() - Duration::days(1), 8, 0), &["C001"]);
    let v = visit(2, &p, at(today(), 8, 0), &["C001"]);
    store.put(&earlier).expect("earlier visit");
    store.put(&v).expect("visit");
    let mut note = note_for(&v, "A bit breathless today.");
    note.vitals = Some(vitals_scoring_five());
    note.observe(sign(SoftSign::Breathing, Comparison::Worse, "On the stairs"));
    note.observe(sign(SoftSign::UnsteadyOrFall, Comparison::SameAsUsual, "Frame as usual"));
    store.put(&note).expect("note");

    let overview = store.person_overview(&p.id.to_string()).expect("overview");
    assert_eq!(overview.person, p);
    assert_eq!(overview.timeline.len(), 2);
    let newest = &overview.timeline[0];
    assert_eq!(newest.visit_id, v.id.to_string(), "newest first");
    assert_eq!(newest.news2_total, Some(5));
    assert_eq!(newest.news2_band.as_deref(), Some("Medium"));
    assert_eq!(newest.soft_signs, [SoftSign::Breathing], "only changes from usual are listed");
    let older = &overview.timeline[1];
    assert_eq!(older.visit_id, earlier.id.to_string());
    assert_eq!((older.news2_total, older.news2_band.as_deref()), (None, None), "a visit with no note has no score");

    // Incomplete vitals are kept as their lower bound, marked incomplete, so an incomplete
    // Medium or High still reaches the office and the watch.
    assert!(!newest.news2_incomplete);
    store
        .update::<VisitNote>(&note.id.to_string(), |n| {
            if let Some(vitals) = n.vitals.as_mut() {
                vitals.temperature_c = None;
            }
            Ok(())
        })
        .expect("drop temperature");
    let overview = store.person_overview(&p.id.to_string()).expect("overview");
    let newest = &overview.timeline[0];
    assert_eq!((newest.news2_total, newest.news2_band.as_deref()), (Some(5), Some("Medium")), "at least 5");
    assert!(newest.news2_incomplete);
}

#[test]
fn a_note_with_impossible_vitals_is_refused_and_nothing_is_written() {
    let (_dir, mut store) = new_store();
    let p = peggy();
    store.put(&p).expect("person");
    let v = visit(1, &p, at(today(), 8, 0), &["C001"]);
    store.put(&v).expect("visit");
    let conn = raw(store.path());
    let docs_before = count(&conn, "SELECT COUNT(*) FROM documents");

    let mut note = note_for(&v, "Pulse felt very fast");
    note.vitals = Some(VitalSigns { pulse: Some(400), ..vitals_scoring_five() });
    let err = store.put(&note).expect_err("pulse 400");
    assert!(matches!(err, StoreError::Vitals(_)), "{err:?}");
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM documents"), docs_before);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM notes"), 0);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM search_index"), 0);
    assert!(matches!(store.get::<VisitNote>(&note.id.to_string()), Err(StoreError::NotFound { .. })));

    // The same for an edit of a note already stored: refused, and the stored note unchanged.
    note.vitals = Some(vitals_scoring_five());
    store.put(&note).expect("good note");
    let id = note.id.to_string();
    let changes_before = history(&store, RecordKind::Note, &id);
    let err = store
        .update::<VisitNote>(&id, |n| {
            n.narrative.push_str(" and then some");
            n.vitals = Some(VitalSigns { pulse: Some(400), ..vitals_scoring_five() });
            Ok(())
        })
        .expect_err("pulse 400 on edit");
    assert!(matches!(err, StoreError::Vitals(_)), "{err:?}");
    assert_eq!(history(&store, RecordKind::Note, &id), changes_before);
    assert_eq!(store.get::<VisitNote>(&id).expect("get"), note);
    assert_eq!(store.person_overview(&p.id.to_string()).expect("overview").timeline[0].news2_total, Some(5));
}

#[test]
fn nothing_eaten_at_two_visits_and_a_distressed_mood_reach_the_watch() {
    let (_dir, mut store) = new_store();
    let p = peggy();
    store.put(&p).expect("peggy");
    let pid = p.id.to_string();
    let expected = [WatchLevel::Watch, WatchLevel::Concern];
    for (i, level) in expected.into_iter().enumerate() {
        let v = visit(i as u128 + 1, &p, at(today() - Duration::days(1 - i as i64), 8, 0), &["C001"]);
        store.put(&v).expect("visit");
        let mut note = note_for(&v, "Visit note");
        note.food_fluid.eating = Some(doorstep_model::Intake::None);
        note.mood = Some(doorstep_model::Mood::Distressed);
        store.put(&note).expect("note");
        let watch = store.watch(&pid).expect("watch");
        assert_eq!(watch.level, level, "after visit {}: {:?}", i + 1, watch.reasons);
        assert!(watch.reasons.iter().any(|r| r.contains("Distressed")), "{:?}", watch.reasons);
    }
}

#[test]
fn rising_soft_signs_over_three_visits_raise_the_watch_to_concern() {
    let (_dir, mut store) = new_store();
    let (p, a) = (peggy(), arthur());
    store.put(&p).expect("peggy");
    store.put(&a).expect("arthur");
    let pid = p.id.to_string();
    assert_eq!(store.watch(&pid).expect("watch").level, WatchLevel::Clear);

    let signs = [
        vec![sign(SoftSign::Confusion, Comparison::New, "Asked what day it was")],
        vec![
            sign(SoftSign::Confusion, Comparison::New, "Asked twice"),
            sign(SoftSign::EatingDrinkingLess, Comparison::Worse, "Half her breakfast"),
        ],
        vec![
            sign(SoftSign::Confusion, Comparison::Worse, "Did not know me"),
            sign(SoftSign::EatingDrinkingLess, Comparison::Worse, "Nothing eaten"),
            sign(SoftSign::UnsteadyOrFall, Comparison::New, "Nearly fell in the bathroom"),
            // The same as usual for her: recorded, not counted.
            sign(SoftSign::Sleepy, Comparison::SameAsUsual, "Naps after lunch"),
        ],
    ];
    let expected = [WatchLevel::Watch, WatchLevel::Watch, WatchLevel::Concern];
    for (i, (observed, level)) in signs.into_iter().zip(expected).enumerate() {
        let days_ago = 2 - i as i64;
        let v = visit(i as u128 + 1, &p, at(today() - Duration::days(days_ago), 8, 0), &["C001"]);
        store.put(&v).expect("visit");
        let mut note = note_for(&v, "Visit note");
        for o in observed {
            note.observe(o);
        }
        store.put(&note).expect("note");
        assert_eq!(store.watch(&pid).expect("watch").level, level, "after visit {}", i + 1);
    }

    let flag = store.watch(&pid).expect("watch");
    assert_eq!(flag.level, WatchLevel::Concern);
    assert!(flag.reasons.iter().any(|r| r.contains("(1, 2, 3)")), "{:?}", flag.reasons);

    let people = store.people().expect("people");
    let levels: Vec<(&str, WatchLevel)> = people.iter().map(|r| (r.client_ref.as_str(), r.watch)).collect();
    assert_eq!(levels, [("P00001", WatchLevel::Concern), ("P00002", WatchLevel::Clear)]);
    assert_eq!(store.person_overview(&pid).expect("overview").watch, flag);
}

#[test]
fn the_watch_orders_notes_by_visit_time_not_by_when_they_were_written() {
    let (_dir, mut store) = new_store();
    let p = peggy();
    store.put(&p).expect("person");
    let visits: Vec<Visit> =
        (0..3).map(|i| visit(i as u128 + 1, &p, at(today() - Duration::days(2 - i), 8, 0), &["C001"])).collect();
    for v in &visits {
        store.put(v).expect("visit");
    }
    // Newest visits written first; the oldest, with a soft sign, written last.
    store.put(&note_for(&visits[2], "All well")).expect("note 3");
    store.put(&note_for(&visits[1], "All well")).expect("note 2");
    let mut oldest = note_for(&visits[0], "Seemed muddled");
    oldest.observe(sign(SoftSign::Confusion, Comparison::New, "Muddled"));
    store.put(&oldest).expect("note 1");

    // One sign, two visits ago, and nothing since: clear.
    assert_eq!(store.watch(&p.id.to_string()).expect("watch").level, WatchLevel::Clear);
}

// ---------------------------------------------------------------------------------------------
// Search
// ---------------------------------------------------------------------------------------------

#[test]
fn search_finds_words_in_narratives_and_insights_and_tolerates_anything_typed() {
    let (_dir, mut store) = new_store();
    let (p, a) = (peggy(), arthur());
    store.put(&p).expect("peggy");
    store.put(&a).expect("arthur");
    let v1 = visit(1, &p, at(today(), 8, 0), &["C001"]);
    let v2 = visit(2, &a, at(today(), 10, 0), &["C002"]);
    store.put(&v1).expect("v1");
    store.put(&v2).expect("v2");
    let n1 = note_for(&v1, "Ate most of her porridge and had a cup of tea. Nearly slipped on the bathroom mat.");
    let mut n2 = note_for(&v2, "Watched the cricket together while he had lunch.");
    n2.observe(sign(SoftSign::Breathing, Comparison::Worse, "Wheezy on the stairs"));
    store.put(&n1).expect("n1");
    store.put(&n2).expect("n2");
    let idea = insight(1, &p, "Grab rail by Peggy's bath would stop her near-falls");
    store.put(&idea).expect("insight");

    let hits = store.search("porridge", 10).expect("search narrative");
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].id, n1.id.to_string());
    assert_eq!(hits[0].kind, RecordKind::Note);
    assert_eq!(hits[0].person_id.as_deref(), Some(p.id.to_string().as_str()));
    let parts = hits[0].snippet_parts();
    assert!(parts.contains(&("porridge".to_string(), true)), "the match is marked: {parts:?}");
    assert!(parts.iter().filter(|(_, matched)| *matched).count() == 1, "{parts:?}");

    // Stemming: "slipping" finds "slipped"; the last word is a prefix (search as you type).
    assert_eq!(store.search("slipping", 10).expect("stem")[0].id, n1.id.to_string());
    assert_eq!(store.search("porr", 10).expect("prefix")[0].id, n1.id.to_string());
    // Soft-sign details are searchable too.
    let wheezy = store.search("wheezy", 10).expect("soft sign detail");
    assert_eq!(wheezy.len(), 1);
    assert_eq!(wheezy[0].person_id.as_deref(), Some(a.id.to_string().as_str()));

    let hits = store.search("grab rail", 10).expect("search insight");
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].id, idea.id.to_string());
    assert_eq!(hits[0].kind, RecordKind::Insight);
    assert_eq!(hits[0].person_id.as_deref(), Some(p.id.to_string().as_str()));
    // Insight comments are indexed.
    assert_eq!(store.search("daughter", 10).expect("comment")[0].id, idea.id.to_string());

    // Every word is required.
    assert!(store.search("porridge cricket", 10).expect("both").is_empty());
    assert!(store.search("nothing-like-this", 10).expect("absent").is_empty());

    // Brackets a carer typed are text, not highlighting.
    store.put(&insight(2, &p, "Said [sic] she was fine")).expect("bracketed");
    let sic = store.search("fine", 10).expect("search");
    let parts = sic[0].snippet_parts();
    assert!(parts.iter().any(|(text, matched)| !matched && text.contains("[sic]")), "{parts:?}");
    assert!(store.search("   ", 10).expect("blank").is_empty());

    for typed in [
        "NEAR(",
        "NEAR(porridge",
        "\"",
        "\"porridge",
        "porridge\"",
        "porridge OR",
        "OR",
        "AND",
        "NOT porridge",
        "-porridge",
        "porridge*",
        "*",
        "^porridge",
        "body:porridge",
        "kind:note",
        "(",
        ")",
        "porridge)",
        "'",
        "''",
        "O'Brien",
        "Peggy's",
        "a\"b",
        "{}",
        ":",
        "+",
        "porridge -",
        "🙂",
        "ünïcödé",
        "\u{0}",
    ] {
        let result = store.search(typed, 10);
        assert!(result.is_ok(), "searching {typed:?} failed: {result:?}");
    }
    assert_eq!(store.search("\"porridge", 10).expect("quote").len(), 1);
    assert_eq!(store.search("porridge)", 10).expect("bracket").len(), 1);
    assert_eq!(store.search("NOT porridge", 10).expect("NOT is a word").len(), 0, "NOT is searched for literally");
}

#[test]
fn search_respects_the_limit() {
    let (_dir, mut store) = new_store();
    let p = peggy();
    store.put(&p).expect("person");
    for i in 0..5u128 {
        let v = visit(i + 1, &p, at(today() - Duration::days(i as i64), 8, 0), &["C001"]);
        store.put(&v).expect("visit");
        store.put(&note_for(&v, &format!("Made her a cup of tea, visit {i}"))).expect("note");
    }
    assert_eq!(store.search("tea", 3).expect("limited").len(), 3);
    assert_eq!(store.search("tea", 10).expect("all").len(), 5);
    assert_eq!(store.search("tea", 0).expect("none").len(), 0);
}

#[test]
fn search_follows_edits_to_a_note() {
    let (_dir, mut store) = new_store();
    let p = peggy();
    let v = visit(1, &p, at(today(), 8, 0), &["C001"]);
    let note = note_for(&v, "Made porridge");
    store.put(&note).expect("note");
    let id = note.id.to_string();
    store
        .update::<VisitNote>(&id, |n| {
            n.narrative = "Made scrambled eggs".into();
            Ok(())
        })
        .expect("edit");
    assert!(store.search("porridge", 10).expect("old word").is_empty());
    assert_eq!(store.search("scrambled", 10).expect("new word").len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Compaction
// ---------------------------------------------------------------------------------------------

#[test]
fn many_edits_to_one_note_are_compacted_and_the_note_reads_back_whole() {
    let (_dir, mut store) = new_store();
    let p = peggy();
    store.put(&p).expect("person");
    let v = visit(1, &p, at(today(), 8, 0), &["C001"]);
    store.put(&v).expect("visit");
    let note = note_for(&v, "Start.");
    store.put(&note).expect("note");
    let id = note.id.to_string();
    let conn = raw(store.path());
    // Once the hub holds a document, edits are appended as change rows (before that the store
    // keeps it as one compact snapshot): that is the mode whose folding this test checks.
    let heads = store.heads(RecordKind::Note, &id).expect("heads");
    store.acknowledge(&id, &heads).expect("acknowledge");

    let mut expected = note.narrative.clone();
    let mut most_rows = 0;
    for i in 0..40 {
        expected.push_str(&format!(" Edit {i}."));
        let text = expected.clone();
        store
            .update::<VisitNote>(&id, move |n| {
                n.narrative = text;
                Ok(())
            })
            .expect("edit");
        most_rows = most_rows.max(change_rows(&conn, &id));
    }
    let rows = change_rows(&conn, &id);
    assert!(rows < 32, "{rows} change rows left for one note");
    assert!(most_rows < 32, "the change rows reached {most_rows} before being folded");
    let change_count: i64 =
        conn.query_row("SELECT change_count FROM documents WHERE id = ?1", [&id], |r| r.get(0)).expect("count");
    assert_eq!(change_count, rows, "documents.change_count agrees with the rows");

    let back: VisitNote = store.get(&id).expect("get");
    assert_eq!(back.narrative, expected);
    assert_eq!(store.search("Edit 39", 10).expect("search").len(), 1);

    // Reopening the file reads the same note.
    let path = store.path().to_path_buf();
    drop(store);
    let reopened = Store::open(&path).expect("reopen");
    assert_eq!(reopened.get::<VisitNote>(&id).expect("get after reopen").narrative, expected);
}

// ---------------------------------------------------------------------------------------------
// Merging between devices
// ---------------------------------------------------------------------------------------------

#[test]
fn two_devices_editing_a_note_apart_merge_both_edits() {
    let (_dir_a, mut a) = new_store();
    let (_dir_b, mut b) = new_store();
    let p = peggy();
    let v = visit(1, &p, at(today(), 8, 0), &["C001", "C002"]);
    for store in [&mut a, &mut b] {
        store.put(&p).expect("person");
        store.put(&v).expect("visit");
    }
    let note = note_for(&v, "Helped with a wash.");
    let id = note.id.to_string();
    a.put(&note).expect("note on A");

    let bytes = a.document_bytes(RecordKind::Note, &id).expect("bytes");
    assert_eq!(b.apply_changes(RecordKind::Note, &id, &bytes).expect("B receives"), Written::Changed);
    assert_eq!(b.get::<VisitNote>(&id).expect("B reads"), note);
    assert_eq!(b.heads(RecordKind::Note, &id).expect("B heads"), a.heads(RecordKind::Note, &id).expect("A heads"));
    assert_eq!(b.apply_changes(RecordKind::Note, &id, &bytes).expect("again"), Written::Unchanged);

    // Both edit apart: A adds at the end, B at the start.
    a.update::<VisitNote>(&id, |n| {
        n.narrative.push_str(" Ate her porridge.");
        Ok(())
    })
    .expect("A edits");
    b.update::<VisitNote>(&id, |n| {
        n.narrative.insert_str(0, "Priya here. ");
        Ok(())
    })
    .expect("B edits");
    assert_ne!(a.heads(RecordKind::Note, &id).expect("A"), b.heads(RecordKind::Note, &id).expect("B"));

    // Each sends what the other lacks.
    let a_heads = a.heads(RecordKind::Note, &id).expect("A heads");
    let b_heads = b.heads(RecordKind::Note, &id).expect("B heads");
    let to_a = b.changes_since(RecordKind::Note, &id, &a_heads).expect("B → A");
    let to_b = a.changes_since(RecordKind::Note, &id, &b_heads).expect("A → B");
    assert_eq!(a.apply_changes(RecordKind::Note, &id, &to_a).expect("A merges"), Written::Changed);
    assert_eq!(b.apply_changes(RecordKind::Note, &id, &to_b).expect("B merges"), Written::Changed);

    let on_a: VisitNote = a.get(&id).expect("A");
    let on_b: VisitNote = b.get(&id).expect("B");
    assert_eq!(on_a.narrative, "Priya here. Helped with a wash. Ate her porridge.");
    assert_eq!(on_a, on_b);
    assert_eq!(a.heads(RecordKind::Note, &id).expect("A"), b.heads(RecordKind::Note, &id).expect("B"));

    // The same bytes again change nothing, and neither does the whole document.
    assert_eq!(a.apply_changes(RecordKind::Note, &id, &to_a).expect("A again"), Written::Unchanged);
    assert_eq!(b.apply_changes(RecordKind::Note, &id, &to_b).expect("B again"), Written::Unchanged);
    let whole = a.document_bytes(RecordKind::Note, &id).expect("whole");
    assert_eq!(b.apply_changes(RecordKind::Note, &id, &whole).expect("whole again"), Written::Unchanged);

    // Projections follow the merge on both devices.
    for store in [&a, &b] {
        assert_eq!(store.search("porridge", 10).expect("porridge").len(), 1);
        assert_eq!(store.search("priya", 10).expect("priya").len(), 1);
    }
}

#[test]
fn both_carers_starting_a_double_up_note_offline_keep_every_word() {
    let (_dir_a, mut a) = new_store();
    let (_dir_b, mut b) = new_store();
    let p = peggy();
    let v = visit(1, &p, at(today(), 13, 0), &["C001", "C002"]);
    for store in [&mut a, &mut b] {
        store.put(&p).expect("person");
        store.put(&v).expect("visit");
    }
    let id = NoteId::for_visit(v.id);
    let sam_text = "Sam: helped her to the bathroom and made lunch.";
    let priya_text = "Priya: changed the bed and put the washing on.";
    let mut sam = VisitNote::new(id, v.id, p.id);
    sam.narrative = sam_text.into();
    sam.observe(sign(SoftSign::Confusion, Comparison::New, "Called me by her sister's name"));
    sam.touched_by(&StaffId::new("C001"), v.window.start + Duration::minutes(10));
    let mut priya = VisitNote::new(id, v.id, p.id);
    priya.narrative = priya_text.into();
    priya.mood = Some(Mood::Anxious);
    priya.touched_by(&StaffId::new("C002"), v.window.start + Duration::minutes(12));
    a.put(&sam).expect("Sam's note");
    b.put(&priya).expect("Priya's note");

    let id = id.to_string();
    let from_a = a.document_bytes(RecordKind::Note, &id).expect("A bytes");
    let from_b = b.document_bytes(RecordKind::Note, &id).expect("B bytes");
    assert_eq!(a.apply_changes(RecordKind::Note, &id, &from_b).expect("A merges"), Written::Changed);
    assert_eq!(b.apply_changes(RecordKind::Note, &id, &from_a).expect("B merges"), Written::Changed);

    let on_a: VisitNote = a.get(&id).expect("A");
    let on_b: VisitNote = b.get(&id).expect("B");
    assert_eq!(on_a, on_b);
    assert!(on_a.narrative.contains(sam_text), "{:?}", on_a.narrative);
    assert!(on_a.narrative.contains(priya_text), "{:?}", on_a.narrative);
    assert_eq!(on_a.narrative.len(), sam_text.len() + priya_text.len(), "no character lost or doubled");
    assert_eq!(on_a.soft_signs.len(), 1);
    assert_eq!(on_a.mood, Some(Mood::Anxious));
    let authors: Vec<&str> = on_a.authors.iter().map(|x| x.staff.as_str()).collect();
    assert!(authors.contains(&"C001") && authors.contains(&"C002"), "{authors:?}");
    for store in [&a, &b] {
        assert_eq!(store.search("washing", 10).expect("Priya's words").len(), 1);
        assert_eq!(store.search("lunch", 10).expect("Sam's words").len(), 1);
    }
}

#[test]
fn garbage_changes_for_a_stored_note_are_refused_and_the_store_is_unchanged() {
    let (_dir, mut store) = new_store();
    let p = peggy();
    let v = visit(1, &p, at(today(), 8, 0), &["C001"]);
    let note = note_for(&v, "Helped with a wash.");
    store.put(&note).expect("note");
    let id = note.id.to_string();
    let conn = raw(store.path());
    let heads = store.heads(RecordKind::Note, &id).expect("heads");
    let docs = count(&conn, "SELECT COUNT(*) FROM documents");
    let rows = count(&conn, "SELECT COUNT(*) FROM document_changes");

    let err = store.apply_changes(RecordKind::Note, &id, b"this is not an automerge change at all");
    assert!(matches!(err, Err(StoreError::BadChanges { kind: RecordKind::Note, .. })), "{err:?}");

    assert_eq!(store.heads(RecordKind::Note, &id).expect("heads"), heads);
    assert_eq!(store.get::<VisitNote>(&id).expect("get"), note);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM documents"), docs);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM document_changes"), rows);
}

#[test]
fn garbage_changes_for_an_unknown_record_are_refused_and_nothing_is_created() {
    let (_dir, mut store) = new_store();
    let id = uuid(777).to_string();
    let err = store.apply_changes(RecordKind::Note, &id, &[0x00, 0xff, 0x13, 0x37]);
    assert!(matches!(err, Err(StoreError::BadChanges { kind: RecordKind::Note, .. })), "{err:?}");
    let conn = raw(store.path());
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM documents"), 0);
    assert!(matches!(store.get::<VisitNote>(&id), Err(StoreError::NotFound { .. })));
}

#[test]
fn a_document_for_another_record_is_refused() {
    let (_dir_a, mut a) = new_store();
    let (_dir_b, mut b) = new_store();
    let (p, q) = (peggy(), arthur());
    a.put(&p).expect("peggy");
    let bytes = a.document_bytes(RecordKind::Person, &p.id.to_string()).expect("bytes");
    // Peggy's document offered under Arthur's id.
    let err = b.apply_changes(RecordKind::Person, &q.id.to_string(), &bytes);
    assert!(matches!(err, Err(StoreError::BadChanges { .. })), "{err:?}");
    assert!(b.people().expect("people").is_empty());
}

// ---------------------------------------------------------------------------------------------
// Damage stays local
// ---------------------------------------------------------------------------------------------

#[test]
fn a_corrupt_document_is_an_error_for_that_record_only() {
    let (_dir, mut store) = new_store();
    let (p, a) = (peggy(), arthur());
    store.put(&p).expect("peggy");
    store.put(&a).expect("arthur");
    // Give Peggy some change rows too, so they must go as well.
    store
        .update::<Person>(&p.id.to_string(), |x| {
            x.gp_practice = "Elsewhere".into();
            Ok(())
        })
        .expect("edit");
    let (pid, aid) = (p.id.to_string(), a.id.to_string());

    let conn = raw(store.path());
    let doc_no: i64 =
        conn.query_row("SELECT doc_no FROM documents WHERE id = ?1", [&pid], |r| r.get(0)).expect("doc_no");
    assert_eq!(conn.execute("UPDATE documents SET snapshot = x'00ff' WHERE id = ?1", [&pid]).expect("damage"), 1);
    conn.execute("DELETE FROM document_changes WHERE doc_no = ?1", [doc_no]).expect("drop changes");

    let err = store.get::<Person>(&pid).expect_err("damaged");
    assert!(matches!(&err, StoreError::CorruptDocument { kind: RecordKind::Person, id, .. } if *id == pid), "{err:?}");
    assert_eq!(store.get::<Person>(&aid).expect("Arthur still reads"), a);

    let people = store.people().expect("the list still works");
    let refs: Vec<&str> = people.iter().map(|r| r.client_ref.as_str()).collect();
    assert_eq!(refs, ["P00001", "P00002"]);

    assert!(matches!(store.person_overview(&pid), Err(StoreError::CorruptDocument { .. })));
    assert_eq!(store.person_overview(&aid).expect("Arthur's screen").person, a);

    // Editing the damaged record is refused; editing the other still works.
    assert!(matches!(store.update::<Person>(&pid, |_| Ok(())), Err(StoreError::CorruptDocument { .. })));
    assert!(matches!(store.document_bytes(RecordKind::Person, &pid), Err(StoreError::CorruptDocument { .. })));
    store
        .update::<Person>(&aid, |x| {
            x.gp_practice = "Northbrook Medical Centre".into();
            Ok(())
        })
        .expect("Arthur can still be edited");
}

// ---------------------------------------------------------------------------------------------
// The demo caseload
// ---------------------------------------------------------------------------------------------

#[test]
fn the_demo_caseload_loads_with_sensible_counts_and_todays_rota() {
    let (_dir, mut store) = new_store();
    let summary = load_demo(&mut store, today()).expect("demo");
    assert_eq!(summary.people, 4);
    assert_eq!(summary.visits, 14 * 4 + 5);
    assert_eq!(summary.notes, 14 * 4);
    assert_eq!(summary.insights, 2);

    let conn = raw(store.path());
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM people"), 4);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM visits"), 61);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM notes"), 56);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM insights"), 2);
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM documents"), 4 + 61 + 56 + 2);

    let day = store.visits_on(today(), None).expect("today");
    assert_eq!(day.len(), 5);
    assert!(day.windows(2).all(|w| w[0].starts_at < w[1].starts_at), "not in time order: {day:?}");
    assert_eq!(day[0].starts_at, at(today(), 8, 0));
    assert_eq!(day[4].starts_at, at(today(), 17, 30));
    assert!(day.iter().all(|r| r.person_name.is_some() && r.status == "scheduled"));
    assert_eq!(day.iter().filter(|r| r.carers.len() == 2).count(), 1, "one double-up");
    assert_eq!(store.visits_on(today(), Some("C001")).expect("Sam").len(), 3);
    assert_eq!(store.visits_on(today(), Some("C002")).expect("Priya").len(), 3);
    assert_eq!(store.visits_on(today() - Duration::days(1), None).expect("yesterday").len(), 4);

    let people = store.people().expect("people");
    let names: Vec<&str> = people.iter().map(|r| r.display_name.as_str()).collect();
    assert_eq!(names, ["Margaret (Peggy) Jones", "Edna O'Brien", "Arthur Patel", "Harold Williams"]);
    let peggy = &people[0];
    assert_eq!(peggy.watch, WatchLevel::Concern, "Peggy has been slipping");

    let overview = store.person_overview(&peggy.id).expect("Peggy's screen");
    assert_eq!(overview.timeline.len(), 14 + 2);
    assert_eq!(overview.insights.len(), 1);
    // Yesterday's vitals: respiration 21 (2), SpO2 95 (1), BP 108 (1), pulse 96 (1), new
    // confusion (3), 37.9 °C (0) = 8, High.
    let yesterday = overview.timeline.iter().find(|t| t.news2_total.is_some()).expect("a scored visit");
    assert_eq!((yesterday.news2_total, yesterday.news2_band.as_deref()), (Some(8), Some("High")));

    assert_eq!(store.insights_with_status("submitted").expect("submitted").len(), 1);
    assert_eq!(store.insights_with_status("draft").expect("drafts").len(), 1);
    assert_eq!(store.search("grab rail", 10).expect("search")[0].kind, RecordKind::Insight);
    assert!(!store.search("porridge", 100).expect("search notes").is_empty());
}

#[test]
fn a_truncated_change_is_refused_not_taken_as_nothing_new() {
    let (_dir_a, mut a) = new_store();
    let (_dir_b, mut b) = new_store();
    let p = peggy();
    let v = visit(1, &p, at(today(), 8, 0), &["C001"]);
    let note = note_for(&v, "Helped with a wash.");
    let id = note.id.to_string();
    a.put(&note).expect("note on A");
    let whole = a.document_bytes(RecordKind::Note, &id).expect("bytes");
    b.apply_changes(RecordKind::Note, &id, &whole).expect("B has the note");

    let b_heads = b.heads(RecordKind::Note, &id).expect("B heads");
    a.update::<VisitNote>(&id, |n| {
        n.narrative.push_str(" Ate her porridge and most of a cup of tea.");
        Ok(())
    })
    .expect("A edits");
    let change = a.changes_since(RecordKind::Note, &id, &b_heads).expect("A → B");
    assert!(change.len() > 8);
    // The connection dropped part-way: only part of the change arrived.
    let truncated = &change[..change.len() - 5];
    let result = b.apply_changes(RecordKind::Note, &id, truncated);
    assert!(
        matches!(result, Err(StoreError::BadChanges { .. })),
        "a truncated change must not be reported as nothing new: {result:?}"
    );
    assert_eq!(b.heads(RecordKind::Note, &id).expect("B heads"), b_heads);
    // The whole change still applies afterwards.
    assert_eq!(b.apply_changes(RecordKind::Note, &id, &change).expect("whole change"), Written::Changed);
}

#[test]
fn changes_whose_history_is_missing_are_refused_not_silently_queued() {
    let (_dir_a, mut a) = new_store();
    let (_dir_b, mut b) = new_store();
    let person = peggy();
    a.put(&person).expect("person");
    let id = person.id.to_string();
    b.apply_changes(RecordKind::Person, &id, &a.document_bytes(RecordKind::Person, &id).expect("bytes"))
        .expect("first copy");
    a.update::<Person>(&id, |p| {
        p.gp_practice = "Northbrook Medical Centre".into();
        Ok(())
    })
    .expect("second change");
    let middle = a.heads(RecordKind::Person, &id).expect("heads");
    a.update::<Person>(&id, |p| {
        p.what_matters_to_me = "My garden".into();
        Ok(())
    })
    .expect("third change");
    // B is sent only the third change, which builds on the second it never had.
    let third_only = a.changes_since(RecordKind::Person, &id, &middle).expect("changes");
    let outcome = b.apply_changes(RecordKind::Person, &id, &third_only);
    assert!(matches!(outcome, Err(StoreError::BadChanges { .. })), "{outcome:?}");
    let unchanged: Person = b.get(&id).expect("still readable");
    assert_eq!(unchanged, person);
}
