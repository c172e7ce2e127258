//! Issue 13's attack table, one test per row, against the real `hallpass-server` binary on loopback.
//!
//! Each test starts the binary with its own data directory and configures it only through
//! `HALLPASS_*` environment variables, so the same test also runs against an older build (which
//! ignores variables it does not know): `HALLPASS_ATTACK_SERVER_BIN=/path/to/old/hallpass-server
//! cargo test -p hallpass-server --test attacks -- --nocapture` shows the "before" numbers, which
//! every test prints. Attackers and victims use different loopback source addresses (127.0.0.x), so
//! per-address limits can tell them apart. Every loop is bounded in count and time.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const PASSWORD: &str = "correct horse battery";

struct Server {
    child: Child,
    addr: SocketAddr,
    dir: tempfile::TempDir,
    secret_key: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary() -> PathBuf {
    std::env::var_os("HALLPASS_ATTACK_SERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_hallpass-server")))
}

/// Starts the server in a fresh directory (its database in `.hallpass/` there), cheap Argon2 unless
/// `env` says otherwise, and waits up to 60 s for its ready file.
fn start(env: &[(&str, &str)]) -> Server {
    start_in(tempfile::tempdir().unwrap(), env, None)
}

fn start_in(dir: tempfile::TempDir, env: &[(&str, &str)], nofile_soft: Option<u64>) -> Server {
    try_start(dir, env, nofile_soft).unwrap_or_else(|(e, _)| panic!("{e}"))
}

fn try_start(
    dir: tempfile::TempDir,
    env: &[(&str, &str)],
    nofile_soft: Option<u64>,
) -> Result<Server, (String, tempfile::TempDir)> {
    let ready = dir.path().join("ready.json");
    let _ = std::fs::remove_file(&ready);
    let mut cmd = Command::new(binary());
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("HALLPASS_")) {
        cmd.env_remove(k);
    }
    cmd.current_dir(dir.path())
        .args(["--addr", "127.0.0.1:0", "--ready-file"])
        .arg(&ready)
        .env("HALLPASS_ARGON2_MEMORY_KIB", "256")
        .env("HALLPASS_ARGON2_ITERATIONS", "1")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::from(std::fs::File::create(dir.path().join("stdout.log")).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(dir.path().join("stderr.log")).unwrap()));
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(soft) = nofile_soft {
        use std::os::unix::process::CommandExt as _;
        // SAFETY: only async-signal-safe calls (getrlimit/setrlimit) between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
                if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                lim.rlim_cur = soft.min(lim.rlim_max);
                if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            let err = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap_or_default();
            return Err((format!("server exited ({status}): {err}"), dir));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err(("no ready file within 60 s".into(), dir));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let info: Value = serde_json::from_slice(&std::fs::read(&ready).unwrap()).unwrap();
    Ok(Server {
        child,
        addr: info["address"].as_str().unwrap().parse().unwrap(),
        secret_key: info["secret_key"].as_str().unwrap().to_owned(),
        dir,
    })
}

impl Server {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stdout.log")).unwrap_or_default()
    }

    /// Stops the server and hands its directory back (restart tests).
    fn stop(mut self) -> tempfile::TempDir {
        let _ = Command::new("kill").args(["-TERM", &self.pid().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait().unwrap().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.dir, dir)
    }
}

/// A field of `/proc/<pid>/status` in its unit (kB for memory).
fn proc_status(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// A TCP connection to `to` from the loopback address `from` (e.g. "127.0.0.7").
async fn connect_from(from: &str, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from.parse::<IpAddr>().unwrap(), 0))?;
    socket.connect(to).await
}

struct Answer {
    status: u16,
    headers: BTreeMap<String, String>,
    body: Value,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["errors"][0]["code"].as_str().unwrap_or("")
    }
}

