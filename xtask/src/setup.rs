//! `cargo xtask setup`: installs what is missing, and only that.
//!
//! Each step checks first and does nothing when the tool is already there at the right version, so
//! the whole command takes a second on a machine that has everything. What it cannot install (Rust,
//! Node.js) gets a one-line message naming what to install.

use std::fs;

use crate::util::{Result, cmd, exec, output, root, tools_dir, which};

const WASM_TARGET: &str = "wasm32-unknown-unknown";

pub fn run() -> Result {
    wasm_target()?;
    node()?;
    wasm_bindgen_cli()?;
    wasm_pack()?;
    node_tools()?;
    python_tools()?;
    chromium()?;
    postgres();
    Ok(())
}

fn wasm_target() -> Result {
    let installed = output(cmd("rustup").args(["target", "list", "--installed"]))
        .ok_or("rustup is needed (the Rust toolchain installer): install Rust from https://rustup.rs")?;
    if installed.lines().any(|l| l.trim() == WASM_TARGET) {
        return Ok(());
    }
    println!("setup: adding the {WASM_TARGET} target");
    exec(cmd("rustup").args(["target", "add", WASM_TARGET]), "rustup target add")
}

fn node() -> Result {
    const NEED: &str =
        "Node.js >= 20 with npm is needed: install it from https://nodejs.org or your package manager";
    let version = output(cmd("node").arg("--version")).ok_or(NEED)?;
    let major: u32 =
        version.trim_start_matches('v').split('.').next().and_then(|m| m.parse().ok()).unwrap_or(0);
    if major < 20 {
        return Err(format!("found Node.js {version}; {NEED}"));
    }
    output(cmd("npm").arg("--version")).ok_or(NEED)?;
    Ok(())
}

/// The exact wasm-bindgen version in Cargo.lock: the CLI must match it to the patch level.
pub fn locked_wasm_bindgen_version() -> Result<String> {
    let lock =
        fs::read_to_string(root().join("Cargo.lock")).map_err(|e| format!("reading Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\""
            && let Some(v) = lines.next().and_then(|l| l.trim().strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_owned());
        }
    }
    Err("Cargo.lock has no wasm-bindgen entry".into())
}

fn wasm_bindgen_cli() -> Result {
    let want = locked_wasm_bindgen_version()?;
    let have = output(cmd("wasm-bindgen").arg("--version")).unwrap_or_default();
    if have == format!("wasm-bindgen {want}") && which("wasm-bindgen-test-runner").is_some() {
        return Ok(());
    }
    println!(
        "setup: installing wasm-bindgen-cli {want} (found: {})",
        if have.is_empty() { "none" } else { &have }
    );
    // Not `--locked`: the CLI's own lockfile pins crates that do not build with this toolchain.
    exec(
        cmd("cargo").args(["install", "wasm-bindgen-cli", "--force", "--version", &want]),
        "cargo install wasm-bindgen-cli",
    )
}

fn wasm_pack() -> Result {
    if output(cmd("wasm-pack").arg("--version")).is_some() {
        return Ok(());
    }
    println!("setup: installing wasm-pack");
    exec(cmd("cargo").args(["install", "wasm-pack", "--locked"]), "cargo install wasm-pack")
}

/// binaryen (wasm-opt), esbuild and playwright-core from npm into `.tools/`, exactly as locked in
/// `xtask/tools/package-lock.json`.
fn node_tools() -> Result {
    let src = root().join("xtask").join("tools");
    let dir = tools_dir();
    let lock = fs::read(src.join("package-lock.json"))
        .map_err(|e| format!("reading xtask/tools/package-lock.json: {e}"))?;
    let installed_lock = fs::read(dir.join("package-lock.json")).unwrap_or_default();
    let bins = dir.join("node_modules").join(".bin");
    if lock == installed_lock && ["wasm-opt", "esbuild"].iter().all(|b| bins.join(b).exists()) {
        return Ok(());
    }
    println!("setup: installing Node tools into .tools/ (binaryen, esbuild, playwright-core)");
    fs::create_dir_all(&dir).map_err(|e| format!("creating .tools: {e}"))?;
    for file in ["package.json", "package-lock.json"] {
        fs::copy(src.join(file), dir.join(file)).map_err(|e| format!("copying {file} to .tools: {e}"))?;
    }
    // --ignore-scripts: esbuild runs from its platform package without a postinstall step, and no
    // tool here needs one; playwright-core never downloads a browser.
    exec(
        cmd("npm").current_dir(&dir).args([
            "ci",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ]),
        "npm ci in .tools",
    )
}

