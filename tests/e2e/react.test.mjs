// hallpass/react in real Chromium: a page bundled with esbuild from the package in pkg/npm and React 19
// from npm, under StrictMode. The hooks re-render on sign-in and sign-out, <SignedIn>/<SignedOut> and
// <Protect> show and hide their content, the double mount makes one client, and the drop-in
// components (<SignUp>, <UserButton>, <OrganizationSwitcher>) work with the provider's appearance. To run it against
// another React (e.g. 18), point HALLPASS_REACT_MODULES at a node_modules folder holding react and
// react-dom: `HALLPASS_REACT_MODULES=/tmp/r18/node_modules HALLPASS_E2E=react cargo xtask test browser`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { api, mailboxCode, serveRepo, launch, uniqueEmail, PASSWORD } from "./harness.mjs";

const repo = process.env.HALLPASS_REPO;
const tools = process.env.HALLPASS_TOOLS;
const out = join(repo, "target", "tmp", "react-page");
let site, browser;

before(async () => {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const esbuild = createRequire(join(tools, "noop.js"))("esbuild");
  await esbuild.build({
    entryPoints: [join(repo, "tests", "e2e", "fixtures", "react-app.jsx")],
    bundle: true,
    format: "esm",
    jsx: "automatic",
    outfile: join(out, "app.js"),
    nodePaths: [process.env.HALLPASS_REACT_MODULES ?? tools],
    alias: { hallpass: join(repo, "pkg", "npm") },
    // React's development build: StrictMode's double render and double mount are on.
    define: { "process.env.NODE_ENV": '"development"' },
    logLevel: "error",
  });
  // What a bundler does with `new URL("hallpass_bg.wasm", import.meta.url)`: the wasm beside the bundle.
  copyFileSync(join(repo, "pkg", "npm", "hallpass_bg.wasm"), join(out, "hallpass_bg.wasm"));
  writeFileSync(join(out, "index.html"),
    '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><div id="root"></div><script type="module" src="./app.js"></script>');
  site = await serveRepo();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  site?.close();
});

const reactVersion = () => createRequire(join(process.env.HALLPASS_REACT_MODULES ?? tools, "noop.js"))("react/package.json").version;

const text = (page, id) => page.locator(`#${id}`).textContent();
const present = (page, id) => page.locator(`#${id}`).count().then((n) => n > 0);

test(`hooks re-render on sign-in and sign-out; <Protect> hides content; StrictMode makes one client (React ${reactVersion()})`, async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto(`${site.origin}/target/tmp/react-page/index.html?api=${encodeURIComponent(api)}`);

  await page.locator("#signed-out").waitFor();
  assert.equal(await page.evaluate(() => window.loads), 1, "one client under StrictMode");
  assert.equal(await text(page, "user"), "signed out");
  assert.equal(await text(page, "session"), "none");
  assert.equal(await text(page, "auth"), "none");
  assert.equal(await present(page, "signed-in"), false);
  assert.equal(await present(page, "protected"), false);
  assert.equal(await text(page, "protect-fallback"), "Members only");
  assert.equal(await present(page, "condition"), false, "<Protect condition> needs a signed-in user");

  const email = uniqueEmail("react");
  await page.evaluate(({ email, password }) =>
    window.hp.signUp({ emailAddress: email, password, firstName: "Grace", lastName: "Hopper" }),
  { email, password: PASSWORD });
  await page.locator("#signed-in").waitFor();
  assert.equal(await text(page, "user"), "Grace Hopper");
  assert.match(await text(page, "session"), /^sess_/);
  assert.match(await text(page, "auth"), /^user_/);
  assert.equal(await text(page, "protected"), "Member content");
  assert.equal(await present(page, "protect-fallback"), false);
  assert.equal(await text(page, "condition"), "Condition met");
  assert.equal(await present(page, "condition-unmet"), false);
  assert.equal(await text(page, "condition-fallback"), "Condition not met");
  const token = await page.evaluate(() => window.auth.getToken());
  assert.equal(token.split(".").length, 3, "useAuth().getToken gives a JWT");

  await page.evaluate(() => window.auth.signOut());
  await page.locator("#signed-out").waitFor();
  assert.equal(await text(page, "user"), "signed out");
  assert.equal(await present(page, "protected"), false);
  assert.equal(await present(page, "signed-in"), false);
  assert.equal(await page.evaluate(() => window.auth.getToken()), null);

  const seen = await page.evaluate(() => window.seen);
  assert.deepEqual(seen.filter((s, i) => s !== seen[i - 1]),
    ["loading", "signed out", "Grace Hopper", "signed out"], "useUser: not loaded, then every change");
  assert.equal(await page.evaluate(() => window.loads), 1);
  assert.deepEqual(errors, []);
  await page.close();
});

