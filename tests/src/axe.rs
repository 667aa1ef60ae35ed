//! axe-core (`ui/node_modules/axe-core`, installed by `cargo xtask test` with the UI's npm
//! packages) run in whatever page a WebDriver session shows: the app's WebKit window or
//! Chromium with the hub's pages. One version, so both are held to the same rules.

use std::fmt;
use std::path::Path;

use fantoccini::Client;
use serde_json::Value;

/// WCAG 2.0, 2.1 and 2.2 at levels A and AA.
const TAGS: &str = "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']";

/// axe-core's impacts, worst first.
pub const IMPACTS: [&str; 4] = ["critical", "serious", "moderate", "minor"];

/// One rule the page breaks, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub rule: String,
    /// critical, serious, moderate or minor.
    pub impact: String,
    pub help: String,
    /// A CSS selector for each element that breaks it.
    pub targets: Vec<String>,
}

impl Violation {
    /// What a person relying on assistive technology cannot get past.
    pub fn blocks(&self) -> bool {
        matches!(self.impact.as_str(), "critical" | "serious")
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {} at {}", self.rule, self.impact, self.help, self.targets.join(", "))
    }
}

/// Runs axe-core on the page shown; every rule broken, in axe-core's order.
/// The file beside the screenshots where each screen's counts are noted, one line a screen.
pub const SUMMARY_FILE: &str = "axe-summary.txt";

pub async fn violations(client: &Client) -> Vec<Violation> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/node_modules/axe-core/axe.min.js");
    let axe = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run `npm ci` in ui/, which cargo xtask test does)", path.display()));
    // Loaded on every call: the app replaces no document, but a navigation would drop it.
    client.execute(&axe, Vec::new()).await.expect("load axe-core into the page");
    // The answer is plain data (no axe-core objects), which every driver can send back.
    let script = format!(
        r#"const done = arguments[arguments.length - 1];
        axe.run(document, {{ runOnly: {{ type: 'tag', values: {TAGS} }} }})
          .then(r => done({{ ok: r.violations.map(v => ({{
              rule: v.id, impact: v.impact || 'minor', help: v.help,
              targets: v.nodes.map(n => n.target.join(' ')) }})) }}))
          .catch(e => done({{ failed: String(e) }}));"#
    );
    let answer = client.execute_async(&script, Vec::new()).await.expect("run axe-core");
    read(&answer)
}

fn read(answer: &Value) -> Vec<Violation> {
    if let Some(failed) = answer.get("failed") {
        panic!("axe-core failed: {failed}");
    }
    let Some(found) = answer.get("ok").and_then(Value::as_array) else {
        panic!("unreadable axe-core answer: {answer}");
    };
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
    found
        .iter()
        .map(|v| Violation {
            rule: text(v, "rule"),
            impact: text(v, "impact"),
            help: text(v, "help"),
            targets: v
                .get("targets")
                .and_then(Value::as_array)
                .map(|t| t.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default(),
        })
        .collect()
}

/// How many rules are broken at each impact: `critical=0 serious=0 moderate=1 minor=0`.
pub fn counts(found: &[Violation]) -> String {
    IMPACTS
        .iter()
        .map(|impact| format!("{impact}={}", found.iter().filter(|v| v.impact == *impact).count()))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_and_counts_what_axe_core_answers() {
        let answer = json!({ "ok": [
            { "rule": "label", "impact": "critical", "help": "Form elements must have labels", "targets": ["#q"] },
            { "rule": "color-contrast", "impact": "serious", "help": "Contrast", "targets": [".a", ".b"] },
            { "rule": "x", "impact": "moderate", "help": "X", "targets": [] },
        ]});
        let found = read(&answer);
        assert_eq!(counts(&found), "critical=1 serious=1 moderate=1 minor=0");
        assert_eq!(found.iter().filter(|v| v.blocks()).count(), 2);
        assert_eq!(found[1].to_string(), "color-contrast (serious): Contrast at .a, .b");
    }
}
