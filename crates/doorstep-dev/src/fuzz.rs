//! `cargo xtask fuzz`: runs each cargo-fuzz target in `fuzz/` for a set time from its seed
//! corpus (`fuzz/corpus/<target>`, in the repository) and reports inputs tried and findings.
//! `cargo xtask fuzz seeds` writes the seed corpus anew from the demo caseload.
//!
//! Findings (crashes, panics, leaks, timeouts) are saved by libFuzzer in
//! `fuzz/artifacts/<target>/`; each one is to become a regression test (its bytes checked in a
//! unit test of the code that failed), then the artifact can go.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::Result;
use crate::chaos::results::{ChaosFigures, FuzzFigures, result_line};

pub const TARGETS: [&str; 4] = ["sync_request", "automerge_load", "csv_import", "vitals"];

pub fn fuzz(args: &[&str]) -> Result {
    let mut seconds = 60u64;
    let mut only: Option<String> = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match *arg {
            "seeds" => return write_seeds(&fuzz_dir().join("corpus")),
            "--seconds" => {
                seconds = rest.next().and_then(|s| s.parse().ok()).ok_or("--seconds needs a whole number")?;
            }
            "--target" => only = Some(rest.next().ok_or("--target needs a name")?.to_string()),
            other => {
                return Err(format!(
                    "unknown argument {other}: use `cargo xtask fuzz [--seconds N] [--target NAME]` or `cargo xtask \
                     fuzz seeds`"
                ));
            }
        }
    }
    let targets: Vec<&str> = TARGETS.iter().copied().filter(|t| only.as_deref().is_none_or(|o| o == *t)).collect();
    if targets.is_empty() {
        return Err(format!("no target {only:?}: the targets are {}", TARGETS.join(", ")));
    }
    // The nightly toolchain and cargo-fuzz are installed by `cargo xtask fuzz` (xtask/src/app.rs).
    let mut total_inputs = 0u64;
    let mut total_findings = 0usize;
    for target in &targets {
        let (inputs, findings) = run_target(target, seconds)?;
        println!("{target}: {inputs} inputs in {seconds} s, {findings} finding(s)");
        total_inputs += inputs;
        total_findings += findings;
    }
    println!("fuzz: {} targets, {seconds} s each, {total_inputs} inputs, {total_findings} finding(s)", targets.len());
    // Kept for `cargo xtask chaos`, whose RESULT line carries these figures too.
    let figures =
        FuzzFigures { targets: targets.len() as u64, seconds, inputs: total_inputs, panics: total_findings as u64 };
    figures.save()?;
    let chaos = ChaosFigures::last();
    if chaos.is_none() {
        println!("chaos not run yet (cargo xtask chaos): kills=0 schedules=0");
    }
    println!("{}", result_line(chaos.as_ref(), Some(&figures)));
    if total_findings > 0 {
        return Err(format!("{total_findings} finding(s): see fuzz/artifacts/"));
    }
    Ok(())
}

fn fuzz_dir() -> PathBuf {
    PathBuf::from("fuzz")
}

