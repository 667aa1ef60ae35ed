//! `cargo xtask`: the project's commands, in Rust so they run wherever cargo does.
//!
//! xtask itself depends on no product crate, so `cargo xtask` compiles in seconds and the
//! product compiles once: in the one linted workspace build (`app::build_workspace`) that the
//! tests, the demo, chaos and the package check share. The product's own tools (the demo,
//! benchmarks, chaos, fuzzing) live in `crates/doorstep-dev`, which xtask builds and starts.
//!
//! - `cargo xtask run` — set up, build, then run Doorstep with demo data.
//! - `cargo xtask test` — set up, then every test, timed by stage (what `.ci/run` calls).
//! - `cargo xtask screenshots` — the screen tests, writing docs/screenshots/ on purpose.
//! - `cargo xtask bench store|sync|app|trends` — benchmarks of release builds; last line machine-readable.
//! - `cargo xtask chaos` / `fuzz` — faults and fuzzing; last line machine-readable.
//! - `cargo xtask ui` — install the UI's tools and build it (what the app embeds).
//! - `cargo xtask bundle [--check] [--debug]` — the app's .deb and AppImage; `--check` installs and starts them.

mod app;
mod bundle;
mod ci;
mod setup;
#[cfg(test)]
mod tidy;

use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "usage:
  cargo xtask run [--manager]      run Doorstep with demo data
  cargo xtask test                 set up and run every test (what CI runs)
  cargo xtask screenshots          the screen tests, refreshing docs/screenshots/
  cargo xtask bench store          benchmark the device store
  cargo xtask bench sync           benchmark many devices syncing with one hub
  cargo xtask bench app            benchmark the app's start, size and memory
  cargo xtask bench trends [--seeds N]
                                   the caseload early warning and commissioners' counts on generated caseloads
  cargo xtask fuzz [--seconds N]   fuzz what Doorstep reads from outside
  cargo xtask chaos [--rounds N] [--schedules M] [--seed S]
                                   kill the app and hub, fill disks, random schedules
  cargo xtask ui                   install the UI's tools and build it into ui/dist
  cargo xtask fhir-validator       install the tests' FHIR R4 validator into target/fhir-venv
  cargo xtask bundle [--check] [--debug]
                                   build the app's .deb and AppImage; --check installs and starts them";

fn main() -> ExitCode {
    // Every path here is relative to the workspace root, wherever cargo was started.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    if let Err(e) = std::env::set_current_dir(&root) {
        eprintln!("error: cannot enter the workspace at {}: {e}", root.display());
        return ExitCode::FAILURE;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let outcome = match args.as_slice() {
        ["test", rest @ ..] => ci::test(rest),
        ["ui"] => app::prepare().map(drop),
        ["fhir-validator"] => app::ensure_fhir_validator(),
        ["bundle", rest @ ..] => bundle::bundle(rest),
        ["screenshots"] => screenshots(),
        ["chaos", ..] => dev_tool(&args).and_then(|()| seam_schedules("1000")),
        ["run", ..] | ["fuzz", "seeds"] => dev_tool(&args),
        ["fuzz", ..] => app::ensure_fuzz_tools().and_then(|()| dev_tool(&args)),
        ["bench", "store", ..] | ["bench", "trends", ..] => bench(&["doorstep-dev"], &args),
        ["bench", "sync", ..] => bench(&["doorstep-dev", "doorstep-hub"], &args),
        ["bench", "app", ..] => app::prepare().and_then(|_| bench(&["doorstep-dev", "doorstep-app"], &args)),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

pub type Result<T = ()> = std::result::Result<T, String>;

/// A tool of `doorstep-dev` on the workspace's debug build (the one the tests use).
fn dev_tool(args: &[&str]) -> Result {
    app::prepare()?;
    app::build_workspace()?;
    app::doorstep_dev("debug", args)
}

/// The device core's model-based test of the seams (two carers, a real hub, random schedules
/// of stale and fresh edits, syncs and reloads) at a larger count; it prints
/// `RESULT seam_schedules=… lost_words=…`.
fn seam_schedules(count: &str) -> Result {
    // The whole workspace's selection, filtered to the one test: the same build as `test`, so
    // nothing is compiled again (other test binaries start and run nothing).
    let args =
        app::workspace_test_args(&["--", "--exact", "seams::random_double_up_schedules_lose_no_word", "--nocapture"]);
    app::cargo_linted(&args, &[("DOORSTEP_SEAM_SCHEDULES", count)], false).map(drop)
}

/// A benchmark: `packages` built in release, then `doorstep-dev` (release) measuring them.
fn bench(packages: &[&str], args: &[&str]) -> Result {
    let mut build = vec!["build", "--release", "--locked"];
    for package in packages {
        build.extend(["-p", package]);
    }
    setup::sh("cargo", &build)?;
    app::doorstep_dev("release", args)
}

/// The tests that take screenshots, writing them to docs/screenshots/ (a test run writes them
/// under target/ and changes no tracked file): the app's end-to-end story, the partner pages and
/// the installed packages.
fn screenshots() -> Result {
    let wasm = app::prepare()?;
    app::ensure_fhir_validator()?; // the partner pages' tests validate the FHIR they export
    app::build_workspace()?;
    let docs = std::fs::canonicalize("docs/screenshots").map_err(|e| format!("docs/screenshots: {e}"))?;
    // axe-core's counts are noted beside the screenshots, a line a screen: start afresh.
    let _ = std::fs::remove_file(docs.join("axe-summary.txt"));
    let docs = docs.to_string_lossy();
    // The app's end-to-end story, then the partner pages (a module of the tests package's binary).
    for only in [["--test", "e2e", "--"], ["--test", "it", "partner_web::"]] {
        let mut args = app::workspace_test_args(&only);
        args.retain(|a| *a != "--all-targets");
        app::cargo_linted(&args, &[("DOORSTEP_SCREENSHOTS", &docs)], false)?;
    }
    bundle::package(bundle::Profile::Debug, true, &wasm, Path::new(docs.as_ref()))
}
