//! The figures `cargo xtask chaos` and `cargo xtask fuzz` keep under target/ so that each can
//! print the combined RESULT line with the other's latest figures.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::hub::target_dir;

#[derive(Debug, Clone, Default)]
pub struct ChaosFigures {
    pub kills: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub schedules: u64,
    pub converged: u64,
    /// Processes that died by themselves (a panic or a crash), not by our SIGKILL.
    pub panics: u64,
    /// The load probe (`chaos/load.rs`).
    pub load: super::load::LoadFigures,
}

#[derive(Debug, Clone, Default)]
pub struct FuzzFigures {
    pub targets: u64,
    pub seconds: u64,
    pub inputs: u64,
    pub panics: u64,
}

fn chaos_file() -> PathBuf {
    target_dir().join("chaos-last.json")
}

fn fuzz_file() -> PathBuf {
    target_dir().join("fuzz-last.json")
}

fn read(path: PathBuf) -> Option<Value> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

fn write(path: PathBuf, value: Value) -> crate::Result {
    std::fs::write(&path, value.to_string()).map_err(|e| format!("{}: {e}", path.display()))
}

fn field(value: &Value, name: &str) -> u64 {
    value.get(name).and_then(Value::as_u64).unwrap_or(0)
}

impl ChaosFigures {
    pub fn save(&self) -> crate::Result {
        write(
            chaos_file(),
            json!({"kills": self.kills, "lost": self.lost, "duplicated": self.duplicated,
                   "schedules": self.schedules, "converged": self.converged, "panics": self.panics,
                   "slow_clients_held_s": self.load.slow_clients_held_s,
                   "oversize_held_back": self.load.oversize_held_back,
                   "audit_rows_per_forged": self.load.audit_rows_per_forged,
                   "p99_ms": self.load.p99_ms}),
        )
    }

    /// The last chaos run's figures, if there was one.
    pub fn last() -> Option<ChaosFigures> {
        let v = read(chaos_file())?;
        Some(ChaosFigures {
            kills: field(&v, "kills"),
            lost: field(&v, "lost"),
            duplicated: field(&v, "duplicated"),
            schedules: field(&v, "schedules"),
            converged: field(&v, "converged"),
            panics: field(&v, "panics"),
            load: super::load::LoadFigures {
                slow_clients_held_s: v.get("slow_clients_held_s").and_then(Value::as_f64).unwrap_or(0.0),
                oversize_held_back: field(&v, "oversize_held_back"),
                audit_rows_per_forged: v.get("audit_rows_per_forged").and_then(Value::as_f64).unwrap_or(0.0),
                p99_ms: field(&v, "p99_ms"),
            },
        })
    }
}

impl FuzzFigures {
    pub fn save(&self) -> crate::Result {
        write(
            fuzz_file(),
            json!({"fuzz_targets": self.targets, "fuzz_seconds": self.seconds,
                   "fuzz_inputs": self.inputs, "panics": self.panics}),
        )
    }

    /// The last fuzz run's figures, if there was one.
    pub fn last() -> Option<FuzzFigures> {
        let v = read(fuzz_file())?;
        Some(FuzzFigures {
            targets: field(&v, "fuzz_targets"),
            seconds: field(&v, "fuzz_seconds"),
            inputs: field(&v, "fuzz_inputs"),
            panics: field(&v, "panics"),
        })
    }
}

/// The issue's RESULT line; a missing run counts as zeros (the caller says it was not run).
pub fn result_line(chaos: Option<&ChaosFigures>, fuzz: Option<&FuzzFigures>) -> String {
    let c = chaos.cloned().unwrap_or_default();
    let f = fuzz.cloned().unwrap_or_default();
    format!(
        "RESULT kills={} lost={} duplicated={} schedules={} converged={} fuzz_inputs={} panics={} \
         slow_clients_held_s={:.1} oversize_held_back={} audit_rows_per_forged={:.3} p99_ms={}",
        c.kills,
        c.lost,
        c.duplicated,
        c.schedules,
        c.converged,
        f.inputs,
        c.panics + f.panics,
        c.load.slow_clients_held_s,
        c.load.oversize_held_back,
        c.load.audit_rows_per_forged,
        c.load.p99_ms
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_result_line_has_the_issues_shape_and_sums_panics() {
        assert_eq!(
            result_line(None, None),
            "RESULT kills=0 lost=0 duplicated=0 schedules=0 converged=0 fuzz_inputs=0 panics=0 \
             slow_clients_held_s=0.0 oversize_held_back=0 audit_rows_per_forged=0.000 p99_ms=0"
        );
        let load = super::super::load::LoadFigures {
            slow_clients_held_s: 10.04,
            oversize_held_back: 1,
            audit_rows_per_forged: 1.0 / 300.0,
            p99_ms: 42,
        };
        let chaos = ChaosFigures { kills: 40, lost: 0, duplicated: 0, schedules: 20, converged: 20, panics: 1, load };
        let fuzz = FuzzFigures { targets: 4, seconds: 60, inputs: 123_456, panics: 2 };
        assert_eq!(
            result_line(Some(&chaos), Some(&fuzz)),
            "RESULT kills=40 lost=0 duplicated=0 schedules=20 converged=20 fuzz_inputs=123456 panics=3 \
             slow_clients_held_s=10.0 oversize_held_back=1 audit_rows_per_forged=0.003 p99_ms=42"
        );
    }
}
