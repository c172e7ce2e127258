//! A throwaway PostgreSQL cluster: `initdb` into a fresh temporary directory, the server on a free
//! 127.0.0.1 port (no Unix socket), `trust` authentication for the `postgres` role, and no durability
//! (fsync off — it is thrown away). hallpass-server's tests start one per test binary, or share the one
//! `cargo xtask test` starts (through `HALLPASS_TEST_POSTGRES_URL`); `cargo xtask demo --postgres` runs
//! the demo on one.
//!
//! [`Cluster::start_with_tls`] adds TLS: a throwaway CA and a server certificate for `127.0.0.1` made
//! with the `openssl` command (which Debian's `postgresql` pulls in), for tests of `sslmode`.
//!
//! Run as root, everything runs as the unprivileged `postgres` user (PostgreSQL refuses to run as root;
//! Debian's `postgresql` package creates that user). Otherwise it runs as the current user.
//!
//! Nothing is left running: a small supervisor (a POSIX shell script, in its own process group) starts
//! the server, then waits for end-of-file on its stdin, whose other end only the owning process holds.
//! However the owner ends — [`Cluster`] dropped, normal exit, panic, SIGKILL, Ctrl-C — the pipe closes and
//! the supervisor stops the server (smart, then fast, then immediate) and deletes the directory.
//! Unix only.

use std::fs;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What to tell someone whose machine has no PostgreSQL server binaries.
pub const INSTALL_HINT: &str = "PostgreSQL's server programs (initdb, pg_ctl, postgres) were not found. \
     On Debian/Ubuntu: `sudo apt-get install -y postgresql` (`cargo xtask setup` does it when run as root); \
     elsewhere install PostgreSQL >= 13 and put its bin folder on PATH or in HALLPASS_POSTGRES_BIN";

/// Settings appended to the cluster's `postgresql.conf`: loopback TCP only, and speed over durability.
const SETTINGS: &str = "
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
";

/// `$1` = bin folder, `$2` = data folder, `$3` = port. Prints `ready` once the server accepts
/// connections (pg_ctl waits at most 60 s; a server that did not come up in time is stopped), then stops it and deletes the folder above `$2` when stdin
/// reaches end-of-file. Smart shutdown first: a server still using the cluster (the demo) finishes its
/// own graceful shutdown before the database goes away.
const SUPERVISOR: &str = r#"
pg_ctl="$1/pg_ctl"; data="$2"; port="$3"; dir="$(dirname "$data")"
if ! "$pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 -o "-p $port" start >/dev/null 2>&1; then
  "$pg_ctl" -D "$data" -m immediate -w -t 20 stop >/dev/null 2>&1
  echo failed
  exit 1
fi
echo ready
cat >/dev/null
"$pg_ctl" -D "$data" -m smart -w -t 20 stop >/dev/null 2>&1 ||
  "$pg_ctl" -D "$data" -m fast -w -t 20 stop >/dev/null 2>&1 ||
  "$pg_ctl" -D "$data" -m immediate -w -t 20 stop >/dev/null 2>&1
rm -rf "$dir"
"#;

/// A running throwaway cluster; dropping it stops the server and deletes its files (and waits for
/// both, at most 70 s).
#[derive(Debug)]
pub struct Cluster {
    port: u16,
    dir: PathBuf,
    supervisor: Child,
    stdin: Option<ChildStdin>,
}

/// The unprivileged user the cluster runs as when this process is root.
#[derive(Clone, Copy, Debug)]
struct RunAs {
    uid: u32,
    gid: u32,
}

impl Cluster {
    /// Creates and starts a cluster. Takes about a second (initdb).
    pub fn start() -> Result<Cluster, String> {
        Cluster::create(false)
    }

    /// [`Cluster::start`], with TLS on (`ssl = on`, a certificate for `127.0.0.1` issued by a CA made
    /// for it: [`Cluster::ca_file`]). Clients may still connect without TLS.
    pub fn start_with_tls() -> Result<Cluster, String> {
        Cluster::create(true)
    }

