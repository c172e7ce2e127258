//! `cargo xtask demo`: the demo app on one origin. Installs what is missing, builds the SDK and the
//! npm package (`cargo xtask build`), builds `hallpass-server` (profile `server`) and becomes it —
//! the server on its embedded SQLite file under `.hallpass/`, serving `www/` and the package under
//! `/demo/` beside the API. It prints the URL and opens nothing; Ctrl-C stops it cleanly (the
//! server handles SIGINT with a graceful shutdown, and no xtask process is left around it).
//!
//! Extra arguments go to the server, e.g. `cargo xtask demo --addr 127.0.0.1:9000`.

use crate::util::{Result, cmd, exec, root};

pub fn run(server_args: &[String]) -> Result {
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
        .args(server_args);
    println!();
    println!("demo: starting hallpass-server on its SQLite file in .hallpass/ — open the \"Demo app\" URL");
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
