// Shared by the Playwright suites: Debian's Chromium through playwright-core (never a downloaded
// browser), a static file server for the repository (pkg/, www/, fixtures), and the test proxy's
// control endpoints. `cargo xtask test` sets the environment.
import { before, after } from "node:test";
import { createRequire } from "node:module";
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { join, normalize, extname } from "node:path";
import { pathToFileURL } from "node:url";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the end-to-end suites with \`cargo xtask test\``);
  return value;
};

export const api = env("HALLPASS_TEST_FRONTEND_API");
const root = env("HALLPASS_REPO");
const require = createRequire(join(env("HALLPASS_TOOLS"), "noop.js"));
const { chromium } = require("playwright-core");

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript",
  ".wasm": "application/wasm", ".json": "application/json", ".css": "text/css" };

/** Serves the repository read-only on a free loopback port; returns its origin and a close function. */
export async function serveRepo() {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
    if (path.includes("..")) { res.writeHead(400).end(); return; }
    try {
      const body = await readFile(join(root, path));
      res.writeHead(200, { "content-type": TYPES[extname(path)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

export async function launch(extraArgs = []) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--no-first-run", "--disable-gpu", "--disable-quic", ...extraArgs],
  });
}

/**
 * The repository's site and one browser for the whole suite that calls this (node:test `before` /
 * `after`): `suite.site` and `suite.browser` are set once the suite starts.
 */
export function suiteBrowser(extraArgs = []) {
  const suite = {};
  before(async () => {
    suite.site = await serveRepo();
    suite.browser = await launch(extraArgs);
  });
  after(async () => {
    await suite.browser?.close();
    suite.site?.close();
  });
  return suite;
}

/** The Frontend API of the second server, whose session tokens live 10 s (the many-tabs suites). */
export const api10s = env("HALLPASS_TEST_FRONTEND_API_10S");

/** Sends a command to the test proxy in front of `at` (default: the 5 s-token server). */
export async function control(command, at = api) {
  const method = command.startsWith("counts") ? "GET" : "POST";
  const res = await fetch(`${at}/__control/${command}`, { method });
  if (!res.ok) throw new Error(`control ${command}: ${res.status}`);
  return res.json();
}

/** Refresh requests the proxy in front of `at` has passed since its last reset. */
export const refreshCount = async (at = api) => (await control("counts", at))["POST /v1/client/refresh"] ?? 0;

export const uniqueEmail = (tag) => `${tag}-${Date.now()}-${Math.floor(Math.random() * 1e9)}@example.com`;
export const PASSWORD = "correct horse battery staple";

/**
 * A module of the packed `hallpass` package as an app that installed it imports it (`hallpass/server`,
 * …), from the app folder `cargo xtask test` prepares; also the tools linked into that app.
 */
export async function appImport(specifier) {
  const appRequire = createRequire(join(env("HALLPASS_E2E_APP"), "noop.js"));
  return import(pathToFileURL(appRequire.resolve(specifier)).href);
}

/** A module file of the installed package by path (`server/claims.js`), for unit tests of its parts. */
export async function packageFile(path) {
  return import(pathToFileURL(join(env("HALLPASS_E2E_APP"), "node_modules", "hallpass", path)).href);
}

/**
 * The session token of `user` (a `signUpUser` answer) with the organization `organizationId` (or
 * `null`: the personal account) made active, as the SDK's `setActive({ organization })` does.
 */
export async function withActiveOrganization(user, organizationId, { origin = "http://localhost:3000", at = api } = {}) {
  const res = await fetch(`${at}/v1/client/sessions/${user.session.id}/touch`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${user.jwt}`, origin },
    body: JSON.stringify({ active_organization_id: organizationId }),
  });
  if (!res.ok) throw new Error(`touch: ${res.status} ${await res.text()}`);
  return (await res.json()).jwt;
}

/**
 * A new user signed up through the Frontend API from a page of `origin` (as the SDK would): the
 * answer's `{ user, session, jwt, refresh_token, … }`.
 */
export async function signUpUser({ origin = "http://localhost:3000", firstName, at = api } = {}) {
  const body = { email_address: uniqueEmail("server"), password: PASSWORD };
  if (firstName !== undefined) body.first_name = firstName;
  const res = await fetch(`${at}/v1/client/sign_ups`, {
    method: "POST",
    headers: { "content-type": "application/json", origin },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`sign-up: ${res.status} ${await res.text()}`);
  return res.json();
}

/**
 * The newest email the suites' server (`HALLPASS_TEST_SERVER`) kept for `to` in its development
 * mailbox, as the Backend API lists it (secret key): its `data` (`otp_code`, `magic_link`). An email
 * is written with the request that sends it, so after that request the newest is its. Waits up to 10 s.
 */
export async function mailbox(to) {
  const url = `${env("HALLPASS_TEST_SERVER")}/v1/emails?to=${encodeURIComponent(to)}`;
  const headers = { authorization: `Bearer ${env("HALLPASS_TEST_SECRET_KEY")}` };
  for (let i = 0; i < 100; i++) {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
    const data = (await res.json()).data?.[0]?.data;
    if (data) return data;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no email to ${to} in the development mailbox`);
}

/** The code of the newest email to `to` ({@link mailbox}). */
export const mailboxCode = async (to) => (await mailbox(to)).otp_code;
