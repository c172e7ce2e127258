// examples/nextjs — Clerk's Next.js guide app on Hallpass — built for production (`cargo xtask test`
// runs `next build` when its inputs changed) and started here with `next start`, driven in real
// Chromium against the real server: public pages, the dashboard's redirect and its server-rendered
// name, a Route Handler's 404, Server Actions with ownership and admin checks through the Backend
// API, sign-out, the users table kept in step by the server's webhooks (a real endpoint pointed at the
// example's route, which verifies with svix), and a tab that slept past its token's expiry.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch, signUpUser, uniqueEmail, withActiveOrganization, PASSWORD } from "./harness.mjs";

const server = process.env.HALLPASS_TEST_SERVER;
const secretKey = process.env.HALLPASS_TEST_SECRET_KEY;
const example = process.env.HALLPASS_NEXTJS_EXAMPLE;
let next, origin, browser, data, webhookEndpoint;
const nextLog = [];

/** A Backend API call with the secret key; its JSON answer. */
async function backend(method, path, body) {
  const res = await fetch(`${server}${path}`, {
    method,
    headers: { authorization: `Bearer ${secretKey}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function freePort() {
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** `next start` on the production build, with the configuration an app deploys with. */
async function startNext() {
  data = mkdtempSync(join(tmpdir(), "hallpass-nextjs-"));
  const port = await freePort();
  // The example's webhook route as a real endpoint of the server, for the user events it handles
  // (other suites' sign-ups arrive too: the test looks for its own users only).
  webhookEndpoint = await backend("POST", "/v1/webhook_endpoints", {
    url: `http://127.0.0.1:${port}/api/webhooks`,
    event_types: ["user.created", "user.updated", "user.deleted"],
    description: "examples/nextjs in tests/e2e/nextjs.test.mjs",
  });
  next = spawn(process.execPath, [join(example, "node_modules", "next", "dist", "bin", "next"), "start", "-p", String(port), "-H", "127.0.0.1"], {
    cwd: example,
    env: {
      ...process.env,
      HALLPASS_FRONTEND_API: server,
      HALLPASS_SECRET_KEY: secretKey,
      HALLPASS_SIGN_IN_URL: "/sign-in",
      HALLPASS_WEBHOOK_SIGNING_SECRET: webhookEndpoint.secret,
      DATABASE_FILE: join(data, "app.sqlite"),
      NEXT_TELEMETRY_DISABLED: "1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  next.stdout.on("data", (d) => nextLog.push(String(d)));
  next.stderr.on("data", (d) => nextLog.push(String(d)));
  origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (next.exitCode !== null) throw new Error(`next start exited:\n${nextLog.join("")}`);
    try {
      if ((await fetch(`${origin}/pricing`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`next start did not answer within 60 s:\n${nextLog.join("")}`);
}

before(async () => {
  await startNext();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  if (next && next.exitCode === null) {
    next.kill("SIGTERM");
    await new Promise((resolve) => next.once("exit", resolve));
  }
  if (data) rmSync(data, { recursive: true, force: true });
  if (webhookEndpoint) await backend("DELETE", `/v1/webhook_endpoints/${webhookEndpoint.id}`);
});

/** A new context signed up through the example's sign-up page; ends on the dashboard. */
async function signUp(firstName) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${origin}/sign-up`);
  // The example's <SignUp /> (hallpass/ui's component, through hallpass/nextjs).
  await page.getByLabel("First name").fill(firstName);
  await page.getByLabel("Email address").fill(uniqueEmail(firstName.toLowerCase()));
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Continue" }).click();
  await page.waitForURL(`${origin}/dashboard`);
  await page.locator("#welcome").waitFor();
  const userId = await page.evaluate(async () => {
    // The session cookie the SDK keeps carries the user id (sub) the server-rendered pages use.
    const token = document.cookie.split("; ").find((c) => c.startsWith("__session="))?.slice(10);
    return JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).sub;
  });
  return { context, page, userId };
}

test("public pages open signed out; the dashboard redirects to sign-in; a Route Handler answers 404", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  for (const path of ["/", "/pricing", "/blog"]) {
    const response = await page.goto(`${origin}${path}`);
    assert.equal(response.status(), 200, path);
    assert.equal(new URL(page.url()).pathname, path);
  }
  await page.goto(`${origin}/dashboard`);
  assert.equal(new URL(page.url()).pathname, "/sign-in");
  assert.equal(new URL(page.url()).searchParams.get("redirect_url"), "/dashboard");
  const api = await page.evaluate(async () => (await fetch("/api/me")).status);
  assert.equal(api, 404);
  assert.equal((await fetch(`${origin}/api/me`)).status, 404);
  await context.close();
});

test("signed in, the dashboard is rendered on the server with the user's name (no client fetch)", async () => {
  const { context, page, userId } = await signUp("Ada");
  // A fresh load: the document the server sends already greets the user.
  const response = await page.goto(`${origin}/dashboard`);
  assert.match(await response.text(), /Welcome, <!-- -->Ada<!-- -->!|Welcome, Ada!/);
  const me = await page.evaluate(async () => (await fetch("/api/me")).json());
  assert.equal(me.userId, userId);
  // Signing out: the server-rendered header and pages follow.
  await page.locator(".hp-userButtonTrigger").click();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(`${origin}/`);
  await page.locator('header a[href="/sign-in"]').waitFor();
  await page.goto(`${origin}/dashboard`);
  assert.equal(new URL(page.url()).pathname, "/sign-in");
  await context.close();
});

test("posts: created, listed, deleted — and nobody deletes another user's post", async () => {
  const a = await signUp("Author");
  await a.page.fill('input[name="title"]', "Hello from Author");
  await a.page.click("text=Create post");
  await a.page.locator("#posts li", { hasText: "Hello from Author" }).waitFor();
  const postId = await a.page.getAttribute('#posts li input[name="postId"]', "value");

  const b = await signUp("Mallory");
  await b.page.fill('input[name="title"]', "Mallory's own");
  await b.page.click("text=Create post");
  await b.page.locator("#posts li", { hasText: "Mallory's own" }).waitFor();
  // Mallory points her delete form at Author's post: the Server Action checks ownership.
  await b.page.evaluate((id) => { document.querySelector('#posts li input[name="postId"]').value = id; }, postId);
  await b.page.click("#posts li >> text=Delete");
  await a.page.reload();
  assert.equal(await a.page.locator("#posts li", { hasText: "Hello from Author" }).count(), 1, "Author's post survives");

  await a.page.click("#posts li >> text=Delete");
  await a.page.locator("#posts li", { hasText: "Hello from Author" }).waitFor({ state: "detached" });
  await a.context.close();
  await b.context.close();
});

test("a member cannot promote; an admin can, through the Backend API, and the badge appears", async () => {
  const member = await signUp("Member");
  await member.page.fill('input[name="userId"]', member.userId);
  await member.page.click("text=Promote to admin");
  await member.page.locator("text=Only admins can promote users.").waitFor();
  await member.page.reload();
  assert.equal(await member.page.locator("#admin-badge").count(), 0);

  const admin = await signUp("Admin");
  // The first admin is made with the Backend API, as an operator would.
  await backend("PATCH", `/v1/users/${admin.userId}/metadata`, { public_metadata: { role: "admin" } });
  await admin.page.reload();
  await admin.page.locator("#admin-badge").waitFor();
  await admin.page.fill('input[name="userId"]', member.userId);
  await admin.page.click("text=Promote to admin");
  await admin.page.locator(`text=${member.userId} is now an admin.`).waitFor();
  await member.page.reload();
  await member.page.locator("#admin-badge").waitFor();
  await member.context.close();
  await admin.context.close();
});

test("a Route Handler for organization admins: their token passes, a member's and a personal one get 404", async () => {
  const [admin, member] = await Promise.all([signUpUser({ at: server }), signUpUser({ at: server })]);
  const org = await backend("POST", "/v1/organizations", { name: "Acme", created_by: admin.user.id });
  await backend("POST", `/v1/organizations/${org.id}/memberships`, { user_id: member.user.id, role: "org:member" });
  const call = (token) => fetch(`${origin}/api/organization`, { headers: { authorization: `Bearer ${token}` } });
  const asAdmin = await call(await withActiveOrganization(admin, org.id, { at: server }));
  assert.equal(asAdmin.status, 200);
  const body = await asAdmin.json();
  assert.deepEqual([body.orgId, body.orgRole, body.canManageMembers], [org.id, "org:admin", true]);
  assert.ok(body.orgPermissions.includes("org:sys_profile:manage"));
  assert.equal((await call(await withActiveOrganization(member, org.id, { at: server }))).status, 404);
  assert.equal((await call(admin.jwt)).status, 404, "no active organization");
  assert.equal((await fetch(`${origin}/api/organization`)).status, 404, "signed out");
});

/** The row of `userId` in the example's users page, once `expect(row)` holds (bounded: 30 s). */
async function usersTableUntil(page, userId, expect, what) {
  const deadline = Date.now() + 30_000;
  let text = null;
  for (let i = 0; i < 200 && Date.now() < deadline; i++) {
    await page.goto(`${origin}/dashboard/users`);
    const row = page.locator(`#users tr[data-user-id="${userId}"]`);
    text = (await row.count()) === 0 ? null : await row.textContent();
    if (expect(text)) return text;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const deliveries = await backend("GET", `/v1/webhook_endpoints/${webhookEndpoint.id}/attempts?limit=5`);
  throw new Error(`users table: ${what} for ${userId} never came (row: ${text}); last attempts: ${JSON.stringify(deliveries.data)}\n${nextLog.join("").slice(-2000)}`);
}

test("the users table follows the server's webhooks: sign-up adds the row, updates change it, deletion removes it", async () => {
  const viewer = await signUp("Viewer");
  const subject = await signUp("Subject");
  // user.created, through the server's delivery to the example's route (verified with svix).
  assert.match(await usersTableUntil(viewer.page, subject.userId, (row) => row !== null, "user.created"), /Subject/);
  // user.updated, from the Backend API.
  await backend("PATCH", `/v1/users/${subject.userId}`, { first_name: "Renamed", last_name: "Subject" });
  await usersTableUntil(viewer.page, subject.userId, (row) => row?.includes("Renamed Subject"), "user.updated");
  // user.deleted.
  await backend("DELETE", `/v1/users/${subject.userId}`);
  await usersTableUntil(viewer.page, subject.userId, (row) => row === null, "user.deleted");
  const attempts = await backend("GET", `/v1/webhook_endpoints/${webhookEndpoint.id}/attempts?limit=100`);
  assert.ok(attempts.data.length > 0 && attempts.data.every((a) => a.succeeded), "the route accepted every delivery");

  // A delivery that is not signed with the endpoint's secret changes nothing.
  const forged = JSON.stringify({ object: "event", type: "user.deleted", data: { id: viewer.userId, object: "user", deleted: true }, timestamp: Date.now(), instance_id: "ins_x" });
  const headers = { "content-type": "application/json", "svix-id": "evt_forged", "svix-timestamp": String(Math.floor(Date.now() / 1000)), "svix-signature": `v1,${Buffer.alloc(32).toString("base64")}` };
  assert.equal((await fetch(`${origin}/api/webhooks`, { method: "POST", headers, body: forged })).status, 400);
  assert.equal((await fetch(`${origin}/api/webhooks`, { method: "POST", body: forged })).status, 400);
  assert.notEqual(await usersTableUntil(viewer.page, viewer.userId, (row) => row !== null, "the viewer's row"), null);
  await viewer.context.close();
  await subject.context.close();
});

test("a tab that slept past the token's expiry gets its page, without a sign-in prompt", async () => {
  const { context, page } = await signUp("Sleeper");
  const token = (await context.cookies()).find((c) => c.name === "__session").value;
  const { exp } = JSON.parse(Buffer.from(token.split(".")[1], "base64url"));
  await page.close(); // nothing runs to refresh the token from here on
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, exp * 1000 + 1000 - Date.now())));
  assert.equal((await context.cookies()).find((c) => c.name === "__session"), undefined, "the browser dropped the expired cookie");

  const tab = await context.newPage();
  const visited = [];
  tab.on("framenavigated", (frame) => frame === tab.mainFrame() && visited.push(new URL(frame.url()).pathname));
  const statuses = [];
  tab.on("response", (r) => new URL(r.url()).pathname === "/dashboard" && statuses.push(r.headers()["x-hallpass-auth-status"] ?? String(r.status())));
  await tab.goto(`${origin}/dashboard`);
  await tab.locator("#welcome").waitFor();
  assert.equal(await tab.textContent("#welcome"), "Welcome, Sleeper!");
  assert.ok(!visited.includes("/sign-in"), `never on the sign-in page: ${visited.join(" → ")}`);
  assert.deepEqual(statuses, ["handshake", "200"]);
  await context.close();
});
