//! `cargo xtask run`: until the app exists (a later issue), this loads the demo caseload into a
//! device store and prints what a carer and a manager would see today.

use chrono::Local;
use doorstep_model::news2::News2Assessment;
use doorstep_model::sbard::{Caller, Sbard, assess_note};
use doorstep_model::{NoteId, Person, VisitNote};
use doorstep_store::Store;

use crate::Result;

pub fn run(args: &[&str]) -> Result {
    let db = match args {
        [] => std::path::PathBuf::from("target/demo/doorstep.db"),
        ["--db", path] => std::path::PathBuf::from(path),
        _ => return Err("usage: cargo xtask run [--db PATH]".into()),
    };
    if let Some(dir) = db.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    // A fresh demo each run, so "today" is today.
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", db.display());
        if std::path::Path::new(&file).exists() {
            std::fs::remove_file(&file).map_err(|e| format!("cannot remove {file}: {e}"))?;
        }
    }
    let today = Local::now().date_naive();
    let mut store = Store::open(&db).map_err(|e| format!("{}: {e}", db.display()))?;
    let loaded = doorstep_demo::load_demo(&mut store, today).map_err(|e| e.to_string())?;
    println!("Doorstep demo store: {}", db.display());
    println!(
        "Loaded {} people, {} visits, {} visit notes, {} ideas.\n",
        loaded.people, loaded.visits, loaded.notes, loaded.insights
    );

    println!("Today, {}:", today.format("%A %-d %B %Y"));
    for visit in store.visits_on(today, None).map_err(|e| e.to_string())? {
        let time = visit.starts_at.with_timezone(&chrono::Local).format("%H:%M");
        let who = visit.person_name.as_deref().unwrap_or("(person not on this device yet)");
        println!("  {time}  {who:<28} {:<12} {}", visit.status, visit.carers.join(" + "));
    }

    println!("\nDeterioration watch:");
    for person in store.people().map_err(|e| e.to_string())? {
        let flag = store.watch(&person.id).map_err(|e| e.to_string())?;
        println!("  {:<28} {}", person.display_name, flag.level.code());
        for reason in flag.reasons {
            println!("      - {reason}");
        }
    }

    println!("\nIdeas waiting for review:");
    for idea in store.insights_with_status("submitted").map_err(|e| e.to_string())? {
        println!("  [{}] {}", idea.urgency, idea.summary);
    }

    // The SBARD a carer would read out for the person most at risk.
    if let Some(person) = store.people().map_err(|e| e.to_string())?.into_iter().max_by_key(|p| p.watch) {
        let overview = store.person_overview(&person.id).map_err(|e| e.to_string())?;
        if let Some(latest) = overview.timeline.iter().find(|t| t.news2_total.is_some() || !t.soft_signs.is_empty()) {
            let visit_id = latest.visit_id.parse().map_err(|e| format!("{e}"))?;
            let note: VisitNote = store.get(&NoteId::for_visit(visit_id).to_string()).map_err(|e| e.to_string())?;
            let p: &Person = &overview.person;
            let news2 = assess_note(p, &note, today).transpose().map_err(|e| e.to_string())?;
            if let Some(News2Assessment::Scored(score)) = &news2 {
                println!("\nNEWS2 for {} at the last visit: {} ({})", p.name.called(), score.total, score.band.label());
                println!("  {} {}", score.escalation.headline, score.escalation.action);
            }
            let sbard = Sbard::build(
                &Caller { name: "Sam", organisation: "Sunrise Home Care" },
                p,
                &note,
                news2.as_ref(),
                today,
            );
            println!("\nSBARD to read out:\n{}", sbard.to_text());
        }
    }
    let hits = store.search("bathroom", 5).map_err(|e| e.to_string())?;
    println!(
        "Search \"bathroom\": {} match(es){}",
        hits.len(),
        hits.first().map(|h| format!(", e.g. {}", h.snippet)).unwrap_or_default()
    );
    Ok(())
}
