//! `doorstep-dev`: the product's own developer tools. It is a workspace member, so the one
//! workspace build that the tests use compiles it too (the product compiles once); `cargo xtask`
//! builds it and starts it, and it finds the other binaries of that build beside itself.
//!
//! - `doorstep-dev run [--manager] [--dir D] [--listen A] [--once]` — the demo (`cargo xtask run`).
//! - `doorstep-dev bench store|sync|app|trends` — the benchmarks (release builds, via `cargo xtask bench`).
//! - `doorstep-dev chaos [--rounds N] [--schedules M] [--seed S]` — faults with real processes.
//! - `doorstep-dev fuzz [--seconds N] [--target T] | seeds` — the cargo-fuzz targets in `fuzz/`.
//! - `doorstep-dev start-app PROGRAM NAME SCREENSHOT` — an installed app starts to its set-up
//!   screen and answers (`cargo xtask bundle --check`).

mod bench;
mod bench_app;
mod bench_peer;
mod bench_sync;
mod bench_trends;
mod chaos;
mod fuzz;
mod run;
mod start_app;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let outcome = match args.as_slice() {
        ["run", rest @ ..] => run::run(rest),
        ["bench", "store", rest @ ..] => bench::store(rest),
        ["bench", "sync", rest @ ..] => bench_sync::sync(rest),
        ["bench", "app", rest @ ..] => bench_app::app(rest),
        ["bench", "trends", rest @ ..] => bench_trends::trends(rest),
        ["chaos", rest @ ..] => chaos::chaos(rest),
        ["fuzz", rest @ ..] => fuzz::fuzz(rest),
        ["start-app", program, what, screenshot] => {
            start_app::start_app(Path::new(program), what, Path::new(screenshot))
        }
        _ => {
            eprintln!(
                "doorstep-dev is started by `cargo xtask` (run, bench, chaos, bundle --check); see `cargo xtask help`"
            );
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

/// The workspace root, so the tools work from any directory.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A binary built by the same cargo invocation as this one (`target/<profile>/<name>`): the
/// hub and the app are never rebuilt here, with other features, behind the caller's back.
pub fn sibling(name: &str) -> Result<PathBuf> {
    let exe = std::env::current_exe().map_err(|e| format!("where is doorstep-dev? {e}"))?;
    let path = exe.with_file_name(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!("{} is not built: start this through `cargo xtask`, which builds it", path.display()))
    }
}

/// The build output folder this binary sits in (`target/`).
pub fn target_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| root().join("target"))
}

/// Whether this is an optimised build: the benchmarks measure only those.
pub fn require_release(what: &str) -> Result {
    if cfg!(debug_assertions) {
        Err(format!("{what} measures optimised code: run it as `cargo xtask {what}` (a release build)"))
    } else {
        Ok(())
    }
}
