//! CSV imports of people and of the rota, into real store files: good sheets import and
//! re-import without duplicates; a sheet with any bad row imports nothing and reports every
//! problem by line and column.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use doorstep_model::visit::{Task, TaskKind, Visit, VisitStatus};
use doorstep_model::{Person, StaffId, VisitId};
use doorstep_store::import::{ImportSummary, RowError};
use doorstep_store::{Store, StoreError};
use rusqlite::Connection;
use tempfile::TempDir;

fn new_store() -> (TempDir, Store) {
    let dir = TempDir::new().expect("temp dir");
    let store = Store::open(dir.path().join("device.sqlite")).expect("open store");
    (dir, store)
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).expect("date")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).single().expect("time")
}

fn summary(created: usize, updated: usize, unchanged: usize) -> ImportSummary {
    ImportSummary { created, updated, unchanged, staff_names: Vec::new() }
}

fn document_count(store: &Store) -> i64 {
    let conn = Connection::open(store.path()).expect("second connection");
    conn.query_row("SELECT COUNT(*) FROM documents", [], |r| r.get(0)).expect("count")
}

/// The problems as (line, field), in the order reported.
fn problems(err: StoreError) -> Vec<RowError> {
    match err {
        StoreError::Import(report) => report.errors,
        other => panic!("expected an import report, got {other:?}"),
    }
}

fn lines_and_fields(errors: &[RowError]) -> Vec<(u64, &str)> {
    let mut v: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.field.as_str())).collect();
    v.sort();
    v
}

fn person_by_ref(store: &Store, client_ref: &str) -> Person {
    let id =
        store.person_by_client_ref(client_ref).expect("lookup").unwrap_or_else(|| panic!("{client_ref} not imported"));
    store.get(&id).expect("person")
}

const PEOPLE: &str = "\
client_ref,given_name,family_name,preferred_name,date_of_birth,nhs_number,address,postcode,gp_practice,known_risks
P00001,Margaret,Jones,Peggy,02/05/1938,943 476 5919,\"14 Mill Lane, Northbrook\",nb3 2qt,Riverside Surgery,Falls; Type 2 diabetes
P00002,Arthur,Patel,,1944-09-17,4010232137,2 Station Road,NB1 4AA,,COPD
P00003,Edna,O'Brien,,23/11/1941, 485 777 3457 ,,,,
";

// ---------------------------------------------------------------------------------------------
// People
// ---------------------------------------------------------------------------------------------

#[test]
fn good_people_rows_are_imported_with_uk_and_iso_dates_and_spaced_nhs_numbers() {
    let (_dir, mut store) = new_store();
    let result = store.import_people_csv(PEOPLE.as_bytes(), today()).expect("import");
    assert_eq!(result, summary(3, 0, 0));

    let people = store.people().expect("people");
    let refs: Vec<&str> = people.iter().map(|p| p.client_ref.as_str()).collect();
    assert_eq!(refs, ["P00001", "P00003", "P00002"], "listed by family name: Jones, O'Brien, Patel");

    let peggy = person_by_ref(&store, "P00001");
    assert_eq!(peggy.name.given, "Margaret");
    assert_eq!(peggy.name.family, "Jones");
    assert_eq!(peggy.name.preferred.as_deref(), Some("Peggy"));
    assert_eq!(peggy.date_of_birth, Some(date(1938, 5, 2)), "dd/mm/yyyy is day first");
    assert_eq!(peggy.nhs_number.as_ref().map(|n| n.digits()), Some("9434765919"));
    assert_eq!(peggy.address.lines, ["14 Mill Lane", "Northbrook"]);
    assert_eq!(peggy.address.postcode, "NB3 2QT");
    assert_eq!(peggy.gp_practice, "Riverside Surgery");
    assert_eq!(peggy.known_risks, ["Falls", "Type 2 diabetes"]);

    let arthur = person_by_ref(&store, "P00002");
    assert_eq!(arthur.date_of_birth, Some(date(1944, 9, 17)));
    assert_eq!(arthur.nhs_number.as_ref().map(|n| n.digits()), Some("4010232137"));
    assert_eq!(arthur.name.preferred, None);

    let edna = person_by_ref(&store, "P00003");
    assert_eq!(edna.date_of_birth, Some(date(1941, 11, 23)));
    assert_eq!(edna.nhs_number.as_ref().map(|n| n.digits()), Some("4857773457"));
}

