//! `doorstep-dev start-app PROGRAM NAME SCREENSHOT`: an installed app (the .deb's binary, or a
//! launcher of the AppImage) starts under Xvfb through WebDriver as a person would see it, for
//! `cargo xtask bundle --check`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use doorstep_tests::app::{Screens, open_app, start_display, start_driver};

use crate::Result;

const SETUP_HEADING: &str = "Set up Doorstep on this device";

pub fn start_app(program: &Path, what: &str, screenshot: &Path) -> Result {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(launch(program, what, screenshot))
}

/// Starts `program` with a fresh data folder: its window must appear, the set-up screen must show
/// (saved to `screenshot`), and the device core must answer a form.
async fn launch(program: &Path, what: &str, screenshot: &Path) -> Result {
    let data = tempfile::TempDir::new().map_err(|e| e.to_string())?;
    let (_display, display) = start_display();
    let (_driver, driver) = start_driver(&display).await;
    let began = Instant::now();
    let dir = screenshot.parent().unwrap_or(Path::new(".")).to_path_buf();
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let screens = Screens { client: open_app(&driver, program, data.path()).await, dir };
    screens.wait_text("h1", SETUP_HEADING).await;
    println!("{what}: set-up screen in {} ms", began.elapsed().as_millis());
    let windows = Command::new("xwininfo")
        .args(["-display", &display, "-root", "-tree"])
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        .unwrap_or_default();
    if !windows.lines().any(|l| l.contains("\"Doorstep\"")) {
        return Err(format!("no window titled Doorstep on the display:\n{windows}"));
    }
    let _ = screens.client.set_window_size(1024, 768).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let png = screens.client.screenshot().await.map_err(|e| format!("screenshot: {e}"))?;
    std::fs::write(screenshot, png).map_err(|e| format!("{}: {e}", screenshot.display()))?;
    println!("screenshot: {}", screenshot.display());
    // An address without a scheme is refused by the device core in Rust, not the UI: the answer
    // proves the installed binary's commands work. It fails before anything is written.
    screens.type_into("#hub", "hub.example").await;
    screens.type_into("#code", "KD7M-3QXA-9PLR").await;
    screens.type_into("#pin", "246813").await;
    screens.type_into("#pin-again", "246813").await;
    screens.click("#enrol").await;
    screens.wait_text(".nhsuk-error-summary__body", "should start with https://").await;
    screens.client.close().await.map_err(|e| e.to_string())?;
    println!("{what}: the device core answered the set-up form");
    Ok(())
}
