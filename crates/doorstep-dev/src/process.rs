//! Starting other programs: echoed, and failing with the program's name.

use std::process::Command;

use crate::Result;

/// Runs a command, echoing it, failing with its name if it fails.
pub fn sh(program: &str, args: &[&str]) -> Result {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program).args(args).status().map_err(|e| format!("could not start {program}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`{program} {}` failed ({status})", args.join(" "))) }
}

/// A command's standard output, if it ran and succeeded.
pub fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Installs `krate@version` with cargo unless that version is installed.
pub fn ensure_cargo_tool(krate: &str, version: &str) -> Result {
    let installed = output("cargo", &["install", "--list"])
        .is_some_and(|list| list.lines().any(|l| l.starts_with(&format!("{krate} v{version}:"))));
    if installed { Ok(()) } else { sh("cargo", &["install", "--locked", &format!("{krate}@{version}")]) }
}
