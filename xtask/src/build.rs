//! `cargo xtask build`: the SDK in release for `--target web` into `pkg/web` (the npm package is
//! assembled from it), shrunk with wasm-opt and with short import/export names, and its sizes against
//! the budget.

use std::fs;
use std::path::{Path, PathBuf};

use crate::util::{Result, cmd, exec, gzip_size, root};

pub fn run() -> Result {
    let out = pkg_dir("web");
    println!("build: wasm-pack --release --target web -> {}", rel(&out));
    exec(
        cmd("wasm-pack")
            .args(["build", "--release", "--target", "web", "--out-name", "hallpass", "--out-dir"])
            .arg(&out)
            .args(["--", "--features", "small-alloc"])
            .env("RUSTFLAGS", remap_registry_paths()),
        "wasm-pack build",
    )?;
    let names = wasm_opt(&out.join("hallpass_bg.wasm"))?;
    crate::minify::rename_in_glue(&out, &names)?;
    add_compile_hint(&out.join("hallpass.js"))?;
    for snippet in js_files(&out.join("snippets")) {
        add_compile_hint(&snippet)?;
    }
    print_sizes()?;
    crate::package::assemble()
}

/// `--remap-path-prefix` for every crates.io source folder: panic locations in dependencies then name
/// `gloo-net-0.7.0/src/…` instead of the builder's home folder (shorter wasm, no local paths in it).
fn remap_registry_paths() -> String {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_default();
    let mut flags = std::env::var("RUSTFLAGS").unwrap_or_default();
    if let Ok(indexes) = fs::read_dir(home.join("registry").join("src")) {
        for index in indexes.flatten() {
            flags.push_str(&format!(" --remap-path-prefix={}/=", index.path().display()));
        }
    }
    flags.trim().to_owned()
}

pub fn pkg_dir(target: &str) -> PathBuf {
    root().join("pkg").join(target)
}

/// Runs binaryen's wasm-opt (from npm; Debian's is too old) with [`WASM_OPT_FLAGS`] in place, and
/// its own import/export name minification; returns the names it gave (see `minify`).
///
/// The feature flags are the ones rustc enables by default for wasm32-unknown-unknown; wasm-bindgen
/// strips the target-features section, so wasm-opt must be told.
pub fn wasm_opt(wasm: &Path) -> Result<crate::minify::Names> {
    let before = fs::metadata(wasm).map_err(|e| format!("{}: {e}", wasm.display()))?.len();
    let map = crate::util::output(
        cmd("wasm-opt")
            .arg(wasm)
            .args(["-o"])
            .arg(wasm)
            .args(WASM_OPT_FLAGS)
            // In the same run as the size passes: ~140 bytes gzip smaller than renaming afterwards.
            .arg("--minify-imports-and-exports-and-modules"),
    )
    .ok_or("wasm-opt failed")?;
    let names = crate::minify::Names::parse(&map)?;
    let after = fs::metadata(wasm).map_err(|e| format!("{}: {e}", wasm.display()))?.len();
    println!("build: wasm-opt -Oz {before} -> {after} bytes, {} import/export names shortened", names.len());
    Ok(names)
}

/// The release build's wasm-opt flags (also used by the bench's names-kept build, plus `-g`).
pub const WASM_OPT_FLAGS: &[&str] = &[
    // Control flow rebuilt by the relooper first, then the usual size passes twice
    // (~300 bytes gzip less than `-Oz --converge` alone).
    "--flatten",
    "--rereloop",
    "-Oz",
    "-Oz",
    // Only small functions are inlined into their single caller (wasm-opt's default inlines every
    // such function, whatever its size). Smaller after gzip (~1 KB: the functions kept apart repeat
    // each other's shapes), and the browser, which compiles a wasm function on its first call,
    // no longer compiles code a call never runs because it was inlined into one that does (about
    // 12 % fewer bytes compiled during a stored-session `load()`).
    "--one-caller-inline-max-function-size=30",
    // Not `-tnh` (traps never happen): it lets the optimiser assume that no panic, failed
    // `RefCell` borrow or out-of-bounds access ever occurs, so one that does would be undefined
    // behaviour instead of a `RuntimeError` thrown to the caller. It saved ~250 bytes gzip.
    // Nothing reads these sections at run time (~200 bytes gzip).
    "--strip-producers",
    "--strip-target-features",
    // The module's memory is its own (exported, never imported), so it starts zeroed; and
    // Rust's stack grows down from 1 MiB toward address 0, which it only reaches after a
    // stack overflow, so the lowest 1 KiB is never used. Both let wasm-opt shrink code and
    // data (~250 bytes gzip).
    "--zero-filled-memory",
    "--low-memory-unused",
    "--enable-bulk-memory",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// Chromium's explicit compile hint (the magic comment, first line): compile every function of the
/// glue while the script loads instead of on its first call. `load()` calls dozens of glue functions
/// once each, and compiling them lazily one by one cost it about a millisecond (`cargo xtask bench`);
/// the facade's snippet (`attach` and its helpers) about another 0.1 ms. Other browsers read a
/// comment. A bundler drops it along with the file boundary.
fn add_compile_hint(glue: &Path) -> Result {
    const HINT: &str = "//# allFunctionsCalledOnLoad\n";
    let text = fs::read_to_string(glue).map_err(|e| format!("{}: {e}", glue.display()))?;
    if !text.starts_with(HINT) {
        fs::write(glue, format!("{HINT}{text}")).map_err(|e| format!("{}: {e}", glue.display()))?;
    }
    Ok(())
}

/// The `.js` files under `dir`, at any depth (none if it does not exist).
fn js_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(js_files(&path));
        } else if path.extension().is_some_and(|e| e == "js") {
            found.push(path);
        }
    }
    found
}

