//! `hallpass-server`: with no configuration, the dev instance on 127.0.0.1:8787 with its SQLite file
//! under `.hallpass/`. See `hallpass-server --help` for every flag and `HALLPASS_*` variable.
//! `hallpass-server keys rotate|list` manages the signing keys of the configured database (see
//! `hallpass_server::key_rotation`).

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hallpass_server::at_rest::{Sealer, write_private_atomically};
use hallpass_server::auth_settings::Delivery;
use hallpass_server::clock::{Clock, SystemClock};
use hallpass_server::key_rotation::{self, DEFAULT_DELAY_SECS};
use hallpass_server::state::SecretKeySource;
use hallpass_server::store::Store;
use hallpass_server::{AppState, Config, run};
use tracing_subscriber::EnvFilter;

/// The server (no subcommand) or one of its commands.
#[derive(Parser)]
#[command(name = "hallpass-server", version, about = "Self-hosted Hallpass auth server")]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// The signing keys of the configured database (`--database-url`), while the servers on it run.
    #[command(subcommand)]
    Keys(Keys),
}

#[derive(Subcommand)]
enum Keys {
    /// Add a new signing key: published by every server at once, signing after the delay; the key it
    /// replaces is retired once no token it signed can still be valid.
    Rotate {
        /// Seconds between publishing the new key and its first signature (at least 10).
        #[arg(long, default_value_t = DEFAULT_DELAY_SECS)]
        delay_secs: u64,
    },
    /// Every signing key and its state: waiting, signing, replaced (until when), retired.
    List,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = cli.config;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    if config.log_format == "json" {
        tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let done = match cli.command {
        None => serve(config).await,
        Some(Command::Keys(command)) => keys(config, command).await,
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("hallpass-server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    // Every connection is a file descriptor: the soft limit (often 1024) would cap the server long
    // before its own connection cap does.
    if let Some(limit) = hallpass_server::serve::raise_file_limit() {
        tracing::info!(open_files_limit = limit, "file limit");
    }
    let ready_file = config.ready_file.clone();
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    let state = AppState::new(config).await?;
    state.set_bound_addr(addr);

    let info = serde_json::json!({
        "address": addr.to_string(),
        "frontend_api": state.public_url(),
        "publishable_key": state.publishable_key(),
        "secret_key": state.secret_key.expose(),
    });
    println!("hallpass-server listening on http://{addr}");
    println!("  Frontend API:    {}", state.public_url());
    println!("  JWKS:            {}/.well-known/jwks.json", state.public_url());
    println!("  Publishable key: {}", state.publishable_key());
    // The secret key is printed once, when it is generated: that is how a developer gets it for
    // their backend. After that it stays out of terminals and log collectors.
    let key = state.secret_key.expose();
    match state.secret_key_source {
        SecretKeySource::Generated => {
            println!("  Secret key:      {key}  (new: copy it now, it is not printed again)")
        }
        SecretKeySource::Stored => println!(
            "  Secret key:      {}…{}  (stored in the database; see server/README.md, \"Secrets at rest\")",
            &key[..key.len().min(8)],
            &key[key.len().saturating_sub(4)..]
        ),
        SecretKeySource::Config => println!("  Secret key:      from HALLPASS_SECRET_KEY"),
    }
    let mailbox = format!("GET {}/v1/emails", state.public_url());
    match (state.settings.flags().delivery, &state.mailer) {
        (Delivery::Smtp, Some(mailer)) => {
            let roots = match mailer.extra_roots {
                0 => String::new(),
                n => format!("; trusting {n} CA certificate(s) from HALLPASS_SMTP_CA_FILE too"),
            };
            println!("  Email:           sent through {} ({}{roots})", mailer.server, mailer.security)
        }
        (Delivery::App, _) => {
            println!("  Email:           left to the app (the email.created webhook event)")
        }
        (Delivery::Development, Some(_)) => {
            println!(
                "  Email:           kept in the development mailbox (HALLPASS_EMAIL_DELIVERY=development), {mailbox}"
            )
        }
        (Delivery::Smtp | Delivery::Development, None) => {
            println!(
                "  Email:           no mail server (HALLPASS_SMTP_URL): kept in the development mailbox, {mailbox}"
            );
            tracing::warn!("no mail server configured: emails are kept in the development mailbox, not sent");
        }
    }
    if state.config.demo_dir.is_some() {
        println!("  Demo app:        {}/demo/", state.public_url());
    }
    if let Some(path) = ready_file {
        // It holds the secret key: readable by this user only.
        write_private_atomically(&path, &serde_json::to_vec_pretty(&info)?)?;
    }
    run(listener, state, shutdown_signal()).await?;
    tracing::info!("shut down cleanly");
    Ok(())
}

async fn keys(config: Config, command: Keys) -> Result<(), Box<dyn std::error::Error>> {
    let store = Store::open(&config.database_url, 2).await?;
    let now = SystemClock.now_ms();
    match command {
        Keys::Rotate { delay_secs } => {
            let sealer = config.key_encryption_key.as_ref().map(|k| Sealer::new(k.expose())).transpose()?;
            let rotation = key_rotation::rotate(&store, sealer.as_ref(), now, delay_secs).await?;
            print!("{}", key_rotation::describe_rotation(&rotation, now));
        }
        Keys::List => print!("{}", key_rotation::describe_keys(&store.signing_key_history().await?, now)),
    }
    store.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT: shutting down"),
        () = terminate => tracing::info!("SIGTERM: shutting down"),
    }
}
