//! The server half of `cargo xtask bench`: throughput and latency of the refresh endpoint and of a
//! JWKS-verified protected endpoint (`GET /v1/client/me` with the Bearer session token) under a load
//! generator on loopback, beside the raw RS256 sign and verify rates of the same key on the same
//! machine (the ceilings); the refresh write path side by side with itself committing one rotation per
//! transaction, in alternating rounds with the sign ceiling; what a rate-limit check costs with the
//! counters in memory and in the database; sign-in latency with the Argon2id parameters in use;
//! refresh latency while sign-ins run concurrently; a sign-in flood that saturates the Argon2 slots
//! (peak memory, refresh p99 meanwhile, how many sign-ins were answered and how many refused as busy);
//! the refresh cost curve as the SQLite database grows (users seeded in bulk); and refresh on
//! PostgreSQL with one and two `hallpass-server` processes, also at 1 M stored sessions
//! ([`postgres`]); and webhooks: sign-up latency with and without three subscribed endpoints (rounds
//! alternating between two servers, with the production Argon2 parameters and with cheap ones that
//! leave the database path exposed), and how many deliveries per second the worker makes to a
//! loopback receiver from a backlog, to one endpoint and to eight; and no enumeration: the email-code
//! sign-in and the password reset for addresses with and without an account, side by side.
//!
//! Run: `cargo bench -p hallpass-server --bench load --profile server` (prints JSON; `cargo xtask
//! bench` runs it and reads the file). Knobs, all bounded:
//! - `HALLPASS_BENCH_SECS` (each load phase, default 5, 1..=60)
//! - `HALLPASS_BENCH_CONCURRENCY` (connections, default 16, 1..=256)
//! - `HALLPASS_BENCH_ROUNDS` (rounds of the side-by-side refresh comparison, default 3, 1..=10)
//! - `HALLPASS_BENCH_SCALE` (comma-separated user counts to seed, default `10000`, each ≤ 2,000,000)
//! - `HALLPASS_BENCH_PG_SESSIONS` (sessions in the large PostgreSQL database, default 1,000,000)
//! - `HALLPASS_BENCH_SEED_SECS` (time budget for seeding one SQLite database, default 300)
//! - `HALLPASS_BENCH_PHASES` (comma-separated subset of `server,webhooks,side_by_side,rate_limits,
//!   scale,postgres,no_enumeration`; default all; `webhooks` alone for working on that phase)
//! - `HALLPASS_BENCH_OUT` (write the JSON here too)
//! - `HALLPASS_BENCH_DIR` (where the temporary databases go; default the system temp folder)
//!
//! Only 127.0.0.1. Seeding writes straight to the database with SQL (no production code path is
//! involved): every seeded user has the same password hash, one email address, one active session
//! and one refresh token; ids and token hashes are random like real ones, so the B-trees have the
//! shape they would have in production. Every load connection presents a client address of its own
//! (`X-Forwarded-For` from a trusted proxy), and the rate limits stay on with budgets no load here
//! reaches: each request pays for its check as it would in production.

#[path = "load/postgres.rs"]
mod postgres;

use std::net::SocketAddr;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use hallpass_protocol::{AuthResponse, paths};
use hallpass_server::password::{HashParams, hash_blocking};
use hallpass_server::secret::{Password, b64url_decode};
use hallpass_server::{AppState, Config, refresh, run};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

const PASSWORD: &str = "correct horse battery";
/// Sessions the refresh load cycles through (each worker owns its own, so no family is shared).
const LOAD_SESSIONS: usize = 64;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Conn {
    sender: SendRequest<Full<Bytes>>,
    addr: SocketAddr,
    /// The client address this connection presents (`X-Forwarded-For`).
    client: String,
}

/// The client address of load connection `n`.
fn client_ip(n: usize) -> String {
    format!("10.{}.{}.1", (n / 250) % 250, n % 250)
}

impl Conn {
    async fn open(addr: SocketAddr) -> Conn {
        Conn::open_as(addr, 0).await
    }

    /// A connection presenting client address [`client_ip`]`(n)`.
    async fn open_as(addr: SocketAddr, n: usize) -> Conn {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).ok();
        let (sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
        tokio::spawn(conn);
        Conn { sender, addr, client: client_ip(n) }
    }

    async fn send(&mut self, req: Request<Full<Bytes>>) -> (u16, Bytes) {
        self.sender.ready().await.expect("connection ready");
        let res = self.sender.send_request(req).await.expect("response");
        let status = res.status().as_u16();
        let body = res.into_body().collect().await.expect("body").to_bytes();
        (status, body)
    }

    async fn post(&mut self, path: &str, body: &Value) -> (u16, Bytes) {
        let req = Request::post(path)
            .header("host", self.addr.to_string())
            .header("x-forwarded-for", &self.client)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(serde_json::to_vec(body).expect("json"))))
            .expect("request");
        self.send(req).await
    }

    async fn get_bearer(&mut self, path: &str, jwt: &str) -> (u16, Bytes) {
        let req = Request::get(path)
            .header("host", self.addr.to_string())
            .header("x-forwarded-for", &self.client)
            .header("authorization", format!("Bearer {jwt}"))
            .body(Full::new(Bytes::new()))
            .expect("request");
        self.send(req).await
    }
}

/// Latency summary of one phase.
fn summary(mut lat: Vec<Duration>, errors: u64, elapsed: f64, concurrency: usize) -> Value {
    lat.sort();
    let pct = |p: f64| -> f64 {
        if lat.is_empty() {
            return 0.0;
        }
        let idx = ((lat.len() as f64 - 1.0) * p).round() as usize;
        lat[idx.min(lat.len() - 1)].as_secs_f64() * 1000.0
    };
    json!({
        "requests": lat.len(),
        "errors": errors,
        "secs": elapsed,
        "concurrency": concurrency,
        "rps": lat.len() as f64 / elapsed.max(1e-9),
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "max_ms": lat.last().map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0),
    })
}

/// CPU seconds this process has used (user + system, all threads), from `/proc/self/stat`; 0 where
/// that cannot be read. The load generator runs in this process too, so a phase's CPU per request is
/// what one request costs the machine, client included: comparable with the CPU of one signature.
fn process_cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the command name (which may hold spaces, so split after its closing paren):
    // utime and stime are the 14th and 15th fields of the line, in clock ticks.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { return 0.0 };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    (ticks(11) + ticks(12)) / hz.max(1.0)
}