/// One request on its own connection (`connection: close`), from `from`, bounded by `limit`.
async fn request(
    from: &str,
    to: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
    limit: Duration,
) -> Result<Answer, String> {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut req = format!("{method} {path} HTTP/1.1\r\nhost: {to}\r\nconnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        req.push_str(&format!("content-type: application/json\r\ncontent-length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(&body);
    let exchange = async {
        let mut s = connect_from(from, to).await.map_err(|e| format!("connect: {e}"))?;
        s.write_all(req.as_bytes()).await.map_err(|e| format!("write: {e}"))?;
        let mut out = Vec::new();
        s.read_to_end(&mut out).await.map_err(|e| format!("read: {e}"))?;
        Ok::<_, String>(out)
    };
    let out =
        tokio::time::timeout(limit, exchange).await.map_err(|_| format!("no answer within {limit:?}"))??;
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| format!("not HTTP: {text:?}"))?;
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Ok(Answer { status, headers, body: serde_json::from_str(body).unwrap_or(Value::Null) })
}

async fn post(from: &str, to: SocketAddr, path: &str, body: Value) -> Answer {
    request(from, to, "POST", path, &[], Some(&body), Duration::from_secs(30)).await.unwrap()
}

async fn sign_up(from: &str, to: SocketAddr, email: &str, password: &str) -> Answer {
    post(from, to, "/v1/client/sign_ups", json!({"email_address": email, "password": password})).await
}

async fn sign_in(from: &str, to: SocketAddr, email: &str, password: &str) -> Answer {
    post(from, to, "/v1/client/sign_ins", json!({"identifier": email, "password": password})).await
}

/// Row 1: ~1,100 connections send a partial request (or trickle a body) and never finish, against a
/// server started with a soft open-files limit of 1024. New clients must still be answered, and the
/// slow connections must be closed by the server soon after the header/body deadlines.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row1_slow_clients_neither_starve_new_clients_nor_stay_open() {
    // The attack needs more descriptors than a default soft limit gives this test process.
    if let Ok((soft, hard)) = rlimit::Resource::NOFILE.get()
        && soft < 4096
    {
        rlimit::Resource::NOFILE.set(hard.min(8192), hard).unwrap();
    }
    let server = start_in(
        tempfile::tempdir().unwrap(),
        &[("HALLPASS_HEADER_READ_TIMEOUT_SECS", "2"), ("HALLPASS_BODY_READ_TIMEOUT_SECS", "2")],
        Some(1024),
    );
    let addr = server.addr;
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", server.pid())).unwrap_or_default();
    let soft_limit: u64 = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3)?.parse().ok())
        .unwrap_or(0);

    // 1,100 slow connections from ten addresses (110 each, under the per-address cap): most send
    // half a request line and headers, 20 send complete headers and then trickle their body.
    let mut slow = Vec::new();
    for i in 0..1100 {
        let from = format!("127.0.0.{}", 10 + i % 10);
        let Ok(Ok(mut s)) = tokio::time::timeout(Duration::from_secs(5), connect_from(&from, addr)).await
        else {
            continue;
        };
        let partial = if i < 20 {
            "POST /v1/client/sign_ins HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"
        } else {
            "POST /v1/client/sign_ins HTTP/1.1\r\nhost: x\r\nx-slow: "
        };
        if s.write_all(partial.as_bytes()).await.is_ok() {
            slow.push(s);
        }
    }
    let opened = slow.len();
    let trickle = tokio::spawn(async move {
        // One more body byte a second on the first 20, for at most 6 s.
        for _ in 0..6 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            for s in slow.iter_mut().take(20) {
                let _ = s.write_all(b" ").await;
            }
        }
        slow
    });

    // A new client is answered promptly.
    let started = Instant::now();
    let fresh =
        request("127.0.0.3", addr, "GET", "/.well-known/jwks.json", &[], None, Duration::from_secs(10)).await;
    let fresh_ms = started.elapsed().as_millis();

    // The slow connections are closed by the server: a read sees EOF (or a reset) within the wait.
    let mut slow = trickle.await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(4);
    let mut closed = 0;
    let mut answered_408 = 0;
    for s in slow.iter_mut() {
        let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
        let mut buf = [0u8; 512];
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => closed += 1,
            Ok(Ok(n)) => {
                answered_408 += usize::from(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 408"));
                closed += 1;
            }
            Err(_) => {}
        }
    }
    eprintln!(
        "row 1: soft open-files limit {soft_limit}; {opened} slow connections opened; new client: {} in {fresh_ms} ms; \
         {closed}/{opened} slow connections closed by the server within 8 s of opening ({answered_408} trickled bodies answered 408)",
        match &fresh {
            Ok(a) => format!("HTTP {}", a.status),
            Err(e) => e.clone(),
        }
    );
    assert!(soft_limit > 1024, "the server raised its open-files limit (now {soft_limit})");
    assert_eq!(fresh.map(|a| a.status).unwrap_or(0), 200, "a new client is answered during the attack");
    assert!(opened >= 1000, "the attack opened {opened} connections");
    assert_eq!(closed, opened, "every slow connection is closed by the server");
    assert!(answered_408 >= 1, "a trickled body is answered 408 request_timeout");
}

