//! Hallpass: authentication for browser apps, in Rust compiled to WebAssembly.
