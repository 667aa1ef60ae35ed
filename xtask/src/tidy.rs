//! Repository rules a plain `cargo test` checks (the rust-analyzer "tidy" habit).

use std::path::Path;
use std::process::Command;

fn metadata() -> serde_json::Value {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
}

fn dependencies(meta: &serde_json::Value, package: &str) -> Vec<(String, bool, Option<String>)> {
    let packages = meta["packages"].as_array().expect("packages");
    let pkg = packages.iter().find(|p| p["name"] == package).unwrap_or_else(|| panic!("no package {package}"));
    pkg["dependencies"]
        .as_array()
        .expect("dependencies")
        .iter()
        .filter(|d| d["kind"].is_null()) // normal dependencies, not dev or build
        .map(|d| {
            (
                d["name"].as_str().unwrap_or_default().to_string(),
                d["optional"].as_bool().unwrap_or(false),
                d["target"].as_str().map(str::to_string),
            )
        })
        .collect()
}

/// **Architecture Invariant:** the model is pure and shared with the browser UI: no database,
/// no network, no async runtime, and Automerge only behind its optional feature.
#[test]
fn the_model_stays_pure() {
    let meta = metadata();
    for (name, optional, _) in dependencies(&meta, "doorstep-model") {
        assert!(
            !["rusqlite", "tokio", "reqwest", "axum", "doorstep-store"].contains(&name.as_str()),
            "doorstep-model must not depend on {name}"
        );
        if ["automerge", "autosurgeon"].contains(&name.as_str()) {
            assert!(optional, "doorstep-model's {name} must stay behind the `automerge` feature");
        }
    }
}

/// **Architecture Invariant:** device SQL lives in `migrations/device/NN-name/up.sql`, numbered
/// 1, 2, 3… with no gaps (rusqlite_migration counts them as schema versions).
#[test]
fn device_migrations_are_numbered_without_gaps() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/device");
    let mut numbers: Vec<u32> = std::fs::read_dir(&dir)
        .expect("migrations/device exists")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .map(|name| {
            assert!(dir.join(&name).join("up.sql").is_file(), "{name} has no up.sql");
            name.split('-').next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{name} is not NN-name"))
        })
        .collect();
    numbers.sort();
    assert_eq!(numbers, (1..=numbers.len() as u32).collect::<Vec<_>>());
}

/// **Architecture Invariant:** the hub and the device share only the model and the protocol:
/// the hub never links the device store or the sync client, and the device side never the hub.
#[test]
fn the_hub_and_the_device_share_only_the_model_and_the_protocol() {
    let meta = metadata();
    let names = |package: &str| dependencies(&meta, package).into_iter().map(|(n, _, _)| n).collect::<Vec<_>>();
    let hub = names("doorstep-hub");
    assert!(!hub.iter().any(|n| n == "doorstep-store" || n == "doorstep-sync"), "doorstep-hub depends on {hub:?}");
    for device in ["doorstep-store", "doorstep-sync"] {
        let deps = names(device);
        assert!(!deps.iter().any(|n| n == "doorstep-hub"), "{device} depends on the hub");
    }
    let protocol = names("doorstep-protocol");
    assert!(
        protocol
            .iter()
            .all(|n| ["doorstep-model", "flate2", "postcard", "serde", "thiserror", "uuid"].contains(&n.as_str())),
        "the protocol crate stays small: {protocol:?}"
    );
}

/// **Architecture Invariant:** xtask builds in seconds and never compiles the product: it
/// depends on no `doorstep-*` crate (the product's tools are in `crates/doorstep-dev`, built by
/// the one workspace build the tests share).
#[test]
fn xtask_depends_on_no_product_crate() {
    let meta = metadata();
    let packages = meta["packages"].as_array().expect("packages");
    let xtask = packages.iter().find(|p| p["name"] == "xtask").expect("xtask");
    let product: Vec<&str> = xtask["dependencies"]
        .as_array()
        .expect("dependencies")
        .iter()
        .filter_map(|d| d["name"].as_str())
        .filter(|name| name.starts_with("doorstep"))
        .collect();
    assert!(product.is_empty(), "xtask depends on {product:?}");
}

