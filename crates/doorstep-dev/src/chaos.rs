//! `cargo xtask chaos [--rounds N] [--schedules M] [--seed S]`: faults with real processes and
//! real SQLite files, then the RESULT line.
//!
//! 1. The app (a child process writing note edits) SIGKILLed N times mid-write.
//! 2. The real hub binary SIGKILLed N times while devices sync, restarted on the same file.
//! 3. Randomised partition / edit / merge schedules across 3–5 replicas through the hub.
//! 4. Disk full on a device and on the hub (small tmpfs mounts; needs root).
//! 5. Load: slow clients, an oversize note and forged tokens while a real device syncs.
//!
//! Every change acknowledged (a save that returned) must be present once everywhere, every
//! SQLite file must pass its integrity check, every replica must converge. The figures are kept
//! in target/chaos-last.json for `cargo xtask fuzz` to print alongside its own.

mod app_kill;
mod disk;
pub mod hub;
mod hub_kill;
pub mod load;
pub mod results;
mod schedules;

use std::path::{Path, PathBuf};
use std::time::Instant;

use doorstep_demo::{Generator, at};
use doorstep_model::{Person, Visit};
use rand::SeedableRng;
use rand::rngs::StdRng;

use crate::Result;
use hub::{Device, HubProcess};
use results::{ChaosFigures, FuzzFigures, result_line};

/// The hidden subcommand the app-kill rounds run as their child: `chaos __writer …`.
pub const WRITER: &str = "__writer";

#[derive(Debug, Default)]
pub struct Figures {
    pub app_kills: usize,
    pub lost: usize,
    pub duplicated: usize,
    pub schedules: usize,
    pub converged: usize,
    pub panics: usize,
    pub load: load::LoadFigures,
}

/// What every part of the run shares: the hub, an office device that checks what the hub holds,
/// one person all the notes are about, and the figures.
pub struct Ctx {
    pub dir: tempfile::TempDir,
    pub bin: PathBuf,
    pub flag: Option<String>,
    pub hub: HubProcess,
    pub hub_db: PathBuf,
    codes: Vec<String>,
    pub observer: Device,
    pub person: Person,
    generator: Generator,
    pub figures: Figures,
    problems: Vec<String>,
}

impl Ctx {
    /// A new device (plain store file at `path`) enrolled with the hub.
    pub async fn device(&mut self, path: &Path, name: &str) -> Result<Device> {
        self.device_with(path, None, name).await
    }

    /// A new device whose store is encrypted under `key` (as the app's is), enrolled.
    pub async fn device_with(&mut self, path: &Path, key: Option<[u8; 32]>, name: &str) -> Result<Device> {
        let code = self.codes.pop().ok_or("no enrolment codes left")?;
        let device = Device::enrol(path, key, &self.hub.url, &code, name).await?;
        device.sync_fully().await?;
        Ok(device)
    }

    /// A new visit to the person, today at `hour`.
    pub fn visit(&mut self, hour: u32) -> Visit {
        self.generator.visit(&self.person, at(chrono::Utc::now().date_naive(), hour, 0))
    }

    pub fn problem(&mut self, message: String) {
        println!("PROBLEM: {message}");
        self.problems.push(message);
    }
}

