//! Running commands with the project's tool folders on PATH, and reading what they print.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub type Result<T = ()> = std::result::Result<T, String>;

/// The repository root.
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// Git-ignored folder for the Node tools (wasm-opt, esbuild, playwright-core).
pub fn tools_dir() -> PathBuf {
    root().join(".tools")
}

/// A project temp folder (inside `target/`, so `cargo clean` removes it).
pub fn tmp_dir(name: &str) -> PathBuf {
    root().join("target").join("tmp").join(name)
}

fn cargo_bin() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"));
    home.join("bin")
}

/// PATH with cargo's bin folder and the Node tools in front.
pub fn path_env() -> std::ffi::OsString {
    let mut dirs = vec![cargo_bin(), tools_dir().join("node_modules").join(".bin")];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

/// A command run from the repository root with [`path_env`].
pub fn cmd(program: &str) -> Command {
    let mut c = Command::new(program);
    c.current_dir(root()).env("PATH", path_env());
    c
}

/// Where `program` is on [`path_env`], if anywhere.
pub fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&path_env()).map(|dir| dir.join(program)).find(|p| p.is_file())
}

/// Runs `c`, failing with `what` when it cannot start or exits non-zero.
pub fn exec(c: &mut Command, what: &str) -> Result {
    let status = c.status().map_err(|e| format!("{what}: could not start: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{what} failed ({status})")) }
}

/// The trimmed stdout of `c` if it ran and succeeded.
pub fn output(c: &mut Command) -> Option<String> {
    let out = c.stderr(Stdio::null()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Test counts read from `test result:` lines (cargo's libtest and wasm-bindgen-test-runner).
#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
    pub ignored: u64,
    /// Of all of them, the server's tests that ran on PostgreSQL (`test <name>::postgres ... ok`).
    pub postgres: u64,
}

impl Counts {
    pub fn add(&mut self, other: Counts) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.ignored += other.ignored;
        self.postgres += other.postgres;
    }

    /// Parses `test result: ok. 10 passed; 0 failed; 1 ignored; …` (libtest, wasm-bindgen-test),
    /// node's spec reporter's `ℹ pass 4` / `ℹ fail 0`, and libtest's `test <name>::postgres ... ok`.
    pub fn parse_line(line: &str) -> Option<Counts> {
        let line = line.trim();
        if let Some(name) = line.strip_prefix("test ").and_then(|l| l.strip_suffix(" ... ok"))
            && name.ends_with("::postgres")
        {
            return Some(Counts { postgres: 1, ..Counts::default() });
        }
        if let Some(rest) = line.strip_prefix("ℹ ") {
            let (label, n) = rest.split_once(' ')?;
            let n: u64 = n.trim().parse().ok()?;
            return match label {
                "pass" => Some(Counts { passed: n, ..Counts::default() }),
                "fail" => Some(Counts { failed: n, ..Counts::default() }),
                "skipped" | "todo" => Some(Counts { ignored: n, ..Counts::default() }),
                _ => None,
            };
        }
        let rest = line.strip_prefix("test result: ")?;
        let mut counts = Counts::default();
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(label), Some(n)) = (words.next(), words.next()) else { continue };
            let Ok(n) = n.parse::<u64>() else { continue };
            match label {
                "passed" => counts.passed = n,
                "failed" => counts.failed = n,
                "ignored" => counts.ignored = n,
                _ => {}
            }
        }
        Some(counts)
    }
}

/// Runs `c`, echoing its stdout while adding up the test counts it prints.
pub fn run_counting(c: &mut Command, what: &str) -> Result<Counts> {
    let mut child = c.stdout(Stdio::piped()).spawn().map_err(|e| format!("{what}: could not start: {e}"))?;
    let mut counts = Counts::default();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(std::result::Result::ok) {
            println!("{line}");
            if let Some(c) = Counts::parse_line(&line) {
                counts.add(c);
            }
        }
    }
    let status = child.wait().map_err(|e| format!("{what}: {e}"))?;
    if status.success() { Ok(counts) } else { Err(format!("{what} failed ({status})")) }
}

/// Size of `path` compressed with `gzip -9`.
pub fn gzip_size(path: &Path) -> Result<u64> {
    let out =
        Command::new("gzip").args(["-9", "-n", "-c"]).arg(path).output().map_err(|e| format!("gzip: {e}"))?;
    if out.status.success() {
        Ok(out.stdout.len() as u64)
    } else {
        Err(format!("gzip failed on {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::Counts;

    #[test]
    fn reads_libtest_and_wasm_bindgen_result_lines() {
        let c = Counts::parse_line(
            "test result: ok. 10 passed; 2 failed; 1 ignored; 0 measured; 3 filtered out; finished in 0.11s",
        );
        assert_eq!(c, Some(Counts { passed: 10, failed: 2, ignored: 1, postgres: 0 }));
        assert_eq!(Counts::parse_line("test foo ... ok"), None);
        assert_eq!(
            Counts::parse_line("test result: FAILED. 0 passed; 1 failed;"),
            Some(Counts { passed: 0, failed: 1, ignored: 0, postgres: 0 })
        );
        assert_eq!(
            Counts::parse_line("test refresh_rotates::postgres ... ok"),
            Some(Counts { postgres: 1, ..Counts::default() })
        );
        assert_eq!(Counts::parse_line("test refresh_rotates::postgres ... FAILED"), None);
    }
}