    fn create(tls: bool) -> Result<Cluster, String> {
        let bin = bin_dir()?;
        let user = run_as()?;
        let dir = make_dir(user)?;
        let prepared =
            initdb(&bin, &dir, user).and_then(|()| if tls { certificates(&dir, user) } else { Ok(()) });
        let started = prepared.and_then(|()| {
            let mut last = String::new();
            // A port found free can be taken before the server binds it: try another.
            for _ in 0..3 {
                match supervise(&bin, &dir, free_port()?, user) {
                    Ok(cluster) => return Ok(cluster),
                    Err(e) => last = e,
                }
            }
            Err(last)
        });
        if started.is_err() {
            let _ = fs::remove_dir_all(&dir);
        }
        started
    }

    /// The loopback port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster's folder (`data/`, `server.log`); deleted when the cluster stops.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// With TLS: the CA certificate the server's certificate chains to (`sslrootcert=` for
    /// `sslmode=verify-full`).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    /// `postgres://postgres@127.0.0.1:PORT/<database>` (the `postgres` database always exists).
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Creates the database `name` (PostgreSQL's `createdb`: beside `initdb`, else on PATH).
    pub fn create_database(&self, name: &str) -> Result<(), String> {
        let beside = bin_dir()?.join("createdb");
        let createdb = if beside.is_file() { beside } else { PathBuf::from("createdb") };
        let out = Command::new(createdb)
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-U", "postgres", name])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("running createdb: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "createdb {name} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(())
    }

    /// Hands the cluster's lifetime to the program this process is about to `exec` into (`cargo xtask
    /// demo --postgres` becomes `hallpass-server`): the supervisor's pipe stays open across the exec, so
    /// the cluster stops when that program exits. If the exec fails, it stops when this process exits.
    pub fn outlive_exec(mut self) -> Result<(), String> {
        let stdin = self.stdin.take().ok_or("the cluster is already stopping")?;
        let fd = stdin.as_raw_fd();
        // SAFETY: fcntl on a descriptor we own, with flags read from it just before.
        let ok = unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFD);
            flags >= 0 && libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) == 0
        };
        if !ok {
            return Err(format!("fcntl on the supervisor pipe: {}", std::io::Error::last_os_error()));
        }
        // Neither close the pipe nor wait for the supervisor: the exec'd program holds it now.
        std::mem::forget(stdin);
        std::mem::forget(self);
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(70);
        loop {
            match self.supervisor.try_wait() {
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
                Ok(None) => {
                    let _ = self.supervisor.kill();
                    let _ = self.supervisor.wait();
                    return;
                }
                _ => return,
            }
        }
    }
}

/// The folder holding `initdb` and `pg_ctl`: `HALLPASS_POSTGRES_BIN`, else PATH, else the newest
/// `/usr/lib/postgresql/<major>/bin` (Debian and Ubuntu keep the server programs off PATH).
pub fn bin_dir() -> Result<PathBuf, String> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("HALLPASS_POSTGRES_BIN") {
        let dir = PathBuf::from(dir);
        return if has_tools(&dir) {
            Ok(dir)
        } else {
            Err(format!("HALLPASS_POSTGRES_BIN={} holds no initdb and pg_ctl", dir.display()))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    if let Some(dir) = std::env::split_paths(&path).find(|d| has_tools(d)) {
        return Ok(dir);
    }
    let newest = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse::<u32>().ok()?, e.path().join("bin"))))
        .filter(|(_, dir)| has_tools(dir))
        .max_by_key(|(major, _)| *major);
    newest.map(|(_, dir)| dir).ok_or_else(|| INSTALL_HINT.to_owned())
}