/// Adds a phase's CPU use to its summary: milliseconds of CPU per request and how many cores were
/// busy on average (below the core count: the phase waited on something other than the CPU).
fn with_cpu(mut summary: Value, cpu_secs: f64) -> Value {
    let requests = summary["requests"].as_f64().unwrap_or(0.0);
    let secs = summary["secs"].as_f64().unwrap_or(0.0);
    summary["cpu_ms_per_request"] = json!(1000.0 * cpu_secs / requests.max(1.0));
    summary["cores_busy"] = json!(cpu_secs / secs.max(1e-9));
    summary
}

/// Runs `f` for `secs` on `threads` OS threads; returns operations per second.
fn rate(threads: usize, secs: f64, f: impl Fn() + Sync) -> f64 {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let start = Instant::now();
    let total: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        f();
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).sum()
    });
    total as f64 / start.elapsed().as_secs_f64()
}

/// A small xorshift generator: the bench needs spread, not secrecy.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Seeds `n` users (each: email address, one active session, one refresh token) in chunks of one
/// transaction each, straight in SQL. Stops early when `budget` runs out; returns the count reached
/// and the seconds it took.
async fn seed(db: &Path, n: u64, phc: &str, budget: Duration) -> (u64, f64) {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", db.display()))
        .expect("url")
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(30));
    let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await.expect("seed pool");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let started = Instant::now();
    let chunk: u64 = 50_000;
    let mut done = 0u64;
    let max_rowid = |table: &'static str| {
        let pool = pool.clone();
        async move {
            let sql = format!("SELECT COALESCE(MAX(rowid), 0) AS m FROM {table}");
            let row = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_one(&pool).await.expect("max rowid");
            row.try_get::<i64, _>("m").expect("m")
        }
    };
    while done < n && started.elapsed() < budget {
        let upto = (done + chunk).min(n);
        let users_before = max_rowid("users").await;
        let sessions_before = max_rowid("sessions").await;
        let mut tx = pool.begin().await.expect("begin");
        sqlx::query(
            "WITH RECURSIVE seq(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM seq WHERE i < $2) \
             INSERT INTO users (id, first_name, last_name, image_url, password_hash, primary_email_address_id, \
             public_metadata, private_metadata, unsafe_metadata, last_sign_in_at, created_at, updated_at) \
             SELECT 'user_' || lower(hex(randomblob(14))), 'Seed', 'User ' || i, '', $3, 'idn_seed' || i, \
             '{}', '{}', '{}', $4, $4, $4 FROM seq",
        )
        .bind(done as i64)
        .bind(upto as i64 - 1)
        .bind(phc)
        .bind(now)
        .execute(&mut *tx)
        .await
        .expect("seed users");
        sqlx::query(
            "INSERT INTO email_addresses (id, user_id, email_address, created_at) \
             SELECT primary_email_address_id, id, 'seed' || substr(primary_email_address_id, 9) || '@example.com', \
             created_at FROM users WHERE rowid > $1",
        )
        .bind(users_before)
        .execute(&mut *tx)
        .await
        .expect("seed emails");
        sqlx::query(
            "INSERT INTO sessions (id, user_id, status, last_active_at, expire_at, abandon_at, created_at, updated_at) \
             SELECT 'sess_' || lower(hex(randomblob(14))), id, 'active', $2, $3, $4, $2, $2 FROM users WHERE rowid > $1",
        )
        .bind(users_before)
        .bind(now)
        .bind(now + 7 * 24 * 3600 * 1000)
        .bind(now + 30 * 24 * 3600 * 1000)
        .execute(&mut *tx)
        .await
        .expect("seed sessions");
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, session_id, created_at) \
             SELECT lower(hex(randomblob(32))), id, $2 FROM sessions WHERE rowid > $1",
        )
        .bind(sessions_before)
        .bind(now)
        .execute(&mut *tx)
        .await
        .expect("seed refresh tokens");
        tx.commit().await.expect("commit");
        done = upto;
    }
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&pool).await.ok();
    pool.close().await;
    (done, started.elapsed().as_secs_f64())
}

/// Gives `count` seeded sessions (spread over the table) refresh tokens whose plaintext we know.
async fn known_tokens(db: &Path, seeded: u64, count: usize, seed: u64) -> Vec<String> {
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", db.display()))
        .expect("url")
        .busy_timeout(Duration::from_secs(30));
    let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await.expect("pool");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
    let mut tokens = Vec::with_capacity(count);
    let mut picked = std::collections::HashSet::new();
    // IMMEDIATE: it reads, then writes, beside a running server (a deferred transaction could be
    // refused its upgrade to a writer).
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.expect("begin");
    let mut tries = 0;
    while tokens.len() < count && tries < count * 4 {
        tries += 1;
        let rowid = 1 + (rng.next() % seeded.max(1)) as i64;
        if !picked.insert(rowid) {
            continue;
        }
        let Some(row) = sqlx::query("SELECT id FROM sessions WHERE rowid = $1")
            .bind(rowid)
            .fetch_optional(&mut *tx)
            .await
            .expect("session")
        else {
            continue;
        };
        let sid: String = row.try_get("id").expect("id");
        let token = refresh::generate().expect("rng");
        let n = sqlx::query(
            "UPDATE refresh_tokens SET token_hash = $1 WHERE session_id = $2 AND used_at IS NULL",
        )
        .bind(refresh::hash(&token))
        .bind(&sid)
        .execute(&mut *tx)
        .await
        .expect("token")
        .rows_affected();
        if n == 1 {
            tokens.push(token.expose().to_owned());
        }
    }
    tx.commit().await.expect("commit");
    pool.close().await;
    tokens
}

struct Server {
    state: AppState,
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(config: Config) -> Server {
    let state = AppState::new(config).await.expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(run(listener, state.clone(), async {
        let _ = stopped.await;
    }));
    Server { state, addr, stop, task }
}

impl Server {
    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = tokio::time::timeout(Duration::from_secs(10), self.task).await;
        self.state.store.close().await;
    }
}

