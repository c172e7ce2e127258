// The `hallpass` package entry. The class and value types come from the wasm-bindgen glue
// (`hallpass.d.ts`, generated from the Rust facade); this file adds the auto-initialising entry.
export * from "./hallpass.js";
import type { HallpassError, InitInput, InitOutput, SyncInitInput } from "./hallpass.js";

/**
 * Instantiates the WebAssembly module once (later calls share the same promise). Optional:
 * `Hallpass.load()` calls it. Pass a URL, `Response` or `WebAssembly.Module` to load the wasm from
 * somewhere other than next to the package's JavaScript.
 */
export default function init(input?: InitInput | Promise<InitInput>): Promise<InitOutput>;

/** Instantiates the module synchronously from its bytes or a compiled `WebAssembly.Module`. */
export function initSync(module: SyncInitInput): InitOutput;

/** True when `value` is an error thrown by Hallpass (narrows it to `HallpassError`). */
export function isHallpassError(value: unknown): value is HallpassError;
