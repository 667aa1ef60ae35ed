//! Disk full: a device store and a hub database each on a small filesystem of their own (tmpfs,
//! or a loop-mounted ext4 image if tmpfs cannot be mounted). Filling one makes writes fail
//! with a clear error; what was saved before stays readable, and once space is freed the edits
//! still waiting reach the hub.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use doorstep_model::{NoteId, VisitNote};
use doorstep_store::StoreError;
use doorstep_sync::SyncError;
use rand::RngExt;
use rand::rngs::StdRng;

use super::Ctx;
use super::hub::{APP_KEY, Device, HubProcess, hub_duplicates, integrity, markers, prepare};
use crate::Result;

const SIZE_MB: u64 = 8;

/// A small filesystem mounted for the run, unmounted when dropped.
struct SmallDisk {
    at: PathBuf,
    how: &'static str,
}

impl SmallDisk {
    fn mount(at: PathBuf) -> Result<SmallDisk> {
        std::fs::create_dir_all(&at).map_err(|e| e.to_string())?;
        let target = at.to_string_lossy().into_owned();
        let size = format!("size={SIZE_MB}m");
        if quiet("mount", &["-t", "tmpfs", "-o", &size, "doorstep-chaos", &target]) {
            return Ok(SmallDisk { at, how: "tmpfs" });
        }
        let image = at.with_extension("img");
        let image = image.to_string_lossy().into_owned();
        if quiet("truncate", &["-s", &format!("{SIZE_MB}M"), &image])
            && quiet("mkfs.ext4", &["-q", "-F", &image])
            && quiet("mount", &["-o", "loop", &image, &target])
        {
            return Ok(SmallDisk { at, how: "loop-mounted ext4 image" });
        }
        Err("cannot mount a small filesystem (tmpfs or a loop image): run as root".into())
    }

    /// Writes a file until the filesystem refuses more.
    fn fill(&self) -> Result<PathBuf> {
        let path = self.at.join("filler");
        let mut file = std::fs::File::create(&path).map_err(|e| e.to_string())?;
        for chunk in [1 << 20, 4096, 512] {
            let block = vec![0x5a_u8; chunk];
            while file.write_all(&block).is_ok() {}
        }
        let _ = file.sync_all();
        Ok(path)
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let target = self.at.to_string_lossy().into_owned();
        if !quiet("umount", &[&target]) {
            let _ = quiet("umount", &["-l", &target]);
        }
    }
}

fn quiet(program: &str, args: &[&str]) -> bool {
    Command::new(program).args(args).output().is_ok_and(|o| o.status.success())
}

pub async fn run(ctx: &mut Ctx, rng: &mut StdRng) -> Result {
    let disks = SmallDisk::mount(ctx.dir.path().join("device-disk"))
        .and_then(|device| Ok((device, SmallDisk::mount(ctx.dir.path().join("hub-disk"))?)));
    let (device_disk, hub_disk) = match disks {
        Ok(disks) => disks,
        Err(e) => {
            // Not a failure of Doorstep's: say loudly that this part did not run.
            println!("disk full: SKIPPED: {e}");
            return Ok(());
        }
    };
    println!("disk full: device store and hub database each on an {SIZE_MB} MiB {}", device_disk.how);
    let hub_db = hub_disk.at.join("hub.db");
    let codes = prepare(&hub_db, 2).await?;
    let mut hub = HubProcess::start(&ctx.bin, &hub_db, ctx.flag.clone())?;
    let tablet = device_disk.at.join("device.db");
    let device = Device::enrol(&tablet, Some(APP_KEY), &hub.url, &codes[0], "small tablet").await?;
    let observer = Device::enrol(&ctx.dir.path().join("disk-observer.db"), None, &hub.url, &codes[1], "office").await?;
    let disks = [&device_disk, &hub_disk];
    let outcome = scenario(ctx, rng, &device, &observer, disks, &mut hub, &hub_db).await;
    let panics = hub.panics_logged();
    if panics > 0 {
        ctx.figures.panics += panics;
        ctx.problem(format!("the hub on the small disk logged {panics} panic(s)"));
    }
    let stopped = hub.stop();
    drop((device, observer));
    outcome?;
    stopped
}

