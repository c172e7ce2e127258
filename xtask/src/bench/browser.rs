//! Cached `getToken()`, cold start, refresh traffic and many tabs timed, in headless Chromium
//! (`bench/browser/bench.mjs`) against real hallpass-servers: one with 60 s session tokens, one with
//! short tokens behind the counting, fault-injecting test proxy.

use std::fs;

use serde_json::Value;

use super::report::Row;
use super::{Mode, num, out_dir, thousands};
use crate::server::{ServerOptions, TestServer};
use crate::util::{Result, cmd, exec, root, tmp_dir, tools_dir};
use test_proxy::Proxy;

/// Session-token lifetime of the traffic server, in seconds: short, so a run covers several periods.
const SHORT_TOKEN_SECS: u32 = 6;

pub fn run(mode: Mode) -> Result<(Vec<Row>, Value)> {
    let wasm = crate::build::pkg_dir("web").join("hallpass_bg.wasm");
    if !wasm.is_file() {
        crate::build::run()?;
    }
    let long = TestServer::start(&ServerOptions::alone("bench-long", 60))?;
    let short = TestServer::start(&ServerOptions::alone("bench-short", SHORT_TOKEN_SECS))?;
    let proxy = Proxy::start(std::slice::from_ref(&short.info.address), &short.info.secret_key)?;
    let tmp = tmp_dir("bench-browser");
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).map_err(|e| format!("creating {}: {e}", tmp.display()))?;
    let out = out_dir().join("browser.json");
    let _ = fs::remove_file(&out);
    let chromium = crate::setup::chromium_binary().ok_or("no chromium on PATH")?;
    exec(
        // Bounded: a stuck browser must not hang the run.
        cmd("timeout")
            .args(["--kill-after=10", "600", "node"])
            .arg(root().join("bench").join("browser").join("bench.mjs"))
            .env("TMPDIR", &tmp)
            .env("HALLPASS_BENCH_API", &long.info.frontend_api)
            .env("HALLPASS_BENCH_SHORT_API", &proxy.url)
            .env("HALLPASS_BENCH_TOKEN_SECS", SHORT_TOKEN_SECS.to_string())
            .env("HALLPASS_BENCH_QUICK", if mode.quick { "1" } else { "0" })
            .env("HALLPASS_BENCH_OUT", &out)
            .env("HALLPASS_REPO", root())
            .env("HALLPASS_TOOLS", tools_dir().join("node_modules"))
            .env("CHROMIUM", chromium)
            .stdout(std::process::Stdio::null()),
        "node bench/browser/bench.mjs",
    )?;
    drop(proxy);
    drop(short);
    drop(long);
    let text = fs::read_to_string(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("browser.json: {e}"))?;
    Ok((rows(&v), v))
}

