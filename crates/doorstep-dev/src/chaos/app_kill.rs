//! The app killed during note writes: a child process (this binary, `chaos __writer`) saves
//! note edits in a loop, printing `ack N` after each save returned; the parent SIGKILLs it at
//! a seeded random moment, then checks the file and syncs what was saved to the hub.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use doorstep_model::{NoteId, VisitNote};
use rand::RngExt;
use rand::rngs::StdRng;

use super::hub::{APP_KEY, Device, integrity, markers, open_store};
use super::{Ctx, WRITER};
use crate::Result;

/// The child: `chaos __writer DB NOTE ROUND`. Runs until killed.
pub fn writer(args: &[&str]) -> Result {
    let [db, note, round] = args else { return Err("usage: chaos __writer DB NOTE ROUND".into()) };
    let mut store = open_store(Path::new(db), Some(APP_KEY))?;
    let mut out = std::io::stdout().lock();
    for n in 0..1_000_000u64 {
        store
            .update::<VisitNote>(note, |v| {
                v.narrative.push_str(&format!("[r{round}e{n}] "));
                Ok(())
            })
            .map_err(|e| format!("edit {n}: {e}"))?;
        // Only after the save returned: this edit is acknowledged to the carer.
        writeln!(out, "ack {n}").and_then(|()| out.flush()).map_err(|e| e.to_string())?;
    }
    Ok(())
}

pub async fn run(ctx: &mut Ctx, rounds: usize, rng: &mut StdRng) -> Result {
    let path = ctx.dir.path().join("writer.db");
    let note_id = {
        let writer = ctx.device_with(&path, Some(APP_KEY), "writer").await?;
        let visit = ctx.visit(9);
        let note_id = NoteId::for_visit(visit.id).to_string();
        {
            let mut store = writer.store.lock().await;
            store.put(&visit).map_err(|e| e.to_string())?;
            store
                .put(&VisitNote::new(NoteId::for_visit(visit.id), visit.id, ctx.person.id))
                .map_err(|e| e.to_string())?;
        }
        writer.sync_fully().await?;
        note_id
    }; // the store is closed here: from now on only the child writes it
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    for round in 1..=rounds {
        let delay = rng.random_range(30..=400u64);
        let acks = write_and_kill(&exe, &path, &note_id, round, delay, ctx).await?;
        ctx.figures.app_kills += 1;

        let whole = integrity(&path, Some(APP_KEY))?;
        if whole != "ok" {
            ctx.problem(format!("app kill {round}: integrity check of the device store: {whole}"));
        }
        let device = Device::reopen(&path, Some(APP_KEY), "writer").await?;
        let text = device.narrative(&note_id).await?;
        device.sync_fully().await?;
        ctx.observer.sync_fully().await?;
        let at_hub = ctx.observer.narrative(&note_id).await?;
        let (on_device, hub) = (markers(&text), markers(&at_hub));
        let mut lost = 0;
        for n in &acks {
            let marker = format!("[r{round}e{n}]");
            if !on_device.contains_key(marker.as_str()) || !hub.contains_key(marker.as_str()) {
                lost += 1;
            }
        }
        let duplicated = on_device.values().chain(hub.values()).filter(|&&c| c > 1).count();
        if text != at_hub {
            ctx.problem(format!("app kill {round}: the note at the hub differs from the device's"));
        }
        let unacknowledged = on_device.keys().filter(|m| m.starts_with(&format!("[r{round}e"))).count() - acks.len();
        println!(
            "app kill {round}/{rounds}: SIGKILL after {delay} ms, {} edits acknowledged, {lost} lost, {duplicated} \
             duplicated, {unacknowledged} saved but not yet acknowledged; integrity {whole}; synced to the hub",
            acks.len()
        );
        ctx.figures.lost += lost;
        ctx.figures.duplicated += duplicated;
    }
    Ok(())
}

/// Starts the writer, kills it after `delay_ms`, and returns the edits it acknowledged.
async fn write_and_kill(
    exe: &Path,
    db: &Path,
    note: &str,
    round: usize,
    delay_ms: u64,
    ctx: &mut Ctx,
) -> Result<Vec<u64>> {
    let mut child = Command::new(exe)
        .args(["chaos", WRITER, &db.to_string_lossy(), note, &round.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("could not start the writer: {e}"))?;
    let stdout = child.stdout.take().ok_or("the writer has no output")?;
    let reader = std::thread::spawn(move || {
        let mut acks = Vec::new();
        let mut reader = BufReader::new(stdout);
        let mut line = Vec::new();
        // A line cut off by the kill (no newline) is not an acknowledgement.
        while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) && line.ends_with(b"\n") {
            if let Some(n) = std::str::from_utf8(&line).ok().and_then(|l| l.trim().strip_prefix("ack ")?.parse().ok()) {
                acks.push(n);
            }
            line.clear();
        }
        acks
    });
    tokio::time::sleep(Duration::from_millis(delay_ms)).await;
    if let Ok(Some(status)) = child.try_wait() {
        ctx.figures.panics += 1;
        ctx.problem(format!("app kill {round}: the writer stopped by itself ({status}) before the kill"));
    }
    child.kill().map_err(|e| format!("could not kill the writer: {e}"))?;
    let _ = child.wait();
    reader.join().map_err(|_| "the reader thread panicked".to_string())
}
