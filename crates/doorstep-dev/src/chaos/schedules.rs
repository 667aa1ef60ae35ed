//! Randomised partition / edit / merge schedules: 3–5 devices make offline edits to the same
//! notes (Automerge text), each syncing or cut off at each step, the hub sometimes SIGKILLed and
//! restarted; at the end everyone syncs, and every device must hold identical text and heads.

use std::collections::HashMap;
use std::time::Duration;

use doorstep_model::{NoteId, RecordKind, VisitNote};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};

use super::Ctx;
use super::hub::{Device, markers};
use crate::Result;

const POOL: usize = 5;

pub async fn run(ctx: &mut Ctx, schedules: usize, seed: u64) -> Result {
    let mut pool = Vec::new();
    for d in 0..POOL {
        pool.push(ctx.device(&ctx.dir.path().join(format!("sched{d}.db")), &format!("replica {d}")).await?);
    }
    let mut syncs_cut = 0;
    for s in 1..=schedules {
        // Each schedule has its own seed, so a failing one can be replayed alone.
        let schedule_seed = seed ^ (s as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut rng = StdRng::seed_from_u64(schedule_seed);
        let mut order: Vec<usize> = (0..POOL).collect();
        order.shuffle(&mut rng);
        let replicas: Vec<&Device> = order[..rng.random_range(3..=POOL)].iter().map(|&d| &pool[d]).collect();

        // The visits come from the office first; each replica then starts the notes offline.
        let note_count = rng.random_range(1..=2);
        let mut notes = Vec::new();
        {
            let visits: Vec<_> = (0..note_count).map(|i| ctx.visit(7 + i)).collect();
            let mut store = replicas[0].store.lock().await;
            for visit in &visits {
                store.put(visit).map_err(|e| e.to_string())?;
            }
            drop(store);
            replicas[0].sync_fully().await?;
            for replica in &replicas[1..] {
                replica.sync_fully().await?;
            }
            for replica in &replicas {
                let mut store = replica.store.lock().await;
                for visit in &visits {
                    let note = VisitNote::new(NoteId::for_visit(visit.id), visit.id, ctx.person.id);
                    store.put(&note).map_err(|e| e.to_string())?;
                }
            }
            notes.extend(visits.iter().map(|v| NoteId::for_visit(v.id).to_string()));
        }

        let mut cut_off: Vec<bool> = replicas.iter().map(|_| rng.random_bool(0.4)).collect();
        let mut written: Vec<Vec<String>> = vec![Vec::new(); notes.len()];
        let steps = rng.random_range(6..=14);
        let mut restarts = 0;
        for step in 0..steps {
            if rng.random_bool(0.08) {
                // SIGKILL the hub while one replica is in the middle of a sync.
                let victim = replicas[rng.random_range(0..replicas.len())].clone();
                let wait = Duration::from_millis(rng.random_range(0..=8));
                let syncing = tokio::spawn(async move { victim.sync().await.is_err() });
                tokio::time::sleep(wait).await;
                ctx.hub.kill()?;
                ctx.hub.restart().await?;
                if syncing.await.unwrap_or(true) {
                    syncs_cut += 1;
                }
                restarts += 1;
            }
            for (r, replica) in replicas.iter().enumerate() {
                if rng.random_bool(0.25) {
                    cut_off[r] = !cut_off[r];
                }
                for e in 0..rng.random_range(0..=2) {
                    let which = rng.random_range(0..notes.len());
                    let marker = format!("[s{s}r{r}t{step}e{e}]");
                    let place = rng.random_range(0..=u32::MAX);
                    replica
                        .store
                        .lock()
                        .await
                        .update::<VisitNote>(&notes[which], |note| {
                            insert_between_markers(&mut note.narrative, &marker, place);
                            Ok(())
                        })
                        .map_err(|e| format!("{}: {e}", replica.name))?;
                    written[which].push(marker);
                }
                if !cut_off[r] && rng.random_bool(0.5) && replica.sync().await.is_err() {
                    syncs_cut += 1;
                }
            }
        }

        // Everyone back in signal: send, then receive what the others sent.
        for replica in replicas.iter().chain(replicas.iter()) {
            replica.sync_fully().await?;
        }
        let mut converged = true;
        for (n, note) in notes.iter().enumerate() {
            let first = replicas[0].document(RecordKind::Note, note).await?;
            for replica in &replicas[1..] {
                if replica.document(RecordKind::Note, note).await? != first {
                    converged = false;
                }
            }
            let text = first.1.unwrap_or_default();
            let found: HashMap<&str, usize> = markers(&text);
            let lost = written[n].iter().filter(|m| !found.contains_key(m.as_str())).count();
            let duplicated = found.values().filter(|&&c| c > 1).count();
            if lost + duplicated > 0 {
                converged = false;
                println!("schedule {s} (seed {schedule_seed}): note {n}: {lost} edits lost, {duplicated} duplicated");
            }
            ctx.figures.lost += lost;
            ctx.figures.duplicated += duplicated;
        }
        ctx.figures.schedules += 1;
        if converged {
            ctx.figures.converged += 1;
        } else {
            ctx.problem(format!("schedule {s} (seed {schedule_seed}) did not converge"));
        }
        if s % 10 == 0 || s == schedules || !converged {
            println!(
                "schedule {s}/{schedules}: {} replicas, {} notes, {steps} steps, {} edits, {restarts} hub restarts: {}",
                replicas.len(),
                notes.len(),
                written.iter().map(Vec::len).sum::<usize>(),
                if converged { "converged" } else { "DID NOT CONVERGE" }
            );
        }
    }
    println!(
        "schedules: {} run, {} converged, {syncs_cut} syncs cut off by hub kills",
        ctx.figures.schedules, ctx.figures.converged
    );
    Ok(())
}

/// Inserts `marker ` before one of the markers already in `text` (or at its end), chosen by
/// `place`, so markers stay whole and can be counted afterwards.
fn insert_between_markers(text: &mut String, marker: &str, place: u32) {
    let mut starts: Vec<usize> = text.match_indices('[').map(|(i, _)| i).collect();
    starts.push(text.len());
    let at = starts[place as usize % starts.len()];
    text.insert_str(at, &format!("{marker} "));
}

#[cfg(test)]
mod tests {
    use super::insert_between_markers;

    #[test]
    fn edits_go_between_markers_never_inside_one() {
        let mut text = String::new();
        for (n, place) in [7u32, 0, 3, 1, 2, 9].into_iter().enumerate() {
            insert_between_markers(&mut text, &format!("[m{n}]"), place);
        }
        let found = super::super::hub::markers(&text);
        assert_eq!(found.len(), 6);
        assert!(found.values().all(|&c| c == 1), "{text}");
    }
}
