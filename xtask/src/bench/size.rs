//! Bundle size: the release package as a bundler ships it, the npm entry, `hallpass/react`, the peers
//! (`bench/anchor-sizes/measure.sh`, run here), and where the bytes go (twiggy, by crate).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::report::Row;
use super::{Mode, kib, out_dir};
use crate::util::{Result, cmd, exec, gzip_size, output, root};

/// The budget for wasm + minified glue, gzip -9 (the one `cargo xtask test` enforces).
const BUDGET_GZ: f64 = crate::build::BUDGET_GZ as f64;
const AREA: &str = "Bundle size";

/// raw / gzip -9 / brotli q11 of a set of files.
#[derive(Clone, Copy, Debug, Default)]
struct Size {
    raw: f64,
    gz: f64,
    br: f64,
}

impl Size {
    fn plus(self, o: Size) -> Size {
        Size { raw: self.raw + o.raw, gz: self.gz + o.gz, br: self.br + o.br }
    }
    fn json(self) -> Value {
        json!({"raw": self.raw, "gzip": self.gz, "brotli": self.br})
    }
    fn text(self) -> String {
        format!("{} gzip · {} brotli · {} raw", kib(self.gz), kib(self.br), kib(self.raw))
    }
}

fn measure(files: &[&Path]) -> Result<Size> {
    let script = root().join("bench").join("size.mjs");
    let br = output(cmd("node").arg(&script).args(files)).ok_or("node bench/size.mjs failed")?;
    let br: Vec<f64> = serde_json::from_str(&br).map_err(|e| format!("bench/size.mjs: {e}"))?;
    let mut total = Size::default();
    for (f, b) in files.iter().zip(br) {
        let raw = fs::metadata(f).map_err(|e| format!("{}: {e}", f.display()))?.len() as f64;
        total = total.plus(Size { raw, gz: gzip_size(f)? as f64, br: b });
    }
    Ok(total)
}

/// esbuild --bundle --minify, as an app bundler ships it; `external`: peer dependencies.
fn bundle(entry: &Path, out: &Path, external: &[&str]) -> Result {
    let mut c = cmd("esbuild");
    c.arg(entry).args(["--bundle", "--minify", "--format=esm", "--platform=browser", "--log-level=error"]);
    c.arg("--define:process.env.NODE_ENV=\"production\"");
    for e in external {
        c.arg(format!("--external:{e}"));
    }
    exec(c.arg(format!("--outfile={}", out.display())), "esbuild --bundle --minify")
}

