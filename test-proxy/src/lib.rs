//! A loopback HTTP proxy between Hallpass's test suites and real `hallpass-server` processes: it
//! balances requests over one or more servers (replicas on one database), counts requests by path,
//! and injects faults on command (server down, 5xx, 429 with `Retry-After`, latency, a response lost
//! after the server acted on the request, a connection accepted and never answered). It never answers
//! in the servers' place except to fail. `cargo xtask test` puts one in front of the servers of the
//! browser suites; `hallpass-server`'s replica tests put one in front of two replicas.
//!
//! Balancing is what a load balancer without health checks does: requests go to the servers in turn;
//! a server that refuses the connection (stopped, killed) is skipped for the next one, so no request
//! is lost before it reached a server. A server that fails after the request reached it (killed
//! mid-request) loses that request's answer: the client's connection is closed, as a load balancer
//! would (it cannot know whether the server acted), and the client retries.
//!
//! The suites control it through `/__control/…` on the same port (CORS open, so the test page can
//! call it):
//! - `GET  /__control/counts` → `{"POST /v1/client/refresh":3,"answered POST /v1/client/refresh":2,
//!   "via 127.0.0.1:4000":2,…}` since the last reset: requests received, the servers' answers passed
//!   on to the client, and requests forwarded to each server
//! - `POST /__control/reset` → counts cleared, faults off
//! - `POST /__control/fault?mode=down|status|delay|late|drop|hang|none[&code=500][&retry_after=2][&ms=5000]`
//!   `[&path=/v1/client/refresh][&times=N]`: only requests to that path, only the next N of them;
//!   `delay` waits before forwarding, `late` after the server answered (counted as `late POST /path`
//!   once the server has answered); `&also=1` adds the rule to those in force (the first that
//!   matches a request applies) instead of replacing them;
//!   `hang` holds the connection without a word (nothing reaches the server) until the client gives
//!   up or 60 s pass
//! - `POST /__control/revoke?session=sess_…` → the Backend API's session revoke, with the secret key
//!   that only this process knows (the Backend API never answers a browser).
//! - `POST /__control/backend?method=POST&path=/v1/jwt_templates` with a JSON body → that Backend API
//!   call with the secret key; answers the server's status and body.
//!
//! One request per connection (`Connection: close` both ways) keeps the forwarding exact and simple.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// What [`Proxy::start`] fails with.
pub type Result<T> = std::result::Result<T, String>;

const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 16 * 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    None,
    /// Close every connection without an answer, as if the server were stopped.
    Down,
    /// Answer with this status (and `Retry-After`, if set) without asking the server.
    Status {
        code: u16,
        retry_after: Option<u32>,
    },
    /// Wait this long before forwarding.
    Delay {
        ms: u64,
    },
    /// Forward, let the server act, then wait this long before passing its answer on (a slow way
    /// back: what the server answered may be out of date by the time the client reads it).
    Late {
        ms: u64,
    },
    /// Forward, let the server act, then close without passing its answer on.
    Drop,
    /// Read the request, forward nothing, answer nothing; close when the client does (or after
    /// [`HANG_MAX`]).
    Hang,
}

/// The longest a `hang` holds a connection.
const HANG_MAX: Duration = Duration::from_secs(60);

/// The fault in force, for which requests, how many more times.
#[derive(Clone, Debug, PartialEq)]
struct FaultRule {
    fault: Fault,
    path: Option<String>,
    remaining: Option<u64>,
}

impl FaultRule {
    /// The fault for a request to `path`, counting it against `times`; `None` when the rule does
    /// not apply to it (another path, or used up).
    fn take(&mut self, path: &str, method: &str) -> Option<Fault> {
        if method == "OPTIONS" || self.path.as_deref().is_some_and(|p| p != path) {
            return None;
        }
        match &mut self.remaining {
            Some(0) => None,
            Some(n) => {
                *n -= 1;
                Some(self.fault)
            }
            None => Some(self.fault),
        }
    }
}