pub fn chaos(args: &[&str]) -> Result {
    if let [WRITER, rest @ ..] = args {
        return app_kill::writer(rest);
    }
    let usage = "usage: cargo xtask chaos [--rounds N] [--schedules M] [--seed S]";
    let (mut rounds, mut schedules) = (10usize, 50usize);
    let mut seed: Option<u64> = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut number =
            || it.next().and_then(|v| v.parse::<u64>().ok()).ok_or(format!("{arg} needs a number\n{usage}"));
        match *arg {
            "--rounds" => rounds = number()? as usize,
            "--schedules" => schedules = number()? as usize,
            "--seed" => seed = Some(number()?),
            other => return Err(format!("unknown argument {other}\n{usage}")),
        }
    }
    let seed = seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    });
    let bin = hub::build_hub()?;
    let flag = hub::plain_http_flag(&bin)?;
    println!(
        "chaos: seed {seed}, {rounds} app kills, {rounds} hub kills, {schedules} schedules, disk full; hub {}{}",
        bin.display(),
        flag.as_ref().map(|f| format!(" {f}")).unwrap_or_default()
    );
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let (figures, hub_kills, mut problems) = runtime.block_on(run(bin, flag, rounds, schedules, seed))?;
    drop(runtime);

    let chaos = ChaosFigures {
        kills: (figures.app_kills + hub_kills) as u64,
        lost: figures.lost as u64,
        duplicated: figures.duplicated as u64,
        schedules: figures.schedules as u64,
        converged: figures.converged as u64,
        panics: figures.panics as u64,
        load: figures.load.clone(),
    };
    chaos.save()?;
    println!(
        "chaos: {} app kills and {hub_kills} hub kills in {:.1} s (seed {seed}: `cargo xtask chaos --rounds {rounds} \
         --schedules {schedules} --seed {seed}` repeats it)",
        figures.app_kills,
        started.elapsed().as_secs_f64()
    );
    let fuzz = FuzzFigures::last();
    if fuzz.is_none() {
        println!("fuzz not run yet (cargo xtask fuzz): fuzz_inputs=0");
    }
    println!("{}", result_line(Some(&chaos), fuzz.as_ref()));
    if chaos.lost > 0 || chaos.duplicated > 0 || chaos.converged < chaos.schedules || chaos.panics > 0 {
        problems.push("changes were lost or duplicated, replicas did not converge, or a process crashed".into());
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("\n")) }
}

async fn run(
    bin: PathBuf,
    flag: Option<String>,
    rounds: usize,
    schedules: usize,
    seed: u64,
) -> Result<(Figures, usize, Vec<String>)> {
    let dir = tempfile::Builder::new().prefix("doorstep-chaos-").tempdir().map_err(|e| e.to_string())?;
    let hub_db = dir.path().join("hub.db");
    let mut codes = hub::prepare(&hub_db, 13).await?;
    let hub = HubProcess::start(&bin, &hub_db, flag.clone())?;
    let code = codes.pop().ok_or("no code")?;
    let observer = Device::enrol(&dir.path().join("office.db"), None, &hub.url, &code, "office").await?;
    let mut generator = Generator::new(seed);
    let person = generator.person();
    observer.store.lock().await.put(&person).map_err(|e| e.to_string())?;
    observer.sync_fully().await?;
    let mut ctx = Ctx {
        dir,
        bin,
        flag,
        hub,
        hub_db,
        codes,
        observer,
        person,
        generator,
        figures: Figures::default(),
        problems: Vec::new(),
    };
    let mut rng = StdRng::seed_from_u64(seed);
    let outcome = parts(&mut ctx, rounds, schedules, seed, &mut rng).await;
    if let Err(e) = outcome {
        ctx.problem(e);
    }
    let hub_kills = ctx.hub.kills;
    Ok((ctx.figures, hub_kills, ctx.problems))
}

async fn parts(ctx: &mut Ctx, rounds: usize, schedules: usize, seed: u64, rng: &mut StdRng) -> Result {
    let t = Instant::now();
    app_kill::run(ctx, rounds, rng).await?;
    println!("app kills: done in {:.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    hub_kill::run(ctx, rounds, rng).await?;
    println!("hub kills: done in {:.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    schedules::run(ctx, schedules, seed).await?;
    println!("schedules: done in {:.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    disk::run(ctx, rng).await?;
    println!("disk full: done in {:.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    ctx.figures.load = load::run(ctx).await?;
    println!("load: done in {:.1} s", t.elapsed().as_secs_f64());

    // The main hub, SIGKILLed once more, must have a whole file with no change stored twice.
    if !ctx.hub.running() {
        ctx.figures.panics += 1;
        ctx.problem("the hub stopped by itself".into());
    }
    let kills = ctx.hub.kills;
    ctx.hub.kill()?;
    ctx.hub.kills = kills; // the final stop is not one of the kills during work
    let panics = ctx.hub.panics_logged();
    if panics > 0 {
        ctx.figures.panics += panics;
        ctx.problem(format!("the hub logged {panics} panic(s): see {}", ctx.hub_db.with_extension("log").display()));
    }
    let whole = hub::integrity(&ctx.hub_db, None)?;
    let duplicates = hub::hub_duplicates(&ctx.hub_db)?;
    println!("hub database: integrity {whole}, {duplicates} changes stored twice");
    if whole != "ok" {
        ctx.problem(format!("hub database integrity: {whole}"));
    }
    ctx.figures.duplicated += usize::try_from(duplicates).unwrap_or(0);
    Ok(())
}
