//! `doorstep-hub`: run the hub, and the few operator commands that set one up.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use doorstep_hub::api::issue_enrolment_code;
use doorstep_hub::server::{AsyncStorageFn, Database, serve_on, shutdown_signal, with_storage};
use doorstep_hub::storage::{HubStorage, OrgKind, Organisation, WebRole};
use doorstep_hub::web::WebOptions;
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
    /// Serve the API until SIGTERM or Ctrl-C.
    Serve {
        #[arg(long, env = "DOORSTEP_LISTEN", default_value = "127.0.0.1:8470")]
        listen: String,
        /// Mark the partner pages' cookies Secure: set this when people reach the hub over
        /// HTTPS (directly or through a TLS proxy).
        #[arg(long, env = "DOORSTEP_SECURE_COOKIES")]
        secure_cookies: bool,
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
    let database = Database::parse(&cli.database);
    let outcome = runtime
        .block_on(with_storage(&database, Run { command: cli.command, database: database.clone() }))
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

struct Run {
    command: Command,
    database: Database,
}

impl AsyncStorageFn<Result<(), String>> for Run {
    async fn call<S: HubStorage + Clone>(self, storage: S) -> Result<(), String> {
        match self.command {
            Command::Serve { listen, secure_cookies } => {
                let listener = tokio::net::TcpListener::bind(&listen)
                    .await
                    .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
                let bound = listener.local_addr().map_err(|e| e.to_string())?;
                tracing::info!(address = %bound, database = ?self.database, "doorstep hub listening");
                // One plain line on stdout, for scripts and tests that asked for port 0.
                println!("listening on http://{bound}");
                let web = WebOptions { secure_cookies };
                serve_on(storage, listener, web, shutdown_signal()).await.map_err(|e| e.to_string())
            }
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