#[test]
fn reimporting_the_same_people_changes_nothing_and_a_changed_cell_updates_one() {
    let (_dir, mut store) = new_store();
    assert_eq!(store.import_people_csv(PEOPLE.as_bytes(), today()).expect("first"), summary(3, 0, 0));
    let documents = document_count(&store);

    assert_eq!(store.import_people_csv(PEOPLE.as_bytes(), today()).expect("again"), summary(0, 0, 3));
    assert_eq!(document_count(&store), documents, "no duplicate people");
    assert_eq!(store.people().expect("people").len(), 3);

    let arthur_id = store.person_by_client_ref("P00002").expect("lookup");
    let changed = PEOPLE.replace("2 Station Road,NB1 4AA", "9 Station Road,NB1 4AA");
    assert_ne!(changed, PEOPLE);
    assert_eq!(store.import_people_csv(changed.as_bytes(), today()).expect("changed"), summary(0, 1, 2));
    assert_eq!(store.person_by_client_ref("P00002").expect("lookup"), arthur_id, "the same person, updated");
    assert_eq!(person_by_ref(&store, "P00002").address.lines, ["9 Station Road"]);
    assert_eq!(store.people().expect("people").len(), 3);
}

#[test]
fn a_reimport_keeps_what_the_sheet_does_not_hold() {
    let (_dir, mut store) = new_store();
    store.import_people_csv(PEOPLE.as_bytes(), today()).expect("first");
    let id = store.person_by_client_ref("P00001").expect("lookup").expect("Peggy");
    store
        .update::<Person>(&id, |p| {
            p.what_matters_to_me = "Biscuit the cat".into();
            Ok(())
        })
        .expect("edit on the device");
    // A sheet without the date of birth or NHS number columns.
    let sheet = "client_ref,given_name,family_name\nP00001,Margaret,Jones\n";
    assert_eq!(store.import_people_csv(sheet.as_bytes(), today()).expect("narrow sheet"), summary(0, 0, 1));
    let peggy = person_by_ref(&store, "P00001");
    assert_eq!(peggy.what_matters_to_me, "Biscuit the cat");
    assert_eq!(peggy.date_of_birth, Some(date(1938, 5, 2)));
    assert_eq!(peggy.nhs_number.as_ref().map(|n| n.digits()), Some("9434765919"));
}

#[test]
fn a_sheet_with_bad_rows_reports_every_problem_and_imports_nothing() {
    let (_dir, mut store) = new_store();
    let sheet = "\
client_ref,given_name,family_name,date_of_birth,nhs_number,favourite_colour
P00001,Margaret,Jones,02/05/1938,943 476 5919,blue
P00002,Arthur,Patel,1944-09-17,943 476 5918,
P00003,Edna,O'Brien,31/02/1941,,
P00004,Harold,Williams,2090-01-01,,
P00005,Iris,,1950-01-01,,
P00001,Joan,Taylor,1950-01-01,,
P00006,Dennis,Evans,,,
";
    let errors = problems(store.import_people_csv(sheet.as_bytes(), today()).expect_err("bad rows"));
    assert_eq!(
        lines_and_fields(&errors),
        [
            (1, "favourite_colour"),
            (3, "nhs_number"),
            (4, "date_of_birth"),
            (5, "date_of_birth"),
            (6, "family_name"),
            (7, "client_ref"),
        ],
        "{errors:#?}"
    );
    let reason = |line: u64| errors.iter().find(|e| e.line == line).map(|e| e.reason.as_str()).unwrap_or_default();
    assert!(reason(5).contains("future"), "{}", reason(5));
    assert!(reason(7).contains("line 2"), "the duplicate names the first use: {}", reason(7));

    assert!(store.people().expect("people").is_empty(), "even the good rows were not imported");
    assert_eq!(document_count(&store), 0);
}

