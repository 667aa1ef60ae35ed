//! The real `doorstep-hub` binary started for a test: one way to spawn `serve`, read where it
//! listens and stop it, shared by the hub's integration tests.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStderr, ChildStdout, Command, Stdio};

/// The hub binary Cargo built for these tests.
pub const HUB: &str = env!("CARGO_BIN_EXE_doorstep-hub");

/// A running `doorstep-hub serve`, killed and reaped when dropped so a failing test leaves
/// no hub behind.
pub struct HubProcess {
    child: Child,
    /// From the hub's first stdout line, "listening on URL".
    pub url: String,
    /// With TLS, the certificate's fingerprint from the hub's second stdout line.
    pub fingerprint: Option<String>,
    /// Kept open so the hub never writes to a closed pipe.
    _stdout: BufReader<ChildStdout>,
}

impl HubProcess {
    /// `doorstep-hub --database DB serve --listen LISTEN FLAGS`, logging warnings only, its
    /// standard error discarded.
    pub fn serve(db: &Path, listen: &str, flags: &[&str]) -> HubProcess {
        HubProcess::serve_binary(HUB, db, listen, flags)
    }

    /// As [`HubProcess::serve`] with another build of the hub (an earlier one, for upgrades).
    pub fn serve_binary(binary: &str, db: &Path, listen: &str, flags: &[&str]) -> HubProcess {
        let mut command = Command::new(binary);
        command.arg("--database").arg(db).args(["serve", "--listen", listen]).args(flags);
        command.env("RUST_LOG", "warn").stderr(Stdio::null());
        HubProcess::start(&mut command)
    }

    /// Spawns `command` (a `serve` whose arguments, environment and standard error the caller
    /// chose) and waits for the line saying where it listens. If the hub exits instead, the
    /// test fails with what it wrote to standard error, when that was piped.
    pub fn start(command: &mut Command) -> HubProcess {
        let mut child = command.stdout(Stdio::piped()).spawn().expect("start the hub");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("the hub says where it listens");
        let Some(url) = line.trim().strip_prefix("listening on ").map(str::to_string) else {
            let _ = child.kill();
            let _ = child.wait();
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            panic!("the hub did not start: {line:?} {stderr}");
        };
        let fingerprint = url.starts_with("https://").then(|| {
            let mut line = String::new();
            stdout.read_line(&mut line).expect("fingerprint line");
            line.trim().strip_prefix("certificate SHA-256 fingerprint: ").expect("fingerprint line").to_string()
        });
        HubProcess { child, url, fingerprint, _stdout: stdout }
    }

    /// The address it listens on, without the scheme ("127.0.0.1:PORT"), to start another
    /// hub on the same one.
    pub fn address(&self) -> String {
        self.url.split("://").nth(1).expect("address").to_string()
    }

    /// SIGTERM, as systemd stops it: the hub finishes what is in flight and closes the
    /// database; then reaped.
    pub fn stop(mut self) {
        let status = Command::new("kill").arg(self.child.id().to_string()).status().expect("run kill");
        assert!(status.success(), "kill the hub: {status}");
        self.child.wait().expect("reap the hub");
    }

    /// SIGKILL, then reaped; returns its standard error, if that was piped, to read what it
    /// logged.
    pub fn kill(mut self) -> Option<ChildStderr> {
        self.child.kill().expect("kill the hub");
        self.child.wait().expect("reap the hub");
        self.child.stderr.take()
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