/// Row 1 (slow reader): a client that pipelines requests and never reads the answers fills the
/// server's send buffer; the write timeout closes its connection, so it cannot hold a connection slot
/// (here its address's only one) forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row1_a_client_that_stops_reading_loses_its_connection() {
    let server = start(&[("HALLPASS_MAX_CONNECTIONS_PER_IP", "1"), ("HALLPASS_WRITE_TIMEOUT_SECS", "1")]);
    let addr = server.addr;
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.5:0".parse().unwrap()).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut reader = socket.connect(addr).await.unwrap();
    // Up to 20,000 pipelined JWKS requests (~10 MB of answers, more than loopback's buffers hold),
    // written for at most 10 s; the answers are never read.
    let pipelined = format!("GET /.well-known/jwks.json HTTP/1.1\r\nhost: {addr}\r\n\r\n").repeat(100);
    let writer = tokio::spawn(async move {
        let started = Instant::now();
        let mut sent = 0;
        while sent < 200 && started.elapsed() < Duration::from_secs(10) {
            match tokio::time::timeout(Duration::from_secs(2), reader.write_all(pipelined.as_bytes())).await {
                Ok(Ok(())) => sent += 1,
                _ => break,
            }
        }
        (reader, sent * 100)
    });
    // Meanwhile the address's one slot is taken: a second connection is refused (429) until the
    // server gives up on the first one. Tried every 250 ms for at most 30 s.
    let started = Instant::now();
    let mut refused = 0;
    let mut admitted = None;
    while started.elapsed() < Duration::from_secs(30) {
        match request("127.0.0.5", addr, "GET", "/.well-known/jwks.json", &[], None, Duration::from_secs(5))
            .await
        {
            Ok(a) if a.status == 200 => {
                admitted = Some(started.elapsed());
                break;
            }
            // Refused at accept: the canned 429, or a reset when the close beats our request's write.
            Ok(a) if a.status == 429 => refused += 1,
            Err(e) if e.contains("reset") => refused += 1,
            other => panic!("unexpected answer: {:?}", other.map(|a| a.status)),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let (_reader, sent) = writer.await.unwrap();
    eprintln!(
        "row 1 (slow reader): {sent} requests pipelined; {refused} refused while held; admitted after {admitted:?}"
    );
    assert!(refused >= 1, "the non-reading client held the address's slot at first");
    assert!(admitted.is_some(), "the server closed the connection of a client that stopped reading");
}

/// Row 1 (per-address cap): one address cannot hold more than its share of connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row1_one_address_cannot_take_every_connection() {
    let server = start(&[("HALLPASS_MAX_CONNECTIONS_PER_IP", "50")]);
    let mut conns = Vec::new();
    for _ in 0..80 {
        conns.push(connect_from("127.0.0.4", server.addr).await.unwrap());
    }
    // A refused connection is answered at once; an admitted one stays silent. Every connection is
    // watched at once, for up to 3 s.
    let watches: Vec<_> = conns
        .into_iter()
        .map(|mut s| {
            tokio::spawn(async move {
                let mut buf = [0u8; 512];
                let refused = matches!(
                    tokio::time::timeout(Duration::from_secs(3), s.read(&mut buf)).await,
                    Ok(Ok(n)) if n > 0 && String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 429")
                );
                (s, refused)
            })
        })
        .collect();
    let mut held = Vec::new();
    let mut refused = 0;
    for w in watches {
        match w.await.unwrap() {
            (_, true) => refused += 1,
            (s, false) => held.push(s),
        }
    }
    let other = request(
        "127.0.0.5",
        server.addr,
        "GET",
        "/.well-known/jwks.json",
        &[],
        None,
        Duration::from_secs(10),
    )
    .await
    .map(|a| a.status);
    eprintln!(
        "row 1b: 80 connections from one address: {} held, {refused} refused (429); another address: {other:?}",
        held.len()
    );
    assert_eq!((held.len(), refused), (50, 30));
    assert_eq!(other, Ok(200));
}

