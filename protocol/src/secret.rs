//! [`Secret`]: the one redacting string type for everything that must never reach a log — passwords,
//! refresh tokens, session and template tokens, signing keys, the secret key — on both sides of the
//! wire.
//!
//! `Debug` prints `Secret([redacted])` and there is no `Display`, so a secret cannot end up in a log
//! line, an error message or a panic by accident; the value comes out only through
//! [`Secret::expose`], which makes every use greppable. On the wire it is the plain JSON string.

use serde::{Deserialize, Serialize};

/// A secret string.
///
/// ```
/// use hallpass_protocol::Secret;
///
/// let password = Secret::new("correct horse battery staple");
/// assert_eq!(format!("{password:?}"), "Secret([redacted])");
/// assert_eq!(password.expose(), "correct horse battery staple");
/// ```
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

// `#[inline]` throughout: a secret is a `String` with a different `Debug`, and must cost nothing
// more than one in the wasm.
impl Secret {
    #[inline]
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value. Never log it.
    #[inline]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The secret value, owned. Never log it.
    #[inline]
    pub fn into_exposed(self) -> String {
        self.0
    }
}

impl From<String> for Secret {
    #[inline]
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

/// For configuration (`clap` parses `--secret-key` with it).
impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_owned()))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value_and_the_wire_is_a_plain_string() {
        let s = Secret::new("hunter22");
        assert_eq!(format!("{s:?} {:?}", Some(&s)), "Secret([redacted]) Some(Secret([redacted]))");
        assert_eq!(serde_json::to_string(&s).unwrap(), r#""hunter22""#);
        let back: Secret = serde_json::from_str(r#""hunter22""#).unwrap();
        assert_eq!(back, s);
        assert!(serde_json::from_str::<Secret>("22").is_err());
        assert_eq!("x".parse::<Secret>().unwrap().into_exposed(), "x");
    }
}
