//! `kefu`: serve (default), `kefu migrate`, `kefu admin create-agent`, `kefu admin reset-password`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use kefu_gateway::config::LogFormat;
use kefu_gateway::{App, Config};
use kefu_normalizer::accounts::{Agents, NewAgent};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "kefu",
    version,
    about = "Kefu: self-hosted omnichannel customer-support gateway"
)]
struct Cli {
    /// Configuration file (default: ./kefu.toml when present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations and serve (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Administrative tasks.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Run several nodes on this machine behind a round-robin proxy on `listen`, on the
    /// configured PostgreSQL (`database_url`) and Redis (`redis_url`): the topology of
    /// compose.yaml without Docker.
    Cluster {
        /// How many nodes.
        #[arg(long, default_value_t = 3)]
        nodes: usize,
        /// The first node's port (the others follow); 0 picks free ports. Default: the port
        /// after `listen`'s.
        #[arg(long)]
        first_port: Option<u16>,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an agent.
    CreateAgent {
        /// Login email.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Password (at least 8 characters).
        #[arg(long)]
        password: String,
        /// admin, supervisor or agent.
        #[arg(long, default_value = "agent")]
        role: String,
    },
    /// Set a new password for an agent (e.g. a locked-out admin) and end their sessions.
    ResetPassword {
        /// The agent's login email.
        #[arg(long)]
        email: String,
        /// The new password (at least 8 characters); a random one is generated and printed
        /// when left out.
        #[arg(long)]
        password: Option<String>,
    },
}

/// jemalloc, with background purging: memory freed after a burst of load goes back to the
/// system within seconds, where glibc's per-thread arenas kept most of it.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let env = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
    let (config, warnings) = Config::load_from(cli.config.as_deref(), env)?;
    init_logs(config.log_format);
    for warning in warnings {
        tracing::warn!("{warning}");
    }
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Cluster { nodes, first_port } => {
            let stop = tokio_util::sync::CancellationToken::new();
            let stopper = stop.clone();
            tokio::spawn(async move {
                wait_for_signal().await;
                stopper.cancel();
            });
            let options = kefu_gateway::cluster::ClusterOptions {
                nodes,
                first_port: first_port.unwrap_or_else(|| config.listen.port().saturating_add(1)),
                config_file: cli.config.clone(),
            };
            kefu_gateway::cluster::run(&config, options, stop).await
        }
        Command::Migrate => {
            let db = kefu_normalizer::Db::connect(&config.database_url, 2).await?;
            db.migrate().await?;
            println!("Migrations applied.");
            Ok(())
        }
        Command::Admin {
            command:
                AdminCommand::CreateAgent {
                    email,
                    name,
                    password,
                    role,
                },
        } => {
            let db = kefu_normalizer::Db::connect(&config.database_url, 2).await?;
            db.migrate().await?;
            let req = NewAgent {
                email,
                name,
                password: Some(password),
                role: Some(role),
                max_concurrent: None,
                skills: None,
                team_ids: None,
            };
            let agents = Agents::new(db);
            let a = agents
                .create(req)
                .await
                .map_err(|e| anyhow::anyhow!(e.to_string()))?;
            println!("Created agent {} <{}> with role {}.", a.id, a.email, a.role);
            Ok(())
        }
        Command::Admin {
            command: AdminCommand::ResetPassword { email, password },
        } => {
            let db = kefu_normalizer::Db::connect(&config.database_url, 2).await?;
            db.migrate().await?;
            let given = password.is_some();
            let password = kefu_gateway::auth::reset_password(&db, &email, password)
                .await
                .map_err(|e| anyhow::anyhow!(e.detail))?;
            if given {
                println!("Password of {email} changed; their sessions have ended.");
            } else {
                println!("Password of {email} is now: {password}");
                println!("Their sessions have ended. This is shown only once.");
            }
            Ok(())
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let (app, generated) = App::build(config, Vec::new()).await?;
    let url = app.state().config.public_url();
    if let Some(admin) = generated {
        // Printed once, on the terminal only: the password is not stored anywhere in clear.
        println!(
            "\n  First start: created admin {} with password {}",
            admin.email, admin.password
        );
        println!("  Change it in the console. This is shown only once.\n");
    }
    println!("  Kefu demo page: {url}/   agent console: {url}/console/\n");
    let stop = app.shutdown_token();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("Shutdown requested; draining.");
        stop.cancel();
    });
    app.run_until_stopped().await.context("server failed")
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn init_logs(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
