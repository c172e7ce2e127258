//! Refresh on PostgreSQL: `hallpass-server` processes (the release binary, as deployed) on one
//! database of a throwaway cluster (`temp-postgres`) switched back to PostgreSQL's durability defaults
//! (`fsync`, `synchronous_commit` and `full_page_writes` on: every commit waits for its WAL flush),
//! with the load generator in this process spreading its connections over them. One replica, then two;
//! then the database grown with one bulk `INSERT … SELECT generate_series` per table to the large
//! size, and the same again. Each phase is preceded by the RS256 sign rate on all cores, its ceiling.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

use super::{LOAD_SESSIONS, Rng, refresh_load, sign_rates};

/// A database on a cluster of its own, with PostgreSQL's durability defaults.
pub struct Database {
    pub url: String,
    _cluster: temp_postgres::Cluster,
}

impl Database {
    pub async fn start(name: &str) -> Result<Database, String> {
        let cluster = temp_postgres::Cluster::start()?;
        let mut admin = PgConnection::connect(&cluster.url("postgres")).await.map_err(|e| e.to_string())?;
        // temp-postgres turns durability off for the tests; production keeps it on.
        for setting in ["fsync = on", "synchronous_commit = on", "full_page_writes = on"] {
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("ALTER SYSTEM SET {setting}")))
                .execute(&mut admin)
                .await
                .map_err(|e| e.to_string())?;
        }
        sqlx::raw_sql("SELECT pg_reload_conf()").execute(&mut admin).await.map_err(|e| e.to_string())?;
        let _ = admin.close().await;
        cluster.create_database(name)?;
        Ok(Database { url: cluster.url(name), _cluster: cluster })
    }
}

/// A `hallpass-server` process on the database; stopped when dropped.
struct Replica {
    child: Child,
    addr: SocketAddr,
    _dir: tempfile::TempDir,
}

