//! `cargo xtask demo`: the demo app on one origin. Installs what is missing, builds the SDK and the
//! npm package (`cargo xtask build`), builds `hallpass-server` (profile `server`) and becomes it —
//! the server on its embedded SQLite file under `.hallpass/`, serving `www/` and the package under
//! `/demo/` beside the API, with webhooks allowed to loopback (the demo's backend receives them). It
//! prints the URL and opens nothing; Ctrl-C stops it cleanly (the server handles SIGINT with a
//! graceful shutdown, and no xtask process is left around it).
//!
//! `--postgres` runs it on PostgreSQL instead: a throwaway cluster (`temp-postgres`, as the tests use)
//! that lives exactly as long as the server. Other arguments go to the server, e.g.
//! `cargo xtask demo --addr 127.0.0.1:9000`, or `--database-url postgres://…` for a database of yours.

use crate::util::{Result, cmd, exec, root};

pub fn run(args: &[String]) -> Result {
    let postgres = args.iter().any(|a| a == "--postgres");
    let server_args = args.iter().filter(|a| *a != "--postgres");
    crate::build::run()?;
    println!("demo: building hallpass-server (profile `server`)");
    exec(
        cmd("cargo").args(["build", "--quiet", "--profile", "server", "-p", "hallpass-server"]),
        "cargo build --profile server -p hallpass-server",
    )?;
    let bin = root().join("target").join("server").join("hallpass-server");
    let mut server = cmd(bin.to_str().ok_or("the repository path is not UTF-8")?);
    server
        .arg("--demo-dir")
        .arg(root().join("www"))
        .arg("--demo-package-dir")
        .arg(crate::package::dir())
        // The demo's backend receives the webhooks on loopback.
        .arg("--webhooks-allow-private-networks")
        .args(server_args);
    println!();
    if postgres {
        let cluster = temp_postgres::Cluster::start()?;
        server.arg("--database-url").arg(cluster.url("postgres"));
        println!(
            "demo: starting hallpass-server on a temporary PostgreSQL cluster (127.0.0.1:{}, deleted when the \
             server stops) — open the \"Demo app\" URL",
            cluster.port()
        );
        cluster.outlive_exec()?;
    } else {
        println!(
            "demo: starting hallpass-server on its SQLite file in .hallpass/ — open the \"Demo app\" URL"
        );
    }
    println!("demo: it prints below (http://127.0.0.1:8787/demo/ by default). Ctrl-C stops it.");
    println!();
    become_server(&mut server)
}

/// Replaces this process with the server, so Ctrl-C reaches the server alone and the terminal gets
/// its prompt back only when the server has shut down.
#[cfg(unix)]
fn become_server(server: &mut std::process::Command) -> Result {
    use std::os::unix::process::CommandExt;
    Err(format!("could not start hallpass-server: {}", server.exec()))
}

#[cfg(not(unix))]
fn become_server(server: &mut std::process::Command) -> Result {
    exec(server, "hallpass-server")
}
