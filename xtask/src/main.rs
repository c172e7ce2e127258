//! `cargo xtask <command>`: the project's own build tool, so a fresh machine needs only Rust and Node.
//!
//! - `setup`: installs what is missing (wasm32 target, wasm-bindgen-cli at the Cargo.lock version,
//!   wasm-pack, Node tools, Chromium + ChromeDriver and PostgreSQL on Debian) and nothing else. Every
//!   other command runs it first; it is idempotent and quick when all is there.
//! - `build`: the SDK in release for `--target web` into `pkg/web`, wasm-opt'd, with its sizes
//!   against the budget, and the npm package in `pkg/npm`.
//! - `test`: formatting, clippy (native and wasm32), native tests of the whole workspace (the server's
//!   on SQLite and on a PostgreSQL cluster started for the run), the browser suites in headless
//!   Chromium and the size budget; ends with one summary line. `test browser` runs only the browser
//!   suites, `test wasm` only the wasm-bindgen ones (`HALLPASS_WASM_TEST=<file>` picks one), `test
//!   e2e` only the end-to-end (Playwright) ones (`HALLPASS_E2E=<part of a file name>[,…]` picks some).
//! - `bench [--quick]`: bundle size beside the peers, getToken/cold start/refresh traffic in
//!   Chromium, server throughput beside the RS256 ceilings, the scale curve (see `bench`).
//! - `demo [--postgres]`: builds the SDK and the npm package and runs `hallpass-server` serving the
//!   demo app (`www/`) beside the API on one origin, until Ctrl-C; on its SQLite file, or with
//!   `--postgres` on a temporary PostgreSQL cluster.

mod bench;
mod build;
mod demo;
mod minify;
mod nextjs_example;
mod package;
mod server;
mod setup;
mod test;
mod util;
mod yew_example;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <setup | build | test | demo | bench>
  setup   install what is missing (idempotent)
  build   release build of the SDK into pkg/web and the npm package in pkg/npm, with sizes
  test    fmt, clippy, native tests and browser tests in headless Chromium
          (`test browser`: only the browser suites; `test wasm`: only the wasm-bindgen ones,
          `HALLPASS_WASM_TEST=<file>` for one; `test e2e`: only the Playwright ones,
          `HALLPASS_E2E=<part of a file name>[,…]` to pick some)
  demo    build, then run hallpass-server with the demo app at http://127.0.0.1:8787/demo/
          (`--postgres`: on a temporary PostgreSQL cluster instead of the SQLite file; other
          arguments go to the server, e.g. `--database-url postgres://…`; Ctrl-C stops it)
  bench   size, speed and traffic beside the peers: target/bench/report.md + report.json, the
          table on stdout, BENCHMARKS.md (`--quick`: shorter, fewer points, no BENCHMARKS.md)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::run(),
        Some("build") => setup::run().and_then(|()| build::run()),
        Some("test") => setup::run().and_then(|()| test::run(args.get(1).map(String::as_str))),
        Some("demo") => setup::run().and_then(|()| demo::run(&args[1..])),
        Some("bench") => setup::run().and_then(|()| bench::run(&args[1..])),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