/// `postgres` from /etc/passwd when we are root; `None` (run as ourselves) otherwise.
fn run_as() -> Result<Option<RunAs>, String> {
    // SAFETY: geteuid cannot fail and touches no memory.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let passwd = fs::read_to_string("/etc/passwd").map_err(|e| format!("reading /etc/passwd: {e}"))?;
    passwd
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|f| f.first() == Some(&"postgres"))
        .and_then(|f| Some(RunAs { uid: f.get(2)?.parse().ok()?, gid: f.get(3)?.parse().ok()? }))
        .map(Some)
        .ok_or_else(|| {
            "running as root, PostgreSQL needs an unprivileged `postgres` user and there is none \
             (Debian's postgresql package creates it)"
                .to_owned()
        })
}

/// A new private folder under the system temp dir, owned by whoever runs the cluster.
fn make_dir(user: Option<RunAs>) -> Result<PathBuf, String> {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let name =
        format!("hallpass-pg-{}-{}-{nanos:x}", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed));
    let dir = std::env::temp_dir().join(name);
    fs::create_dir(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let owned = fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).and_then(|()| match user {
        Some(u) => std::os::unix::fs::chown(&dir, Some(u.uid), Some(u.gid)),
        None => Ok(()),
    });
    if let Err(e) = owned {
        let _ = fs::remove_dir_all(&dir);
        return Err(format!("preparing {}: {e}", dir.display()));
    }
    Ok(dir)
}

fn as_user(command: &mut Command, user: Option<RunAs>) -> &mut Command {
    if let Some(u) = user {
        command.uid(u.uid).gid(u.gid);
    }
    command
}

