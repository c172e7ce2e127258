//! The accept loop: connection hygiene that axum's `serve` does not offer.
//!
//! - **Caps**: at most `max_connections` open connections (lowered to fit the process's file limit),
//!   and `max_connections_per_ip` from one address (an IPv6 /64; trusted proxies are exempt, since
//!   every client behind them shares their address). A connection over a cap gets a canned
//!   `503 server_busy` (or `429 rate_limited` for the per-address cap) with `Retry-After`, written
//!   without waiting, and is closed at once: no task, no buffer, no file descriptor kept.
//! - **Header-read timeout** (hyper's, on its timer): a client must send a request's line and headers
//!   within `header_read_timeout_secs`. Hyper starts this timer whenever the connection waits for the
//!   next request, so it is also the idle keep-alive limit. Slow bodies and slow handlers are bounded
//!   by the router's deadlines (`crate::routes`).
//! - **Write timeout** ([`WriteDeadline`]): a client that stops reading (its receive window full,
//!   answers piling up in our send buffer) gets `write_timeout_secs` to take any byte again; then the
//!   connection is closed and its slot freed. Without it such a connection would be held forever,
//!   since no other deadline runs while an answer is being written.
//! - **File limit**: [`raise_file_limit`] lifts the soft `RLIMIT_NOFILE` to the hard one at start.
//!   When accepting fails anyway (out of descriptors), the loop backs off briefly instead of spinning.
//! - **Graceful shutdown**: the listener closes, idle connections close, in-flight requests get
//!   [`SHUTDOWN_GRACE`] to finish.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tower::ServiceExt as _;

use crate::client_addr::{TrustedProxies, limit_key};
use crate::error::ApiError;
use crate::state::AppState;

/// How long in-flight requests may run after shutdown begins.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Descriptors kept back from the connection cap for the database, logs and the listener.
const RESERVED_FILES: u64 = 64;

/// Raises this process's soft open-files limit to its hard limit (where the platform allows).
/// Returns the soft limit in force afterwards, if it can be read.
pub fn raise_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let (soft, hard) = rlimit::Resource::NOFILE.get().ok()?;
        if soft < hard {
            match rlimit::Resource::NOFILE.set(hard, hard) {
                Ok(()) => return Some(hard),
                Err(e) => tracing::warn!(soft, hard, error = %e, "could not raise the open-files limit"),
            }
        }
        Some(soft)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The connection cap actually enforced: the configured one, lowered to fit the file limit.
pub fn effective_max_connections(configured: usize) -> usize {
    #[cfg(unix)]
    let fit = rlimit::Resource::NOFILE
        .get()
        .ok()
        .map(|(soft, _)| usize::try_from(soft.saturating_sub(RESERVED_FILES)).unwrap_or(usize::MAX));
    #[cfg(not(unix))]
    let fit: Option<usize> = None;
    configured.min(fit.unwrap_or(usize::MAX)).max(1)
}

/// Open connections, overall and per address.
struct Tracker {
    total: AtomicUsize,
    per_addr: Mutex<HashMap<String, usize>>,
    max_total: usize,
    max_per_addr: usize,
    trusted: TrustedProxies,
}

/// Why a connection was turned away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refusal {
    Full,
    AddressFull,
}

/// A connection's place in the [`Tracker`], given back on drop.
struct Slot {
    tracker: Arc<Tracker>,
    key: Option<String>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.tracker.total.fetch_sub(1, Ordering::AcqRel);
        if let Some(key) = &self.key {
            let mut map = self.tracker.per_addr.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(n) = map.get_mut(key) {
                *n -= 1;
                if *n == 0 {
                    map.remove(key);
                }
            }
        }
    }
}

impl Tracker {
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, Refusal> {
        let admitted = self
            .total
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < self.max_total).then_some(n + 1))
            .is_ok();
        if !admitted {
            return Err(Refusal::Full);
        }
        if self.trusted.contains(ip) {
            return Ok(Slot { tracker: self.clone(), key: None });
        }
        let key = limit_key(ip);
        let mut map = self.per_addr.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(key.clone()).or_insert(0);
        if *n >= self.max_per_addr {
            drop(map);
            self.total.fetch_sub(1, Ordering::AcqRel);
            return Err(Refusal::AddressFull);
        }
        *n += 1;
        Ok(Slot { tracker: self.clone(), key: Some(key) })
    }
}

/// A connection whose writes fail with `TimedOut` once the peer has taken no bytes for `limit`.
///
/// The clock starts when a write (or flush) first cannot proceed and stops at any progress, so a
/// slow reader that keeps taking bytes is never cut off, however large the answer.
struct WriteDeadline<S> {
    inner: S,
    limit: Duration,
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<S> WriteDeadline<S> {
    fn new(inner: S, limit: Duration) -> Self {
        Self { inner, limit, stalled: None }
    }

    /// Turns a write's outcome into the same outcome, or `TimedOut` when it has been pending too long.
    fn watch<T>(&mut self, cx: &mut Context<'_>, outcome: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if outcome.is_ready() {
            self.stalled = None;
            return outcome;
        }
        let limit = self.limit;
        let stalled = self.stalled.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client took no bytes of the answer within the write timeout",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for WriteDeadline<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for WriteDeadline<S> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let outcome = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.watch(cx, outcome)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let outcome = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.watch(cx, outcome)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let outcome = Pin::new(&mut this.inner).poll_flush(cx);
        this.watch(cx, outcome)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let outcome = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.watch(cx, outcome)
    }
}

