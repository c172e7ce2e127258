//! The report: rows of measurements, the machine they were taken on, and the Markdown/JSON forms.

use serde_json::{Map, Value, json};

use super::Mode;
use crate::util::{cmd, output};

/// One measurement.
#[derive(Clone, Debug)]
pub struct Row {
    pub area: &'static str,
    pub what: String,
    pub value: String,
    /// What it is measured against in the same run (floor, ceiling, peer, 1 tab …).
    pub reference: String,
    pub budget: String,
    /// `Some(why)` when the budget is missed.
    pub over: Option<String>,
    /// In the summary table (else in the details only).
    pub summary: bool,
}

impl Row {
    pub fn new(area: &'static str, what: impl Into<String>, value: impl Into<String>) -> Row {
        Row {
            area,
            what: what.into(),
            value: value.into(),
            reference: String::new(),
            budget: String::new(),
            over: None,
            summary: true,
        }
    }

    pub fn reference(mut self, r: impl Into<String>) -> Row {
        self.reference = r.into();
        self
    }

    /// Sets the budget; `met == false` lists the row under "over budget".
    pub fn budget(mut self, budget: impl Into<String>, met: bool) -> Row {
        self.budget = budget.into();
        if !met {
            self.over = Some(format!("{}: {} (budget {})", self.what, self.value, self.budget));
        }
        self
    }

    pub fn detail(mut self) -> Row {
        self.summary = false;
        self
    }
}

pub struct Report {
    pub rows: Vec<Row>,
    meta: Map<String, Value>,
}

fn first_line(s: Option<String>) -> String {
    s.unwrap_or_default().lines().next().unwrap_or_default().trim().to_owned()
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn mem_gib() -> f64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse::<f64>().ok()))
        })
        .map(|kib| kib / 1024.0 / 1024.0)
        .unwrap_or(0.0)
}

