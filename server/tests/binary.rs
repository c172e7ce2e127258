//! The `hallpass-server` binary as the test harness uses it: `--addr 127.0.0.1:0 --ready-file …`,
//! then SIGTERM for a graceful shutdown. On SQLite with the default database path, on PostgreSQL
//! through `HALLPASS_DATABASE_URL`.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
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