/// The glue bundled (with the facade's JS snippets) and minified with esbuild, as any app bundler
/// would ship it.
fn minified_glue(glue: &Path) -> Result<PathBuf> {
    let out = root().join("target").join("tmp").join("glue.min.js");
    fs::create_dir_all(out.parent().unwrap_or(&root())).map_err(|e| e.to_string())?;
    exec(
        cmd("esbuild")
            .arg(glue)
            .args(["--bundle", "--minify", "--format=esm", "--log-level=error"])
            .arg(format!("--outfile={}", out.display())),
        "esbuild --bundle --minify",
    )?;
    Ok(out)
}

/// The headless SDK's size budget: wasm + the glue bundled and minified, gzip -9 (ARCHITECTURE.md,
/// "Size budget"). `cargo xtask test` fails above it; `cargo xtask bench` reports it.
pub const BUDGET_GZ: u64 = 48 * 1024;

pub struct Sizes {
    pub wasm_raw: u64,
    pub wasm_gz: u64,
    pub glue_raw: u64,
    pub glue_min: u64,
    pub glue_min_gz: u64,
}

impl Sizes {
    pub fn total_gz(&self) -> u64 {
        self.wasm_gz + self.glue_min_gz
    }
}

/// Sizes of the `web` build.
pub fn measure() -> Result<Sizes> {
    let dir = pkg_dir("web");
    let wasm = dir.join("hallpass_bg.wasm");
    let glue = dir.join("hallpass.js");
    let min = minified_glue(&glue)?;
    let len = |p: &Path| fs::metadata(p).map(|m| m.len()).map_err(|e| format!("{}: {e}", p.display()));
    Ok(Sizes {
        wasm_raw: len(&wasm)?,
        wasm_gz: gzip_size(&wasm)?,
        glue_raw: len(&glue)?,
        glue_min: len(&min)?,
        glue_min_gz: gzip_size(&min)?,
    })
}

/// True when [`run`] has written the `web` build's wasm since `time`.
pub fn built_since(time: std::time::SystemTime) -> bool {
    let wasm = pkg_dir("web").join("hallpass_bg.wasm");
    fs::metadata(wasm).and_then(|m| m.modified()).is_ok_and(|modified| modified >= time)
}

/// The sizes of the `web` build (which [`run`] made), or an error when they exceed [`BUDGET_GZ`].
pub fn check_budget() -> Result<Sizes> {
    let s = measure()?;
    if s.total_gz() > BUDGET_GZ {
        return Err(format!(
            "the SDK is {} bytes gzip (wasm {} + glue {}), over its budget of {BUDGET_GZ} bytes",
            s.total_gz(),
            s.wasm_gz,
            s.glue_min_gz
        ));
    }
    Ok(s)
}

fn print_sizes() -> Result {
    let s = measure()?;
    let kib = |b: u64| format!("{:.1} KiB", b as f64 / 1024.0);
    println!();
    println!("| pkg/web           | raw        | gzip -9    |");
    println!("|-------------------|-----------:|-----------:|");
    println!("| hallpass_bg.wasm  | {:>10} | {:>10} |", kib(s.wasm_raw), kib(s.wasm_gz));
    println!("| hallpass.js glue  | {:>10} |            |", kib(s.glue_raw));
    println!("| glue, minified    | {:>10} | {:>10} |", kib(s.glue_min), kib(s.glue_min_gz));
    println!("| wasm + min. glue  | {:>10} | {:>10} |", kib(s.wasm_raw + s.glue_min), kib(s.total_gz()));
    println!(
        "build: {} bytes gzip (wasm {} + glue {}) of the {BUDGET_GZ}-byte budget: {}",
        s.total_gz(),
        s.wasm_gz,
        s.glue_min_gz,
        if s.total_gz() <= BUDGET_GZ {
            format!("{} to spare", BUDGET_GZ - s.total_gz())
        } else {
            format!("OVER by {}", s.total_gz() - BUDGET_GZ)
        }
    );
    Ok(())
}

fn rel(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).display().to_string()
}
