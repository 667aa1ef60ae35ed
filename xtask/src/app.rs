//! Building the app: the system packages Tauri and its tests need, the UI's tools (trunk,
//! wasm-bindgen, npm assets), the UI itself, and the app binary. Every step is skipped when what
//! it makes is already there at the right version, so a second run costs seconds.

use std::path::{Path, PathBuf};

use crate::Result;
use crate::setup::{as_root, has_command, output, sh};

/// Debian packages: WebKitGTK and friends to build and run the app, Node for the UI's assets,
/// Xvfb with WebKitWebDriver for the end-to-end tests, and Chromium with chromedriver for the
/// partner pages' browser tests.
const APT_PACKAGES: &[&str] = &[
    "libwebkit2gtk-4.1-dev",
    "libgtk-3-dev",
    "libsoup-3.0-dev",
    "librsvg2-dev",
    "nodejs",
    "npm",
    "xvfb",
    "webkit2gtk-driver",
    "chromium",
    "chromium-driver",
];

/// Versions that build with this project's Rust (1.95) and agree with Cargo.lock.
const TRUNK: &str = "0.21.14";
/// Must equal the `wasm-bindgen` version pinned in ui/Cargo.toml.
const WASM_BINDGEN: &str = "0.2.130";
const TAURI_DRIVER: &str = "2.1.0";

pub fn ensure_apt_packages() -> Result {
    let missing: Vec<&str> = APT_PACKAGES
        .iter()
        .copied()
        // A Node.js from elsewhere (NodeSource, nvm) brings its own npm, and Debian's conflicts.
        .filter(|p| !(matches!(*p, "nodejs" | "npm") && has_command("npm")))
        .filter(|p| {
            output("dpkg-query", &["-W", "-f=${Status}", p]).is_none_or(|s| !s.contains("install ok installed"))
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !has_command("apt-get") {
        return Err(format!(
            "these packages are needed and there is no apt-get to install them: {}",
            missing.join(" ")
        ));
    }
    let env = [("DEBIAN_FRONTEND", "noninteractive")];
    as_root("apt-get", &["update"], &env)?;
    let mut args = vec!["install", "-y", "--no-install-recommends"];
    args.extend(missing);
    as_root("apt-get", &args, &env)
}

/// Installs `krate@version` with cargo unless that version is installed and `binary` is on PATH.
pub(crate) fn ensure_cargo_tool(binary: &str, krate: &str, version: &str, locked: bool) -> Result {
    let installed = output("cargo", &["install", "--list"])
        .is_some_and(|list| list.lines().any(|l| l.starts_with(&format!("{krate} v{version}:"))));
    if installed && has_command(binary) {
        return Ok(());
    }
    let spec = format!("{krate}@{version}");
    let mut args = vec!["install", spec.as_str()];
    if locked {
        args.push("--locked");
    }
    sh("cargo", &args)
}

/// trunk, wasm-bindgen and tauri-driver, built from crates.io (nothing downloaded at run time).
pub fn ensure_tools() -> Result {
    crate::setup::ensure_wasm_target()?;
    ensure_cargo_tool("trunk", "trunk", TRUNK, true)?;
    // Without --locked: its lockfile names a webpki-roots the registry mirror does not serve.
    ensure_cargo_tool("wasm-bindgen", "wasm-bindgen-cli", WASM_BINDGEN, false)?;
    ensure_cargo_tool("tauri-driver", "tauri-driver", TAURI_DRIVER, true)
}

fn ui_dir() -> PathBuf {
    PathBuf::from("ui")
}

/// The NHS.UK frontend's compiled CSS without its web fonts (they load from assets.nhs.uk, which
/// is offline here and blocked by the CSP anyway: Arial is the design system's own fallback),
/// and the icons it refers to under /assets/images.
fn nhsuk_assets(ui: &Path) -> Result {
    let package = ui.join("node_modules/nhsuk-frontend/dist/nhsuk");
    let css = std::fs::read_to_string(package.join("nhsuk-frontend.min.css"))
        .map_err(|e| format!("the NHS.UK frontend is not installed in ui/node_modules: {e}"))?;
    let css = without_font_faces(&css);
    if css.contains("https://") {
        return Err("the NHS.UK CSS still refers to something online after removing its fonts".into());
    }
    let styles = ui.join("styles");
    std::fs::write(styles.join("nhsuk.css"), css).map_err(|e| e.to_string())?;
    let images = styles.join("assets/images");
    std::fs::create_dir_all(&images).map_err(|e| e.to_string())?;
    for entry in std::fs::read_dir(package.join("assets/images")).map_err(|e| e.to_string())? {
        let entry = entry.map_err(|e| e.to_string())?;
        std::fs::copy(entry.path(), images.join(entry.file_name())).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Removes every `@font-face{…}` rule (they hold no nested braces).
fn without_font_faces(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("@font-face") {
        out.push_str(&rest[..start]);
        match rest[start..].find('}') {
            Some(end) => rest = &rest[start + end + 1..],
            None => rest = "",
        }
    }
    out.push_str(rest);
    out
}

/// Builds the UI into ui/dist (release: optimised, wasm-opt from npm's binaryen).
pub fn build_ui() -> Result {
    let ui = ui_dir();
    if !ui.join("node_modules/.package-lock.json").exists()
        || modified(&ui.join("package-lock.json")) > modified(&ui.join("node_modules/.package-lock.json"))
    {
        sh("npm", &["ci", "--prefix", "ui", "--no-audit", "--no-fund"])?;
    }
    nhsuk_assets(&ui)?;
    // trunk runs cargo with --offline: fetch the UI's crates first.
    sh("cargo", &["fetch", "--locked", "--target", "wasm32-unknown-unknown"])?;
    let bin = std::fs::canonicalize(ui.join("node_modules/.bin")).map_err(|e| e.to_string())?;
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    eprintln!("$ (cd ui && trunk build --release)");
    let status = std::process::Command::new("trunk")
        .args(["build", "--release"])
        .current_dir(&ui)
        .env("PATH", &path)
        .status()
        .map_err(|e| format!("could not start trunk: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`trunk build --release` in ui/ failed ({status})")) }
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The app binary (the UI embedded). `release` for benchmarks and `cargo xtask run`.
pub fn build_app(release: bool) -> Result<PathBuf> {
    let mut args = vec!["build", "--locked", "-p", "doorstep-app"];
    if release {
        args.push("--release");
    }
    sh("cargo", &args)?;
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from("target"));
    let binary = target.join(if release { "release" } else { "debug" }).join("doorstep-app");
    std::fs::canonicalize(&binary).map_err(|e| format!("{}: {e}", binary.display()))
}

/// Everything the app needs before cargo can build it.
pub fn prepare() -> Result {
    ensure_apt_packages()?;
    ensure_tools()?;
    build_ui()
}

#[cfg(test)]
mod tests {
    use super::without_font_faces;

    #[test]
    fn font_faces_are_removed_and_the_rest_kept() {
        let css = "a{color:red}@font-face{font-family:X;src:url(https://x/y.woff2)}b{c:d}@font-face{src:url(z)}";
        assert_eq!(without_font_faces(css), "a{color:red}b{c:d}");
    }
}
