//! `hallpass-server`: with no configuration, the dev instance on 127.0.0.1:8787 with its SQLite file
//! under `.hallpass/`. See `hallpass-server --help` for every flag and `HALLPASS_*` variable.

use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use hallpass_server::{AppState, Config, run};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .init();
    let config = Config::parse();
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
    // The secret key is printed on purpose: this is how a developer gets it for their backend.
    println!("  Secret key:      {}", state.secret_key.expose());
    if state.config.demo_dir.is_some() {
        println!("  Demo app:        {}/demo/", state.public_url());
    }
    if let Some(path) = ready_file {
        write_atomically(&path, &serde_json::to_vec_pretty(&info)?)?;
    }
    run(listener, state, shutdown_signal()).await?;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// Writes to `path.tmp` then renames, so a reader never sees a partial file.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
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
