// The `hallpass` package entry: the SDK's wasm-bindgen glue, instantiated on first use.
//
// `Hallpass.load()` fetches and instantiates `hallpass_bg.wasm` (found next to this file through
// `new URL(…, import.meta.url)`, which Vite, webpack 5, Rollup, esbuild and plain browsers all
// understand) the first time it is called, so an app never has to call `init()` itself. `init` stays
// exported for apps that serve the wasm from elsewhere or want to start the download early.
import glueInit, { Hallpass, initSync as glueInitSync, isHallpassError as glueIsHallpassError } from "./hallpass.js";

let ready = null;
let instantiated = false;

/**
 * Instantiates the WebAssembly module (once; later calls return the same promise). Optional:
 * `Hallpass.load()` calls it. Pass a URL, `Response` or `WebAssembly.Module` to load the wasm from
 * somewhere other than next to this file.
 */
export default function init(input) {
  if (ready === null) {
    const arg = input === undefined ? undefined : { module_or_path: input };
    ready = glueInit(arg).then(
      (exports) => {
        instantiated = true;
        return exports;
      },
      (error) => {
        ready = null; // a failed download may be retried
        throw error;
      },
    );
  }
  return ready;
}

/** Instantiates the module synchronously from its bytes or a compiled `WebAssembly.Module`. */
export function initSync(module) {
  const exports = glueInitSync({ module });
  instantiated = true;
  ready = Promise.resolve(exports);
  return exports;
}

const load = Hallpass.load;
/** Loads an instance, instantiating the WebAssembly module first if needed. */
Hallpass.load = async function loadAfterInit(options) {
  await init();
  return load.call(Hallpass, options);
};

/** True when `value` is an error thrown by Hallpass. */
export function isHallpassError(value) {
  // Before the module exists, nothing can have thrown a HallpassError.
  return instantiated && glueIsHallpassError(value);
}

export { Hallpass };