/// Runs one target; returns the inputs it tried and the findings it saved.
fn run_target(target: &str, seconds: u64) -> Result<(u64, usize)> {
    let fuzz = fuzz_dir();
    // libFuzzer adds what it learns to the first corpus folder: a working copy, so the seeds in
    // the repository stay as they are.
    let work = PathBuf::from("target/fuzz-corpus").join(target);
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let artifacts = fuzz.join("artifacts").join(target);
    let before = count_files(&artifacts);
    let seeds = Path::new("corpus").join(target);
    let work_abs = std::fs::canonicalize(&work).map_err(|e| e.to_string())?;
    let max_time = format!("-max_total_time={seconds}");
    let args = [
        "+nightly",
        "fuzz",
        "run",
        target,
        work_abs.to_str().unwrap_or_default(),
        seeds.to_str().unwrap_or_default(),
        "--",
        max_time.as_str(),
        "-print_final_stats=1",
        "-rss_limit_mb=2048",
    ];
    eprintln!("$ (in fuzz/) cargo {}", args.join(" "));
    let out = Command::new("cargo")
        .args(args)
        .current_dir(&fuzz)
        .output()
        .map_err(|e| format!("could not start cargo fuzz: {e}"))?;
    let log = String::from_utf8_lossy(&out.stderr);
    let inputs =
        log.lines().find_map(|l| l.strip_prefix("stat::number_of_executed_units:")).and_then(|n| n.trim().parse().ok());
    let findings = count_files(&artifacts).saturating_sub(before);
    match inputs {
        Some(n) => Ok((n, findings)),
        // No statistics: the build failed or libFuzzer stopped at once on a finding.
        None if findings > 0 => Ok((0, findings)),
        None => Err(format!("cargo fuzz run {target} printed no statistics:\n{}", tail(&log, 40))),
    }
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Seeds for every target, made from the demo caseload: real documents, a real sync request,
/// the import's CSV columns, real vital signs.
fn write_seeds(corpus: &Path) -> Result {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut store = doorstep_store::Store::open(dir.path().join("seed.db")).map_err(|e| e.to_string())?;
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap_or_default();
    doorstep_demo::load_demo(&mut store, today).map_err(|e| e.to_string())?;
    let partner =
        |n: u128, kind| doorstep_model::PartnerOrg { id: uuid::Uuid::from_u128(n), name: "Partner".into(), kind };
    let provider = doorstep_model::ProviderRef { id: uuid::Uuid::from_u128(1), name: "Sunrise Home Care".into() };
    let (surgery, council) = (
        partner(2, doorstep_model::PartnerKind::GpPractice),
        partner(3, doorstep_model::PartnerKind::CouncilAdultSocialCare),
    );
    doorstep_demo::share_demo(&mut store, provider, &surgery, &council, today).map_err(|e| e.to_string())?;
    let write = |target: &str, name: &str, bytes: &[u8]| -> Result {
        let folder = corpus.join(target);
        std::fs::create_dir_all(&folder).map_err(|e| e.to_string())?;
        std::fs::write(folder.join(name), bytes).map_err(|e| e.to_string())
    };
    // One document of each kind, as a device would push it.
    let mut push = Vec::new();
    let mut kinds_seen = Vec::new();
    for doc in store.pending_changes(usize::MAX).map_err(|e| e.to_string())? {
        if kinds_seen.contains(&doc.kind) {
            continue;
        }
        kinds_seen.push(doc.kind);
        write("automerge_load", doc.kind.code(), &doc.bytes)?;
        let id = doc.id.parse().map_err(|e| format!("{e}"))?;
        push.push(doorstep_protocol::DocChanges { id, kind: doc.kind, bytes: doc.bytes });
    }
    let request = doorstep_protocol::SyncRequest { cursor: 42, push, max_bytes: 1 << 20, held_back: Vec::new() };
    let encoded = doorstep_protocol::encode(&request);
    write("sync_request", "request", &encoded)?;
    write("sync_request", "request-deflated", &doorstep_protocol::compress(encoded).0)?;
    write(
        "csv_import",
        "people.csv",
        b"client_ref,given_name,family_name,preferred_name,date_of_birth,nhs_number,address,postcode,gp_practice\n\
          P9,Ada,Lovelace,Ada,10/12/1935,943 476 5919,1 Mill Lane; Northbrook,NB3 2QT,Riverside Surgery\n",
    )?;
    write(
        "csv_import",
        "rota.csv",
        b"client_ref,date,start,end,carer,second_carer,tasks\nP00001,2026-11-26,08:00,08:30,C001,,Breakfast; Tablets\n",
    )?;
    let vitals = doorstep_model::VitalSigns {
        respiration_rate: Some(21),
        spo2_percent: Some(95),
        on_oxygen: Some(false),
        systolic_bp: Some(108),
        pulse: Some(96),
        consciousness: Some(doorstep_model::Acvpu::NewConfusion),
        temperature_c: Some(37.9),
    };
    write("vitals", "news2-8.json", &serde_json::to_vec(&vitals).map_err(|e| e.to_string())?)?;
    write("vitals", "empty.json", b"{}")?;
    println!("seed corpus written to {}", corpus.display());
    Ok(())
}
