//! CSV import of people and of the visit rota: managers live in spreadsheets.
//!
//! Every row is checked before anything is written; if any row is bad, nothing is imported
//! and the report lists every problem (line, column, reason). Re-importing the same sheet
//! updates the same records instead of duplicating them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::Read;

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::London;
use doorstep_model::person::UsualForMe;
use doorstep_model::visit::{Task, TaskKind, TimeWindow, VisitStatus};
use doorstep_model::{ClinicalSetting, NhsNumber, Person, PersonId, SoftSign, SpO2Scale, StaffId, Visit, VisitId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::{Store, Written, write};

/// One problem in one cell (or row) of a CSV file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    /// The line in the file, counting the header as line 1.
    pub line: u64,
    pub field: String,
    pub reason: String,
}

/// Every problem found in a file. Nothing was imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportErrors {
    pub errors: Vec<RowError>,
}

impl fmt::Display for ImportErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Nothing was imported: {} problem(s) to fix first.", self.errors.len())?;
        for e in &self.errors {
            writeln!(f, "  line {}, {}: {}", e.line, e.field, e.reason)?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Staff names a rota gave (`carer_name`, `second_carer_name`), one per reference: for the
    /// provider's directory.
    pub staff_names: Vec<(StaffId, String)>,
}

pub const PEOPLE_COLUMNS: &[&str] = &[
    "client_ref",
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "nhs_number",
    "address",
    "postcode",
    "gp_practice",
    "gp_phone",
    "gp_ods",
    "communication_needs",
    "known_risks",
    "what_matters_to_me",
    // Baselines: Scale 2 needs the clinician who set the 88–92% target.
    "spo2_scale",
    "scale2_set_by",
    "scale2_set_on",
    "scale2_review_on",
    "pregnant",
    // What is usual for them, one column per soft sign (`SoftSign::code`).
    "usual_breathing",
    "usual_eating_drinking_less",
    "usual_confusion",
    "usual_sleepy",
    "usual_agitated_withdrawn",
    "usual_pale_mottled",
    "usual_unsteady_fall",
    "usual_bowel_bladder",
    "usual_new_pain",
    "usual_not_usual_self",
    "usual_others_worried",
    "usual_no_urine",
    "usual_hot_cold_shivering",
];
const PEOPLE_REQUIRED: &[&str] = &["client_ref", "given_name", "family_name"];

pub const ROTA_COLUMNS: &[&str] =
    &["client_ref", "date", "start", "end", "carer", "second_carer", "tasks", "carer_name", "second_carer_name"];

/// The longest staff name a rota may give.
const STAFF_NAME_MOST: usize = 80;
const ROTA_REQUIRED: &[&str] = &["client_ref", "date", "start", "end", "carer"];

/// The cells of one data row by column name, with the row's line number.
struct Row {
    line: u64,
    cells: BTreeMap<String, String>,
}

impl Row {
    fn get(&self, column: &str) -> &str {
        self.cells.get(column).map(|s| s.trim()).unwrap_or("")
    }

    fn optional(&self, column: &str) -> Option<String> {
        Some(self.get(column)).filter(|s| !s.is_empty()).map(str::to_string)
    }
}

/// Reads a CSV file into rows, checking the header. Errors are collected, not returned early.
fn read_rows(input: impl Read, known: &[&str], required: &[&str], errors: &mut Vec<RowError>) -> Vec<Row> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(input);
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_ascii_lowercase().replace(' ', "_")).collect(),
        Err(e) => {
            errors.push(RowError {
                line: 1,
                field: "header".into(),
                reason: format!("cannot read the header row: {e}"),
            });
            return Vec::new();
        }
    };
    for column in &header {
        if !known.contains(&column.as_str()) {
            errors.push(RowError {
                line: 1,
                field: column.clone(),
                reason: format!("unknown column (expected some of: {})", known.join(", ")),
            });
        }
    }
    for column in required {
        if !header.iter().any(|h| h == column) {
            errors.push(RowError { line: 1, field: (*column).into(), reason: "required column is missing".into() });
        }
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        match record {
            Ok(record) => {
                let line = record.position().map(|p| p.line()).unwrap_or(0);
                if record.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                if record.len() > header.len() {
                    errors.push(RowError {
                        line,
                        field: "row".into(),
                        reason: format!("{} cells but only {} columns", record.len(), header.len()),
                    });
                    continue;
                }
                let cells = header.iter().cloned().zip(record.iter().map(str::to_string)).collect();
                rows.push(Row { line, cells });
            }
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                errors.push(RowError { line, field: "row".into(), reason: format!("cannot read this row: {e}") });
            }
        }
    }
    rows
}

