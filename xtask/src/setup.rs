//! Set-up that a fresh Debian/Ubuntu machine with only rustup's Rust needs, and the test run.
//! Each step is skipped when what it installs is already there.

use std::process::Command;

use crate::Result;

/// A command without the variables `cargo run` gave xtask (`CARGO_PKG_NAME=xtask`,
/// `CARGO_MANIFEST_DIR`, …): build scripts such as ring's and openssl's re-run when those change,
/// so a cargo started from here would otherwise rebuild them — and everything above them —
/// against the same cargo command typed in a shell.
pub fn command(program: &str) -> Command {
    let mut command = Command::new(program);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let from_cargo_run = name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_MANIFEST_")
            || ["CARGO_CRATE_NAME", "CARGO_BIN_NAME", "CARGO_PRIMARY_PACKAGE", "CARGO_TARGET_TMPDIR"]
                .contains(&name.as_ref());
        if from_cargo_run {
            command.env_remove(name.as_ref());
        }
    }
    command
}

/// Runs a command, echoing it, failing with its name if it fails.
pub fn sh(program: &str, args: &[&str]) -> Result {
    sh_env(program, args, &[])
}

/// Like [`sh`], with extra environment variables for the command (echoed too).
pub fn sh_env(program: &str, args: &[&str], env: &[(&str, &str)]) -> Result {
    let shown: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
    eprintln!("$ {}{program} {}", shown.concat(), args.join(" "));
    let status = command(program)
        .args(args)
        .envs(env.iter().copied())
        .status()
        .map_err(|e| format!("could not start {program}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`{program} {}` failed ({status})", args.join(" "))) }
}

pub(crate) fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = command(program).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The browser target the shared model (and later the UI) is built for.
pub fn ensure_wasm_target() -> Result {
    let installed = output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if installed.lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        return Ok(());
    }
    sh("rustup", &["target", "add", "wasm32-unknown-unknown"])
}

pub fn ensure_components() -> Result {
    let installed = output("rustup", &["component", "list", "--installed"]).unwrap_or_default();
    for component in ["clippy", "rustfmt"] {
        if !installed.lines().any(|l| l.starts_with(component)) {
            sh("rustup", &["component", "add", component])?;
        }
    }
    Ok(())
}

/// Where the hub's storage tests find PostgreSQL (a URL whose role may create databases).
pub const TEST_POSTGRES_ENV: &str = "DOORSTEP_TEST_POSTGRES";
const TEST_ROLE: &str = "doorstep";
const TEST_DATABASE: &str = "doorstep_test";

/// A PostgreSQL server for the hub's storage tests, and its URL: uses `DOORSTEP_TEST_POSTGRES`
/// if set; otherwise installs PostgreSQL (apt-get), creates and starts a cluster, and creates
/// the `doorstep` role (login, createdb) and `doorstep_test` database, skipping what is done.
/// Needs root, or sudo, for the steps not yet done.
pub fn ensure_postgres() -> Result<String> {
    if let Ok(url) = std::env::var(TEST_POSTGRES_ENV)
        && !url.trim().is_empty()
    {
        eprintln!("PostgreSQL: using {TEST_POSTGRES_ENV} from the environment");
        return Ok(url);
    }
    if !postgres_installed() {
        if !has_command("apt-get") {
            return Err(format!(
                "PostgreSQL is not installed and there is no apt-get to install it: install PostgreSQL and set \
                 {TEST_POSTGRES_ENV}=postgres://user:password@host:port/database (a role that may create databases)"
            ));
        }
        crate::app::apt_install(&["postgresql"])?;
    }
    let version = match postgres_versions("/etc/postgresql", "main").last() {
        Some(version) => version.clone(),
        None => {
            // Installed without a cluster (postgresql-common can be told not to create one).
            let version = postgres_versions("/usr/lib/postgresql", "bin/postgres")
                .pop()
                .ok_or("PostgreSQL was installed but no server is in /usr/lib/postgresql")?;
            as_root("pg_createcluster", &[&version, "main"], &[])?;
            version
        }
    };
    let port = match cluster_status(&version) {
        Some((port, online)) if online => port,
        _ => {
            as_root("pg_ctlcluster", &[&version, "main", "start"], &[])?;
            match cluster_status(&version) {
                Some((port, true)) => port,
                _ => return Err(format!("PostgreSQL {version}/main did not start: see /var/log/postgresql/")),
            }
        }
    };
    ensure_postgres_ssl(&port)?;
    let role = psql_as_postgres(
        &port,
        &format!("SELECT rolcanlogin AND rolcreatedb FROM pg_roles WHERE rolname = '{TEST_ROLE}'"),
    )?;
    let password = format!("LOGIN CREATEDB PASSWORD '{TEST_ROLE}'");
    match role.trim() {
        "" => drop(psql_as_postgres(&port, &format!("CREATE ROLE {TEST_ROLE} {password}"))?),
        "t" => {}
        _ => drop(psql_as_postgres(&port, &format!("ALTER ROLE {TEST_ROLE} {password}"))?),
    }
    let database = psql_as_postgres(&port, &format!("SELECT 1 FROM pg_database WHERE datname = '{TEST_DATABASE}'"))?;
    if database.trim().is_empty() {
        psql_as_postgres(&port, &format!("CREATE DATABASE {TEST_DATABASE} OWNER {TEST_ROLE}"))?;
    }
    let url = format!("postgres://{TEST_ROLE}:{TEST_ROLE}@127.0.0.1:{port}/{TEST_DATABASE}");
    // The tests connect over TCP with the password: check that works, not just the socket.
    sh("psql", &[&url, "-X", "-q", "-o", "/dev/null", "-c", "SELECT 1"])
        .map_err(|e| format!("PostgreSQL is running but {url} does not accept connections: {e}"))?;
    Ok(url)
}