/// The fault of the first rule in force that applies to a request to `path`.
fn take(rules: &mut [FaultRule], path: &str, method: &str) -> Fault {
    rules.iter_mut().find_map(|r| r.take(path, method)).unwrap_or(Fault::None)
}

struct Shared {
    upstreams: Vec<String>,
    /// The next server in turn.
    turn: AtomicUsize,
    secret_key: String,
    fault: Mutex<Vec<FaultRule>>,
    counts: Mutex<BTreeMap<String, u64>>,
    stop: AtomicBool,
}

pub struct Proxy {
    pub url: String,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    addr: String,
}

impl Proxy {
    /// Starts a proxy on a free loopback port in front of `upstreams` (`127.0.0.1:PORT` each: one
    /// server, or replicas sharing a database and so a secret key).
    pub fn start(upstreams: &[String], secret_key: &str) -> Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("proxy bind: {e}"))?;
        Proxy::start_on(listener, upstreams, secret_key)
    }

    /// [`Proxy::start`] on a listener bound beforehand: its address is known before the servers
    /// start, so that they can be told it is their public URL (the `iss` of their tokens), as
    /// replicas behind a load balancer must be.
    pub fn start_on(listener: TcpListener, upstreams: &[String], secret_key: &str) -> Result<Proxy> {
        if upstreams.is_empty() {
            return Err("the proxy needs at least one server".into());
        }
        let addr = listener.local_addr().map_err(|e| e.to_string())?.to_string();
        let shared = Arc::new(Shared {
            upstreams: upstreams.to_vec(),
            turn: AtomicUsize::new(0),
            secret_key: secret_key.to_owned(),
            fault: Mutex::new(Vec::new()),
            counts: Mutex::new(BTreeMap::new()),
            stop: AtomicBool::new(false),
        });
        let accept_shared = Arc::clone(&shared);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if accept_shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = Arc::clone(&accept_shared);
                std::thread::spawn(move || {
                    let _ = handle(stream, &shared);
                });
            }
        });
        Ok(Proxy { url: format!("http://{addr}"), shared, thread: Some(thread), addr })
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(&self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Request {
    method: String,
    target: String,
    head: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<Request>> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Ok(None);
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split_whitespace();
    let (Some(method), Some(target)) = (first.next(), first.next()) else { return Ok(None) };
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut request =
        Request { method: method.to_owned(), target: target.to_owned(), head: headers, body: Vec::new() };
    let len: usize = request.header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    if len > MAX_BODY {
        return Ok(None);
    }
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(len);
    request.body = body;
    Ok(Some(request))
}

fn handle(mut client: TcpStream, shared: &Shared) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    let Some(request) = read_request(&mut client)? else { return Ok(()) };
    if request.target.starts_with("/__control/") {
        return control(&mut client, shared, &request);
    }
    let path = request.target.split('?').next().unwrap_or_default().to_owned();
    if request.method != "OPTIONS" {
        count(shared, format!("{} {path}", request.method));
    }
    let fault = take(&mut shared.fault.lock().unwrap_or_else(|e| e.into_inner()), &path, &request.method);
    match fault {
        Fault::Down => return client.shutdown(Shutdown::Both),
        Fault::Hang => {
            // Until the client closes its end (a read of 0), fails, or the bound passes.
            client.set_read_timeout(Some(HANG_MAX))?;
            let mut buf = [0u8; 1024];
            while let Ok(n) = client.read(&mut buf) {
                if n == 0 {
                    break;
                }
            }
            return client.shutdown(Shutdown::Both);
        }
        Fault::Status { code, retry_after } => {
            let origin = request.header("origin").unwrap_or("*").to_owned();
            let retry = retry_after.map(|s| format!("retry-after: {s}\r\n")).unwrap_or_default();
            let body = format!(
                r#"{{"errors":[{{"code":"{}","message":"injected by the test proxy","long_message":"","meta":{{}}}}]}}"#,
                if code == 429 { "rate_limited" } else { "internal_error" }
            );
            let response = format!(
                "HTTP/1.1 {code} Injected\r\ncontent-type: application/json\r\ncontent-length: {}\r\n{retry}\
                 access-control-allow-origin: {origin}\r\naccess-control-expose-headers: retry-after, x-hallpass-server-time\r\n\
                 connection: close\r\n\r\n{body}",
                body.len()
            );
            return client.write_all(response.as_bytes());
        }
        Fault::Delay { ms } => std::thread::sleep(Duration::from_millis(ms.min(60_000))),
        _ => {}
    }
    let (via, response) = forward(shared, &request)?;
    if request.method != "OPTIONS" {
        count(shared, format!("via {via}"));
    }
    if fault == Fault::Drop {
        return client.shutdown(Shutdown::Both);
    }
    if let Fault::Late { ms } = fault {
        count(shared, format!("late {} {path}", request.method));
        std::thread::sleep(Duration::from_millis(ms.min(60_000)));
    }
    client.write_all(&response)?;
    client.flush()?;
    if request.method != "OPTIONS" {
        count(shared, format!("answered {} {path}", request.method));
    }
    Ok(())
}

