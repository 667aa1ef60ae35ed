//! Demo and generated care records.
//!
//! [`load_demo`] fills a store with a small, believable caseload (what `cargo xtask run` shows);
//! [`Generator`] makes large, seeded, reproducible data for tests and benchmarks, and
//! [`caseload`] quiet weeks of a provider's caseload for the early warning.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Europe::London;
use doorstep_model::insight::{ConsentBasis, Insight, InsightStatus, PartnerKind, Urgency};
use doorstep_model::news2::{Acvpu, VitalSigns};
use doorstep_model::note::{Comparison, FoodFluid, Intake, Mood, SoftSign, SoftSignObservation, VisitNote};
use doorstep_model::person::{ConsentRecord, Contact, UsualForMe};
use doorstep_model::visit::{Task, TaskKind, TimeWindow, VisitStatus};
use doorstep_model::{
    AreaService, Directory, InsightId, NhsNumber, NoteId, Person, PersonId, ServiceKind, StaffId, Visit, VisitId,
};
use doorstep_store::{Result, Store};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use uuid::Uuid;

pub mod caseload;
pub use caseload::Caseload;

/// A UK wall-clock time on `day` as an instant.
pub fn at(day: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    let local = day.and_time(NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or_default());
    London
        .from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&local))
}

/// Ids made from a seed and a counter, so generated data is the same on every run.
pub struct Generator {
    rng: StdRng,
}

const NARRATIVES: &[&str] = &[
    "Helped with a wash and getting dressed. Ate most of her porridge and had a cup of tea.",
    "Quiet this morning, said she slept badly. Took her tablets with water. Left a drink within reach.",
    "Watched the racing together while he had lunch. Chatted about his garden and the allotment.",
    "Found the back door unlocked again. Reminded him about the key safe. Bins taken out.",
    "Seemed a bit more muddled than usual, asked twice what day it was. Daughter phoned, aware.",
    "Legs look swollen around the ankles. Encouraged feet up. Told the office.",
    "Nearly slipped on the bathroom mat, steadied herself on the sink. Mat moved out of the way.",
    "Not much appetite, only a few spoonfuls of soup. Fluids encouraged, half a glass of squash.",
    "In good spirits, showed me photos of the grandchildren. Hoovered the lounge.",
    "Coughing more than last week and a little breathless on the stairs.",
];

const GIVEN: &[&str] =
    &["Margaret", "Arthur", "Edna", "Harold", "Joan", "Stanley", "Iris", "Dennis", "Pauline", "Raymond"];
const FAMILY: &[&str] =
    &["Jones", "Patel", "O'Brien", "Williams", "Okafor", "Taylor", "Nowak", "Singh", "Evans", "Hughes"];
const CARERS: &[&str] = &["C001", "C002", "C003", "C004", "C005", "C006"];

impl Generator {
    pub fn new(seed: u64) -> Self {
        Self { rng: StdRng::seed_from_u64(seed) }
    }

    fn uuid(&mut self) -> Uuid {
        Uuid::from_u128(self.rng.random::<u128>() & !(0xF << 76) | (0x4 << 76))
    }

    pub fn person(&mut self) -> Person {
        let given = *GIVEN.choose(&mut self.rng).unwrap_or(&"Alex");
        let family = *FAMILY.choose(&mut self.rng).unwrap_or(&"Smith");
        let n: u32 = self.rng.random_range(1000..99999);
        let mut p = Person::new(PersonId(self.uuid()), format!("P{n:05}"), given, family);
        let year = self.rng.random_range(1925..1960);
        p.date_of_birth = NaiveDate::from_ymd_opt(year, self.rng.random_range(1..=12), self.rng.random_range(1..=28));
        p.gp_practice = "Riverside Surgery".into();
        p.gp_phone = "01632 960 000".into(); // Ofcom's drama range: never a real line
        p.what_matters_to_me = "Staying in my own home, my cat, and a proper cup of tea.".into();
        p
    }

