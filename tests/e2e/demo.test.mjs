// The demo app (`www/`) as `cargo xtask demo` runs it: hallpass-server serving the app, the npm package
// (pkg/npm) and the API on one origin, driven in headless Chromium like a person would — through the
// drop-in components of hallpass/ui where the demo uses them (sign-in, user button, organization
// switcher), and the email page with the codes and links read from its development mailbox.
// Screenshots of the sign-in page, the dashboard and the email page land in target/e2e-output/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch, uniqueEmail, PASSWORD } from "./harness.mjs";

const repo = process.env.HALLPASS_REPO;
const output = join(repo, "target", "e2e-output");
let server, origin, secretKey, browser;

/** hallpass-server (the debug build the suites already made) with `--demo-dir`, on a free port. */
async function startDemoServer() {
  const dir = mkdtempSync(join(tmpdir(), "hallpass-demo-"));
  const ready = join(dir, "ready.json");
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("HALLPASS_")));
  const child = spawn(join(repo, "target", "debug", "hallpass-server"), [
    "--addr", "127.0.0.1:0", "--database-url", `sqlite://${join(dir, "demo.db")}?mode=rwc`, "--ready-file", ready,
    "--demo-dir", join(repo, "www"), "--demo-package-dir", join(repo, "pkg", "npm"),
    "--disable-rate-limits", "--argon2-memory-kib", "1024", "--argon2-iterations", "1",
    "--webhooks-allow-private-networks",
  ], { env, stdio: ["ignore", "ignore", "inherit"] });
  for (let i = 0; i < 600 && !existsSync(ready); i++) await new Promise((r) => setTimeout(r, 50));
  if (!existsSync(ready)) throw new Error("the demo server did not start");
  const info = JSON.parse(readFileSync(ready, "utf8"));
  return { child, origin: info.frontend_api, secretKey: info.secret_key };
}

function stopDemoServer() {
  if (!server || server.exitCode !== null) return Promise.resolve();
  const exited = new Promise((resolve) => server.once("exit", resolve));
  server.kill("SIGTERM");
  return exited;
}

before(async () => {
  mkdirSync(output, { recursive: true });
  ({ child: server, origin, secretKey } = await startDemoServer());
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await stopDemoServer();
});

async function demoPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(e));
  await page.goto(`${origin}/`);
  await page.locator("#signed-out").waitFor();
  // hallpass/ui's sign-in form, once it has the server's settings.
  await page.locator("hallpass-sign-in .hp-formButtonPrimary").waitFor();
  return page;
}

async function callApi(page) {
  await page.click("#call-api");
  await page.locator("#api-result").waitFor();
  await page.waitForFunction(() => !document.querySelector("#call-api").disabled);
  return { status: await page.textContent("#api-status"), body: await page.textContent("#api-body") };
}

/** The sign-in component, switched to `view` ("Create your account" or "Sign in to …") when it is not there. */
async function authView(page, signUp) {
  const form = page.locator("hallpass-sign-in");
  const title = await form.locator(".hp-headerTitle").textContent();
  if ((title === "Create your account") !== signUp) await form.locator(".hp-footerActionLink").click();
  return form;
}

async function signUp(page, { email, password = PASSWORD, first = "Ada", last = "Lovelace" }) {
  const form = await authView(page, true);
  await form.getByLabel("First name").fill(first);
  await form.getByLabel("Last name").fill(last);
  await form.getByLabel("Email address").fill(email);
  await form.getByLabel("Password", { exact: true }).fill(password);
  await form.getByRole("button", { name: "Continue" }).click();
}

async function signIn(page, email, password) {
  const form = await authView(page, false);
  await form.getByLabel("Email address").fill(email);
  await form.getByLabel("Password", { exact: true }).fill(password);
  await form.getByRole("button", { name: "Continue" }).click();
}

/** Sign out from hallpass/ui's user button in the top bar. */
async function signOut(page) {
  await page.click(".hp-userButtonTrigger");
  await page.getByRole("button", { name: "Sign out" }).click();
}