fn initdb(bin: &Path, dir: &Path, user: Option<RunAs>) -> Result<(), String> {
    let data = dir.join("data");
    let out = as_user(&mut Command::new(bin.join("initdb")), user)
        .current_dir(dir)
        .env("LC_ALL", "C")
        .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync", "-D"])
        .arg(&data)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running initdb: {e}"))?;
    if !out.status.success() {
        return Err(format!("initdb failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr)));
    }
    let conf = data.join("postgresql.conf");
    let mut text = fs::read_to_string(&conf).map_err(|e| format!("reading {}: {e}", conf.display()))?;
    text.push_str(SETTINGS);
    fs::write(&conf, text).map_err(|e| format!("writing {}: {e}", conf.display()))
}

/// A CA, and a certificate for 127.0.0.1 it issues, in `dir`; the server's pair goes into `data/`
/// (0600, owned by whoever runs the server) and `ssl = on` into its configuration.
fn certificates(dir: &Path, user: Option<RunAs>) -> Result<(), String> {
    let openssl = |args: &[&str]| -> Result<(), String> {
        let out = as_user(&mut Command::new("openssl"), user)
            .current_dir(dir)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("running openssl (needed for a TLS cluster): {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("openssl {}: {}", args[0], String::from_utf8_lossy(&out.stderr)))
        }
    };
    let days = ["-days", "2"];
    openssl(
        &[
            &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt"],
            &days[..],
            &["-subj", "/CN=temp-postgres test CA"],
        ]
        .concat(),
    )?;
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "data/server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ])?;
    std::fs::write(dir.join("server.ext"), "subjectAltName = IP:127.0.0.1\nbasicConstraints = CA:FALSE\n")
        .map_err(|e| format!("writing server.ext: {e}"))?;
    openssl(
        &[
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "data/server.crt",
                "-extfile",
                "server.ext",
            ],
            &days[..],
        ]
        .concat(),
    )?;
    // PostgreSQL refuses a key file others can read.
    let key = dir.join("data").join("server.key");
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("chmod {}: {e}", key.display()))?;
    let conf = dir.join("data").join("postgresql.conf");
    let mut text = fs::read_to_string(&conf).map_err(|e| format!("reading {}: {e}", conf.display()))?;
    text.push_str("ssl = on\n");
    fs::write(&conf, text).map_err(|e| format!("writing {}: {e}", conf.display()))
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("finding a free port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| format!("finding a free port: {e}"))
}

fn supervise(bin: &Path, dir: &Path, port: u16, user: Option<RunAs>) -> Result<Cluster, String> {
    let mut child = as_user(&mut Command::new("/bin/sh"), user)
        .current_dir(dir)
        .arg("-c")
        .arg(SUPERVISOR)
        .arg("temp-postgres")
        .arg(bin)
        .arg(dir.join("data"))
        .arg(port.to_string())
        // Ctrl-C in a terminal signals the foreground process group: the supervisor must only ever
        // hear about its owner's end through the pipe, or it could die before cleaning up.
        .process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting the PostgreSQL supervisor: {e}"))?;
    let stdin = child.stdin.take();
    let mut line = String::new();
    // Bounded: pg_ctl gives up after 60 s and the script then prints `failed` and exits.
    if let Some(out) = child.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut line);
    }
    if line.trim() == "ready" {
        return Ok(Cluster { port, dir: dir.to_owned(), supervisor: child, stdin });
    }
    drop(stdin);
    let _ = child.wait();
    let log = fs::read_to_string(dir.join("server.log")).unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(8).collect();
    Err(format!(
        "PostgreSQL did not start on port {port}: {}",
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_serves_on_loopback_and_leaves_nothing_behind() {
        if bin_dir().is_err() && std::env::var_os("HALLPASS_TEST_REQUIRE_POSTGRES").is_none() {
            eprintln!("skipped: {INSTALL_HINT}");
            return;
        }
        let cluster = Cluster::start().unwrap();
        let (port, dir) = (cluster.port(), cluster.dir().to_owned());
        assert!(dir.join("data").join("PG_VERSION").is_file());
        std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        assert_eq!(cluster.url("x"), format!("postgres://postgres@127.0.0.1:{port}/x"));
        drop(cluster);
        assert!(!dir.exists(), "{} removed", dir.display());
        assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "server stopped");
    }

    /// `cargo xtask demo --postgres`'s hand-off: this test binary, run again as a helper, starts a
    /// cluster, hands it to `sleep 2` with `outlive_exec` and execs into it. The cluster must serve
    /// while `sleep` runs and be gone once it exits.
    #[test]
    fn a_cluster_handed_to_an_exec_lives_as_long_as_that_program() {
        if let Some(report) = std::env::var_os("TEMP_POSTGRES_EXEC_HELPER") {
            let cluster = Cluster::start().unwrap();
            std::fs::write(&report, format!("{} {}", cluster.port(), cluster.dir().display())).unwrap();
            cluster.outlive_exec().unwrap();
            let err = Command::new("sleep").arg("2").exec();
            panic!("exec sleep: {err}");
        }
        if bin_dir().is_err() && std::env::var_os("HALLPASS_TEST_REQUIRE_POSTGRES").is_none() {
            eprintln!("skipped: {INSTALL_HINT}");
            return;
        }
        let report = std::env::temp_dir().join(format!("temp-postgres-exec-{}", std::process::id()));
        let mut helper = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "tests::a_cluster_handed_to_an_exec_lives_as_long_as_that_program",
                "--nocapture",
            ])
            .env("TEMP_POSTGRES_EXEC_HELPER", &report)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let text = loop {
            match std::fs::read_to_string(&report) {
                Ok(t) if !t.is_empty() => break t,
                _ => assert!(Instant::now() < deadline, "the helper did not start a cluster"),
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let _ = std::fs::remove_file(&report);
        let (port, dir) = text.split_once(' ').unwrap();
        let (port, dir): (u16, PathBuf) = (port.parse().unwrap(), dir.into());
        // Half-way through the helper's `sleep 2`: a cluster tied to the pre-exec process would be gone.
        std::thread::sleep(Duration::from_secs(1));
        std::net::TcpStream::connect(("127.0.0.1", port)).expect("serving while the exec'd program runs");
        assert!(helper.wait().unwrap().success(), "the exec'd `sleep 2` ran and exited");
        let deadline = Instant::now() + Duration::from_secs(60);
        while dir.exists() || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            assert!(Instant::now() < deadline, "cluster still there 60 s after its program exited");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
