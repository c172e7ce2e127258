//! Password hashing as a bounded resource: Argon2id with PHC strings, at most `concurrency` hashes
//! at once (one per core by default), each on the blocking thread pool so a hash never stalls the
//! async runtime.
//!
//! Why bounded: every Argon2id computation holds `m` KiB (19 MiB with OWASP's parameters) and a
//! core for tens of milliseconds. Unbounded, 150 concurrent sign-ins were 150 blocking threads and
//! 2.9 GB, and the allocator kept most of it after the flood. Here:
//! - a semaphore admits `concurrency` computations; a short queue (`queue` waiters, each for at most
//!   [`QUEUE_WAIT`]) absorbs bursts; anything beyond is refused at once with [`HashError::Busy`]
//!   (the handler answers `503 server_busy` with `Retry-After`), before any memory is touched;
//! - the Argon2 memory is a pool of `concurrency` buffers, allocated once and reused, so the memory
//!   used for hashing is exactly `concurrency × m` whatever the load (and zeroed after every use:
//!   it holds values derived from the password).
//!
//! Sign-in for an unknown email verifies against a dummy hash made with the same parameters, so both
//! failures cost the same time and return the same error.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, PasswordHasher, Version};
use tokio::sync::Semaphore;

use subtle::ConstantTimeEq;

use crate::secret::{Password, random_bytes};

/// How long a sign-in or sign-up waits for a hashing slot before it is refused as busy.
pub const QUEUE_WAIT: Duration = Duration::from_secs(2);

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

    fn params(self) -> Result<Params, HashError> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| HashError::Failed(format!("invalid Argon2 parameters: {e}")))
    }

    fn argon2(self) -> Result<Argon2<'static>, HashError> {
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params()?))
    }
}

/// Why a hash or a verification did not happen.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Every slot is taken and the queue is full (or the wait ran out): retry after this many seconds.
    #[error("password hashing is at capacity")]
    Busy { retry_after_secs: u64 },
    /// Bad parameters, the RNG, or the blocking pool went away.
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// The bounded hasher (one per server, in [`crate::AppState`]).
pub struct Hasher {
    params: HashParams,
    slots: Semaphore,
    concurrency: usize,
    queue: usize,
    waiting: AtomicUsize,
    /// Argon2 working memory, one buffer per slot, reused.
    buffers: Mutex<Vec<Vec<Block>>>,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("params", &self.params)
            .field("concurrency", &self.concurrency)
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

impl Hasher {
    /// `concurrency` 0 means one slot per CPU core.
    pub fn new(params: HashParams, concurrency: usize, queue: usize) -> Hasher {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let concurrency = if concurrency == 0 { cores } else { concurrency };
        Hasher {
            params,
            slots: Semaphore::new(concurrency),
            concurrency,
            queue,
            waiting: AtomicUsize::new(0),
            buffers: Mutex::new(Vec::new()),
        }
    }

    pub fn params(&self) -> HashParams {
        self.params
    }

    /// Hashes computed at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Hashes `password` to a PHC string.
    pub async fn hash(&self, password: Password) -> Result<String, HashError> {
        let params = self.params;
        self.run(move |memory| hash_with(params, &password, memory)).await?
    }

    /// Checks `password` against a PHC string. A malformed stored hash is `false`.
    pub async fn verify(&self, password: Password, phc: String) -> Result<bool, HashError> {
        self.run(move |memory| verify_with(&password, &phc, memory)).await
    }

    /// Runs `work` with a slot and a memory buffer, on the blocking pool.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let busy = HashError::Busy { retry_after_secs: 1 };
        let permit = match self.slots.try_acquire() {
            Ok(p) => p,
            Err(_) => {
                // Join the queue only if there is room in it.
                let admitted = self
                    .waiting
                    .fetch_update(Ordering::AcqRel, Ordering::Acquire, |w| (w < self.queue).then_some(w + 1))
                    .is_ok();
                if !admitted {
                    return Err(busy);
                }
                let waited = tokio::time::timeout(QUEUE_WAIT, self.slots.acquire()).await;
                self.waiting.fetch_sub(1, Ordering::AcqRel);
                match waited {
                    Ok(Ok(p)) => p,
                    Ok(Err(_)) => return Err(HashError::Failed("hasher closed".into())),
                    Err(_) => return Err(busy),
                }
            }
        };
        let mut memory = self.buffers.lock().unwrap_or_else(|p| p.into_inner()).pop().unwrap_or_default();
        let (result, memory) = tokio::task::spawn_blocking(move || {
            let result = work(&mut memory);
            memory.fill(Block::new());
            (result, memory)
        })
        .await
        .map_err(|e| HashError::Failed(e.to_string()))?;
        self.buffers.lock().unwrap_or_else(|p| p.into_inner()).push(memory);
        drop(permit);
        Ok(result)
    }
}

/// `memory` resized to what `params` needs. A stored hash with a larger `m` than the configured one
/// (parameters lowered since) grows the buffer; it stays that size, still one per slot.
fn blocks<'a>(memory: &'a mut Vec<Block>, params: &Params) -> &'a mut [Block] {
    let needed = params.block_count();
    if memory.len() < needed {
        memory.resize(needed, Block::new());
    }
    &mut memory[..needed]
}