/// Refreshes at fixed concurrency for `secs`; every worker has its own keep-alive connection (to the
/// servers of `addrs` in turn: replicas behind a load balancer), its own client address and its own
/// token families. Returns the summary and the newest session token of every family.
async fn refresh_load(
    addrs: &[SocketAddr],
    tokens: Vec<String>,
    concurrency: usize,
    secs: f64,
) -> (Value, Vec<String>) {
    let stop = Arc::new(AtomicBool::new(false));
    let mut per_worker: Vec<Vec<String>> = vec![Vec::new(); concurrency];
    for (i, t) in tokens.into_iter().enumerate() {
        per_worker[i % concurrency].push(t);
    }
    let started = Instant::now();
    let cpu = process_cpu_secs();
    let mut handles = Vec::new();
    let workers = per_worker.iter().filter(|w| !w.is_empty()).count();
    for (w, mut mine) in per_worker.into_iter().filter(|w| !w.is_empty()).enumerate() {
        let (stop, addr) = (stop.clone(), addrs[w % addrs.len()]);
        handles.push(tokio::spawn(async move {
            let mut conn = Conn::open_as(addr, w).await;
            let mut lat = Vec::new();
            let mut jwts = vec![String::new(); mine.len()];
            let mut errors = 0u64;
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) && lat.len() < 5_000_000 {
                let slot = i % mine.len();
                let t = Instant::now();
                let (status, body) = conn.post(paths::REFRESH, &json!({"refresh_token": mine[slot]})).await;
                lat.push(t.elapsed());
                match (status, serde_json::from_slice::<AuthResponse>(&body)) {
                    (200, Ok(auth)) => {
                        mine[slot] = auth.refresh_token.into_exposed();
                        jwts[slot] = auth.jwt.into_exposed();
                    }
                    _ => errors += 1,
                }
                i += 1;
            }
            (lat, errors, jwts)
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let (mut lat, mut errors, mut jwts) = (Vec::new(), 0, Vec::new());
    for h in handles {
        let (l, e, j) = h.await.expect("worker");
        lat.extend(l);
        errors += e;
        jwts.extend(j.into_iter().filter(|j| !j.is_empty()));
    }
    let cpu = process_cpu_secs() - cpu;
    (with_cpu(summary(lat, errors, started.elapsed().as_secs_f64(), workers), cpu), jwts)
}

/// `GET /v1/client/me` with Bearer session tokens at fixed concurrency for `secs`.
async fn me_load(addr: SocketAddr, jwts: Vec<String>, concurrency: usize, secs: f64) -> Value {
    let jwts = Arc::new(jwts);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let cpu = process_cpu_secs();
    let mut handles = Vec::new();
    for w in 0..concurrency {
        let (stop, jwts) = (stop.clone(), jwts.clone());
        handles.push(tokio::spawn(async move {
            let mut conn = Conn::open_as(addr, w).await;
            let mut lat = Vec::new();
            let mut errors = 0u64;
            let mut i = w;
            while !stop.load(Ordering::Relaxed) && lat.len() < 5_000_000 && !jwts.is_empty() {
                let t = Instant::now();
                let (status, _) = conn.get_bearer(paths::ME, &jwts[i % jwts.len()]).await;
                lat.push(t.elapsed());
                if status != 200 {
                    errors += 1;
                }
                i += 1;
            }
            (lat, errors)
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let (mut lat, mut errors) = (Vec::new(), 0);
    for h in handles {
        let (l, e) = h.await.expect("worker");
        lat.extend(l);
        errors += e;
    }
    with_cpu(summary(lat, errors, started.elapsed().as_secs_f64(), concurrency), process_cpu_secs() - cpu)
}

/// Sequential sign-ins on `streams` connections until `stop` (or `max` each); latencies.
async fn sign_in_load(
    addr: SocketAddr,
    streams: usize,
    max: usize,
    stop: Arc<AtomicBool>,
) -> (Vec<Duration>, u64) {
    let mut handles = Vec::new();
    for s in 0..streams {
        let stop = stop.clone();
        handles.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await;
            let (mut lat, mut errors) = (Vec::new(), 0u64);
            while !stop.load(Ordering::Relaxed) && lat.len() < max {
                let t = Instant::now();
                let email = format!("seed{}@example.com", s % 8);
                let (status, _) =
                    conn.post(paths::SIGN_INS, &json!({"identifier": email, "password": PASSWORD})).await;
                lat.push(t.elapsed());
                if status != 200 {
                    errors += 1;
                }
            }
            (lat, errors)
        }));
    }
    let (mut lat, mut errors) = (Vec::new(), 0);
    for h in handles {
        let (l, e) = h.await.expect("sign-in worker");
        lat.extend(l);
        errors += e;
    }
    (lat, errors)
}

/// A sign-in flood: `streams` connections, each signing in with a wrong password back to back until
/// `stop` (or `max` each). Counts the answers: `(wrong password, busy, other, latencies)`.
async fn flood(
    addr: SocketAddr,
    streams: usize,
    max: usize,
    stop: Arc<AtomicBool>,
) -> (u64, u64, u64, Vec<Duration>) {
    let mut handles = Vec::new();
    for s in 0..streams {
        let stop = stop.clone();
        handles.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await;
            let (mut wrong, mut busy, mut other, mut lat) = (0u64, 0u64, 0u64, Vec::new());
            while !stop.load(Ordering::Relaxed) && lat.len() < max {
                let t = Instant::now();
                let email = format!("seed{}@example.com", s % 8);
                let (status, _) = conn
                    .post(paths::SIGN_INS, &json!({"identifier": email, "password": "not the password"}))
                    .await;
                lat.push(t.elapsed());
                match status {
                    422 => wrong += 1,
                    503 => {
                        busy += 1;
                        // A client honouring Retry-After would wait; a flood does not, but a pause
                        // keeps the generator from spinning on the shared cores.
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    _ => other += 1,
                }
            }
            (wrong, busy, other, lat)
        }));
    }
    let (mut wrong, mut busy, mut other, mut lat) = (0, 0, 0, Vec::new());
    for h in handles {
        let (w, b, o, l) = h.await.expect("flood worker");
        wrong += w;
        busy += b;
        other += o;
        lat.extend(l);
    }
    (wrong, busy, other, lat)
}

/// A field of `/proc/self/status`, in KiB (0 where there is no procfs).
fn self_status_kib(field: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn db_bytes(db: &Path) -> u64 {
    ["", "-wal", "-shm"]
        .iter()
        .filter_map(|suffix| {
            let mut p = db.as_os_str().to_owned();
            p.push(suffix);
            std::fs::metadata(p).ok().map(|m| m.len())
        })
        .sum()
}

/// A webhook receiver on loopback that answers every request `200 ok` and counts them.
async fn hook_receiver() -> (SocketAddr, Arc<AtomicU64>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind receiver");
    let addr = listener.local_addr().expect("receiver addr");
    let count = Arc::new(AtomicU64::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            stream.set_nodelay(true).ok();
            let count = counted.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
                    let count = count.clone();
                    async move {
                        let _ = req.into_body().collect().await;
                        count.fetch_add(1, Ordering::Relaxed);
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                            Bytes::from_static(b"ok"),
                        )))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, count)
}

/// `per_stream` sign-ups on each of `streams` connections, with unique addresses; latencies.
async fn sign_up_load(
    addr: SocketAddr,
    streams: usize,
    per_stream: usize,
    tag: &str,
) -> (Vec<Duration>, u64) {
    let mut handles = Vec::new();
    for s in 0..streams {
        let tag = tag.to_owned();
        handles.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await;
            let (mut lat, mut errors) = (Vec::new(), 0u64);
            for i in 0..per_stream {
                let email = format!("{tag}-{s}-{i}@example.com");
                let t = Instant::now();
                let (status, _) =
                    conn.post(paths::SIGN_UPS, &json!({"email_address": email, "password": PASSWORD})).await;
                lat.push(t.elapsed());
                if status != 200 {
                    errors += 1;
                }
            }
            (lat, errors)
        }));
    }
    let (mut lat, mut errors) = (Vec::new(), 0);
    for h in handles {
        let (l, e) = h.await.expect("sign-up worker");
        lat.extend(l);
        errors += e;
    }
    (lat, errors)
}