/// Row 2: 150 parallel sign-ins with unknown emails from 5 addresses (each within its per-address
/// burst), with the production Argon2id parameters. Memory and threads must stay bounded, and every
/// request must get a prompt answer: a wrong-password 422 or a 503 `server_busy` with Retry-After.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row2_a_sign_in_flood_keeps_memory_threads_and_latency_bounded() {
    let server = start(&[("HALLPASS_ARGON2_MEMORY_KIB", "19456"), ("HALLPASS_ARGON2_ITERATIONS", "2")]);
    let (addr, pid) = (server.addr, server.pid());
    let rss_before = proc_status(pid, "VmRSS");
    let sampler_stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = sampler_stop.clone();
    let sampler = tokio::spawn(async move {
        let mut max_threads = 0;
        let deadline = Instant::now() + Duration::from_secs(120);
        while !stop.load(std::sync::atomic::Ordering::Relaxed) && Instant::now() < deadline {
            max_threads = max_threads.max(proc_status(pid, "Threads"));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        max_threads
    });
    let started = Instant::now();
    let tasks: Vec<_> = (0..150)
        .map(|i| {
            tokio::spawn(async move {
                let from = format!("127.0.0.{}", 11 + i % 5);
                let body =
                    json!({"identifier": format!("nobody{i}@example.com"), "password": "wrong password"});
                let t = Instant::now();
                let a = request(
                    &from,
                    addr,
                    "POST",
                    "/v1/client/sign_ins",
                    &[],
                    Some(&body),
                    Duration::from_secs(90),
                )
                .await;
                (a, t.elapsed())
            })
        })
        .collect();
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    let mut slowest = Duration::ZERO;
    let mut busy_without_retry_after = 0;
    for t in tasks {
        let (a, took) = t.await.unwrap();
        slowest = slowest.max(took);
        let key = match &a {
            Ok(a) => {
                if a.status == 503 && !a.headers.contains_key("retry-after") {
                    busy_without_retry_after += 1;
                }
                format!("{} {}", a.status, a.code())
            }
            Err(e) => e.clone(),
        };
        *statuses.entry(key).or_default() += 1;
    }
    let flood_secs = started.elapsed().as_secs_f64();
    sampler_stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let max_threads = sampler.await.unwrap();
    let peak_kib = proc_status(pid, "VmHWM");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_kib = proc_status(pid, "VmRSS");
    eprintln!(
        "row 2: 150 sign-ins in {flood_secs:.1} s; answers {statuses:?}; slowest {:.1} s; peak RSS {} MiB \
         (before {} MiB, idle after {} MiB); max threads {max_threads}",
        slowest.as_secs_f64(),
        peak_kib / 1024,
        rss_before / 1024,
        idle_kib / 1024
    );
    let expected = statuses.get("422 form_password_incorrect").copied().unwrap_or(0)
        + statuses.get("503 server_busy").copied().unwrap_or(0);
    assert_eq!(expected, 150, "every sign-in answered 422 or 503 server_busy: {statuses:?}");
    assert_eq!(busy_without_retry_after, 0, "a 503 carries Retry-After");
    assert!(peak_kib < 400 * 1024, "peak RSS {peak_kib} KiB (19 MiB per concurrent hash would be ~2.9 GB)");
    assert!(idle_kib < 300 * 1024, "idle RSS {idle_kib} KiB after the flood");
    assert!(max_threads < 64, "{max_threads} threads");
    assert!(slowest < Duration::from_secs(30), "slowest answer {slowest:?}");
}

