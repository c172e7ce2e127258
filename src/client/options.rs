//! How to load an instance ([`Options`]), what to ask [`Hallpass::get_token`](super::Hallpass::get_token)
//! for ([`GetTokenOptions`]), and the Frontend API address the options name.

use std::rc::Rc;

use hallpass_protocol::keys::decode_publishable_key;

use super::invalid;
use crate::core::clock::Clock;
use crate::core::error::Error;
use crate::core::schedule::DEFAULT_MIN_REMAINING_MS;
use crate::platform::storage::StorageKind;

/// How long a request to the Frontend API may take unless told otherwise (as Auth0's SPA SDK).
pub const DEFAULT_REQUEST_TIMEOUT_MS: u32 = 10_000;
/// The longest request timeout the options accept.
pub const MAX_REQUEST_TIMEOUT_MS: u32 = 600_000;

/// How to load an instance. Grows with `with_*` builders, so adding an option breaks nobody.
#[derive(Clone)]
#[non_exhaustive]
pub struct Options {
    /// The Frontend API URL, or a publishable key (`pk_…`) that encodes it.
    pub frontend_api: String,
    pub storage: StorageKind,
    /// `getToken()` never hands out a token with less than this left (milliseconds).
    pub min_token_lifetime_ms: i64,
    /// The device clock (tests inject a shifted or fake one).
    pub clock: Option<Rc<dyn Clock>>,
    /// Record a trace of every refresh (which tab, why, what came of it): [`Hallpass::refresh_trace`].
    pub debug: bool,
    /// How long a request to the server may take (milliseconds) before it fails with
    /// `request_timeout`: a black-holed connection must not hold `getToken()` forever.
    pub request_timeout_ms: u32,
}

/// By value, the clock by identity. Every field is named (no `..`), so a new option cannot be
/// forgotten here — the Yew provider reloads its client exactly when its options change.
impl PartialEq for Options {
    fn eq(&self, other: &Self) -> bool {
        let Options { frontend_api, storage, min_token_lifetime_ms, clock, debug, request_timeout_ms } = self;
        *frontend_api == other.frontend_api
            && *storage == other.storage
            && *min_token_lifetime_ms == other.min_token_lifetime_ms
            && match (clock, &other.clock) {
                (None, None) => true,
                (Some(x), Some(y)) => Rc::ptr_eq(x, y),
                _ => false,
            }
            && *debug == other.debug
            && *request_timeout_ms == other.request_timeout_ms
    }
}

impl Options {
    /// Options for a Frontend API URL or a publishable key.
    pub fn new(frontend_api: impl Into<String>) -> Options {
        Options {
            frontend_api: frontend_api.into(),
            storage: StorageKind::Local,
            min_token_lifetime_ms: DEFAULT_MIN_REMAINING_MS,
            clock: None,
            debug: false,
            request_timeout_ms: DEFAULT_REQUEST_TIMEOUT_MS,
        }
    }

    pub fn with_storage(mut self, storage: StorageKind) -> Options {
        self.storage = storage;
        self
    }

    pub fn with_min_token_lifetime_ms(mut self, ms: i64) -> Options {
        self.min_token_lifetime_ms = ms.max(0);
        self
    }

    pub fn with_clock(mut self, clock: Rc<dyn Clock>) -> Options {
        self.clock = Some(clock);
        self
    }

    pub fn with_debug(mut self, debug: bool) -> Options {
        self.debug = debug;
        self
    }

    /// 1 ms to [`MAX_REQUEST_TIMEOUT_MS`].
    pub fn with_request_timeout_ms(mut self, ms: u32) -> Options {
        self.request_timeout_ms = ms.clamp(1, MAX_REQUEST_TIMEOUT_MS);
        self
    }
}

/// Options of [`Hallpass::get_token`].
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct GetTokenOptions {
    /// Ignore the cache and fetch a new token.
    pub skip_cache: bool,
    /// A token from this JWT template (made on the server with the Backend API) instead of the
    /// session token, like Clerk's `getToken({ template })`.
    pub template: Option<String>,
    /// A session token for this organization (an id or slug of one of the user's; `Some(None)`: the
    /// personal account) instead of the active one, without changing the active one — like Clerk's
    /// `getToken({ organizationId })`. Ignored with a template (a template token carries none).
    pub organization_id: Option<Option<String>>,
}

impl GetTokenOptions {
    pub fn skip_cache() -> GetTokenOptions {
        GetTokenOptions { skip_cache: true, ..GetTokenOptions::default() }
    }

    /// A token from JWT template `name`.
    pub fn template(name: impl Into<String>) -> GetTokenOptions {
        GetTokenOptions { template: Some(name.into()), ..GetTokenOptions::default() }
    }

    /// A session token for organization `id` (an id or slug; `None`: the personal account), the
    /// active one staying as it is.
    pub fn organization(id: Option<String>) -> GetTokenOptions {
        GetTokenOptions { organization_id: Some(id), ..GetTokenOptions::default() }
    }

    /// The same, ignoring the cache.
    pub fn skipping_cache(mut self) -> GetTokenOptions {
        self.skip_cache = true;
        self
    }
}

/// A sign-up: the wire request itself (`SignUp::new(email, password).with_name(…)`).
pub type SignUp = hallpass_protocol::SignUpRequest;

/// A `pk_…` key decodes to its URL; a URL is taken as it is (without a trailing slash).
pub(super) fn resolve_frontend_api(value: &str) -> Result<String, Error> {
    // ASCII whitespace (a pasted key or URL); `trim()`'s Unicode rule ships a UTF-8 decoder.
    let value = value.trim_ascii();
    let url = if value.starts_with("pk_") {
        decode_publishable_key(value).ok_or_else(|| invalid("the publishable key is not valid"))?
    } else {
        value.to_owned()
    };
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() > 2048 {
        return Err(invalid("frontendApi must be an http(s) URL or a publishable key"));
    }
    // `strip_suffix` compares bytes; `trim_end_matches` would decode UTF-8 backwards.
    let mut url = url.as_str();
    while let Some(shorter) = url.strip_suffix('/') {
        url = shorter;
    }
    Ok(url.to_owned())
}
