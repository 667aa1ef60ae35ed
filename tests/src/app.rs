//! Driving the real app binary through WebDriver: a virtual display (Xvfb), `tauri-driver`
//! (which runs Debian's WebKitWebDriver), and helpers that wait for what a person would see.
//! Used by the app's end-to-end tests and by `cargo xtask bench app`.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// How long to wait for anything to appear.
pub const WAIT: Duration = Duration::from_secs(30);

/// A child process, in its own process group, killed with everything it started when the test
/// ends, however it ends (tauri-driver starts WebKitWebDriver, which starts the app).
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", "--", &format!("-{}", self.0.id())]).status();
        // A moment to exit cleanly (Xvfb removes its lock file and socket), then kill.
        let asked = Instant::now();
        while asked.elapsed() < Duration::from_secs(2) {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A display's lock file left by an X server that is no longer running (killed before it could
/// clean up): removed with its socket, so the display number can be used again.
fn clear_stale_display(n: u32) {
    let lock = format!("/tmp/.X{n}-lock");
    let Ok(text) = std::fs::read_to_string(&lock) else { return };
    let Ok(pid) = text.trim().parse::<u32>() else { return };
    if !Path::new(&format!("/proc/{pid}")).exists() {
        let _ = std::fs::remove_file(&lock);
        let _ = std::fs::remove_file(format!("/tmp/.X11-unix/X{n}"));
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Xvfb on a free display number.
pub fn start_display() -> (Running, String) {
    for n in 90..140 {
        clear_stale_display(n);
        if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() || Path::new(&format!("/tmp/.X{n}-lock")).exists() {
            continue;
        }
        let child = Command::new("Xvfb")
            .process_group(0)
            .args([&format!(":{n}"), "-screen", "0", "1280x1100x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb is installed (cargo xtask test installs it)");
        let running = Running(child);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() {
                return (running, format!(":{n}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    panic!("Xvfb did not start on any display from :90 to :139");
}

/// tauri-driver (which runs WebKitWebDriver) on free ports, on `display`.
pub async fn start_driver(display: &str) -> (Running, String) {
    start_driver_with(display, &[]).await
}

/// [`start_driver`], with `env` set for the apps it starts (they inherit the driver's).
pub async fn start_driver_with(display: &str, env: &[(&str, &str)]) -> (Running, String) {
    let (port, native) = (free_port(), free_port());
    let child = Command::new("tauri-driver")
        .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
        .env("DISPLAY", display)
        .envs(env.iter().copied())
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("tauri-driver is installed (cargo xtask test installs it)");
    let running = Running(child);
    // Ready when both tauri-driver and the WebKitWebDriver it starts are listening.
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        let up = |p: u16| async move { tokio::net::TcpStream::connect(("127.0.0.1", p)).await.is_ok() };
        if up(port).await && up(native).await {
            return (running, format!("http://127.0.0.1:{port}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("tauri-driver (port {port}) or WebKitWebDriver (port {native}) did not start");
}

/// Opens the app `binary` with its store in `data_dir`.
pub async fn open_app(driver: &str, binary: &Path, data_dir: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("wry"));
    caps.insert(
        "tauri:options".into(),
        json!({
            "application": binary,
            "args": ["--data-dir", data_dir.to_string_lossy()],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector).capabilities(caps).connect(driver).await.expect("a WebDriver session with the app")
}

/// An app session, with where its screenshots go.
pub struct Screens {
    pub client: Client,
    pub dir: PathBuf,
}

impl Screens {
    pub async fn wait(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(WAIT)
            .every(Duration::from_millis(20))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
    }

    pub async fn click(&self, css: &str) {
        let element = self.wait(css).await;
        self.centre(&element).await;
        element.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Scrolls an element to the middle of the window, as a person scrolls to what they tap: the
    /// visit's bar stays at the bottom of the screen, and WebKitWebDriver's own scrolling can
    /// leave an element under it.
    ///
    /// First it waits for the page to stop moving: a screen may scroll itself just after it
    /// renders (the visit scrolls to what Check out asks about), and a click aimed before that
    /// scroll lands on whatever moved under it.
    async fn centre(&self, element: &fantoccini::elements::Element) {
        let Ok(arg) = serde_json::to_value(element) else { return };
        let top = || async {
            let at = self.client.execute("return arguments[0].getBoundingClientRect().top", vec![arg.clone()]).await;
            at.ok().and_then(|v| v.as_f64())
        };
        let mut last = top().await;
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let now = top().await;
            if now == last {
                break;
            }
            last = now;
        }
        let _ = self.client.execute("arguments[0].scrollIntoView({block: 'center'})", vec![arg]).await;
    }

    /// Chooses `value` in the drop-down `css`.
    pub async fn select(&self, css: &str, value: &str) {
        let element = self.wait(css).await;
        self.centre(&element).await;
        element.select_by_value(value).await.unwrap_or_else(|e| panic!("choose {value} in {css}: {e}"));
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        self.wait(css).await.send_keys(text).await.unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Clicks the button among `css` whose text contains `label`.
    pub async fn click_labelled(&self, css: &str, label: &str) {
        self.wait(css).await;
        for element in self.client.find_all(Locator::Css(css)).await.expect("find") {
            if element.text().await.unwrap_or_default().contains(label) {
                self.centre(&element).await;
                element.click().await.unwrap_or_else(|e| panic!("click {label}: {e}"));
                return;
            }
        }
        panic!("no {css} says {label:?}");
    }

    /// Waits until the element's text contains `expected`; returns the text.
    pub async fn wait_text(&self, css: &str, expected: &str) -> String {
        let started = Instant::now();
        loop {
            let text = match self.client.find(Locator::Css(css)).await {
                Ok(e) => e.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if text.contains(expected) {
                return text;
            }
            assert!(started.elapsed() < WAIT, "{css} never said {expected:?}; it says {text:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the value of the form field `css` contains every one of `expected`; returns it.
    pub async fn wait_value(&self, css: &str, expected: &[&str]) -> String {
        let started = Instant::now();
        loop {
            let value = match self.client.find(Locator::Css(css)).await {
                Ok(e) => e.prop("value").await.ok().flatten().unwrap_or_default(),
                Err(_) => String::new(),
            };
            if expected.iter().all(|words| value.contains(words)) {
                return value;
            }
            assert!(started.elapsed() < WAIT * 3, "{css} never held all of {expected:?}; it holds {value:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Screenshots at tablet portrait (768×1024) and landscape (1024×768) and desktop (1280×800) size.
    pub async fn shot(&self, name: &str) {
        for (size, w, h) in [("tablet", 768, 1024), ("landscape", 1024, 768), ("desktop", 1280, 800)] {
            if self.client.set_window_size(w, h).await.is_ok() {
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            let png = self.client.screenshot().await.expect("screenshot");
            std::fs::write(self.dir.join(format!("{name}-{size}.png")), png).expect("write screenshot");
        }
        // Back at the tablet's size: let the page lay out again before anything is clicked, or a
        // click aimed at the old layout lands elsewhere (seen on a loaded machine).
        if self.client.set_window_size(768, 1024).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        self.check_accessibility(name).await;
    }

    /// axe-core on the screen as shown at tablet size: prints how many rules are broken at each
    /// impact, and fails on any serious or critical one, naming the elements.
    /// `DOORSTEP_AXE=report` only prints (to see every screen's findings in one run).
    pub async fn check_accessibility(&self, name: &str) {
        let found = crate::axe::violations(&self.client).await;
        let counts = crate::axe::counts(&found);
        println!("axe {name}: {counts}");
        // One line a screen beside the screenshots: `cargo xtask test` prints them (a passing
        // test's output is not shown).
        let summary = self.dir.join(crate::axe::SUMMARY_FILE);
        let line = format!("axe {name}: {counts}\n");
        if let Err(e) = std::fs::OpenOptions::new().create(true).append(true).open(&summary).and_then(|mut f| {
            use std::io::Write as _;
            f.write_all(line.as_bytes())
        }) {
            eprintln!("could not note the axe counts in {}: {e}", summary.display());
        }
        for v in &found {
            println!("  {v}");
        }
        let blocking: Vec<String> = found.iter().filter(|v| v.blocks()).map(ToString::to_string).collect();
        let report_only = std::env::var("DOORSTEP_AXE").is_ok_and(|v| v == "report");
        assert!(report_only || blocking.is_empty(), "{name} fails WCAG 2.2 AA checks:\n{}", blocking.join("\n"));
    }

    pub async fn unlock(&self, pin: &str) {
        self.wait("#unlock").await;
        for digit in pin.chars() {
            self.click(&format!("button.ds-key[aria-label='{digit}']")).await;
        }
        self.click("#unlock").await;
    }
}
