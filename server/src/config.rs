//! Server configuration: every setting is a command-line flag and a `HALLPASS_*` environment variable.
//! With none given, the server is the dev instance (`127.0.0.1:8787`, `.hallpass/hallpass.db`).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

use crate::secret::SecretKey;

/// `hallpass-server` settings.
#[derive(Clone, Debug, Parser)]
#[command(name = "hallpass-server", version, about = "Self-hosted Hallpass auth server")]
pub struct Config {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    #[arg(long, env = "HALLPASS_ADDR", default_value = "127.0.0.1:8787")]
    pub addr: SocketAddr,

    /// Database URL. SQLite (`sqlite://path?mode=rwc`) today; the parent directory is created.
    #[arg(long, env = "HALLPASS_DATABASE_URL", default_value = "sqlite://.hallpass/hallpass.db?mode=rwc")]
    pub database_url: String,

    /// The server's public URL: the `iss` of session tokens and the URL inside the publishable key.
    /// Default: `http://<bound address>`.
    #[arg(long, env = "HALLPASS_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Origins allowed to call the Frontend API, comma-separated. A port of `*` matches any port;
    /// a lone `*` allows every origin.
    #[arg(
        long,
        env = "HALLPASS_ALLOWED_ORIGINS",
        value_delimiter = ',',
        default_value = "http://localhost:*,http://127.0.0.1:*"
    )]
    pub allowed_origins: Vec<String>,

    /// The Backend API secret key (`sk_test_…`/`sk_live_…`). Default: generated once and kept in the
    /// database.
    #[arg(long, env = "HALLPASS_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<SecretKey>,

    /// Session token (JWT) lifetime, in seconds.
    #[arg(long, env = "HALLPASS_TOKEN_LIFETIME_SECS", default_value_t = 60)]
    pub token_lifetime_secs: u32,

    /// How long an already-rotated refresh token still returns its unused successor, in seconds.
    #[arg(long, env = "HALLPASS_REFRESH_GRACE_SECS", default_value_t = 10)]
    pub refresh_grace_secs: u32,

    /// A session ends after this many seconds without a refresh.
    #[arg(long, env = "HALLPASS_SESSION_IDLE_TIMEOUT_SECS", default_value_t = 7 * 24 * 3600)]
    pub session_idle_timeout_secs: u64,

    /// A session ends this many seconds after sign-in, whatever happens.
    #[arg(long, env = "HALLPASS_SESSION_LIFETIME_SECS", default_value_t = 30 * 24 * 3600)]
    pub session_lifetime_secs: u64,

    /// Sign-up and sign-in attempts allowed per client IP per minute.
    #[arg(long, env = "HALLPASS_RATE_LIMIT_AUTH_PER_IP", default_value_t = 30)]
    pub rate_limit_auth_per_ip: u32,

    /// Sign-in attempts allowed per account (email address) per minute.
    #[arg(long, env = "HALLPASS_RATE_LIMIT_SIGN_IN_PER_ACCOUNT", default_value_t = 10)]
    pub rate_limit_sign_in_per_account: u32,

    /// Frontend API requests allowed per client IP per minute (all endpoints).
    #[arg(long, env = "HALLPASS_RATE_LIMIT_REQUESTS_PER_IP", default_value_t = 1200)]
    pub rate_limit_requests_per_ip: u32,

    /// Turn every rate limit off (test runs and benchmarks only).
    #[arg(long, env = "HALLPASS_DISABLE_RATE_LIMITS", default_value_t = false)]
    pub disable_rate_limits: bool,

    /// Argon2id memory cost in KiB (OWASP: 19456).
    #[arg(long, env = "HALLPASS_ARGON2_MEMORY_KIB", default_value_t = 19_456)]
    pub argon2_memory_kib: u32,

    /// Argon2id iterations (OWASP: 2).
    #[arg(long, env = "HALLPASS_ARGON2_ITERATIONS", default_value_t = 2)]
    pub argon2_iterations: u32,

    /// Argon2id parallelism (OWASP: 1).
    #[arg(long, env = "HALLPASS_ARGON2_PARALLELISM", default_value_t = 1)]
    pub argon2_parallelism: u32,

    /// Largest request body accepted, in bytes.
    #[arg(long, env = "HALLPASS_MAX_BODY_BYTES", default_value_t = 64 * 1024)]
    pub max_body_bytes: usize,

    /// After binding, write `{"address","frontend_api","publishable_key","secret_key"}` to this file
    /// (atomically: temp file + rename).
    #[arg(long, env = "HALLPASS_READY_FILE")]
    pub ready_file: Option<PathBuf>,

    /// Serve the demo app from this folder (`www/`) under `/demo/`, with its protected endpoint
    /// `/demo/api/whoami` (`cargo xtask demo` sets it). Off by default.
    #[arg(long, env = "HALLPASS_DEMO_DIR")]
    pub demo_dir: Option<PathBuf>,

    /// With `--demo-dir`: serve the npm package (`pkg/npm/`) under `/demo/hallpass/`.
    #[arg(long, env = "HALLPASS_DEMO_PACKAGE_DIR")]
    pub demo_package_dir: Option<PathBuf>,
}