#[test]
fn a_missing_required_column_is_reported_on_the_header_line() {
    let (_dir, mut store) = new_store();
    let sheet = "client_ref,given_name\nP00001,Margaret\n";
    let errors = problems(store.import_people_csv(sheet.as_bytes(), today()).expect_err("no family_name column"));
    assert!(errors.iter().any(|e| e.line == 1 && e.field == "family_name"), "{errors:#?}");
    assert!(store.people().expect("people").is_empty());
}

#[test]
fn line_numbers_count_the_lines_of_a_quoted_cell_that_spans_lines() {
    let (_dir, mut store) = new_store();
    let sheet = "\
client_ref,given_name,family_name,address
P00001,Margaret,Jones,\"14 Mill Lane
Northbrook\"
P00002,Arthur,,2 Station Road
";
    let errors = problems(store.import_people_csv(sheet.as_bytes(), today()).expect_err("missing family name"));
    assert_eq!(lines_and_fields(&errors), [(4, "family_name")], "{errors:#?}");
}

#[test]
fn header_names_are_matched_whatever_their_case_and_spaces() {
    let (_dir, mut store) = new_store();
    let sheet = "Client Ref,Given Name,Family Name,Date of Birth\nP00001,Margaret,Jones,02/05/1938\n";
    assert_eq!(store.import_people_csv(sheet.as_bytes(), today()).expect("import"), summary(1, 0, 0));
    assert_eq!(person_by_ref(&store, "P00001").date_of_birth, Some(date(1938, 5, 2)));
}

// ---------------------------------------------------------------------------------------------
// The rota
// ---------------------------------------------------------------------------------------------

#[test]
fn baselines_are_imported_with_who_imported_them_and_scale_2_needs_the_clinician() {
    use doorstep_model::{SoftSign, SpO2Scale, StaffId};
    let (_dir, mut store) = new_store();
    let by = StaffId::new("M001");
    let sheet = "client_ref,given_name,family_name,spo2_scale,scale2_set_by,scale2_review_on,pregnant,usual_confusion,gp_ods\n\
                 P1,Arthur,Brown,2,,,no,,Y01234\n\
                 P2,Edna,Clarke,3,,,maybe,,Riverside\n";
    let errors =
        problems(store.import_people_csv_by(sheet.as_bytes(), today(), &by, utc(2026, 11, 23, 9, 0)).unwrap_err());
    assert_eq!(lines_and_fields(&errors), [(2, "scale2_set_by"), (3, "gp_ods"), (3, "pregnant"), (3, "spo2_scale")]);

    let sheet = "client_ref,given_name,family_name,spo2_scale,scale2_set_by,scale2_review_on,pregnant,usual_confusion,gp_ods\n\
                 P1,Arthur,Brown,2,\"Dr A Shah, respiratory team\",2027-05-01,no,\"Sharp, knows the day\",y01234\n";
    store.import_people_csv_by(sheet.as_bytes(), today(), &by, utc(2026, 11, 23, 9, 0)).expect("imported");
    let arthur = person_by_ref(&store, "P1");
    assert_eq!(arthur.gp_ods, "Y01234");
    assert_eq!(arthur.spo2_scale, SpO2Scale::Scale2);
    let setting = arthur.scale2.expect("who set Scale 2");
    assert_eq!((setting.set_by.as_str(), setting.review_on), ("Dr A Shah, respiratory team", Some(date(2027, 5, 1))));
    assert_eq!(setting.recorded_by, by);
    let usual = arthur.usual.iter().find(|u| u.sign == SoftSign::Confusion).expect("usual");
    assert_eq!((usual.usual.as_str(), usual.recorded_by.as_ref()), ("Sharp, knows the day", Some(&by)));
    // The same sheet again changes nothing, so who noted it stays as it was.
    let again = store.import_people_csv_by(sheet.as_bytes(), today(), &StaffId::new("M002"), utc(2026, 11, 24, 9, 0));
    assert_eq!(again.expect("again"), summary(0, 0, 1));
    // Noting a pregnancy keeps who noted it and when (NEWS2 is then not used).
    let pregnant = sheet.replace(",no,", ",yes,");
    store
        .import_people_csv_by(pregnant.as_bytes(), today(), &StaffId::new("M002"), utc(2026, 11, 25, 9, 0))
        .expect("pregnant");
    let p1 = person_by_ref(&store, "P1");
    assert!(p1.pregnant);
    assert_eq!(
        (p1.pregnancy_recorded_by.as_ref().map(StaffId::as_str), p1.pregnancy_recorded_at),
        (Some("M002"), Some(utc(2026, 11, 25, 9, 0)))
    );
}

