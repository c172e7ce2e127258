//! The webhook receiver of the tests: `tests/receiver/receiver.mjs` in Node, verifying every delivery
//! with the real `svix` package as a Clerk app's handler does (see that file). One per test, on a
//! loopback port; it exits with the test (it watches its stdin, which this process holds).
//!
//! It needs `svix` from the Node tools `cargo xtask setup` installs (`.tools/node_modules`, or
//! `HALLPASS_TOOLS`): without it the test fails and says so.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub struct Receiver {
    child: Child,
    pub base: String,
    http: reqwest::Client,
}

/// The Node modules folder holding `svix`.
fn tools() -> PathBuf {
    let dir = std::env::var_os("HALLPASS_TOOLS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(".tools").join("node_modules")
    });
    assert!(
        dir.join("svix").join("package.json").exists(),
        "the webhook tests verify deliveries with the `svix` npm package, which is not in {}: run \
         `cargo xtask setup` (or set HALLPASS_TOOLS to a node_modules folder that has it)",
        dir.display()
    );
    dir
}

impl Receiver {
    pub fn start() -> Receiver {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("receiver").join("receiver.mjs");
        let mut child = Command::new("node")
            .arg(&script)
            .arg(tools())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting node (the webhook receiver)");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).expect("the receiver did not start within 30 s");
        let port = serde_json::from_str::<Value>(&line).ok().and_then(|v| v["port"].as_u64());
        let Some(port) = port else {
            let _ = child.kill();
            panic!("the receiver printed {line:?} instead of its port");
        };
        let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
        Receiver { child, base: format!("http://127.0.0.1:{port}"), http }
    }

    /// The URL deliveries for `name` go to.
    pub fn url(&self, name: &str) -> String {
        format!("{}/hooks/{name}", self.base)
    }

    /// How `name` answers: `{"secrets": [...], "mode": "verify" | "reset" | "hang", "status"?, "body_bytes"?}`.
    pub async fn configure(&self, name: &str, config: Value) {
        let res = self
            .http
            .put(format!("{}/_control/hooks/{name}", self.base))
            .body(config.to_string())
            .send()
            .await;
        assert_eq!(res.unwrap().status(), 200);
    }

    /// `name` verifies with `secret` and answers 200 (400 when the signature does not verify).
    pub async fn accept(&self, name: &str, secret: &str) {
        self.configure(name, json!({"secrets": [secret]})).await;
    }

    /// What `name` received, oldest first.
    pub async fn received(&self, name: &str) -> Vec<Value> {
        let res = self.http.get(format!("{}/_control/hooks/{name}", self.base)).send().await.unwrap();
        serde_json::from_slice::<Vec<Value>>(&res.bytes().await.unwrap()).unwrap()
    }

    /// Waits (at most `within`) until `name` has received at least `n` deliveries; returns them.
    pub async fn wait_for(&self, name: &str, n: usize, within: Duration) -> Vec<Value> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.received(name).await;
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{name} received {} of {n} deliveries within {within:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Moves the receiver's clock (what `svix` compares timestamps with) to `now_ms`, the test's.
    pub async fn set_now(&self, now_ms: i64) {
        let real =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
        let body = json!({"offset_ms": now_ms - real}).to_string();
        let res = self.http.put(format!("{}/_control/clock", self.base)).body(body).send().await.unwrap();
        assert_eq!(res.status(), 200);
    }

    /// `new Webhook(secret).verify(body, headers)` in the receiver: `Ok(())` or svix's error.
    pub async fn verify(&self, secret: &str, body: &str, headers: &Value) -> Result<(), String> {
        let req = json!({"secret": secret, "body": body, "headers": headers}).to_string();
        let res = self.http.post(format!("{}/_control/verify", self.base)).body(req).send().await.unwrap();
        let v: Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
        if v["ok"] == true { Ok(()) } else { Err(v["error"].as_str().unwrap_or_default().to_owned()) }
    }

    /// Node's `JSON.stringify(JSON.parse(text))`.
    pub async fn stringify(&self, text: &str) -> String {
        let res =
            self.http.post(format!("{}/_control/stringify", self.base)).body(text.to_owned()).send().await;
        let res = res.unwrap();
        assert_eq!(res.status(), 200);
        res.text().await.unwrap()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
