//! `cargo xtask test`: every check and every suite, in one command, ending with one summary line.
//!
//! Order: the cheap checks first (fmt, clippy), then native tests of the whole workspace, then the
//! browser suites (`tests/*.rs`) with wasm-pack in real headless Chromium, then the release package's
//! end-to-end suites — and the size of that release build against its budget
//! ([`crate::build::BUDGET_GZ`]), and the drop-in UI's against its own
//! ([`crate::package::UI_BUDGET_GZ`]). Every step runs even after a failure, so one run shows
//! everything that is wrong; the exit code is non-zero if any failed.
//!
//! The server's tests run each database test on SQLite and on PostgreSQL: one throwaway cluster
//! (`temp-postgres`) serves the whole run through `HALLPASS_TEST_POSTGRES_URL`, and
//! `HALLPASS_TEST_REQUIRE_POSTGRES` makes the PostgreSQL variants fail rather than skip where
//! PostgreSQL is missing. The same cluster then holds the database of the two replicas the many-tabs
//! browser suites run against.

use std::fs;
use std::path::{Path, PathBuf};

use crate::server::{ServerOptions, TestServer};
use crate::util::{Counts, Result, cmd, exec, root, run_counting, tmp_dir};
use test_proxy::Proxy;

pub fn run(only: Option<&str>) -> Result {
    match only {
        None => {}
        Some(selection @ ("browser" | "wasm" | "e2e")) => {
            let tmp = browser_tmp()?;
            let counts = match selection {
                "browser" => browser_suites(&tmp, None)?,
                "wasm" => wasm_suites(&tmp)?,
                _ => e2e_suites(&tmp, None)?,
            };
            println!("{} passed, {} failed", counts.passed, counts.failed);
            if selection == "wasm" {
                return Ok(());
            }
            crate::build::check_budget()?;
            return crate::package::check_ui_budget().map(|_| ());
        }
        Some(other) => return Err(format!("unknown test selection `{other}` (known: browser, wasm, e2e)")),
    }
    let mut failures: Vec<String> = Vec::new();
    let mut record = |step: &str, r: Result| {
        if let Err(e) = r {
            eprintln!("xtask test: {step}: {e}");
            failures.push(step.to_owned());
        }
    };

    record("cargo fmt --check", exec(cmd("cargo").args(["fmt", "--all", "--check"]), "cargo fmt --check"));
    record(
        "clippy (native)",
        exec(
            cmd("cargo").args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]),
            "cargo clippy",
        ),
    );
    record(
        "clippy (wasm32)",
        exec(
            cmd("cargo").args([
                "clippy",
                "-p",
                "hallpass",
                "-p",
                "hallpass-protocol",
                "--target",
                "wasm32-unknown-unknown",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]),
            "cargo clippy --target wasm32-unknown-unknown",
        ),
    );

    let postgres = temp_postgres::Cluster::start();
    let mut native_tests = cmd("cargo");
    native_tests.args(["test", "--workspace"]).env("HALLPASS_TEST_REQUIRE_POSTGRES", "1");
    match &postgres {
        Ok(cluster) => {
            println!("native tests: PostgreSQL at 127.0.0.1:{} for the server's tests", cluster.port());
            native_tests.env("HALLPASS_TEST_POSTGRES_URL", cluster.url("postgres"));
        }
        Err(e) => record("PostgreSQL", Err(e.clone())),
    }
    let native = run_counting(&mut native_tests, "cargo test --workspace");
    let native_counts = native.as_ref().copied().unwrap_or_default();
    record("native tests", native.map(|_| ()));

    let started = std::time::SystemTime::now();
    // The many-tabs suites run on two replicas on this same cluster.
    let browser = browser_tmp().and_then(|tmp| browser_suites(&tmp, postgres.as_ref().ok()));
    drop(postgres);
    let browser_counts = browser.as_ref().copied().unwrap_or_default();
    record("browser tests", browser.map(|_| ()));
    // The end-to-end suites ran on the release build that `cargo xtask build` makes: its size is the
    // one the budget is about, measured without building again.
    let size = if crate::build::built_since(started) {
        crate::build::check_budget()
    } else {
        Err("the release build did not run (a browser suite before it failed)".to_owned())
    };
    let size_text = match &size {
        Ok(s) => format!("SDK {} of {} bytes gzip", s.total_gz(), crate::build::BUDGET_GZ),
        Err(_) => "SDK size not measured".to_owned(),
    };
    record("size budget", size.map(|_| ()));
    // The drop-in UI's own budget, on the package the same build assembled.
    let ui = if crate::build::built_since(started) {
        crate::package::check_ui_budget()
    } else {
        Err("the release build did not run".to_owned())
    };
    let size_text = match &ui {
        Ok(bytes) => format!("{size_text}, UI {bytes} of {} bytes gzip", crate::package::UI_BUDGET_GZ),
        Err(_) => format!("{size_text}, UI size not measured"),
    };
    record("UI size budget", ui.map(|_| ()));

    let mut total = native_counts;
    total.add(browser_counts);
    println!();
    println!(
        "xtask test: fmt, clippy (native + wasm32), {} native tests ({} of them on PostgreSQL), {} browser \
         tests in headless Chromium, {size_text}{}",
        native_counts.passed + native_counts.failed,
        native_counts.postgres,
        browser_counts.passed + browser_counts.failed,
        if failures.is_empty() { String::new() } else { format!("; FAILED: {}", failures.join(", ")) }
    );
    println!("{} passed, {} failed", total.passed, total.failed);
    if failures.is_empty() { Ok(()) } else { Err(format!("{} step(s) failed", failures.len())) }
}