fn store_with_people() -> (TempDir, Store) {
    let (dir, mut store) = new_store();
    store.import_people_csv(PEOPLE.as_bytes(), today()).expect("people");
    (dir, store)
}

const ROTA: &str = "\
client_ref,date,start,end,carer,second_carer,tasks
P00001,2026-07-15,08:00,08:30,C001,,meal; medication prompt: morning tablets
P00002,15/07/2026,13:00,14:00,C001,C002,mobility; companionship
P00001,2026-07-15,17:30,18:00,C002,,
P00001,15/01/2026,08:00,08:45,C001,,personal care
";

#[test]
fn rota_rows_become_visits_in_uk_local_time_with_tasks_and_double_ups() {
    let (_dir, mut store) = store_with_people();
    assert_eq!(store.import_rota_csv(ROTA.as_bytes()).expect("rota"), summary(4, 0, 0));
    let peggy = store.person_by_client_ref("P00001").expect("lookup").expect("Peggy");
    let arthur = store.person_by_client_ref("P00002").expect("lookup").expect("Arthur");

    let july = store.visits_on(date(2026, 7, 15), None).expect("July");
    assert_eq!(july.len(), 3);
    // British Summer Time: 08:00 in July is 07:00 UTC.
    assert_eq!(july[0].starts_at, utc(2026, 7, 15, 7, 0));
    assert_eq!(july[0].ends_at, utc(2026, 7, 15, 7, 30));
    assert_eq!(july[0].person_id, peggy);
    assert_eq!(july[0].carers, ["C001"]);
    assert_eq!(july[0].status, "scheduled");
    assert_eq!(july[1].starts_at, utc(2026, 7, 15, 12, 0));
    assert_eq!(july[1].person_id, arthur);
    assert_eq!(july[1].carers, ["C001", "C002"], "second_carer makes a double-up");
    assert_eq!(july[2].starts_at, utc(2026, 7, 15, 16, 30));

    let double_up: Visit = store.get(&july[1].id).expect("visit");
    assert!(double_up.is_double_up());
    let priya: Vec<String> =
        store.visits_on(date(2026, 7, 15), Some("C002")).expect("C002").into_iter().map(|r| r.id).collect();
    assert_eq!(priya, [july[1].id.clone(), july[2].id.clone()]);

    let breakfast: Visit = store.get(&july[0].id).expect("visit");
    assert_eq!(breakfast.status, VisitStatus::Scheduled);
    assert_eq!(
        breakfast.tasks,
        [
            Task { key: "meal-1".into(), kind: TaskKind::Meal, description: "Meal".into(), outcome: None },
            Task {
                key: "medicationprompt-1".into(),
                kind: TaskKind::MedicationPrompt,
                description: "morning tablets".into(),
                outcome: None
            },
        ]
    );
    let kinds: Vec<TaskKind> = double_up.tasks.iter().map(|t| t.kind).collect();
    assert_eq!(kinds, [TaskKind::Mobility, TaskKind::Companionship]);
    assert!(store.get::<Visit>(&july[2].id).expect("no tasks").tasks.is_empty());

    // Greenwich Mean Time: 08:00 in January is 08:00 UTC.
    let january = store.visits_on(date(2026, 1, 15), None).expect("January");
    assert_eq!(january.len(), 1);
    assert_eq!(january[0].starts_at, utc(2026, 1, 15, 8, 0));
    assert_eq!(january[0].ends_at, utc(2026, 1, 15, 8, 45));
    let wash: Visit = store.get(&january[0].id).expect("visit");
    assert_eq!(wash.tasks.len(), 1);
    assert_eq!(wash.tasks[0].kind, TaskKind::PersonalCare);
}