fn count(shared: &Shared, key: String) {
    *shared.counts.lock().unwrap_or_else(|e| e.into_inner()).entry(key).or_default() += 1;
}

/// Connects to the next server in turn, skipping those that refuse the connection; the one that
/// took it. Errs when none does.
fn connect(shared: &Shared) -> std::io::Result<(String, TcpStream)> {
    let first = shared.turn.fetch_add(1, Ordering::Relaxed);
    let mut last = None;
    for i in 0..shared.upstreams.len() {
        let upstream = &shared.upstreams[(first + i) % shared.upstreams.len()];
        match TcpStream::connect(upstream) {
            Ok(stream) => return Ok((upstream.clone(), stream)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no server")))
}

/// Sends `request` to a server (see [`connect`]) with `Connection: close`; which server, and its
/// whole answer.
fn forward(shared: &Shared, request: &Request) -> std::io::Result<(String, Vec<u8>)> {
    let (via, mut server) = connect(shared)?;
    server.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut out = format!("{} {} HTTP/1.1\r\n", request.method, request.target);
    for (k, v) in &request.head {
        if !k.eq_ignore_ascii_case("connection") && !k.eq_ignore_ascii_case("keep-alive") {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    out.push_str("connection: close\r\n\r\n");
    server.write_all(out.as_bytes())?;
    server.write_all(&request.body)?;
    let mut response = Vec::new();
    server.read_to_end(&mut response)?;
    if response.is_empty() {
        // The server went away after taking the request (killed): nothing to pass on.
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "the server closed without an answer",
        ));
    }
    Ok((via, response))
}

/// Calls the server's Backend API with the secret key; returns its status and body.
fn backend(shared: &Shared, method: &str, target: &str, body: Vec<u8>) -> std::io::Result<(u16, String)> {
    let request = Request {
        method: method.into(),
        target: target.into(),
        head: vec![
            ("host".into(), shared.upstreams[0].clone()),
            ("authorization".into(), format!("Bearer {}", shared.secret_key)),
            ("content-type".into(), "application/json".into()),
            ("content-length".into(), body.len().to_string()),
        ],
        body,
    };
    let (_, answer) = forward(shared, &request)?;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let code = answer.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(502);
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Ok((code, body))
}

fn query_param<'a>(target: &'a str, name: &str) -> Option<&'a str> {
    target
        .split_once('?')?
        .1
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn control(client: &mut TcpStream, shared: &Shared, request: &Request) -> std::io::Result<()> {
    let path = request.target.split('?').next().unwrap_or_default();
    let (status, body) = match (request.method.as_str(), path) {
        ("OPTIONS", _) => (204, String::new()),
        ("GET", "/__control/counts") => {
            let counts = shared.counts.lock().unwrap_or_else(|e| e.into_inner());
            (200, serde_json::to_string(&*counts).unwrap_or_default())
        }
        ("POST", "/__control/reset") => {
            shared.counts.lock().unwrap_or_else(|e| e.into_inner()).clear();
            shared.fault.lock().unwrap_or_else(|e| e.into_inner()).clear();
            (200, "{}".into())
        }
        ("POST", "/__control/fault") => {
            let num = |n: &str| query_param(&request.target, n).and_then(|v| v.parse::<u64>().ok());
            let fault = match query_param(&request.target, "mode") {
                Some("none") => Some(Fault::None),
                Some("down") => Some(Fault::Down),
                Some("drop") => Some(Fault::Drop),
                Some("hang") => Some(Fault::Hang),
                Some("delay") => Some(Fault::Delay { ms: num("ms").unwrap_or(1000) }),
                Some("late") => Some(Fault::Late { ms: num("ms").unwrap_or(1000) }),
                Some("status") => Some(Fault::Status {
                    code: num("code").and_then(|c| u16::try_from(c).ok()).unwrap_or(500),
                    retry_after: num("retry_after").and_then(|s| u32::try_from(s).ok()),
                }),
                _ => None,
            };
            match fault {
                Some(fault) => {
                    let rule = FaultRule {
                        fault,
                        path: query_param(&request.target, "path").map(str::to_owned),
                        remaining: num("times"),
                    };
                    let mut rules = shared.fault.lock().unwrap_or_else(|e| e.into_inner());
                    if query_param(&request.target, "also") != Some("1") {
                        rules.clear();
                    }
                    rules.push(rule);
                    (200, "{}".into())
                }
                None => (400, r#"{"error":"unknown mode"}"#.into()),
            }
        }
        ("POST", "/__control/revoke") => match query_param(&request.target, "session") {
            Some(sid) if sid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') => {
                let (code, _) = backend(shared, "POST", &format!("/v1/sessions/{sid}/revoke"), Vec::new())?;
                (code, serde_json::json!({ "status": code }).to_string())
            }
            _ => (400, r#"{"error":"session missing"}"#.into()),
        },
        ("POST", "/__control/backend") => {
            let method = query_param(&request.target, "method").unwrap_or("POST");
            let target = query_param(&request.target, "path").unwrap_or_default();
            let safe = |b: u8| b.is_ascii_alphanumeric() || b"/_-".contains(&b);
            if !["GET", "POST", "PATCH", "DELETE"].contains(&method)
                || !target.starts_with("/v1/")
                || !target.bytes().all(safe)
            {
                (400, r#"{"error":"method or path refused"}"#.into())
            } else {
                backend(shared, method, target, request.body.clone())?
            }
        }
        _ => (404, r#"{"error":"no such control"}"#.into()),
    };
    let response = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         access-control-allow-origin: *\r\naccess-control-allow-methods: GET, POST, OPTIONS\r\n\
         access-control-allow-headers: content-type\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    client.write_all(response.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server that answers `n` connections with their method and target, then stops.
    fn upstream_echo(n: usize) -> (String, std::thread::JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let t = std::thread::spawn(move || {
            for _ in 0..n {
                let (mut s, _) = listener.accept().unwrap();
                let req = read_request(&mut s).unwrap().unwrap();
                let body = format!("{} {}", req.method, req.target);
                let resp = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}", body.len());
                s.write_all(resp.as_bytes()).unwrap();
            }
        });
        (addr, t)
    }

    fn call(url: &str, method: &str, path: &str) -> String {
        let addr = url.trim_start_matches("http://");
        let mut s = TcpStream::connect(addr).unwrap();
        write!(s, "{method} {path} HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n").unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    }

    #[test]
    fn forwards_counts_and_fails_on_command() {
        let (upstream, t) = upstream_echo(4);
        let proxy = Proxy::start(&[upstream], "sk_test_x").unwrap();
        assert!(call(&proxy.url, "POST", "/v1/client/refresh").ends_with("POST /v1/client/refresh"));
        let counts = call(&proxy.url, "GET", "/__control/counts");
        assert!(counts.contains(r#""POST /v1/client/refresh":1"#), "{counts}");
        assert!(counts.contains(r#""answered POST /v1/client/refresh":1"#), "{counts}");
        // A late answer: the server's, passed on after it was counted as late; a second rule beside
        // it (`also=1`) applies to its own path.
        call(&proxy.url, "POST", "/__control/fault?mode=late&ms=10&path=/v1/l&times=1");
        call(&proxy.url, "POST", "/__control/fault?mode=status&code=503&path=/v1/s&times=1&also=1");
        assert!(call(&proxy.url, "GET", "/v1/s").starts_with("HTTP/1.1 503"));
        assert!(call(&proxy.url, "GET", "/v1/l").ends_with("GET /v1/l"));
        let counts = call(&proxy.url, "GET", "/__control/counts");
        assert!(
            counts.contains(r#""late GET /v1/l":1"#) && counts.contains(r#""answered GET /v1/l":1"#),
            "{counts}"
        );
        // A hang: no answer, nothing forwarded (the echo server takes exactly four connections),
        // and the connection is let go when the client gives up.
        call(&proxy.url, "POST", "/__control/fault?mode=hang&times=1");
        let mut s = TcpStream::connect(proxy.url.trim_start_matches("http://")).unwrap();
        write!(s, "POST /v1/h HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n").unwrap();
        s.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
        let mut buf = [0u8; 16];
        assert!(s.read(&mut buf).is_err(), "no answer while it hangs");
        drop(s);
        let counts = call(&proxy.url, "GET", "/__control/counts");
        assert!(counts.contains(r#""POST /v1/h":1"#) && !counts.contains("answered POST /v1/h"), "{counts}");
        call(&proxy.url, "POST", "/__control/fault?mode=status&code=429&retry_after=3");
        let limited = call(&proxy.url, "POST", "/v1/client/refresh");
        assert!(limited.starts_with("HTTP/1.1 429") && limited.contains("retry-after: 3"), "{limited}");
        call(&proxy.url, "POST", "/__control/fault?mode=down");
        assert_eq!(call(&proxy.url, "POST", "/v1/client/refresh"), "");
        call(&proxy.url, "POST", "/__control/fault?mode=status&code=401&path=/v1/y&times=1");
        assert!(
            call(&proxy.url, "GET", "/v1/y").starts_with("HTTP/1.1 401"),
            "the first matching request fails"
        );
        assert!(call(&proxy.url, "GET", "/v1/z").ends_with("GET /v1/z"), "other paths pass");
        assert!(call(&proxy.url, "GET", "/v1/y").ends_with("GET /v1/y"), "only once");
        call(&proxy.url, "POST", "/__control/reset");
        assert!(
            call(&proxy.url, "GET", "/__control/counts").ends_with("\r\n\r\n{}"),
            "reset clears the counts"
        );
        t.join().unwrap();
    }

    #[test]
    fn balances_over_servers_in_turn_and_skips_one_that_is_gone() {
        let (a, ta) = upstream_echo(2);
        let (b, tb) = upstream_echo(4);
        // A port nobody listens on: a stopped server.
        let gone = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
        let proxy = Proxy::start(&[a.clone(), gone, b.clone()], "sk_test_x").unwrap();
        for _ in 0..6 {
            assert!(call(&proxy.url, "GET", "/v1/x").ends_with("GET /v1/x"), "every request is answered");
        }
        let counts = call(&proxy.url, "GET", "/__control/counts");
        // In turn a, gone→b, b, a, gone→b, b: the stopped one never costs a request.
        assert!(counts.contains(&format!(r#""via {a}":2"#)), "{counts}");
        assert!(counts.contains(&format!(r#""via {b}":4"#)), "{counts}");
        assert!(counts.contains(r#""answered GET /v1/x":6"#), "{counts}");
        ta.join().unwrap();
        tb.join().unwrap();
        assert!(Proxy::start(&[], "sk_test_x").is_err());
    }
}