/// The suites that need a browser and a real server (each a `hallpass-server` with its own temporary
/// database, behind the counting, fault-injecting test proxy):
/// - `tests/*.rs` compiled to wasm32 and run by wasm-pack in headless Chromium (never Node); they get
///   both addresses at compile time (`option_env!`);
/// - `tests/e2e/*.test.mjs`: node's test runner driving Debian's Chromium with playwright-core against
///   the release package that `cargo xtask build` makes.
fn browser_suites(tmp: &Path, postgres: Option<&temp_postgres::Cluster>) -> Result<Counts> {
    let mut counts = wasm_suites(tmp)?;
    counts.add(e2e_suites(tmp, postgres)?);
    Ok(counts)
}

/// `tests/*.rs` (or only `HALLPASS_WASM_TEST=<name>`) with wasm-pack in headless Chromium, and the
/// Yew example's suite, against a server with 5 s tokens behind the test proxy.
fn wasm_suites(tmp: &Path) -> Result<Counts> {
    let server = TestServer::start(&ServerOptions::alone("browser", 5))?;
    let proxy = Proxy::start(std::slice::from_ref(&server.info.address), &server.info.secret_key)?;
    println!(
        "browser tests: hallpass-server at {} behind the test proxy at {}",
        server.info.frontend_api, proxy.url
    );
    let only = std::env::var("HALLPASS_WASM_TEST").unwrap_or_else(|_| "*".to_owned());
    let mut counts = run_counting(
        cmd("wasm-pack")
            .args(["test", "--headless", "--chrome", "--", "--test", &only])
            .env("TMPDIR", tmp)
            .env("HALLPASS_TEST_FRONTEND_API", &proxy.url)
            .env("HALLPASS_TEST_SERVER", &server.info.frontend_api),
        "wasm-pack test --headless --chrome",
    )?;
    if counts.passed == 0 {
        return Err("no browser test ran".into());
    }
    if only == "*" {
        counts.add(crate::yew_example::suite(tmp, &proxy.url, &server.info.frontend_api)?);
    }
    Ok(counts)
}

/// Chromium leaves ~15 MB of profile folders per run in TMPDIR: keep them in the project and start
/// each run from an empty folder, so runs never accumulate.
fn browser_tmp() -> Result<PathBuf> {
    let tmp = tmp_dir("browser");
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).map_err(|e| format!("creating {}: {e}", tmp.display()))?;
    Ok(tmp)
}

