//! `cargo xtask bench store`: the device store's speed on generated data, on this machine.
//!
//! Prints a table, then as its last line
//! `RESULT open_person_1000_visits_ms=… fts_top20_100k_ms=… note_commit_ms=…` (medians).
//! Goals on a 2-core machine: under 100 ms, under 20 ms, under 16 ms (one frame).

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use doorstep_demo::{Generator, at};
use doorstep_model::{NoteId, VisitNote};
use doorstep_store::Store;

use crate::Result;

struct Figure {
    name: &'static str,
    what: &'static str,
    median: Duration,
    goal_ms: f64,
    samples: usize,
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn store(args: &[&str]) -> Result {
    let notes_for_search: usize = match args {
        [] => 100_000,
        ["--notes", n] => n.parse().map_err(|_| format!("--notes takes a number, not {n}"))?,
        _ => return Err("usage: cargo xtask bench store [--notes N]".into()),
    };
    crate::require_release("bench store")?;

    let dir = tempfile::TempDir::new().map_err(|e| e.to_string())?;
    let err = |e: doorstep_store::StoreError| e.to_string();
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).ok_or("bad date")?;
    let mut generator = Generator::new(42);
    let mut figures = Vec::new();

    // 1. A person with 1000 past visits, each with a note: open their screen.
    let mut store = Store::open(dir.path().join("person.db")).map_err(err)?;
    let person = generator.person();
    store.put(&person).map_err(err)?;
    let started = Instant::now();
    let visits: Vec<_> = (0..1000)
        .map(|i| generator.visit(&person, at(today - chrono::Duration::days(i / 3), 8 + 4 * (i % 3) as u32, 0)))
        .collect();
    let notes: Vec<_> = visits.iter().map(|v| generator.note(v)).collect();
    store.put_all(&visits).map_err(err)?;
    store.put_all(&notes).map_err(err)?;
    eprintln!("setup: 1000 visits + 1000 notes for one person in {:.1} s", started.elapsed().as_secs_f64());
    let person_id = person.id.to_string();
    let mut samples = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        let overview = store.person_overview(&person_id).map_err(err)?;
        samples.push(t.elapsed());
        if overview.timeline.len() != 1000 {
            return Err(format!("expected 1000 visits on the timeline, found {}", overview.timeline.len()));
        }
    }
    figures.push(Figure {
        name: "open_person_1000_visits_ms",
        what: "person screen: record, 1000-visit timeline, watch, ideas",
        median: median(samples),
        goal_ms: 100.0,
        samples: 30,
    });
    drop(store);

    // 2. Full-text search, top 20, over many notes.
    let mut store = Store::open(dir.path().join("search.db")).map_err(err)?;
    let started = Instant::now();
    let people: Vec<_> = (0..200).map(|_| generator.person()).collect();
    store.put_all(&people).map_err(err)?;
    let mut written = 0;
    while written < notes_for_search {
        let batch = (notes_for_search - written).min(2000);
        let batch_notes: Vec<VisitNote> = (0..batch)
            .map(|i| {
                let person = &people[(written + i) % people.len()];
                let visit =
                    generator.visit(person, at(today - chrono::Duration::days(((written + i) / 200) as i64), 9, 0));
                generator.note(&visit)
            })
            .collect();
        store.put_all(&batch_notes).map_err(err)?;
        written += batch;
        if written % 20_000 == 0 || written == notes_for_search {
            eprintln!("setup: {written}/{notes_for_search} notes ({:.0} s)", started.elapsed().as_secs_f64());
        }
    }
    let queries = [
        "porridge",
        "muddled",
        "swollen ankles",
        "slipped",
        "tablets water",
        "allotment",
        "breathless stairs",
        "tea",
        "racing lunch",
        "key safe",
    ];
    let mut samples = Vec::new();
    for round in 0..5 {
        for q in queries {
            let t = Instant::now();
            let hits = store.search(q, 20).map_err(err)?;
            samples.push(t.elapsed());
            if round == 0 && hits.is_empty() {
                return Err(format!("search for {q:?} found nothing"));
            }
        }
    }
    let label = if notes_for_search == 100_000 { "fts_top20_100k_ms" } else { "fts_top20_ms" };
    figures.push(Figure {
        name: label,
        what: "search notes and ideas, best 20 with snippets",
        median: median(samples),
        goal_ms: 20.0,
        samples: queries.len() * 5,
    });

    // 3. Saving a note as the carer types: one coalesced change per save.
    let visit = generator.visit(&people[0], at(today, 9, 0));
    let note = generator.note(&visit);
    let note_id = NoteId::for_visit(visit.id).to_string();
    store.put(&visit).map_err(err)?;
    store.put(&note).map_err(err)?;
    let mut samples = Vec::new();
    for i in 0..200 {
        let t = Instant::now();
        store
            .update::<VisitNote>(&note_id, |n| {
                n.narrative.push_str(if i % 2 == 0 { " Made a cup of tea." } else { " Checked the fridge." });
                Ok(())
            })
            .map_err(err)?;
        samples.push(t.elapsed());
    }
    figures.push(Figure {
        name: "note_commit_ms",
        what: "save a note edit: document change + projections + search, one transaction",
        median: median(samples),
        goal_ms: 16.0,
        samples: 200,
    });

    println!("{:<28} {:>10} {:>8} {:>8} {:>8}  what", "measure", "median ms", "goal ms", "ratio", "samples");
    for f in &figures {
        let m = ms(f.median);
        println!("{:<28} {:>10.3} {:>8.0} {:>8.3} {:>8}  {}", f.name, m, f.goal_ms, m / f.goal_ms, f.samples, f.what);
    }
    let result: Vec<String> = figures.iter().map(|f| format!("{}={:.3}", f.name, ms(f.median))).collect();
    println!("RESULT {}", result.join(" "));
    Ok(())
}