fn esc(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

impl Report {
    pub fn new(mode: Mode) -> Report {
        let mut meta = Map::new();
        let date = first_line(output(cmd("date").args(["-u", "+%Y-%m-%d %H:%M UTC"])));
        let commit = first_line(output(cmd("git").args(["rev-parse", "--short", "HEAD"])));
        // Others may be editing the same working tree: name the files that differ from the commit.
        let dirty: Vec<String> = output(cmd("git").args(["status", "--porcelain", "--untracked-files=no"]))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_whitespace().last().map(str::to_owned))
            .collect();
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        meta.insert("date".into(), json!(date));
        meta.insert("mode".into(), json!(if mode.quick { "quick" } else { "full" }));
        let changes = if dirty.is_empty() {
            String::new()
        } else {
            format!(" + uncommitted changes in {}", dirty.join(", "))
        };
        meta.insert("commit".into(), json!(format!("{commit}{changes}")));
        meta.insert("cpu".into(), json!(cpu_model()));
        meta.insert("cores".into(), json!(cores));
        meta.insert("memory_gib".into(), json!((mem_gib() * 10.0).round() / 10.0));
        meta.insert("os".into(), json!(first_line(output(cmd("uname").args(["-srm"])))));
        meta.insert("rustc".into(), json!(first_line(output(cmd("rustc").arg("-V")))));
        meta.insert("node".into(), json!(first_line(output(cmd("node").arg("--version")))));
        let chromium = crate::setup::chromium_binary()
            .and_then(|c| output(cmd(c.to_str().unwrap_or("chromium")).arg("--version")));
        meta.insert("chromium".into(), json!(first_line(chromium)));
        meta.insert("load_average_start".into(), json!(loadavg()));
        Report { rows: Vec::new(), meta }
    }

    pub fn finish(&mut self, secs: f64) {
        self.meta.insert("load_average_end".into(), json!(loadavg()));
        self.meta.insert("duration_secs".into(), json!(secs.round() as u64));
    }

    pub fn meta_json(&self) -> Value {
        Value::Object(self.meta.clone())
    }

    pub fn rows_json(&self) -> Value {
        Value::Array(
            self.rows
                .iter()
                .map(|r| {
                    json!({"area": r.area, "measurement": r.what, "value": r.value, "reference": r.reference,
                       "budget": r.budget, "over_budget": r.over.is_some(), "summary": r.summary})
                })
                .collect(),
        )
    }

    pub fn over_budget(&self) -> Vec<String> {
        self.rows.iter().filter_map(|r| r.over.clone()).collect()
    }

    fn meta(&self, key: &str) -> String {
        match &self.meta.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None => String::new(),
        }
    }

    /// One line naming the machine.
    pub fn machine(&self) -> String {
        format!(
            "{}, {} cores, {} GiB RAM, {}; {}, node {}, {}",
            self.meta("cpu"),
            self.meta("cores"),
            self.meta("memory_gib"),
            self.meta("os"),
            self.meta("rustc"),
            self.meta("node"),
            self.meta("chromium"),
        )
    }

    fn table(rows: &[&Row]) -> String {
        let mut out = String::from(
            "| Area | Measurement | Hallpass | Reference (same run) | Budget |\n|---|---|---|---|---|\n",
        );
        for r in rows {
            let budget = match (&r.over, r.budget.is_empty()) {
                (_, true) => String::new(),
                (Some(_), false) => format!("{} **over**", r.budget),
                (None, false) => format!("{} ✓", r.budget),
            };
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                r.area,
                esc(&r.what),
                esc(&r.value),
                esc(&r.reference),
                esc(&budget)
            ));
        }
        out
    }

    pub fn summary_table(&self) -> String {
        Self::table(&self.rows.iter().filter(|r| r.summary).collect::<Vec<_>>())
    }

    pub fn over_budget_md(&self) -> String {
        let over = self.over_budget();
        if over.is_empty() {
            "Over budget: none.\n".into()
        } else {
            let mut s = String::from("### Over budget\n\n");
            for o in over {
                s.push_str(&format!("- {o}\n"));
            }
            s
        }
    }

    fn header(&self) -> String {
        format!(
            "Date: {} ({} run, {} s). Commit: {}.\n\nMachine: {}.\n\nLoad average (1/5/15 min) at start: {}; at end: {}.\n",
            self.meta("date"),
            self.meta("mode"),
            self.meta("duration_secs"),
            self.meta("commit"),
            self.machine(),
            self.meta("load_average_start"),
            self.meta("load_average_end"),
        )
    }

    /// Extra Markdown blocks the sections left under `markdown`.
    fn blocks(data: &Map<String, Value>, key: &str) -> String {
        let mut out = String::new();
        for section in ["size", "browser", "server"].iter().filter_map(|k| data.get(*k)) {
            if let Some(Value::String(md)) = section.get(key) {
                out.push_str(md);
                out.push('\n');
            }
        }
        out
    }

    pub fn markdown(&self, data: &Map<String, Value>) -> String {
        format!(
            "# Hallpass benchmark report\n\n{}\n## Summary\n\n{}\n{}\n## All measurements\n\n{}\n{}",
            self.header(),
            self.summary_table(),
            self.over_budget_md(),
            Self::table(&self.rows.iter().collect::<Vec<_>>()),
            Self::blocks(data, "markdown"),
        )
    }

    /// `BENCHMARKS.md`: the summary of a full run.
    pub fn benchmarks_md(&self, data: &Map<String, Value>) -> String {
        format!(
            "# Benchmarks\n\nWritten by `cargo xtask bench` (full run; `--quick` never touches this file). Every \
             number below was measured in one invocation on one machine, side by side with its reference; \
             nothing here is a pass/fail test. The complete report (every measurement, per-round data, \
             twiggy's top items) is in `target/bench/report.md` and `report.json` after a run.\n\n{}\n\
             ## Summary\n\n{}\n{}\n{}\n## How it is measured\n\n{}",
            self.header(),
            self.summary_table(),
            self.over_budget_md(),
            Self::blocks(data, "benchmarks_md"),
            METHOD,
        )
    }
}

