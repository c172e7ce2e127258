//! The npm package `hallpass`, assembled in `pkg/npm/` at the end of `cargo xtask build`: the `--target
//! web` build (wasm-opt'd, names minified) plus the hand-written files in `npm/` (the auto-initialising
//! entry, `hallpass/react`, their `.d.ts`, the README and the `package.json` template), and the drop-in
//! UI (`hallpass/ui`, `hallpass/localizations`) bundled from `npm/ui/` and minified, with its own
//! budget. The folder is what `npm publish` would upload, and what the packaging test packs and
//! installs into a Vite app.

use std::fs;
use std::path::{Path, PathBuf};

use crate::util::{Result, cmd, exec, gzip_size, root, tmp_dir};

/// Files of `pkg/web` that go into the package.
const FROM_WASM_PACK: [&str; 3] = ["hallpass.js", "hallpass.d.ts", "hallpass_bg.wasm"];
/// Hand-written files of `npm/` copied as they are.
const FROM_NPM: [&str; 20] = [
    "index.js",
    "index.d.ts",
    "react.js",
    "react.d.ts",
    "server.js",
    "server.d.ts",
    "express.js",
    "express.d.ts",
    "nextjs.d.ts",
    "handshake.js",
    "organizations.js",
    "organizations.d.ts",
    "flows.d.ts",
    "user.js",
    "user.d.ts",
    "ui.d.ts",
    "themes.js",
    "themes.d.ts",
    "localizations.d.ts",
    "README.md",
];
/// Entries whose one implementation lives in `src/js/` (the Yew build imports it from there through
/// `#[wasm_bindgen(module = …)]`), copied to the package's top level.
const FROM_SRC_JS: [&str; 1] = ["flows.js"];
/// Entries bundled from `npm/<name>` and the modules of `npm/ui/` into one minified file each; the
/// SDK, hallpass/organizations, hallpass/user and hallpass/flows stay the package's own files
/// (`./index.js`, `./organizations.js`, `./user.js`, `./flows.js`).
const BUNDLED: [&str; 2] = ["ui.js", "localizations.js"];

/// The drop-in UI's budget (`hallpass/ui` minified, gzip -9), on top of the headless SDK's.
pub const UI_BUDGET_GZ: u64 = 25 * 1024;
/// Hand-written folders of `npm/` copied whole: the modules of the server-side entries.
const FROM_NPM_DIRS: [&str; 2] = ["server", "nextjs"];

/// The package folder.
pub fn dir() -> PathBuf {
    root().join("pkg").join("npm")
}