/// `tests/e2e/*.test.mjs` (filtered by `HALLPASS_E2E`) on the release package, which this builds:
/// node's test runner driving Debian's Chromium with playwright-core, against a server with 5 s
/// tokens and, for the many-tabs suites, two replicas with 10 s tokens on one PostgreSQL database
/// behind a load-balancing proxy, each setup behind its own test proxy. `postgres`: the run's cluster
/// (one is started here without it).
fn e2e_suites(tmp: &Path, postgres: Option<&temp_postgres::Cluster>) -> Result<Counts> {
    crate::build::run()?;
    let app = crate::package::install_for_tests()?;
    let server = TestServer::start(&ServerOptions::alone("e2e", 5))?;
    let proxy = Proxy::start(std::slice::from_ref(&server.info.address), &server.info.secret_key)?;
    let own_cluster;
    let cluster = match postgres {
        Some(c) => c,
        None => {
            own_cluster = temp_postgres::Cluster::start()?;
            &own_cluster
        }
    };
    let (_tabs_replicas, tabs_proxy) = tabs_replicas(cluster)?;
    let e2e = root().join("tests").join("e2e");
    let mut files: Vec<_> = fs::read_dir(&e2e)
        .map_err(|e| format!("{}: {e}", e2e.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_str().is_some_and(|s| s.ends_with(".test.mjs")))
        // `HALLPASS_E2E=tabs cargo xtask test browser` runs only the suites whose file name matches
        // (the name, not the path: a checkout under a directory named like a suite ran them all);
        // `HALLPASS_E2E=orgs,sdk` the suites matching either.
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            std::env::var("HALLPASS_E2E").map_or(true, |only| only.split(',').any(|part| name.contains(part)))
        })
        .collect();
    files.sort();
    // The Next.js example's suite runs `next start` on a production build, made here when needed; the
    // package suite type-checks hallpass/nextjs against the Next.js it installed.
    let nextjs = if files.iter().any(|f| f.ends_with("nextjs.test.mjs") || f.ends_with("package.test.mjs")) {
        Some(crate::nextjs_example::prepare()?)
    } else {
        None
    };
    if files.iter().any(|f| f.ends_with("yew.test.mjs")) {
        crate::yew_example::build_web()?;
    }
    let chromium = crate::setup::chromium_binary().ok_or("no chromium on PATH")?;
    let mut node = cmd("node");
    node.args(["--test", "--test-reporter=spec", "--test-concurrency=1"]);
    // `HALLPASS_E2E_TEST=<regex>`: only the tests whose names match (the fast loop on one test).
    if let Ok(pattern) = std::env::var("HALLPASS_E2E_TEST") {
        node.arg(format!("--test-name-pattern={pattern}"));
    }
    let e2e_counts = run_counting(
        node.args(&files)
            .env("TMPDIR", tmp)
            .env("HALLPASS_TEST_FRONTEND_API", &proxy.url)
            .env("HALLPASS_TEST_SERVER", &server.info.frontend_api)
            .env("HALLPASS_TEST_FRONTEND_API_10S", &tabs_proxy.url)
            .env("HALLPASS_REPO", root())
            .env("HALLPASS_TOOLS", crate::util::tools_dir().join("node_modules"))
            .env("HALLPASS_E2E_APP", &app)
            .env("HALLPASS_NEXTJS_EXAMPLE", nextjs.unwrap_or_default())
            .env("HALLPASS_TEST_SECRET_KEY", &server.info.secret_key)
            .env("CHROMIUM", chromium),
        "node --test tests/e2e",
    )?;
    if e2e_counts.passed == 0 {
        return Err("no end-to-end test ran".into());
    }
    Ok(e2e_counts)
}

/// The many-tabs suites' setup: two `hallpass-server` replicas with 10 s tokens on one PostgreSQL
/// database, behind the load-balancing test proxy (requests to the replicas in turn), whose URL is
/// their public URL. The suites run once against these instead of against one server: the same
/// assertions, now across replicas, at no extra time (every other browser suite still runs against
/// one server, so that path keeps its coverage).
fn tabs_replicas(cluster: &temp_postgres::Cluster) -> Result<([TestServer; 2], Proxy)> {
    cluster.create_database("hallpass_tabs")?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("proxy bind: {e}"))?;
    let url = format!("http://{}", listener.local_addr().map_err(|e| e.to_string())?);
    let replica = |name| {
        TestServer::start(&ServerOptions {
            name,
            token_lifetime_secs: 10,
            database_url: Some(cluster.url("hallpass_tabs")),
            public_url: Some(url.clone()),
        })
    };
    let replicas = [replica("tabs-a")?, replica("tabs-b")?];
    let upstreams = [replicas[0].info.address.clone(), replicas[1].info.address.clone()];
    let proxy = Proxy::start_on(listener, &upstreams, &replicas[0].info.secret_key)?;
    Ok((replicas, proxy))
}
