//! Building Doorstep: the system packages the app and its tests need, the UI's tools, the UI,
//! and the one workspace build that everything else (tests, chaos, the demo, the package check)
//! reuses. Every step is skipped when what it makes is already there, so a second run costs
//! seconds.

use std::path::{Path, PathBuf};

use crate::Result;
use crate::setup::{as_root, has_command, output, sh, sh_env};

/// Debian packages: WebKitGTK and friends to build and run the app, Node for the UI's assets,
/// Xvfb with WebKitWebDriver for the end-to-end tests, Chromium with chromedriver for the
/// partner pages' browser tests, and Python's venv for the FHIR validator.
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
    "python3-venv",
];

/// Must equal the `wasm-bindgen` version pinned in ui/Cargo.toml.
const WASM_BINDGEN: &str = "0.2.130";
const TAURI_DRIVER: &str = "2.1.0";
const WASM: &str = "wasm32-unknown-unknown";

/// Those of `APT_PACKAGES` (and `extra`) not installed yet.
pub fn missing_apt_packages(extra: &[&'static str]) -> Vec<&'static str> {
    APT_PACKAGES
        .iter()
        .chain(extra)
        .copied()
        // A Node.js from elsewhere (NodeSource, nvm) brings its own npm, and Debian's conflicts.
        .filter(|p| !(matches!(*p, "nodejs" | "npm") && has_command("npm")))
        .filter(|p| !installed(p))
        .collect()
}

pub fn installed(package: &str) -> bool {
    output("dpkg-query", &["-W", "-f=${Status}", package]).is_some_and(|s| s.contains("install ok installed"))
}

/// Installs `packages` with apt-get (as root), if any.
pub fn apt_install(packages: &[&str]) -> Result {
    if packages.is_empty() {
        return Ok(());
    }
    if !has_command("apt-get") {
        return Err(format!(
            "these packages are needed and there is no apt-get to install them: {}",
            packages.join(" ")
        ));
    }
    let env = [("DEBIAN_FRONTEND", "noninteractive")];
    as_root("apt-get", &["update", "-q"], &env)?;
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend(packages);
    as_root("apt-get", &args, &env)
}

pub fn ensure_apt_packages() -> Result {
    apt_install(&missing_apt_packages(&[]))
}

/// Installs `krate@version` with cargo unless that version is installed and `binary` is on PATH.
fn ensure_cargo_tool(binary: &str, krate: &str, version: &str, locked: bool) -> Result {
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

/// wasm-bindgen and tauri-driver, built from crates.io (nothing downloaded at run time). The UI
/// needs no bundler: [`build_ui`] runs cargo, wasm-bindgen and wasm-opt itself.
pub fn ensure_tools() -> Result {
    crate::setup::ensure_wasm_target()?;
    // Without --locked: its lockfile names a webpki-roots the registry mirror does not serve.
    ensure_cargo_tool("wasm-bindgen", "wasm-bindgen-cli", WASM_BINDGEN, false)?;
    ensure_cargo_tool("tauri-driver", "tauri-driver", TAURI_DRIVER, true)
}

/// The FHIR R4 validator's pinned packages (fhir.resources 6.4.0, the last release modelling R4).
const FHIR_REQUIREMENTS: &str = "tests/fhir/requirements.txt";

/// Where [`ensure_fhir_validator`] installs the validator; `tests/src/fhir_check.rs` runs
/// `tests/fhir/validate.py` with this venv's Python.
pub fn fhir_venv() -> PathBuf {
    target_dir().join("fhir-venv")
}

/// The FHIR validator the tests run on every bundle they export: a venv in `target/fhir-venv`
/// with [`FHIR_REQUIREMENTS`] from PyPI. Skipped when the venv was made from the same file (a copy
/// is kept in it); otherwise made afresh, so a changed pin leaves nothing of the old one behind.
pub fn ensure_fhir_validator() -> Result {
    let wanted = std::fs::read_to_string(FHIR_REQUIREMENTS).map_err(|e| format!("{FHIR_REQUIREMENTS}: {e}"))?;
    let venv = fhir_venv();
    let python = venv.join("bin/python");
    let stamp = venv.join("doorstep-requirements.txt");
    if python.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        eprintln!("FHIR validator: {} is installed from {FHIR_REQUIREMENTS} already", venv.display());
        return Ok(());
    }
    let (venv_arg, python_arg) = (venv.to_string_lossy(), python.to_string_lossy());
    sh("python3", &["-m", "venv", "--clear", &venv_arg])
        .map_err(|e| format!("{e} (Debian: apt-get install python3-venv)"))?;
    let quiet = ["--quiet", "--disable-pip-version-check", "--no-input"];
    let mut pip = vec!["-m", "pip", "install"];
    pip.extend(quiet);
    pip.extend(["--requirement", FHIR_REQUIREMENTS]);
    sh(&python_arg, &pip)?;
    // Its own start-up checks that the models are FHIR R4; usage (exit 2) means it imported them.
    let check = crate::setup::command(&python_arg).arg("tests/fhir/validate.py").output();
    match check {
        Ok(out) if out.status.code() == Some(2) && String::from_utf8_lossy(&out.stderr).starts_with("usage") => {}
        Ok(out) => {
            return Err(format!("tests/fhir/validate.py does not start: {}", String::from_utf8_lossy(&out.stderr)));
        }
        Err(e) => return Err(format!("{python_arg}: {e}")),
    }
    write(&stamp, wanted.as_bytes())
}

const CARGO_FUZZ: &str = "0.13.2";

/// cargo-fuzz, and the nightly toolchain its sanitizer flags need (`cargo xtask fuzz`).
pub fn ensure_fuzz_tools() -> Result {
    let toolchains = output("rustup", &["toolchain", "list"]).unwrap_or_default();
    if !toolchains.lines().any(|l| l.starts_with("nightly")) {
        sh("rustup", &["toolchain", "install", "nightly", "--profile", "minimal"])?;
    }
    ensure_cargo_tool("cargo-fuzz", "cargo-fuzz", CARGO_FUZZ, true)
}

pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from("target"),
    }
}

