//! The SMTP server of the mail tests: `tests/smtp/smtp_server.py`, Python's `aiosmtpd` (a real SMTP
//! server) on a loopback port, printing every message it accepts and every AUTH try; recipients
//! starting with `reject` get a permanent 550. Optionally STARTTLS (required), TLS from the start,
//! and credentials ([`Options`]). One per test; it exits with the test (it watches its stdin, which
//! this process holds).
//!
//! It needs `aiosmtpd` in the virtual environment `cargo xtask setup` makes (`.tools/python`, or
//! `HALLPASS_PYTHON` naming an interpreter that has it): without it the test fails and says so.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::certs::TestCerts;

pub struct SmtpServer {
    child: Child,
    /// Its standard input: closing it stops the server; `sync N` lines ask for a marker ([`Self::sync`]).
    stdin: Mutex<ChildStdin>,
    syncs: AtomicU64,
    pub port: u16,
    received: Arc<Mutex<Vec<Value>>>,
}

/// How the server is started; the default is plain SMTP without AUTH.
#[derive(Default)]
pub struct Options<'a> {
    /// Offer STARTTLS with this certificate and refuse mail until the client took it.
    pub starttls: Option<&'a TestCerts>,
    /// TLS from the first byte (`smtps://`) with this certificate.
    pub tls: Option<&'a TestCerts>,
    /// Refuse mail without AUTH as `(user, password)`: after STARTTLS with `starttls`, and in plain
    /// text too without any TLS (so a client that would send its password unencrypted shows).
    pub auth: Option<(&'a str, &'a str)>,
}

/// A message as the server received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub to: Vec<String>,
    /// The whole message: headers and MIME body.
    pub data: String,
    /// The TLS version of the connection it came over (`TLSv1.3`), `None` in plain text.
    pub tls: Option<String>,
    /// Who had authenticated on that connection.
    pub user: Option<String>,
}

/// One AUTH try, as the server saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthTry {
    pub user: String,
    pub ok: bool,
    pub tls: Option<String>,
}

impl Received {
    /// The `Subject:` header.
    pub fn subject(&self) -> String {
        self.data.lines().find_map(|l| l.strip_prefix("Subject: ")).unwrap_or_default().to_owned()
    }

    /// The body with quoted-printable soft line breaks and `=3D` undone (enough for codes and links).
    pub fn text(&self) -> String {
        self.data.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=")
    }

    /// The 6-digit code at the start of the subject.
    pub fn code(&self) -> String {
        let subject = self.subject();
        let code: String = subject.chars().take_while(char::is_ascii_digit).collect();
        assert_eq!(code.len(), 6, "no code in {subject:?}");
        code
    }

    /// The token of the email link in the body.
    pub fn link_token(&self) -> String {
        let text = self.text();
        let start = text.find("token=").unwrap_or_else(|| panic!("no link in {text}")) + "token=".len();
        text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
    }
}

fn python() -> PathBuf {
    let python = std::env::var_os("HALLPASS_PYTHON").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(".tools")
            .join("python")
            .join("bin")
            .join("python")
    });
    assert!(
        python.exists(),
        "the mail tests send through aiosmtpd, in a Python virtual environment that is not at {}: run \
         `cargo xtask setup` (or set HALLPASS_PYTHON to a Python that has aiosmtpd)",
        python.display()
    );
    python
}

/// A free loopback port (bound and released: the server binds it next).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        SmtpServer::start_on(free_port())
    }

    /// On `port` (a server that was down there comes up).
    pub fn start_on(port: u16) -> SmtpServer {
        SmtpServer::start_with(port, Options::default())
    }

    /// On `port`, with TLS and AUTH as `options` say.
    pub fn start_with(port: u16, options: Options) -> SmtpServer {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("smtp").join("smtp_server.py");
        let mut command = Command::new(python());
        command.arg(&script).arg(port.to_string());
        for (flag, certs) in [("--starttls", options.starttls), ("--tls", options.tls)] {
            if let Some(certs) = certs {
                command.arg(flag).arg(&certs.cert).arg(&certs.key);
            }
        }
        if let Some((user, password)) = options.auth {
            command.arg("--auth").arg(format!("{user}:{password}"));
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting the SMTP server (aiosmtpd)");
        let stdout = child.stdout.take().unwrap();
        let received: Arc<Mutex<Vec<Value>>> = Arc::default();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let sink = received.clone();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next().and_then(Result::ok).unwrap_or_default();
            let _ = ready_tx.send(first);
            for line in lines.map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    sink.lock().unwrap().push(v);
                }
            }
        });
        let line =
            ready_rx.recv_timeout(Duration::from_secs(30)).expect("aiosmtpd did not start within 30 s");
        let started = serde_json::from_str::<Value>(&line).ok().and_then(|v| v["port"].as_u64());
        if started != Some(u64::from(port)) {
            let _ = child.kill();
            panic!("aiosmtpd printed {line:?} instead of its port");
        }
        let stdin = Mutex::new(child.stdin.take().unwrap());
        SmtpServer { child, stdin, syncs: AtomicU64::new(0), port, received }
    }

    /// `smtp://127.0.0.1:<port>`: plain text, allowed on loopback.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Returns once every event the server printed before now has been read (up to 10 s): what it
    /// has not reported by then, it did not see. For asserting that nothing arrived.
    pub async fn sync(&self) {
        let n = self.syncs.fetch_add(1, Ordering::Relaxed);
        {
            let mut stdin = self.stdin.lock().unwrap();
            writeln!(stdin, "sync {n}").and_then(|()| stdin.flush()).expect("writing to aiosmtpd");
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.events("sync").iter().any(|v| v["n"] == n) {
            assert!(Instant::now() < deadline, "aiosmtpd did not answer sync {n} within 10 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Every event of `kind` (`message`, `auth`) so far.
    fn events(&self, kind: &str) -> Vec<Value> {
        self.received.lock().unwrap().iter().filter(|v| v["event"] == kind).cloned().collect()
    }

    /// Every AUTH try so far.
    pub fn auth_tries(&self) -> Vec<AuthTry> {
        self.events("auth")
            .iter()
            .map(|v| AuthTry {
                user: v["user"].as_str().unwrap_or_default().to_owned(),
                ok: v["ok"] == true,
                tls: v["tls"].as_str().map(str::to_owned),
            })
            .collect()
    }

    /// Every message received so far.
    pub fn messages(&self) -> Vec<Received> {
        self.events("message")
            .iter()
            .map(|v| Received {
                to: v["to"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect(),
                data: v["data"].as_str().unwrap_or_default().to_owned(),
                tls: v["tls"].as_str().map(str::to_owned),
                user: v["user"].as_str().map(str::to_owned),
            })
            .collect()
    }

    /// Waits (up to 10 s) for the `n`-th message to `to` (counting from 1) and returns it.
    pub async fn wait_for(&self, to: &str, n: usize) -> Received {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mine: Vec<Received> =
                self.messages().into_iter().filter(|m| m.to.iter().any(|t| t == to)).collect();
            if let Some(m) = mine.get(n - 1) {
                return m.clone();
            }
            assert!(Instant::now() < deadline, "no message #{n} to {to} within 10 s (have {})", mine.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