test("useOrganization, useOrganizationList and <Protect role/permission> follow the active organization", async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto(`${site.origin}/target/tmp/react-page/index.html?api=${encodeURIComponent(api)}`);
  await page.locator("#signed-out").waitFor();
  assert.equal(await text(page, "org"), "personal", "signed out: no organization");
  await page.evaluate(({ email, password }) => window.hp.signUp({ emailAddress: email, password }),
    { email: uniqueEmail("react-org"), password: PASSWORD });
  await page.locator("#signed-in").waitFor();
  const until = (id, expected) => page.waitForFunction(([id, expected]) =>
    document.getElementById(id)?.textContent === expected, [id, expected], { timeout: 10_000 });
  await until("org-list", "0 memberships, 0 invitations");
  assert.equal(await text(page, "admin-fallback"), "Admins only");

  // Created through useOrganizationList(), made active through it: every view follows.
  await page.evaluate(async () => {
    const org = await window.orgs.list.createOrganization({ name: "Hooks Inc" });
    await window.orgs.list.setActive({ organization: org.id });
  });
  await until("org", "Hooks Inc as org:admin");
  await until("org-members", "1 members, page 1/1: org:admin");
  assert.equal(await text(page, "admin"), "Admin content");
  assert.equal(await text(page, "manage"), "Manage members");
  // The list is revalidated on demand (Clerk's `revalidate()`).
  await page.evaluate(() => window.orgs.list.userMemberships.revalidate());
  await until("org-list", "1 memberships, 0 invitations");

  // An invitation sent from the organization resource, then the members' list revalidated.
  await page.evaluate(() => window.orgs.organization.inviteMember({ emailAddress: "hooks.invitee@example.com" }));
  const pending = await page.evaluate(async () => (await window.orgs.organization.getInvitations()).total_count);
  assert.equal(pending, 1);

  // The personal account: the organization and <Protect role> go.
  await page.evaluate(() => window.orgs.list.setActive({ organization: null }));
  await until("org", "personal");
  assert.equal(await present(page, "admin"), false);
  assert.equal(await present(page, "manage"), false);
  assert.deepEqual(errors, []);
  await page.close();
});

test("drop-in components: <SignUp> signs up, <UserButton> signs out, <OrganizationSwitcher> shows the account; the provider's appearance and the component's", async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto(`${site.origin}/target/tmp/react-page/index.html?api=${encodeURIComponent(api)}`);
  const button = page.locator("hallpass-sign-up .hp-formButtonPrimary");
  await button.waitFor();
  assert.equal(await button.evaluate((b) => getComputedStyle(b).backgroundColor), "rgb(4, 5, 6)", "<SignUp appearance> wins");
  assert.equal(await page.locator("hallpass-sign-up").count(), 1, "one element under StrictMode");
  await page.getByLabel("First name").fill("Ada");
  await page.getByLabel("Email address").fill(uniqueEmail("react-ui"));
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await button.click();
  await page.locator("#signed-in").waitFor();
  const trigger = page.locator(".hp-userButtonTrigger");
  await trigger.waitFor();
  assert.equal(await page.locator("hallpass-sign-up").count(), 0, "unmounted with <SignedOut>");
  assert.ok((await trigger.getAttribute("class")).split(" ").includes("app-trigger"), "the provider's element class");
  assert.equal(await page.locator(".hp-userButtonAvatarBox").evaluate((b) => getComputedStyle(b).backgroundColor), "rgb(1, 2, 3)",
    "the provider's variable");
  assert.equal(await page.locator(".hp-organizationSwitcherTrigger .hp-srOnly").textContent(),
    "Switch organization, currently Personal account");
  await trigger.click();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.locator("#signed-out").waitFor();
  await page.locator("hallpass-sign-up .hp-formButtonPrimary").waitFor();
  assert.deepEqual(errors, []);
  await page.close();
});

test("useSignUp and useSignIn: each step re-renders, the completed one signs the provider in, setActive confirms it; useUser's addresses", async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  await page.goto(`${site.origin}/target/tmp/react-page/index.html?api=${encodeURIComponent(api)}`);
  await page.locator("#signed-out").waitFor();
  const until = (id, expected) => page.waitForFunction(([id, expected]) =>
    document.getElementById(id)?.textContent === expected, [id, expected], { timeout: 10_000 });
  await until("flows", "none / none");

  // A passwordless sign-up: verified by the code the server kept in its development mailbox.
  const email = uniqueEmail("react-flows");
  await page.evaluate((email) => window.flowsHooks.signUp.create({ emailAddress: email }), email);
  await until("flows", "none / missing_requirements");
  await page.evaluate(() => window.flowsHooks.signUp.prepareEmailAddressVerification({ strategy: "email_code" }));
  const code = await mailboxCode(email);
  const created = await page.evaluate(async (code) => {
    const { signUp, setActive } = window.flowsHooks;
    const done = await signUp.attemptEmailAddressVerification({ code });
    await setActive({ session: done.createdSessionId });
    return done.createdSessionId;
  }, code);
  await until("flows", "none / complete");
  await page.locator("#signed-in").waitFor();
  assert.equal(await text(page, "session"), created);
  // useUser's user carries Clerk's address methods.
  const methods = await page.evaluate(() => {
    const user = window.flowsHooks.user;
    return [typeof user.createEmailAddress, typeof user.primaryEmailAddress.prepareVerification, user.primaryEmailAddress.verification.status];
  });
  assert.deepEqual(methods, ["function", "function", "verified"]);

  // Signed out, then in again through useSignIn with the code.
  await page.evaluate(() => window.hp.signOut());
  await page.locator("#signed-out").waitFor();
  await page.evaluate((email) => window.flowsHooks.signIn.create({ identifier: email, strategy: "email_code" }), email);
  await until("flows", "needs_first_factor / complete");
  const again = await mailboxCode(email);
  const signedIn = await page.evaluate((code) => window.flowsHooks.signIn.attemptFirstFactor({ strategy: "email_code", code })
    .then((s) => s.createdSessionId), again);
  await until("flows", "complete / complete");
  await page.locator("#signed-in").waitFor();
  assert.equal(await text(page, "session"), signedIn);
  assert.deepEqual(errors, []);
  await page.close();
});
