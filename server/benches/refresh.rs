//! Refresh-endpoint throughput and latency on loopback, next to the raw RS256 signing rate of the same
//! key in the same process (the ceiling: every refresh signs one JWT), and sign-in latency with the
//! configured Argon2id parameters (OWASP defaults). Refresh runs twice, side by side: sessions on the
//! personal account, then the same sessions with an active organization (each refresh then also reads
//! the membership, its role and permissions, for the token's `o` claim).
//!
//! Run: `cargo bench -p hallpass-server --bench refresh --profile server`
//! Knobs: `HALLPASS_BENCH_SECS` (refresh phase, default 10), `HALLPASS_BENCH_CONCURRENCY` (default 16),
//! `HALLPASS_BENCH_SESSIONS` (default 64). Everything is bounded in time and count; only 127.0.0.1.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use hallpass_protocol::{AuthResponse, paths};
use hallpass_server::{AppState, Config, run};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Conn {
    sender: SendRequest<Full<Bytes>>,
    addr: SocketAddr,
}

impl Conn {
    async fn open(addr: SocketAddr) -> Conn {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).ok();
        let (sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
        tokio::spawn(conn);
        Conn { sender, addr }
    }

    async fn post(&mut self, path: &str, body: &serde_json::Value) -> (u16, Bytes) {
        self.post_as(path, body, None).await
    }

    async fn post_as(&mut self, path: &str, body: &serde_json::Value, bearer: Option<&str>) -> (u16, Bytes) {
        let mut req = Request::post(path)
            .header("host", self.addr.to_string())
            .header("content-type", "application/json");
        if let Some(token) = bearer {
            req = req.header("authorization", format!("Bearer {token}"));
        }
        let req = req.body(Full::new(Bytes::from(serde_json::to_vec(body).expect("json")))).expect("request");
        self.sender.ready().await.expect("connection ready");
        let res = self.sender.send_request(req).await.expect("response");
        let status = res.status().as_u16();
        let body = res.into_body().collect().await.expect("body").to_bytes();
        (status, body)
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Signs for `secs` seconds on `threads` OS threads; returns signatures per second.
fn signing_rate(state: &AppState, threads: usize, secs: f64) -> f64 {
    let msg = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEyMyIsInNpZCI6InNlc3NfMTIzIn0";
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let total: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        state.signing_key().sign_rs256(msg).expect("sign");
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("signer thread")).sum()
    });
    total as f64 / start.elapsed().as_secs_f64()
}

/// What one refresh phase measured, and the refresh tokens it left.
struct Phase {
    rps: f64,
    latencies: Vec<Duration>,
    errors: u64,
    tokens: Vec<String>,
}

