//! The TypeScript declarations of the JS facade's values. wasm-bindgen writes the class and its
//! methods; the shapes of what they take and return are declared in `types.d.ts`, precisely (no
//! `any`), and the methods point at them with `unchecked_param_type` / `unchecked_return_type`.
//! `tests/typescript.rs` checks those declarations against the Rust definitions.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = include_str!("types.d.ts");