fn rows(v: &Value) -> Vec<Row> {
    let mut rows = Vec::new();
    // ---- getToken
    let g = &v["getToken"];
    // The budget compares with the least a correct cache does, measured in the same run: a cache
    // must read the clock (a timer cannot expire a token across a sleeping laptop), and in this
    // Chromium one `Date.now()` alone costs more than the bare `await Promise.resolve(token)`.
    let ratio = num(g, &["ratioToClockFloor"]);
    rows.push(
        Row::new(
            "getToken()",
            "Cached `await hp.getToken()` (headless Chromium)",
            format!("{:.0} ns/op · {} ops/s", num(g, &["sdkNsPerOp"]), thousands(num(g, &["sdkOpsPerSec"]))),
        )
        .reference(format!(
            "the least a correct cache does, `Date.now() <= expiry ? Promise.resolve(token) : …` awaited: \
             {:.0} ns/op; ratio {ratio:.2}×",
            num(g, &["clockFloorNsPerOp"])
        ))
        .budget("≤ 1.1× the least a correct cache does", ratio > 0.0 && ratio <= 1.1),
    );
    rows.push(
        Row::new(
            "getToken()",
            "The bare floor: `await Promise.resolve(token)`",
            format!(
                "{:.0} ns/op · {} ops/s",
                num(g, &["floorNsPerOp"]),
                thousands(num(g, &["floorOpsPerSec"]))
            ),
        )
        .reference(format!(
            "cached `getToken()` is {:.2}× this; one `Date.now()` is most of the gap",
            num(g, &["ratio"])
        )),
    );
    rows.push(
        Row::new(
            "getToken()",
            "Diagnostic: a synchronous wasm getter (`hp.frontendApi`), awaited",
            format!("{:.0} ns/op", num(g, &["syncNsPerOp"])),
        )
        .reference("the cost of crossing into the wasm, without a Promise from Rust")
        .detail(),
    );
    rows.push(
        Row::new(
            "getToken()",
            "Diagnostic: cached `await hp.getToken({})` (an options object)",
            format!("{:.0} ns/op", num(g, &["optionsNsPerOp"])),
        )
        .reference(format!(
            "{:.2}× the floor",
            num(g, &["optionsNsPerOp"]) / num(g, &["floorNsPerOp"]).max(1e-9)
        ))
        .detail(),
    );
    // ---- cold start
    let c = &v["coldStart"];
    for (key, label) in [("none", "no stored session"), ("stored", "stored session")] {
        let s = &c[key];
        let load_ms = num(s, &["loadMs"]);
        rows.push(
            Row::new(
                "Cold start",
                format!("Navigation → wasm instantiated → isLoaded, {label} (median)"),
                format!(
                    "wasm ready {:.1} ms → isLoaded {:.1} ms; `Hallpass.load()` {load_ms:.1} ms",
                    num(s, &["wasmReadyMs"]),
                    num(s, &["loadedMs"]),
                ),
            )
            .reference(format!(
                "a second load() in the same page (warm code, empty memory storage): {:.2} ms",
                num(s, &["secondLoadMs"])
            ))
            .budget("load() ≤ 5 ms", load_ms <= 5.0),
        );
    }
    let s = &c["stored"];
    let load_ms = num(s, &["loadMs"]);
    let eager_ms = num(&c["storedEagerCompile"], &["loadMs"]);
    let storage_ms = num(c, &["firstStorageAccessMs"]);
    let (q1, q3) = quartiles(s, "loadMs");
    rows.push(
        Row::new(
            "Cold start",
            "Where a stored-session `load()` goes (medians, same run)",
            format!(
                "V8 compiling wasm functions on first call ≈ {:.1} ms · the page's first localStorage access ≈ {storage_ms:.1} ms · the SDK's own work ≈ {:.1} ms",
                (load_ms - eager_ms).max(0.0),
                (eager_ms - storage_ms).max(0.0)
            ),
        )
        .reference(format!(
            "load() {load_ms:.1} ms (middle half of the pages {q1:.1}–{q3:.1} ms); with the whole module compiled at instantiation (`--no-wasm-lazy-compilation`) {eager_ms:.1} ms; first `localStorage` access alone, no SDK: {storage_ms:.1} ms"
        )),
    );
    let fetches = num(s, &["fetchesBeforeLoadedMax"]);
    let after: Vec<String> = s["runs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| r["requestsWithin1sAfter"].as_array().map(Vec::len).unwrap_or(0).to_string())
        .collect();
    let none_fetches = num(&c["none"], &["fetchesBeforeLoadedMax"]);
    rows.push(
        Row::new(
            "Cold start",
            "Frontend API requests before isLoaded, stored session (max of runs)",
            format!("{fetches:.0}"),
        )
        .reference(format!(
            "no session: {none_fetches:.0}; requests by Playwright within 1 s of load (background revalidation): {}",
            after.join(", ")
        ))
        .budget("0", fetches == 0.0),
    );
    // ---- traffic
    let t = &v["traffic"];
    let token_secs = num(t, &["tokenSecs"]);
    let one =
        t["runs"].as_array().and_then(|r| r.iter().find(|x| x["tabs"] == 1)).map(|x| num(x, &["perPeriod"]));
    for r in t["runs"].as_array().into_iter().flatten() {
        let tabs = num(r, &["tabs"]);
        let per = num(r, &["perPeriod"]);
        let ratio = num(r, &["ratioTo1"]);
        let mut row = Row::new(
            "Refresh traffic",
            format!("{tabs:.0} tab(s), getToken() every 500 ms, {token_secs:.0} s tokens"),
            format!(
                "{per:.2} refreshes per token period ({:.0} in {:.0} s; getToken errors {:.0})",
                num(r, &["refreshes"]),
                num(r, &["secs"]),
                num(r, &["getTokenErrors"])
            ),
        )
        .reference(match one {
            Some(o) => format!("1 tab: {o:.2}/period; ratio {ratio:.2}×"),
            None => String::new(),
        });
        if tabs > 1.0 {
            // "The same as 1 tab": allow the rounding of whole refreshes over the measured periods.
            row = row.budget("same as 1 tab (≤ 1.25×)", ratio <= 1.25);
        }
        rows.push(row);
        // Two tabs refreshing in the same period would be milliseconds apart; a period here is
        // half the token's life (the floor of the refresh schedule).
        let min_gap = r["minGapMs"].as_f64();
        let half_period_ms = token_secs * 1000.0 / 4.0;
        rows.push(
            Row::new(
                "Refresh traffic",
                format!("{tabs:.0} tab(s): shortest gap between two refreshes"),
                min_gap.map_or("fewer than two refreshes".into(), |g| format!("{:.1} s", g / 1000.0)),
            )
            .reference(format!("refreshes are due every ~{:.0} s", token_secs / 2.0))
            .budget(
                format!("≥ {:.1} s (never two in one period)", half_period_ms / 1000.0),
                min_gap.is_none_or(|g| g >= half_period_ms),
            )
            .detail(),
        );
    }
    // ---- many tabs, timed
    let t = &v["timed"];
    let tabs = num(t, &["tabs"]);
    let sign_out = t["signOutReachedAllMs"].as_f64();
    rows.push(
        Row::new(
            "Many tabs",
            format!("Sign-out in one of {tabs:.0} tabs reaches the last one"),
            sign_out.map_or("not measured".into(), |ms| format!("{ms:.0} ms")),
        )
        .reference("BroadcastChannel; the storage event without it")
        .budget("≤ 500 ms", sign_out.is_some_and(|ms| ms <= 500.0)),
    );
    let switch = t["orgSwitchReachedAllMs"].as_f64();
    rows.push(
        Row::new(
            "Many tabs",
            format!("An organization switch (`setActive`) in one of {tabs:.0} tabs reaches the last one"),
            switch.map_or("not measured".into(), |ms| {
                format!("{ms:.0} ms ({:.0} ms from the call)", num(t, &["orgSwitchFromCallMs"]))
            }),
        )
        .reference("after setActive resolved; each tab adopts the organization only with its token")
        .budget("≤ 500 ms", switch.is_some_and(|ms| ms <= 500.0)),
    );
    let recovery = t["recoveryMs"].as_f64();
    rows.push(
        Row::new(
            "Many tabs",
            format!(
                "Every one of {tabs:.0} tabs has a token again after the server returns from {:.0} s down",
                num(t, &["downMs"]) / 1000.0
            ),
            recovery.map_or("not within 30 s".into(), |ms| format!("{ms:.0} ms")),
        )
        .reference("each tab asking every 50 ms; nobody is signed out meanwhile")
        .budget("≤ 2 s", recovery.is_some_and(|ms| ms <= 2000.0)),
    );
    rows
}

/// The first and third quartiles of `key` over `summary`'s runs (0 when there are none).
fn quartiles(summary: &Value, key: &str) -> (f64, f64) {
    let mut xs: Vec<f64> =
        summary["runs"].as_array().into_iter().flatten().filter_map(|r| r[key].as_f64()).collect();
    if xs.is_empty() {
        return (0.0, 0.0);
    }
    xs.sort_by(f64::total_cmp);
    let at = |q: f64| xs[((xs.len() - 1) as f64 * q).round() as usize];
    (at(0.25), at(0.75))
}