/// The hub's TLS tests (`pg_tls.rs`) need `ssl = on`. Debian's clusters have it with the
/// snakeoil certificate (postgresql-common depends on ssl-cert); a cluster without it is given
/// that certificate and reloaded. Nothing is changed when ssl is already on.
fn ensure_postgres_ssl(port: &str) -> Result {
    if psql_as_postgres(port, "SHOW ssl")?.trim() == "on" {
        return Ok(());
    }
    const CERT: &str = "/etc/ssl/certs/ssl-cert-snakeoil.pem";
    const KEY: &str = "/etc/ssl/private/ssl-cert-snakeoil.key";
    if !std::path::Path::new(CERT).exists() {
        crate::app::apt_install(&["ssl-cert"])?;
        as_root("make-ssl-cert", &["generate-default-snakeoil"], &[])?;
    }
    eprintln!("PostgreSQL: turning ssl on with the snakeoil certificate (ALTER SYSTEM, reload)");
    for sql in [
        format!("ALTER SYSTEM SET ssl_cert_file = '{CERT}'"),
        format!("ALTER SYSTEM SET ssl_key_file = '{KEY}'"),
        "ALTER SYSTEM SET ssl = on".to_string(),
        "SELECT pg_reload_conf()".to_string(),
    ] {
        psql_as_postgres(port, &sql)?;
    }
    // The reload is asynchronous; a key the server cannot read leaves ssl off (see its log).
    for _ in 0..20 {
        if psql_as_postgres(port, "SHOW ssl")?.trim() == "on" {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    Err(format!(
        "PostgreSQL's ssl is still off after setting {CERT} and {KEY}: the postgres user must be able to read the key \
         (Debian: adduser postgres ssl-cert); see /var/log/postgresql/"
    ))
}

/// Whether [`ensure_postgres`] will install PostgreSQL: none is installed (Debian's layout) and
/// the tests are not given a server elsewhere.
pub fn postgres_needs_install() -> bool {
    std::env::var(TEST_POSTGRES_ENV).unwrap_or_default().trim().is_empty() && !postgres_installed()
}

fn postgres_installed() -> bool {
    has_command("pg_ctlcluster") && !postgres_versions("/usr/lib/postgresql", "bin/postgres").is_empty()
}

pub(crate) fn has_command(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// PostgreSQL major versions (sorted, numerically) with `<dir>/<version>/<inside>` present.
fn postgres_versions(dir: &str, inside: &str) -> Vec<String> {
    let mut versions: Vec<(u32, String)> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.path().join(inside).exists())
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.parse::<u32>().ok().map(|n| (n, name))
                })
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions.into_iter().map(|(_, name)| name).collect()
}

/// The `main` cluster's port and whether it is running, from `pg_lsclusters`.
fn cluster_status(version: &str) -> Option<(String, bool)> {
    let listing = output("pg_lsclusters", &["-h"])?;
    listing.lines().find_map(|line| match line.split_whitespace().collect::<Vec<_>>().as_slice() {
        [v, "main", port, status, ..] if *v == version => Some((port.to_string(), status.starts_with("online"))),
        _ => None,
    })
}

pub fn is_root() -> bool {
    output("id", &["-u"]).is_some_and(|uid| uid.trim() == "0")
}

/// Runs a command as root: directly when root (as in CI), through sudo otherwise.
pub(crate) fn as_root(program: &str, args: &[&str], env: &[(&str, &str)]) -> Result {
    let assignments: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if is_root() {
        sh_env(program, args, env)
    } else {
        let mut sudo_args: Vec<&str> = assignments.iter().map(String::as_str).collect();
        sudo_args.push(program);
        sudo_args.extend_from_slice(args);
        sh("sudo", &sudo_args)
    }
}

/// Runs one SQL statement as the `postgres` superuser over the local socket; its output.
fn psql_as_postgres(port: &str, sql: &str) -> Result<String> {
    let psql = ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-p", port, "-c", sql];
    let (program, args): (&str, Vec<&str>) = if is_root() {
        ("runuser", ["-u", "postgres", "--"].into_iter().chain(psql).collect())
    } else {
        ("sudo", ["-u", "postgres"].into_iter().chain(psql).collect())
    };
    eprintln!("$ {program} {}", args.join(" "));
    let out = command(program)
        .args(&args)
        .current_dir("/") // the postgres user may not be able to read the working directory
        .output()
        .map_err(|e| format!("could not start {program}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("`{sql}` failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr).trim()))
    }
}
