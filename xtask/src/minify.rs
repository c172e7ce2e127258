//! Short import and export names for the glue.
//!
//! wasm-bindgen names every import after the JS function and a hash (`__wbg_getItem_49556a3e59cfb688`)
//! and every export after the Rust item (`hallpass_getToken`). The names are strings in the wasm and
//! property keys in the glue, so no JS minifier can shorten them: together they cost ~4 KiB gzip.
//! binaryen's `--minify-imports-and-exports-and-modules` renames them in the wasm, and its import
//! modules too — all of them to one (for `--target web` a module is merely a key of the imports
//! object) — and prints the old → new names as JSON; [`rename_in_glue`] makes the same changes in the
//! glue, and [`check_links`] instantiates the result in Node so that a mismatch fails the build.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::util::{Result, cmd, exec, output};

/// The glue's import module as wasm-bindgen names it for `--target web`.
const GLUE_MODULE: &str = "./hallpass_bg.js";

/// Old → new import and export names, as wasm-opt printed them.
pub struct Names {
    /// Imports from the glue itself (`./hallpass_bg.js`): wasm-bindgen's hashed names, unique in the
    /// glue, so renamed wherever they occur.
    imports: BTreeMap<String, String>,
    /// Exports: renamed only where the glue reaches into the instance (`wasm.name`, and `readonly
    /// name:` in `InitOutput`), since some (`isHallpassError`) are also the names of its own JS
    /// functions.
    exports: BTreeMap<String, String>,
    /// Imports straight from a JS snippet (`#[wasm_bindgen(module = …)]` functions that need no
    /// glue): (module, old, new).
    snippets: Vec<(String, String, String)>,
}

impl Names {
    /// Reads wasm-opt's map: `{"imports": [[module, old, new], …], "exports": [[old, new], …]}`.
    pub fn parse(json: &str) -> Result<Names> {
        let v: Value = serde_json::from_str(json).map_err(|e| format!("wasm-opt's name map: {e}"))?;
        let mut names = Names { imports: BTreeMap::new(), exports: BTreeMap::new(), snippets: Vec::new() };
        let pairs = |key: &str| v[key].as_array().cloned().unwrap_or_default();
        for entry in pairs("imports").iter().chain(pairs("exports").iter()) {
            let strings: Vec<&str> =
                entry.as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            let owned = |s: &str| s.to_owned();
            match strings.as_slice() {
                [module, old, new] if *module != GLUE_MODULE => {
                    names.snippets.push((owned(module), owned(old), owned(new)))
                }
                [_, old, new] => drop(names.imports.insert(owned(old), owned(new))),
                [old, new] => drop(names.exports.insert(owned(old), owned(new))),
                _ => return Err(format!("wasm-opt's name map: unexpected entry {entry}")),
            };
        }
        if names.imports.is_empty() || names.exports.is_empty() {
            return Err("wasm-opt's name map is empty (has binaryen changed?)".into());
        }
        Ok(names)
    }

    pub fn len(&self) -> usize {
        self.imports.len() + self.exports.len() + self.snippets.len()
    }
}

/// Makes in `dir`'s glue (`.js`, `.d.ts`) the changes wasm-opt made to its wasm: the new names, and
/// one import module instead of several — the glue's own imports object gains the snippets' imports
/// under their new names.
pub fn rename_in_glue(dir: &Path, names: &Names) -> Result {
    let module = wasm_import_module(&dir.join("hallpass_bg.wasm"))?;
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if !(name.ends_with(".js") || name.ends_with(".d.ts")) {
            continue;
        }
        let mut text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        if name == "hallpass.js" {
            text =
                one_import_module(&text, &module, names).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        fs::write(&path, rewrite_glue(&text, names)).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    check_links(dir)
}

/// The imports object of the glue with one module, `module`: the glue's own imports (`import0`) plus
/// each snippet import as `new: importN.old`.
fn one_import_module(js: &str, module: &str, names: &Names) -> Result<String> {
    const OWN: &str = "const import0 = {";
    let own_key = format!("\"{GLUE_MODULE}\": import0,");
    if !js.contains(OWN) || !js.contains(&own_key) {
        return Err(format!("no `{OWN}` or `{own_key}` (has wasm-bindgen changed?)"));
    }
    let mut extra = String::new();
    let mut out = js.replace(&own_key, &format!("{module:?}: import0,"));
    for (snippet, old, new) in &names.snippets {
        // `import * as import1 from "./snippets/…"` and `"./snippets/…": import1,` in the imports.
        let var = js
            .lines()
            .find_map(|l| {
                l.strip_prefix("import * as ")?.strip_suffix(&format!(" from \"{snippet}\""))?.into()
            })
            .ok_or_else(|| format!("no namespace import of {snippet}"))?;
        out = out.replace(&format!("\"{snippet}\": {var},"), "");
        extra.push_str(&format!("\n        {new}: {var}.{old},"));
    }
    Ok(out.replacen(OWN, &format!("{OWN}{extra}"), 1))
}

/// The one module the wasm imports from (binaryen names it; the glue must use the same key).
fn wasm_import_module(wasm: &Path) -> Result<String> {
    let script = "const fs = require('fs'); \
        const m = new WebAssembly.Module(fs.readFileSync(process.argv[1])); \
        console.log(JSON.stringify([...new Set(WebAssembly.Module.imports(m).map((i) => i.module))]));";
    let text = output(cmd("node").args(["-e", script]).arg(wasm)).ok_or("node could not read the wasm")?;
    let modules: Vec<String> = serde_json::from_str(&text).map_err(|e| format!("import modules: {e}"))?;
    match modules.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(format!("the wasm imports from {modules:?}, expected one module")),
    }
}

