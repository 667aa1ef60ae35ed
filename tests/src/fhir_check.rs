//! FHIR R4 validation by a validator no one here wrote: `tests/fhir/validate.py`, fhir.resources
//! 6.4.0 (models generated from the FHIR R4 4.0.1 base definitions) in the venv that
//! `cargo xtask test` (or `cargo xtask fhir-validator`) installs at `target/fhir-venv`. It checks
//! what `doorstep_hub::fhir::validate_shape` does not: every element known to its resource, each
//! of the right type and cardinality, required elements, one value of a choice type, primitive
//! formats. UK Core profiles are not checked (no registry package holds them).
//!
//! A missing validator is a failure, never a pass.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The venv's Python: under `CARGO_TARGET_DIR` when set (relative to the workspace), else
/// `target/`, as `cargo xtask` puts it.
fn python() -> PathBuf {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => workspace().join(dir),
        _ => workspace().join("target"),
    };
    target.join("fhir-venv/bin/python")
}

/// The validator's verdict on each of `bundles` (a name for the messages, the bundle): one line a
/// bundle, in order, when all are valid; else every line, the invalid ones with the validator's
/// reasons. Err too when the validator is not installed, saying how to install it.
pub fn validate_all(bundles: &[(&str, &Value)]) -> Result<Vec<String>, String> {
    let python = python();
    if !python.exists() {
        return Err(format!(
            "the FHIR R4 validator is not installed ({} is missing): run `cargo xtask fhir-validator` \
             (`cargo xtask test` installs it too)",
            python.display()
        ));
    }
    let dir = std::env::temp_dir().join(format!("doorstep-fhir-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let verdict = run(&python, &dir, bundles);
    let _ = std::fs::remove_dir_all(&dir);
    verdict
}

fn run(python: &Path, dir: &Path, bundles: &[(&str, &Value)]) -> Result<Vec<String>, String> {
    let mut files = Vec::new();
    for (i, (name, bundle)) in bundles.iter().enumerate() {
        let safe: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
        let file = dir.join(format!("{i:02}-{safe}.json"));
        let json = serde_json::to_vec_pretty(bundle).map_err(|e| e.to_string())?;
        std::fs::write(&file, json).map_err(|e| format!("{}: {e}", file.display()))?;
        files.push(file);
    }
    let script = workspace().join("tests/fhir/validate.py");
    let out = Command::new(python)
        .arg(&script)
        .args(&files)
        .output()
        .map_err(|e| format!("could not start the FHIR validator {}: {e}", python.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The temporary file names mean nothing to a reader: each line is named by its bundle instead.
    let mut lines: Vec<String> = stdout.lines().map(str::to_string).collect();
    for (line, (file, (name, _))) in lines.iter_mut().zip(files.iter().zip(bundles)) {
        *line = line.replace(&file.display().to_string(), &format!("FHIR R4 validator: bundle for {name}"));
    }
    match out.status.code() {
        Some(0) if lines.len() == bundles.len() => Ok(lines),
        Some(0) => Err(format!("the FHIR validator gave {} verdicts for {} bundles", lines.len(), bundles.len())),
        Some(1) => Err(lines.join("\n")),
        _ => Err(format!(
            "the FHIR validator could not run ({}): {} (`cargo xtask fhir-validator` installs it)",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )),
    }
}

/// The validator's verdict on one bundle (`name` says which, in the messages).
pub fn validate(name: &str, bundle: &Value) -> Result<String, String> {
    validate_all(&[(name, bundle)]).map(|mut lines| lines.remove(0))
}

/// Panics with the validator's reasons unless `bundle` is valid FHIR R4; prints the verdict.
pub fn assert_valid(name: &str, bundle: &Value) {
    match validate(name, bundle) {
        Ok(verdict) => println!("{verdict}"),
        Err(e) => panic!("{e}"),
    }
}
