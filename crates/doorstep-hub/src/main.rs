//! `doorstep-hub`: run the hub, and the operator's commands (organisations, web users,
//! devices, sync health, the audit log). Thin: the work is in `doorstep_hub::admin`, the
//! settings in `doorstep_hub::config`. docs/hub.md is the operator's guide.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::builder::BoolishValueParser;
use clap::{Parser, Subcommand};
use doorstep_hub::admin::{self, Report};
use doorstep_hub::audit;
use doorstep_hub::config::{self, Layer, Settings};
use doorstep_hub::conn_limits::ConnectionLimits;
use doorstep_hub::server::{
    AsyncStorageFn, Database, TlsConfig, Transport, fingerprint, read_certificates, serve_hub, shutdown_signal,
    with_storage,
};
use doorstep_hub::service::Hub;
use doorstep_hub::storage::{HubStorage, WebRole};
use doorstep_protocol::Role;
use uuid::Uuid;

#[derive(Parser)]
#[command(name = "doorstep-hub", version, about = "The Doorstep hub: devices sync here; partners see what is shared.")]
struct Cli {
    /// A TOML configuration file (docs/hub.md lists its keys). Flags and environment variables
    /// override what it says.
    #[arg(long, env = "DOORSTEP_CONFIG", global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// An SQLite file, or a postgres:// URL [default: doorstep-hub.db].
    #[arg(long, env = "DOORSTEP_DATABASE", global = true)]
    database: Option<String>,
    /// Log lines as JSON (for log collectors) instead of text.
    #[arg(long, env = "DOORSTEP_LOG_JSON", global = true, num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = BoolishValueParser::new())]
    log_json: Option<bool>,
    /// Print what an operator command reports as JSON, for scripts.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and the partner pages until SIGTERM or Ctrl-C.
    ///
    /// The hub will not start on plain HTTP by accident. Give it one of:
    ///   --tls-cert FILE --tls-key FILE   HTTPS served by the hub (PEM files);
    ///   --behind-tls-proxy               plain HTTP from a TLS-terminating proxy in front;
    ///   --insecure-http-for-development  plain HTTP on a developer's machine or in tests.
    /// (or the keys tls_cert and tls_key, behind_tls_proxy or insecure_http_for_development in
    /// the configuration file). Without one of them it exits with an error before listening.
    ///
    /// The first line on standard output is "listening on https://ADDRESS" (or http://); with
    /// TLS the second is the certificate's SHA-256 fingerprint, for managers to give to devices.
    #[command(verbatim_doc_comment)]
    Serve {
        /// The address and port to listen on [default: 127.0.0.1:8470].
        #[arg(long, env = "DOORSTEP_LISTEN")]
        listen: Option<String>,
        /// The hub's certificate chain, PEM, end-entity certificate first. Serves HTTPS.
        #[arg(long, env = "DOORSTEP_TLS_CERT", value_name = "FILE")]
        tls_cert: Option<PathBuf>,
        /// The certificate's private key, PEM (PKCS#8, PKCS#1 or SEC1).
        #[arg(long, env = "DOORSTEP_TLS_KEY", value_name = "FILE")]
        tls_key: Option<PathBuf>,
        /// A TLS-terminating proxy (nginx, Caddy, a load balancer) is in front and is the only
        /// way to reach this port: serve plain HTTP to it, mark cookies Secure, and take the
        /// client's address for rate limits from the right-most X-Forwarded-For entry.
        #[arg(long, env = "DOORSTEP_BEHIND_TLS_PROXY", num_args = 0..=1, require_equals = true,
              default_missing_value = "true", value_parser = BoolishValueParser::new())]
        behind_tls_proxy: Option<bool>,
        /// DEVELOPMENT ONLY: serve plain HTTP with nothing in front. Records and passwords cross
        /// the network readable. For the demo and tests on 127.0.0.1.
        #[arg(long, env = "DOORSTEP_INSECURE_HTTP_FOR_DEVELOPMENT", num_args = 0..=1, require_equals = true,
              default_missing_value = "true", value_parser = BoolishValueParser::new())]
        insecure_http_for_development: Option<bool>,
        /// The SMTP server that carries partners' "something arrived" e-mails, e.g.
        /// smtp://127.0.0.1:25 (a local relay), smtp://relay:587?tls=required or
        /// smtps://user:password@relay:465. Leave out and partners are not e-mailed.
        #[arg(long, env = "DOORSTEP_SMTP_URL", value_name = "URL")]
        smtp_url: Option<String>,
        /// Who those e-mails come from, e.g. "Doorstep <doorstep@hub.example.nhs.uk>".
        #[arg(long, env = "DOORSTEP_MAIL_FROM")]
        mail_from: Option<String>,
        /// The hub's address as partners reach it, for the link in those e-mails.
        #[arg(long, env = "DOORSTEP_PUBLIC_URL", value_name = "URL")]
        public_url: Option<String>,
        /// Kept for older scripts: cookies are now Secure (and HSTS sent) whenever the hub is
        /// reached over HTTPS, that is with --tls-cert or --behind-tls-proxy.
        #[arg(long, env = "DOORSTEP_SECURE_COOKIES", hide = true)]
        secure_cookies: bool,
    },
    /// Print the SHA-256 fingerprint of the hub's certificate (the end-entity certificate, the
    /// first in the file), for a manager to type when setting up a device.
    CertFingerprint {
        #[arg(long, env = "DOORSTEP_TLS_CERT", value_name = "FILE")]
        tls_cert: Option<PathBuf>,
    },
    /// List every organisation: providers, then partners, with their devices and web users.
    ListOrganisations,
    /// Register a home-care provider and print an enrolment code for its first manager.
    CreateProvider {
        #[arg(long)]
        name: String,
        /// The first manager's staff reference.
        #[arg(long)]
        manager: String,
        /// Use this id (e.g. to recreate a known demo organisation).
        #[arg(long)]
        id: Option<Uuid>,
    },
    /// Register a partner organisation (a GP practice, community nursing team, ICB, council
    /// adult social care team, voluntary group…).
    CreatePartner {
        #[arg(long)]
        name: String,
        /// gp_practice, community_nursing, icb, council_adult_social_care, ot_equipment, housing,
        /// pharmacy, voluntary_sector or other.
        #[arg(long)]
        kind: String,
        #[arg(long)]
        id: Option<Uuid>,
    },
    /// Register a commissioner's organisation: an ICB or a council's adult social care team
    /// (a partner organisation). Then give its people accounts with
    /// `create-web-user --org ID --role commissioner`.
    CreateCommissioner {
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["icb", "council_adult_social_care"], default_value = "icb")]
        kind: String,
        #[arg(long)]
        id: Option<Uuid>,
    },
    /// Let a commissioner's organisation count a provider's people, all of them or only those in
    /// some postcode districts. Commissioners count nothing without an agreement.
    SetAgreement {
        #[arg(long)]
        commissioner: Uuid,
        #[arg(long)]
        provider: Uuid,
        /// Postcode districts, e.g. "LS6 LS7"; leave out for all the provider's people.
        #[arg(long, num_args = 0..)]
        districts: Vec<String>,
    },
    /// Set a partner organisation's entry in the partner directory: what it does, the postcode
    /// districts it covers, its hours, ODS code, phone and the team mailbox the hub e-mails when
    /// something is shared with it (no personal data goes in those e-mails). Replaces the entry.
    SetPartnerListing {
        #[arg(long)]
        org: Uuid,
        /// What it does besides its own kind, e.g. "ot_equipment council_adult_social_care".
        #[arg(long, num_args = 0..)]
        services: Vec<String>,
        /// Postcode districts it covers, e.g. "NB1 NB2"; leave out for any area.
        #[arg(long, num_args = 0..)]
        districts: Vec<String>,
        /// When the team answers, e.g. "Monday to Friday, 8am to 6pm".
        #[arg(long, default_value = "")]
        hours: String,
        /// Its NHS ODS code, e.g. B86001 (GP practices: how people are linked to their practice).
        #[arg(long, default_value = "")]
        ods: String,
        #[arg(long, default_value = "")]
        phone: String,
        /// The team mailbox told when something arrives.
        #[arg(long, default_value = "")]
        email: String,
    },
    /// Create a sign-in account for the partner pages. The password is read from the first
    /// line of standard input (so it never appears in the process list or shell history).
    CreateWebUser {
        #[arg(long)]
        org: Uuid,
        #[arg(long)]
        email: String,
        /// The person's name, as their answers are signed.
        #[arg(long)]
        name: String,
        /// partner (answers what is shared with their organisation), commissioner (anonymised
        /// counts; belongs to an ICB or council partner organisation) or manager (a provider's
        /// view of partner activity).
        #[arg(long, value_parser = ["partner", "commissioner", "manager"])]
        role: String,
    },
    /// List an organisation's sign-in accounts: active, locked (wrong passwords) or disabled.
    ListWebUsers {
        #[arg(long)]
        org: Uuid,
    },
    /// Stop an account signing in, at once (its sessions end). enable-web-user undoes it.
    DisableWebUser {
        #[arg(long)]
        email: String,
    },
    /// Let a disabled account sign in again.
    EnableWebUser {
        #[arg(long)]
        email: String,
    },
    /// Set a new password for an account (read from the first line of standard input); clears
    /// a lock-out and ends its sessions.
    ResetPassword {
        #[arg(long)]
        email: String,
    },
    /// Print a one-time enrolment code for a device of a provider's carer or manager.
    EnrolmentCode {
        #[arg(long)]
        org: Uuid,
        #[arg(long)]
        staff: String,
        #[arg(long, value_parser = ["carer", "manager"], default_value = "carer")]
        role: String,
    },
    /// List devices (of one organisation, or all) with their holder and last sync.
    ListDevices {
        #[arg(long)]
        org: Option<Uuid>,
    },
    /// Revoke a lost or stolen device, or one whose holder left: refused from now on, and it
    /// wipes its records when it next reaches the hub.
    RevokeDevice {
        #[arg(long)]
        id: Uuid,
    },
    /// Per device: last sync, holder, revoked, what its last sync held back; and how many
    /// devices synced in the last 24 hours and 7 days. Silent devices first.
    SyncHealth {
        #[arg(long)]
        org: Option<Uuid>,
    },
    /// Back up the database to a new FILE while the hub may be serving (SQLite: the online
    /// backup API, one consistent moment; PostgreSQL: pg_dump's custom format).
    Backup {
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Replace the database with a backup. Refuses while a hub uses the database; devices then
    /// send again whatever the backup lacks at their next sync.
    Restore {
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// PostgreSQL only: restore although other sessions are connected to the database.
        #[arg(long)]
        force: bool,
    },
    /// Copy this SQLite hub (stopped) into an empty PostgreSQL database: every table, with its
    /// sequence numbers, epoch and audit chain; then verify the chain and the row counts there.
    /// The SQLite file is left as it was.
    Migrate {
        /// The new database, postgres://user:password@host:5432/db (with ?sslmode=… as for
        /// --database). It must be empty; the hub's tables are created in it.
        /// (DOORSTEP_MIGRATE_TO keeps its password out of the process list.)
        #[arg(long, env = "DOORSTEP_MIGRATE_TO", value_name = "POSTGRES_URL", hide_env_values = true)]
        to: String,
    },
    /// The audit log: who read, wrote, answered and was refused what.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the audit log's hash chain: exits non-zero if an entry was altered or removed.
    /// Prints the newest entry as SEQ:HASH; keep it somewhere else and pass it back later as
    /// --anchor, since removing the newest entries cannot be told from the chain alone.
    Verify {
        /// An entry noted from an earlier verify (SEQ:HASH): fails unless it is still there,
        /// unchanged.
        #[arg(long)]
        anchor: Option<String>,
    },
}