const METHOD: &str = "\
- **Size**: `cargo xtask build` (wasm-pack release, wasm-opt -Oz, binaryen's import/export name \
minification), then the glue bundled and minified by esbuild as an app bundler ships it; gzip -9 and brotli \
q11 of wasm + JS. The peers are built in the same run by `bench/anchor-sizes/measure.sh` (pinned versions and \
lock file, esbuild, same flags). \
The React row bundles `hallpass/react` from `pkg/npm` with React itself external (a peer dependency). \
Contributors by crate: twiggy on a names-kept build (wasm-bindgen --keep-debug, wasm-opt with build.rs's \
flags plus -g).
- **getToken()**: headless Chromium (Debian's, via playwright-core), the release `pkg/web`, a real \
hallpass-server on loopback; after sign-up, alternating rounds of `await hp.getToken()`, the least a correct \
cache does (`Date.now() <= expiry ? Promise.resolve(token) : …`, awaited: a token's expiry cannot be left to \
a timer, which a sleeping laptop delays) and the bare `await Promise.resolve(token)` (each bounded by a count \
and a time), best round of each. The budget is against the least a correct cache does: one `Date.now()` alone \
costs more than the bare floor in this Chromium.
- **Cold start**: navigation start → wasm instantiated → `Hallpass.load()` resolved with `isLoaded`, median of \
several fresh pages (no HTTP cache), each started 3 s after the previous one closed (a page closed a moment \
earlier is still being torn down and its storage writes committed, which delays the next page's first \
`localStorage` access); requests to the Frontend API before `isLoaded` counted in the page \
(a `fetch` wrapper) and, for the whole load, by Playwright. Where a stored-session `load()` goes: the same \
loads in a second Chromium started with `--js-flags=--no-wasm-lazy-compilation` (V8 then compiles the whole \
module while instantiating it, so the difference is the compilation V8 otherwise does on each function's first \
call), and a page's first `localStorage` access timed alone, with no SDK, in fresh pages of the same context.
- **Refresh traffic**: N tabs of one browser context (shared localStorage), each calling `getToken()` every \
500 ms against a server with short session tokens; `POST /v1/client/refresh` counted at the test proxy over \
whole token periods, and the shortest gap between two refreshes from the tabs' `debug` traces.
- **Many tabs, timed**: 5 tabs of one context. Recovery: the test proxy refuses every connection for a few \
seconds (every token expires), then passes them again; each tab asks for a fresh token every 50 ms, timed from \
the proxy's return to the last tab's token. Sign-out: one tab signs out; each tab's listener records when it \
heard, and the last one counts. Organization switch: one tab calls `setActive` for a new organization; each \
tab's listener records when its `orgId` became it (a tab adopts it only with the token carrying it), timed \
from `setActive` resolving (and, in brackets, from its call) to the last tab.
- **Server**: `server/benches/load.rs` (`--profile server`): hallpass-server in-process on 127.0.0.1 with its \
production settings (SQLite WAL, Argon2id OWASP parameters), a hyper load generator with keep-alive \
connections in the same process (so client and server share the cores), bounded phases; RS256 sign/verify \
rates of the same key (aws-lc-rs) on all cores are the ceilings. CPU per request: the process's user + system \
CPU time (`/proc/self/stat`) over a phase divided by its requests, load generator included, beside the CPU of \
one signature when every core signs; their ratio is the share of the sign ceiling a phase reaches with the \
cores saturated, and CPU time over wall time is how many cores it kept busy. Scale: users, email addresses, sessions and \
refresh tokens seeded in bulk with SQL (one transaction per 50k users, random ids and token hashes), then the \
same refresh load.
- **Refresh write path**: on SQLite, alternating rounds of the RS256 sign rate on all cores, refresh on a server \
committing rotations in groups (the default) and refresh on one committing each in its own transaction \
(`--refresh-batch-max 1`), each on its own database of 1 000 users, each load connection a client address of its \
own with the rate limits on; each round's ratio is to its own ceiling, the median round is reported. On \
PostgreSQL: `hallpass-server` processes (the release binary) on one database of a throwaway cluster run with \
PostgreSQL's durability defaults (`fsync`, `synchronous_commit`, `full_page_writes` on), the load generator in \
the bench process spreading its connections over one or two of them, the rate limits on (in the database); then \
the database grown with one `INSERT … SELECT generate_series` per table. PostgreSQL shares the two cores. A \
rate-limit check: `Limits::request` called by one task (latency) and by 16 at once, with the counters in memory, \
in a SQLite file and in PostgreSQL.
- **No enumeration**: the email-code sign-in and the password reset (`POST /v1/client/sign_ins {identifier}`, \
then `prepare_first_factor`, which writes the email) for addresses with an account and without one, on 4 \
connections that each alternate a known and an unknown address (which one goes first alternating too), on the \
in-process SQLite server with the development mailbox; p50 and p99 of each request per kind of address, \
reported as unknown / known.
";