impl Replica {
    async fn start(url: &str) -> Replica {
        let dir = tempfile::tempdir().expect("tempdir");
        let ready = dir.path().join("ready.json");
        let mut command = Command::new(env!("CARGO_BIN_EXE_hallpass-server"));
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("HALLPASS_")) {
            command.env_remove(key);
        }
        // Production settings, the rate limits on (in the database) with budgets this load never
        // reaches, each load connection a client of its own behind a trusted proxy.
        let child = command
            .args(["--addr", "127.0.0.1:0", "--database-url", url, "--ready-file"])
            .arg(&ready)
            .args(["--trusted-proxies", "127.0.0.1"])
            .args(["--rate-limit-requests-per-ip", "100000000", "--rate-limit-auth-per-ip", "100000000"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting hallpass-server");
        let deadline = Instant::now() + Duration::from_secs(60);
        let info = loop {
            if let Ok(text) = std::fs::read_to_string(&ready) {
                break serde_json::from_str::<Value>(&text).expect("ready file");
            }
            assert!(Instant::now() < deadline, "hallpass-server not ready within 60 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let addr = info["address"].as_str().and_then(|a| a.parse().ok()).expect("address");
        Replica { child, addr, _dir: dir }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Seeds users `from..to` (each: an email address, one active session, one refresh token) with one
/// `INSERT … SELECT … FROM generate_series` per table. Ids and token hashes are md5s of the index:
/// spread like random ones, and found again by index. Returns the seconds it took.
async fn seed(conn: &mut PgConnection, from: i64, to: i64, phc: &str) -> f64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let started = Instant::now();
    sqlx::query(
        "INSERT INTO users (id, first_name, last_name, image_url, password_hash, primary_email_address_id, \
         public_metadata, private_metadata, unsafe_metadata, last_sign_in_at, created_at, updated_at) \
         SELECT 'user_' || md5('u' || i), 'Seed', 'User ' || i, '', $4, 'idn_' || md5('e' || i), '{}', '{}', '{}', \
         $3, $3, $3 FROM generate_series($1::bigint, $2::bigint) AS i",
    )
    .bind(from)
    .bind(to - 1)
    .bind(now)
    .bind(phc)
    .execute(&mut *conn)
    .await
    .expect("seeding users");
    let statements = [
        "INSERT INTO email_addresses (id, user_id, email_address, created_at) \
         SELECT 'idn_' || md5('e' || i), 'user_' || md5('u' || i), 'seed' || i || '@example.com', $3 \
         FROM generate_series($1::bigint, $2::bigint) AS i",
        "INSERT INTO sessions (id, user_id, status, last_active_at, expire_at, abandon_at, created_at, updated_at) \
         SELECT 'sess_' || md5('s' || i), 'user_' || md5('u' || i), 'active', $3, $3 + 604800000, $3 + 2592000000, \
         $3, $3 FROM generate_series($1::bigint, $2::bigint) AS i",
        "INSERT INTO refresh_tokens (token_hash, session_id, created_at) \
         SELECT md5('t' || i) || md5('T' || i), 'sess_' || md5('s' || i), $3 \
         FROM generate_series($1::bigint, $2::bigint) AS i",
    ];
    for sql in statements {
        sqlx::query(sql).bind(from).bind(to - 1).bind(now).execute(&mut *conn).await.expect("seeding");
    }
    sqlx::raw_sql("ANALYZE").execute(&mut *conn).await.expect("analyze");
    started.elapsed().as_secs_f64()
}

/// Gives `count` seeded sessions among the first `seeded` live refresh tokens whose plaintext we know.
async fn known_tokens(conn: &mut PgConnection, seeded: i64, count: usize, seed: u64) -> Vec<String> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
    let mut picked = std::collections::HashSet::new();
    let mut tokens = Vec::with_capacity(count);
    while tokens.len() < count && picked.len() < count * 4 {
        let i = (rng.next() % seeded.max(1) as u64) as i64;
        if !picked.insert(i) {
            continue;
        }
        let token = hallpass_server::refresh::generate().expect("rng");
        let n = sqlx::query(
            "UPDATE refresh_tokens SET token_hash = $1 WHERE session_id = 'sess_' || md5('s' || $2::bigint) \
             AND used_at IS NULL",
        )
        .bind(hallpass_server::refresh::hash(&token))
        .bind(i)
        .execute(&mut *conn)
        .await
        .expect("known token")
        .rows_affected();
        if n == 1 {
            tokens.push(token.expose().to_owned());
        }
    }
    tokens
}

async fn database_bytes(conn: &mut PgConnection) -> i64 {
    sqlx::query_scalar("SELECT pg_database_size(current_database())").fetch_one(conn).await.unwrap_or(0)
}

/// One replica, then two, on `sessions` sessions: each phase beside its own sign ceiling.
async fn phases(
    conn: &mut PgConnection,
    replicas: &[Replica],
    seeded: i64,
    secs: f64,
    ceiling_secs: f64,
    concurrency: usize,
    seed: u64,
) -> Value {
    let key = hallpass_server::jwt::SigningKey::generate().expect("key").0;
    let mut out = json!({});
    for (name, n) in [("one", 1), ("two", 2)] {
        let (_, sign_all, _) = sign_rates(&key, ceiling_secs);
        let addrs: Vec<SocketAddr> = replicas[..n].iter().map(|r| r.addr).collect();
        let tokens = known_tokens(conn, seeded, LOAD_SESSIONS, seed + n as u64).await;
        let (refresh, _) = refresh_load(&addrs, tokens, concurrency, secs).await;
        eprintln!("postgres: {seeded} sessions, {n} replica(s): {refresh}");
        out[name] = json!({ "sign_all": sign_all, "refresh": refresh });
    }
    out
}

pub async fn run(phc: &str, secs: f64, ceiling_secs: f64, concurrency: usize, large: u64) -> Value {
    let db = match Database::start("bench").await {
        Ok(db) => db,
        Err(e) => return json!({ "error": e }),
    };
    // The first replica migrates the database and makes the instance's keys.
    let first = Replica::start(&db.url).await;
    let second = Replica::start(&db.url).await;
    let replicas = [first, second];
    let mut conn = PgConnection::connect(&db.url).await.expect("connect");
    let small_secs = seed(&mut conn, 0, 1000, phc).await;
    let small = phases(&mut conn, &replicas, 1000, secs, ceiling_secs, concurrency, 1).await;
    let small_bytes = database_bytes(&mut conn).await;
    let large = large as i64;
    let seed_secs = seed(&mut conn, 1000, large, phc).await;
    let large_bytes = database_bytes(&mut conn).await;
    eprintln!("postgres: seeded {large} sessions in {seed_secs:.1} s, {large_bytes} bytes");
    let big = phases(&mut conn, &replicas, large, secs, ceiling_secs, concurrency, 11).await;
    let _ = conn.close().await;
    drop(replicas);
    json!({
        "durability": "fsync, synchronous_commit and full_page_writes on (PostgreSQL's defaults)",
        "small": { "sessions": 1000, "seed_secs": small_secs, "db_bytes": small_bytes, "phases": small },
        "large": { "sessions": large, "seed_secs": seed_secs, "db_bytes": large_bytes, "phases": big },
    })
}
