//! `cargo xtask`: the project's commands, in Rust so they run wherever cargo does.
//!
//! - `cargo xtask run` — set up, then run Doorstep with demo data.
//! - `cargo xtask test` — set up, then run every test (what `.ci/run` calls).
//! - `cargo xtask bench store` — the device store benchmark; last line is machine-readable.
//! - `cargo xtask bench sync` — many devices reconnecting to one hub; last line machine-readable.
//! - `cargo xtask bench app` — the app's cold start, UI size and memory; last line machine-readable.
//! - `cargo xtask fuzz` — the cargo-fuzz targets for a set time each; last line machine-readable.
//! - `cargo xtask ui` — install the UI's tools and build it (what the app embeds).
//! - `cargo xtask bundle [--check]` — the app's release packages (.deb and AppImage); `--check` installs and starts them.

mod app;
mod bench;
mod bench_app;
mod bench_peer;
mod bench_sync;
mod bundle;
mod chaos;
mod fuzz;
mod run;
mod setup;
#[cfg(test)]
mod tidy;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let outcome = match args.as_slice() {
        ["run", rest @ ..] => run::run(rest),
        ["test", rest @ ..] => setup::test(rest),
        ["ui"] => app::prepare(),
        ["bundle", rest @ ..] => bundle::bundle(rest),
        ["bench", "store", rest @ ..] => bench::store(rest),
        ["bench", "sync", rest @ ..] => bench_sync::sync(rest),
        ["bench", "app", rest @ ..] => bench_app::app(rest),
        ["fuzz", rest @ ..] => fuzz::fuzz(rest),
        ["chaos", rest @ ..] => chaos::chaos(rest),
        _ => {
            eprintln!(
                "usage:\n  cargo xtask run [--manager]      run Doorstep with demo data\n  \
                 cargo xtask test                 set up and run every test\n  \
                 cargo xtask bench store          benchmark the device store\n  \
                 cargo xtask bench sync           benchmark many devices syncing with one hub\n  \
                 cargo xtask bench app            benchmark the app's start, size and memory\n  \
                 cargo xtask fuzz [--seconds N]   fuzz what Doorstep reads from outside\n  \
                 cargo xtask chaos [--rounds N] [--schedules M] [--seed S]\n                                  \
                 kill the app and hub, fill disks, random schedules\n  \
                 cargo xtask ui                   install the UI's tools and build it into ui/dist\n  \
                 cargo xtask bundle [--check]     build the app's .deb and AppImage; --check installs and starts them"
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