/// Assembles `pkg/npm/` from `pkg/web/` (which `build::run` has just made) and `npm/`.
pub fn assemble() -> Result {
    let out = dir();
    let _ = fs::remove_dir_all(&out);
    fs::create_dir_all(&out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let web = crate::build::pkg_dir("web");
    let npm = root().join("npm");
    for name in FROM_WASM_PACK {
        copy(&web.join(name), &out.join(name))?;
    }
    // JS snippets of `#[wasm_bindgen(module = …)]` imports, which the glue imports by relative path.
    let snippets = web.join("snippets");
    if snippets.is_dir() {
        copy_dir(&snippets, &out.join("snippets"))?;
    }
    for name in FROM_NPM {
        copy(&npm.join(name), &out.join(name))?;
    }
    for name in FROM_SRC_JS {
        copy(&root().join("src").join("js").join(name), &out.join(name))?;
    }
    for name in FROM_NPM_DIRS {
        copy_dir(&npm.join(name), &out.join(name))?;
    }
    for name in BUNDLED {
        exec(
            cmd("esbuild")
                .arg(npm.join(name))
                .args(["--bundle", "--minify", "--format=esm", "--log-level=error"])
                .args(["--external:./index.js", "--external:./organizations.js", "--external:./user.js"])
                .arg("--external:./flows.js")
                .arg(format!("--outfile={}", out.join(name).display())),
            "esbuild --bundle --minify (the drop-in UI)",
        )?;
    }
    copy(&root().join("LICENSE"), &out.join("LICENSE"))?;
    write_handshake_assets(&out)?;
    let template = read(&npm.join("package.json"))?;
    let manifest = template.replace("{{version}}", &crate_version()?);
    fs::write(out.join("package.json"), manifest).map_err(|e| format!("writing package.json: {e}"))?;
    print_sizes(&out)
}

/// Node packages of `.tools/` the end-to-end suites use as an app would, linked into the installed app
/// (`@clerk` for @clerk/backend, whose parser the organization tests compare with).
const APP_TOOLS: [&str; 3] = ["express", "svix", "@clerk"];

/// The package as an app installs it, for the end-to-end suites: `npm pack` of `pkg/npm`, installed
/// into a scratch app folder (its dependency `jose` from npm's cache when there), with the tools the
/// suites use beside it. Returns the folder; suites resolve `hallpass/…` from it.
pub fn install_for_tests() -> Result<PathBuf> {
    let app = tmp_dir("e2e-app");
    let _ = fs::remove_dir_all(&app);
    fs::create_dir_all(&app).map_err(|e| format!("creating {}: {e}", app.display()))?;
    let packed = crate::util::output(cmd("npm").current_dir(&app).arg("pack").arg(dir()).args([
        "--silent",
        "--pack-destination",
        ".",
    ]))
    .ok_or("npm pack pkg/npm failed")?;
    let tarball = packed.lines().last().unwrap_or_default().trim().to_owned();
    let manifest = format!(
        "{{\"name\":\"hallpass-e2e-app\",\"private\":true,\"type\":\"module\",\"dependencies\":{{\"hallpass\":\"file:./{tarball}\"}}}}\n"
    );
    fs::write(app.join("package.json"), manifest)
        .map_err(|e| format!("writing the app's package.json: {e}"))?;
    exec(
        cmd("npm").current_dir(&app).args([
            "install",
            "--prefer-offline",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
        ]),
        "npm install (the packed hallpass)",
    )?;
    let tools = crate::util::tools_dir().join("node_modules");
    for name in APP_TOOLS {
        std::os::unix::fs::symlink(tools.join(name), app.join("node_modules").join(name))
            .map_err(|e| format!("linking {name} into the app: {e}"))?;
    }
    Ok(app)
}

/// `server/assets.js`: the files the handshake page loads (its script, the SDK's entry, glue, wasm and
/// snippets), each as a static `new URL("../<file>", import.meta.url)` — the form bundlers recognise,
/// so a bundled `proxy.ts` (Next.js) carries the files and finds them. A file name computed at run
/// time would not be: Turbopack then guesses, and serves the wrong file.
fn write_handshake_assets(out: &Path) -> Result {
    let mut files = vec!["handshake.js".to_owned(), "index.js".to_owned()];
    files.extend(FROM_WASM_PACK.iter().filter(|f| !f.ends_with(".d.ts")).map(|f| (*f).to_owned()));
    let snippets = out.join("snippets");
    files.extend(
        js_files_under(&snippets)?
            .iter()
            .filter_map(|p| p.strip_prefix(out).ok().map(|rel| rel.to_string_lossy().replace('\\', "/"))),
    );
    let mut text = String::from(
        "// Generated by `cargo xtask build` (xtask/src/package.rs): the handshake page's files, each as a\n\
         // static URL a bundler can follow (see server/handshake.js).\n\
         export const ASSETS = Object.freeze({\n",
    );
    for file in &files {
        text.push_str(&format!("  {file:?}: () => new URL({:?}, import.meta.url),\n", format!("../{file}")));
    }
    text.push_str("});\n");
    fs::write(out.join("server").join("assets.js"), text)
        .map_err(|e| format!("writing server/assets.js: {e}"))
}

/// The `.js` files under `dir`, at any depth, sorted.
fn js_files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    if !dir.is_dir() {
        return Ok(found);
    }
    for entry in fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(js_files_under(&path)?);
        } else if path.extension().is_some_and(|e| e == "js") {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// The size of `hallpass/ui` in the package (minified by the build), gzip -9, or an error when it is
/// over [`UI_BUDGET_GZ`].
pub fn check_ui_budget() -> Result<u64> {
    let size = gzip_size(&dir().join("ui.js"))?;
    if size > UI_BUDGET_GZ {
        return Err(format!("hallpass/ui is {size} bytes gzip, over its budget of {UI_BUDGET_GZ} bytes"));
    }
    Ok(size)
}

fn copy(from: &Path, to: &Path) -> Result {
    fs::copy(from, to).map(|_| ()).map_err(|e| format!("copying {} to {}: {e}", from.display(), to.display()))
}

fn copy_dir(from: &Path, to: &Path) -> Result {
    fs::create_dir_all(to).map_err(|e| format!("creating {}: {e}", to.display()))?;
    for entry in fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?.flatten() {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() { copy_dir(&path, &target)? } else { copy(&path, &target)? }
    }
    Ok(())
}

fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The SDK crate's version (`[package] version` of the root Cargo.toml): the package's version.
fn crate_version() -> Result<String> {
    let manifest = read(&root().join("Cargo.toml"))?;
    let mut in_package = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package && let Some(value) = line.strip_prefix("version = \"") {
            return Ok(value.trim_end_matches('"').to_owned());
        }
    }
    Err("Cargo.toml has no [package] version".into())
}

/// What an app pays for each entry: files minified by esbuild (as a bundler would) and gzipped.
fn print_sizes(out: &Path) -> Result {
    let tmp = tmp_dir("package-sizes");
    fs::create_dir_all(&tmp).map_err(|e| format!("creating {}: {e}", tmp.display()))?;
    let kib = |b: u64| format!("{:.1} KiB", b as f64 / 1024.0);
    let mut total = 0;
    for entry in fs::read_dir(out).map_err(|e| format!("{}: {e}", out.display()))?.flatten() {
        total += entry.metadata().map(|m| m.len()).unwrap_or(0);
    }
    println!();
    println!("package: pkg/npm ({} unpacked)", kib(total));
    // The opt-in entries are outside the headless budget: printed so that their cost stays visible.
    for name in ["index.js", "react.js", "organizations.js", "flows.js", "user.js", "ui.js"] {
        let min = tmp.join(name);
        // Only this file: the glue and React are bundled (and measured) elsewhere.
        exec(
            cmd("esbuild")
                .arg(out.join(name))
                .args(["--minify", "--format=esm", "--log-level=error"])
                .arg(format!("--outfile={}", min.display())),
            "esbuild --minify",
        )?;
        println!("  {name:<16} minified + gzip -9: {}", kib(gzip_size(&min)?));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_package_version_is_the_crate_version() {
        let version = super::crate_version().unwrap();
        assert!(version.split('.').count() == 3, "{version}");
    }
}
