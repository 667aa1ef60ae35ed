//! `cargo xtask bench app`: how fast the real app (release build) starts and how big and heavy
//! it is, measured through WebDriver under Xvfb like the end-to-end tests.
//!
//! cold_start_ms: from asking WebDriver for a new session (which starts the app process) until
//! the PIN screen is interactive, plus from submitting the PIN until Today's visits are listed
//! (the time a person spends typing the PIN is not counted). Median of `--runs` (default 5)
//! fresh processes. wasm_gz_kb: the UI's wasm, gzipped. rss_mb: resident memory of the app
//! process and its WebKit helper processes, with Today on screen.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use doorstep_hub::sqlite::SqliteStorage;
use doorstep_model::Role;
use doorstep_tests::TestHub;
use doorstep_tests::app::{Screens, open_app, start_display, start_driver};

use crate::Result;

const PIN: &str = "246813";

pub fn app(args: &[&str]) -> Result {
    let mut runs = 5usize;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match *arg {
            "--runs" => runs = it.next().and_then(|v| v.parse().ok()).ok_or("--runs takes a number")?,
            other => return Err(format!("unknown option {other}\nusage: cargo xtask bench app [--runs N]")),
        }
    }
    crate::require_release("bench app")?;
    let binary = crate::sibling("doorstep-app")?;
    let wasm_gz_kb = wasm_gzipped_kb(&crate::root().join("ui/dist"))?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let (starts, rss) = runtime.block_on(measure(&binary, runs.max(1)))?;
    let mut sorted = starts.clone();
    sorted.sort();
    let median = sorted[sorted.len() / 2];
    println!("measure                    value   goal");
    println!(
        "cold start, median (ms) {:>8.0}   < 1000   ({} runs: {:?} ms)",
        ms(median),
        runs,
        starts.iter().map(|d| ms(*d).round()).collect::<Vec<_>>()
    );
    println!("UI wasm, gzipped (KB)   {wasm_gz_kb:>8.0}");
    println!("app + WebKit RSS (MB)   {rss:>8.1}");
    println!("RESULT cold_start_ms={:.0} wasm_gz_kb={wasm_gz_kb:.0} rss_mb={rss:.1}", ms(median));
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn wasm_gzipped_kb(dist: &Path) -> Result<f64> {
    for entry in std::fs::read_dir(dist).map_err(|e| format!("{}: {e}", dist.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|e| e == "wasm") {
            let bytes = std::fs::read(&path).map_err(|e| e.to_string())?;
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(&bytes).map_err(|e| e.to_string())?;
            return Ok(gz.finish().map_err(|e| e.to_string())?.len() as f64 / 1024.0);
        }
    }
    Err(format!("no .wasm in {}: build the UI first", dist.display()))
}

async fn measure(binary: &Path, runs: usize) -> Result<(Vec<Duration>, f64)> {
    let work = tempfile::TempDir::new().map_err(|e| e.to_string())?;
    let data = work.path().join("tablet");
    std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
    // A carer's tablet with the demo rota, enrolled with a hub that then goes away: the app
    // starts offline, as it often will.
    let storage = SqliteStorage::open(&work.path().join("hub.db")).map_err(|e| e.to_string())?;
    let hub = TestHub::start(storage).await;
    let office = hub.device_at(&work.path().join("office.db"), "M001", Role::Manager).await;
    doorstep_demo::load_demo(&mut *office.store.lock().await, doorstep_tests::today()).map_err(|e| e.to_string())?;
    office.sync().await;
    let tablet = hub.device_at(&data.join("doorstep.db"), "C001", Role::Carer).await;
    tablet.sync().await;
    drop((office, tablet));
    hub.stop().await;
    let core =
        doorstep_device::Device::open(data.join("doorstep.db"), doorstep_device::LOCK_AFTER).map_err(|e| e.message)?;
    core.set_pin_if_unset(PIN).await.map_err(|e| e.message)?;
    drop(core);

    let (_display, display) = start_display();
    let (_driver, driver) = start_driver(&display).await;
    let mut starts = Vec::new();
    let mut rss = 0.0;
    for run in 0..runs {
        let began = Instant::now();
        let screens = Screens { client: open_app(&driver, binary, &data).await, dir: work.path().to_path_buf() };
        screens.wait("#unlock").await;
        let to_pin = began.elapsed();
        for digit in PIN.chars() {
            screens.click(&format!("button.ds-key[aria-label='{digit}']")).await;
        }
        let submitted = Instant::now();
        screens.click("#unlock").await;
        screens.wait(".ds-visit__card").await;
        let to_today = submitted.elapsed();
        eprintln!("run {}: start to PIN screen {:.0} ms, PIN to Today {:.0} ms", run + 1, ms(to_pin), ms(to_today));
        starts.push(to_pin + to_today);
        if run == runs - 1 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            rss = app_rss_mb();
        }
        screens.client.close().await.map_err(|e| e.to_string())?;
    }
    Ok((starts, rss))
}

/// Resident memory of every doorstep-app process and its WebKit children, from /proc.
fn app_rss_mb() -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else { return f64::NAN };
    let status: Vec<(u32, u32, String, f64)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_string_lossy().parse().ok()?;
            let text = std::fs::read_to_string(e.path().join("status")).ok()?;
            let field =
                |name: &str| text.lines().find(|l| l.starts_with(name)).map(|l| l[name.len()..].trim().to_string());
            let ppid = field("PPid:")?.parse().ok()?;
            let rss_kb: f64 = field("VmRSS:").and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0.0);
            Some((pid, ppid, field("Name:")?, rss_kb))
        })
        .collect();
    let apps: Vec<u32> = status.iter().filter(|s| s.2.starts_with("doorstep-app")).map(|s| s.0).collect();
    let total_kb: f64 = status.iter().filter(|s| apps.contains(&s.0) || apps.contains(&s.1)).map(|s| s.3).sum();
    total_kb / 1024.0
}
