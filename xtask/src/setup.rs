//! Set-up that a fresh Debian/Ubuntu machine with only rustup's Rust needs, and the test run.
//! Each step is skipped when what it installs is already there.

use std::process::Command;

use crate::Result;

/// Runs a command, echoing it, failing with its name if it fails.
pub fn sh(program: &str, args: &[&str]) -> Result {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program).args(args).status().map_err(|e| format!("could not start {program}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`{program} {}` failed ({status})", args.join(" "))) }
}

fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The browser target the shared model (and later the UI) is built for.
pub fn ensure_wasm_target() -> Result {
    let installed = output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if installed.lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        return Ok(());
    }
    sh("rustup", &["target", "add", "wasm32-unknown-unknown"])
}

pub fn ensure_components() -> Result {
    let installed = output("rustup", &["component", "list", "--installed"]).unwrap_or_default();
    for component in ["clippy", "rustfmt"] {
        if !installed.lines().any(|l| l.starts_with(component)) {
            sh("rustup", &["component", "add", component])?;
        }
    }
    Ok(())
}

/// Every test: formatting, lints, the model's browser build, and the whole workspace's tests.
pub fn test(args: &[&str]) -> Result {
    if let Some(unknown) = args.first() {
        return Err(format!("`cargo xtask test` takes no arguments (got {unknown})"));
    }
    ensure_wasm_target()?;
    ensure_components()?;
    sh("cargo", &["fmt", "--all", "--check"])?;
    sh("cargo", &["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"])?;
    // The model is shared with the browser UI: it must keep building for wasm32.
    sh("cargo", &["build", "--locked", "-p", "doorstep-model", "--target", "wasm32-unknown-unknown"])?;
    sh("cargo", &["test", "--workspace", "--locked"])?;
    // The run command still works end to end.
    let demo = tempfile::TempDir::new().map_err(|e| e.to_string())?;
    let db = demo.path().join("demo.db");
    crate::run::run(&["--db", &db.to_string_lossy()])?;
    Ok(())
}
