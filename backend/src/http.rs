//! The HTTP client the crate's requests go through (the JWKS, the Backend API): rustls on aws-lc-rs
//! with the platform's roots, no redirects followed, and deadlines on connecting and on the whole
//! exchange — no request here can wait forever.

use std::time::Duration;

/// How long a connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long any request may take, whole, unless a caller sets a shorter deadline.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A cheap `Clone` handle on one connection pool.
#[derive(Clone, Debug)]
pub struct Http {
    client: reqwest::Client,
}

impl Http {
    /// A client with the crate's deadlines.
    pub fn new() -> crate::Result<Http> {
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("hallpass-backend/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| crate::Error::Config(format!("the HTTP client could not be built: {e}")))?;
        Ok(Http { client })
    }

    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

/// A transport failure in words (reqwest's own message hides the cause behind "error sending request").
pub(crate) fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The body of `response`, refused once it passes `limit` bytes (never buffered past it).
pub(crate) async fn read_limited(mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, String> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(format!("the answer is larger than {limit} bytes"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
        if body.len() + chunk.len() > limit {
            return Err(format!("the answer is larger than {limit} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