/// Instantiates `dir`'s wasm with its glue in Node: every import the wasm names must be there.
pub fn check_links(dir: &Path) -> Result {
    let script = "import fs from 'node:fs'; import { pathToFileURL } from 'node:url'; \
        const [glue, wasm] = process.argv.slice(1); \
        const m = await import(pathToFileURL(glue)); \
        m.initSync({ module: fs.readFileSync(wasm) });";
    exec(
        cmd("node")
            .args(["--input-type=module", "-e", script])
            .arg(dir.join("hallpass.js"))
            .arg(dir.join("hallpass_bg.wasm")),
        "instantiating the minified wasm with its glue in node",
    )
}

/// Replaces the old names in `js`: imports as whole identifiers anywhere, exports only after `wasm.`
/// or `readonly `.
fn rewrite_glue(js: &str, names: &Names) -> String {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    let mut out = String::with_capacity(js.len());
    let mut rest = js;
    while let Some(i) = rest.find(is_ident) {
        out.push_str(&rest[..i]);
        let ident_len = rest[i..].find(|c: char| !is_ident(c)).unwrap_or(rest.len() - i);
        let ident = &rest[i..i + ident_len];
        let export =
            || (out.ends_with("wasm.") || out.ends_with("readonly ")).then(|| names.exports.get(ident));
        let new = names.imports.get(ident).or_else(|| export().flatten());
        out.push_str(new.map(String::as_str).unwrap_or(ident));
        rest = &rest[i + ident_len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_imports_join_the_glues_own_module() {
        let names = Names::parse(
            r#"{"imports": [["./hallpass_bg.js", "__wbg_a_1", "a"], ["./snippets/x/facade.js", "attach", "b"]],
                "exports": [["memory", "c"]]}"#,
        )
        .unwrap();
        let js = "import * as import1 from \"./snippets/x/facade.js\"\nconst import0 = {\n  __wbg_a_1: f,\n};\n\
                  imports = {\n\"./hallpass_bg.js\": import0,\n\"./snippets/x/facade.js\": import1,\n};";
        let out = rewrite_glue(&one_import_module(js, "a", &names).unwrap(), &names);
        assert!(out.contains("const import0 = {\n        b: import1.attach,\n  a: f,"), "{out}");
        assert!(
            out.contains("\"a\": import0,") && !out.contains("./snippets/x/facade.js\": import1"),
            "{out}"
        );
    }

    #[test]
    fn reads_the_map_and_rewrites_whole_identifiers_only() {
        let names = Names::parse(
            r#"{"imports": [["./hallpass_bg.js", "__wbg_a_1", "a"]], "exports": [["memory", "b"]]}"#,
        )
        .unwrap();
        assert_eq!(names.len(), 2);
        let js = "x.__wbg_a_1(y); __wbg_a_12(); '__wbg_a_1'; wasm.memory.buffer; memory; readonly memory:";
        assert_eq!(rewrite_glue(js, &names), "x.a(y); __wbg_a_12(); 'a'; wasm.b.buffer; memory; readonly b:");
        assert!(Names::parse(r#"{"imports": [], "exports": []}"#).is_err());
        assert!(Names::parse(r#"{"imports": [["x"]]}"#).is_err());
    }
}
