//! A real `hallpass-server` for the test suites: its own temporary SQLite file (or a PostgreSQL
//! database it shares with other replicas), a free loopback port, short token lifetimes, stopped
//! (SIGTERM, then kill) when the guard drops.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::util::{Result, cmd, exec, root, tmp_dir};

/// What the server wrote to its ready file.
#[derive(Clone, Debug)]
pub struct ServerInfo {
    /// `127.0.0.1:PORT`
    pub address: String,
    /// `http://127.0.0.1:PORT`
    pub frontend_api: String,
    pub secret_key: String,
}

pub struct TestServer {
    child: Child,
    pub info: ServerInfo,
}

/// Settings the suites vary.
pub struct ServerOptions {
    pub name: &'static str,
    pub token_lifetime_secs: u32,
    /// `None`: a SQLite file of its own. `Some(postgres://…)`: that database (replicas share one).
    pub database_url: Option<String>,
    /// The public URL (the tokens' `iss`): a load balancer's, for replicas behind one.
    pub public_url: Option<String>,
}

impl ServerOptions {
    /// A server of its own, on its own SQLite file.
    pub fn alone(name: &'static str, token_lifetime_secs: u32) -> ServerOptions {
        ServerOptions { name, token_lifetime_secs, database_url: None, public_url: None }
    }
}

impl TestServer {
    /// Builds (debug) and starts the server, waiting up to 60 s for its ready file.
    pub fn start(options: &ServerOptions) -> Result<TestServer> {
        exec(
            cmd("cargo").args(["build", "--quiet", "-p", "hallpass-server"]),
            "cargo build -p hallpass-server",
        )?;
        let bin = root().join("target").join("debug").join("hallpass-server");
        let dir = tmp_dir(&format!("server-{}", options.name));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        let ready = dir.join("ready.json");
        let mut command = cmd(bin.to_str().unwrap_or("hallpass-server"));
        // Only the flags below decide how it runs: no HALLPASS_* from the developer's shell.
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("HALLPASS_")) {
            command.env_remove(key);
        }
        let database_url = options
            .database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", dir.join("hallpass.db").display()));
        if let Some(url) = &options.public_url {
            command.args(["--public-url", url]);
        }
        let child = command
            .arg("--addr")
            .arg("127.0.0.1:0")
            .arg("--database-url")
            .arg(database_url)
            .arg("--ready-file")
            .arg(&ready)
            .arg("--token-lifetime-secs")
            .arg(options.token_lifetime_secs.to_string())
            // The suites sign up many users from one IP in seconds: the limits are tested natively.
            .arg("--disable-rate-limits")
            // Cheap hashing: the suites test the SDK, not Argon2's cost (the server's tests cover it).
            .args(["--argon2-memory-kib", "1024", "--argon2-iterations", "1"])
            // The example apps that receive webhooks in the suites listen on loopback.
            .arg("--webhooks-allow-private-networks")
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                fs::File::create(dir.join("server.log")).map_err(|e| format!("server log: {e}"))?,
            ))
            .spawn()
            .map_err(|e| format!("starting {}: {e}", bin.display()))?;
        let mut server = TestServer {
            child,
            info: ServerInfo {
                address: String::new(),
                frontend_api: String::new(),
                secret_key: String::new(),
            },
        };
        server.info = wait_ready(&mut server.child, &ready, &dir)?;
        Ok(server)
    }
}

fn wait_ready(child: &mut Child, ready: &PathBuf, dir: &std::path::Path) -> Result<ServerInfo> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            let log = fs::read_to_string(dir.join("server.log")).unwrap_or_default();
            return Err(format!("hallpass-server exited at start ({status}):\n{log}"));
        }
        if let Ok(text) = fs::read_to_string(ready) {
            // Written atomically by the server, so whole once it exists.
            let ready: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| format!("ready file {text}: {e}"))?;
            let field = |name: &str| {
                ready[name].as_str().map(str::to_owned).ok_or(format!("ready file lacks {name}: {text}"))
            };
            return Ok(ServerInfo {
                address: field("address")?,
                frontend_api: field("frontend_api")?,
                secret_key: field("secret_key")?,
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err("hallpass-server did not become ready within 60 s".into())
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // SIGTERM first, so the graceful-shutdown path runs; kill if it does not stop in 5 s.
        let _ = cmd("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
