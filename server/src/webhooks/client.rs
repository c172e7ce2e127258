//! The HTTP client deliveries go through: reqwest on rustls (aws-lc-rs, Mozilla's roots compiled in),
//! HTTP/1.1, [`TIMEOUT`] for a whole attempt (connecting, sending, the answer and the part of its body
//! kept), redirects never followed (a 3xx is a failed attempt), no proxy from the environment, and at
//! most [`EXCERPT_BYTES`] of an answer read.
//!
//! Addresses are checked where the connection is made: the client resolves names with
//! [`CheckedResolver`], which hands the connector only the addresses [`super::address`] allows, so the
//! connection goes to an address that was checked — there is no second lookup that DNS rebinding
//! could answer differently. A URL whose host is an IP address is checked before the request.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

use super::address::{self, UrlRefused};

/// The longest an attempt may take.
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// The longest a name lookup may take (when an endpoint is created or changed too).
pub const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// How much of an answer's body is read and kept.
pub const EXCERPT_BYTES: usize = 1024;

/// What an attempt came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// `None`: no answer (refused, timed out, address not allowed, TLS).
    pub status: Option<u16>,
    /// The start of the body, lossy UTF-8.
    pub excerpt: String,
    /// Why there was no answer, for people.
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// The delivery client (cheap to clone: one connection pool).
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    allow_private: bool,
}

impl Client {
    /// A client that refuses non-public addresses unless `allow_private`.
    pub fn new(allow_private: bool) -> Result<Client, String> {
        let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let mut tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .dns_resolver(CheckedResolver { allow_private })
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            // Below the 5 s keep-alive of Node's HTTP server (and most others): a connection is
            // never reused just as the receiver closes it, which would fail an attempt for nothing.
            .pool_idle_timeout(Duration::from_secs(4))
            .user_agent(concat!("Hallpass-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("webhook HTTP client: {e}"))?;
        Ok(Client { http, allow_private })
    }

    /// POSTs `body` to `url` with `headers` (and `content-type: application/json`).
    pub async fn post(&self, url: &str, headers: &[(&'static str, String)], body: String) -> Answer {
        let started = Instant::now();
        let elapsed = || i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let refused = |error: String| Answer {
            status: None,
            excerpt: String::new(),
            error: Some(error),
            duration_ms: elapsed(),
        };
        let parsed = match address::parse(url) {
            Ok(u) => u,
            Err(e) => return refused(e.to_string()),
        };
        if let Some(ip) = address::literal_ip(&parsed)
            && let Err(e) = address::check(ip, self.allow_private)
        {
            return refused(e.to_string());
        }
        let mut request = self.http.post(parsed).header("content-type", "application/json").body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let mut response = match request.send().await {
            Ok(r) => r,
            Err(e) => return refused(describe(&e)),
        };
        let status = response.status().as_u16();
        let mut kept: Vec<u8> = Vec::new();
        // What the body holds beyond the excerpt is never read; an error while reading it does not
        // change the status, which alone decides.
        while kept.len() < EXCERPT_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    kept.extend_from_slice(&chunk[..chunk.len().min(EXCERPT_BYTES - kept.len())])
                }
                Ok(None) | Err(_) => break,
            }
        }
        Answer {
            status: Some(status),
            excerpt: String::from_utf8_lossy(&kept).into_owned(),
            error: None,
            duration_ms: elapsed(),
        }
    }
}

/// A reqwest error with its causes, for an attempt's `error` (at most 300 characters).
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() { "timeout".to_owned() } else { String::new() };
    let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(e);
    if text.is_empty() {
        text = if e.is_connect() { "connection failed".into() } else { "request failed".into() };
    }
    while let Some(c) = cause {
        let s = c.to_string();
        if !text.contains(&s) {
            text.push_str(": ");
            text.push_str(&s);
        }
        cause = c.source();
    }
    text.chars().take(300).collect()
}

/// Resolves names with the system resolver and keeps only the addresses [`address::check`] allows.
#[derive(Clone, Copy, Debug)]
pub struct CheckedResolver {
    allow_private: bool,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = resolve_checked(&host, 0, allow_private)
                .await
                .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { e.into() })?;
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The addresses `host` resolves to that the policy allows; an error naming the first refused one if
/// none is allowed.
async fn resolve_checked(host: &str, port: u16, allow_private: bool) -> Result<Vec<SocketAddr>, String> {
    let found = tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, port)))
        .await
        .map_err(|_| format!("resolving {host} timed out"))?
        .map_err(|e| format!("resolving {host}: {e}"))?;
    let mut allowed = Vec::new();
    let mut refused = None;
    for addr in found {
        match address::check(addr.ip(), allow_private) {
            Ok(()) => allowed.push(addr),
            Err(e) => refused = refused.or(Some(e)),
        }
    }
    match (allowed.is_empty(), refused) {
        (false, _) => Ok(allowed),
        (true, Some(e)) => Err(format!("{host}: {e}")),
        (true, None) => Err(format!("{host} has no address")),
    }
}

/// The check an endpoint URL gets when it is created or changed: its shape, then every address it
/// resolves to (an IP address as it is). A name that cannot be resolved now is accepted — the
/// deliveries check again — but one that leads to a refused address is not.
pub async fn vet_url(url: &str, allow_private: bool) -> Result<Url, UrlRefused> {
    let parsed = address::parse(url)?;
    if let Some(ip) = address::literal_ip(&parsed) {
        address::check(ip, allow_private)?;
        return Ok(parsed);
    }
    if allow_private {
        return Ok(parsed);
    }
    let host = parsed.host_str().unwrap_or_default().to_owned();
    if let Ok(Ok(found)) =
        tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host.as_str(), 0))).await
    {
        for addr in found {
            address::check(addr.ip(), false)?;
        }
    }
    Ok(parsed)
}