fn required(row: &Row, column: &str, errors: &mut Vec<RowError>) -> Option<String> {
    let value = row.optional(column);
    if value.is_none() {
        errors.push(RowError { line: row.line, field: column.into(), reason: "this cannot be empty".into() });
    }
    value
}

/// Dates as UK spreadsheets write them (`23/11/2026`) or ISO (`2026-11-23`).
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y")).ok()
}

fn parse_time(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M").ok()
}

/// A UK wall-clock time on a day, as an instant. Times the clocks skip are refused; times they
/// repeat take the first.
fn london(day: NaiveDate, time: NaiveTime) -> std::result::Result<DateTime<Utc>, String> {
    match London.from_local_datetime(&NaiveDateTime::new(day, time)) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
        LocalResult::None => Err(format!("{time} does not exist on {day}: the clocks go forward then")),
    }
}

fn list(text: &str) -> Vec<String> {
    text.split(';').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

struct PersonRowData {
    client_ref: String,
    given: String,
    family: String,
    preferred: Option<String>,
    date_of_birth: Option<NaiveDate>,
    nhs_number: Option<NhsNumber>,
    address: Option<String>,
    postcode: Option<String>,
    gp_practice: Option<String>,
    gp_phone: Option<String>,
    gp_ods: Option<String>,
    communication_needs: Option<String>,
    known_risks: Option<Vec<String>>,
    what_matters_to_me: Option<String>,
    /// `Some(None)`: Scale 1; `Some(Some(..))`: Scale 2, with who set it; `None`: not in the sheet.
    scale2: Option<Option<Scale2Cells>>,
    pregnant: Option<bool>,
    usual: Vec<(SoftSign, String)>,
}

struct Scale2Cells {
    set_by: String,
    set_on: Option<NaiveDate>,
    review_on: Option<NaiveDate>,
}

fn check_person_row(row: &Row, today: NaiveDate, errors: &mut Vec<RowError>) -> Option<PersonRowData> {
    let before = errors.len();
    let client_ref = required(row, "client_ref", errors);
    let given = required(row, "given_name", errors);
    let family = required(row, "family_name", errors);
    let date_of_birth = row.optional("date_of_birth").and_then(|text| match parse_date(&text) {
        Some(d) if d > today => {
            errors.push(RowError {
                line: row.line,
                field: "date_of_birth".into(),
                reason: format!("{text} is in the future"),
            });
            None
        }
        Some(d) => Some(d),
        None => {
            errors.push(RowError {
                line: row.line,
                field: "date_of_birth".into(),
                reason: format!("\"{text}\" is not a date (use 23/11/1941 or 1941-11-23)"),
            });
            None
        }
    });
    let nhs_number = row.optional("nhs_number").and_then(|text| match NhsNumber::parse(&text) {
        Ok(n) => Some(n),
        Err(e) => {
            errors.push(RowError { line: row.line, field: "nhs_number".into(), reason: format!("\"{text}\": {e}") });
            None
        }
    });
    let mut bad = |field: &str, reason: String| errors.push(RowError { line: row.line, field: field.into(), reason });
    let mut date_cell = |column: &str| {
        row.optional(column).and_then(|text| {
            let parsed = parse_date(&text);
            if parsed.is_none() {
                bad(column, format!("\"{text}\" is not a date (use 23/11/2026 or 2026-11-23)"));
            }
            parsed
        })
    };
    let (set_on, review_on) = (date_cell("scale2_set_on"), date_cell("scale2_review_on"));
    let gp_ods = row.optional("gp_ods").map(|code| code.to_ascii_uppercase()).filter(|code| {
        // ODS codes are 3 to 6 letters and digits ("Y01234"); anything else is a typing slip.
        let shaped = (3..=6).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric());
        if !shaped {
            bad("gp_ods", format!("\"{code}\" is not an ODS code (3 to 6 letters and digits, like Y01234)"));
        }
        shaped
    });
    let mut bad = |field: &str, reason: String| errors.push(RowError { line: row.line, field: field.into(), reason });
    let scale2 = match row.optional("spo2_scale").as_deref().map(str::trim) {
        None => None,
        Some("1") => Some(None),
        Some("2") => match row.optional("scale2_set_by") {
            Some(set_by) => Some(Some(Scale2Cells { set_by, set_on, review_on })),
            None => {
                bad("scale2_set_by", "Scale 2 needs the clinician who set the 88–92% target".into());
                None
            }
        },
        Some(other) => {
            bad(
                "spo2_scale",
                format!("\"{other}\" is not a scale: write 1, or 2 where a clinician set an 88–92% target"),
            );
            None
        }
    };
    let pregnant = match row.optional("pregnant").map(|t| t.to_ascii_lowercase()).as_deref() {
        None => None,
        Some("yes" | "y" | "true") => Some(true),
        Some("no" | "n" | "false") => Some(false),
        Some(other) => {
            bad("pregnant", format!("\"{other}\": write yes or no"));
            None
        }
    };
    let usual = SoftSign::ALL
        .into_iter()
        .filter_map(|sign| row.optional(&format!("usual_{}", sign.code())).map(|text| (sign, text)))
        .collect();
    if errors.len() > before {
        return None;
    }
    Some(PersonRowData {
        client_ref: client_ref?,
        given: given?,
        family: family?,
        preferred: row.optional("preferred_name"),
        date_of_birth,
        nhs_number,
        address: row.optional("address"),
        postcode: row.optional("postcode").filter(|text| {
            // A postcode gives the district partners and counts see: never free text.
            let shaped = doorstep_model::directory::postcode_district(text).is_some();
            if !shaped {
                errors.push(RowError {
                    line: row.line,
                    field: "postcode".into(),
                    reason: format!("\"{text}\" is not a UK postcode (like NB3 2QT)"),
                });
            }
            shaped
        }),
        gp_practice: row.optional("gp_practice"),
        gp_phone: row.optional("gp_phone"),
        gp_ods,
        communication_needs: row.optional("communication_needs"),
        known_risks: row.optional("known_risks").map(|t| list(&t)),
        what_matters_to_me: row.optional("what_matters_to_me"),
        scale2,
        pregnant,
        usual,
    })
}

