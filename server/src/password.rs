//! Password hashing: Argon2id with PHC strings, always on the blocking thread pool so a hash never
//! stalls the async runtime.
//!
//! Sign-in for an unknown email verifies against a dummy hash made with the same parameters, so both
//! failures cost the same time and return the same error.

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

use crate::secret::Password;

/// Argon2id parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl HashParams {
    /// OWASP's recommendation: m=19456 KiB, t=2, p=1.
    pub const OWASP: HashParams = HashParams { memory_kib: 19_456, iterations: 2, parallelism: 1 };

    fn argon2(self) -> Result<Argon2<'static>, HashError> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| HashError(format!("invalid Argon2 parameters: {e}")))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

/// Hashing failed (bad parameters, RNG, or the blocking pool went away).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// Hashes `password` to a PHC string, off the runtime.
pub async fn hash(params: HashParams, password: Password) -> Result<String, HashError> {
    tokio::task::spawn_blocking(move || hash_blocking(params, &password))
        .await
        .map_err(|e| HashError(e.to_string()))?
}

/// The blocking part of [`hash`].
pub fn hash_blocking(params: HashParams, password: &Password) -> Result<String, HashError> {
    let hash =
        params.argon2()?.hash_password(password.expose().as_bytes()).map_err(|e| HashError(e.to_string()))?;
    Ok(hash.to_string())
}

/// Checks `password` against a PHC string, off the runtime. A malformed stored hash is `false`.
pub async fn verify(password: Password, phc: String) -> Result<bool, HashError> {
    tokio::task::spawn_blocking(move || {
        // The parameters come from the PHC string; the ones given to `Argon2::default` do not matter.
        Argon2::default().verify_password(password.expose().as_bytes(), phc.as_str()).is_ok()
    })
    .await
    .map_err(|e| HashError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: HashParams = HashParams { memory_kib: 64, iterations: 1, parallelism: 1 };

    #[tokio::test]
    async fn hash_and_verify() {
        let phc = hash(CHEAP, Password::new("correct horse")).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{phc}");
        assert!(verify(Password::new("correct horse"), phc.clone()).await.unwrap());
        assert!(!verify(Password::new("wrong horse"), phc).await.unwrap());
        assert!(!verify(Password::new("x"), "not a phc string".into()).await.unwrap());
    }

    #[tokio::test]
    async fn owasp_parameters_are_the_default_and_work() {
        let phc = hash(HashParams::OWASP, Password::new("correct horse")).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify(Password::new("correct horse"), phc).await.unwrap());
    }
}