pub fn run(mode: Mode) -> Result<(Vec<Row>, Value)> {
    crate::build::run()?;
    let dir = out_dir().join("size");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let web = crate::build::pkg_dir("web");
    let wasm = web.join("hallpass_bg.wasm");

    // The headless SDK: wasm + the glue (with its snippets) bundled and minified.
    let glue = dir.join("glue.min.js");
    bundle(&web.join("hallpass.js"), &glue, &[])?;
    let wasm_size = measure(&[&wasm])?;
    let glue_size = measure(&[&glue])?;
    let headless = wasm_size.plus(glue_size);
    let mut rows = vec![
        Row::new(
            AREA,
            "Headless SDK: wasm + minified glue",
            format!("{} (gzip {} B)", headless.text(), super::thousands(headless.gz)),
        )
        .reference("peers: see the size table")
        .budget("≤ 48 KiB gzip", headless.gz <= BUDGET_GZ),
        Row::new(AREA, "wasm (hallpass_bg.wasm)", wasm_size.text()).detail(),
        Row::new(AREA, "glue (hallpass.js + snippets, esbuild --bundle --minify)", glue_size.text()).detail(),
    ];
    let mut data = json!({"headless": headless.json(), "wasm": wasm_size.json(), "glue": glue_size.json()});

    // The npm package: its auto-initialising entry, and `hallpass/react` with React external.
    let npm = crate::package::dir();
    let mut react_total = None;
    let mut ui_size = None;
    if npm.join("react.js").is_file() && npm.join("index.js").is_file() {
        let entry_min = dir.join("npm-entry.min.js");
        bundle(&npm.join("index.js"), &entry_min, &[])?;
        let entry = measure(&[&entry_min])?.plus(wasm_size);
        let react_entry = dir.join("react-entry.js");
        fs::write(
            &react_entry,
            format!(
                "export {{ HallpassProvider, useUser, useAuth, useSession, SignedIn, SignedOut, Protect, \
                 useOrganization, useOrganizationList }} from {:?};\n",
                npm.join("react.js").display().to_string()
            ),
        )
        .map_err(|e| format!("writing {}: {e}", react_entry.display()))?;
        let react_min = dir.join("react.min.js");
        bundle(&react_entry, &react_min, &["react", "react-dom", "react/jsx-runtime"])?;
        let react = measure(&[&react_min])?.plus(wasm_size);
        rows.push(
            Row::new(AREA, "npm entry `hallpass` (auto-init) + wasm", entry.text())
                .reference(format!("{:+.1} KiB gzip vs headless", (entry.gz - headless.gz) / 1024.0))
                .detail(),
        );
        rows.push(
            Row::new(AREA, "With the React adapter (`hallpass/react`, React external) + wasm", react.text())
                .reference(format!("{:+.1} KiB gzip vs headless", (react.gz - headless.gz) / 1024.0)),
        );
        data["npm_entry"] = entry.json();
        data["react"] = react.json();
        // The opt-in organizations entry (resources, paging, member actions) on its own: outside the
        // headless budget like the React adapter, and shown so the trade stays visible.
        if npm.join("organizations.js").is_file() {
            let orgs_min = dir.join("organizations.min.js");
            bundle(&npm.join("organizations.js"), &orgs_min, &[])?;
            let orgs = measure(&[&orgs_min])?;
            rows.push(
                Row::new(
                    AREA,
                    "Opt-in `hallpass/organizations` (resources, paging, member actions)",
                    orgs.text(),
                )
                .reference("on top of the headless SDK; outside its budget, like `hallpass/react`"),
            );
            data["organizations"] = orgs.json();
        }
        // The drop-in UI (`hallpass/ui`, as the package ships it: bundled and minified by the build),
        // loaded only when an app renders a component; Clerk's beside it once the peers are measured.
        if npm.join("ui.js").is_file() {
            let ui = measure(&[&npm.join("ui.js")])?;
            data["ui"] = ui.json();
            ui_size = Some(ui);
        }
        react_total = Some(react);
    } else {
        rows.push(Row::new(AREA, "With the React adapter", "not built yet (no pkg/npm/react.js)"));
    }

    // The peers, measured now by the anchor-sizes script.
    let mut md = String::new();
    match anchors(mode) {
        Ok(peers) => {
            let (peer_rows, table) = peer_table(&peers, headless, react_total);
            if let Some(ui) = ui_size {
                rows.push(ui_row(ui, &peers));
            }
            rows.extend(peer_rows);
            md.push_str(&table);
            data["peers"] = peers;
        }
        Err(e) => {
            if let Some(ui) = ui_size {
                rows.push(ui_row(ui, &Value::Null));
            }
            rows.push(Row::new(AREA, "Peers (anchor-sizes)", format!("not measured: {e}")));
            data["peers"] = json!({"error": e});
        }
    }

    // Where the bytes go.
    match twiggy() {
        Ok((summary, table, value)) => {
            rows.push(
                Row::new(AREA, "Largest contributors by crate (twiggy, % of code + data)", summary)
                    .reference("names-kept build, same flags"),
            );
            let total = value["total_bytes"].as_f64().unwrap_or(1.0).max(1.0);
            let modules: Vec<String> = value["hallpass_by_module"]
                .as_array()
                .into_iter()
                .flatten()
                .take(6)
                .map(|m| {
                    let name = m["module"].as_str().unwrap_or("?").trim_start_matches("hallpass::");
                    format!("{name} {:.0} %", 100.0 * m["bytes"].as_f64().unwrap_or(0.0) / total)
                })
                .collect();
            rows.push(
                Row::new(AREA, "The SDK's own code by module (twiggy, % of code + data)", modules.join(", "))
                    .reference("hallpass::<module>"),
            );
            md.push_str(&table);
            data["twiggy"] = value;
        }
        Err(e) => {
            rows.push(Row::new(AREA, "Contributors by crate (twiggy)", format!("not measured: {e}")));
        }
    }
    data["markdown"] = json!(md);
    data["benchmarks_md"] = json!(md.split("\n### Where").next().unwrap_or_default());
    Ok((rows, data))
}

