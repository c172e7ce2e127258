// The handshake page that `authenticateRequest` asks for (request.js), and the files it loads.
//
// The page is minimal: the SDK's options as JSON, and one module script, `handshake.js` of this
// package, which loads the SDK with them, gets a fresh session token (refreshing from the session
// it keeps in the browser — only the browser holds the refresh token), lets the SDK write the
// session cookie, and reloads the page (handshake.js has the loop guard). It loads this package's
// own SDK files, served by `handshakeAssetResponse` under `/__hallpass/` from this package's
// folder: the SDK that answers the handshake is exactly the one the app bundles, so it reads the
// session the app's SDK stored (a different version could find its storage format unknown).
//
// The files are found through `assets.js`, which `cargo xtask build` writes into the package: one
// static `new URL("../<file>", import.meta.url)` per file, the form bundlers understand — Next.js
// (Turbopack or webpack) copies each file into its build output and gives back where it put it,
// so the handshake works from a bundled `proxy.ts` as from plain Node.js.
import { ASSETS } from "./assets.js";

/** Where the handshake page's files are served. */
export const HANDSHAKE_ASSET_PATH = "/__hallpass/";

const TYPES = { js: "text/javascript; charset=utf-8", wasm: "application/wasm" };

/** `value` as JSON that is safe inside a `<script>` element. */
const scriptJson = (value) => JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");

/** The handshake page's HTML for an instance (`frontendApi`) and the browser storage the app uses. */
export function handshakePage({ frontendApi, storage = "local", assetPath = HANDSHAKE_ASSET_PATH }) {
  const config = scriptJson({ frontendApi, storage });
  const src = `${assetPath.replace(/\/?$/, "/")}handshake.js`.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html><head><meta charset="utf-8"><meta name="robots" content="noindex"><link rel="icon" href="data:,"><title>Signing you in…</title>
<script type="application/json" id="hallpass-handshake">${config}</script>
<script type="module" src="${src}"></script>
</head><body><noscript>This page needs JavaScript to restore your session.</noscript></body></html>
`;
}

/**
 * The Response for a `handshake` request state: the page, with the state's headers
 * (`content-type`, `cache-control: no-store`, `x-hallpass-auth-*`).
 */
export function createHandshakeResponse(requestState, options = {}) {
  if (requestState?.status !== "handshake") throw new TypeError("createHandshakeResponse needs a request state whose status is handshake");
  const page = handshakePage({ frontendApi: requestState.frontendApi, storage: options.storage, assetPath: options.assetPath });
  return new Response(page, { status: 200, headers: requestState.headers });
}

/**
 * The Response for a request of one of the handshake page's files (`GET /__hallpass/<file>`), read
 * from this package's folder; `null` for any other request, so it can sit first in a handler.
 * Needs a runtime with `node:fs` (Node.js, Bun, Deno).
 */
export async function handshakeAssetResponse(request, options = {}) {
  const prefix = (options.assetPath ?? HANDSHAKE_ASSET_PATH).replace(/\/?$/, "/");
  if (request.method !== "GET" && request.method !== "HEAD") return null;
  const { pathname } = new URL(request.url);
  if (!pathname.startsWith(prefix)) return null;
  const name = pathname.slice(prefix.length);
  const locate = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (locate === undefined) return new Response("Not found", { status: 404 });
  const fs = await import("node:fs/promises");
  const file = locate();
  let stat;
  try {
    stat = await fs.stat(file);
  } catch {
    return new Response("Not found", { status: 404 });
  }
  const etag = `"${stat.size.toString(36)}-${Math.floor(stat.mtimeMs).toString(36)}"`;
  const headers = new Headers({ "content-type": TYPES[name.slice(name.lastIndexOf(".") + 1)], "cache-control": "no-cache", etag });
  if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
  const body = request.method === "HEAD" ? null : await fs.readFile(file);
  return new Response(body, { status: 200, headers });
}