    pub fn visit(&mut self, person: &Person, start: DateTime<Utc>) -> Visit {
        let carer = *CARERS.choose(&mut self.rng).unwrap_or(&"C001");
        Visit {
            id: VisitId(self.uuid()),
            person_id: person.id,
            window: TimeWindow { start, end: start + Duration::minutes(30) },
            carers: vec![StaffId::new(carer)],
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

    /// A completed visit's note with a narrative, sometimes soft signs and vitals.
    pub fn note(&mut self, visit: &Visit) -> VisitNote {
        let mut note = VisitNote::new(NoteId::for_visit(visit.id), visit.id, visit.person_id);
        let a = *NARRATIVES.choose(&mut self.rng).unwrap_or(&"");
        let b = *NARRATIVES.choose(&mut self.rng).unwrap_or(&"");
        note.narrative = format!("{a} {b}");
        if self.rng.random_bool(0.2) {
            // The first eleven signs: seeds give the same caseloads as before signs were added.
            let sign = *SoftSign::ALL[..11].choose(&mut self.rng).unwrap_or(&SoftSign::NotUsualSelf);
            note.observe(SoftSignObservation { sign, compared_to_usual: Comparison::New, detail: String::new() });
        }
        if self.rng.random_bool(0.3) {
            note.vitals = Some(VitalSigns {
                respiration_rate: Some(self.rng.random_range(12..26)),
                spo2_percent: Some(self.rng.random_range(91..99)),
                on_oxygen: Some(false),
                systolic_bp: Some(self.rng.random_range(95..160)),
                pulse: Some(self.rng.random_range(55..115)),
                consciousness: Some(Acvpu::Alert),
                temperature_c: Some(f64::from(self.rng.random_range(358..384)) / 10.0),
            });
        }
        note.food_fluid =
            FoodFluid { eating: Some(Intake::Usual), drinking: Some(Intake::Usual), detail: String::new() };
        note.mood = Some(Mood::Settled);
        note.touched_by(&visit.carers[0], visit.window.start + Duration::minutes(20));
        note
    }
}

/// What [`load_demo`] put in the store.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DemoSummary {
    pub people: usize,
    pub visits: usize,
    pub notes: usize,
    pub insights: usize,
}

fn staff(id: &str) -> StaffId {
    StaffId::new(id)
}

/// A small caseload around `today`: four people, today's rota for two carers (one double-up),
/// a fortnight of history showing one person slipping, and two ideas.
pub fn load_demo(store: &mut Store, today: NaiveDate) -> Result<DemoSummary> {
    let mut generator = Generator::new(7);
    let mut summary = DemoSummary::default();
    let consent = |who: &str| ConsentRecord {
        given: true,
        recorded_by: staff("M001"),
        recorded_at: at(today - Duration::days(60), 11, 0),
        note: format!("Talked it through with {who}; happy for the GP and council to be told."),
    };

    let mut peggy = Person::new(PersonId(generator.uuid()), "P00001", "Margaret", "Jones");
    peggy.name.preferred = Some("Peggy".into());
    peggy.date_of_birth = NaiveDate::from_ymd_opt(1938, 5, 2);
    peggy.nhs_number = NhsNumber::parse("943 476 5919").ok();
    peggy.address.lines = vec!["14 Mill Lane".into(), "Northbrook".into()];
    peggy.address.postcode = "NB3 2QT".into();
    peggy.address.access = "Key safe by the back door, code with the office.".into();
    peggy.gp_practice = "Riverside Surgery".into();
    peggy.gp_phone = "01632 960 000".into();
    peggy.gp_ods = "Y01234".into(); // made up, like the practice
    peggy.key_contacts =
        vec![Contact { name: "Sue Jones".into(), relationship: "Daughter".into(), phone: "07700 900123".into() }];
    peggy.known_risks = vec!["Falls".into(), "Type 2 diabetes".into()];
    peggy.communication_needs = "Hard of hearing on the left: sit on her right.".into();
    peggy.what_matters_to_me = "Staying in my own home with my cat, Biscuit. Doing the crossword with my tea.".into();
    peggy.strengths_and_interests = vec!["Crosswords".into(), "Baking".into(), "Knows everyone on the lane".into()];
    peggy.usual = vec![
        UsualForMe::new(SoftSign::Confusion, "Sharp; knows the day and all her carers by name"),
        UsualForMe::new(SoftSign::UnsteadyOrFall, "Walks with a frame indoors, steady"),
    ];
    peggy.consent.nhs = Some(consent("Peggy"));
    peggy.consent.council = Some(consent("Peggy"));

    let mut arthur = Person::new(PersonId(generator.uuid()), "P00002", "Arthur", "Patel");
    arthur.date_of_birth = NaiveDate::from_ymd_opt(1944, 9, 17);
    arthur.address.lines = vec!["2 Station Road".into(), "Northbrook".into()];
    arthur.address.postcode = "NB1 4AA".into();
    arthur.gp_practice = "Northbrook Medical Centre".into();
    arthur.gp_phone = "01632 960 123".into();
    arthur.known_risks = vec!["COPD".into()];
    arthur.spo2_scale = doorstep_model::SpO2Scale::Scale2;
    arthur.scale2 = Some(doorstep_model::ClinicalSetting {
        set_by: "Dr A Shah, community respiratory team".into(),
        set_on: Some(today - Duration::days(200)),
        review_on: Some(today + Duration::days(165)),
        recorded_by: staff("M001"),
        recorded_at: at(today - Duration::days(199), 10, 0),
    });
    arthur.what_matters_to_me = "Getting to the allotment on Sundays with my son.".into();
    arthur.strengths_and_interests = vec!["Gardening".into(), "Cricket on the radio".into()];
    arthur.usual = vec![UsualForMe::new(SoftSign::Breathing, "Breathless on the stairs, fine sitting")];
    arthur.consent.nhs = Some(consent("Arthur"));
    arthur.plan = Some(doorstep_model::CarePlan {
        kind: doorstep_model::PlanKind::Respect,
        summary: "For treatment at home where possible; hospital if the cause can be treated. Not for CPR. \
                  His son Raj (07700 900456) to be told."
            .into(),
        recorded_by: staff("M001"),
        recorded_at: at(today - Duration::days(30), 10, 0),
    });

    let mut edna = generator.person();
    edna.client_ref = "P00003".into();
    edna.name.given = "Edna".into();
    edna.name.family = "O'Brien".into();
    edna.known_risks = vec!["Lives alone".into(), "Poor appetite".into()];

    let mut harold = generator.person();
    harold.client_ref = "P00004".into();
    harold.name.given = "Harold".into();
    harold.name.family = "Williams".into();
    harold.known_risks = vec!["Dementia".into()];

    for p in [&peggy, &arthur, &edna, &harold] {
        store.put(p)?;
        summary.people += 1;
    }

    // A fortnight of history: Peggy slipping over the last few days.
    for days_ago in (1..=14).rev() {
        let day = today - Duration::days(days_ago);
        for (person, hour) in [(&peggy, 8), (&arthur, 10), (&edna, 12), (&harold, 17)] {
            let mut visit = generator.visit(person, at(day, hour, 0));
            visit.check_in(visit.window.start + Duration::minutes(3)).ok();
            for key in ["personalcare-1", "meal-1"] {
                visit.record_task(key, doorstep_model::visit::TaskOutcome::Done).ok();
            }
            visit.check_out(visit.window.end).ok();
            store.put(&visit)?;
            let mut note = generator.note(&visit);
            note.soft_signs.clear();
            note.vitals = None;
            if person.id == peggy.id && days_ago <= 3 {
                note.narrative = NARRATIVES[4].into();
                note.observe(SoftSignObservation {
                    sign: SoftSign::Confusion,
                    compared_to_usual: Comparison::New,
                    detail: "Asked twice what day it was".into(),
                });
                if days_ago <= 2 {
                    note.observe(SoftSignObservation {
                        sign: SoftSign::EatingDrinkingLess,
                        compared_to_usual: Comparison::Worse,
                        detail: "Half her breakfast".into(),
                    });
                    note.food_fluid.eating = Some(Intake::Less);
                }
                if days_ago == 1 {
                    note.observe(SoftSignObservation {
                        sign: SoftSign::UnsteadyOrFall,
                        compared_to_usual: Comparison::Worse,
                        detail: "Nearly fell in the bathroom".into(),
                    });
                    note.vitals = Some(VitalSigns {
                        respiration_rate: Some(21),
                        spo2_percent: Some(95),
                        on_oxygen: Some(false),
                        systolic_bp: Some(108),
                        pulse: Some(96),
                        consciousness: Some(Acvpu::NewConfusion),
                        temperature_c: Some(37.9),
                    });
                }
            }
            store.put(&note)?;
            summary.visits += 1;
            summary.notes += 1;
        }
    }

    // Today's rota: Sam (C001) and Priya (C002), with a double-up for Harold.
    for (person, hour, minute, carers) in [
        (&peggy, 8, 0, vec!["C001"]),
        (&arthur, 9, 15, vec!["C001"]),
        (&edna, 11, 30, vec!["C002"]),
        (&harold, 13, 0, vec!["C001", "C002"]),
        (&peggy, 17, 30, vec!["C002"]),
    ] {
        let mut visit = generator.visit(person, at(today, hour, minute));
        visit.carers = carers.into_iter().map(staff).collect();
        visit.tasks.push(Task {
            key: "medicationprompt-1".into(),
            kind: TaskKind::MedicationPrompt,
            description: "Morning tablets from the blister pack".into(),
            outcome: None,
        });
        store.put(&visit)?;
        summary.visits += 1;
    }

    let ideas = [
        Insight {
            follow_up: None,
            id: InsightId(generator.uuid()),
            person_id: Some(peggy.id),
            author: staff("C001"),
            created_at: at(today - Duration::days(1), 8, 40),
            summary: "Grab rail by Peggy's bath would stop her near-falls".into(),
            detail: "She steadies herself on the sink and the towel rail. Twice this week she nearly went over.".into(),
            suggested_action: "OT home assessment for a grab rail and bath seat.".into(),
            who_could_act: vec![PartnerKind::OtEquipment, PartnerKind::CouncilAdultSocialCare],
            urgency: Urgency::Soon,
            consent_basis: ConsentBasis::PersonConsented,
            status: InsightStatus::Submitted,
            comments: vec![],
            shares: vec![],
        },
        Insight {
            follow_up: None,
            id: InsightId(generator.uuid()),
            person_id: Some(arthur.id),
            author: staff("C002"),
            created_at: at(today - Duration::days(4), 10, 20),
            summary: "Arthur's inhalers: he is not sure which one is which".into(),
            detail: "Two inhalers of similar colour; he uses the brown one when breathless.".into(),
            suggested_action: "Pharmacy medication review, maybe a simple chart.".into(),
            who_could_act: vec![PartnerKind::Pharmacy, PartnerKind::GpPractice],
            urgency: Urgency::Routine,
            consent_basis: ConsentBasis::PersonConsented,
            status: InsightStatus::Draft,
            comments: vec![],
            shares: vec![],
        },
    ];
    for idea in &ideas {
        store.put(idea)?;
        summary.insights += 1;
    }
    arthurs_admission(store, today)?;
    // The office's directory, once the store knows whose office it is (it is enrolled).
    if let Some(provider) = store.setting("organisation_id")?.and_then(|id| Uuid::parse_str(&id).ok()) {
        store.put(&demo_directory(provider))?;
    }
    Ok(summary)
}

/// Arthur's week in hospital, for the outcomes: nine days ago he was breathless at rest and his
/// carer phoned the GP; that evening he was admitted, so the next morning's visit could not
/// happen ("in hospital", with the admission recorded); two days later he was home again.
fn arthurs_admission(store: &mut Store, today: NaiveDate) -> Result<()> {
    use doorstep_model::outcome::{OutcomeKind, OutcomeLinks, PersonOutcome, call_link};
    use doorstep_model::{CallOutcome, CallRecord, CallTarget, CouldNotReason, CouldNotVisit};

    let Some(arthur) = store.person_by_client_ref("P00002")? else { return Ok(()) };
    let visits = store.visits_between(at(today - Duration::days(9), 0, 0), at(today - Duration::days(7), 23, 59))?;
    let mut visits: Vec<_> = visits.into_iter().filter(|v| v.person_id == arthur).collect();
    visits.sort_by_key(|v| v.starts_at);
    let [phoned, missed, home] = visits.as_slice() else { return Ok(()) };
    let admitted_on = today - Duration::days(9);
    let inhalers = store
        .insights_with_status("draft")?
        .into_iter()
        .filter(|i| i.person_id.as_deref() == Some(arthur.as_str()))
        .filter_map(|i| Uuid::parse_str(&i.id).ok().map(InsightId))
        .collect::<Vec<_>>();

    let visit: Visit = store.get(&phoned.id)?;
    let call = CallRecord {
        to: CallTarget::GpPractice,
        to_name: String::new(),
        at: at(admitted_on, 10, 20),
        spoke_to: "Dr Khan".into(),
        outcome: CallOutcome::GpVisiting,
        detail: "GP visiting after surgery".into(),
        by: visit.carers[0].clone(),
    };
    store.update::<VisitNote>(&NoteId::for_visit(visit.id).to_string(), |note| {
        note.observe(SoftSignObservation {
            sign: SoftSign::Breathing,
            compared_to_usual: Comparison::Worse,
            detail: "Breathless sitting in his chair".into(),
        });
        note.calls.push(call.clone());
        Ok(())
    })?;
    let links = OutcomeLinks { watch_level: "watch".into(), escalations: vec![call_link(&call)], open_ideas: inhalers };

    // The next morning: not at home. His son rang the office; the carer records both.
    let mut visit: Visit = store.get(&missed.id)?;
    let carer = visit.carers[0].clone();
    let heard_at = at(today - Duration::days(8), 9, 55);
    visit.checked_in_at = None;
    visit.checked_out_at = None;
    visit.tasks.iter_mut().for_each(|t| t.outcome = None);
    visit.status = VisitStatus::Scheduled;
    visit
        .could_not(CouldNotVisit {
            reason: CouldNotReason::InHospital,
            detail: "His son Raj rang: admitted last night with his chest.".into(),
            by: carer.clone(),
            at: heard_at,
        })
        .ok();
    store.put(&visit)?;
    let mut note = VisitNote::new(NoteId::for_visit(visit.id), visit.id, visit.person_id);
    note.outcomes.push(PersonOutcome {
        key: "demo-arthur-admitted".into(),
        kind: OutcomeKind::Admitted,
        day: admitted_on,
        by: carer.clone(),
        at: heard_at,
        links: links.clone(),
    });
    note.touched_by(&carer, heard_at);
    store.put(&note)?;

    let visit: Visit = store.get(&home.id)?;
    let carer = visit.carers[0].clone();
    let back_at = visit.window.start + Duration::minutes(10);
    store.update::<VisitNote>(&NoteId::for_visit(visit.id).to_string(), |note| {
        note.narrative = "Home from hospital last night, tired but glad to be back. New inhaler from the ward.".into();
        note.outcomes.push(PersonOutcome {
            key: "demo-arthur-home".into(),
            kind: OutcomeKind::HomeAgain,
            day: today - Duration::days(8),
            by: carer.clone(),
            at: back_at,
            links: OutcomeLinks { escalations: Vec::new(), ..links },
        });
        Ok(())
    })?;
    Ok(())
}

/// Postcodes for generated caseloads, in three made-up districts.
const AREA_POSTCODES: [&str; 3] = ["NB1 4AA", "NB2 7LP", "NB3 2QT"];

/// Weeks of another provider's work for the commissioners' counts: `people` people across three
/// districts, each visited once a week for the `weeks` weeks before `today`, every visit with a
/// note (a new sign in about a third of them) and now and then an idea.
pub fn load_area_history(
    store: &mut Store,
    seed: u64,
    today: NaiveDate,
    weeks: i64,
    people: usize,
) -> Result<DemoSummary> {
    let mut generator = Generator::new(seed);
    let mut summary = DemoSummary::default();
    let kinds = [PartnerKind::OtEquipment, PartnerKind::GpPractice, PartnerKind::Pharmacy];
    for n in 0..people {
        let mut person = generator.person();
        person.address.postcode = AREA_POSTCODES[n % AREA_POSTCODES.len()].into();
        store.put(&person)?;
        summary.people += 1;
        for week in 1..=weeks {
            let day = today - Duration::days(7 * week - (n % 5) as i64);
            let mut visit = generator.visit(&person, at(day, 9 + (n % 8) as u32, 0));
            visit.check_in(visit.window.start + Duration::minutes(2)).ok();
            visit.check_out(visit.window.end).ok();
            store.put(&visit)?;
            let mut note = generator.note(&visit);
            if note.soft_signs.is_empty() && generator.rng.random_bool(0.2) {
                let sign = *SoftSign::ALL.choose(&mut generator.rng).unwrap_or(&SoftSign::NotUsualSelf);
                note.observe(SoftSignObservation { sign, compared_to_usual: Comparison::New, detail: String::new() });
            }
            store.put(&note)?;
            summary.visits += 1;
            summary.notes += 1;
            if generator.rng.random_bool(0.12) {
                let idea = Insight {
                    follow_up: None,
                    id: InsightId(generator.uuid()),
                    person_id: Some(person.id),
                    author: visit.carers[0].clone(),
                    created_at: visit.window.end,
                    summary: "Might manage better with some help".into(),
                    detail: String::new(),
                    suggested_action: String::new(),
                    who_could_act: vec![*kinds.choose(&mut generator.rng).unwrap_or(&PartnerKind::GpPractice)],
                    urgency: Urgency::Soon,
                    consent_basis: ConsentBasis::NotIdentifiable,
                    status: InsightStatus::Submitted,
                    comments: vec![],
                    shares: vec![],
                };
                store.put(&idea)?;
                summary.insights += 1;
            }
        }
    }
    Ok(summary)
}

/// The demo office's directory: its numbers, Northbrook's community services and staff names.
/// Numbers are from Ofcom's drama ranges, never a real line.
pub fn demo_directory(provider: Uuid) -> Directory {
    let mut d = Directory::new(provider);
    d.office_phone = "01632 960 100".into();
    d.office_hours = "Monday to Friday, 8am to 6pm".into();
    d.on_call_phone = "07700 900 123".into();
    let service = |id: &str, kind, name: &str, phone: &str, hours: &str, districts: &[&str]| AreaService {
        id: id.into(),
        kind,
        name: name.into(),
        phone: phone.into(),
        hours: hours.into(),
        districts: districts.iter().map(|d| d.to_string()).collect(),
    };
    d.services = vec![
        service(
            "demo-ucr",
            ServiceKind::UrgentCommunityResponse,
            "Northbrook Urgent Community Response",
            "01632 960 200",
            "8am to 8pm, every day",
            &["NB1", "NB2", "NB3"],
        ),
        service(
            "demo-dn",
            ServiceKind::DistrictNursing,
            "Northbrook District Nurses",
            "01632 960 456",
            "Every day, 8am to 10pm",
            &[],
        ),
        service(
            "demo-falls",
            ServiceKind::FallsResponse,
            "Northbrook Falls Response",
            "01632 960 300",
            "Every day, 24 hours",
            &[],
        ),
        service(
            "demo-ooh",
            ServiceKind::OutOfHours,
            "Northbrook GP Out of Hours",
            "01632 960 999",
            "6:30pm to 8am, weekends and bank holidays",
            &[],
        ),
    ];
    // Every carer the demo's history names has a name, so no screen shows a bare staff code.
    for (reference, name) in [
        ("C001", "Sam Taylor"),
        ("C002", "Priya Shah"),
        ("C003", "Jordan Ellis"),
        ("C004", "Aisha Begum"),
        ("C005", "Tom Walsh"),
        ("C006", "Grace Okafor"),
        ("M001", "Mo Khan"),
    ] {
        d.set_staff_name(&staff(reference), name);
    }
    let phones = [
        "07700 900 301",
        "07700 900 302",
        "07700 900 304",
        "07700 900 305",
        "07700 900 306",
        "07700 900 307",
        "07700 900 303",
    ];
    for (member, phone) in d.staff.iter_mut().zip(phones) {
        member.phone = phone.into();
    }
    d
}

/// Two ideas already shared with partners, so the partner hub has something to show: Peggy's
/// (her consent covers the NHS: the surgery sees who she is, with her latest soft signs and vital
/// signs) and Arthur's (shared as not identifiable: the council sees the area only). Call after
/// [`load_demo`]; returns the shared items written.
pub fn share_demo(
    store: &mut Store,
    provider: doorstep_model::ProviderRef,
    surgery: &doorstep_model::PartnerOrg,
    council: &doorstep_model::PartnerOrg,
    today: NaiveDate,
) -> Result<Vec<doorstep_model::SharedItem>> {
    use doorstep_model::{ShareChoices, SharedItem, SharedItemId};
    let mut generator = Generator::new(2_024_117);
    let people = store.people()?;
    let find = |client_ref: &str| people.iter().find(|p| p.client_ref == client_ref).map(|p| p.id.clone());
    let (Some(peggy), Some(arthur)) = (find("P00001"), find("P00002")) else { return Ok(Vec::new()) };
    let peggy: Person = store.get(&peggy)?;
    let arthur: Person = store.get(&arthur)?;
    let shared_at = at(today, 8, 15);
    let plans = [
        (
            &peggy,
            surgery,
            Insight {
                follow_up: None,
                id: InsightId(generator.uuid()),
                person_id: Some(peggy.id),
                author: StaffId::new("C001"),
                created_at: at(today - Duration::days(1), 18, 5),
                summary: "Peggy is drinking much less and is muddled in the afternoons".into(),
                detail: "Half a cup of tea left each visit; twice she did not know it was teatime. Not like her."
                    .into(),
                suggested_action: "Could the practice check for a urine infection and review her fluids?".into(),
                who_could_act: vec![PartnerKind::GpPractice],
                urgency: Urgency::Urgent,
                consent_basis: ConsentBasis::PersonConsented,
                status: InsightStatus::Reviewed,
                comments: vec![],
                shares: vec![],
            },
            "So the GP can check for an infection before it becomes a hospital stay",
        ),
        (
            &arthur,
            council,
            Insight {
                follow_up: None,
                id: InsightId(generator.uuid()),
                person_id: Some(arthur.id),
                author: StaffId::new("C002"),
                created_at: at(today - Duration::days(3), 11, 30),
                summary: "The front step is crumbling and the handrail is loose".into(),
                detail: "The edge of the step breaks away; the rail moves when leant on.".into(),
                suggested_action: "Home adaptations visit: step repair and a fixed rail.".into(),
                who_could_act: vec![PartnerKind::Housing, PartnerKind::CouncilAdultSocialCare],
                urgency: Urgency::Soon,
                // Arthur has not agreed to share with the council: only the area goes.
                consent_basis: ConsentBasis::NotIdentifiable,
                status: InsightStatus::Reviewed,
                comments: vec![],
                shares: vec![],
            },
            "So the council can arrange a home adaptations visit",
        ),
    ];
    let mut written = Vec::new();
    for (person, partner, mut insight, purpose) in plans {
        let latest = store.latest_note_of(&person.id.to_string())?;
        let item = SharedItem::from_insight(
            SharedItemId(generator.uuid()),
            &insight,
            provider.clone(),
            partner.clone(),
            purpose,
            "M001",
            shared_at,
            Some(person),
            latest.as_ref().map(|(note, time)| (note, *time)),
            ShareChoices { include_observations: true },
        );
        // The demo person's recorded consent covers these partners, so sharing cannot refuse.
        let consent = Some((person.name.given.as_str(), &person.consent));
        if insight.share(std::slice::from_ref(partner), purpose, consent, "M001", shared_at).is_err() {
            continue;
        }
        store.put(&insight)?;
        store.put(&item)?;
        written.push(item);
    }
    written.extend(follow_up_demo(store, provider, surgery, today)?);
    Ok(written)
}

/// Three more people in Peggy's district (NB3) who fell or nearly fell in the last five days, each
/// seen by another carer: with Peggy's near-fall yesterday that is four people in a district where
/// nobody fell in the fortnight before, so the manager's caseload early warning has an alert to
/// show. Kept apart from [`load_demo`] so the small caseload's counts stay as they are.
pub fn load_falls_cluster(store: &mut Store, today: NaiveDate) -> Result<DemoSummary> {
    let mut generator = Generator::new(19);
    let mut summary = DemoSummary::default();
    let falls = [
        ("P00011", "Norman", "Hughes", "12 Mill Lane", 1, "Found on the floor by his chair; says he slid down"),
        ("P00012", "Joan", "Baker", "3 Weir Cottages", 3, "Tripped on the rug in the hall, no injury seen"),
        ("P00013", "Walter", "Price", "40 Mill Lane", 5, "Very unsteady getting up; nearly fell twice"),
    ];
    for (client_ref, given, family, street, days_ago, detail) in falls {
        let mut person = Person::new(PersonId(generator.uuid()), client_ref, given, family);
        person.date_of_birth = NaiveDate::from_ymd_opt(1936, 3, 11);
        person.address.lines = vec![street.into(), "Northbrook".into()];
        person.address.postcode = "NB3 2QT".into();
        person.gp_practice = "Riverside Surgery".into();
        person.gp_phone = "01632 960 000".into();
        person.known_risks = vec!["Falls".into()];
        store.put(&person)?;
        summary.people += 1;
        let day = today - Duration::days(days_ago);
        let mut visit = generator.visit(&person, at(day, 11, 0));
        visit.carers = vec![staff("C002")];
        visit.check_in(visit.window.start + Duration::minutes(4)).ok();
        visit.check_out(visit.window.end).ok();
        store.put(&visit)?;
        summary.visits += 1;
        let mut note = generator.note(&visit);
        note.soft_signs.clear();
        note.vitals = None;
        note.observe(SoftSignObservation {
            sign: SoftSign::UnsteadyOrFall,
            compared_to_usual: Comparison::New,
            detail: detail.into(),
        });
        store.put(&note)?;
        summary.notes += 1;
    }
    Ok(summary)
}

/// An idea about Arthur that the surgery answered "action taken" 35 days before `today`, judging
/// an admission likely avoided: the office's "Did it help?" asks about it. Returns its shared
/// item, or None without Arthur (see [`load_demo`]) or his consent.
pub fn follow_up_demo(
    store: &mut Store,
    provider: doorstep_model::ProviderRef,
    partner: &doorstep_model::PartnerOrg,
    today: NaiveDate,
) -> Result<Option<doorstep_model::SharedItem>> {
    use doorstep_model::shared::{PartnerResponse, ResponseOutcome};
    use doorstep_model::{ShareChoices, SharedItem, SharedItemId};
    let mut generator = Generator::new(2_024_119);
    let Some(arthur) = store.people()?.into_iter().find(|p| p.client_ref == "P00002") else { return Ok(None) };
    let arthur: Person = store.get(&arthur.id)?;
    let shared_at = at(today - Duration::days(38), 9, 30);
    let mut insight = Insight {
        follow_up: None,
        id: InsightId(generator.uuid()),
        person_id: Some(arthur.id),
        author: staff("C002"),
        created_at: at(today - Duration::days(39), 17, 10),
        summary: "Arthur sleeps in his chair: he is too breathless to lie flat".into(),
        detail: "Three nights running he has not gone up to bed. His ankles are more swollen than usual.".into(),
        suggested_action: "Could the practice or the community respiratory team see him this week?".into(),
        who_could_act: vec![PartnerKind::GpPractice],
        urgency: Urgency::Soon,
        consent_basis: ConsentBasis::PersonConsented,
        status: InsightStatus::Reviewed,
        comments: vec![],
        shares: vec![],
    };
    let purpose = "So the practice can see him before his breathing gets worse";
    let consent = Some((arthur.name.given.as_str(), &arthur.consent));
    if insight.share(std::slice::from_ref(partner), purpose, consent, "M001", shared_at).is_err() {
        return Ok(None);
    }
    let mut item = SharedItem::from_insight(
        SharedItemId(generator.uuid()),
        &insight,
        provider,
        partner.clone(),
        purpose,
        "M001",
        shared_at,
        Some(&arthur),
        None,
        ShareChoices::default(),
    );
    let said = "The respiratory nurse visited the next day and started his rescue pack. He stayed at home.";
    let answered = PartnerResponse {
        key: generator.uuid().to_string(),
        outcome: ResponseOutcome::ActionTaken,
        message: said.into(),
        by: "Dr Ruth Evans".into(),
        at: at(today - Duration::days(35), 14, 20),
        admission_likely_avoided: Some(true),
    };
    if item.respond(answered).is_err()
        || insight.move_to(ResponseOutcome::ActionTaken.insight_status(&partner.name, said)).is_err()
    {
        return Ok(None);
    }
    store.put(&insight)?;
    store.put(&item)?;
    Ok(Some(item))
}