/// The environment every build of the workspace's own code runs with: clippy's driver as the
/// workspace's compiler wrapper, so the lints (warnings refused) run inside the build that the
/// tests then use, instead of a second, check-only compilation of every dependency. Cargo keeps
/// the wrapper in its fingerprints, so every xtask build passes exactly this.
pub fn lint_env() -> Vec<(&'static str, String)> {
    let driver = output("rustup", &["which", "clippy-driver"])
        .map(|path| path.trim().to_string())
        .filter(|path| !path.is_empty())
        .unwrap_or_else(|| "clippy-driver".into());
    vec![("RUSTC_WORKSPACE_WRAPPER", driver), ("CLIPPY_ARGS", "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__".into())]
}

/// Runs cargo with [`lint_env`] and `extra` variables; its output lines when `capture` (they
/// stream through to ours as well), for counting tests.
pub fn cargo_linted(args: &[&str], extra: &[(&str, &str)], capture: bool) -> Result<Vec<String>> {
    let lint = lint_env();
    let mut env: Vec<(&str, &str)> = lint.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.extend_from_slice(extra);
    if capture { run_streaming("cargo", args, &env) } else { sh_env("cargo", args, &env).map(|()| Vec::new()) }
}

/// The one debug build of the workspace (not xtask, which is running, nor the wasm-only UI):
/// libraries, binaries (the app, the hub, doorstep-dev) and every test, with one feature
/// resolution, linted.
/// `cargo xtask test`, `run`, `chaos` and `bundle --check` all use it, so none rebuilds.
/// Cargo's timing report of each build goes to `target/cargo-timings/` (which crates the time
/// went to, for keeping CI within its budget).
pub fn build_workspace() -> Result {
    let mut args = WORKSPACE_BUILD.to_vec();
    args.push("--timings");
    cargo_linted(&args, &[], false).map(drop)
}