/// Row 3: behind a reverse proxy (127.0.0.1, configured as trusted), clients are told apart by the
/// address the proxy forwards; IPv6 clients are grouped by /64; a client that is not the proxy
/// cannot pick its address with the header.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row3_behind_a_trusted_proxy_each_client_has_its_own_budget() {
    let server =
        start(&[("HALLPASS_TRUSTED_PROXIES", "127.0.0.1"), ("HALLPASS_RATE_LIMIT_AUTH_PER_IP", "5")]);
    let attempt = |from: &'static str, xff: String| {
        let addr = server.addr;
        async move {
            let body = json!({"identifier": "nobody@example.com", "password": "wrong password"});
            request(
                from,
                addr,
                "POST",
                "/v1/client/sign_ins",
                &[("x-forwarded-for", &xff)],
                Some(&body),
                Duration::from_secs(30),
            )
            .await
            .unwrap()
            .status
        }
    };
    // One client behind the proxy uses up its budget…
    let mut burst = Vec::new();
    for _ in 0..6 {
        burst.push(attempt("127.0.0.1", "203.0.113.1".into()).await);
    }
    // …and another client behind the same proxy is not affected.
    let neighbour = attempt("127.0.0.1", "203.0.113.2".into()).await;
    // Six addresses of one IPv6 /64 share one budget.
    let mut v6 = Vec::new();
    for i in 1..=6 {
        v6.push(attempt("127.0.0.1", format!("2001:db8:1:2::{i:x}")).await);
    }
    let other_64 = attempt("127.0.0.1", "2001:db8:1:3::1".into()).await;
    // A direct client (not the proxy) claiming fresh addresses is still itself.
    let mut spoof = Vec::new();
    for i in 0..6 {
        spoof.push(attempt("127.0.0.6", format!("198.51.100.{i}")).await);
    }
    eprintln!(
        "row 3: proxied client A burst {burst:?}; client B {neighbour}; one /64 {v6:?}; another /64 {other_64}; \
         spoofing direct client {spoof:?}"
    );
    assert_eq!(burst[5], 429, "client A is limited");
    assert_eq!(neighbour, 422, "client B behind the same proxy is not");
    assert_eq!(v6[5], 429, "one /64 is one budget");
    assert_eq!(other_64, 422);
    assert_eq!(spoof[5], 429, "X-Forwarded-For from an untrusted peer is ignored");
}