impl PersonRowData {
    /// The sheet's columns written onto a person; what the sheet does not hold is kept. Baselines
    /// it sets are noted as recorded by `by` at `now`.
    fn apply(self, person: &mut Person, by: &StaffId, now: DateTime<Utc>) {
        person.client_ref = self.client_ref;
        person.name.given = self.given;
        person.name.family = self.family;
        person.name.preferred = self.preferred.or(person.name.preferred.take());
        person.date_of_birth = self.date_of_birth.or(person.date_of_birth);
        person.nhs_number = self.nhs_number.or(person.nhs_number.take());
        if let Some(address) = self.address {
            person.address.lines = address.split(',').map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect();
        }
        if let Some(postcode) = self.postcode {
            person.address.postcode = postcode.to_uppercase();
        }
        if let Some(gp) = self.gp_practice {
            person.gp_practice = gp;
        }
        if let Some(phone) = self.gp_phone {
            person.gp_phone = phone;
        }
        if let Some(ods) = self.gp_ods {
            person.gp_ods = ods;
        }
        if let Some(needs) = self.communication_needs {
            person.communication_needs = needs;
        }
        if let Some(risks) = self.known_risks {
            person.known_risks = risks;
        }
        if let Some(matters) = self.what_matters_to_me {
            person.what_matters_to_me = matters;
        }
        match self.scale2 {
            None => {}
            Some(None) => {
                person.spo2_scale = SpO2Scale::Scale1;
                person.scale2 = None;
            }
            Some(Some(cells)) => {
                person.spo2_scale = SpO2Scale::Scale2;
                let same = person.scale2.as_ref().is_some_and(|s| {
                    s.set_by == cells.set_by && s.set_on == cells.set_on && s.review_on == cells.review_on
                });
                if !same {
                    person.scale2 = Some(ClinicalSetting {
                        set_by: cells.set_by,
                        set_on: cells.set_on,
                        review_on: cells.review_on,
                        recorded_by: by.clone(),
                        recorded_at: now,
                    });
                }
            }
        }
        if let Some(pregnant) = self.pregnant {
            person.note_pregnancy(pregnant, by, now);
        }
        for (sign, text) in self.usual {
            match person.usual.iter_mut().find(|u| u.sign == sign) {
                Some(u) if u.usual == text => {}
                Some(u) => {
                    u.usual = text;
                    u.recorded_by = Some(by.clone());
                    u.recorded_at = Some(now);
                }
                None => person.usual.push(UsualForMe {
                    sign,
                    usual: text,
                    recorded_by: Some(by.clone()),
                    recorded_at: Some(now),
                }),
            }
        }
    }
}

