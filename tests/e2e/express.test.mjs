// `hallpass/express` in a real Express 5 app on loopback, called with tokens of the real server: the
// protect/has matrix of hallpass-backend's axum suite through real HTTP, `req.auth` in its two
// shapes, the sign-in redirect of page requests, the default client from the environment, and the
// session-cookie handshake through Express in Chromium.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { api, appImport, launch, signUpUser, uniqueEmail, withActiveOrganization, PASSWORD } from "./harness.mjs";

const issuer = process.env.HALLPASS_TEST_SERVER;
let hallpass, express, site, browser;

/** The app: Clerk's Express quick start, with Hallpass's names. */
async function startApp() {
  const app = express();
  app.use(hallpass.hallpassMiddleware({ frontendApi: api, issuer, signInUrl: "/sign-in" }));
  app.get("/", (req, res) => res.send(`home, signed in: ${req.auth.isAuthenticated}`));
  app.get("/pricing", (req, res) => res.send("pricing"));
  app.get("/sign-in", (req, res) => res.type("html").send(`<!doctype html><link rel="icon" href="data:,">
<script type="module">
  import { Hallpass } from "/__hallpass/index.js";
  window.hp = await Hallpass.load({ frontendApi: ${JSON.stringify(api)}, sessionCookie: true });
  window.ready = true;
</script>`));
  app.get("/api/me", hallpass.requireAuth(), (req, res) => res.send(req.auth().userId));
  app.get("/dashboard", hallpass.requireAuth(), (req, res) => res.type("html").send(`<p id="who">${hallpass.getAuth(req).userId}</p>`));
  app.get("/api/admin", hallpass.protect({ role: "org:admin" }), (req, res) => res.send("admin"));
  app.get("/api/members", hallpass.protect({ permission: "org:sys_memberships:manage" }), (req, res) => res.send("members"));
  app.get("/api/has", (req, res) => res.json({ has: req.auth.has(Object.fromEntries(Object.entries(req.query))) }));
  app.get("/api/client", hallpass.requireAuth(), async (req, res) => {
    const user = await hallpass.hallpassClient.users.getUser(req.auth.userId);
    res.json({ firstName: user.firstName });
  });
  return new Promise((resolve) => {
    const http = app.listen(0, "127.0.0.1", () => resolve({ http, origin: `http://127.0.0.1:${http.address().port}` }));
  });
}

before(async () => {
  hallpass = await appImport("hallpass/express");
  express = (await appImport("express")).default;
  // The default client reads these on first use.
  process.env.HALLPASS_SECRET_KEY = process.env.HALLPASS_TEST_SECRET_KEY;
  process.env.HALLPASS_FRONTEND_API = api;
  site = await startApp();
});

after(async () => {
  await browser?.close();
  site?.http.close();
});

