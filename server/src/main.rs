//! `hallpass-server`: with no configuration, the dev instance on 127.0.0.1:8787 with its SQLite file
//! under `.hallpass/`. See `hallpass-server --help` for every flag and `HALLPASS_*` variable.

use std::process::ExitCode;

use clap::Parser;
use hallpass_server::at_rest::write_private_atomically;
use hallpass_server::state::SecretKeySource;
use hallpass_server::{AppState, Config, run};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
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
    match serve(config).await {
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
