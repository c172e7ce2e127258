//! [`HallpassClient`]: the Backend API with the secret key, in the protocol's own types — the
//! signed-in user ([`HallpassClient::current_user`]), users by id, their names and metadata, the list,
//! sessions by id, and the instance's sign-up and sign-in settings
//! ([`HallpassClient::update_instance`], Clerk's `clerkClient.instance`). Every
//! call has a deadline (10 s unless [`HallpassClient::timeout`] says otherwise); errors carry the
//! server's codes ([`Error::Api`]).

use std::time::Duration;

use hallpass_protocol::paths::{self, fill};
use hallpass_protocol::{
    DeletedObject, ErrorBody, Instance, ListResponse, Secret, Session, UpdateInstanceRequest,
    UpdateMetadataRequest, UpdateUserRequest, User,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::auth::Auth;
use crate::error::{Error, Result};
use crate::http::{Http, describe, read_limited};

/// The default deadline of a call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read (a page of 500 users with their metadata is well under it).
const MAX_ANSWER_BYTES: usize = 32 * 1024 * 1024;

/// A Backend API client. Cheap to clone.
#[derive(Clone)]
pub struct HallpassClient {
    api_url: String,
    secret_key: Secret,
    http: Http,
    timeout: Duration,
}

impl std::fmt::Debug for HallpassClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HallpassClient")
            .field("api_url", &self.api_url)
            .field("secret_key", &self.secret_key)
            .finish()
    }
}

impl HallpassClient {
    /// A client of the server at `api_url` (its Frontend API URL: one server answers both APIs).
    pub fn new(api_url: &str, secret_key: impl Into<String>) -> Result<HallpassClient> {
        Self::with_http(api_url, secret_key, Http::new()?)
    }

    /// The same on a given HTTP client (to share its connection pool).
    pub fn with_http(api_url: &str, secret_key: impl Into<String>, http: Http) -> Result<HallpassClient> {
        let secret_key = secret_key.into();
        if !hallpass_protocol::keys::is_secret_key(&secret_key) {
            return Err(Error::Config("the Backend API needs the secret key (sk_test_… / sk_live_…)".into()));
        }
        if !(api_url.starts_with("http://") || api_url.starts_with("https://")) {
            return Err(Error::Config("the API URL must be an http(s) URL".into()));
        }
        Ok(HallpassClient {
            api_url: api_url.trim_end_matches('/').to_owned(),
            secret_key: Secret::new(secret_key),
            http,
            timeout: DEFAULT_TIMEOUT,
        })
    }

    /// Each call's deadline.
    pub fn timeout(mut self, timeout: Duration) -> HallpassClient {
        self.timeout = timeout;
        self
    }

    /// The signed-in user of a request (`None` when signed out).
    pub async fn current_user(&self, auth: &Auth) -> Result<Option<User>> {
        match auth.user_id() {
            Some(id) => self.get_user(id).await.map(Some),
            None => Ok(None),
        }
    }

    pub async fn get_user(&self, user_id: &str) -> Result<User> {
        self.call(reqwest::Method::GET, &fill(paths::USER, &[&segment(user_id)?]), None::<&()>).await
    }

    /// A page of users: at most `limit` (1 to 500), from `offset`.
    pub async fn list_users(&self, limit: u32, offset: u32) -> Result<ListResponse<User>> {
        let path = format!("{}?limit={limit}&offset={offset}", paths::USERS);
        self.call(reqwest::Method::GET, &path, None::<&()>).await
    }

    /// Sets or clears the user's names, replaces each given metadata object whole and makes one of
    /// the user's verified addresses primary (Clerk's `updateUser`); fields left `None` stay as they
    /// are.
    pub async fn update_user(&self, user_id: &str, update: &UpdateUserRequest) -> Result<User> {
        self.call(reqwest::Method::PATCH, &fill(paths::USER, &[&segment(user_id)?]), Some(update)).await
    }

    /// Deep-merges each given metadata object into the user's (a key set to `null` is removed).
    pub async fn update_user_metadata(&self, user_id: &str, update: &UpdateMetadataRequest) -> Result<User> {
        self.call(reqwest::Method::PATCH, &fill(paths::USER_METADATA, &[&segment(user_id)?]), Some(update))
            .await
    }

    pub async fn delete_user(&self, user_id: &str) -> Result<DeletedObject> {
        self.call(reqwest::Method::DELETE, &fill(paths::USER, &[&segment(user_id)?]), None::<&()>).await
    }

    /// A session by id, as it stands now (`revoked`, `ended`, `expired` included).
    pub async fn get_session(&self, session_id: &str) -> Result<Session> {
        self.call(reqwest::Method::GET, &fill(paths::BACKEND_SESSION, &[&segment(session_id)?]), None::<&()>)
            .await
    }

    /// The instance: its id, environment and allowed origins, and the sign-up and sign-in settings in
    /// force (which of them were changed here: `overridden`).
    pub async fn get_instance(&self) -> Result<Instance> {
        self.call(reqwest::Method::GET, paths::INSTANCE, None::<&()>).await
    }

    /// Changes the instance's settings while the server runs, on every replica within a second:
    /// fields left `None` stay as they are, `Some(None)` hands one back to the server's flag. A change
    /// that would leave no way to sign in is refused whole (`form_param_value_invalid`). Answers the
    /// settings as this change left them.
    pub async fn update_instance(&self, update: &UpdateInstanceRequest) -> Result<Instance> {
        self.call(reqwest::Method::PATCH, paths::INSTANCE, Some(update)).await
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T> {
        let mut request = self
            .http
            .client()
            .request(method, format!("{}{path}", self.api_url))
            .bearer_auth(self.secret_key.expose())
            .header(http::header::ACCEPT, "application/json")
            .timeout(self.timeout);
        if let Some(body) = body {
            request = request.json(body);
        }
        let exchange = async {
            let response = request.send().await.map_err(|e| transport(&e, self.timeout))?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok());
            let bytes = read_limited(response, MAX_ANSWER_BYTES).await.map_err(Error::Network)?;
            if !status.is_success() {
                let errors =
                    serde_json::from_slice::<ErrorBody>(&bytes).map(|b| b.errors).unwrap_or_default();
                return Err(Error::Api { status: status.as_u16(), errors, retry_after });
            }
            serde_json::from_slice(&bytes)
                .map_err(|e| Error::Network(format!("the answer is not what was expected: {e}")))
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| Error::Timeout(self.timeout.as_millis() as u64))?
    }
}

fn transport(error: &reqwest::Error, timeout: Duration) -> Error {
    if error.is_timeout() {
        Error::Timeout(timeout.as_millis() as u64)
    } else {
        Error::Network(describe(error))
    }
}

/// An id as one path segment: ids are `[A-Za-z0-9_]`, so anything else is refused rather than escaped.
fn segment(id: &str) -> Result<String> {
    if id.is_empty()
        || id.len() > 128
        || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(Error::Config(format!("not an id: {id:?}")));
    }
    Ok(id.to_owned())
}
