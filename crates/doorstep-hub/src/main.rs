//! `doorstep-hub`: run the hub, and the few operator commands that set one up.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use doorstep_hub::api::issue_enrolment_code;
use doorstep_hub::server::{
    AsyncStorageFn, Database, TlsConfig, Transport, fingerprint, read_certificates, serve_on, shutdown_signal,
    with_storage,
};
use doorstep_hub::storage::{HubStorage, OrgKind, Organisation, WebRole};
use doorstep_hub::{Hub, audit};
use doorstep_model::PartnerKind;
use doorstep_protocol::Role;
use uuid::Uuid;

#[derive(Parser)]
#[command(name = "doorstep-hub", version, about = "The Doorstep hub: devices sync here; partners see what is shared.")]
struct Cli {
    /// An SQLite file, or a postgres:// URL.
    #[arg(long, env = "DOORSTEP_DATABASE", default_value = "doorstep-hub.db", global = true)]
    database: String,
    /// Log lines as JSON (for log collectors) instead of text.
    #[arg(long, env = "DOORSTEP_LOG_JSON", global = true)]
    log_json: bool,
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
    /// Without one of them it exits with an error before listening.
    ///
    /// The first line on standard output is "listening on https://ADDRESS" (or http://); with
    /// TLS the second is the certificate's SHA-256 fingerprint, for managers to give to devices.
    #[command(verbatim_doc_comment)]
    Serve {
        #[arg(long, env = "DOORSTEP_LISTEN", default_value = "127.0.0.1:8470")]
        listen: String,
        /// The hub's certificate chain, PEM, end-entity certificate first. Serves HTTPS.
        #[arg(long, env = "DOORSTEP_TLS_CERT", requires = "tls_key", value_name = "FILE")]
        tls_cert: Option<PathBuf>,
        /// The certificate's private key, PEM (PKCS#8, PKCS#1 or SEC1).
        #[arg(long, env = "DOORSTEP_TLS_KEY", requires = "tls_cert", value_name = "FILE")]
        tls_key: Option<PathBuf>,
        /// A TLS-terminating proxy (nginx, Caddy, a load balancer) is in front and is the only
        /// way to reach this port: serve plain HTTP to it, mark cookies Secure, and take the
        /// client's address for rate limits from the right-most X-Forwarded-For entry.
        #[arg(long, env = "DOORSTEP_BEHIND_TLS_PROXY", conflicts_with_all = ["tls_cert", "insecure_http_for_development"])]
        behind_tls_proxy: bool,
        /// DEVELOPMENT ONLY: serve plain HTTP with nothing in front. Records and passwords cross
        /// the network readable. For the demo and tests on 127.0.0.1.
        #[arg(long, env = "DOORSTEP_INSECURE_HTTP_FOR_DEVELOPMENT", conflicts_with = "tls_cert")]
        insecure_http_for_development: bool,
        /// Kept for older scripts: cookies are now Secure (and HSTS sent) whenever the hub is
        /// reached over HTTPS, that is with --tls-cert or --behind-tls-proxy.
        #[arg(long, env = "DOORSTEP_SECURE_COOKIES", hide = true)]
        secure_cookies: bool,
    },
    /// Print the SHA-256 fingerprint of the hub's certificate (the end-entity certificate, the
    /// first in the file), for a manager to type when setting up a device.
    CertFingerprint {
        #[arg(long, env = "DOORSTEP_TLS_CERT", value_name = "FILE")]
        tls_cert: PathBuf,
    },
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
    /// Print a one-time enrolment code for a device of a provider's carer or manager.
    EnrolmentCode {
        #[arg(long)]
        org: Uuid,
        #[arg(long)]
        staff: String,
        #[arg(long, value_parser = ["carer", "manager"], default_value = "carer")]
        role: String,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let subscriber = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if cli.log_json {
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
    // What needs no database is done before one is opened (or created).
    let transport = match &cli.command {
        Command::CertFingerprint { tls_cert } => {
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
        Command::Serve { tls_cert, tls_key, behind_tls_proxy, insecure_http_for_development, .. } => {
            match transport(tls_cert.as_deref(), tls_key.as_deref(), *behind_tls_proxy, *insecure_http_for_development)
            {
                Ok(transport) => Some(transport),
                Err(message) => {
                    eprintln!("error: {message}");
                    return ExitCode::FAILURE;
                }
            }
        }
        _ => None,
    };
    let database = Database::parse(&cli.database);
    let outcome = runtime
        .block_on(with_storage(&database, Run { command: cli.command, database: database.clone(), transport }))
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

/// How `serve` protects its connections; refuses plain HTTP nobody asked for.
fn transport(
    cert: Option<&Path>,
    key: Option<&Path>,
    behind_tls_proxy: bool,
    insecure_http_for_development: bool,
) -> Result<Transport, String> {
    match (cert, key) {
        (Some(cert), Some(key)) => TlsConfig::load(cert, key).map(Transport::Tls).map_err(|e| e.to_string()),
        _ if behind_tls_proxy => Ok(Transport::BehindTlsProxy),
        _ if insecure_http_for_development => Ok(Transport::PlainHttpForDevelopment),
        _ => Err("the hub will not serve plain HTTP: carers' records and partners' passwords would cross the \
                  network readable. Start it with --tls-cert FILE --tls-key FILE (HTTPS), or --behind-tls-proxy \
                  if a TLS-terminating proxy is in front, or --insecure-http-for-development on a developer's \
                  machine."
            .into()),
    }
}

struct Run {
    command: Command,
    database: Database,
    transport: Option<Transport>,
}

impl AsyncStorageFn<Result<(), String>> for Run {
    async fn call<S: HubStorage + Clone>(self, storage: S) -> Result<(), String> {
        match self.command {
            Command::Serve { listen, .. } => {
                let transport = self.transport.ok_or("no transport chosen")?;
                let listener = tokio::net::TcpListener::bind(&listen)
                    .await
                    .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
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
                serve_on(storage, listener, transport, shutdown_signal()).await.map_err(|e| e.to_string())
            }
            Command::CertFingerprint { .. } => Ok(()),
            Command::CreateProvider { name, manager, id } => {
                let org = Organisation {
                    id: id.unwrap_or_else(Uuid::new_v4),
                    name: name.clone(),
                    kind: OrgKind::Provider,
                    partner_kind: None,
                };
                storage.create_organisation(org.clone()).await.map_err(|e| e.to_string())?;
                let code = issue_enrolment_code(&storage, org.id, &manager, Role::Manager, "operator")
                    .await
                    .map_err(|e| format!("{e:?}"))?;
                println!("provider {} ({})", org.name, org.id);
                println!("manager enrolment code for {manager}: {} (expires {})", code.code, code.expires_at);
                Ok(())
            }
            Command::CreatePartner { name, kind, id } => {
                let partner_kind = PartnerKind::from_code(&kind).ok_or_else(|| {
                    let known: Vec<&str> = PartnerKind::ALL.iter().map(|k| k.code()).collect();
                    format!("unknown partner kind {kind:?}: use one of {}", known.join(", "))
                })?;
                let org = Organisation {
                    id: id.unwrap_or_else(Uuid::new_v4),
                    name,
                    kind: OrgKind::Partner,
                    partner_kind: Some(partner_kind),
                };
                storage.create_organisation(org.clone()).await.map_err(|e| e.to_string())?;
                println!("partner {} ({}, {})", org.name, partner_kind.label(), org.id);
                Ok(())
            }
            Command::CreateWebUser { org, email, name, role } => {
                let role = WebRole::from_code(&role).unwrap_or(WebRole::Partner);
                let mut password = String::new();
                std::io::stdin().read_line(&mut password).map_err(|e| format!("cannot read the password: {e}"))?;
                let password = password.trim_end_matches(['\r', '\n']);
                let hub = Hub::new(storage);
                let user = hub.create_web_user(org, &email, &name, role, password).await.map_err(|e| e.to_string())?;
                println!("{} account for {} ({})", user.role.code(), user.email, user.id);
                Ok(())
            }
            Command::Audit { command: AuditCommand::Verify { anchor } } => {
                let anchor = anchor.as_deref().map(audit::parse_anchor).transpose()?;
                let started = std::time::Instant::now();
                let report = audit::verify(&storage, anchor).await.map_err(|e| e.to_string())?;
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
            Command::EnrolmentCode { org, staff, role } => {
                let role = Role::from_code(&role).unwrap_or(Role::Carer);
                if storage.organisation(org).await.map_err(|e| e.to_string())?.is_none() {
                    return Err(format!("no organisation {org}"));
                }
                let code = issue_enrolment_code(&storage, org, &staff, role, "operator")
                    .await
                    .map_err(|e| format!("{e:?}"))?;
                println!("{} enrolment code for {staff}: {} (expires {})", role.code(), code.code, code.expires_at);
                Ok(())
            }
        }
    }
}