/// Row 4: wrong passwords from many addresses never lock the owner out; the attacking address
/// locks itself out after its failures; a slow, steady attack does not keep the owner out either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row4_failed_sign_ins_never_refuse_the_owners_correct_password() {
    let server = start(&[]);
    let addr = server.addr;
    assert_eq!(sign_up("127.0.0.40", addr, "alice@example.com", PASSWORD).await.status, 200);
    // Ten wrong passwords from ten addresses, then twenty more from one of them.
    let mut spread = Vec::new();
    for i in 0..10 {
        spread.push(
            sign_in(&format!("127.0.0.{}", 41 + i), addr, "alice@example.com", "wrong password").await.status,
        );
    }
    let mut hammer = Vec::new();
    for _ in 0..20 {
        hammer.push(sign_in("127.0.0.41", addr, "alice@example.com", "wrong password").await.status);
    }
    let owner = sign_in("127.0.0.60", addr, "alice@example.com", PASSWORD).await;
    // The attacker's address is refused even with the right password (it failed too often).
    let attacker_right = sign_in("127.0.0.41", addr, "alice@example.com", PASSWORD).await;
    eprintln!(
        "row 4: 10 failures from 10 addresses {spread:?}; 20 more from one: {hammer:?}; owner from a fresh address: {} {}; \
         the hammering address with the right password: {} (retry-after {:?})",
        owner.status,
        owner.code(),
        attacker_right.status,
        attacker_right.headers.get("retry-after")
    );
    assert_eq!(owner.status, 200, "the owner's correct password works: {}", owner.body);
    assert!(hammer.iter().filter(|s| **s == 429).count() >= 15, "the hammering address locked itself out");
    assert_eq!(attacker_right.status, 429);
    assert!(attacker_right.headers.contains_key("retry-after"));
}

/// Row 5: common, trivial and blank passwords are refused at sign-up with specific codes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row5_weak_passwords_are_refused_with_specific_codes() {
    let server = start(&[]);
    let mut got = Vec::new();
    for (i, pw) in
        ["12345678", "password", "aaaaaaaa", "        ", "Password1", "abababab"].iter().enumerate()
    {
        let a = sign_up("127.0.0.20", server.addr, &format!("user{i}@example.com"), pw).await;
        got.push((pw.to_string(), a.status, a.code().to_owned()));
    }
    let fine = sign_up("127.0.0.20", server.addr, "good@example.com", "plum orbit lantern").await.status;
    eprintln!("row 5: {got:?}; a passphrase: {fine}");
    let codes: Vec<&str> = got.iter().map(|(_, _, c)| c.as_str()).collect();
    assert_eq!(
        codes,
        [
            "form_password_pwned",
            "form_password_pwned",
            "form_password_not_strong_enough",
            "form_password_whitespace_only",
            "form_password_pwned",
            "form_password_not_strong_enough"
        ]
    );
    assert!(got.iter().all(|(_, s, _)| *s == 422));
    assert_eq!(fine, 200);
}

