//! `examples/nextjs` built for production for its end-to-end suite (`tests/e2e/nextjs.test.mjs`,
//! which runs `next start` on the build): `npm ci` (the `hallpass` dependency is `pkg/npm`, installed
//! as a copy) and `next build`, both skipped when nothing they read has changed since the last build
//! — the example's sources, its lockfile and the package — so a test run builds the example at most
//! once, and not at all when only other code changed.

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use crate::util::{Result, cmd, exec, root};

/// Files and folders of the example that the build reads (besides `node_modules`).
const SOURCES: [&str; 7] =
    ["app", "lib", "proxy.ts", "next.config.ts", "tsconfig.json", "package.json", "package-lock.json"];

pub fn dir() -> PathBuf {
    root().join("examples").join("nextjs")
}

/// Installs and builds the example unless the last build had the same inputs; returns its folder.
pub fn prepare() -> Result<PathBuf> {
    let dir = dir();
    let stamp = dir.join(".next").join("hallpass-inputs");
    let inputs = format!("{:016x}", inputs_hash(&dir)?);
    if fs::read_to_string(&stamp).is_ok_and(|s| s == inputs) && dir.join("node_modules").is_dir() {
        println!("examples/nextjs: built already for these sources and this package");
        return Ok(dir);
    }
    let started = std::time::Instant::now();
    exec(
        cmd("npm").current_dir(&dir).args([
            "ci",
            "--prefer-offline",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ]),
        "npm ci in examples/nextjs",
    )?;
    exec(
        cmd("node")
            .current_dir(&dir)
            .args(["node_modules/next/dist/bin/next", "build"])
            .env("NEXT_TELEMETRY_DISABLED", "1"),
        "next build (examples/nextjs)",
    )?;
    fs::write(&stamp, inputs).map_err(|e| format!("writing {}: {e}", stamp.display()))?;
    println!("examples/nextjs: installed and built in {:.0} s", started.elapsed().as_secs_f64());
    Ok(dir)
}

/// A hash of every input file's path and bytes (the example's sources and `pkg/npm`).
fn inputs_hash(dir: &Path) -> Result<u64> {
    let mut files = Vec::new();
    for source in SOURCES {
        collect(&dir.join(source), &mut files)?;
    }
    collect(&crate::package::dir(), &mut files)?;
    files.sort();
    let mut hasher = DefaultHasher::new();
    for file in files {
        file.hash(&mut hasher);
        fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?.hash(&mut hasher);
    }
    Ok(hasher.finish())
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result {
    if path.is_dir() {
        for entry in fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))?.flatten() {
            collect(&entry.path(), out)?;
        }
    } else if path.is_file() {
        out.push(path.to_path_buf());
    }
    Ok(())
}
