//! Two `hallpass-server` processes on one PostgreSQL database, as a deployment runs them, behind the
//! load-balancing test proxy (`test-proxy`: requests to the servers in turn, a server that refuses
//! connections skipped):
//! - the same refresh token sent to both replicas at the same instant rotates once: both get the
//!   same successor (one rotation, one grace answer), never a revocation;
//! - one replica killed with SIGKILL in the middle of a refresh load loses no session: clients retry
//!   what failed, on the other replica, and every session goes on;
//! - `hallpass-server keys rotate` while both run: every token either replica issues verifies with
//!   the JWKS either serves, and the new key signs only after its delay.
//!
//! PostgreSQL only (SQLite serves one process). Loops are bounded in count and time; the limits are
//! ones only a defect breaks.

// `db_test!` is for the tests of both engines; these are PostgreSQL only.
#[allow(unused_imports, unused_macros)]
mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use common::db::{Db, Engine, run};
use serde_json::{Value, json};
use test_proxy::Proxy;

/// One `hallpass-server` process on `db`; killed when dropped.
struct Replica {
    child: Child,
    address: String,
    secret_key: String,
    _dir: tempfile::TempDir,
}

impl Replica {
    /// Starts a replica on `db`; `public_url`: the load balancer's URL (the tokens' `iss`).
    fn start(db: &Db, public_url: Option<&str>) -> Replica {
        let dir = tempfile::tempdir().unwrap();
        let ready = dir.path().join("ready.json");
        let mut command = Command::new(env!("CARGO_BIN_EXE_hallpass-server"));
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("HALLPASS_")) {
            command.env_remove(key);
        }
        let mut child = command
            .args(["--addr", "127.0.0.1:0", "--database-url", &db.url, "--ready-file"])
            .arg(&ready)
            // One client address signs up every user here; the limits have their own tests.
            .args(["--disable-rate-limits", "--argon2-memory-kib", "256", "--argon2-iterations", "1"])
            .args(public_url.map(|url| ["--public-url", url]).into_iter().flatten())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while !ready.exists() {
            assert!(Instant::now() < deadline, "no ready file within 60 s");
            assert!(child.try_wait().unwrap().is_none(), "the server exited at start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let info: Value = serde_json::from_slice(&std::fs::read(&ready).unwrap()).unwrap();
        let field = |name: &str| info[name].as_str().unwrap().to_owned();
        Replica { address: field("address"), secret_key: field("secret_key"), child, _dir: dir }
    }

    fn kill(&mut self) {
        // SIGKILL: no graceful shutdown, connections and transactions cut where they are.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One HTTP/1.1 exchange on its own connection: the status and the JSON body, or why there is none.
fn http(addr: &str, method: &str, path: &str, body: Option<&Value>) -> Result<(u16, Value), String> {
    let mut stream = connect(addr)?;
    send(&mut stream, addr, method, path, body)?;
    receive(stream)
}

fn connect(addr: &str) -> Result<TcpStream, String> {
    let socket = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    let stream = TcpStream::connect_timeout(&socket, Duration::from_secs(5)).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(|e| e.to_string())?;
    Ok(stream)
}

fn send(
    stream: &mut TcpStream,
    addr: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Result<(), String> {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).map_err(|e| e.to_string())
}

fn receive(mut stream: TcpStream) -> Result<(u16, Value), String> {
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&response);
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or("no answer")?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    Ok((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

/// Two replicas on `db` behind the load-balancing proxy, whose URL is their public URL; the proxy's
/// address.
fn behind_a_proxy(db: &Db) -> (Replica, Replica, Proxy, String) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let url = format!("http://{addr}");
    let (a, b) = (Replica::start(db, Some(&url)), Replica::start(db, Some(&url)));
    let proxy = Proxy::start_on(listener, &[a.address.clone(), b.address.clone()], &a.secret_key).unwrap();
    (a, b, proxy, addr)
}

/// Signs up `n` users through `addr`; their refresh tokens.
fn sign_up(addr: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let body =
                json!({"email_address": format!("user{i}@example.com"), "password": "correct horse battery"});
            let (status, auth) = http(addr, "POST", "/v1/client/sign_ups", Some(&body)).unwrap();
            assert_eq!(status, 200, "{auth}");
            auth["refresh_token"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// Runs `f` on the test's runtime from its blocking body.
fn block_on<T>(f: impl Future<Output = T>) -> T {
    tokio::runtime::Handle::current().block_on(f)
}

/// A PostgreSQL test whose body blocks (processes, sockets, threads).
fn postgres_test(body: fn(Db)) {
    run(Engine::Postgres, move |db: Db| async move {
        tokio::task::spawn_blocking(move || body(db)).await.unwrap()
    });
}

#[test]
fn the_same_refresh_token_sent_to_both_replicas_at_once_rotates_once() {
    postgres_test(|db| {
        let (a, b) = (Replica::start(&db, None), Replica::start(&db, None));
        let mut token = sign_up(&a.address, 1).remove(0);
        let rounds = 25;
        for round in 0..rounds {
            // Both connections are open before either request is sent; both are sent at the barrier.
            let barrier = Arc::new(Barrier::new(2));
            let sends: Vec<_> = [a.address.clone(), b.address.clone()]
                .into_iter()
                .map(|addr| {
                    let (barrier, token) = (barrier.clone(), token.clone());
                    std::thread::spawn(move || {
                        let mut stream = connect(&addr)?;
                        barrier.wait();
                        let body = json!({ "refresh_token": token });
                        send(&mut stream, &addr, "POST", "/v1/client/refresh", Some(&body))?;
                        receive(stream)
                    })
                })
                .collect();
            let answers: Vec<(u16, Value)> = sends.into_iter().map(|s| s.join().unwrap().unwrap()).collect();
            for (status, body) in &answers {
                assert_eq!(*status, 200, "round {round}: {body}");
                assert_eq!(body["session"]["status"], "active", "round {round}");
            }
            assert_eq!(
                answers[0].1["refresh_token"], answers[1].1["refresh_token"],
                "round {round}: one successor"
            );
            token = answers[0].1["refresh_token"].as_str().unwrap().to_owned();
        }
        // One rotation per round: the first token and one successor a round, one of them live.
        let rows = block_on(async {
            (
                db.scalar("SELECT COUNT(*) FROM refresh_tokens").await,
                db.scalar("SELECT COUNT(*) FROM refresh_tokens WHERE used_at IS NULL").await,
                db.scalar("SELECT COUNT(*) FROM sessions WHERE status = 'active'").await,
            )
        });
        assert_eq!(rows, (rounds + 1, 1, 1));
    });
}

#[test]
fn a_replica_killed_mid_load_loses_no_session() {
    postgres_test(|db| {
        let (mut a, b, _proxy, addr) = behind_a_proxy(&db);
        let tokens = sign_up(&addr, 12);
        let stop = Arc::new(AtomicBool::new(false));
        let failures = Arc::new(Mutex::new(Vec::<String>::new()));
        let clients: Vec<_> = tokens
            .into_iter()
            .map(|mut token| {
                let (addr, stop, failures) = (addr.clone(), stop.clone(), failures.clone());
                std::thread::spawn(move || {
                    let (mut refreshed, mut retried) = (0u32, 0u32);
                    while !stop.load(Ordering::Relaxed) && refreshed < 10_000 {
                        let body = json!({ "refresh_token": token });
                        match http(&addr, "POST", "/v1/client/refresh", Some(&body)) {
                            Ok((200, auth)) => {
                                token = auth["refresh_token"].as_str().unwrap().to_owned();
                                refreshed += 1;
                            }
                            // The connection failed or the answer was lost: the same token again, as
                            // the SDK does (the grace window answers it if it was rotated).
                            Err(_) | Ok((500..=599, _)) if retried < 200 => {
                                retried += 1;
                                std::thread::sleep(Duration::from_millis(20));
                            }
                            other => {
                                failures.lock().unwrap().push(format!("{other:?}"));
                                return (token, refreshed, retried);
                            }
                        }
                    }
                    (token, refreshed, retried)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs(3));
        a.kill();
        std::thread::sleep(Duration::from_secs(4));
        stop.store(true, Ordering::Relaxed);
        let ended: Vec<_> = clients.into_iter().map(|c| c.join().unwrap()).collect();
        assert_eq!(*failures.lock().unwrap(), Vec::<String>::new(), "no client lost its session");
        let counts = http(&addr, "GET", "/__control/counts", None).unwrap().1;
        for replica in [&a.address, &b.address] {
            assert!(counts[format!("via {replica}")].as_u64().unwrap_or(0) > 0, "both served: {counts}");
        }
        // Every session goes on, on the replica left.
        for (token, refreshed, _) in &ended {
            assert!(*refreshed > 0);
            let (status, body) =
                http(&b.address, "POST", "/v1/client/refresh", Some(&json!({ "refresh_token": token })))
                    .unwrap();
            assert_eq!(status, 200, "{body}");
        }
        let active = block_on(db.scalar("SELECT COUNT(*) FROM sessions WHERE status = 'active'"));
        assert_eq!(active, 12);
    });
}

#[test]
fn key_rotation_while_both_replicas_run_keeps_every_token_verifiable() {
    postgres_test(|db| {
        let (a, b, _proxy, addr) = behind_a_proxy(&db);
        let tokens = sign_up(&addr, 4);
        let replicas = [a.address.clone(), b.address.clone()];
        let stop = Arc::new(AtomicBool::new(false));
        // Each client refreshes, and checks every session token it gets against the JWKS both
        // replicas serve at that moment: (kid, iat) of each token, or what failed.
        let clients: Vec<_> = tokens
            .into_iter()
            .map(|mut token| {
                let (addr, stop, replicas) = (addr.clone(), stop.clone(), replicas.clone());
                std::thread::spawn(move || -> Result<Vec<(String, i64)>, String> {
                    let mut seen = Vec::new();
                    while !stop.load(Ordering::Relaxed) && seen.len() < 1000 {
                        let body = json!({ "refresh_token": token });
                        let (status, auth) = http(&addr, "POST", "/v1/client/refresh", Some(&body))?;
                        if status != 200 {
                            return Err(format!("{status}: {auth}"));
                        }
                        token = auth["refresh_token"].as_str().unwrap().to_owned();
                        let jwt = auth["jwt"].as_str().unwrap();
                        for replica in &replicas {
                            let jwks = raw_get(replica, "/.well-known/jwks.json")?;
                            if !common::verifies_with_jwks(&jwks, jwt) {
                                return Err(format!("a token does not verify with the JWKS of {replica}"));
                            }
                        }
                        let header = jsonwebtoken::decode_header(jwt).map_err(|e| e.to_string())?;
                        let claims = jwt.split('.').nth(1).unwrap();
                        let claims: Value = serde_json::from_slice(&b64(claims)).unwrap();
                        seen.push((header.kid.unwrap_or_default(), claims["iat"].as_i64().unwrap_or(0)));
                        std::thread::sleep(Duration::from_millis(200));
                    }
                    Ok(seen)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs(1));
        let out = Command::new(env!("CARGO_BIN_EXE_hallpass-server"))
            .env("HALLPASS_DATABASE_URL", &db.url)
            .env_remove("HALLPASS_KEY_ENCRYPTION_KEY")
            .args(["keys", "rotate", "--delay-secs", "10"])
            .output()
            .unwrap();
        let printed = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{printed}{}", String::from_utf8_lossy(&out.stderr));
        let new = printed
            .split("New signing key ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .unwrap()
            .to_owned();
        // Past the switch, and long enough for some tokens of the new key.
        std::thread::sleep(Duration::from_secs(14));
        stop.store(true, Ordering::Relaxed);
        let seen: Vec<(String, i64)> = clients.into_iter().flat_map(|c| c.join().unwrap().unwrap()).collect();

        let active_from =
            block_on(db.scalar_with("SELECT active_from FROM signing_keys WHERE kid = $1", &new));
        let (by_new, by_old): (Vec<_>, Vec<_>) = seen.iter().partition(|(kid, _)| *kid == new);
        assert!(!by_old.is_empty() && !by_new.is_empty(), "tokens of both keys: {seen:?}");
        // `iat` is whole seconds, rounded down.
        assert!(
            by_new.iter().all(|(_, iat)| (iat + 1) * 1000 > active_from),
            "the new key waited for its time"
        );
        let jwks = |replica: &str| raw_get(replica, "/.well-known/jwks.json").unwrap();
        let (ja, jb) = (jwks(&a.address), jwks(&b.address));
        assert_eq!(
            serde_json::from_slice::<Value>(&ja).unwrap(),
            serde_json::from_slice::<Value>(&jb).unwrap()
        );
        assert_eq!(serde_json::from_slice::<Value>(&ja).unwrap()["keys"].as_array().unwrap().len(), 2);
    });
}

/// The raw body of a GET.
fn raw_get(addr: &str, path: &str) -> Result<Vec<u8>, String> {
    let mut stream = connect(addr)?;
    send(&mut stream, addr, "GET", path, None)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(|e| e.to_string())?;
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no answer")?;
    Ok(response[split + 4..].to_vec())
}

fn b64(part: &str) -> Vec<u8> {
    hallpass_server::secret::b64url_decode(part).unwrap()
}