struct RotaRowData {
    visit_id: VisitId,
    person_id: PersonId,
    window: TimeWindow,
    carers: Vec<StaffId>,
    tasks: Vec<Task>,
    /// Names the row gives its carers.
    names: Vec<(StaffId, String)>,
}

fn check_rota_row(store: &Store, row: &Row, errors: &mut Vec<RowError>) -> Result<Option<RotaRowData>> {
    let before = errors.len();
    let mut bad = |field: &str, reason: String| errors.push(RowError { line: row.line, field: field.into(), reason });
    let client_ref = row.optional("client_ref");
    let person_id = match &client_ref {
        None => {
            bad("client_ref", "this cannot be empty".into());
            None
        }
        Some(r) => match store.person_by_client_ref(r)? {
            Some(id) => id.parse::<Uuid>().ok().map(PersonId),
            None => {
                bad("client_ref", format!("no person with client reference \"{r}\": import them first"));
                None
            }
        },
    };
    let day = match row.optional("date") {
        None => {
            bad("date", "this cannot be empty".into());
            None
        }
        Some(t) => parse_date(&t).or_else(|| {
            bad("date", format!("\"{t}\" is not a date (use 23/11/2026 or 2026-11-23)"));
            None
        }),
    };
    let mut time = |column: &str| match row.optional(column) {
        None => {
            bad(column, "this cannot be empty".into());
            None
        }
        Some(t) => parse_time(&t).or_else(|| {
            bad(column, format!("\"{t}\" is not a time (use 24-hour 08:30)"));
            None
        }),
    };
    let (start, end) = (time("start"), time("end"));
    let mut window = None;
    if let (Some(day), Some(start), Some(end)) = (day, start, end) {
        match (london(day, start), london(day, end)) {
            (Ok(s), Ok(e)) if e > s => window = Some(TimeWindow { start: s, end: e }),
            (Ok(_), Ok(_)) => bad("end", "the visit must end after it starts".into()),
            (Err(reason), _) => bad("start", reason),
            (_, Err(reason)) => bad("end", reason),
        }
    }
    let mut carers = Vec::new();
    let mut names = Vec::new();
    let mut name = |column: &str, reference: &StaffId, bad: &mut dyn FnMut(&str, String)| {
        let Some(given) = row.optional(column) else { return };
        if given.chars().count() > STAFF_NAME_MOST || given.chars().any(char::is_control) {
            bad(column, format!("a name of at most {STAFF_NAME_MOST} letters, on one line"));
        } else {
            names.push((reference.clone(), given));
        }
    };
    match row.optional("carer") {
        None => bad("carer", "this cannot be empty".into()),
        Some(c) => {
            let first = StaffId::new(c);
            name("carer_name", &first, &mut bad);
            carers.push(first);
        }
    }
    if let Some(second) = row.optional("second_carer") {
        if carers.iter().any(|c| c.as_str() == second) {
            bad("second_carer", "the second carer is the same as the first".into());
        }
        let second = StaffId::new(second);
        name("second_carer_name", &second, &mut bad);
        carers.push(second);
    }
    let mut tasks = Vec::new();
    let mut per_kind: BTreeMap<TaskKind, usize> = BTreeMap::new();
    for item in list(row.get("tasks")) {
        let (word, description) = match item.split_once(':') {
            Some((w, d)) => (w.trim().to_string(), d.trim().to_string()),
            None => (item.clone(), String::new()),
        };
        match TaskKind::parse(&word) {
            Some(kind) => {
                let n = per_kind.entry(kind).or_default();
                *n += 1;
                let description = if description.is_empty() { kind.label().to_string() } else { description };
                tasks.push(Task { key: format!("{kind:?}-{n}").to_lowercase(), kind, description, outcome: None });
            }
            None => {
                bad("tasks", format!("\"{word}\" is not a task type (use e.g. meal; medication prompt; personal care)"))
            }
        }
    }
    if errors.len() > before {
        return Ok(None);
    }
    let (Some(person_id), Some(window), Some(client_ref)) = (person_id, window, client_ref) else { return Ok(None) };
    // The same client, day and start time is the same visit, so a re-imported rota updates it.
    const ROTA: Uuid = Uuid::from_u128(0x726f7461_0000_4000_8000_646f6f727374);
    let key = format!("{client_ref}|{}", window.start.timestamp());
    Ok(Some(RotaRowData {
        visit_id: VisitId(Uuid::new_v5(&ROTA, key.as_bytes())),
        person_id,
        window,
        carers,
        tasks,
        names,
    }))
}