/// Refresh at fixed concurrency for `secs` seconds; each worker has its own keep-alive connection
/// and its own sessions (no two workers share a token family).
async fn refresh_phase(addr: SocketAddr, tokens: Vec<String>, concurrency: usize, secs: u64) -> Phase {
    let stop_flag = Arc::new(AtomicBool::new(false));
    let mut per_worker: Vec<Vec<String>> = vec![Vec::new(); concurrency];
    for (i, t) in tokens.into_iter().enumerate() {
        per_worker[i % concurrency].push(t);
    }
    let started = Instant::now();
    let mut handles = Vec::new();
    for mut mine in per_worker.into_iter().filter(|w| !w.is_empty()) {
        let stop_flag = stop_flag.clone();
        handles.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await;
            let mut lat = Vec::new();
            let mut errors = 0u64;
            let mut i = 0;
            while !stop_flag.load(Ordering::Relaxed) {
                let slot = i % mine.len();
                let t = Instant::now();
                let (status, body) = conn.post(paths::REFRESH, &json!({"refresh_token": mine[slot]})).await;
                lat.push(t.elapsed());
                if status == 200 {
                    match serde_json::from_slice::<AuthResponse>(&body) {
                        Ok(auth) => mine[slot] = auth.refresh_token.into_exposed(),
                        Err(_) => errors += 1,
                    }
                } else {
                    errors += 1;
                }
                i += 1;
            }
            (lat, errors, mine)
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop_flag.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut tokens = Vec::new();
    for h in handles {
        let (lat, e, mine) = h.await.expect("worker");
        latencies.extend(lat);
        errors += e;
        tokens.extend(mine);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    Phase { rps: latencies.len() as f64 / elapsed, latencies, errors, tokens }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(bench());
}

async fn bench() {
    let secs = env_or("HALLPASS_BENCH_SECS", 10).clamp(1, 120);
    let concurrency = env_or("HALLPASS_BENCH_CONCURRENCY", 16).clamp(1, 256) as usize;
    let sessions = env_or("HALLPASS_BENCH_SESSIONS", 64).clamp(1, 1024) as usize;
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);

    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config::for_tests(dir.path().join("bench.db"));
    let defaults = Config::defaults();
    config.argon2_memory_kib = defaults.argon2_memory_kib;
    config.argon2_iterations = defaults.argon2_iterations;
    config.argon2_parallelism = defaults.argon2_parallelism;
    config.disable_rate_limits = true;
    let state = AppState::new(config.clone()).await.expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(run(listener, state.clone(), async {
        let _ = stopped.await;
    }));

    // Sign-up once, then `sessions` sign-ins: each is timed (Argon2id verify dominates) and each
    // leaves a session to refresh.
    let mut conn = Conn::open(addr).await;
    let (status, body) = conn
        .post(paths::SIGN_UPS, &json!({"email_address": "bench@example.com", "password": PASSWORD}))
        .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let mut sign_in = Vec::with_capacity(sessions);
    let mut tokens = Vec::with_capacity(sessions);
    let mut sessions_and_jwts = Vec::with_capacity(sessions);
    let mut user_id = String::new();
    for _ in 0..sessions {
        let t = Instant::now();
        let (status, body) = conn
            .post(paths::SIGN_INS, &json!({"identifier": "bench@example.com", "password": PASSWORD}))
            .await;
        sign_in.push(t.elapsed());
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        let auth: AuthResponse = serde_json::from_slice(&body).expect("auth");
        user_id = auth.user.id.clone();
        sessions_and_jwts.push((auth.session.id.clone(), auth.jwt.expose().to_owned()));
        tokens.push(auth.refresh_token.into_exposed());
    }
    sign_in.sort();

    // The ceiling: raw RS256 signatures with the server's key, one thread and all cores.
    let sign_1 = signing_rate(&state, 1, 3.0);
    let sign_all = signing_rate(&state, cores, 3.0);

    let mut personal = refresh_phase(addr, tokens, concurrency, secs).await;

    // The same sessions, each with an active organization (one organization, every session's user a
    // member as its creator): every refresh now reads the membership too.
    // A fresh connection: the first one sat idle past the server's keep-alive timeout meanwhile.
    let mut conn = Conn::open(addr).await;
    let (status, body) = conn
        .post_as(
            paths::ORGANIZATIONS,
            &json!({"name": "Bench", "created_by": user_id}),
            Some(state.secret_key.expose()),
        )
        .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let org: serde_json::Value = serde_json::from_slice(&body).expect("organization");
    for (session_id, jwt) in &sessions_and_jwts {
        let touch = paths::fill(paths::SESSION_TOUCH, &[session_id]);
        let (status, body) =
            conn.post_as(&touch, &json!({"active_organization_id": org["id"]}), Some(jwt)).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    }
    let with_org = refresh_phase(addr, std::mem::take(&mut personal.tokens), concurrency, secs).await;

    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;

    println!();
    println!(
        "### hallpass-server benchmark ({cores} cores, loopback, SQLite WAL, server and client in one process)"
    );
    println!();
    println!("| measurement | value |");
    println!("|---|---|");
    println!("| raw RS256 sign (RSA-2048, aws-lc-rs), 1 thread | {sign_1:.0} /s |");
    println!("| raw RS256 sign, {cores} threads (the ceiling) | {sign_all:.0} /s |");
    for (what, phase) in [("personal account", &personal), ("active organization", &with_org)] {
        println!(
            "| `POST {}` throughput, {what} ({concurrency} connections, {sessions} sessions, {secs} s) | {:.0} /s ({:.0}% of the signing ceiling) |",
            paths::REFRESH,
            phase.rps,
            100.0 * phase.rps / sign_all
        );
        println!(
            "| refresh latency p50 / p99, {what} | {} / {} |",
            ms(percentile(&phase.latencies, 0.50)),
            ms(percentile(&phase.latencies, 0.99))
        );
        println!("| refresh requests / errors, {what} | {} / {} |", phase.latencies.len(), phase.errors);
    }
    println!(
        "| refresh throughput with an active organization / without | {:.2} |",
        with_org.rps / personal.rps.max(f64::MIN_POSITIVE)
    );
    println!(
        "| sign-in latency p50 / p99 (Argon2id m={} KiB, t={}, p={}; {} sequential) | {} / {} |",
        config.argon2_memory_kib,
        config.argon2_iterations,
        config.argon2_parallelism,
        sign_in.len(),
        ms(percentile(&sign_in, 0.50)),
        ms(percentile(&sign_in, 0.99))
    );
}