/// Row 6: a template that repeats `{{user.unsafe_metadata}}` for a user with 8 KB of it: a clear
/// 422, not a 500 after rendering megabytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row6_an_oversized_template_rendering_is_a_clear_4xx() {
    let server = start(&[]);
    let addr = server.addr;
    let bearer = format!("Bearer {}", server.secret_key);
    let template = json!({"name": "huge", "claims": {"m": "{{user.unsafe_metadata}}".repeat(300)}});
    let created = request(
        "127.0.0.1",
        addr,
        "POST",
        "/v1/jwt_templates",
        &[("authorization", &bearer)],
        Some(&template),
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    assert_eq!(created.status, 200, "{}", created.body);
    let up = post(
        "127.0.0.1",
        addr,
        "/v1/client/sign_ups",
        json!({"email_address": "meta@example.com", "password": PASSWORD, "unsafe_metadata": {"blob": "x".repeat(8000)}}),
    )
    .await;
    assert_eq!(up.status, 200, "{}", up.body);
    let jwt = up.body["jwt"].as_str().unwrap().to_owned();
    let sid = up.body["session"]["id"].as_str().unwrap().to_owned();
    let started = Instant::now();
    let minted = request(
        "127.0.0.1",
        addr,
        "POST",
        &format!("/v1/client/sessions/{sid}/tokens/huge"),
        &[("authorization", &format!("Bearer {jwt}"))],
        None,
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    let ms = started.elapsed().as_millis();
    eprintln!("row 6: mint answered {} {} in {ms} ms", minted.status, minted.code());
    assert_eq!((minted.status, minted.code()), (422, "jwt_template_too_large"));
}

/// Row 7: another local user can read nothing of the data directory; the secret key is printed
/// only when it is generated; keys can be sealed with a key from the environment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row7_secrets_at_rest_are_private_and_printed_once() {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |p: &Path| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
    let server = start(&[]);
    let data = server.dir.path().join(".hallpass");
    let db = data.join("hallpass.db");
    let modes = [
        ("data dir", mode(&data)),
        ("hallpass.db", mode(&db)),
        ("hallpass.db-wal", mode(&data.join("hallpass.db-wal"))),
        ("hallpass.db-shm", mode(&data.join("hallpass.db-shm"))),
        ("ready file", mode(&server.dir.path().join("ready.json"))),
    ];
    let key = server.secret_key.clone();
    let first_print = server.stdout().contains(&key);
    let dir = server.stop();
    let server = start_in(dir, &[], None);
    let second_print = server.stdout().contains(&key);
    drop(server);
    let from_env = start(&[("HALLPASS_SECRET_KEY", "sk_test_0123456789abcdefghijklmnopqrstuvwxyz")]);
    let env_print = from_env.stdout().contains("sk_test_0123456789abcdefghijklmnopqrstuvwxyz");
    drop(from_env);

    // Sealed at rest: the database holds neither the secret key nor the signing key in the clear,
    // and does not start without the key.
    let kek = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    let sealed = start(&[("HALLPASS_KEY_ENCRYPTION_KEY", kek)]);
    let sealed_key = sealed.secret_key.clone();
    let dir = sealed.stop();
    let bytes = [
        std::fs::read(dir.path().join(".hallpass/hallpass.db")).unwrap_or_default(),
        std::fs::read(dir.path().join(".hallpass/hallpass.db-wal")).unwrap_or_default(),
    ]
    .concat();
    let in_clear = String::from_utf8_lossy(&bytes).contains(&sealed_key);
    let without = try_start(dir, &[], None);
    let (refused, dir) = match without {
        Ok(s) => (false, s.stop()),
        Err((e, dir)) => (e.contains("HALLPASS_KEY_ENCRYPTION_KEY"), dir),
    };
    let again = start_in(dir, &[("HALLPASS_KEY_ENCRYPTION_KEY", kek)], None);
    let same_key = again.secret_key == sealed_key;
    drop(again);
    eprintln!(
        "row 7: modes {:?}; secret key printed at first start {first_print}, at restart {second_print}, from the \
         environment {env_print}; sealed: key in the clear in the database {in_clear}, start without the KEK refused \
         {refused}, same key with it {same_key}",
        modes.iter().map(|(n, m)| format!("{n} {m:o}")).collect::<Vec<_>>()
    );
    assert_eq!(modes.map(|(_, m)| m), [0o700, 0o600, 0o600, 0o600, 0o600]);
    assert!(first_print && !second_print && !env_print);
    assert!(!in_clear && refused && same_key);
}

/// Row 8: addresses that look like alice's are refused; normalised forms of hers are hers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn row8_look_alike_addresses_are_refused() {
    let server = start(&[]);
    let addr = server.addr;
    assert_eq!(sign_up("127.0.0.30", addr, "alice@example.com", PASSWORD).await.status, 200);
    let mut got = Vec::new();
    for email in [
        "alice\u{200b}@example.com",
        "\u{430}lice@example.com",
        "alice@ex\u{430}mple.com",
        "\u{430}\u{440}\u{435}@example.com",
        "\u{ff41}lice@example.com",
        "ALICE@EXAMPLE.COM",
    ] {
        let a = sign_up("127.0.0.30", addr, email, PASSWORD).await;
        got.push((email.escape_unicode().to_string().len(), a.status, a.code().to_owned()));
    }
    // Internationalised domains: one account however the domain is spelled.
    let idn = sign_up("127.0.0.30", addr, "bob@B\u{dc}CHER.de", PASSWORD).await;
    let puny = sign_up("127.0.0.30", addr, "bob@xn--bcher-kva.de", PASSWORD).await;
    let codes: Vec<&str> = got.iter().map(|(_, _, c)| c.as_str()).collect();
    eprintln!(
        "row 8: {codes:?}; bob@BÜCHER.de {} as {}, bob@xn--bcher-kva.de {} {}",
        idn.status,
        idn.body["user"]["email_addresses"][0]["email_address"],
        puny.status,
        puny.code()
    );
    assert_eq!(
        codes,
        [
            "form_identifier_confusable",
            "form_identifier_confusable",
            "form_identifier_confusable",
            "form_identifier_confusable",
            "form_identifier_exists",
            "form_identifier_exists"
        ]
    );
    assert_eq!(idn.status, 200);
    assert_eq!(idn.body["user"]["email_addresses"][0]["email_address"], "bob@bücher.de");
    assert_eq!((puny.status, puny.code()), (422, "form_identifier_exists"));
}

