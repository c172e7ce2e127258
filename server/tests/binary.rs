//! The `hallpass-server` binary as the test harness uses it: `--addr 127.0.0.1:0 --ready-file …`,
//! then SIGTERM for a graceful shutdown. On SQLite with the default database path, on PostgreSQL
//! through `HALLPASS_DATABASE_URL`.

mod common;

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::db::Engine;
use common::{Db, db_test};

db_test!(ready_file_then_requests_then_graceful_sigterm);
async fn ready_file_then_requests_then_graceful_sigterm(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let ready = dir.path().join("ready.json");
    let mut command = Command::new(env!("CARGO_BIN_EXE_hallpass-server"));
    match db.engine {
        // The dev default: no URL given.
        Engine::Sqlite => command.env_remove("HALLPASS_DATABASE_URL"),
        Engine::Postgres => command.env("HALLPASS_DATABASE_URL", &db.url),
    };
    let mut child = command
        .current_dir(dir.path())
        .args(["--addr", "127.0.0.1:0", "--ready-file"])
        .arg(&ready)
        .env("HALLPASS_ARGON2_MEMORY_KIB", "256")
        .env("HALLPASS_ARGON2_ITERATIONS", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready.exists() {
        assert!(Instant::now() < deadline, "no ready file within 60 s");
        assert!(child.try_wait().unwrap().is_none(), "server exited early");
        std::thread::sleep(Duration::from_millis(50));
    }
    let info: serde_json::Value = serde_json::from_slice(&std::fs::read(&ready).unwrap()).unwrap();
    let address = info["address"].as_str().unwrap().to_owned();
    assert!(address.starts_with("127.0.0.1:") && !address.ends_with(":0"), "{address}");
    assert_eq!(info["frontend_api"], format!("http://{address}"));
    let pk = info["publishable_key"].as_str().unwrap();
    assert_eq!(
        hallpass_protocol::keys::decode_publishable_key(pk).as_deref(),
        Some(format!("http://{address}").as_str())
    );
    assert!(info["secret_key"].as_str().unwrap().starts_with("sk_test_"));
    // The dev default: the database under .hallpass/ in the working directory.
    assert_eq!(dir.path().join(".hallpass/hallpass.db").exists(), db.engine == Engine::Sqlite);

    let mut stream = TcpStream::connect(&address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(stream, "GET /.well-known/jwks.json HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"kty\":\"RSA\""));

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("server did not stop within 20 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
    let mut stdout = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    assert!(stdout.contains(pk), "keys are printed: {stdout}");
    assert!(
        stdout
            .contains("Email:           no mail server (HALLPASS_SMTP_URL): kept in the development mailbox"),
        "without a mail server it says where emails go: {stdout}"
    );
}

/// Runs the server binary in `dir` (its SQLite database there) with `env` until it is ready, then
/// stops it with SIGTERM, or until it exits by itself. Returns whether it got ready, and what it
/// printed on stdout and stderr.
fn run_until_ready(dir: &Path, env: &[(&str, &OsStr)]) -> (bool, String, String) {
    let ready = dir.join("ready.json");
    let _ = std::fs::remove_file(&ready);
    let mut command = Command::new(env!("CARGO_BIN_EXE_hallpass-server"));
    for name in ["HALLPASS_DATABASE_URL", "HALLPASS_SMTP_URL", "HALLPASS_SMTP_HOST", "HALLPASS_SMTP_CA_FILE"]
    {
        command.env_remove(name);
    }
    let mut child = command
        .current_dir(dir)
        .args(["--addr", "127.0.0.1:0", "--ready-file"])
        .arg(&ready)
        .env("HALLPASS_ARGON2_MEMORY_KIB", "256")
        .env("HALLPASS_ARGON2_ITERATIONS", "1")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let got_ready = loop {
        if ready.exists() {
            break true;
        }
        if child.try_wait().unwrap().is_some() {
            break false;
        }
        assert!(Instant::now() < deadline, "neither ready nor exited within 60 s");
        std::thread::sleep(Duration::from_millis(50));
    };
    if got_ready {
        // SAFETY: `kill` on the id of a child this test started and has not waited for yet.
        assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) }, 0);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("server did not exit within 20 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let (mut stdout, mut stderr) = (String::new(), String::new());
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    (got_ready, stdout, stderr)
}

/// What the server says about mail at start: where it sends, how, and whose certificates it trusts.
/// A CA file it cannot use, or a URL a man in the middle could downgrade, stops the start with the
/// variable named. (No email is sent: the engine does not matter, SQLite only.)
#[test]
fn the_start_says_where_mail_goes_and_refuses_mail_settings_it_cannot_use() {
    let certs = common::certs::TestCerts::new();
    let dir = tempfile::tempdir().unwrap();
    let url = OsStr::new("smtps://127.0.0.1:2465");
    let ca = certs.ca.as_os_str();
    let (ready, stdout, stderr) =
        run_until_ready(dir.path(), &[("HALLPASS_SMTP_URL", url), ("HALLPASS_SMTP_CA_FILE", ca)]);
    assert!(ready, "{stderr}");
    assert!(
        stdout.contains(
            "Email:           sent through 127.0.0.1:2465 (TLS; trusting 1 CA certificate(s) from \
             HALLPASS_SMTP_CA_FILE too)"
        ),
        "{stdout}"
    );

    let missing = dir.path().join("missing.pem");
    let refused: [(&[(&str, &OsStr)], &str); 3] = [
        (
            &[("HALLPASS_SMTP_URL", url), ("HALLPASS_SMTP_CA_FILE", missing.as_os_str())],
            "HALLPASS_SMTP_CA_FILE (",
        ),
        (
            &[("HALLPASS_SMTP_URL", url), ("HALLPASS_SMTP_CA_FILE", certs.key.as_os_str())],
            "HALLPASS_SMTP_CA_FILE (",
        ),
        (
            &[("HALLPASS_SMTP_URL", OsStr::new("smtp://u:secret@mail.example.com:587?tls=opportunistic"))],
            "HALLPASS_SMTP_URL: mail.example.com is not loopback",
        ),
    ];
    for (env, says) in refused {
        let (ready, stdout, stderr) = run_until_ready(dir.path(), env);
        assert!(!ready, "{env:?} started: {stdout}");
        assert!(stderr.contains(says), "{env:?}: {stderr}");
        assert!(!stderr.contains("secret"), "{stderr}");
    }
}

db_test!(keys_rotate_and_list_work_on_the_configured_database);
async fn keys_rotate_and_list_work_on_the_configured_database(db: Db) {
    let keys = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_hallpass-server"))
            .env("HALLPASS_DATABASE_URL", &db.url)
            .env_remove("HALLPASS_KEY_ENCRYPTION_KEY")
            .arg("keys")
            .args(args)
            .output()
            .unwrap();
        let text =
            format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    };
    let (ok, text) = keys(&["rotate", "--delay-secs", "30"]);
    assert!(!ok && text.contains("no signing key yet"), "before any server made the first: {text}");
    let first = hallpass_server::AppState::new(db.config()).await.unwrap();
    let kid = first.signing_key().kid().to_owned();
    first.store.close().await;
    let (ok, text) = keys(&["rotate", "--delay-secs", "30"]);
    assert!(ok, "{text}");
    assert!(text.contains("New signing key ins_") && text.contains("(in 30 s)"), "{text}");
    assert!(text.contains(&format!("{kid} signs until then")), "{text}");
    let (ok, text) = keys(&["rotate", "--delay-secs", "30"]);
    assert!(!ok && text.contains("is already waiting to start signing"), "{text}");
    let (ok, text) = keys(&["rotate", "--delay-secs", "3"]);
    assert!(!ok && text.contains("at least 10 s"), "{text}");
    let (ok, text) = keys(&["list"]);
    assert!(ok, "{text}");
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("ins_")).collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].contains("published, signs from") && lines[1].contains("signing since"), "{text}");
}
