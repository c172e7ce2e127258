// A webhook receiver written the way a Clerk app's handler is, for the server's webhook tests
// (server/tests/common/receiver.rs starts it): it verifies every delivery with the real `svix`
// package — `new Webhook(secret).verify(body, headers)` on the raw body and, as Clerk's older Next.js
// example does, on `JSON.stringify(await req.json())` — and with `standardwebhooks` on the
// `webhook-*` headers alone, then records what it got.
//
// Usage: node receiver.mjs <node_modules folder with svix>. Prints `{"port": N}` once listening on
// 127.0.0.1. Deliveries go to POST /hooks/<name>; the test drives it through /_control/…:
//   PUT  /_control/hooks/<name>   {secrets: [...], mode: "verify" | "reset" | "hang", status?, body_bytes?,
//                                  headers?}
//        verify (default): 2xx when secrets[0] verifies the raw body (else 400, as Clerk's handler),
//        or `status` whatever the verification says; reset: the connection is dropped unanswered;
//        hang: never answered. `body_bytes`: the answer's body is that many bytes; `headers`: added
//        to the answer (a `location`, say).
//   GET  /_control/hooks/<name>   what it received, oldest first
//   PUT  /_control/clock          {offset_ms}: Date.now() moves by that much (the test's clock)
//   POST /_control/verify         {secret, body, headers} -> {ok, error}: svix's verdict
//   POST /_control/stringify      raw JSON text -> JSON.stringify(JSON.parse(text))
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const tools = process.argv[2];
if (!tools) {
  console.error("usage: node receiver.mjs <node_modules folder>");
  process.exit(2);
}
const require = createRequire(join(tools, "noop.js"));
const { Webhook } = await import(pathToFileURL(require.resolve("svix")).href);
const standard = require("standardwebhooks");

const realNow = Date.now.bind(Date);
let offsetMs = 0;
Date.now = () => realNow() + offsetMs;

/** name -> { secrets, mode, status, bodyBytes, received: [] } */
const hooks = new Map();
let arrivals = 0;
const MAX_BODY = 4 * 1024 * 1024;
const MAX_RECORDS = 10_000;

function hook(name) {
  if (!hooks.has(name)) {
    hooks.set(name, { secrets: [], mode: "verify", status: null, bodyBytes: 0, headers: {}, received: [] });
  }
  return hooks.get(name);
}

function verdict(fn) {
  try {
    fn();
    return { ok: true, error: null };
  } catch (e) {
    return { ok: false, error: String(e && e.message ? e.message : e) };
  }
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error("body too large"));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function answer(res, status, value, headers = {}) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  res.writeHead(status, { "content-type": typeof value === "string" ? "text/plain" : "application/json", ...headers });
  res.end(text);
}

async function delivery(name, req, res) {
  const h = hook(name);
  const body = await readBody(req);
  const svixHeaders = {
    "svix-id": req.headers["svix-id"],
    "svix-timestamp": req.headers["svix-timestamp"],
    "svix-signature": req.headers["svix-signature"],
  };
  const webhookHeaders = {
    "webhook-id": req.headers["webhook-id"],
    "webhook-timestamp": req.headers["webhook-timestamp"],
    "webhook-signature": req.headers["webhook-signature"],
  };
  let reserialized = null;
  let parseError = null;
  try {
    reserialized = JSON.stringify(JSON.parse(body));
  } catch (e) {
    parseError = String(e.message);
  }
  const first = h.secrets[0];
  const raw = first ? verdict(() => new Webhook(first).verify(body, svixHeaders)) : { ok: false, error: "no secret" };
  const record = {
    arrival: arrivals++,
    received_at: realNow(),
    method: req.method,
    content_type: req.headers["content-type"] ?? null,
    user_agent: req.headers["user-agent"] ?? null,
    headers: { ...svixHeaders, ...webhookHeaders },
    body,
    parse_error: parseError,
    stringify_stable: reserialized === body,
    // Clerk's handler: the raw body, with svix-* headers.
    verified: raw.ok,
    error: raw.error,
    // Clerk's older example: JSON.stringify(await req.json()).
    verified_reserialized:
      first && reserialized !== null ? verdict(() => new Webhook(first).verify(reserialized, svixHeaders)).ok : false,
    // Standard Webhooks, with only the webhook-* headers.
    verified_standard: first ? verdict(() => new standard.Webhook(first).verify(body, webhookHeaders)).ok : false,
    // Which of the configured secrets verify the delivery on their own.
    verified_by: h.secrets.flatMap((s, i) => (verdict(() => new Webhook(s).verify(body, svixHeaders)).ok ? [i] : [])),
    answered: null,
  };
  if (h.received.length < MAX_RECORDS) h.received.push(record);
  if (h.mode === "reset") {
    record.answered = "reset";
    req.socket.destroy();
    return;
  }
  if (h.mode === "hang") {
    record.answered = "hang";
    return;
  }
  const status = h.status ?? (raw.ok ? 200 : 400);
  record.answered = status;
  const text = h.bodyBytes > 0 ? "x".repeat(h.bodyBytes) : raw.ok ? "ok" : `Verification error: ${raw.error}`;
  answer(res, status, text, h.headers);
}

async function control(path, req, res) {
  const parts = path.split("/").filter(Boolean); // ["_control", ...]
  if (parts[1] === "hooks" && parts[2]) {
    const h = hook(decodeURIComponent(parts[2]));
    if (req.method === "GET") return answer(res, 200, h.received);
    if (req.method === "PUT") {
      const cfg = JSON.parse(await readBody(req));
      h.secrets = cfg.secrets ?? h.secrets;
      h.mode = cfg.mode ?? "verify";
      h.status = cfg.status ?? null;
      h.bodyBytes = cfg.body_bytes ?? 0;
      h.headers = cfg.headers ?? {};
      return answer(res, 200, { ok: true });
    }
  }
  if (parts[1] === "clock" && req.method === "PUT") {
    offsetMs = JSON.parse(await readBody(req)).offset_ms;
    return answer(res, 200, { ok: true });
  }
  if (parts[1] === "verify" && req.method === "POST") {
    const { secret, body, headers } = JSON.parse(await readBody(req));
    return answer(res, 200, verdict(() => new Webhook(secret).verify(body, headers)));
  }
  if (parts[1] === "stringify" && req.method === "POST") {
    const text = await readBody(req);
    return answer(res, 200, JSON.stringify(JSON.parse(text)));
  }
  answer(res, 404, { error: `no control ${req.method} ${path}` });
}

const server = createServer((req, res) => {
  const path = new URL(req.url, "http://receiver").pathname;
  const handle = path.startsWith("/_control/")
    ? control(path, req, res)
    : path.startsWith("/hooks/") && req.method === "POST"
      ? delivery(decodeURIComponent(path.slice("/hooks/".length)), req, res)
      : Promise.resolve(answer(res, 404, { error: "not found" }));
  handle.catch((e) => {
    if (!res.headersSent) answer(res, 500, { error: String(e.message) });
  });
});
// Longer than the server's idle connections live, so none is closed under a request being sent.
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
// The test's process holds our stdin: when it goes (even killed), so do we.
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
