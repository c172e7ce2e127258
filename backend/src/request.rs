//! The auth state of a request from its headers: the `Authorization: Bearer` token (API calls) wins,
//! otherwise the `__session` cookie that the browser SDK keeps with `sessionCookie: true` (page
//! navigations). An expired cookie is signed out with its reason (`token-expired`); the page that
//! refreshes it is `hallpass/server`'s handshake, which this crate does not serve.

use http::HeaderMap;

use crate::auth::{Auth, SignedIn, SignedOut};
use crate::verify::Verifier;

/// The session cookie's name (Clerk's).
pub const SESSION_COOKIE: &str = "__session";

/// The Bearer token of an `Authorization` header, if any.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' ')).then_some(token)
}

/// The value of the first cookie called `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| k.trim() == name)
        .map(|(_, v)| v.trim().trim_matches('"'))
        .filter(|v| !v.is_empty())
}

impl Verifier {
    /// The auth state of a request with these headers.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Auth {
        let Some(token) = bearer_token(headers).or_else(|| cookie(headers, SESSION_COOKIE)) else {
            return Auth::SignedOut(SignedOut {
                reason: "session-token-and-uat-missing".into(),
                message: "no session token in the Authorization header or the __session cookie".into(),
            });
        };
        match self.verify(token).await {
            Ok(verified) => Auth::SignedIn(Box::new(SignedIn::from_token(verified, token))),
            Err(e) => Auth::SignedOut(SignedOut { reason: e.code().to_owned(), message: e.to_string() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn reads_bearer_tokens_and_cookies() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer_token(&h), None);
        h.insert("authorization", HeaderValue::from_static("bearer  abc.def.ghi "));
        assert_eq!(bearer_token(&h), Some("abc.def.ghi"));
        h.insert("authorization", HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer_token(&h), None);
        h.append("cookie", HeaderValue::from_static("a=1; __session=\"tok\""));
        h.append("cookie", HeaderValue::from_static("__session=second"));
        assert_eq!(cookie(&h, "__session"), Some("tok"));
        assert_eq!(cookie(&h, "a"), Some("1"));
        assert_eq!(cookie(&h, "b"), None);
    }
}