/** The error the sign-in component shows on the field `name`, once there is one. */
async function fieldError(page, name) {
  const error = page.locator(`hallpass-sign-in [data-field="${name}"] .hp-formFieldErrorText`);
  await page.waitForFunction((n) => document.querySelector(`hallpass-sign-in [data-field="${n}"] .hp-formFieldErrorText`)?.textContent,
    name, { timeout: 15000 });
  return error.textContent();
}

/** Opens the organization switcher and picks the row that starts with `name`. */
async function switchTo(page, name) {
  await page.click(".hp-organizationSwitcherTrigger");
  const row = page.locator(".hp-organizationSwitcherPreviewButton", { has: page.locator(".hp-organizationPreviewMainIdentifier", { hasText: name }) });
  await row.first().waitFor({ timeout: 15000 });
  await row.first().click();
}

test("sign up, dashboard, protected call, reload, sign out, protected call 401", async () => {
  const page = await demoPage();
  assert.equal(await page.textContent("#status-text"), "Signed out");
  await page.screenshot({ path: join(output, "demo-sign-in.png"), fullPage: true });

  const email = uniqueEmail("demo");
  await signUp(page, { email });
  await page.locator("#signed-in").waitFor();
  assert.equal(await page.textContent("#user-name"), "Ada Lovelace");
  assert.equal(await page.textContent("#avatar"), "AL");
  assert.equal(await page.textContent("#user-email"), email);
  assert.equal(await page.textContent("#status-text"), `Signed in as ${email}`);
  const userId = await page.textContent("#user-id");
  assert.match(userId, /^user_/);

  // The token inspector: decoded claims, a ticking countdown, and a refresh on demand.
  await page.waitForFunction(() => /^\d+ s$/.test(document.querySelector("#token-ttl").textContent));
  const claims = await page.textContent("#token-claims");
  assert.ok(claims.includes(userId), "the decoded claims show the user id (sub)");
  assert.ok(claims.includes("RS256"));
  const ttl1 = parseInt(await page.textContent("#token-ttl"), 10);
  assert.ok(ttl1 > 40 && ttl1 <= 60, `a fresh 60 s token (${ttl1} s left)`);
  await page.waitForFunction((t) => parseInt(document.querySelector("#token-ttl").textContent, 10) < t, ttl1,
    { timeout: 5000 });
  const raw1 = await page.textContent("#token-raw");
  await page.click("#refresh-token");
  await page.waitForFunction(() => document.querySelector("#token-refreshes").textContent === "1");
  assert.notEqual(await page.textContent("#token-raw"), raw1, "a new token after Refresh now");

  const ok = await callApi(page);
  assert.equal(ok.status, "200 OK");
  assert.equal(JSON.parse(ok.body).user_id, userId);
  await page.screenshot({ path: join(output, "demo-dashboard.png"), fullPage: true });

  await page.reload();
  await page.locator("#signed-in").waitFor();
  assert.equal(await page.textContent("#user-name"), "Ada Lovelace", "still signed in after a reload");
  assert.equal((await callApi(page)).status, "200 OK");

  await signOut(page);
  await page.locator("#signed-out").waitFor();
  assert.equal(await page.isVisible("#banner"), false, "signing out is not an error");
  assert.equal(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("hallpass:")).length), 0);
  const denied = await callApi(page);
  assert.match(denied.status, /^401/);
  assert.equal(JSON.parse(denied.body).errors[0].code, "authentication_invalid");
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("the demo's backend shows the webhooks it received about the user, signatures verified", async () => {
  const page = await demoPage();
  const email = uniqueEmail("demo-webhooks");
  await signUp(page, { email, first: "Grace", last: "Hopper" });
  await page.locator("#signed-in").waitFor();
  await page.locator("#webhooks").waitFor();
  await page.waitForFunction(() => document.querySelectorAll("#webhooks-list li").length >= 2, null, { timeout: 15000 });
  const rows = await page.$$eval("#webhooks-list li", (lis) => lis.map((li) => li.textContent));
  assert.ok(rows.some((r) => r.includes("user.created") && r.includes("Grace Hopper") && r.includes(email)), rows.join("\n"));
  assert.ok(rows.some((r) => r.includes("session.created")), rows.join("\n"));
  assert.ok(rows.every((r) => r.includes("signature verified") && /evt_\w+/.test(r)), rows.join("\n"));
  await page.screenshot({ path: join(output, "demo-webhooks.png"), fullPage: true });

  // The endpoint is the demo's own, set up by the server; its deliveries are in the Backend API.
  const list = await (await fetch(`${origin}/v1/webhook_endpoints`, { headers: { authorization: `Bearer ${secretKey}` } })).json();
  assert.equal(list.data.length, 1);
  assert.ok(list.data[0].url.endsWith("/demo/api/webhooks"));
  assert.equal(list.data[0].secret, undefined, "the secret is never listed");
  // Without a valid signature the demo's backend refuses a delivery.
  const forged = await fetch(`${origin}/demo/api/webhooks`, {
    method: "POST", headers: { "content-type": "application/json", "svix-id": "evt_forged",
      "svix-timestamp": String(Math.floor(Date.now() / 1000)), "svix-signature": "v1,AAAA" },
    body: JSON.stringify({ type: "user.deleted", data: { id: "user_x" } }),
  });
  assert.equal(forged.status, 400);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("wrong password, weak password and a taken email show clear errors", async () => {
  const page = await demoPage();
  const email = uniqueEmail("demo-errors");
  await signUp(page, { email, password: "short" });
  assert.equal(await fieldError(page, "password"), "Your password must contain 8 or more characters.");

  await signUp(page, { email });
  await page.locator("#signed-in").waitFor();
  await signOut(page);
  await page.locator("#signed-out").waitFor();

  // The demo's own words for a wrong password (a localization override), on the password field.
  await signIn(page, email, "not the password");
  assert.equal(await fieldError(page, "password"), "Wrong email or password. Check both and try again.");
  assert.equal(await page.isVisible("#signed-in"), false);

  await signUp(page, { email });
  assert.equal(await fieldError(page, "emailAddress"), "That email address is taken. Please try another.");
  await page.screenshot({ path: join(output, "demo-error.png") });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("a session revoked by the backend signs the page out with a message", async () => {
  const page = await demoPage();
  await signUp(page, { email: uniqueEmail("demo-revoked") });
  await page.locator("#signed-in").waitFor();
  const sessionId = await page.textContent("#session-id");
  const res = await fetch(`${origin}/v1/sessions/${sessionId}/revoke`, {
    method: "POST", headers: { authorization: `Bearer ${secretKey}` },
  });
  assert.equal(res.status, 200);
  await page.click("#refresh-token"); // the next refresh hears `session_revoked`
  await page.locator("#signed-out").waitFor();
  assert.match(await page.textContent("#banner"), /You were signed out/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("organizations in the demo: create and switch, invite, the invitee accepts, roles, the backend sees org and role", async () => {
  const owner = await demoPage();
  await signUp(owner, { email: uniqueEmail("demo-owner") });
  await owner.locator("#orgs").waitFor();
  await owner.click(".hp-organizationSwitcherTrigger");
  await owner.getByRole("button", { name: "Create organization" }).click();
  await owner.getByLabel("Name", { exact: true }).fill("Demo Works");
  await owner.getByRole("button", { name: "Create organization" }).click();
  await owner.waitForFunction(() => document.querySelector("#org-active-name")?.textContent === "Demo Works"
    && document.querySelector("#org-members-list").textContent.includes("(you)"), null, { timeout: 15000 });
  assert.equal(await owner.textContent("#org-role"), "org:admin");
  assert.match(await owner.textContent("#org-members-list"), /\(you\)/);
  // The protected endpoint reads the organization and role from the verified token.
  const who = JSON.parse((await callApi(owner)).body);
  assert.equal(who.org_role, "org:admin");
  assert.equal(who.org_slug, "demo-works");
  assert.match(who.org_id, /^org_/);

  const guestEmail = uniqueEmail("demo-guest");
  await owner.fill("#org-invite-email", guestEmail);
  await owner.click("#org-invite button[type=submit]");
  await owner.waitForFunction((e) => document.querySelector("#org-sent-list").textContent.includes(e), guestEmail, { timeout: 15000 });

  const guest = await demoPage();
  await signUp(guest, { email: guestEmail, first: "Grace", last: "Hopper" });
  await guest.waitForFunction(() => document.querySelector("#org-invitations-list").textContent.includes("Demo Works"), null, { timeout: 15000 });
  await guest.click("#org-invitations-list button:text('Accept')");
  await guest.waitForFunction(() => !document.querySelector("#org-invitations-list").textContent.includes("Demo Works"), null, { timeout: 15000 });
  await switchTo(guest, "Demo Works");
  await guest.waitForFunction(() => document.querySelector("#org-role")?.textContent === "org:member", null, { timeout: 15000 });
  assert.equal(JSON.parse((await callApi(guest)).body).org_role, "org:member");

  // The owner makes the guest an admin from the members list.
  await owner.click("#org-refresh");
  await owner.waitForFunction((e) => document.querySelector("#org-members-list").textContent.includes(e), guestEmail, { timeout: 15000 });
  await owner.selectOption(`#org-members-list select[aria-label="Role of ${guestEmail}"]`, "org:admin");
  await owner.waitForFunction((e) => document.querySelector(`#org-members-list select[aria-label="Role of ${e}"]`)?.value === "org:admin"
    && !document.querySelector(`#org-members-list select[aria-label="Role of ${e}"]`).disabled, guestEmail, { timeout: 15000 });
  await owner.screenshot({ path: join(output, "demo-organizations.png"), fullPage: true });
  // Back to the personal account: the backend sees no organization.
  await switchTo(owner, "Personal account");
  await owner.waitForFunction(() => document.querySelector("#org-members").hidden, null, { timeout: 15000 });
  assert.equal(JSON.parse((await callApi(owner)).body).org_id, null);
  assert.deepEqual([...owner.errors, ...guest.errors], []);
  await owner.context().close();
  await guest.context().close();
});

/** The 6-digit codes the email page's mailbox shows (subjects start with them), newest first. */
const mailboxCodes = (page) =>
  page.evaluate(() =>
    [...document.querySelectorAll("#mail-list li .who")].map((e) => /· (\d{6})\b/.exec(e.textContent)?.[1]).filter(Boolean));

/** Waits up to 15 s (the mailbox follows every 3 s) for a code in the mailbox that `seen` lacks. */
async function newCodeInMailbox(page, seen = []) {
  await page.waitForFunction(
    (seen) => [...document.querySelectorAll("#mail-list li .who")].some((e) => {
      const code = /· (\d{6})\b/.exec(e.textContent)?.[1];
      return code && !seen.includes(code);
    }),
    seen,
    { timeout: 15000 },
  );
  return (await mailboxCodes(page)).find((c) => !seen.includes(c));
}

test("the email page: a passwordless sign-up by a code read from the demo's mailbox, a second address, a sign-in by a link opened from the mailbox", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1100 } });
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(e));
  await page.goto(`${origin}/demo/email.html`);
  await page.locator("#status[data-state=signed-out]").waitFor();
  // What the instance offers, as the page read it from GET /v1/environment (the server's flags).
  await page.locator("#env-factors", { hasText: "email_code" }).waitFor();
  assert.equal(await page.textContent("#env-verify"), "it does not");

  // Sign-up without a password: the address is verified by the code the mailbox shows.
  const email = uniqueEmail("demo-email");
  const up = page.locator("#up-form");
  await up.locator("[name=email]").fill(email);
  await up.locator("button[type=submit]").click();
  await page.locator("#up-state", { hasText: `A 6-digit code is on its way to ${email}` }).waitFor();
  assert.equal(await page.inputValue("#mail-form [name=to]"), email, "the mailbox follows the address");
  const code = await newCodeInMailbox(page);
  const wrong = code === "000000" ? "111111" : "000000";
  await page.fill("#up-code [name=code]", wrong);
  await page.click("#up-code button[type=submit]");
  await page.locator("#up-state", { hasText: "That code is not right: 4 tries left." }).waitFor();
  await page.fill("#up-code [name=code]", code);
  await page.click("#up-code button[type=submit]");
  await page.locator("#up-state", { hasText: "Signed in (session sess_" }).waitFor();
  await page.locator("#status[data-state=signed-in]").waitFor();
  assert.equal(await page.textContent("#status-text"), `Signed in as ${email}`);
  assert.equal(await page.isVisible("#up-code"), false);
  await page.locator("#addr-list li", { hasText: `${email} (primary) — verified` }).waitFor();

  // A second address on the profile, verified by its own code.
  const second = uniqueEmail("demo-email-2");
  await page.fill("#addr-add [name=email]", second);
  await page.click("#addr-add button[type=submit]");
  await page.locator("#addr-state", { hasText: `A code is on its way to ${second}` }).waitFor();
  const secondCode = await newCodeInMailbox(page, [code]);
  await page.fill("#addr-code [name=code]", secondCode);
  await page.click("#addr-code button[type=submit]");
  await page.locator("#addr-state", { hasText: `${second} is yours now.` }).waitFor();
  await page.locator("#addr-list li", { hasText: `${second} — verified` }).waitFor();
  await page.screenshot({ path: join(output, "demo-email.png"), fullPage: true });

  // Signed out, then in by a link: opened from the mailbox in another tab, this tab signs in.
  await page.click("#sign-out");
  await page.locator("#status[data-state=signed-out]").waitFor();
  const signIn = page.locator("#in-form");
  await signIn.locator("[name=email]").fill(email);
  await signIn.locator("[name=strategy]").selectOption("email_link");
  await signIn.locator("button[type=submit]").click();
  await page.locator("#in-state", { hasText: `A link is on its way to ${email}` }).waitFor();
  const open = page.locator("#mail-list a", { hasText: "Open the link" });
  await open.waitFor({ timeout: 15000 });
  const href = await open.getAttribute("href");
  assert.ok(href.startsWith(`${origin}/v1/verify?token=`), href);
  const [linkTab] = await Promise.all([context.waitForEvent("page"), open.click()]);
  linkTab.errors = [];
  linkTab.on("pageerror", (e) => linkTab.errors.push(e));
  await linkTab.locator("button").waitFor();
  await Promise.all([linkTab.waitForURL(/email\.html\?.*hallpass_status=verified/), linkTab.click("button")]);
  await linkTab.locator("#in-state", { hasText: "The link worked" }).waitFor();
  await page.locator("#in-state", { hasText: "Signed in (session sess_" }).waitFor({ timeout: 15000 });
  assert.equal(await page.textContent("#status-text"), `Signed in as ${email}`);
  assert.equal(await page.isVisible("#cancel-link"), false);
  assert.deepEqual([...page.errors, ...linkTab.errors], []);
  await context.close();
});

test("with the server down, signing in says so", async () => {
  const page = await demoPage();
  await stopDemoServer();
  await signIn(page, uniqueEmail("demo-down"), PASSWORD);
  await page.waitForFunction(() => document.querySelector("hallpass-sign-in .hp-alert").textContent !== "", null, { timeout: 15000 });
  assert.match(await page.textContent("hallpass-sign-in .hp-alert"), /Can't reach the Hallpass server/);
  await page.context().close();
});