/// Creates `count` endpoints of `state` pointing at the receiver.
async fn endpoints_to(state: &AppState, receiver: SocketAddr, count: usize) {
    use hallpass_server::store::webhook_endpoints::NewEndpoint;
    for i in 0..count {
        let endpoint = NewEndpoint {
            id: hallpass_server::secret::new_id("ep_").expect("id"),
            url: format!("http://{receiver}/hooks/{i}"),
            description: String::new(),
            event_types: None,
            secret: hallpass_server::webhooks::signature::new_secret().expect("secret"),
            now: state.now_ms(),
        };
        state.store.create_webhook_endpoint(&endpoint).await.expect("endpoint");
    }
}

/// Waits (at most `within`) until `count` reaches `target`; the seconds it took, or `None`.
async fn until_count(count: &AtomicU64, target: u64, within: Duration) -> Option<f64> {
    let started = Instant::now();
    while count.load(Ordering::Relaxed) < target {
        if started.elapsed() > within {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Some(started.elapsed().as_secs_f64())
}

/// Sign-up latency on three servers, `rounds` alternating batches each (so all see the same
/// machine), with these Argon2 parameters: without endpoints; with three endpoints its own worker
/// delivers to meanwhile; with three endpoints and no worker in the process (the outbox alone, as on a
/// replica that leaves delivery to others: `--webhook-concurrency 0`).
async fn sign_up_with_and_without_endpoints(
    dir: &Path,
    label: &str,
    argon: HashParams,
    rounds: usize,
    per_stream: usize,
) -> Value {
    const STREAMS: usize = 4;
    let (receiver, received) = hook_receiver().await;
    let mut servers = Vec::new();
    for (i, (endpoints, worker)) in [(0usize, true), (3, true), (3, false)].into_iter().enumerate() {
        let mut config = Config::for_tests(dir.join(format!("signup-{label}-{i}.db")));
        config.argon2_memory_kib = argon.memory_kib;
        config.argon2_iterations = argon.iterations;
        config.argon2_parallelism = argon.parallelism;
        config.disable_rate_limits = true;
        if !worker {
            config.webhook_concurrency = 0;
        }
        let server = start(config).await;
        endpoints_to(&server.state, receiver, endpoints).await;
        servers.push(server);
    }
    // (latencies, errors, seconds) of each server.
    let mut sides: Vec<(Vec<Duration>, u64, f64)> = vec![(Vec::new(), 0, 0.0); servers.len()];
    // Every sign-up's two events reach all three endpoints of the server with a worker.
    let per_batch = (STREAMS * per_stream * 2 * 3) as u64;
    let mut batches_delivered = 0;
    let mut drained = Some(0.0);
    for round in 0..rounds {
        // Each round starts with another server, so none always runs first.
        for k in 0..servers.len() {
            let i = (round + k) % servers.len();
            let started = Instant::now();
            let (lat, errors) =
                sign_up_load(servers[i].addr, STREAMS, per_stream, &format!("{label}{round}")).await;
            sides[i].0.extend(lat);
            sides[i].1 += errors;
            sides[i].2 += started.elapsed().as_secs_f64();
            if i == 1 {
                // The worker's backlog is delivered before the next server is measured: its work
                // counts against the sign-ups it ran beside, not the next server's.
                batches_delivered += 1;
                let waited =
                    until_count(&received, per_batch * batches_delivered, Duration::from_secs(120)).await;
                drained = drained.zip(waited).map(|(a, b)| f64::max(a, b));
            }
        }
    }
    let expected = per_batch * rounds as u64;
    for server in servers {
        server.stop().await;
    }
    let mut sides = sides.into_iter().map(|(lat, errors, secs)| summary(lat, errors, secs, STREAMS));
    json!({
        "argon2": {"memory_kib": argon.memory_kib, "iterations": argon.iterations},
        "streams": STREAMS,
        "without": sides.next(),
        "with_3_endpoints": sides.next(),
        "with_3_endpoints_outbox_only": sides.next(),
        "deliveries_expected": expected,
        "deliveries_received": received.load(Ordering::Relaxed),
        // The longest wait, after a batch, for its deliveries to finish (`null`: one never did).
        "drained_after_secs": drained,
    })
}

/// Deliveries per second from a backlog: `events` events committed while no worker runs, then a
/// server with its worker started on the database, timed until the receiver has them all.
async fn delivery_rate(dir: &Path, endpoints: usize, events: usize) -> Value {
    let (receiver, received) = hook_receiver().await;
    let db = dir.join(format!("deliveries-{endpoints}.db"));
    let mut config = Config::for_tests(&db);
    config.webhook_concurrency = 0;
    let quiet = start(config.clone()).await;
    endpoints_to(&quiet.state, receiver, endpoints).await;
    // A user as the events carry it (about 600 bytes of JSON).
    let data = json!({
        "object": "user", "id": "user_2bXkQ0aY3Kx9d8JmN1pQrS", "first_name": "Ada", "last_name": "Lovelace",
        "image_url": "", "primary_email_address_id": "idn_2bXkQ0aY3Kx9d8JmN1pQrT",
        "email_addresses": [{"object": "email_address", "id": "idn_2bXkQ0aY3Kx9d8JmN1pQrT",
                             "email_address": "ada@example.com"}],
        "public_metadata": {"plan": "pro", "seats": 12}, "private_metadata": {"stripe": "cus_123"},
        "unsafe_metadata": {}, "password_enabled": true, "last_sign_in_at": 1_700_000_000_000i64,
        "created_at": 1_700_000_000_000i64, "updated_at": 1_700_000_000_000i64,
    });
    for batch in 0..events.div_ceil(100) {
        let mut tx = quiet.state.store.write_tx().await.expect("tx");
        for _ in 0..100.min(events - batch * 100) {
            tx.emit(hallpass_protocol::EventType::UserUpdated, &data, quiet.state.now_ms()).expect("emit");
        }
        tx.commit().await.expect("commit");
    }
    quiet.stop().await;
    config.webhook_concurrency = 16;
    let started = Instant::now();
    let server = start(config).await;
    let target = (events * endpoints) as u64;
    let secs = until_count(&received, target, Duration::from_secs(300)).await;
    let total = started.elapsed().as_secs_f64();
    server.stop().await;
    json!({
        "endpoints": endpoints,
        "events": events,
        "deliveries": received.load(Ordering::Relaxed),
        "secs": secs.unwrap_or(total),
        "complete": secs.is_some(),
        "per_sec": received.load(Ordering::Relaxed) as f64 / secs.unwrap_or(total).max(1e-9),
    })
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let report = runtime.block_on(bench());
    let text = serde_json::to_string_pretty(&report).expect("json");
    println!("{text}");
    if let Ok(out) = std::env::var("HALLPASS_BENCH_OUT") {
        std::fs::write(&out, text + "\n").expect("writing HALLPASS_BENCH_OUT");
    }
}

/// Whether `HALLPASS_BENCH_PHASES` (default: all) includes `phase`.
fn phase(phase: &str) -> bool {
    std::env::var("HALLPASS_BENCH_PHASES").map_or(true, |p| p.split(',').any(|x| x.trim() == phase))
}

/// A config for a load server on `db`: rate limits on, with budgets no load here reaches, and each
/// load connection a client of its own behind a trusted proxy (every request pays for its check).
fn limited(mut config: Config) -> Config {
    config.disable_rate_limits = false;
    config.trusted_proxies = vec!["127.0.0.1".into()];
    config.rate_limit_requests_per_ip = 100_000_000;
    config.rate_limit_auth_per_ip = 100_000_000;
    config
}

async fn bench() -> Value {
    let secs = env_or("HALLPASS_BENCH_SECS", 5).clamp(1, 60) as f64;
    let concurrency = env_or("HALLPASS_BENCH_CONCURRENCY", 16).clamp(1, 256) as usize;
    let rounds = env_or("HALLPASS_BENCH_ROUNDS", 3).clamp(1, 10) as usize;
    let seed_budget = Duration::from_secs(env_or("HALLPASS_BENCH_SEED_SECS", 300).clamp(5, 1200));
    let pg_sessions = env_or("HALLPASS_BENCH_PG_SESSIONS", 1_000_000).clamp(1000, 2_000_000);
    let scale: Vec<u64> = std::env::var("HALLPASS_BENCH_SCALE")
        .unwrap_or_else(|_| "10000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .map(|n: u64| n.clamp(1, 2_000_000))
        .collect();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let base = std::env::var_os("HALLPASS_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&base).expect("bench dir");
    let dir = tempfile::tempdir_in(&base).expect("tempdir");

    // One password hash with the parameters in use (OWASP defaults), shared by every seeded user.
    let params = Config::defaults();
    let hash_params = HashParams {
        memory_kib: params.argon2_memory_kib,
        iterations: params.argon2_iterations,
        parallelism: params.argon2_parallelism,
    };
    let phc = hash_blocking(hash_params, &Password::new(PASSWORD)).expect("hash");
    let ceiling_secs = (secs / 2.0).clamp(1.0, 3.0);

    let mut report = serde_json::Map::new();
    report.insert("cores".into(), json!(cores));
    report.insert("secs".into(), json!(secs));
    report.insert("concurrency".into(), json!(concurrency));
    report.insert(
        "argon2".into(),
        json!({"memory_kib": hash_params.memory_kib, "iterations": hash_params.iterations,
               "parallelism": hash_params.parallelism}),
    );
    if phase("server") {
        server_phases(&mut report, &dir, &phc, hash_params, secs, concurrency, seed_budget).await;
    }
    if phase("webhooks") {
        report.insert("webhooks".into(), webhooks(dir.path(), secs, hash_params).await);
    }
    if phase("side_by_side") {
        let v = side_by_side(&dir, &phc, secs, ceiling_secs, concurrency, rounds, seed_budget).await;
        report.insert("side_by_side".into(), v);
    }
    if phase("rate_limits") {
        report.insert("rate_limits".into(), rate_limit_costs(&dir, ceiling_secs).await);
    }
    if phase("scale") {
        report.insert("scale".into(), scale_curve(&dir, &phc, scale, secs, concurrency, seed_budget).await);
    }
    if phase("postgres") {
        report.insert(
            "postgres".into(),
            postgres::run(&phc, secs, ceiling_secs, concurrency, pg_sessions).await,
        );
    }
    if phase("no_enumeration") {
        report.insert("no_enumeration".into(), no_enumeration(dir.path(), secs).await);
    }
    Value::Object(report)
}

/// Addresses with and without an account asked for an email code (`email_code`) and for a password
/// reset (`reset_password_email_code`), side by side: each is two requests — `POST
/// /v1/client/sign_ins {identifier}`, then `prepare_first_factor {strategy}` — and every worker
/// alternates a known and an unknown address (which goes first alternating too), so drift and load
/// touch both alike. Latencies of each request, per kind of address; the answer must be 200 for both.
/// Emails go to the development mailbox (known addresses) or are written `suppressed` (unknown ones),
/// as in production without SMTP; the send limits are lifted (they have their own tests).
async fn no_enumeration(dir: &Path, secs: f64) -> Value {
    const USERS: usize = 32;
    const WORKERS: usize = 4;
    let db = dir.join("no-enumeration.db");
    let mut config = limited(Config::for_tests(&db));
    config.email_sends_per_address = 100_000_000;
    config.email_sends_per_ip = 100_000_000;
    let server = start(config).await;
    let mut conn = Conn::open(server.addr).await;
    for i in 0..USERS {
        let body = json!({"email_address": format!("known{i}@example.com"), "password": PASSWORD});
        let (status, answer) = conn.post(paths::SIGN_UPS, &body).await;
        assert_eq!(status, 200, "sign-up: {}", String::from_utf8_lossy(&answer));
    }
    let mut out = serde_json::Map::new();
    for strategy in ["email_code", "reset_password_email_code"] {
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let workers: Vec<_> = (0..WORKERS)
            .map(|w| {
                let (stop, addr) = (stop.clone(), server.addr);
                tokio::spawn(async move {
                    let mut conn = Conn::open_as(addr, w).await;
                    // [known, unknown] × [create, prepare]
                    let mut lat: [[Vec<Duration>; 2]; 2] = Default::default();
                    let mut errors = [0u64; 2];
                    let mut i = w;
                    // Which kind goes first alternates every round, so each kind follows the other's
                    // prepare as often as its own. (Stepping `i` by WORKERS, an even number, fixed the
                    // order: an unknown address's create always came right after a known address's
                    // prepare, and measured 8-15 % slower at p50 for it.)
                    let mut round = w;
                    while !stop.load(Ordering::Relaxed) && lat[0][0].len() < 1_000_000 {
                        round += 1;
                        for turn in 0..2 {
                            let unknown = (turn + round) % 2;
                            let who = if unknown == 1 { "nobody" } else { "known" };
                            let identifier = format!("{who}{}@example.com", i % USERS);
                            let t = Instant::now();
                            let (status, body) =
                                conn.post(paths::SIGN_INS, &json!({"identifier": identifier})).await;
                            lat[unknown][0].push(t.elapsed());
                            let id = serde_json::from_slice::<Value>(&body)
                                .ok()
                                .and_then(|v| v["sign_in"]["id"].as_str().map(str::to_owned));
                            let Some(id) = id.filter(|_| status == 200) else {
                                errors[unknown] += 1;
                                continue;
                            };
                            let prepare = paths::fill(paths::SIGN_IN_PREPARE_FIRST_FACTOR, &[&id]);
                            let t = Instant::now();
                            let (status, _) = conn.post(&prepare, &json!({"strategy": strategy})).await;
                            lat[unknown][1].push(t.elapsed());
                            if status != 200 {
                                errors[unknown] += 1;
                            }
                        }
                        i += WORKERS;
                    }
                    (lat, errors)
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_secs_f64(secs)).await;
        stop.store(true, Ordering::Relaxed);
        let mut lat: [[Vec<Duration>; 2]; 2] = Default::default();
        let mut errors = [0u64; 2];
        for worker in workers {
            let (l, e) = worker.await.expect("no-enumeration worker");
            for (kind, requests) in l.into_iter().enumerate() {
                for (step, durations) in requests.into_iter().enumerate() {
                    lat[kind][step].extend(durations);
                }
                errors[kind] += e[kind];
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        let [[known_create, known_prepare], [unknown_create, unknown_prepare]] = lat;
        let side = |known: Vec<Duration>, unknown: Vec<Duration>| {
            let (k, u) =
                (summary(known, errors[0], elapsed, WORKERS), summary(unknown, errors[1], elapsed, WORKERS));
            let ratio =
                |field: &str| u[field].as_f64().unwrap_or(0.0) / k[field].as_f64().unwrap_or(0.0).max(1e-9);
            json!({ "p50_ratio": ratio("p50_ms"), "p99_ratio": ratio("p99_ms"), "known": k, "unknown": u })
        };
        out.insert(
            strategy.into(),
            json!({
                "create": side(known_create, unknown_create),
                "prepare": side(known_prepare, unknown_prepare),
            }),
        );
    }
    server.stop().await;
    Value::Object(out)
}

/// RSA sign rates of `key` on one thread and on all cores (the refresh ceiling).
/// The RS256 sign rate on one thread and on every core, and the CPU milliseconds one signature
/// costs when every core signs (the denominator of "what share of the ceiling a phase can reach").
fn sign_rates(key: &hallpass_server::jwt::SigningKey, secs: f64) -> (f64, f64, f64) {
    let msg = b"eyJhbGciOiJSUzI1NiIsImtpZCI6Imluc18xIn0.eyJzdWIiOiJ1c2VyXzEyMyIsInNpZCI6InNlc3NfMTIzIn0";
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let one = rate(1, secs, || {
        key.sign_rs256(msg).expect("sign");
    });
    let (cpu, started) = (process_cpu_secs(), Instant::now());
    let all = rate(cores, secs, || {
        key.sign_rs256(msg).expect("sign");
    });
    let signatures = all * started.elapsed().as_secs_f64();
    (one, all, 1000.0 * (process_cpu_secs() - cpu) / signatures.max(1.0))
}

/// The refresh write path beside the sign ceiling, in alternating rounds on one machine: each round
/// measures the RS256 sign rate on all cores, then refresh on a server committing rotations in
/// groups (the default), then on one committing each rotation in its own transaction
/// (`--refresh-batch-max 1`), each on its own SQLite database of 1000 users. Alternating rounds keep
/// a busy machine's drift out of the ratios.
async fn side_by_side(
    dir: &tempfile::TempDir,
    phc: &str,
    secs: f64,
    ceiling_secs: f64,
    concurrency: usize,
    rounds: usize,
    seed_budget: Duration,
) -> Value {
    let mut servers = Vec::new();
    for (name, batch) in [("grouped", hallpass_server::store::group_commit::DEFAULT_MAX), ("single", 1)] {
        let db = dir.path().join(format!("side-{name}.db"));
        let mut config = limited(Config::for_tests(&db));
        config.refresh_batch_max = batch;
        let server = start(config).await;
        let (seeded, _) = seed(&db, 1000, phc, seed_budget).await;
        servers.push((name, db, seeded, server));
    }
    let mut per_round = Vec::new();
    for round in 0..rounds {
        let key = servers[0].3.state.signing_key();
        let (_, sign_all, sign_cpu_ms) = sign_rates(&key, ceiling_secs);
        let mut row = json!({ "sign_all": sign_all, "sign_cpu_ms": sign_cpu_ms });
        for (name, db, seeded, server) in &servers {
            let tokens = known_tokens(db, *seeded, LOAD_SESSIONS, 100 + round as u64).await;
            let (refresh, _) = refresh_load(&[server.addr], tokens, concurrency, secs).await;
            row[*name] = refresh;
        }
        eprintln!("side by side, round {round}: {row}");
        per_round.push(row);
    }
    for (_, _, _, server) in servers {
        server.stop().await;
    }
    // Each round's ratio to its own ceiling; the median round.
    let median = |name: &str| -> Value {
        let mut ratios: Vec<(f64, usize)> = per_round
            .iter()
            .enumerate()
            .map(|(i, r)| {
                (r[name]["rps"].as_f64().unwrap_or(0.0) / r["sign_all"].as_f64().unwrap_or(1.0).max(1.0), i)
            })
            .collect();
        ratios.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (ratio, i) = ratios[ratios.len() / 2];
        json!({ "ratio": ratio, "round": i, "refresh": per_round[i][name], "sign_all": per_round[i]["sign_all"],
                "sign_cpu_ms": per_round[i]["sign_cpu_ms"] })
    };
    json!({ "rounds": per_round, "grouped": median("grouped"), "single": median("single") })
}

/// What one rate-limit check costs: `Limits::request` with the counters in memory, and in the
/// database (SQLite file, PostgreSQL), one caller at a time (latency) and 16 at once (throughput),
/// each caller a different client address.
async fn rate_limit_costs(dir: &tempfile::TempDir, secs: f64) -> Value {
    use hallpass_server::ratelimit::{Counters, DatabaseCounters, Limits, MemoryCounters};
    use hallpass_server::store::Store;

    async fn measure(counters: Box<dyn Counters>, secs: f64) -> Value {
        let config = limited(Config::defaults());
        let limits = Arc::new(Limits::new(&config, counters));
        let (one, _) = calls(limits.clone(), 1, secs).await;
        let (many, errors) = calls(limits, 16, secs).await;
        json!({ "sequential_us": 1e6 / one.max(1e-9), "calls_per_sec_16": many, "errors": errors })
    }

    /// Calls per second from `callers` tasks for `secs`, and how many failed.
    async fn calls(limits: Arc<Limits>, callers: usize, secs: f64) -> (f64, u64) {
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let handles: Vec<_> = (0..callers)
            .map(|c| {
                let (limits, stop) = (limits.clone(), stop.clone());
                tokio::spawn(async move {
                    let (mut n, mut errors) = (0u64, 0u64);
                    let key = client_ip(c);
                    while !stop.load(Ordering::Relaxed) && n < 50_000_000 {
                        let now = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map(|d| d.as_millis() as i64)
                            .unwrap_or(0);
                        match limits.request(&key, now).await {
                            Ok(Ok(())) => {}
                            _ => errors += 1,
                        }
                        n += 1;
                        if n % 64 == 0 {
                            tokio::task::yield_now().await;
                        }
                    }
                    (n, errors)
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_secs_f64(secs)).await;
        stop.store(true, Ordering::Relaxed);
        let (mut n, mut errors) = (0, 0);
        for h in handles {
            let (a, b) = h.await.expect("caller");
            n += a;
            errors += b;
        }
        (n as f64 / started.elapsed().as_secs_f64(), errors)
    }

    let memory = measure(Box::<MemoryCounters>::default(), secs).await;
    let sqlite_url = format!("sqlite://{}?mode=rwc", dir.path().join("limits.db").display());
    let store = Store::open(&sqlite_url, 8).await.expect("sqlite store");
    let sqlite = measure(Box::new(DatabaseCounters(store.clone())), secs).await;
    store.close().await;
    let postgres = match postgres::Database::start("limits").await {
        Ok(pg) => {
            let store = Store::open(&pg.url, 8).await.expect("postgres store");
            let v = measure(Box::new(DatabaseCounters(store.clone())), secs).await;
            store.close().await;
            v
        }
        Err(e) => json!({ "error": e }),
    };
    json!({ "memory": memory, "sqlite": sqlite, "postgres": postgres })
}

/// The refresh cost curve as the SQLite database grows.
async fn scale_curve(
    dir: &tempfile::TempDir,
    phc: &str,
    scale: Vec<u64>,
    secs: f64,
    concurrency: usize,
    seed_budget: Duration,
) -> Value {
    let mut scale_results = Vec::new();
    for n in scale {
        let db = dir.path().join(format!("scale-{n}.db"));
        let mut config = Config::for_tests(&db);
        config.disable_rate_limits = true;
        let server = start(config).await;
        let (seeded, seed_secs) = seed(&db, n, phc, seed_budget).await;
        let bytes = db_bytes(&db);
        eprintln!("scale: seeded {seeded} of {n} users in {seed_secs:.1} s, {bytes} bytes");
        let tokens = known_tokens(&db, seeded, LOAD_SESSIONS, n).await;
        let (refresh, _) = refresh_load(&[server.addr], tokens, concurrency, secs).await;
        server.stop().await;
        scale_results.push(json!({
            "users": n,
            "seeded": seeded,
            "seed_secs": seed_secs,
            "db_bytes": bytes,
            "db_bytes_after_refresh": db_bytes(&db),
            "refresh": refresh,
        }));
        let _ = std::fs::remove_file(&db);
        for suffix in ["-wal", "-shm"] {
            let mut p = db.as_os_str().to_owned();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
    Value::Array(scale_results)
}

/// The server at its production settings with 1000 seeded users: the ceilings, sign-in, refresh,
/// `/me`, refresh beside sign-ins, and the sign-in flood.
async fn server_phases(
    report: &mut serde_json::Map<String, Value>,
    dir: &tempfile::TempDir,
    phc: &str,
    hash_params: HashParams,
    secs: f64,
    concurrency: usize,
    seed_budget: Duration,
) {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let db = dir.path().join("load.db");
    let mut config = Config::for_tests(&db);
    config.argon2_memory_kib = hash_params.memory_kib;
    config.argon2_iterations = hash_params.iterations;
    config.argon2_parallelism = hash_params.parallelism;
    config.disable_rate_limits = true;
    let server = start(config.clone()).await;
    let (seeded, _) = seed(&db, 1000, phc, seed_budget).await;
    eprintln!("load: seeded {seeded} users");
    let addr = server.addr;

    // Ceilings: raw RS256 (RSASSA-PKCS1-v1_5 SHA-256, RSA-2048, aws-lc-rs) with the server's key.
    let key = server.state.signing_key();
    let bits = key.bits();
    let msg = b"eyJhbGciOiJSUzI1NiIsImtpZCI6Imluc18xIn0.eyJzdWIiOiJ1c2VyXzEyMyIsInNpZCI6InNlc3NfMTIzIn0";
    let sig = key.sign_rs256(msg).expect("sign");
    let jwk = key.jwk();
    let component = |name: &str| b64url_decode(jwk[name].as_str().unwrap_or_default()).expect("jwk");
    let public = aws_lc_rs::signature::RsaPublicKeyComponents { n: component("n"), e: component("e") };
    let ceiling_secs = (secs / 2.0).clamp(1.0, 3.0);
    let (sign_1, sign_all, sign_cpu_ms) = sign_rates(&key, ceiling_secs);
    let verify_raw = || {
        public.verify(&aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256, msg, &sig).expect("verify");
    };
    let verify_1 = rate(1, ceiling_secs, verify_raw);
    let verify_all = rate(cores, ceiling_secs, verify_raw);

    // The common-password check sign-up makes: a binary search over the list compiled in.
    let candidates: Vec<String> = (0..20_000u32)
        .map(|i| {
            if i % 2 == 0 {
                format!("candidate password {i}")
            } else {
                "iloveyou".repeat(1 + (i as usize % 3))
            }
        })
        .collect();
    let t = Instant::now();
    let hits = candidates.iter().filter(|c| hallpass_server::common_passwords::contains(c)).count();
    let password_check_ns = t.elapsed().as_nanos() as f64 / candidates.len() as f64;
    std::hint::black_box(hits);

    // Sign-in latency, sequential, with the Argon2id parameters in use.
    let count = (secs as usize * 4).clamp(5, 40);
    let (sign_in_lat, sign_in_errors) = sign_in_load(addr, 1, count, Arc::new(AtomicBool::new(false))).await;
    let sign_in = summary(sign_in_lat, sign_in_errors, 1.0, 1);

    // Refresh alone, then the protected endpoint with the freshest session tokens.
    let tokens = known_tokens(&db, seeded, LOAD_SESSIONS, 1).await;
    let (refresh_alone, jwts) = refresh_load(&[addr], tokens, concurrency, secs).await;
    // The session tokens the verify ceiling compares against: the same ones /me verifies.
    let issuer = server.state.public_url();
    let verify_full = jwts.first().map(|jwt| {
        let now = server.state.now_ms();
        let keys = &server.state.keys;
        (
            rate(1, ceiling_secs, || {
                keys.verify(jwt, now, &issuer).expect("verify jwt");
            }),
            rate(cores, ceiling_secs, || {
                keys.verify(jwt, now, &issuer).expect("verify jwt");
            }),
        )
    });
    let me = me_load(addr, jwts, concurrency, secs).await;

    // Refresh while sign-ins run: two sign-in streams (Argon2id on the blocking pool) beside the load.
    let tokens = known_tokens(&db, seeded, LOAD_SESSIONS, 2).await;
    let stop_sign_ins = Arc::new(AtomicBool::new(false));
    let sign_ins = tokio::spawn(sign_in_load(addr, 2, 10_000, stop_sign_ins.clone()));
    let (refresh_mixed, _) = refresh_load(&[addr], tokens, concurrency, secs).await;
    stop_sign_ins.store(true, Ordering::Relaxed);
    let (mixed_lat, mixed_errors) = sign_ins.await.expect("sign-ins");
    let sign_in_mixed = summary(mixed_lat, mixed_errors, secs, 2);

    // Sign-in flood: 64 connections of back-to-back sign-ins saturate the Argon2 slots while the
    // refresh load runs. Peak memory of the whole process (server and load generator) from VmHWM,
    // reset first (writing 5 to clear_refs), so it is this phase's peak.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let rss_start_kib = self_status_kib("VmRSS");
    let tokens = known_tokens(&db, seeded, LOAD_SESSIONS, 3).await;
    let stop_flood = Arc::new(AtomicBool::new(false));
    let flooding = tokio::spawn(flood(addr, 64, 1_000_000, stop_flood.clone()));
    let (refresh_flood, _) = refresh_load(&[addr], tokens, concurrency, secs).await;
    stop_flood.store(true, Ordering::Relaxed);
    let (wrong, busy, other, flood_lat) = flooding.await.expect("flood");
    let peak_kib = self_status_kib("VmHWM");
    let flood_summary = summary(flood_lat, other, secs, 64);
    let slots = server.state.hasher.concurrency();
    server.stop().await;
    let more = json!({
        "rs256": {
            "bits": bits,
            "sign_1": sign_1, "sign_all": sign_all, "sign_cpu_ms": sign_cpu_ms,
            "verify_raw_1": verify_1, "verify_raw_all": verify_all,
            "verify_jwt_1": verify_full.map(|v| v.0), "verify_jwt_all": verify_full.map(|v| v.1),
        },
        "sign_in": sign_in,
        "common_passwords": {"entries": hallpass_server::common_passwords::len(), "check_ns": password_check_ns},
        "refresh": refresh_alone,
        "me": me,
        "refresh_with_sign_ins": refresh_mixed,
        "sign_in_during_refresh": sign_in_mixed,
        "sign_in_flood": {
            "streams": 64,
            "refresh": refresh_flood,
            "sign_ins": flood_summary,
            "answered_422": wrong,
            "busy_503": busy,
            "other": other,
            "rss_start_kib": rss_start_kib,
            "peak_rss_kib": peak_kib,
            "hash_slots": slots,
            "hash_memory_bound_kib": slots as u64 * u64::from(hash_params.memory_kib),
        },
    });
    if let Value::Object(more) = more {
        report.extend(more);
    }
}

/// Webhooks: sign-up with and without subscribed endpoints; deliveries per second from a backlog.
async fn webhooks(dir: &Path, secs: f64, production: HashParams) -> Value {
    let rounds = (secs as usize).clamp(2, 8);
    let sign_up_production =
        sign_up_with_and_without_endpoints(dir, "production", production, rounds, 6).await;
    let cheap = HashParams { memory_kib: 256, iterations: 1, parallelism: 1 };
    let sign_up_cheap = sign_up_with_and_without_endpoints(dir, "cheap", cheap, rounds, 40).await;
    let backlog = (secs as usize * 400).clamp(500, 4000);
    let deliveries_1 = delivery_rate(dir, 1, backlog).await;
    let deliveries_8 = delivery_rate(dir, 8, backlog / 2).await;
    eprintln!("webhooks: {deliveries_1} {deliveries_8}");
    json!({
        "sign_up_production": sign_up_production,
        "sign_up_cheap": sign_up_cheap,
        "deliveries_1_endpoint": deliveries_1,
        "deliveries_8_endpoints": deliveries_8,
    })
}
