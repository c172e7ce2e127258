//! Short import and export names for the wasm and its JS glue.
//!
//! wasm-bindgen names every import after the JS function and a hash (`__wbg_getItem_49556a3e59cfb688`)
//! and every export after the Rust item (`hallpass_getToken`). The names are strings in the wasm and
//! property keys in the glue, so no minifier can shorten them: together they cost ~4 KiB gzip. This
//! renames them in the wasm's import and export sections (module names stay for bundlers, which
//! resolve `./hallpass_bg.js`; see [`WEB_MODULE`]) and rewrites the same names in the glue files.

use std::collections::BTreeMap;

use crate::util::Result;

fn read_leb(bytes: &[u8], pos: &mut usize) -> Result<u32> {
    let mut result: u32 = 0;
    let mut shift = 0;
    loop {
        let byte = *bytes.get(*pos).ok_or("wasm: truncated LEB128")?;
        *pos += 1;
        result |= u32::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(result);
        }
        shift += 7;
        if shift > 28 {
            return Err("wasm: LEB128 too long".into());
        }
    }
}

fn write_leb(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn read_name(bytes: &[u8], pos: &mut usize) -> Result<String> {
    let len = read_leb(bytes, pos)? as usize;
    let name = bytes.get(*pos..*pos + len).ok_or("wasm: truncated name")?;
    *pos += len;
    String::from_utf8(name.to_vec()).map_err(|_| "wasm: name is not UTF-8".into())
}

fn write_name(out: &mut Vec<u8>, name: &str) {
    write_leb(out, name.len() as u32);
    out.extend_from_slice(name.as_bytes());
}

/// Skips a limits structure (tables and memories).
fn skip_limits(bytes: &[u8], pos: &mut usize) -> Result {
    let flags = *bytes.get(*pos).ok_or("wasm: truncated limits")?;
    *pos += 1;
    read_leb(bytes, pos)?;
    if flags & 1 != 0 {
        read_leb(bytes, pos)?;
    }
    Ok(())
}

/// The n-th short name: a, b, …, z, A, …, Z, aa, ab, …
fn short_name(mut n: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut name = Vec::new();
    loop {
        name.push(ALPHABET[n % ALPHABET.len()]);
        n /= ALPHABET.len();
        if n == 0 {
            break;
        }
        n -= 1;
    }
    name.reverse();
    // A `$` prefix keeps them clear of every identifier wasm-bindgen's glue defines.
    let mut out = String::from("$");
    out.push_str(&String::from_utf8_lossy(&name));
    out
}

/// Worth renaming: wasm-bindgen's generated names. `memory` and the like stay readable.
fn renamable(name: &str) -> bool {
    name.starts_with("__wbg_")
        || name.starts_with("__wbindgen_")
        || name.starts_with("hallpass_")
        || name.contains("_invoke_")
}

/// The glue's own import module as `--target web` names it, and the one-letter name it gets there.
/// (Only for `web`: there the name is merely a key of the imports object the glue passes to
/// `WebAssembly.instantiate`; a bundler target resolves it as a file.) 116 imports repeat it.
pub const WEB_MODULE: (&str, &str) = ("./hallpass_bg.js", "h");

/// Renames imports and exports in `wasm` (and the import module, given [`WEB_MODULE`]); returns the
/// new module and the old → new names.
pub fn minify_wasm(
    wasm: &[u8],
    module_rename: Option<(&str, &str)>,
) -> Result<(Vec<u8>, BTreeMap<String, String>)> {
    if wasm.len() < 8 || &wasm[..4] != b"\0asm" {
        return Err("not a wasm module".into());
    }
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut rename = |old: String| -> String {
        if !renamable(&old) {
            return old;
        }
        let next = names.len();
        names.entry(old).or_insert_with(|| short_name(next)).clone()
    };
    let mut out = wasm[..8].to_vec();
    let mut pos = 8;
    while pos < wasm.len() {
        let id = wasm[pos];
        pos += 1;
        let size = read_leb(wasm, &mut pos)? as usize;
        let body = wasm.get(pos..pos + size).ok_or("wasm: truncated section")?;
        pos += size;
        let new_body = match id {
            2 => {
                let mut p = 0;
                let count = read_leb(body, &mut p)?;
                let mut b = Vec::with_capacity(body.len());
                write_leb(&mut b, count);
                for _ in 0..count {
                    let module = read_name(body, &mut p)?;
                    let field = read_name(body, &mut p)?;
                    let desc_start = p;
                    let kind = *body.get(p).ok_or("wasm: truncated import")?;
                    p += 1;
                    match kind {
                        0x00 => {
                            read_leb(body, &mut p)?;
                        }
                        0x01 => {
                            p += 1; // reftype
                            skip_limits(body, &mut p)?;
                        }
                        0x02 => skip_limits(body, &mut p)?,
                        0x03 => p += 2, // valtype, mutability
                        0x04 => {
                            p += 1; // attribute
                            read_leb(body, &mut p)?;
                        }
                        _ => return Err(format!("wasm: unknown import kind {kind}")),
                    }
                    match module_rename {
                        Some((from, to)) if module == from => write_name(&mut b, to),
                        _ => write_name(&mut b, &module),
                    }
                    write_name(&mut b, &rename(field));
                    b.extend_from_slice(body.get(desc_start..p).ok_or("wasm: truncated import")?);
                }
                Some(b)
            }
            7 => {
                let mut p = 0;
                let count = read_leb(body, &mut p)?;
                let mut b = Vec::with_capacity(body.len());
                write_leb(&mut b, count);
                for _ in 0..count {
                    let name = read_name(body, &mut p)?;
                    let kind = *body.get(p).ok_or("wasm: truncated export")?;
                    p += 1;
                    let index = read_leb(body, &mut p)?;
                    write_name(&mut b, &rename(name));
                    b.push(kind);
                    write_leb(&mut b, index);
                }
                Some(b)
            }
            _ => None,
        };
        out.push(id);
        let body = new_body.as_deref().unwrap_or(body);
        write_leb(&mut out, body.len() as u32);
        out.extend_from_slice(body);
    }
    Ok((out, names))
}

/// Replaces every whole-identifier occurrence of the old names in `js`.
pub fn rewrite_glue(js: &str, names: &BTreeMap<String, String>) -> String {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    let mut out = String::with_capacity(js.len());
    let mut rest = js;
    while let Some(i) = rest.find(|c: char| is_ident(c)) {
        out.push_str(&rest[..i]);
        let ident_len = rest[i..].find(|c: char| !is_ident(c)).unwrap_or(rest.len() - i);
        let ident = &rest[i..i + ident_len];
        out.push_str(names.get(ident).map(String::as_str).unwrap_or(ident));
        rest = &rest[i + ident_len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (module (import "./x.js" "__wbg_log_abc" (func)) (func (export "hallpass_load")) (memory (export "memory") 1))
    fn tiny_module() -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        // type section: one func type () -> ()
        m.extend_from_slice(&[1, 4, 1, 0x60, 0, 0]);
        // import section
        let mut imports = vec![1];
        write_name(&mut imports, "./x.js");
        write_name(&mut imports, "__wbg_log_abc");
        imports.extend_from_slice(&[0x00, 0]);
        m.push(2);
        write_leb(&mut m, imports.len() as u32);
        m.extend_from_slice(&imports);
        // function section: one func of type 0
        m.extend_from_slice(&[3, 2, 1, 0]);
        // memory section
        m.extend_from_slice(&[5, 3, 1, 0, 1]);
        // export section
        let mut exports = vec![2];
        write_name(&mut exports, "hallpass_load");
        exports.extend_from_slice(&[0x00, 1]);
        write_name(&mut exports, "memory");
        exports.extend_from_slice(&[0x02, 0]);
        m.push(7);
        write_leb(&mut m, exports.len() as u32);
        m.extend_from_slice(&exports);
        // code section: one empty body
        m.extend_from_slice(&[10, 4, 1, 2, 0, 0x0b]);
        m
    }

    #[test]
    fn renames_generated_names_and_keeps_the_rest() {
        let (out, names) = minify_wasm(&tiny_module(), None).unwrap();
        assert_eq!(names.len(), 2);
        let new_import = &names["__wbg_log_abc"];
        let new_export = &names["hallpass_load"];
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("./x.js") && text.contains("memory"));
        assert!(!text.contains("__wbg_log_abc") && !text.contains("hallpass_load"));
        assert!(text.contains(new_import.as_str()) && text.contains(new_export.as_str()));
        // Same length everywhere else: the code section came through untouched.
        assert!(out.ends_with(&[10, 4, 1, 2, 0, 0x0b]));
    }

    #[test]
    fn rewrites_whole_identifiers_only() {
        let names = BTreeMap::from([("__wbg_a_1".to_owned(), "$a".to_owned())]);
        let js = "x.__wbg_a_1(y); __wbg_a_12(); '__wbg_a_1'";
        assert_eq!(rewrite_glue(js, &names), "x.$a(y); __wbg_a_12(); '$a'");
    }

    #[test]
    fn short_names_are_unique() {
        let all: std::collections::HashSet<String> = (0..5000).map(short_name).collect();
        assert_eq!(all.len(), 5000);
    }
}
