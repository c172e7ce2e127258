//! The Yew side of `cargo xtask test`: clippy over `hallpass` with its `yew` feature and the example
//! app (wasm32), then the example's browser suite (`examples/yew/tests/`) with wasm-pack in headless
//! Chromium against the suites' server. This is the one extra Yew build the test run pays for; it is
//! also the CI build of the example for wasm32.

use std::path::Path;

use crate::util::{Counts, Result, cmd, exec, run_counting};

pub fn suite(tmp: &Path, frontend_api: &str, server: &str) -> Result<Counts> {
    exec(
        cmd("cargo").args([
            "clippy",
            "-p",
            "hallpass",
            "-p",
            "hallpass-yew-example",
            "--target",
            "wasm32-unknown-unknown",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
        "cargo clippy (yew feature and example, wasm32)",
    )?;
    let counts = run_counting(
        cmd("wasm-pack")
            .args(["test", "--headless", "--chrome", "examples/yew"])
            .env("TMPDIR", tmp)
            .env("HALLPASS_TEST_FRONTEND_API", frontend_api)
            .env("HALLPASS_TEST_SERVER", server),
        "wasm-pack test --headless --chrome examples/yew",
    )?;
    if counts.passed == 0 {
        return Err("no Yew browser test ran".into());
    }
    Ok(counts)
}

/// The example built as its README says (`wasm-pack build --target web`, in the dev profile: wasm-pack
/// runs no wasm-opt there, which it would download) into examples/yew/pkg/, for
/// tests/e2e/yew.test.mjs. The dev build shares the compiled dependencies of [`suite`]'s.
pub fn build_web() -> Result {
    exec(
        cmd("wasm-pack").args(["build", "--dev", "--target", "web", "examples/yew"]),
        "wasm-pack build --dev --target web examples/yew",
    )
}
