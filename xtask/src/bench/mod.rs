//! `cargo xtask bench [--quick]`: size, speed and traffic, side by side with the peers, in one run.
//!
//! Every number in the report is measured in this invocation on this machine; nothing is pass/fail.
//! Sections (each one's failure is reported in place, the others still run):
//! - item 1: [`size`]: the release package (wasm + glue bundled and minified by esbuild) raw / gzip -9 /
//!   brotli q11, the npm entry and `hallpass/react`, the peers from `bench/anchor-sizes/measure.sh`,
//!   and the top contributors by crate (twiggy on a names-kept build).
//! - items 2–4: [`browser`]: cached `getToken()` vs `await Promise.resolve(token)`, cold start, refresh
//!   traffic for 1/5/20 tabs (`bench/browser/bench.mjs` in headless Chromium).
//! - items 5–6: [`load`]: the server under a loopback load generator beside the RS256 ceilings, sign-in
//!   cost, refresh p99 during sign-ins, the cost curve with 10k/100k/1M users, and webhooks (sign-up
//!   p99 with and without three subscribed endpoints, deliveries per second to a loopback receiver)
//!   (`server/benches/load.rs`, built with `--profile server`).
//!
//! Output: `target/bench/report.md`, `target/bench/report.json`, the summary table on stdout, and
//! (full runs only) `BENCHMARKS.md` at the repository root. Budgets that are missed are listed at
//! the end as "over budget".

mod browser;
mod load;
mod report;
mod size;

use std::fs;
use std::path::PathBuf;
use std::time::Instant;

use serde_json::{Map, Value, json};

use crate::util::{Result, root};
use report::{Report, Row};

/// Quick (developer) or full run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mode {
    pub quick: bool,
}

/// `target/bench/`.
pub fn out_dir() -> PathBuf {
    root().join("target").join("bench")
}

pub fn run(args: &[String]) -> Result {
    let mut quick = false;
    for a in args {
        match a.as_str() {
            "--quick" => quick = true,
            other => return Err(format!("bench: unknown argument `{other}` (known: --quick)")),
        }
    }
    let mode = Mode { quick };
    let out = out_dir();
    fs::create_dir_all(&out).map_err(|e| format!("creating {}: {e}", out.display()))?;
    let started = Instant::now();
    let mut report = Report::new(mode);
    let mut data = Map::new();

    section(&mut report, &mut data, "size", "Bundle size", || size::run(mode));
    section(&mut report, &mut data, "browser", "Browser", || browser::run(mode));
    section(&mut report, &mut data, "server", "Server", || load::run(mode));

    report.finish(started.elapsed().as_secs_f64());
    let md = report.markdown(&data);
    fs::write(out.join("report.md"), &md).map_err(|e| format!("writing report.md: {e}"))?;
    let json = json!({ "meta": report.meta_json(), "rows": report.rows_json(), "data": Value::Object(data.clone()),
                       "over_budget": report.over_budget() });
    fs::write(out.join("report.json"), serde_json::to_string_pretty(&json).unwrap_or_default() + "\n")
        .map_err(|e| format!("writing report.json: {e}"))?;
    if !quick {
        fs::write(root().join("BENCHMARKS.md"), report.benchmarks_md(&data))
            .map_err(|e| format!("writing BENCHMARKS.md: {e}"))?;
    }
    println!();
    println!("{}", report.summary_table());
    println!("{}", report.over_budget_md());
    println!(
        "bench: {} in {:.0} s; report in target/bench/report.md and report.json{}",
        if quick { "quick run" } else { "full run" },
        started.elapsed().as_secs_f64(),
        if quick { "" } else { "; summary in BENCHMARKS.md" }
    );
    Ok(())
}

/// Runs one section; an error becomes a row saying so, and the run goes on.
fn section(
    report: &mut Report,
    data: &mut Map<String, Value>,
    key: &str,
    area: &'static str,
    f: impl FnOnce() -> Result<(Vec<Row>, Value)>,
) {
    let t = Instant::now();
    println!("bench: --- {area} ---");
    match f() {
        Ok((rows, value)) => {
            report.rows.extend(rows);
            data.insert(key.to_owned(), value);
        }
        Err(e) => {
            eprintln!("bench: {area}: {e}");
            report.rows.push(Row::new(area, "(section failed)", format!("error: {e}")));
            data.insert(key.to_owned(), json!({ "error": e }));
        }
    }
    println!("bench: {area} took {:.0} s", t.elapsed().as_secs_f64());
}

/// `n` bytes in KiB with one decimal.
pub fn kib(n: f64) -> String {
    format!("{:.1} KiB", n / 1024.0)
}

/// A number with thousands separators (`12 345`).
pub fn thousands(n: f64) -> String {
    let s = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

/// `v[path…]` as f64 (0 when missing).
pub fn num(v: &Value, path: &[&str]) -> f64 {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_f64().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers() {
        assert_eq!(kib(2048.0), "2.0 KiB");
        assert_eq!(thousands(1234567.0), "1\u{202f}234\u{202f}567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(num(&json!({"a": {"b": 2.5}}), &["a", "b"]), 2.5);
        assert_eq!(num(&json!({}), &["a", "b"]), 0.0);
    }
}
