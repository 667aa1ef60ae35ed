//! The hub killed during syncs: devices edit their notes and sync in a loop while the real hub
//! process is SIGKILLed and restarted on the same file; afterwards every saved edit is at the
//! hub once, the hub's file is whole, and every device holds the same documents.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use doorstep_model::{NoteId, VisitNote};
use rand::RngExt;
use rand::rngs::StdRng;

use super::Ctx;
use super::hub::{Device, markers};
use crate::Result;

const DEVICES: usize = 3;

pub async fn run(ctx: &mut Ctx, kills: usize, rng: &mut StdRng) -> Result {
    let mut devices = Vec::new();
    let mut notes = Vec::new();
    for i in 0..DEVICES {
        let device = ctx.device(&ctx.dir.path().join(format!("hk{i}.db")), &format!("hub-kill device {i}")).await?;
        let visit = ctx.visit(10 + i as u32);
        {
            let mut store = device.store.lock().await;
            store.put(&visit).map_err(|e| e.to_string())?;
            store
                .put(&VisitNote::new(NoteId::for_visit(visit.id), visit.id, ctx.person.id))
                .map_err(|e| e.to_string())?;
        }
        device.sync_fully().await?;
        notes.push(NoteId::for_visit(visit.id).to_string());
        devices.push(device);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = devices
        .iter()
        .zip(&notes)
        .enumerate()
        .map(|(i, (device, note))| {
            let (device, note, stop) = (device.clone(), note.clone(), stop.clone());
            tokio::spawn(async move { edit_and_sync(i, device, note, stop).await })
        })
        .collect();
    for k in 1..=kills {
        tokio::time::sleep(Duration::from_millis(rng.random_range(80..=400))).await;
        ctx.hub.kill()?;
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..=150))).await;
        ctx.hub.restart().await?;
        println!("hub kill {k}/{kills}: SIGKILL during syncs, restarted on the same file");
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);
    let mut saved = Vec::new();
    let mut failed_syncs = 0;
    for task in tasks {
        let (edits, failures) = task.await.map_err(|e| format!("a device task panicked: {e}"))??;
        saved.push(edits);
        failed_syncs += failures;
    }

    // Back in signal: everyone sends what waits, then everyone takes what the others sent.
    for device in &devices {
        device.sync_fully().await?;
    }
    for device in devices.iter().chain([&ctx.observer]) {
        device.sync_fully().await?;
    }
    let (mut lost, mut duplicated) = (0, 0);
    for (i, note) in notes.iter().enumerate() {
        let at_hub = ctx.observer.narrative(note).await?;
        let found = markers(&at_hub);
        lost += (0..saved[i]).filter(|n| !found.contains_key(format!("[h{i}e{n}]").as_str())).count();
        duplicated += found.values().filter(|&&c| c > 1).count();
    }
    let reference = ctx.observer.documents().await?;
    let mut differing = 0;
    for device in &devices {
        if device.documents().await? != reference {
            differing += 1;
        }
    }
    if differing > 0 {
        ctx.problem(format!("after the hub kills, {differing} device(s) did not converge"));
    }
    println!(
        "hub kills: {} edits saved on {DEVICES} devices, {failed_syncs} syncs cut off, {lost} lost, {duplicated} \
         duplicated; {} documents identical (heads and text) on every device",
        saved.iter().sum::<u64>(),
        reference.len()
    );
    ctx.figures.lost += lost;
    ctx.figures.duplicated += duplicated;
    Ok(())
}

/// Saves an edit, syncs, again and again until told to stop; returns (edits saved, syncs failed).
async fn edit_and_sync(i: usize, device: Device, note: String, stop: Arc<AtomicBool>) -> Result<(u64, usize)> {
    let (mut n, mut failures) = (0u64, 0);
    while !stop.load(Ordering::Relaxed) {
        device
            .store
            .lock()
            .await
            .update::<VisitNote>(&note, |v| {
                v.narrative.push_str(&format!("[h{i}e{n}] "));
                Ok(())
            })
            .map_err(|e| format!("{}: {e}", device.name))?;
        n += 1;
        if device.sync().await.is_err() {
            failures += 1; // the hub is down: carry on offline
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok((n, failures))
}