#[test]
fn reimporting_the_same_rota_does_not_duplicate_visits() {
    let (_dir, mut store) = store_with_people();
    assert_eq!(store.import_rota_csv(ROTA.as_bytes()).expect("first"), summary(4, 0, 0));
    let before: Vec<String> =
        store.visits_on(date(2026, 7, 15), None).expect("July").into_iter().map(|r| r.id).collect();
    let documents = document_count(&store);

    assert_eq!(store.import_rota_csv(ROTA.as_bytes()).expect("again"), summary(0, 0, 4));
    let after: Vec<String> =
        store.visits_on(date(2026, 7, 15), None).expect("July").into_iter().map(|r| r.id).collect();
    assert_eq!(after, before);
    assert_eq!(document_count(&store), documents);

    // A changed end time and task list re-plans the same visit.
    let changed =
        ROTA.replace("08:00,08:30,C001,,meal; medication prompt: morning tablets", "08:00,08:40,C001,,meal; drink");
    assert_eq!(store.import_rota_csv(changed.as_bytes()).expect("changed"), summary(0, 1, 3));
    let july = store.visits_on(date(2026, 7, 15), None).expect("July");
    assert_eq!(july.len(), 3);
    assert_eq!(july[0].id, before[0]);
    assert_eq!(july[0].ends_at, utc(2026, 7, 15, 7, 40));
    let kinds: Vec<TaskKind> = store.get::<Visit>(&july[0].id).expect("visit").tasks.iter().map(|t| t.kind).collect();
    assert_eq!(kinds, [TaskKind::Meal, TaskKind::Drink]);
}

#[test]
fn a_rota_reimport_does_not_replan_a_visit_already_under_way() {
    let (_dir, mut store) = store_with_people();
    store.import_rota_csv(ROTA.as_bytes()).expect("first");
    let first = store.visits_on(date(2026, 7, 15), None).expect("July").remove(0);
    let checked_in = utc(2026, 7, 15, 7, 2);
    store.update::<Visit>(&first.id, |v| Ok(v.check_in(checked_in)?)).expect("check in");

    let changed = ROTA.replace("2026-07-15,08:00,08:30,C001,,", "2026-07-15,08:00,09:30,C003,,");
    let result = store.import_rota_csv(changed.as_bytes()).expect("re-import");
    assert_eq!(result.created, 0);
    let visit: Visit = store.get(&first.id).expect("visit");
    assert_eq!(visit.status, VisitStatus::InProgress);
    assert_eq!(visit.checked_in_at, Some(checked_in));
    assert_eq!(visit.window.end, utc(2026, 7, 15, 7, 30), "not re-planned");
    assert_eq!(visit.carers[0].as_str(), "C001");
}

#[test]
fn a_rota_with_bad_rows_reports_every_problem_and_imports_nothing() {
    let (_dir, mut store) = store_with_people();
    let documents = document_count(&store);
    let sheet = "\
client_ref,date,start,end,carer,second_carer,tasks
P00001,2026-07-15,08:00,08:30,C001,,meal
P00099,2026-07-15,09:00,09:30,C001,,
P00001,2026-07-15,25:00,09:30,C001,,
P00001,2026-07-15,12:00,11:00,C001,,
P00001,2026-07-15,14:00,14:30,C001,,meal; juggling
P00001,2026-03-29,01:30,02:30,C001,,
P00002,2026-07-15,10:00,10:30,C002,C002,
P00002,32/07/2026,10:00,10:30,C002,,
P00002,2026-07-16,10:00,10:30,,,
";
    let errors = problems(store.import_rota_csv(sheet.as_bytes()).expect_err("bad rota"));
    assert_eq!(
        lines_and_fields(&errors),
        [
            (3, "client_ref"),
            (4, "start"),
            (5, "end"),
            (6, "tasks"),
            (7, "start"),
            (8, "second_carer"),
            (9, "date"),
            (10, "carer"),
        ],
        "{errors:#?}"
    );
    let reason = |line: u64| errors.iter().find(|e| e.line == line).map(|e| e.reason.clone()).unwrap_or_default();
    assert!(reason(3).contains("P00099"), "{}", reason(3));
    assert!(reason(6).contains("juggling"), "{}", reason(6));
    assert!(reason(7).contains("clocks go forward"), "{}", reason(7));

    assert!(store.visits_on(date(2026, 7, 15), None).expect("July").is_empty(), "even the good row was not imported");
    assert!(store.visits_on(date(2026, 3, 29), None).expect("March").is_empty());
    assert_eq!(document_count(&store), documents);
}