impl Store {
    /// Imports people from CSV (columns: [`PEOPLE_COLUMNS`]; `client_ref`, `given_name` and
    /// `family_name` required). A person whose client reference is already here is updated.
    pub fn import_people_csv(&mut self, input: impl Read, today: NaiveDate) -> Result<ImportSummary> {
        self.import_people_csv_by(input, today, &StaffId::new("CSV import"), Utc::now())
    }

    /// As [`Store::import_people_csv`], noting the baselines the sheet sets as recorded by `by`
    /// (the manager importing) at `now`.
    pub fn import_people_csv_by(
        &mut self,
        input: impl Read,
        today: NaiveDate,
        by: &StaffId,
        now: DateTime<Utc>,
    ) -> Result<ImportSummary> {
        let mut errors = Vec::new();
        let rows = read_rows(input, PEOPLE_COLUMNS, PEOPLE_REQUIRED, &mut errors);
        let mut seen = BTreeMap::new();
        let mut people = Vec::new();
        for row in &rows {
            if let Some(data) = check_person_row(row, today, &mut errors) {
                if let Some(first) = seen.insert(data.client_ref.clone(), row.line) {
                    errors.push(RowError {
                        line: row.line,
                        field: "client_ref".into(),
                        reason: format!("\"{}\" is already used on line {first}", data.client_ref),
                    });
                    continue;
                }
                let existing = self.person_by_client_ref(&data.client_ref)?;
                people.push((existing, data));
            }
        }
        if !errors.is_empty() {
            return Err(StoreError::Import(ImportErrors { errors }));
        }
        self.in_transaction(|tx, actor| {
            let mut summary = ImportSummary::default();
            for (existing, data) in people {
                let id = existing.clone().unwrap_or_else(|| PersonId(Uuid::new_v4()).to_string());
                let written = write::<Person>(tx, actor, &id, |current| {
                    let mut person = current.unwrap_or_else(|| {
                        Person::new(id.parse::<Uuid>().map(PersonId).unwrap_or(PersonId(Uuid::nil())), "", "", "")
                    });
                    data.apply(&mut person, by, now);
                    Ok(person)
                })?;
                match (existing, written) {
                    (None, _) => summary.created += 1,
                    (Some(_), Written::Changed) => summary.updated += 1,
                    (Some(_), Written::Unchanged) => summary.unchanged += 1,
                }
            }
            Ok(summary)
        })
    }

