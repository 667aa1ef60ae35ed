//! Driving headless Chromium through chromedriver (Debian's `chromium` and `chromium-driver`),
//! for the partner hub's pages. Pages are then used through [`crate::app::Screens`], like the app.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::json;

use crate::app::{Running, free_port};

/// chromedriver on a free port.
pub async fn start_chromedriver() -> (Running, String) {
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver is installed (cargo xtask test installs chromium-driver)");
    let running = Running(child);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return (running, format!("http://127.0.0.1:{port}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("chromedriver did not start on port {port}");
}

/// A fresh headless Chromium (its own profile in `profile`), with no network of its own to
/// reach for: no sync, no updates, no first-run pages.
pub async fn open_browser(driver: &str, profile: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                "--window-size=1280,800",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector).capabilities(caps).connect(driver).await.expect("a WebDriver session with Chromium")
}

/// Runs axe-core ([`crate::axe`]) on the page shown; returns each violation as a line naming the
/// rule, its impact and the elements.
pub async fn accessibility_violations(client: &Client) -> Vec<String> {
    crate::axe::violations(client).await.iter().map(ToString::to_string).collect()
}
