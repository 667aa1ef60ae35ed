//! `cargo xtask test`: set-up and every test, in stages timed and printed as a table, ending
//! with `RESULT ci_total_s=… build_s=… test_s=… tests=…` (what `.ci/run` runs).
//!
//! Order: what fails fast first (formatting; xtask's own tests and the repository rules), then
//! the installs that need the network — apt in a background thread while cargo builds the tools
//! — then the FHIR validator, the UI and the one linted workspace build, then the tests on real
//! components (PostgreSQL, the hub binary, Xvfb with WebKitWebDriver, Chromium, the FHIR
//! validator), chaos, the demo, and the app's packages (from the debug build) installed and
//! started.

use std::time::{Duration, Instant};

use crate::Result;
use crate::app;
use crate::setup::{self, TEST_POSTGRES_ENV, sh};

/// Where time went: setting up, building, testing.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Setup,
    Build,
    Test,
}

struct Stages {
    rows: Vec<(&'static str, Kind, Duration)>,
}

impl Stages {
    fn run<T>(&mut self, name: &'static str, kind: Kind, stage: impl FnOnce() -> Result<T>) -> Result<T> {
        eprintln!("\n==> {name}");
        let started = Instant::now();
        let outcome = stage();
        self.rows.push((name, kind, started.elapsed()));
        outcome.map_err(|e| format!("{name}: {e}"))
    }

    fn seconds(&self, kind: Kind) -> u64 {
        self.rows.iter().filter(|(_, k, _)| *k == kind).map(|(_, _, d)| d.as_secs()).sum()
    }

    fn print(&self) {
        println!("\n{:<66} {:<6} {:>7}", "stage", "kind", "seconds");
        for (name, kind, took) in &self.rows {
            let kind = match kind {
                Kind::Setup => "setup",
                Kind::Build => "build",
                Kind::Test => "test",
            };
            println!("{name:<66} {kind:<6} {:>7}", took.as_secs());
        }
    }
}

/// Seconds since `.ci/run` started (it exports `DOORSTEP_CI_START`, in Unix seconds), so the
/// total counts compiling xtask too; else since this command started.
fn total_seconds(started: Instant) -> u64 {
    let since_ci = std::env::var("DOORSTEP_CI_START").ok().and_then(|s| s.trim().parse::<u64>().ok()).and_then(|t| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
        now.checked_sub(t)
    });
    since_ci.unwrap_or_else(|| started.elapsed().as_secs())
}

pub fn test(args: &[&str]) -> Result {
    if let Some(unknown) = args.first() {
        return Err(format!("`cargo xtask test` takes no arguments (got {unknown})"));
    }
    let started = Instant::now();
    let mut stages = Stages { rows: Vec::new() };
    let mut tests = 0usize;
    let outcome = all_stages(&mut stages, &mut tests);
    stages.print();
    let line = format!(
        "RESULT ci_total_s={} build_s={} test_s={} tests={tests}",
        total_seconds(started),
        stages.seconds(Kind::Build),
        stages.seconds(Kind::Test)
    );
    match outcome {
        Ok(()) => {
            println!("{line}");
            Ok(())
        }
        Err(e) => {
            println!("FAILED after {} s", started.elapsed().as_secs());
            Err(e)
        }
    }
}