/// `cargo test` over [`WORKSPACE_BUILD`]'s selection (so nothing is rebuilt), then `more`.
pub fn workspace_test_args<'a>(more: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["test"];
    args.extend(&WORKSPACE_BUILD[1..]);
    args.extend(more);
    args
}

/// The arguments of [`build_workspace`]'s cargo; the test run passes the same selection. The UI
/// is left out: it is built (and linted) for wasm32 by [`build_ui`], and has nothing to test on
/// the host that would be worth compiling yew and web-sys a second time.
pub const WORKSPACE_BUILD: [&str; 8] =
    ["build", "--workspace", "--exclude", "xtask", "--exclude", "doorstep-ui", "--all-targets", "--locked"];

/// Runs `target/<profile>/doorstep-dev` (built by [`build_workspace`], or in release by the
/// benchmarks) with `args`.
pub fn doorstep_dev(profile: &str, args: &[&str]) -> Result {
    let program = target_dir().join(profile).join("doorstep-dev");
    sh(&program.to_string_lossy(), args)
}

fn ui_dir() -> PathBuf {
    PathBuf::from("ui")
}

/// The NHS.UK frontend's compiled CSS without its web fonts (they load from assets.nhs.uk, which
/// is offline here and blocked by the CSP anyway: Arial is the design system's own fallback),
/// and the icons it refers to under /assets/images.
fn nhsuk_assets(ui: &Path, dist: &Path) -> Result {
    let package = ui.join("node_modules/nhsuk-frontend/dist/nhsuk");
    let css = std::fs::read_to_string(package.join("nhsuk-frontend.min.css"))
        .map_err(|e| format!("the NHS.UK frontend is not installed in ui/node_modules: {e}"))?;
    let css = without_font_faces(&css);
    if css.contains("https://") {
        return Err("the NHS.UK CSS still refers to something online after removing its fonts".into());
    }
    write(&dist.join("nhsuk.css"), css.as_bytes())?;
    let images = dist.join("assets/images");
    std::fs::create_dir_all(&images).map_err(|e| format!("{}: {e}", images.display()))?;
    for entry in std::fs::read_dir(package.join("assets/images")).map_err(|e| e.to_string())? {
        let entry = entry.map_err(|e| e.to_string())?;
        copy(&entry.path(), &images.join(entry.file_name()))?;
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

/// Writes `bytes` unless the file holds them already: the app and the hub embed files of ui/dist,
/// and cargo rebuilds them when one is touched.
fn write(path: &Path, bytes: &[u8]) -> Result {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

fn copy(from: &Path, to: &Path) -> Result {
    write(to, &std::fs::read(from).map_err(|e| format!("{}: {e}", from.display()))?)
}

/// What `ui/dist` holds; anything else there (an older build's files) is removed, or the app
/// would embed it.
const DIST: [&str; 7] =
    ["index.html", "boot.js", "doorstep.css", "nhsuk.css", "doorstep-ui.js", "doorstep-ui_bg.wasm", "assets"];

/// The UI's wasm as wasm-bindgen makes it (before wasm-opt) and as `ui/dist` ships it.
pub struct WasmSizes {
    pub before: u64,
    pub after: u64,
}

/// Builds the UI into `ui/dist`, as the app embeds it: the yew crate for wasm32 in release (its
/// lints with it), wasm-bindgen's JavaScript glue, `wasm-opt -Oz` from npm's binaryen, the NHS.UK
/// CSS and icons, `styles/doorstep.css`, and `index.html` with `boot.js` that starts the wasm.
/// The bindgen and wasm-opt steps are skipped when cargo's wasm output has not changed.
pub fn build_ui() -> Result<WasmSizes> {
    let ui = ui_dir();
    if !ui.join("node_modules/.package-lock.json").exists()
        || modified(&ui.join("package-lock.json")) > modified(&ui.join("node_modules/.package-lock.json"))
    {
        sh("npm", &["ci", "--prefix", "ui", "--no-audit", "--no-fund"])?;
    }
    cargo_linted(&["build", "--release", "--locked", "--target", WASM, "-p", "doorstep-ui"], &[], false)?;
    let target = target_dir();
    let wasm = target.join(WASM).join("release/doorstep-ui.wasm");
    let bindgen = target.join("ui-bindgen");
    let dist = ui.join("dist");
    let stamp = target.join("ui-bindgen.stamp");
    let built = format!("{:?} {:?}", std::fs::metadata(&wasm).map(|m| m.len()).ok(), modified(&wasm));
    let shipped = dist.join("doorstep-ui_bg.wasm");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(built.as_str()) || !shipped.exists() {
        let (out, input) = (bindgen.to_string_lossy(), wasm.to_string_lossy());
        let args = ["--target", "web", "--no-typescript", "--out-dir", &out, "--out-name", "doorstep-ui", &input];
        sh("wasm-bindgen", &args)?;
        std::fs::create_dir_all(&dist).map_err(|e| format!("{}: {e}", dist.display()))?;
        let wasm_opt = std::fs::canonicalize(ui.join("node_modules/.bin/wasm-opt"))
            .map_err(|e| format!("wasm-opt (npm binaryen) is not in ui/node_modules: {e}"))?;
        let unoptimised = bindgen.join("doorstep-ui_bg.wasm");
        sh(&wasm_opt.to_string_lossy(), &["-Oz", &unoptimised.to_string_lossy(), "-o", &shipped.to_string_lossy()])?;
        copy(&bindgen.join("doorstep-ui.js"), &dist.join("doorstep-ui.js"))?;
        write(&stamp, built.as_bytes())?;
    }
    for entry in std::fs::read_dir(&dist).map_err(|e| format!("{}: {e}", dist.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if !path.file_name().is_some_and(|name| DIST.iter().any(|known| name == *known)) {
            let removed = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
            removed.map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    nhsuk_assets(&ui, &dist)?;
    for file in ["index.html", "boot.js", "styles/doorstep.css"] {
        let from = ui.join(file);
        let name = from.file_name().ok_or("a UI file without a name")?;
        copy(&from, &dist.join(name))?;
    }
    let size = |path: &Path| std::fs::metadata(path).map(|m| m.len()).map_err(|e| format!("{}: {e}", path.display()));
    let sizes = WasmSizes { before: size(&bindgen.join("doorstep-ui_bg.wasm"))?, after: size(&shipped)? };
    if sizes.after >= sizes.before {
        return Err(format!("wasm-opt made the UI no smaller ({} bytes, {} before)", sizes.after, sizes.before));
    }
    eprintln!("UI: ui/dist ({} KB of wasm, {} KB before wasm-opt)", sizes.after / 1024, sizes.before / 1024);
    Ok(sizes)
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Everything the app needs before cargo can build it.
pub fn prepare() -> Result<WasmSizes> {
    ensure_apt_packages()?;
    ensure_tools()?;
    build_ui()
}

/// A command's output lines while they stream through to ours (for counting tests).
pub fn run_streaming(program: &str, args: &[&str], env: &[(&str, &str)]) -> Result<Vec<String>> {
    use std::io::{BufRead, BufReader, Write};
    let shown: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
    eprintln!("$ {}{program} {}", shown.concat(), args.join(" "));
    let mut child = crate::setup::command(program)
        .args(args)
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start {program}: {e}"))?;
    let mut lines = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        let mut out = std::io::stdout();
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| format!("reading {program}'s output: {e}"))?;
            let _ = writeln!(out, "{line}");
            lines.push(line);
        }
    }
    let status = child.wait().map_err(|e| format!("{program}: {e}"))?;
    if status.success() { Ok(lines) } else { Err(format!("`{program} {}` failed ({status})", args.join(" "))) }
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
