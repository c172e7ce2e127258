//! A real `hallpass-server` for this crate's tests — the binary on loopback with its own SQLite file
//! (this crate never depends on the server crate; the tests run its binary, which is built here when
//! it is out of date) — and users signed up through its Frontend API, as the browser SDK would.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub struct TestServer {
    child: Child,
    _dir: tempfile::TempDir,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    pub secret_key: String,
    /// Its database (`sqlite://…`), for `hallpass-server keys …` beside it.
    pub database_url: String,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace").to_path_buf()
}

/// The server binary: `HALLPASS_SERVER_BIN`, or the workspace's debug build, brought up to date
/// first (once per test binary; a no-op when it is) so no test runs against a stale server.
fn binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("HALLPASS_SERVER_BIN") {
        return bin.into();
    }
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let status = Command::new(env!("CARGO"))
                .args(["build", "-q", "-p", "hallpass-server"])
                .current_dir(workspace())
                .status()
                .expect("cargo build -p hallpass-server");
            assert!(status.success(), "building hallpass-server failed");
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map_or_else(|| workspace().join("target"), PathBuf::from);
            target.join("debug").join("hallpass-server")
        })
        .clone()
}

impl TestServer {
    /// A fresh server whose session tokens live `token_secs`.
    pub fn start(token_secs: u32) -> TestServer {
        let dir = tempfile::tempdir().expect("a temp dir");
        let ready = dir.path().join("ready.json");
        let database_url = format!("sqlite://{}?mode=rwc", dir.path().join("db.sqlite").display());
        let mut command = Command::new(binary());
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("HALLPASS_")) {
            command.env_remove(key);
        }
        let child = command
            .args(["--addr", "127.0.0.1:0", "--ready-file"])
            .arg(&ready)
            .arg("--database-url")
            .arg(&database_url)
            .args(["--token-lifetime-secs", &token_secs.to_string(), "--disable-rate-limits"])
            .args(["--argon2-memory-kib", "1024", "--argon2-iterations", "1"])
            // The webhook test's receiver listens on loopback.
            .arg("--webhooks-allow-private-networks")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting hallpass-server");
        // Owned by the guard from here on: dropped (killed and reaped) on any panic below.
        let mut server =
            TestServer { child, _dir: dir, url: String::new(), secret_key: String::new(), database_url };
        let deadline = Instant::now() + Duration::from_secs(60);
        while server.url.is_empty() {
            if let Ok(text) = std::fs::read_to_string(&ready) {
                let info: Value = serde_json::from_str(&text).expect("the ready file");
                server.url = info["frontend_api"].as_str().expect("frontend_api").to_owned();
                server.secret_key = info["secret_key"].as_str().expect("secret_key").to_owned();
            } else {
                assert!(Instant::now() < deadline, "hallpass-server did not become ready within 60 s");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        server
    }

    /// `hallpass-server keys <args>` on this server's database while it runs, as an operator would:
    /// what it printed. Panics when it fails.
    pub fn keys(&self, args: &[&str]) -> String {
        let mut command = Command::new(binary());
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("HALLPASS_")) {
            command.env_remove(key);
        }
        let out = command
            .env("HALLPASS_DATABASE_URL", &self.database_url)
            .arg("keys")
            .args(args)
            .output()
            .expect("hallpass-server keys");
        let printed = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "keys {args:?}: {printed}{}", String::from_utf8_lossy(&out.stderr));
        printed
    }

    /// A new user signed up from a page of `origin`: the answer (`user`, `session`, `jwt`, …).
    pub async fn sign_up(&self, origin: &str) -> Value {
        let email = format!("rust-{}-{}@example.com", std::process::id(), unique());
        let response = reqwest::Client::new()
            .post(format!("{}/v1/client/sign_ups", self.url))
            .header("origin", origin)
            .json(&json!({ "email_address": email, "password": "correct horse battery staple", "first_name": "Ferris" }))
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .expect("sign-up request");
        assert!(response.status().is_success(), "sign-up: {}", response.status());
        response.json().await.expect("sign-up answer")
    }

    /// The session token of `user` (a `sign_up` answer) with the organization `organization_id` (or
    /// `None`: the personal account) made active, as the SDK's `setActive({ organization })` does.
    pub async fn with_active_organization(&self, user: &Value, organization_id: Option<&str>) -> String {
        let session = user["session"]["id"].as_str().expect("a session id");
        let response = reqwest::Client::new()
            .post(format!("{}/v1/client/sessions/{session}/touch", self.url))
            .bearer_auth(user["jwt"].as_str().expect("a token"))
            .header("origin", "http://localhost:3000")
            .json(&json!({ "active_organization_id": organization_id }))
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .expect("touch request");
        assert!(response.status().is_success(), "touch: {}", response.status());
        let body: Value = response.json().await.expect("touch answer");
        body["jwt"].as_str().expect("a session token").to_owned()
    }

    /// An organization created by `admin` (who joins with `org:admin`) with `members` as `org:member`.
    pub async fn organization(&self, admin: &Value, members: &[&Value]) -> String {
        let (status, org) = self
            .backend(
                reqwest::Method::POST,
                "/v1/organizations",
                Some(json!({ "name": "Acme", "created_by": admin["user"]["id"] })),
            )
            .await;
        assert_eq!(status, 200, "{org}");
        let id = org["id"].as_str().expect("an organization id").to_owned();
        for member in members {
            let path = format!("/v1/organizations/{id}/memberships");
            let body = json!({ "user_id": member["user"]["id"], "role": "org:member" });
            let (status, answer) = self.backend(reqwest::Method::POST, &path, Some(body)).await;
            assert_eq!(status, 200, "{answer}");
        }
        id
    }

    /// A Backend API call with the secret key: status and body.
    pub async fn backend(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = reqwest::Client::new()
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(&self.secret_key)
            .timeout(Duration::from_secs(30));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("backend request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as u64);
    N.fetch_add(1, Ordering::Relaxed) * 1_000_000_000 + nanos
}

/// The claims of a JWT, unverified (tests only).
pub fn claims_of(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64url"),
    )
    .expect("JSON")
}