    /// Imports the visit rota from CSV (columns: [`ROTA_COLUMNS`]): one visit per row, times
    /// in UK local time, tasks separated by `;` as `kind` or `kind: what to do`.
    pub fn import_rota_csv(&mut self, input: impl Read) -> Result<ImportSummary> {
        let mut errors = Vec::new();
        let rows = read_rows(input, ROTA_COLUMNS, ROTA_REQUIRED, &mut errors);
        let mut visits = Vec::new();
        let mut seen: BTreeMap<VisitId, u64> = BTreeMap::new();
        let mut staff_names: BTreeMap<StaffId, (String, u64)> = BTreeMap::new();
        for row in &rows {
            if let Some(data) = check_rota_row(self, row, &mut errors)? {
                for (reference, name) in &data.names {
                    match staff_names.get(reference) {
                        Some((other, line)) if other != name => errors.push(RowError {
                            line: row.line,
                            field: "carer_name".into(),
                            reason: format!(
                                "{reference} is called \"{other}\" on line {line}: give one name for each carer"
                            ),
                        }),
                        Some(_) => {}
                        None => {
                            staff_names.insert(reference.clone(), (name.clone(), row.line));
                        }
                    }
                }
                if let Some(first) = seen.insert(data.visit_id, row.line) {
                    errors.push(RowError {
                        line: row.line,
                        field: "start".into(),
                        reason: format!("the same person at the same time is already on line {first}"),
                    });
                    continue;
                }
                visits.push(data);
            }
        }
        if !errors.is_empty() {
            return Err(StoreError::Import(ImportErrors { errors }));
        }
        self.in_transaction(|tx, actor| {
            let mut summary = ImportSummary {
                staff_names: staff_names.into_iter().map(|(reference, (name, _))| (reference, name)).collect(),
                ..ImportSummary::default()
            };
            for data in visits {
                let mut created = false;
                let written = write::<Visit>(tx, actor, &data.visit_id.to_string(), |current| {
                    Ok(match current {
                        None => {
                            created = true;
                            Visit {
                                id: data.visit_id,
                                person_id: data.person_id,
                                window: data.window,
                                carers: data.carers,
                                tasks: data.tasks,
                                checked_in_at: None,
                                checked_out_at: None,
                                status: VisitStatus::Scheduled,
                                could_not: None,
                                reviewed: None,
                            }
                        }
                        // A visit already under way keeps what happened; only a future one is re-planned.
                        Some(visit) if visit.status != VisitStatus::Scheduled => visit,
                        Some(mut visit) => {
                            visit.window = data.window;
                            visit.carers = data.carers;
                            let keep: BTreeSet<String> = data.tasks.iter().map(|t| t.key.clone()).collect();
                            visit.tasks.retain(|t| keep.contains(&t.key));
                            for task in data.tasks {
                                match visit.tasks.iter_mut().find(|t| t.key == task.key) {
                                    Some(existing) => {
                                        existing.kind = task.kind;
                                        existing.description = task.description;
                                    }
                                    None => visit.tasks.push(task),
                                }
                            }
                            visit
                        }
                    })
                })?;
                match (created, written) {
                    (true, _) => summary.created += 1,
                    (false, Written::Changed) => summary.updated += 1,
                    (false, Written::Unchanged) => summary.unchanged += 1,
                }
            }
            Ok(summary)
        })
    }
}