/// The drop-in UI's row: its size beside Clerk's UI — the lazy chunks of `clerk.browser.js` (the
/// components, loaded when the first one renders), from the peers' run.
fn ui_row(ui: Size, peers: &Value) -> Row {
    let clerk = peers["results"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["id"] == "clerk-cdn")
        .map(|p| super::num(p, &["lazy", "gz"]));
    let reference = match clerk {
        Some(gz) if gz > 0.0 => {
            format!("Clerk's UI (clerk.browser.js's lazy chunks) {} gzip; ratio {:.3}×", kib(gz), ui.gz / gz)
        }
        _ => "Clerk's UI not measured".to_owned(),
    };
    Row::new(
        AREA,
        "Drop-in UI `hallpass/ui` (custom elements; on top of the SDK, loaded on first render)",
        ui.text(),
    )
    .reference(reference)
    .budget("≤ 25 KiB gzip", ui.gz <= crate::package::UI_BUDGET_GZ as f64)
}

/// The peers' sizes: `bench/anchor-sizes/measure.sh` installs their pinned versions from its lock file
/// (npm registry only) and bundles each as an app would.
fn anchors(_mode: Mode) -> Result<Value> {
    let script = root().join("bench").join("anchor-sizes").join("measure.sh");
    let out = out_dir().join("anchors");
    let _ = fs::remove_dir_all(&out);
    fs::create_dir_all(&out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    println!("bench: measuring the peers with {}", script.display());
    exec(
        cmd("timeout").args(["--kill-after=10", "900", "bash"]).arg(&script).env("ANCHOR_SIZES_OUT", &out),
        "anchor-sizes/measure.sh",
    )?;
    let text =
        fs::read_to_string(out.join("results.json")).map_err(|e| format!("anchors results.json: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("anchors results.json: {e}"))
}

/// Rows and a Markdown table: Hallpass beside every peer, minified / gzip / brotli.
fn peer_table(peers: &Value, headless: Size, react: Option<Size>) -> (Vec<Row>, String) {
    let mut rows = Vec::new();
    let mut md = format!(
        "### Bundle size beside the peers (same run)\n\nesbuild {} (peers: `bench/anchor-sizes/measure.sh`, \
         single file, `import()` inlined; \"eager\" = what loads before any lazy chunk). KiB.\n\n\
         | SDK | min | gzip -9 | brotli | eager gzip |\n|---|---:|---:|---:|---:|\n",
        peers["esbuild"].as_str().unwrap_or("?")
    );
    let k = |b: f64| format!("{:.1}", b / 1024.0);
    md.push_str(&format!(
        "| **Hallpass headless (wasm + glue)** | {} | **{}** | {} | {} |\n",
        k(headless.raw),
        k(headless.gz),
        k(headless.br),
        k(headless.gz)
    ));
    if let Some(r) = react {
        md.push_str(&format!(
            "| **Hallpass + hallpass/react (React external)** | {} | {} | {} | {} |\n",
            k(r.raw),
            k(r.gz),
            k(r.br),
            k(r.gz)
        ));
    }
    let mut compact = Vec::new();
    for p in peers["results"].as_array().into_iter().flatten() {
        let label = p["label"].as_str().unwrap_or("?");
        let (min, gz, br) = (
            super::num(p, &["single", "min"]),
            super::num(p, &["single", "gz"]),
            super::num(p, &["single", "br"]),
        );
        let eager = super::num(p, &["eager", "gz"]);
        md.push_str(&format!("| {} | {} | {} | {} | {} |\n", label, k(min), k(gz), k(br), k(eager)));
        let id = p["id"].as_str().unwrap_or("?");
        if matches!(id, "supabase-auth" | "firebase-auth-min" | "auth0" | "clerk" | "better-auth-client") {
            compact.push(format!("{id} {}", k(gz)));
        }
        rows.push(
            Row::new(AREA, format!("Peer: {label}"), format!("{} KiB gzip · {} KiB brotli", k(gz), k(br)))
                .detail(),
        );
    }
    if let Some(v) = peers["versions"].as_object() {
        let list: Vec<String> = v.iter().map(|(p, v)| format!("{p}@{}", v.as_str().unwrap_or("?"))).collect();
        md.push_str(&format!("\nVersions: {}.\n", list.join(", ")));
    }
    rows.insert(
        0,
        Row::new(AREA, "Peers, gzip KiB (single file, same run)", compact.join(" · "))
            .reference(format!("Hallpass headless {} KiB", k(headless.gz))),
    );
    (rows, md)
}

/// The crate an item's name belongs to (`<hallpass::x::Y as core::fmt::Debug>::fmt` → `hallpass`).
pub fn crate_of(name: &str) -> String {
    let n = name.trim();
    if n.ends_with(" shim") {
        return "(wasm-bindgen export shims)".into();
    }
    if n.starts_with("data segment") || n.starts_with("data[") {
        return "(data segments)".into();
    }
    if n.starts_with("import ") {
        return "(imports)".into();
    }
    if n.starts_with("export ") {
        return "(exports)".into();
    }
    if n.starts_with("code[") {
        return "(unnamed code)".into();
    }
    if n.starts_with("table[") || n.starts_with("elem[") || n.starts_with("type[") || n.starts_with("global[")
    {
        return "(tables, types, globals)".into();
    }
    let stripped = strip_disambiguators(n);
    let mut s = stripped.trim_start_matches(['<', '&', '*', ' ', '(', '[']);
    for prefix in ["dyn ", "mut ", "const ", "impl "] {
        s = s.strip_prefix(prefix).unwrap_or(s);
    }
    let s = s.trim_start_matches(['<', '&', '*', ' ', '(', '[']);
    match s.find("::") {
        Some(i) if s[..i].chars().all(|c| c.is_alphanumeric() || c == '_') && i > 0 => s[..i].to_owned(),
        _ if s.starts_with("__wbg") || s.starts_with("__wbindgen") || s.starts_with("__externref") => {
            "wasm_bindgen".into()
        }
        _ => "(other)".into(),
    }
}

/// `core[c5930c85a12de822]::fmt` → `core::fmt` (rustc's crate disambiguators in v0 symbol names).
fn strip_disambiguators(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(i) = rest.find('[') {
        let tail = &rest[i + 1..];
        match tail.find(']') {
            Some(j) if j > 0 && tail[..j].bytes().all(|b| b.is_ascii_hexdigit()) => {
                out.push_str(&rest[..i]);
                rest = &tail[j + 1..];
            }
            _ => {
                out.push_str(&rest[..=i]);
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A names-kept variant of the release wasm, sized by twiggy and grouped by crate.
fn twiggy() -> Result<(String, String, Value)> {
    if output(cmd("twiggy").arg("--version")).is_none() {
        println!("bench: installing twiggy (cargo install twiggy --locked)");
        exec(cmd("cargo").args(["install", "twiggy", "--locked"]), "cargo install twiggy")?;
    }
    let input = root().join("target").join("wasm32-unknown-unknown").join("release").join("hallpass.wasm");
    let dir: PathBuf = out_dir().join("twiggy");
    let _ = fs::remove_dir_all(&dir);
    exec(
        cmd("wasm-bindgen")
            .arg(&input)
            .args(["--keep-debug", "--target", "web", "--out-name", "hallpass", "--out-dir"])
            .arg(&dir),
        "wasm-bindgen --keep-debug",
    )?;
    let wasm = dir.join("hallpass_bg.wasm");
    // The release build's flags, plus -g to keep the names.
    exec(
        cmd("wasm-opt").arg(&wasm).arg("-o").arg(&wasm).args(crate::build::WASM_OPT_FLAGS).arg("-g"),
        "wasm-opt -g",
    )?;
    let text = output(cmd("twiggy").args(["top", "-f", "json"]).arg(&wasm)).ok_or("twiggy top failed")?;
    let items: Vec<Value> = serde_json::from_str(&text).map_err(|e| format!("twiggy json: {e}"))?;
    // Custom sections (the names we kept on purpose) are not in the shipped build.
    let shipped: Vec<(&str, f64)> = items
        .iter()
        .filter_map(|i| Some((i["name"].as_str()?, i["shallow_size"].as_f64()?)))
        .filter(|(n, _)| {
            !n.contains("subsection") && !n.starts_with("custom section") && !n.starts_with(".debug")
        })
        .collect();
    let total: f64 = shipped.iter().map(|(_, s)| s).sum();
    let mut by_crate: BTreeMap<String, f64> = BTreeMap::new();
    for (name, size) in &shipped {
        *by_crate.entry(crate_of(name)).or_default() += size;
    }
    // The SDK's own code by module (`hallpass::core::…`, `hallpass::platform::…`): the features.
    let mut by_module: BTreeMap<String, f64> = BTreeMap::new();
    for (name, size) in &shipped {
        let stripped = strip_disambiguators(name);
        let s = stripped.trim_start_matches(['<', '&']);
        if let Some(rest) = s.strip_prefix("hallpass::") {
            let module = rest.split("::").next().unwrap_or(rest);
            let module = module.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or(module);
            *by_module.entry(format!("hallpass::{module}")).or_default() += size;
        }
    }
    let mut modules: Vec<(String, f64)> = by_module.into_iter().collect();
    modules.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut crates: Vec<(String, f64)> = by_crate.into_iter().collect();
    crates.sort_by(|a, b| b.1.total_cmp(&a.1));
    let pct = |s: f64| 100.0 * s / total.max(1.0);
    let summary =
        crates.iter().take(6).map(|(c, s)| format!("{c} {:.0} %", pct(*s))).collect::<Vec<_>>().join(", ");
    let mut md = format!(
        "\n### Where the bytes go (twiggy, names-kept build: {} of code and data)\n\n| crate | bytes | share |\n|---|---:|---:|\n",
        kib(total)
    );
    for (c, s) in crates.iter().take(15) {
        md.push_str(&format!("| {c} | {s:.0} | {:.1} % |\n", pct(*s)));
    }
    md.push_str("\nThe SDK's own code by module:\n\n| module | bytes | share |\n|---|---:|---:|\n");
    for (m, s) in &modules {
        md.push_str(&format!("| {m} | {s:.0} | {:.1} % |\n", pct(*s)));
    }
    md.push_str("\nLargest items:\n\n| item | bytes | share |\n|---|---:|---:|\n");
    for (n, s) in shipped.iter().take(15) {
        let short: String = n.chars().take(110).collect();
        md.push_str(&format!(
            "| `{}` | {s:.0} | {:.1} % |\n",
            short.replace('|', "\\|").replace('`', "'"),
            pct(*s)
        ));
    }
    let value = json!({
        "total_bytes": total,
        "by_crate": crates.iter().map(|(c, s)| json!({"crate": c, "bytes": s})).collect::<Vec<_>>(),
        "hallpass_by_module": modules.iter().map(|(m, s)| json!({"module": m, "bytes": s})).collect::<Vec<_>>(),
        "top_items": shipped.iter().take(40).map(|(n, s)| json!({"name": n, "bytes": s})).collect::<Vec<_>>(),
    });
    Ok((summary, md, value))
}

#[cfg(test)]
mod tests {
    use super::crate_of;

    #[test]
    fn groups_items_by_crate() {
        assert_eq!(crate_of("hallpass::client::refresh::{{closure}}::h06a6"), "hallpass");
        assert_eq!(
            crate_of("<serde_wasm_bindgen::de::Deserializer as serde::Deserializer>::x"),
            "serde_wasm_bindgen"
        );
        assert_eq!(crate_of("core::fmt::Formatter::pad::h1"), "core");
        assert_eq!(crate_of("<&T as core::fmt::Display>::fmt"), "(other)");
        assert_eq!(crate_of("data segment \".rodata\""), "(data segments)");
        assert_eq!(crate_of("__wbg_fetch_123"), "wasm_bindgen");
        assert_eq!(crate_of("code[12]"), "(unnamed code)");
        assert_eq!(crate_of("<core[c5930c85a12de822]::fmt::Formatter>::pad"), "core");
        assert_eq!(crate_of("<u32 as core[c5930c85a12de822]::fmt::Display>::fmt"), "(other)");
        assert_eq!(crate_of("hallpass_getToken externref shim"), "(wasm-bindgen export shims)");
        assert_eq!(crate_of("data[3]"), "(data segments)");
    }
}