/// What the command line and environment said (clap: a flag beats its variable), as a layer
/// over the configuration file.
fn given(cli: &Cli) -> Layer {
    let mut layer = Layer { database: cli.database.clone(), log_json: cli.log_json, ..Layer::default() };
    match &cli.command {
        Command::Serve {
            listen,
            tls_cert,
            tls_key,
            behind_tls_proxy,
            insecure_http_for_development,
            smtp_url,
            mail_from,
            public_url,
            ..
        } => {
            layer.smtp_url = smtp_url.clone();
            layer.mail_from = mail_from.clone();
            layer.public_url = public_url.clone();
            layer.listen = listen.clone();
            layer.tls_cert = tls_cert.clone();
            layer.tls_key = tls_key.clone();
            layer.behind_tls_proxy = *behind_tls_proxy;
            layer.insecure_http_for_development = *insecure_http_for_development;
        }
        Command::CertFingerprint { tls_cert } => layer.tls_cert = tls_cert.clone(),
        _ => {}
    }
    layer
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match config::resolve(given(&cli), cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let subscriber = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if settings.log_json {
        subscriber.json().init();
    } else {
        subscriber.init();
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let database = Database::parse(&settings.database);
    // What needs no database is done before one is opened (or created).
    let transport = match &cli.command {
        Command::Backup { to } => {
            let outcome = runtime.block_on(doorstep_hub::backup::backup(&database, to));
            return backup_outcome("backed up to", to, outcome);
        }
        Command::Restore { from, force } => {
            let outcome = runtime.block_on(doorstep_hub::backup::restore(&database, from, *force));
            return backup_outcome("restored from", from, outcome);
        }
        Command::Migrate { to } => return migrate(&database, to, &runtime),
        Command::CertFingerprint { .. } => {
            let Some(tls_cert) = &settings.tls_cert else {
                eprintln!("error: which certificate? Give --tls-cert FILE (or tls_cert in the configuration file)");
                return ExitCode::FAILURE;
            };
            return match read_certificates(tls_cert) {
                Ok(certs) => {
                    println!("{}", fingerprint(&certs[0]));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Command::Serve { .. } => match transport(&settings) {
            Ok(transport) => Some(transport),
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::FAILURE;
            }
        },
        _ => None,
    };
    let run = Run { command: cli.command, json: cli.json, settings, database: database.clone(), transport };
    let outcome = runtime
        .block_on(with_storage(&database, run))
        .map_err(|e| format!("cannot open {database:?}: {e}"))
        .and_then(|result| result);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Prints what a backup or restore did, or why it could not.
fn backup_outcome(
    done: &str,
    file: &Path,
    outcome: Result<doorstep_hub::backup::Summary, doorstep_hub::backup::BackupError>,
) -> ExitCode {
    match outcome {
        Ok(summary) => {
            println!("{done} {} (schema version {}, {} bytes)", file.display(), summary.schema_version, summary.bytes);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Copies the SQLite hub into PostgreSQL, a line per table, then a summary and what to do next.
fn migrate(database: &Database, to: &str, runtime: &tokio::runtime::Runtime) -> ExitCode {
    let Database::Sqlite(source) = database else {
        eprintln!("error: {}", doorstep_hub::migrate::MigrateError::SourceNotSqlite);
        return ExitCode::FAILURE;
    };
    if !doorstep_hub::migrate::is_postgres_url(to) {
        eprintln!("error: {}", doorstep_hub::migrate::MigrateError::NotPostgres);
        return ExitCode::FAILURE;
    }
    println!("copying {} into {:?}", source.display(), Database::parse(to));
    let mut progress = |table: &str, rows: u64| println!("  {table}: {rows} row(s)");
    let summary = match runtime.block_on(doorstep_hub::migrate::migrate(source, to, &mut progress)) {
        Ok(summary) => summary,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let head = match &summary.audit_head {
        Some((seq, hash)) => format!("newest entry {seq}:{}", audit::hex(hash)),
        None => "no entries yet".into(),
    };
    println!(
        "migrated {} row(s) in {} tables in {:.1}s; row counts match; hub sequence {} and epoch {} kept, so devices \
         sync on with their tokens and cursors",
        summary.rows,
        summary.tables.len(),
        summary.elapsed.as_secs_f64(),
        summary.sequence,
        summary.epoch
    );
    println!("audit log on PostgreSQL: {} entries, chain intact; {head}", summary.audit_entries);
    match &summary.code_key {
        Some(key) => println!(
            "enrolment-code key: copy {} to the file the PostgreSQL hub reads (DOORSTEP_CODE_KEY_FILE, or \
             doorstep-hub.code-key in its working directory: /var/lib/doorstep under systemd), mode 0600, owned by \
             the hub's user; without it, codes issued but not yet used stop working",
            key.display()
        ),
        None => println!("enrolment-code key: none beside the SQLite database; the PostgreSQL hub makes its own"),
    }
    println!(
        "next: set database to the PostgreSQL URL in the configuration and start the hub; keep {} (unchanged) \
         until you are satisfied",
        source.display()
    );
    ExitCode::SUCCESS
}

/// How `serve` protects its connections; refuses plain HTTP nobody asked for, and more than
/// one choice (they may come from flags, the environment and the file at once).
fn transport(s: &Settings) -> Result<Transport, String> {
    let tls = s.tls_cert.is_some() || s.tls_key.is_some();
    let chosen: Vec<&str> = [
        (tls, "--tls-cert/--tls-key"),
        (s.behind_tls_proxy, "--behind-tls-proxy"),
        (s.insecure_http_for_development, "--insecure-http-for-development"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    if chosen.len() > 1 {
        return Err(format!(
            "choose one way to serve, not {} (from flags, environment variables or the configuration file)",
            chosen.join(" and ")
        ));
    }
    match (&s.tls_cert, &s.tls_key) {
        (Some(cert), Some(key)) => TlsConfig::load(cert, key).map(Transport::Tls).map_err(|e| e.to_string()),
        (Some(_), None) => Err("--tls-cert needs --tls-key FILE too (tls_key in the configuration file)".into()),
        (None, Some(_)) => Err("--tls-key needs --tls-cert FILE too (tls_cert in the configuration file)".into()),
        _ if s.behind_tls_proxy => Ok(Transport::BehindTlsProxy),
        _ if s.insecure_http_for_development => Ok(Transport::PlainHttpForDevelopment),
        _ => Err("the hub will not serve plain HTTP: carers' records and partners' passwords would cross the \
                  network readable. Start it with --tls-cert FILE --tls-key FILE (HTTPS), or --behind-tls-proxy \
                  if a TLS-terminating proxy is in front, or --insecure-http-for-development on a developer's \
                  machine (or set tls_cert and tls_key, behind_tls_proxy or insecure_http_for_development in \
                  the configuration file)."
            .into()),
    }
}

/// The first line of standard input: passwords never go on the command line.
fn read_password() -> Result<String, String> {
    let mut password = String::new();
    std::io::stdin().read_line(&mut password).map_err(|e| format!("cannot read the password: {e}"))?;
    Ok(password.trim_end_matches(['\r', '\n']).to_string())
}

struct Run {
    command: Command,
    json: bool,
    settings: Settings,
    database: Database,
    transport: Option<Transport>,
}

impl Run {
    fn print<R: Report>(&self, report: Result<R, admin::AdminError>) -> Result<(), String> {
        let report = report.map_err(|e| e.to_string())?;
        if self.json {
            println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?);
        } else {
            println!("{}", report.text());
        }
        Ok(())
    }
}

impl AsyncStorageFn<Result<(), String>> for Run {
    async fn call<S: HubStorage + Clone>(self, storage: S) -> Result<(), String> {
        let s = &storage;
        let me = &admin::operator();
        match &self.command {
            Command::Serve { .. } => self.serve(storage).await,
            Command::CertFingerprint { .. }
            | Command::Backup { .. }
            | Command::Restore { .. }
            | Command::Migrate { .. } => Ok(()),
            Command::ListOrganisations => self.print(admin::list_organisations(s).await),
            Command::CreateProvider { name, manager, id } => {
                self.print(admin::create_provider(s, me, name, manager, *id).await)
            }
            Command::CreatePartner { name, kind, id } => {
                let kind = admin::partner_kind(kind).map_err(|e| e.to_string())?;
                self.print(admin::create_partner(s, me, name, kind, *id).await)
            }
            Command::CreateCommissioner { name, kind, id } => {
                let kind = admin::partner_kind(kind).map_err(|e| e.to_string())?;
                self.print(admin::create_commissioner(s, me, name, kind, *id).await)
            }
            Command::SetAgreement { commissioner, provider, districts } => {
                self.print(admin::set_agreement(s, me, *commissioner, *provider, districts).await)
            }
            Command::SetPartnerListing { org, services, districts, hours, ods, phone, email } => {
                let words = |v: &[String]| -> Vec<String> {
                    v.iter().flat_map(|s| s.split([',', ' '])).filter(|s| !s.is_empty()).map(str::to_string).collect()
                };
                let record = doorstep_hub::partner_directory::ListingRecord {
                    services: words(services),
                    districts: words(districts),
                    hours: hours.clone(),
                    ods_code: ods.clone(),
                    phone: phone.clone(),
                    team_email: email.clone(),
                };
                self.print(admin::set_partner_listing(s, me, *org, record).await)
            }
            Command::CreateWebUser { org, email, name, role } => {
                let role = WebRole::from_code(role).unwrap_or(WebRole::Partner);
                let password = read_password()?;
                self.print(admin::create_web_user(s, me, *org, email, name, role, &password).await)
            }
            Command::ListWebUsers { org } => self.print(admin::list_web_users(s, *org).await),
            Command::DisableWebUser { email } => self.print(admin::set_web_user_enabled(s, me, email, false).await),
            Command::EnableWebUser { email } => self.print(admin::set_web_user_enabled(s, me, email, true).await),
            Command::ResetPassword { email } => {
                let password = read_password()?;
                self.print(admin::reset_password(s, me, email, &password).await)
            }
            Command::EnrolmentCode { org, staff, role } => {
                let role = Role::from_code(role).unwrap_or(Role::Carer);
                self.print(admin::enrolment_code(s, me, *org, staff, role).await)
            }
            Command::ListDevices { org } => self.print(admin::list_devices(s, *org).await),
            Command::RevokeDevice { id } => self.print(admin::revoke_device(s, me, *id).await),
            Command::SyncHealth { org } => {
                self.print(admin::sync_health(s, *org, chrono::Utc::now().timestamp_millis()).await)
            }
            Command::Audit { command: AuditCommand::Verify { anchor } } => {
                let anchor = anchor.as_deref().map(audit::parse_anchor).transpose()?;
                let started = std::time::Instant::now();
                let report = audit::verify(s, anchor).await.map_err(|e| e.to_string())?;
                tracing::info!(entries = report.entries, elapsed = ?started.elapsed(), "verified the audit log");
                let head = match &report.head {
                    Some((seq, hash)) => format!("newest entry {seq}:{}", audit::hex(hash)),
                    None => "no entries yet".into(),
                };
                match report.first_broken {
                    None => {
                        println!("audit log: {} entries, chain intact; {head}", report.entries);
                        Ok(())
                    }
                    Some((seq, why)) => Err(format!(
                        "audit log: entry {seq} was altered or removed ({why}); {} entries",
                        report.entries
                    )),
                }
            }
        }
    }
}

impl Run {
    async fn serve<S: HubStorage + Clone>(self, storage: S) -> Result<(), String> {
        let listen = &self.settings.listen;
        let transport = self.transport.ok_or("no transport chosen")?;
        // Settings that cannot work are refused before the hub listens.
        let mail = self.settings.mail()?;
        let listener =
            tokio::net::TcpListener::bind(listen).await.map_err(|e| format!("cannot listen on {listen}: {e}"))?;
        let bound = listener.local_addr().map_err(|e| e.to_string())?;
        let scheme = transport.scheme();
        match &transport {
            Transport::Tls(tls) => {
                tracing::info!(address = %bound, database = ?self.database, certificate_sha256 = %tls.fingerprint, "doorstep hub listening (HTTPS)");
            }
            Transport::BehindTlsProxy => {
                if !bound.ip().is_loopback() {
                    tracing::warn!(address = %bound, "behind a TLS proxy but listening beyond this machine: make sure only the proxy can reach this port, or clients can choose the address the rate limits see");
                }
                tracing::info!(address = %bound, database = ?self.database, "doorstep hub listening (plain HTTP behind a TLS proxy)");
            }
            Transport::PlainHttpForDevelopment => {
                tracing::warn!(address = %bound, database = ?self.database, "doorstep hub listening on PLAIN HTTP for development: nothing sent to it is encrypted");
            }
        }
        // Plain lines on stdout, for scripts and tests that asked for port 0, and for the
        // operator to hand the fingerprint to managers.
        println!("listening on {scheme}://{bound}");
        if let Transport::Tls(tls) = &transport {
            println!("certificate SHA-256 fingerprint: {}", tls.fingerprint);
        }
        let mut hub = Hub::new(storage);
        match mail {
            Some(mail) => {
                tracing::info!(?mail, "partners' teams are e-mailed when something is shared with them");
                hub = hub.with_mail(mail);
            }
            None => tracing::info!("no smtp_url: partners are not e-mailed when something is shared with them"),
        }
        serve_hub(hub, listener, transport, ConnectionLimits::default(), shutdown_signal())
            .await
            .map_err(|e| e.to_string())
    }
}