/** `GET path` with the token as Bearer (or as the session cookie, as a page request). */
async function get(path, token, { cookie = false } = {}) {
  const headers = {};
  if (token && cookie) Object.assign(headers, { cookie: `__session=${token}`, "sec-fetch-dest": "document", accept: "text/html" });
  else if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${site.origin}${path}`, { headers, redirect: "manual" });
  return { status: res.status, body: await res.text(), location: res.headers.get("location") };
}

test("the protect and has matrix through real HTTP", async () => {
  const [user, admin, member] = await Promise.all([signUpUser({ firstName: "Express" }), signUpUser(), signUpUser()]);
  const client = hallpass.hallpassClient;
  const org = await client.organizations.createOrganization({ name: "Acme", createdBy: admin.user.id });
  await client.organizations.createOrganizationMembership({ organizationId: org.id, userId: member.user.id, role: "org:member" });
  const [adminToken, memberToken] = await Promise.all([withActiveOrganization(admin, org.id), withActiveOrganization(member, org.id)]);
  // (path, signed out, signed in without an organization, org member, org admin), as hallpass-backend's
  // axum suite.
  const matrix = [
    ["/", 200, 200, 200, 200],
    ["/pricing", 200, 200, 200, 200],
    ["/sign-in/factor-one", 404, 404, 404, 404],
    ["/api/me", 401, 200, 200, 200],
    ["/api/admin", 401, 404, 404, 200],
    ["/api/members", 401, 404, 404, 200],
    ["/dashboard", 401, 200, 200, 200],
  ];
  for (const [path, out, signedIn, asMember, asAdmin] of matrix) {
    assert.equal((await get(path)).status, out, `signed out ${path}`);
    assert.equal((await get(path, user.jwt)).status, signedIn, `Bearer ${path}`);
    assert.equal((await get(path, memberToken)).status, asMember, `member ${path}`);
    assert.equal((await get(path, adminToken, { cookie: true })).status, asAdmin, `admin ${path}`);
  }
  assert.equal((await get("/api/me", user.jwt)).body, user.user.id);
  assert.equal((await get("/", user.jwt, { cookie: true })).body, "home, signed in: true");
  const refused = JSON.parse((await get("/api/me", "not.a.token")).body);
  assert.equal(refused.errors[0].code, "authentication_invalid");
  const notFound = JSON.parse((await get("/api/admin", user.jwt)).body);
  assert.equal(notFound.errors[0].code, "resource_not_found");
  // (query, no organization, member, admin)
  const checks = [
    ["role=org:admin", false, false, true],
    ["role=admin", false, false, true],
    ["role=org:member", false, true, false],
    ["permission=org:sys_memberships:manage", false, false, true],
    ["permission=org:sys_memberships:read", false, true, true],
    ["role=org:admin&permission=org:sys_profile:delete", false, false, true],
    ["feature=sys_memberships", false, true, true],
    ["feature=u:sys_memberships", false, false, false],
    ["", false, false, false],
  ];
  const has = async (query, token) => JSON.parse((await get(`/api/has?${query}`, token)).body).has;
  for (const [query, plain, asMember, asAdmin] of checks) {
    assert.equal(await has(query), false, `signed out ${query}`);
    assert.equal(await has(query, user.jwt), plain, `no organization ${query}`);
    assert.equal(await has(query, memberToken), asMember, `member ${query}`);
    assert.equal(await has(query, adminToken), asAdmin, `admin ${query}`);
  }
});

test("a signed-out page request is sent to the sign-in URL, coming back to where it was", async () => {
  const page = await fetch(`${site.origin}/dashboard?tab=2`, { headers: { "sec-fetch-dest": "document", accept: "text/html" }, redirect: "manual" });
  assert.equal(page.status, 307);
  assert.equal(page.headers.get("location"), `/sign-in?redirect_url=${encodeURIComponent("/dashboard?tab=2")}`);
});

test("only page loads (GET) get the handshake: a form post from a signed-in browser without its cookie goes on signed out", async () => {
  const headers = { cookie: "__client_uat=1700000000", "sec-fetch-dest": "document", accept: "text/html" };
  const load = await fetch(`${site.origin}/dashboard`, { headers, redirect: "manual" });
  assert.equal(load.headers.get("x-hallpass-auth-status"), "handshake");
  const post = await fetch(`${site.origin}/dashboard`, { method: "POST", headers, redirect: "manual" });
  assert.equal(post.headers.get("x-hallpass-auth-status"), null);
  assert.equal(post.status, 404, "no POST route: the request went on, signed out");
});

test("req.auth is the auth object and a function returning it; the default client reads the environment", async () => {
  const user = await signUpUser({ firstName: "Env" });
  assert.equal((await get("/api/me", user.jwt)).body, user.user.id);
  assert.deepEqual(JSON.parse((await get("/api/client", user.jwt)).body), { firstName: "Env" });
});

test("an expired cookie on a page request gets the handshake through Express, and the page after it", async () => {
  browser = await launch();
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${site.origin}/sign-in`);
  await page.waitForFunction(() => window.ready === true);
  await page.evaluate(({ email, password }) => window.hp.signUp({ emailAddress: email, password }), { email: uniqueEmail("express"), password: PASSWORD });
  const userId = await page.evaluate(() => window.hp.useAuth().userId);
  await page.close();
  await context.clearCookies({ name: "__session" });
  const tab = await context.newPage();
  const statuses = [];
  tab.on("response", (r) => r.url().endsWith("/dashboard") && statuses.push(r.headers()["x-hallpass-auth-status"] ?? r.status()));
  await tab.goto(`${site.origin}/dashboard`);
  await tab.locator("#who").waitFor();
  assert.equal(await tab.textContent("#who"), userId);
  assert.deepEqual(statuses, ["handshake", 200]);
  await context.close();
});