async fn scenario(
    ctx: &mut Ctx,
    rng: &mut StdRng,
    device: &Device,
    observer: &Device,
    [device_disk, hub_disk]: [&SmallDisk; 2],
    hub: &mut HubProcess,
    hub_db: &Path,
) -> Result {
    let person = ctx.person.clone();
    let visit = ctx.visit(12);
    let note = NoteId::for_visit(visit.id).to_string();
    let mut saved: Vec<String> = Vec::new();
    {
        let mut store = device.store.lock().await;
        store.put(&person).map_err(|e| e.to_string())?;
        store.put(&visit).map_err(|e| e.to_string())?;
        store.put(&VisitNote::new(NoteId::for_visit(visit.id), visit.id, person.id)).map_err(|e| e.to_string())?;
    }
    for n in 0..20 {
        saved.push(edit(device, &note, &format!("[f1e{n}]")).await.map_err(|e| e.to_string())?);
    }
    device.sync_fully().await?;

    // The tablet's disk fills up: keep saving until a save is refused.
    let filler = device_disk.fill()?;
    let mut refusal = None;
    for n in 0..20_000 {
        let marker = format!("[f2e{n} {}]", noise(rng, 200));
        match edit(device, &note, &marker).await {
            Ok(marker) => saved.push(marker),
            Err(e) => {
                refusal = Some(e);
                break;
            }
        }
    }
    match &refusal {
        Some(e) if e.is_storage_full() => println!("disk full: the device's save was refused: \"{e}\""),
        Some(e) => ctx.problem(format!("disk full: the device's save failed with an unclear error: {e}")),
        None => ctx.problem("disk full: the device kept saving on a full disk".into()),
    }
    check_saved(ctx, "device, disk full", &device.narrative(&note).await?, &saved);
    let whole = integrity(&device.path, device.key)?;
    if whole != "ok" {
        ctx.problem(format!("disk full: device store integrity: {whole}"));
    }
    std::fs::remove_file(&filler).map_err(|e| e.to_string())?;
    saved.push(edit(device, &note, "[f3e0]").await.map_err(|e| format!("after freeing space: {e}"))?);
    println!("disk full: space freed, {} saves before the refusal all readable, saving works again", saved.len() - 1);

    // The hub's disk fills up: the device's edits wait on the device until it has room.
    let filler = hub_disk.fill()?;
    let mut hub_refusal = None;
    for n in 0..2_000 {
        saved.push(edit(device, &note, &format!("[f4e{n} {}]", noise(rng, 2000))).await.map_err(|e| e.to_string())?);
        match device.sync().await {
            Ok(_) => continue,
            Err(e) => {
                hub_refusal = Some(e);
                break;
            }
        }
    }
    let pending = device.store.lock().await.local_sync_state().map_err(|e| e.to_string())?.pending;
    match &hub_refusal {
        // 507 Insufficient Storage: the device keeps its changes and tries again later.
        Some(SyncError::Refused { status: 507, code, message }) if code == "storage_full" => {
            println!("disk full: the hub answered the sync it could not store with 507 ({code}): \"{message}\"")
        }
        Some(SyncError::Refused { status, code, message }) if *status >= 500 => {
            ctx.problem(format!("disk full: the hub said {status} ({code}) \"{message}\", not 507 storage full"))
        }
        Some(e) => ctx.problem(format!("disk full: the hub's refusal was not a clear error status: {e}")),
        None => ctx.problem("disk full: the hub kept accepting syncs on a full disk".into()),
    }
    if !hub.running() {
        ctx.figures.panics += 1;
        ctx.problem("disk full: the hub process died when its disk filled".into());
        hub.restart().await?;
    }
    if pending == 0 {
        ctx.problem("disk full: the device forgot its unsent edits when the hub could not store them".into());
    }
    std::fs::remove_file(&filler).map_err(|e| e.to_string())?;
    device.sync_fully().await?;
    observer.sync_fully().await?;
    check_saved(ctx, "hub after freeing space", &observer.narrative(&note).await?, &saved);
    let whole = integrity(hub_db, None)?;
    let duplicates = hub_duplicates(hub_db)?;
    if whole != "ok" {
        ctx.problem(format!("disk full: hub database integrity: {whole}"));
    }
    ctx.figures.duplicated += usize::try_from(duplicates).unwrap_or(0);
    println!(
        "disk full: the hub's disk freed, {pending} waiting document(s) delivered; the hub holds all {} saved \
         edits, integrity {whole}, {duplicates} duplicated",
        saved.len()
    );
    Ok(())
}

async fn edit(device: &Device, note: &str, marker: &str) -> std::result::Result<String, StoreError> {
    device.store.lock().await.update::<VisitNote>(note, |v| {
        v.narrative.push_str(&format!("{marker} "));
        Ok(())
    })?;
    Ok(marker.to_string())
}

/// Letters that do not compress, so the disk fills in a few saves.
fn noise(rng: &mut StdRng, len: usize) -> String {
    (0..len).map(|_| char::from(b'a' + rng.random_range(0..26u8))).collect()
}

fn check_saved(ctx: &mut Ctx, where_: &str, text: &str, saved: &[String]) {
    let found = markers(text);
    let lost = saved.iter().filter(|m| !found.contains_key(m.as_str())).count();
    let duplicated = found.values().filter(|&&c| c > 1).count();
    if lost + duplicated > 0 {
        println!("disk full ({where_}): {lost} saved edits missing, {duplicated} duplicated");
    }
    ctx.figures.lost += lost;
    ctx.figures.duplicated += duplicated;
}