/// "Also seen": failed sign-ins, lockouts, rate-limit hits and refresh-token reuse are in a
/// structured security log, with session, user and address, and without secrets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_events_are_logged_structured_and_without_secrets() {
    let server = start(&[
        ("HALLPASS_LOG_FORMAT", "json"),
        // From the environment, so the banner does not print it (the log must not hold it either).
        ("HALLPASS_SECRET_KEY", "sk_test_securitylog0123456789abcdefghijkl"),
        ("HALLPASS_SIGN_IN_FAILURES_PER_ACCOUNT_AND_IP", "2"),
        ("HALLPASS_RATE_LIMIT_AUTH_PER_IP", "6"),
        ("HALLPASS_REFRESH_GRACE_SECS", "0"),
    ]);
    let addr = server.addr;
    let up = sign_up("127.0.0.50", addr, "carol@example.com", PASSWORD).await;
    let user_id = up.body["user"]["id"].as_str().unwrap().to_owned();
    let session_id = up.body["session"]["id"].as_str().unwrap().to_owned();
    let first = up.body["refresh_token"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        sign_in("127.0.0.51", addr, "carol@example.com", "wrong password 1").await;
    }
    for _ in 0..4 {
        sign_in("127.0.0.51", addr, "nobody@example.com", "wrong password 2").await;
    }
    let rotated = post("127.0.0.52", addr, "/v1/client/refresh", json!({"refresh_token": first})).await;
    let second = rotated.body["refresh_token"].as_str().unwrap_or_default().to_owned();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let reused = post("127.0.0.53", addr, "/v1/client/refresh", json!({"refresh_token": first})).await;
    assert_eq!(reused.code(), "refresh_token_reused");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let out = server.stdout();
    let events: Vec<Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["target"] == "hallpass::security")
        .collect();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    eprintln!("security log: {kinds:?}");
    let find = |kind: &str| events.iter().find(|e| e["event"] == kind).cloned().unwrap_or(Value::Null);
    let failed = find("sign_in_failed");
    assert_eq!(failed["client_addr"], "127.0.0.51");
    assert_eq!(failed["user_id"], user_id.as_str());
    assert_eq!(failed["reason"], "wrong_password");
    let locked = find("sign_in_locked_out");
    assert_eq!(locked["scope"], "account_and_address");
    let limited = find("rate_limited");
    assert_eq!(
        (limited["limit"].as_str(), limited["client_addr"].as_str()),
        (Some("auth_per_ip"), Some("127.0.0.51"))
    );
    let reuse = find("refresh_token_reused");
    assert_eq!(reuse["session_id"], session_id.as_str());
    assert_eq!(reuse["user_id"], user_id.as_str());
    assert_eq!(reuse["client_addr"], "127.0.0.53");
    for secret in [
        PASSWORD,
        "wrong password 1",
        "wrong password 2",
        first.as_str(),
        second.as_str(),
        server.secret_key.as_str(),
    ] {
        assert!(!out.contains(secret), "the log holds a secret: {secret}");
    }
}