fn hash_with(params: HashParams, password: &Password, memory: &mut Vec<Block>) -> Result<String, HashError> {
    let salt: [u8; 16] = random_bytes().map_err(|e| HashError::Failed(e.to_string()))?;
    let argon2 = params.argon2()?;
    let mut out = [0u8; 32];
    argon2
        .hash_password_into_with_memory(
            password.expose().as_bytes(),
            &salt,
            &mut out,
            blocks(memory, argon2.params()),
        )
        .map_err(|e| HashError::Failed(e.to_string()))?;
    let phc = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params()).map_err(|e| HashError::Failed(e.to_string()))?,
        salt: Some(Salt::new(&salt).map_err(|e| HashError::Failed(e.to_string()))?),
        hash: Some(Output::new(&out).map_err(|e| HashError::Failed(e.to_string()))?),
    };
    Ok(phc.to_string())
}

fn verify_with(password: &Password, phc: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return false };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else { return false };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else { return false };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else { return false };
    let mut out = vec![0u8; expected.len()];
    let argon2 = Argon2::new(algorithm, version, params);
    let salt: &[u8] = salt.as_ref();
    if argon2
        .hash_password_into_with_memory(
            password.expose().as_bytes(),
            salt,
            &mut out,
            blocks(memory, argon2.params()),
        )
        .is_err()
    {
        return false;
    }
    bool::from(out.as_slice().ct_eq(expected.as_ref()))
}

/// Hashes without a [`Hasher`] (allocating its own memory): benchmarks seed users with it.
pub fn hash_blocking(params: HashParams, password: &Password) -> Result<String, HashError> {
    let hash = params
        .argon2()?
        .hash_password(password.expose().as_bytes())
        .map_err(|e| HashError::Failed(e.to_string()))?;
    Ok(hash.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: HashParams = HashParams { memory_kib: 64, iterations: 1, parallelism: 1 };

    #[tokio::test]
    async fn hash_and_verify() {
        let hasher = Hasher::new(CHEAP, 1, 0);
        let phc = hasher.hash(Password::new("correct horse")).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{phc}");
        assert!(hasher.verify(Password::new("correct horse"), phc.clone()).await.unwrap());
        assert!(!hasher.verify(Password::new("wrong horse"), phc).await.unwrap());
        assert!(!hasher.verify(Password::new("x"), "not a phc string".into()).await.unwrap());
    }

    #[tokio::test]
    async fn hashes_are_interchangeable_with_the_argon2_crates_own() {
        let hasher = Hasher::new(CHEAP, 1, 0);
        // Made by the crate, verified here (and with other parameters than the hasher's).
        let theirs = hash_blocking(
            HashParams { memory_kib: 128, iterations: 2, parallelism: 1 },
            &Password::new("pw one"),
        )
        .unwrap();
        assert!(hasher.verify(Password::new("pw one"), theirs.clone()).await.unwrap());
        assert!(!hasher.verify(Password::new("pw two"), theirs).await.unwrap());
        // Made here, verified by the crate.
        use argon2::PasswordVerifier;
        let ours = hasher.hash(Password::new("pw three")).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"pw three", &parsed).is_ok());
        assert!(Argon2::default().verify_password(b"pw four", &parsed).is_err());
    }

    #[tokio::test]
    async fn owasp_parameters_are_the_default_and_work() {
        let hasher = Hasher::new(HashParams::OWASP, 0, 4);
        let phc = hasher.hash(Password::new("correct horse")).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(hasher.verify(Password::new("correct horse"), phc).await.unwrap());
    }

    #[tokio::test]
    async fn beyond_the_slots_and_the_queue_requests_are_refused_at_once() {
        // One slot, one queue place: of many concurrent hashes, some are refused as busy at once,
        // the others succeed, and never more than one buffer exists.
        let hasher = std::sync::Arc::new(Hasher::new(
            HashParams { memory_kib: 4096, iterations: 3, parallelism: 1 },
            1,
            1,
        ));
        let tasks: Vec<_> = (0..12)
            .map(|i| {
                let h = hasher.clone();
                tokio::spawn(async move { h.hash(Password::new(format!("password {i}"))).await })
            })
            .collect();
        let (mut ok, mut busy) = (0, 0);
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(HashError::Busy { retry_after_secs }) => {
                    assert_eq!(retry_after_secs, 1);
                    busy += 1;
                }
                Err(e) => panic!("{e}"),
            }
        }
        // One runs, one may wait (it succeeds unless the first hash outlasts QUEUE_WAIT), the other
        // ten are refused without waiting.
        assert!(ok >= 1 && busy >= 10 && ok + busy == 12, "ok {ok}, busy {busy}");
        assert_eq!(hasher.buffers.lock().unwrap().len(), 1, "one buffer per slot");
        assert_eq!(hasher.waiting.load(Ordering::SeqCst), 0);
    }
}