/// A complete HTTP/1.1 error response, to write in one go to a connection that is then closed.
fn canned(error: ApiError) -> Vec<u8> {
    let body = serde_json::to_vec(&error.body()).unwrap_or_default();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        error.status.as_u16(),
        error.status.canonical_reason().unwrap_or(""),
        body.len()
    );
    if let Some(secs) = error.retry_after {
        out.push_str(&format!("retry-after: {secs}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&body);
    bytes
}

/// Serves `state` on `listener` until `shutdown` completes (see the module doc).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let config = &state.config;
    let max_total = effective_max_connections(config.max_connections);
    if max_total < config.max_connections {
        tracing::warn!(
            configured = config.max_connections,
            enforced = max_total,
            "max_connections lowered to fit the open-files limit"
        );
    }
    let tracker = Arc::new(Tracker {
        total: AtomicUsize::new(0),
        per_addr: Mutex::new(HashMap::new()),
        max_total,
        max_per_addr: config.max_connections_per_ip.max(1),
        trusted: state.trusted_proxies.clone(),
    });
    let full = canned(ApiError::busy(1).with_long_message("The server has too many open connections."));
    let address_full =
        canned(ApiError::rate_limited(1).with_long_message("Too many open connections from your address."));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(config.header_read_timeout_secs.max(1)))
        .keep_alive(true);
    let write_timeout = Duration::from_secs(config.write_timeout_secs.max(1));
    let router = crate::routes::app(state.clone());
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    let mut refused: u64 = 0;

    loop {
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors (EMFILE/ENFILE) or a connection reset before accept: back
                    // off briefly so a full table does not turn into a busy loop.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let slot = match tracker.admit(peer.ip()) {
            Ok(slot) => slot,
            Err(refusal) => {
                let bytes = if refusal == Refusal::Full { &full } else { &address_full };
                // Best effort, never waiting: the socket buffer of a fresh connection takes it.
                let _ = stream.try_write(bytes);
                // Logged sampled: a flood of refusals must not become a flood of log lines.
                refused += 1;
                if refused == 1 || refused.is_multiple_of(1000) {
                    let cap =
                        if refusal == Refusal::Full { "max_connections" } else { "max_connections_per_ip" };
                    crate::security_log::connections_refused(peer.ip(), cap, refused);
                }
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let service = router.clone().map_request(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            req
        });
        let stream = WriteDeadline::new(stream, write_timeout);
        let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // Errors here are the client's doing (reset, header timeout, malformed request).
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {
            tracing::warn!("requests still running {SHUTDOWN_GRACE:?} after shutdown began: dropped");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_stops_reading_times_the_write_out() {
        let (ours, mut theirs) = tokio::io::duplex(64);
        let mut ours = WriteDeadline::new(ours, Duration::from_secs(10));
        // The peer takes nothing: the first 64 bytes fit, then the write waits, then fails.
        let started = tokio::time::Instant::now();
        let err = ours.write_all(&[b'x'; 1000]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(10));
        let mut got = Vec::new();
        drop(ours);
        theirs.read_to_end(&mut got).await.unwrap();
        assert_eq!(got.len(), 64);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_reader_that_keeps_taking_bytes_is_never_cut_off() {
        let (ours, mut theirs) = tokio::io::duplex(64);
        let mut ours = WriteDeadline::new(ours, Duration::from_secs(10));
        // 64 bytes every 9 s: each stall is under the limit, the whole answer takes far longer.
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            let mut buf = [0u8; 64];
            loop {
                tokio::time::sleep(Duration::from_secs(9)).await;
                match theirs.read(&mut buf).await.unwrap() {
                    0 => return got,
                    n => got.extend_from_slice(&buf[..n]),
                }
            }
        });
        let started = tokio::time::Instant::now();
        ours.write_all(&[b'x'; 1000]).await.unwrap();
        drop(ours);
        assert_eq!(reader.await.unwrap().len(), 1000);
        assert!(started.elapsed() > Duration::from_secs(100));
    }

    fn tracker(max_total: usize, max_per_addr: usize, trusted: &[&str]) -> Arc<Tracker> {
        Arc::new(Tracker {
            total: AtomicUsize::new(0),
            per_addr: Mutex::new(HashMap::new()),
            max_total,
            max_per_addr,
            trusted: TrustedProxies::parse(trusted).unwrap(),
        })
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn caps_overall_and_per_address_are_enforced_and_released() {
        let t = tracker(4, 2, &["10.0.0.1"]);
        let a1 = t.admit(ip("192.0.2.1")).unwrap();
        let _a2 = t.admit(ip("192.0.2.1")).unwrap();
        assert_eq!(t.admit(ip("192.0.2.1")).err(), Some(Refusal::AddressFull));
        // One IPv6 /64 is one address.
        let _b1 = t.admit(ip("2001:db8::1")).unwrap();
        let _b2 = t.admit(ip("2001:db8::2")).unwrap();
        assert_eq!(t.admit(ip("2001:db8::3")).err(), Some(Refusal::Full), "4 open: full");
        drop(a1);
        assert_eq!(t.admit(ip("2001:db8::ffff")).err(), Some(Refusal::AddressFull));
        assert_eq!(t.total.load(Ordering::SeqCst), 3, "a refused connection takes no slot");
        // A trusted proxy is only bound by the overall cap.
        let _p = t.admit(ip("10.0.0.1")).unwrap();
        assert_eq!(t.admit(ip("10.0.0.1")).err(), Some(Refusal::Full));
    }

    #[test]
    fn canned_answers_are_complete_http_responses_in_the_error_shape() {
        let bytes = canned(ApiError::busy(1));
        let text = String::from_utf8(bytes).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 Service Unavailable\r\n"), "{head}");
        assert!(head.contains("retry-after: 1") && head.contains("connection: close"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let parsed: hallpass_protocol::ErrorBody = serde_json::from_str(body).unwrap();
        assert_eq!(parsed.errors[0].code, "server_busy");
    }
}