/// **Architecture Invariant:** only the device store asks for SQLCipher (with OpenSSL built from
/// source); a hub built alone links plain SQLite.
#[test]
fn sqlcipher_is_the_device_stores_alone() {
    let meta = metadata();
    let packages = meta["packages"].as_array().expect("packages");
    for package in packages {
        let name = package["name"].as_str().unwrap_or_default();
        for dep in package["dependencies"].as_array().expect("dependencies") {
            let features = dep["features"].as_array().cloned().unwrap_or_default();
            let cipher = features.iter().any(|f| f.as_str().is_some_and(|f| f.contains("sqlcipher")));
            assert!(
                !cipher || (name == "doorstep-store" && dep["kind"].is_null()),
                "{name} asks for SQLCipher; only doorstep-store encrypts a file (the hub need not build OpenSSL)"
            );
        }
    }
}

/// **Architecture Invariant:** the hub's two backends have the same schema: migration N exists
/// for both (`migrations/hub/sqlite/NN-name/up.sql`, `migrations/hub/postgres/VN__name.sql`,
/// numbered without gaps), and each creates the same tables with the same columns, so a
/// migration written for one and forgotten (or changed) for the other fails here, not in a
/// customer's database.
#[test]
fn hub_migrations_match_on_both_backends() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/hub");
    let names = |dir: &str| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(root.join(dir))
            .unwrap_or_else(|e| panic!("migrations/hub/{dir}: {e}"))
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort_by_key(|n| migration_number(n));
        names
    };
    let (sqlite, postgres) = (names("sqlite"), names("postgres"));
    let numbers: Vec<u32> = sqlite.iter().map(|n| migration_number(n)).collect();
    assert_eq!(numbers, (1..=sqlite.len() as u32).collect::<Vec<_>>(), "sqlite migrations numbered 1, 2, 3…");
    assert_eq!(
        numbers,
        postgres.iter().map(|n| migration_number(n)).collect::<Vec<_>>(),
        "each SQLite migration has its PostgreSQL twin: {sqlite:?} vs {postgres:?}"
    );
    for (s, p) in sqlite.iter().zip(&postgres) {
        let name = |n: &str| n.split_once(['-', '_']).map(|(_, rest)| rest.trim_start_matches('_').replace('-', "_"));
        assert_eq!(name(s), name(p).map(|n| n.trim_end_matches(".sql").to_string()), "{s} and {p} say the same");
        let s_sql = std::fs::read_to_string(root.join("sqlite").join(s).join("up.sql")).expect("up.sql");
        let p_sql = std::fs::read_to_string(root.join("postgres").join(p)).expect("postgres migration");
        assert_eq!(columns(&s_sql), columns(&p_sql), "{s} and {p} make different tables or columns");
    }
}

fn migration_number(name: &str) -> u32 {
    let digits: String = name.trim_start_matches('V').chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or_else(|_| panic!("{name} is not numbered"))
}

/// The (table, column) pairs a migration creates: CREATE TABLE bodies and ADD COLUMN.
fn columns(sql: &str) -> std::collections::BTreeSet<(String, String)> {
    let sql: String = sql.lines().map(|l| l.split("--").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    let words = |s: &str| s.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>();
    let mut out = std::collections::BTreeSet::new();
    for statement in sql.split(';') {
        let w = words(statement);
        match w.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["create", "table", table, ..] => {
                let table = table.trim_end_matches('(').to_string();
                let Some(open) = statement.find('(') else { continue };
                let body = &statement[open + 1..statement.rfind(')').unwrap_or(statement.len())];
                let (mut depth, mut item) = (0, String::new());
                let mut items = Vec::new();
                for c in body.chars() {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        ',' if depth == 0 => items.push(std::mem::take(&mut item)),
                        _ => {}
                    }
                    item.push(c);
                }
                items.push(item);
                for item in items {
                    let first = item.trim_start_matches(',').split_whitespace().next().unwrap_or("").to_lowercase();
                    if !["primary", "unique", "check", "foreign", "constraint", ""].contains(&first.as_str()) {
                        out.insert((table.clone(), first));
                    }
                }
            }
            ["alter", "table", table, "add", "column", column, ..] => {
                out.insert((table.to_string(), column.to_string()));
            }
            _ => {}
        }
    }
    out
}