fn all_stages(stages: &mut Stages, tests: &mut usize) -> Result {
    use Kind::{Build, Setup, Test};
    stages.run("rust components (clippy, rustfmt, wasm32)", Setup, || {
        setup::ensure_components()?;
        setup::ensure_wasm_target()
    })?;
    stages.run("cargo fmt --check", Test, || sh("cargo", &["fmt", "--all", "--check"]))?;
    // xtask's own tests include the repository rules (tidy.rs): seconds, and they fail fast.
    stages.run("xtask tests and repository rules", Test, || {
        *tests += count_tests(&app::cargo_linted(&["test", "--locked", "-p", "xtask"], &[], true)?);
        Ok(())
    })?;
    // apt (network and dpkg, little CPU) runs beside the tools' compilation.
    let mut packages = app::missing_apt_packages(&[]);
    if setup::postgres_needs_install() {
        packages.push("postgresql");
    }
    let apt = std::thread::spawn(move || {
        let started = Instant::now();
        (app::apt_install(&packages), started.elapsed())
    });
    stages.run("crates download (cargo fetch)", Setup, || {
        sh("cargo", &["fetch", "--locked"])?;
        sh("cargo", &["fetch", "--locked", "--target", "wasm32-unknown-unknown"])
    })?;
    stages.run("tools: wasm-bindgen, tauri-driver (cargo install)", Setup, app::ensure_tools)?;
    stages.run("apt packages (waiting for the background install)", Setup, || {
        let (outcome, took) = apt.join().map_err(|_| "the apt-get thread panicked".to_string())?;
        eprintln!("apt-get took {} s in the background", took.as_secs());
        outcome
    })?;
    // After apt: a fresh Debian machine gets python3-venv there.
    stages.run("FHIR validator: fhir.resources (R4) into target/fhir-venv (pip)", Setup, app::ensure_fhir_validator)?;
    let wasm = stages.run("UI: wasm32 release build, linted; wasm-bindgen; wasm-opt", Build, app::build_ui)?;
    stages.run("workspace: one debug build of everything, linted", Build, app::build_workspace)?;
    let postgres = stages.run("PostgreSQL: cluster, role and database", Setup, setup::ensure_postgres)?;
    let axe = std::path::Path::new("target/screenshots/axe-summary.txt");
    let _ = std::fs::remove_file(axe);
    stages.run("workspace tests (real SQLite, hub, PostgreSQL, WebKit, Chromium)", Test, || {
        let args = app::workspace_test_args(&[]);
        *tests += count_tests(&app::cargo_linted(&args, &[(TEST_POSTGRES_ENV, &postgres)], true)?);
        Ok(())
    })?;
    // axe-core's counts for every screen the app and partner tests showed (tests/src/axe.rs).
    if let Ok(summary) = std::fs::read_to_string(axe) {
        eprintln!("\naxe-core, rules broken per impact, each screen at tablet size:\n{summary}");
    }
    // Faults with real processes: app and hub SIGKILLed, full disks, random schedules.
    stages.run("chaos (5 rounds, 50 schedules)", Test, || {
        app::doorstep_dev("debug", &["chaos", "--rounds", "5", "--schedules", "50"])
    })?;
    stages.run("cargo xtask run --once (the demo)", Test, || {
        let demo = tempfile::TempDir::new().map_err(|e| e.to_string())?;
        let dir = demo.path().to_string_lossy();
        app::doorstep_dev("debug", &["run", "--dir", &dir, "--listen", "127.0.0.1:0", "--once"])
    })?;
    stages.run("packages from the debug build: .deb and AppImage installed and started", Test, || {
        crate::bundle::package(crate::bundle::Profile::Debug, true, &wasm, &crate::bundle::screenshots_dir())
    })?;
    Ok(())
}

/// Tests run, from the test harness's `test result: ok. N passed; M failed; …` lines.
fn count_tests(lines: &[String]) -> usize {
    lines
        .iter()
        .filter_map(|line| line.strip_prefix("test result: "))
        .map(|rest| {
            ["passed", "failed"]
                .iter()
                .filter_map(|what| {
                    let before = rest.split(&format!(" {what}")).next()?;
                    before.rsplit([' ', '.']).next()?.parse::<usize>().ok()
                })
                .sum::<usize>()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::count_tests;

    #[test]
    fn tests_are_counted_from_the_harness_summaries() {
        let lines = [
            "running 3 tests",
            "test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s",
            "test result: FAILED. 10 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1.2s",
            "test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s",
        ]
        .map(String::from);
        assert_eq!(count_tests(&lines), 15);
    }
}
