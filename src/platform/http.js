// The Frontend API's HTTP exchange, in JavaScript: the browser makes the request, keeps its deadline
// and parses the JSON, and the wasm gets the outcome (src/platform/http.rs). A few hundred bytes
// here; kilobytes as Rust, where every header and every Request field is a call across the boundary.

/**
 * Sends `method url` with `body` (a value for `JSON.stringify`, a `Blob` sent raw, or `undefined`)
 * and `bearer` (or `undefined`), aborted after `timeoutMs` — the answer's body included. Resolves
 * `[status, body, serverTime, retryAfter]`: the parsed JSON body (`null` when empty, `undefined` when
 * unreadable or not JSON) and the two headers' values (or `null`). Rejects with 2 when the browser is
 * offline (nothing is sent), 1 when the deadline passed, 0 when the request failed otherwise.
 */
export async function exchange(method, url, body, bearer, timeoutMs, serverTimeHeader) {
  if (navigator.onLine === false) throw 2;
  // Every current browser has AbortSignal.timeout; without it a request simply has no deadline.
  const signal = globalThis.AbortSignal?.timeout?.(timeoutMs);
  const headers = {};
  if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
  // A `Blob` (a profile image) goes as it is, with its own type; anything else as JSON.
  const raw = body instanceof Blob;
  if (body !== undefined) headers["content-type"] = raw ? body.type : "application/json";
  let response;
  try {
    response = await fetch(url, { method, headers, body: raw ? body : JSON.stringify(body), signal });
  } catch {
    throw signal?.aborted ? 1 : 0;
  }
  let parsed;
  try {
    const text = await response.text();
    parsed = text === "" ? null : JSON.parse(text);
  } catch {
    if (signal?.aborted) throw 1;
  }
  return [response.status, parsed, response.headers.get(serverTimeHeader), response.headers.get("retry-after")];
}