/// The Python tools the tests use — `aiosmtpd`, the real SMTP server the server's mail tests send
/// through — in a virtual environment `.tools/python`, exactly as pinned in
/// `xtask/tools/requirements.txt`.
fn python_tools() -> Result {
    let dir = tools_dir().join("python");
    let python = dir.join("bin").join("python");
    let wanted = fs::read(root().join("xtask").join("tools").join("requirements.txt"))
        .map_err(|e| format!("reading xtask/tools/requirements.txt: {e}"))?;
    let stamp = dir.join("requirements.installed");
    if python.exists() && fs::read(&stamp).is_ok_and(|have| have == wanted) {
        return Ok(());
    }
    if which("python3").is_none() {
        return Err("Python 3 is needed for the mail tests (aiosmtpd). On Debian/Ubuntu run: sudo apt-get \
             install -y python3 python3-venv"
            .into());
    }
    println!("setup: installing aiosmtpd into .tools/python");
    if !python.exists() {
        exec(cmd("python3").arg("-m").arg("venv").arg(&dir), "python3 -m venv .tools/python")?;
    }
    let requirements = root().join("xtask").join("tools").join("requirements.txt");
    exec(
        cmd(&python.to_string_lossy())
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(&requirements),
        "pip install aiosmtpd",
    )?;
    fs::write(&stamp, wanted).map_err(|e| format!("writing {}: {e}", stamp.display()))
}

/// The browser for the test suites: whatever Chromium/ChromeDriver is on PATH, else Debian's packages
/// when we are root on Debian, else the exact command to run.
fn chromium() -> Result {
    if chromium_binary().is_some() && which("chromedriver").is_some() {
        return Ok(());
    }
    let debian = root_on_debian();
    if !debian {
        return Err("Chromium and ChromeDriver are needed for the browser tests. On Debian/Ubuntu run: \
             sudo apt-get install -y chromium chromium-driver (elsewhere, put chromium and a matching \
             chromedriver on PATH)"
            .into());
    }
    println!("setup: installing chromium and chromium-driver with apt-get");
    exec(cmd("apt-get").args(["update", "-qq"]), "apt-get update")?;
    exec(
        cmd("apt-get")
            .args(["install", "-y", "-qq", "chromium", "chromium-driver"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
        "apt-get install chromium chromium-driver",
    )
}

/// PostgreSQL's server programs, which the server's tests run against (`temp-postgres` finds them):
/// Debian's `postgresql` when we are root on Debian, else a note of what to install. Not an error
/// here — only the tests need it, and `cargo xtask test` fails loudly without it.
fn postgres() {
    if temp_postgres::bin_dir().is_ok() {
        return;
    }
    if !root_on_debian() {
        println!("setup: {}", temp_postgres::INSTALL_HINT);
        return;
    }
    println!("setup: installing postgresql with apt-get");
    let installed = exec(cmd("apt-get").args(["update", "-qq"]), "apt-get update").and_then(|()| {
        exec(
            cmd("apt-get")
                .args(["install", "-y", "-qq", "postgresql"])
                .env("DEBIAN_FRONTEND", "noninteractive"),
            "apt-get install postgresql",
        )
    });
    if let Err(e) = installed {
        println!("setup: {e}");
    }
}

/// The Chromium executable on PATH, if any.
pub fn chromium_binary() -> Option<std::path::PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"].iter().find_map(|b| which(b))
}

fn root_on_debian() -> bool {
    let is_root = output(cmd("id").arg("-u")).as_deref() == Some("0");
    is_root && std::path::Path::new("/etc/debian_version").exists() && which("apt-get").is_some()
}