#[test]
fn the_same_person_at_the_same_time_twice_in_one_rota_is_reported() {
    let (_dir, mut store) = store_with_people();
    let sheet = "\
client_ref,date,start,end,carer
P00001,2026-07-15,08:00,08:30,C001
P00001,15/07/2026,08:00,09:00,C002
";
    let errors = problems(store.import_rota_csv(sheet.as_bytes()).expect_err("duplicate"));
    assert_eq!(lines_and_fields(&errors), [(3, "start")], "{errors:#?}");
    assert!(store.visits_on(date(2026, 7, 15), None).expect("July").is_empty());
}

#[test]
fn a_time_the_clocks_repeat_in_autumn_takes_the_first() {
    let (_dir, mut store) = store_with_people();
    // The clocks go back at 02:00 BST on 25 October 2026: 01:30 happens twice.
    let sheet = "client_ref,date,start,end,carer\nP00001,2026-10-25,01:30,03:00,C001\n";
    assert_eq!(store.import_rota_csv(sheet.as_bytes()).expect("import"), summary(1, 0, 0));
    let day = store.visits_on(date(2026, 10, 25), None).expect("day");
    assert_eq!(day.len(), 1);
    assert_eq!(day[0].starts_at, utc(2026, 10, 25, 0, 30), "01:30 BST, the first of the two");
    assert_eq!(day[0].ends_at, utc(2026, 10, 25, 3, 0));
    let _: VisitId = day[0].id.parse().expect("a visit id");
}

#[test]
fn a_rota_may_name_its_carers_once_each_for_the_directory() {
    let (_dir, mut store) = store_with_people();
    let named = "\
client_ref,date,start,end,carer,second_carer,tasks,carer_name,second_carer_name
P00001,2026-07-15,08:00,08:30,C001,,meal,Sam Taylor,
P00002,15/07/2026,13:00,14:00,C001,C002,mobility,Sam Taylor,Priya Shah
P00001,2026-07-15,17:30,18:00,C002,,,,
";
    let summary = store.import_rota_csv(named.as_bytes()).expect("rota with names");
    assert_eq!(summary.created, 3);
    assert_eq!(
        summary.staff_names,
        [(StaffId::new("C001"), "Sam Taylor".to_string()), (StaffId::new("C002"), "Priya Shah".to_string())]
    );

    let clash = "\
client_ref,date,start,end,carer,second_carer,tasks,carer_name
P00001,2026-07-16,08:00,08:30,C001,,,Sam Taylor
P00001,2026-07-16,17:30,18:00,C001,,,Samantha Taylor
";
    let errors = problems(store.import_rota_csv(clash.as_bytes()).expect_err("two names for C001"));
    assert_eq!(lines_and_fields(&errors), [(3, "carer_name")]);
    assert!(errors[0].reason.contains("line 2"), "{}", errors[0].reason);
}

#[test]
fn a_postcode_must_be_a_uk_postcode_so_an_area_is_never_free_text() {
    let (_dir, mut store) = store_with_people();
    let sheet =
        "client_ref,given_name,family_name,postcode\nP00031,Ann,Lee,Mrs Jones next door\nP00032,Bob,Hill,nb3 2qt\n";
    let errors = problems(store.import_people_csv(sheet.as_bytes(), today()).expect_err("free text in postcode"));
    assert_eq!(lines_and_fields(&errors), [(2, "postcode")]);
    let fixed = "client_ref,given_name,family_name,postcode\nP00032,Bob,Hill,nb3 2qt\n";
    store.import_people_csv(fixed.as_bytes(), today()).expect("a real postcode");
}