impl Config {
    /// The defaults, as if started with no flags and no environment.
    pub fn defaults() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 8787)),
            database_url: "sqlite://.hallpass/hallpass.db?mode=rwc".into(),
            public_url: None,
            allowed_origins: vec!["http://localhost:*".into(), "http://127.0.0.1:*".into()],
            secret_key: None,
            token_lifetime_secs: 60,
            refresh_grace_secs: 10,
            session_idle_timeout_secs: 7 * 24 * 3600,
            session_lifetime_secs: 30 * 24 * 3600,
            rate_limit_auth_per_ip: 30,
            rate_limit_sign_in_per_account: 10,
            rate_limit_requests_per_ip: 1200,
            disable_rate_limits: false,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            max_body_bytes: 64 * 1024,
            ready_file: None,
            demo_dir: None,
            demo_package_dir: None,
        }
    }

    /// Settings for tests: a SQLite file at `db_path`, `127.0.0.1:0`, cheap Argon2 parameters
    /// (m=256 KiB, t=1), and the default rate limits.
    pub fn for_tests(db_path: impl AsRef<std::path::Path>) -> Self {
        let mut config = Config::defaults();
        config.addr = SocketAddr::from(([127, 0, 0, 1], 0));
        config.database_url = format!("sqlite://{}?mode=rwc", db_path.as_ref().display());
        config.argon2_memory_kib = 256;
        config.argon2_iterations = 1;
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_command_line_equals_defaults() {
        // Environment variables could leak into `parse_from`; this test only runs the flag parser
        // when none of ours is set.
        if std::env::vars().any(|(k, _)| k.starts_with("HALLPASS_")) {
            return;
        }
        let parsed = Config::try_parse_from(["hallpass-server"]).unwrap();
        let defaults = Config::defaults();
        assert_eq!(format!("{parsed:?}"), format!("{defaults:?}"));
    }

    #[test]
    fn flags_override_and_origins_split_on_commas() {
        let c = Config::try_parse_from([
            "hallpass-server",
            "--addr",
            "127.0.0.1:0",
            "--allowed-origins",
            "http://a.test,https://b.test:*",
            "--token-lifetime-secs",
            "5",
        ])
        .unwrap();
        assert_eq!(c.addr.port(), 0);
        assert_eq!(c.allowed_origins, vec!["http://a.test", "https://b.test:*"]);
        assert_eq!(c.token_lifetime_secs, 5);
    }

    #[test]
    fn debug_never_prints_the_secret_key() {
        let c = Config::try_parse_from(["hallpass-server", "--secret-key", "sk_test_topsecret"]).unwrap();
        assert_eq!(c.secret_key.as_ref().map(|k| k.expose()), Some("sk_test_topsecret"));
        assert!(!format!("{c:?}").contains("topsecret"));
    }
}
