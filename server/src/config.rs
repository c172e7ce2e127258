//! Server configuration: every setting is a command-line flag and a `HALLPASS_*` environment variable.
//! With none given, the server is the dev instance (`127.0.0.1:8787`, `.hallpass/hallpass.db`).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

use crate::secret::{KeyEncryptionKey, SecretKey, SmtpSecret};

/// `hallpass-server` settings.
#[derive(Clone, Debug, Parser)]
#[command(name = "hallpass-server", version, about = "Self-hosted Hallpass auth server")]
pub struct Config {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    #[arg(long, env = "HALLPASS_ADDR", default_value = "127.0.0.1:8787")]
    pub addr: SocketAddr,

    /// Database URL: `sqlite://path` (one process; the file and its directory are created) or
    /// `postgres://user:password@host:port/database` (any number of replicas share it).
    #[arg(
        long,
        env = "HALLPASS_DATABASE_URL",
        default_value = "sqlite://.hallpass/hallpass.db?mode=rwc",
        global = true
    )]
    pub database_url: String,

    /// Most database connections this process keeps open.
    #[arg(long, env = "HALLPASS_DATABASE_MAX_CONNECTIONS", default_value_t = 8)]
    pub database_max_connections: u32,

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

    /// Most refresh-token rotations committed in one database transaction: rotations arriving
    /// together share one (group commit); 1 gives each its own.
    #[arg(long, env = "HALLPASS_REFRESH_BATCH_MAX", default_value_t = 64)]
    pub refresh_batch_max: usize,

    /// A session ends after this many seconds without a refresh.
    #[arg(long, env = "HALLPASS_SESSION_IDLE_TIMEOUT_SECS", default_value_t = 7 * 24 * 3600)]
    pub session_idle_timeout_secs: u64,

    /// A session ends this many seconds after sign-in, whatever happens.
    #[arg(long, env = "HALLPASS_SESSION_LIFETIME_SECS", default_value_t = 30 * 24 * 3600)]
    pub session_lifetime_secs: u64,

    /// How long a session that is over (signed out, revoked, or past its idle or absolute deadline) is
    /// kept, with its refresh tokens, before housekeeping deletes it, in seconds. Until then it is
    /// listed by the Backend API and its refresh tokens answer with the session's status.
    #[arg(long, env = "HALLPASS_SESSION_RETENTION_SECS", default_value_t = 7 * 24 * 3600)]
    pub session_retention_secs: u64,

    /// Seconds between housekeeping sweeps (purging what outlived its retention).
    #[arg(long, env = "HALLPASS_HOUSEKEEPING_INTERVAL_SECS", default_value_t = 60)]
    pub housekeeping_interval_secs: u64,

    /// Most rows housekeeping deletes in one transaction.
    #[arg(long, env = "HALLPASS_HOUSEKEEPING_BATCH_SIZE", default_value_t = 500)]
    pub housekeeping_batch_size: u32,

    /// Milliseconds housekeeping waits between two batches, so that requests queue behind at most one.
    #[arg(long, env = "HALLPASS_HOUSEKEEPING_PAUSE_MS", default_value_t = 50)]
    pub housekeeping_pause_ms: u64,

    /// Sign-up and sign-in attempts allowed per client IP per minute.
    #[arg(long, env = "HALLPASS_RATE_LIMIT_AUTH_PER_IP", default_value_t = 30)]
    pub rate_limit_auth_per_ip: u32,

    /// Failed sign-ins allowed per account from one client address (an IPv6 /64) in 15 minutes;
    /// past it, that address is refused for that account until the budget refills. Only failures
    /// count: a correct password from another address is never refused because of them.
    #[arg(long, env = "HALLPASS_SIGN_IN_FAILURES_PER_ACCOUNT_AND_IP", default_value_t = 5)]
    pub sign_in_failures_per_account_and_ip: u32,

    /// Failed sign-ins allowed per account from all addresses together in 15 minutes; past it, an
    /// address that has failed for the account even once is refused (addresses with no failure still
    /// get their answer).
    #[arg(long, env = "HALLPASS_SIGN_IN_FAILURES_PER_ACCOUNT", default_value_t = 50)]
    pub sign_in_failures_per_account: u32,

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

    /// Password hashes (Argon2id) computed at once; 0 means one per CPU core. Each holds
    /// `argon2_memory_kib` of memory while it runs.
    #[arg(long, env = "HALLPASS_HASH_CONCURRENCY", default_value_t = 0)]
    pub hash_concurrency: usize,

    /// Sign-ups and sign-ins that may wait for a hashing slot; beyond it (or after waiting 2 s) the
    /// answer is `503 server_busy` with `Retry-After`.
    #[arg(long, env = "HALLPASS_HASH_QUEUE", default_value_t = 16)]
    pub hash_queue: usize,

    /// Proxies whose `X-Forwarded-For` / `Forwarded` headers name the client, comma-separated IP
    /// addresses or CIDR ranges (`127.0.0.1,10.0.0.0/8,::1`). From any other peer these headers are
    /// ignored and the socket's address is the client's.
    #[arg(long, env = "HALLPASS_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<String>,

    /// Open connections accepted at once (capped by the process's file limit); beyond it a new
    /// connection gets `503 server_busy` and is closed.
    #[arg(long, env = "HALLPASS_MAX_CONNECTIONS", default_value_t = 8192)]
    pub max_connections: usize,

    /// Open connections accepted at once from one address (an IPv6 /64); trusted proxies are exempt.
    #[arg(long, env = "HALLPASS_MAX_CONNECTIONS_PER_IP", default_value_t = 128)]
    pub max_connections_per_ip: usize,

    /// Seconds a client has to send a request's line and headers; also how long an idle keep-alive
    /// connection is kept waiting for its next request.
    #[arg(long, env = "HALLPASS_HEADER_READ_TIMEOUT_SECS", default_value_t = 10)]
    pub header_read_timeout_secs: u64,

    /// Seconds a client has to send a request's whole body.
    #[arg(long, env = "HALLPASS_BODY_READ_TIMEOUT_SECS", default_value_t = 10)]
    pub body_read_timeout_secs: u64,

    /// Seconds a connection may go without the client taking any of an answer's bytes (a client
    /// that stops reading); past it the connection is closed.
    #[arg(long, env = "HALLPASS_WRITE_TIMEOUT_SECS", default_value_t = 10)]
    pub write_timeout_secs: u64,

    /// Seconds from a request's headers to its answer; past it, `408 request_timeout`.
    #[arg(long, env = "HALLPASS_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,

    /// Log lines as `text` (for people) or `json` (one object a line, for log pipelines). Security
    /// events (failed sign-ins, lockouts, rate limits, refresh-token reuse) have the target
    /// `hallpass::security`.
    #[arg(long, env = "HALLPASS_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,

    /// Encrypt the signing keys and instance secrets at rest with this key (32 random bytes,
    /// base64url; `openssl rand -base64 32 | tr '+/' '-_' | tr -d '='`). Keys stored in the clear
    /// are encrypted at the next start; without the key an encrypted database does not start.
    #[arg(long, env = "HALLPASS_KEY_ENCRYPTION_KEY", hide_env_values = true, global = true)]
    pub key_encryption_key: Option<KeyEncryptionKey>,

    /// The role the creator of an organization gets (a role key; it must grant
    /// `org:sys_memberships:manage`, so that every new organization starts with an admin).
    #[arg(long, env = "HALLPASS_ORGANIZATION_CREATOR_ROLE", default_value = "org:admin")]
    pub organization_creator_role: String,

    /// The role a new member gets when an invitation or the Backend API names none (a role key).
    #[arg(long, env = "HALLPASS_ORGANIZATION_DEFAULT_ROLE", default_value = "org:member")]
    pub organization_default_role: String,

    /// `max_allowed_memberships` of a new organization when its creator does not say; 0 for no
    /// limit.
    #[arg(long, env = "HALLPASS_ORGANIZATION_MAX_ALLOWED_MEMBERSHIPS", default_value_t = 0)]
    pub organization_max_allowed_memberships: i64,

    /// Whether members holding `org:sys_profile:delete` may delete a new organization from the
    /// Frontend API (`admin_delete_enabled`; the Backend API changes it per organization).
    #[arg(
        long,
        env = "HALLPASS_ORGANIZATION_ADMIN_DELETE_ENABLED",
        default_value_t = true,
        action = clap::ArgAction::Set
    )]
    pub organization_admin_delete_enabled: bool,

    /// A user who belongs to this many organizations cannot create another from the Frontend API
    /// (the Backend API is not limited); 0 for no limit.
    #[arg(long, env = "HALLPASS_ORGANIZATION_CREATE_LIMIT", default_value_t = 100)]
    pub organization_create_limit: i64,

    /// Days an invitation stays pending when whoever sends it does not say (1 to 365).
    #[arg(long, env = "HALLPASS_ORGANIZATION_INVITATION_EXPIRY_DAYS", default_value_t = 30)]
    pub organization_invitation_expiry_days: i64,

    /// Let webhook endpoints point at loopback, private, link-local and other non-public addresses
    /// (development and tests; `cargo xtask demo` sets it). Without it such URLs are refused, when an
    /// endpoint is set and again on the resolved address at every delivery.
    #[arg(long, env = "HALLPASS_WEBHOOKS_ALLOW_PRIVATE_NETWORKS", default_value_t = false)]
    pub webhooks_allow_private_networks: bool,

    /// Webhook endpoints this process delivers to at once (each endpoint gets one delivery at a time,
    /// in order). 0: this process delivers nothing (other replicas on the database do; it still
    /// writes its emails' `email.created` events).
    #[arg(long, env = "HALLPASS_WEBHOOK_CONCURRENCY", default_value_t = 16)]
    pub webhook_concurrency: usize,

    /// Milliseconds between two looks for webhook deliveries that came due (retries, other replicas'
    /// events); this process's own events are sent at once.
    #[arg(long, env = "HALLPASS_WEBHOOK_POLL_INTERVAL_MS", default_value_t = 1000)]
    pub webhook_poll_interval_ms: u64,

    /// How long webhook events, their deliveries and attempts are kept, in seconds (an event still
    /// pending for an enabled endpoint is kept until it is delivered or given up).
    #[arg(long, env = "HALLPASS_WEBHOOK_RETENTION_SECS", default_value_t = 7 * 24 * 3600)]
    pub webhook_retention_secs: u64,

    /// The name emails and the email-link page are branded with (`GET /v1/environment` reports it).
    #[arg(long, env = "HALLPASS_INSTANCE_NAME", default_value = "Hallpass")]
    pub instance_name: String,

    /// The first factors users may sign in with, comma-separated, in order of preference: `password`,
    /// `email_code`, `email_link`, `reset_password_email_code` (needs `password`).
    #[arg(
        long,
        env = "HALLPASS_SIGN_IN_STRATEGIES",
        value_delimiter = ',',
        default_value = "password,email_code,email_link,reset_password_email_code"
    )]
    pub sign_in_strategies: Vec<String>,

    /// A sign-up completes only once its email address is verified (by code or link); without it a
    /// sign-up with a password completes at once, its address unverified. Passwordless sign-ups
    /// always verify.
    #[arg(long, env = "HALLPASS_SIGN_UP_REQUIRES_VERIFIED_EMAIL", default_value_t = false, action = clap::ArgAction::Set)]
    pub sign_up_requires_verified_email: bool,

    /// Users may delete their own account from the Frontend API (`DELETE /v1/client/me`; the drop-in
    /// profile shows the action). Off, only the Backend API deletes users.
    #[arg(long, env = "HALLPASS_DELETE_SELF_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
    pub delete_self_enabled: bool,

    /// The mail server: `smtp://host:587?tls=required` (STARTTLS), `smtps://host:465` (TLS from the
    /// start), `smtp://host:25` (no TLS) or `?tls=opportunistic` (STARTTLS if offered): these two to
    /// loopback only. `user:password@` for credentials (percent-encoded). Or give `--smtp-host` and the
    /// flags beside it. Without either, emails are kept in the development mailbox (`GET /v1/emails`)
    /// and not sent.
    #[arg(long, env = "HALLPASS_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<SmtpSecret>,

    /// The mail server's host, when `--smtp-url` is not given.
    #[arg(long, env = "HALLPASS_SMTP_HOST")]
    pub smtp_host: Option<String>,

    /// With `--smtp-host`: the port (default 587 for `starttls`, 465 for `tls`, 25 for `none`).
    #[arg(long, env = "HALLPASS_SMTP_PORT")]
    pub smtp_port: Option<u16>,

    /// With `--smtp-host`: `starttls` (required), `tls` (from the start) or `none` (loopback only).
    #[arg(long, env = "HALLPASS_SMTP_TLS", default_value = "starttls", value_parser = ["starttls", "tls", "none"])]
    pub smtp_tls: String,

    /// With `--smtp-host`: the user name to authenticate with.
    #[arg(long, env = "HALLPASS_SMTP_USERNAME")]
    pub smtp_username: Option<String>,

    /// With `--smtp-host`: the password.
    #[arg(long, env = "HALLPASS_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<SmtpSecret>,

    /// A PEM file of CA certificates the mail server's certificate may chain to, trusted in addition to
    /// Mozilla's roots (a relay with a certificate from a private CA). Read at start; needs a mail
    /// server that uses TLS (`smtps://` or `tls=required`).
    #[arg(long, env = "HALLPASS_SMTP_CA_FILE")]
    pub smtp_ca_file: Option<PathBuf>,

    /// The sender of every email (`no-reply@example.com`; the display name is the instance name).
    #[arg(long, env = "HALLPASS_EMAIL_FROM", default_value = "no-reply@localhost")]
    pub email_from: String,

    /// Who sends emails: `auto` (the mail server when one is configured, else the development
    /// mailbox), `smtp`, `development` (keep them, send nothing) or `app` (send nothing: the app
    /// sends them from the `email.created` webhook event).
    #[arg(long, env = "HALLPASS_EMAIL_DELIVERY", default_value = "auto", value_parser = ["auto", "smtp", "development", "app"])]
    pub email_delivery: String,

    /// Emails this process sends at once (0: this process sends none; other replicas do).
    #[arg(long, env = "HALLPASS_EMAIL_CONCURRENCY", default_value_t = 4)]
    pub email_concurrency: usize,

    /// Milliseconds between two looks for emails that came due (retries, other replicas' emails);
    /// this process's own emails are sent at once.
    #[arg(long, env = "HALLPASS_EMAIL_POLL_INTERVAL_MS", default_value_t = 1000)]
    pub email_poll_interval_ms: u64,

    /// How long emails (and the development mailbox) are kept, in seconds.
    #[arg(long, env = "HALLPASS_EMAIL_RETENTION_SECS", default_value_t = 7 * 24 * 3600)]
    pub email_retention_secs: u64,

    /// Codes and links sent to one email address in 15 minutes (sign-up, sign-in, reset, new
    /// addresses together).
    #[arg(long, env = "HALLPASS_EMAIL_SENDS_PER_ADDRESS", default_value_t = 5)]
    pub email_sends_per_address: u32,

    /// Codes and links requested from one client address (an IPv6 /64) in 15 minutes.
    #[arg(long, env = "HALLPASS_EMAIL_SENDS_PER_IP", default_value_t = 30)]
    pub email_sends_per_ip: u32,

    /// The page of the app where an invitee accepts an organization invitation; the invitation
    /// email links to it with `invitation_id=<orginv_…>` added. Without it the email asks the
    /// invitee to sign in to the app with the invited address.
    #[arg(long, env = "HALLPASS_ORGANIZATION_INVITATION_URL")]
    pub organization_invitation_url: Option<String>,

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
            database_max_connections: 8,
            public_url: None,
            allowed_origins: vec!["http://localhost:*".into(), "http://127.0.0.1:*".into()],
            secret_key: None,
            token_lifetime_secs: 60,
            refresh_grace_secs: 10,
            refresh_batch_max: 64,
            session_idle_timeout_secs: 7 * 24 * 3600,
            session_lifetime_secs: 30 * 24 * 3600,
            session_retention_secs: 7 * 24 * 3600,
            housekeeping_interval_secs: 60,
            housekeeping_batch_size: 500,
            housekeeping_pause_ms: 50,
            rate_limit_auth_per_ip: 30,
            sign_in_failures_per_account_and_ip: 5,
            sign_in_failures_per_account: 50,
            rate_limit_requests_per_ip: 1200,
            disable_rate_limits: false,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            hash_concurrency: 0,
            hash_queue: 16,
            trusted_proxies: Vec::new(),
            max_connections: 8192,
            max_connections_per_ip: 128,
            header_read_timeout_secs: 10,
            write_timeout_secs: 10,
            body_read_timeout_secs: 10,
            request_timeout_secs: 30,
            log_format: "text".into(),
            key_encryption_key: None,
            organization_creator_role: "org:admin".into(),
            organization_default_role: "org:member".into(),
            organization_max_allowed_memberships: 0,
            organization_admin_delete_enabled: true,
            organization_create_limit: 100,
            organization_invitation_expiry_days: 30,
            webhooks_allow_private_networks: false,
            webhook_concurrency: 16,
            webhook_poll_interval_ms: 1000,
            webhook_retention_secs: 7 * 24 * 3600,
            instance_name: "Hallpass".into(),
            sign_in_strategies: ["password", "email_code", "email_link", "reset_password_email_code"]
                .map(String::from)
                .to_vec(),
            sign_up_requires_verified_email: false,
            delete_self_enabled: true,
            smtp_url: None,
            smtp_host: None,
            smtp_port: None,
            smtp_tls: "starttls".into(),
            smtp_username: None,
            smtp_password: None,
            smtp_ca_file: None,
            email_from: "no-reply@localhost".into(),
            email_delivery: "auto".into(),
            email_concurrency: 4,
            email_poll_interval_ms: 1000,
            email_retention_secs: 7 * 24 * 3600,
            email_sends_per_address: 5,
            email_sends_per_ip: 30,
            organization_invitation_url: None,
            max_body_bytes: 64 * 1024,
            ready_file: None,
            demo_dir: None,
            demo_package_dir: None,
        }
    }

    /// Settings for tests: a SQLite file at `db_path`, `127.0.0.1:0`, cheap Argon2 parameters
    /// (m=256 KiB, t=1), the default rate limits, and webhooks allowed to private networks.
    pub fn for_tests(db_path: impl AsRef<std::path::Path>) -> Self {
        let mut config = Config::defaults();
        config.addr = SocketAddr::from(([127, 0, 0, 1], 0));
        config.database_url = format!("sqlite://{}?mode=rwc", db_path.as_ref().display());
        config.argon2_memory_kib = 256;
        config.argon2_iterations = 1;
        // Tests' webhook receivers listen on loopback; the address policy's own tests turn it back on.
        config.webhooks_allow_private_networks = true;
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
