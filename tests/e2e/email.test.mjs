// Email flows through hallpass/flows in headless Chromium, against a real hallpass-server of its own
// that sends through a real SMTP server (Python's aiosmtpd on loopback, the server's mail tests'
// tests/smtp/smtp_server.py): every code and link is read from what the SMTP server received.
// Sign-up by code and by link, sign-in by code and by link (opened in another tab, or in another
// browser), password reset signing out another browser, wrong, expired and used-up codes, a used
// link, the same answers for an unknown address, and a second address on the profile.
//
// The server requires verified addresses at sign-up (--sign-up-requires-verified-email), so every
// user here was verified by a code from the SMTP server. Its send and lockout limits are raised:
// the server's own tests cover them, and this suite sends dozens of emails from one address.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { launch, serveRepo, uniqueEmail, PASSWORD } from "./harness.mjs";

const repo = process.env.HALLPASS_REPO;
const python = process.env.HALLPASS_PYTHON ?? join(process.env.HALLPASS_TOOLS, "..", "python", "bin", "python");
const NEW_PASSWORD = "a whole new battery staple";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let site;
let browser;
let smtp;
let server;

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/** aiosmtpd on a free loopback port; `messages` fills with `{ from, to, data }` as it accepts them. */
async function startSmtp() {
  assert.ok(existsSync(python), `aiosmtpd's Python is not at ${python}: run \`cargo xtask setup\``);
  const port = await freePort();
  const child = spawn(python, [join(repo, "server", "tests", "smtp", "smtp_server.py"), String(port)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const messages = [];
  const started = new Promise((resolve, reject) => {
    child.on("exit", (code) => reject(new Error(`aiosmtpd exited (${code})`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const v = JSON.parse(line);
      if (v.port === port) resolve();
      else messages.push(v);
    });
  });
  const timeout = sleep(30_000).then(() => {
    throw new Error("aiosmtpd did not start within 30 s");
  });
  await Promise.race([started, timeout]);
  // It stops when its standard input closes.
  return { port, messages, close: () => child.stdin.end() };
}

/** hallpass-server (the debug build `cargo xtask test` made) on its own SQLite file, sending by SMTP. */
async function startServer(smtpPort) {
  const dir = mkdtempSync(join(tmpdir(), "hallpass-email-e2e-"));
  const ready = join(dir, "ready.json");
  const db = join(dir, "hallpass.db");
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("HALLPASS_")));
  const child = spawn(join(repo, "target", "debug", "hallpass-server"), [
    "--addr", "127.0.0.1:0",
    "--database-url", `sqlite://${db}?mode=rwc`,
    "--ready-file", ready,
    "--token-lifetime-secs", "30",
    "--argon2-memory-kib", "1024", "--argon2-iterations", "1",
    "--instance-name", "Hallpass E2E",
    "--sign-up-requires-verified-email", "true",
    "--smtp-url", `smtp://127.0.0.1:${smtpPort}`,
    "--email-from", "auth@hallpass.test",
    "--email-poll-interval-ms", "100",
    "--email-sends-per-ip", "1000",
    "--email-sends-per-address", "100",
    "--rate-limit-auth-per-ip", "1000",
    "--sign-in-failures-per-account-and-ip", "100",
  ], { env, stdio: ["ignore", "ignore", openSync(join(dir, "server.log"), "w")] });
  let exited = null;
  child.on("exit", (code) => (exited = code));
  for (let i = 0; i < 600; i++) {
    if (exited !== null) throw new Error(`hallpass-server exited (${exited}):\n${readFileSync(join(dir, "server.log"), "utf8")}`);
    if (existsSync(ready)) {
      const info = JSON.parse(readFileSync(ready, "utf8"));
      return { api: info.frontend_api, db, dir, stop: () => child.kill("SIGTERM") };
    }
    await sleep(100);
  }
  child.kill("SIGKILL");
  throw new Error("hallpass-server did not become ready within 60 s");
}

before(async () => {
  smtp = await startSmtp();
  server = await startServer(smtp.port);
  site = await serveRepo();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  site?.close();
  server?.stop();
  smtp?.close();
});

// What the SMTP server received.
const inbox = (to) => smtp.messages.filter((m) => m.to.includes(to));

/** The email to `to` after the first `seen` ones (waits up to 15 s for it). */
async function nextMail(to, seen = 0) {
  for (let i = 0; i < 300; i++) {
    const mine = inbox(to);
    if (mine.length > seen) return mine[seen];
    await sleep(50);
  }
  throw new Error(`no email #${seen + 1} to ${to} within 15 s`);
}

const subject = (m) => /^Subject: (.*)$/m.exec(m.data)?.[1] ?? "";

/** The 6-digit code, which the subject starts with. */
function codeOf(m) {
  const code = /^\d{6}\b/.exec(subject(m))?.[0];
  assert.ok(code, `no code in the subject ${JSON.stringify(subject(m))}`);
  return code;
}

/** The email link, from the body with quoted-printable soft breaks and `=3D` undone. */
function linkOf(m) {
  const text = m.data.replace(/=\r?\n/g, "").replace(/=3D/g, "=");
  const link = /https?:\/\/[^\s"'<>]+\/v1\/verify\?token=[A-Za-z0-9_-]+/.exec(text)?.[0];
  assert.ok(link, `no link in ${text}`);
  return link;
}

const otherThan = (code) => (code === "000000" ? "000001" : "000000");

/** A Frontend API request from Node, as a page of the test site would send it. */
async function frontend(method, path, body) {
  const res = await fetch(server.api + path, {
    method,
    headers: { "content-type": "application/json", origin: site.origin },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** A user whose address was verified by the code the SMTP server received. */
async function verifiedUser(email, password = PASSWORD) {
  const up = await frontend("POST", "/v1/client/sign_ups", { email_address: email, password });
  assert.equal(up.status, 200, JSON.stringify(up.body));
  const id = up.body.sign_up.id;
  const seen = inbox(email).length;
  await frontend("POST", `/v1/client/sign_ups/${id}/prepare_verification`, { strategy: "email_code" });
  const code = codeOf(await nextMail(email, seen));
  const done = await frontend("POST", `/v1/client/sign_ups/${id}/attempt_verification`, { code });
  assert.equal(done.body?.sign_up?.status, "complete", JSON.stringify(done.body));
}

/** The fixture page with the SDK loaded as `window.hp` and hallpass/flows as `window.flows`. */
async function open(context, query = "") {
  const page = await context.newPage();
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(e));
  await page.goto(`${site.origin}/tests/e2e/fixtures/flows.html${query}`);
  await page.waitForFunction(() => window.ready === true);
  await page.evaluate(async (api) => {
    window.hp = await window.hallpass.Hallpass.load({ frontendApi: api });
  }, server.api);
  return page;
}

const snapshot = (page) =>
  page.evaluate(() => {
    const s = hp.getSnapshot();
    return { isSignedIn: s.isSignedIn, sessionId: s.sessionId, userId: s.userId, email: s.user?.primaryEmailAddress?.emailAddress };
  });

/**
 * Starts `resource`'s email-link flow in `page` (not awaited: `window.flowResult` is set when it
 * ends) after `setup`, a function body run first (`s` is the resource).
 */
const startLinkFlow = (page, kind, setup, args) =>
  page.evaluate(
    ({ kind, setup, args }) => {
      const s = kind === "signIn" ? flows.getSignIn(hp) : flows.getSignUp(hp);
      window.flowResult = null;
      new Function("s", "args", `return (async () => { ${setup} })()`)(s, args)
        .then(() => s.createEmailLinkFlow().startEmailLinkFlow({ redirectUrl: args.redirectUrl }))
        .then(
          (r) => {
            const v = kind === "signIn" ? r.firstFactorVerification : r.verifications.emailAddress;
            window.flowResult = { status: r.status, createdSessionId: r.createdSessionId, verification: v?.status };
          },
          (e) => (window.flowResult = { error: e.code ?? String(e) }),
        );
    },
    { kind, setup, args },
  );

/** Opens `link` in `page` and presses the page's button; resolves with the response it ends on. */
async function useLink(page, link) {
  const shown = await page.goto(link);
  assert.equal(shown.status(), 200, "the link's page only shows a button");
  const [response] = await Promise.all([page.waitForNavigation(), page.click("button")]);
  return response;
}

test("sign-up by code: missing requirements, a refused resend, a wrong code, the right one; signed in here and after a reload", async () => {
  const context = await browser.newContext();
  const page = await open(context);
  const email = uniqueEmail("signup-code");
  const created = await page.evaluate(async ({ email, password }) => {
    const s = flows.getSignUp(hp);
    const before = s.status;
    await s.create({ emailAddress: email, password, firstName: "Ada" });
    const first = { before, status: s.status, id: s.id, unverified: s.unverifiedFields, signedIn: hp.getSnapshot().isSignedIn };
    await s.prepareEmailAddressVerification({ strategy: "email_code" });
    const again = await s.prepareEmailAddressVerification({ strategy: "email_code" }).then(
      () => "sent",
      (e) => [hallpass.isHallpassError(e), e.code, e.retryAfter],
    );
    return { ...first, verification: s.verifications.emailAddress, again, resend: s.resendAvailableAt("email_code") - Date.now() };
  }, { email, password: PASSWORD });
  assert.equal(created.before, null);
  assert.equal(created.status, "missing_requirements");
  assert.match(created.id, /^sua_/);
  assert.deepEqual(created.unverified, ["email_address"]);
  assert.equal(created.signedIn, false);
  assert.deepEqual([created.verification.status, created.verification.strategy, created.verification.attempts], ["unverified", "email_code", 0]);
  assert.equal(created.again[0], true);
  assert.equal(created.again[1], "rate_limited");
  assert.ok(created.again[2] > 0 && created.again[2] <= 30, `retryAfter ${created.again[2]}`);
  assert.ok(created.resend > 0 && created.resend <= 30_000);

  const mail = await nextMail(email);
  assert.match(subject(mail), /Hallpass E2E/);
  const code = codeOf(mail);
  const r = await page.evaluate(async ({ wrong, code }) => {
    const s = flows.getSignUp(hp);
    const error = await s.attemptEmailAddressVerification({ code: wrong }).catch((e) => [e.code, e.attemptsLeft]);
    const attempts = s.verifications.emailAddress.attempts;
    const done = await s.attemptEmailAddressVerification({ code });
    const snap = hp.getSnapshot();
    await flows.setActive(hp, { session: done.createdSessionId });
    const wrongSession = await flows.setActive(hp, { session: "sess_other" }).catch((e) => e.code);
    return {
      error, attempts, status: done.status, same: done === s, createdSessionId: done.createdSessionId, createdUserId: done.createdUserId,
      sessionId: snap.sessionId, userId: snap.userId, name: snap.user.firstName,
      verification: snap.user.primaryEmailAddress.verification?.status, token: typeof (await hp.getToken()), wrongSession,
    };
  }, { wrong: otherThan(code), code });
  assert.deepEqual(r.error, ["form_code_incorrect", 4]);
  assert.equal(r.attempts, 1);
  assert.equal(r.status, "complete");
  assert.equal(r.same, true, "each step answers the same resource, as Clerk's");
  assert.match(r.createdSessionId, /^sess_/);
  assert.equal(r.sessionId, r.createdSessionId, "the SDK is signed in with the session the step created");
  assert.equal(r.userId, r.createdUserId);
  assert.equal(r.name, "Ada");
  assert.equal(r.verification, "verified");
  assert.equal(r.token, "string");
  assert.equal(r.wrongSession, "resource_not_found");
  assert.equal(inbox(email).length, 1, "the refused resend sent nothing");

  await page.reload();
  await page.waitForFunction(() => window.ready === true);
  await page.evaluate(async (api) => (window.hp = await window.hallpass.Hallpass.load({ frontendApi: api })), server.api);
  assert.deepEqual(await snapshot(page), { isSignedIn: true, sessionId: r.sessionId, userId: r.userId, email });
  assert.deepEqual(page.errors, []);
  await context.close();
});

test("passwordless sign-up by email link: opened in another tab, the asking tab is signed in without a reload; the used link fails", async () => {
  const context = await browser.newContext();
  const asking = await open(context);
  const email = uniqueEmail("signup-link");
  const redirectUrl = `${site.origin}/tests/e2e/fixtures/flows.html?landed=1`;
  await startLinkFlow(asking, "signUp", "await s.create({ emailAddress: args.email });", { email, redirectUrl });
  const link = linkOf(await nextMail(email));
  assert.ok(link.startsWith(`${server.api}/v1/verify?token=`), link);

  const linkTab = await context.newPage();
  const shown = await linkTab.goto(link);
  assert.equal(shown.status(), 200);
  // Showing the page used nothing: the asking tab still waits.
  await sleep(2500);
  assert.equal(await asking.evaluate(() => window.flowResult), null);
  await Promise.all([linkTab.waitForURL(/hallpass_status=verified/), linkTab.click("button")]);
  await linkTab.waitForFunction(() => window.ready === true);
  assert.equal(await linkTab.evaluate(() => window.linkStatus), "verified");

  await asking.waitForFunction(() => window.flowResult !== null, null, { timeout: 20_000 });
  const result = await asking.evaluate(() => window.flowResult);
  assert.equal(result.status, "complete", JSON.stringify(result));
  const signedIn = await snapshot(asking);
  assert.equal(signedIn.isSignedIn, true);
  assert.equal(signedIn.sessionId, result.createdSessionId);
  assert.equal(signedIn.email, email);
  // The tab the link opened shares the browser's storage: its SDK starts signed in with that session.
  await linkTab.evaluate(async (api) => (window.hp = await window.hallpass.Hallpass.load({ frontendApi: api })), server.api);
  assert.equal((await snapshot(linkTab)).sessionId, result.createdSessionId);

  // Used once: again, it is not valid any more (the sign-up is complete).
  const again = await context.newPage();
  const reused = await useLink(again, link);
  assert.ok(reused.status() === 404 || /hallpass_status=failed/.test(again.url()), `${reused.status()} ${again.url()}`);
  assert.ok(!/hallpass_status=verified/.test(again.url()));
  assert.deepEqual(asking.errors, []);
  await context.close();
});

test("sign-in by email code: create with a strategy sends it; the factor, the masked address, then signed in", async () => {
  const email = uniqueEmail("signin-code");
  await verifiedUser(email);
  const context = await browser.newContext();
  const page = await open(context);
  const seen = inbox(email).length;
  const created = await page.evaluate(async (email) => {
    const s = flows.getSignIn(hp);
    await s.create({ identifier: email, strategy: "email_code" });
    return { id: s.id, status: s.status, factors: s.supportedFirstFactors, verification: s.firstFactorVerification };
  }, email);
  assert.match(created.id, /^sia_/);
  assert.equal(created.status, "needs_first_factor");
  const strategies = created.factors.map((f) => f.strategy);
  for (const s of ["password", "email_code", "email_link", "reset_password_email_code"]) assert.ok(strategies.includes(s), s);
  const byCode = created.factors.find((f) => f.strategy === "email_code");
  assert.ok(byCode.safeIdentifier.includes("***") && byCode.safeIdentifier.endsWith("@example.com"), byCode.safeIdentifier);
  assert.deepEqual([created.verification.strategy, created.verification.status], ["email_code", "unverified"]);

  const code = codeOf(await nextMail(email, seen));
  const done = await page.evaluate(async (code) => {
    const s = await flows.getSignIn(hp).attemptFirstFactor({ strategy: "email_code", code });
    return { status: s.status, createdSessionId: s.createdSessionId, verification: s.firstFactorVerification.status };
  }, code);
  assert.deepEqual([done.status, done.verification], ["complete", "verified"]);
  const snap = await snapshot(page);
  assert.deepEqual([snap.isSignedIn, snap.sessionId, snap.email], [true, done.createdSessionId, email]);
  // The code is used: it cannot sign in again.
  const reuse = await frontend("POST", `/v1/client/sign_ins/${created.id}/attempt_first_factor`, { strategy: "email_code", code });
  assert.notEqual(reuse.status, 200);
  assert.deepEqual(page.errors, []);
  await context.close();
});

test("sign-in by email link opened in another tab: the asking tab learns it without a reload, and so does the other tab", async () => {
  const email = uniqueEmail("signin-link-tab");
  await verifiedUser(email);
  const context = await browser.newContext();
  const asking = await open(context);
  const bystander = await open(context);
  const seen = inbox(email).length;
  const redirectUrl = `${site.origin}/tests/e2e/fixtures/flows.html?landed=1`;
  await startLinkFlow(asking, "signIn", "await s.create({ identifier: args.email });", { email, redirectUrl });
  const link = linkOf(await nextMail(email, seen));
  const linkTab = await context.newPage();
  await Promise.all([linkTab.waitForURL(/hallpass_status=verified/), useLink(linkTab, link)]);
  await asking.waitForFunction(() => window.flowResult !== null, null, { timeout: 20_000 });
  const result = await asking.evaluate(() => window.flowResult);
  assert.deepEqual([result.status, result.verification], ["complete", "verified"], JSON.stringify(result));
  const signedIn = await snapshot(asking);
  assert.deepEqual([signedIn.isSignedIn, signedIn.sessionId, signedIn.email], [true, result.createdSessionId, email]);
  // A tab that was open all along follows (the SDK's tabs share the session).
  await bystander.waitForFunction((sid) => hp.getSnapshot().sessionId === sid, result.createdSessionId, { timeout: 10_000 });
  assert.deepEqual([...asking.errors, ...bystander.errors], []);
  await context.close();
});

test("sign-in by email link opened in another browser: this one is signed in, that one is not; cancelling stops asking", async () => {
  const email = uniqueEmail("signin-link-browser");
  await verifiedUser(email);
  const context = await browser.newContext();
  const asking = await open(context);
  let seen = inbox(email).length;
  // Without a redirect URL the link's page says itself what happened.
  await startLinkFlow(asking, "signIn", "await s.create({ identifier: args.email });", { email });
  const link = linkOf(await nextMail(email, seen));
  const elsewhere = await browser.newContext();
  const linkPage = await elsewhere.newPage();
  const used = await useLink(linkPage, link);
  assert.equal(used.status(), 200);
  assert.match(await linkPage.textContent("h1"), /Done/);
  await asking.waitForFunction(() => window.flowResult !== null, null, { timeout: 20_000 });
  const result = await asking.evaluate(() => window.flowResult);
  assert.equal(result.status, "complete", JSON.stringify(result));
  assert.equal((await snapshot(asking)).sessionId, result.createdSessionId);
  // The other browser has no session: nothing in the link or its page signs anyone in.
  const other = await open(elsewhere);
  assert.equal((await snapshot(other)).isSignedIn, false);

  // A flow cancelled before its link is used never completes, and asks no more.
  const thirdContext = await browser.newContext();
  const second = await open(thirdContext);
  seen = inbox(email).length;
  await startLinkFlow(second, "signIn", "await s.create({ identifier: args.email });", { email });
  const link2 = linkOf(await nextMail(email, seen));
  await second.evaluate(() => window.cancelled = flows.getSignIn(hp).createEmailLinkFlow().cancelEmailLinkFlow());
  await useLink(await elsewhere.newPage(), link2);
  await sleep(4500);
  assert.equal(await second.evaluate(() => window.flowResult), null);
  assert.equal((await snapshot(second)).isSignedIn, false);
  await context.close();
  await elsewhere.close();
  await thirdContext.close();
});

test("password reset by email code: needs_new_password, the new password signs in here and signs the other browser out", async () => {
  const email = uniqueEmail("reset");
  await verifiedUser(email);
  const elsewhere = await browser.newContext();
  const other = await open(elsewhere);
  await other.evaluate(({ email, password }) => hp.signIn({ identifier: email, password }), { email, password: PASSWORD });
  assert.equal((await snapshot(other)).isSignedIn, true);

  const context = await browser.newContext();
  const page = await open(context);
  const seen = inbox(email).length;
  await page.evaluate((email) => flows.getSignIn(hp).create({ identifier: email, strategy: "reset_password_email_code" }), email);
  const code = codeOf(await nextMail(email, seen));
  const r = await page.evaluate(async ({ code, password }) => {
    const s = flows.getSignIn(hp);
    await s.attemptFirstFactor({ strategy: "reset_password_email_code", code });
    const between = [s.status, hp.getSnapshot().isSignedIn];
    const weak = await s.resetPassword({ password: "short" }).catch((e) => e.code);
    await s.resetPassword({ password, signOutOfOtherSessions: true });
    return { between, weak, status: s.status, createdSessionId: s.createdSessionId, sessionId: hp.getSnapshot().sessionId };
  }, { code, password: NEW_PASSWORD });
  assert.deepEqual(r.between, ["needs_new_password", false]);
  assert.match(r.weak, /^form_password/);
  assert.equal(r.status, "complete");
  assert.equal(r.sessionId, r.createdSessionId);

  // The other browser's session was revoked: its next refresh is refused and it is signed out.
  const ended = await other.evaluate(async () => {
    const code = await hp.getToken({ skipCache: true }).then(() => "refreshed", (e) => e.code);
    return [code, hp.getSnapshot().isSignedIn];
  });
  assert.deepEqual(ended, ["session_revoked", false]);
  const old = await frontend("POST", "/v1/client/sign_ins", { identifier: email, password: PASSWORD });
  assert.equal(old.body?.errors?.[0]?.code, "form_password_incorrect");
  const fresh = await frontend("POST", "/v1/client/sign_ins", { identifier: email, password: NEW_PASSWORD });
  assert.equal(fresh.body?.sign_in?.status, "complete");
  await context.close();
  await elsewhere.close();
});

test("codes: wrong ones count down, the fifth fails the code (even the right one then), an expired one is refused", async () => {
  const email = uniqueEmail("codes");
  await verifiedUser(email);
  const context = await browser.newContext();
  const page = await open(context);
  let seen = inbox(email).length;
  await page.evaluate((email) => flows.getSignIn(hp).create({ identifier: email, strategy: "email_code" }), email);
  const code = codeOf(await nextMail(email, seen));
  const tries = await page.evaluate(async ({ wrong, code }) => {
    const s = flows.getSignIn(hp);
    const out = [];
    for (let i = 0; i < 5; i++) {
      out.push(await s.attemptFirstFactor({ strategy: "email_code", code: wrong }).then(() => "signed in", (e) => [e.code, e.attemptsLeft]));
    }
    out.push(await s.attemptFirstFactor({ strategy: "email_code", code }).then(() => "signed in", (e) => [e.code, e.attemptsLeft]));
    return { out, verification: [s.firstFactorVerification.status, s.firstFactorVerification.attempts], signedIn: hp.getSnapshot().isSignedIn };
  }, { wrong: otherThan(code), code });
  assert.deepEqual(tries.out, [
    ["form_code_incorrect", 4], ["form_code_incorrect", 3], ["form_code_incorrect", 2], ["form_code_incorrect", 1],
    ["verification_failed", 0], ["verification_failed", 0],
  ]);
  assert.deepEqual(tries.verification, ["failed", 5]);
  assert.equal(tries.signedIn, false);

  // An expired code: its verification's expiry moved into the past in the server's database, as ten
  // minutes would.
  seen = inbox(email).length;
  const id = await page.evaluate(async (email) => {
    const s = flows.getSignIn(hp);
    await s.create({ identifier: email, strategy: "email_code" });
    return s.id;
  }, email);
  const fresh = codeOf(await nextMail(email, seen));
  const changed = execFileSync(python, ["-c",
    "import sqlite3, sys\nc = sqlite3.connect(sys.argv[1], timeout=10)\n" +
    "c.execute('UPDATE verifications SET expire_at = 1 WHERE owner_id = ?', (sys.argv[2],))\nc.commit()\nprint(c.total_changes)",
    server.db, id], { encoding: "utf8" }).trim();
  assert.equal(changed, "1");
  const expired = await page.evaluate(async (code) => {
    const s = flows.getSignIn(hp);
    const error = await s.attemptFirstFactor({ strategy: "email_code", code }).then(() => "signed in", (e) => [e.code, e.attemptsLeft]);
    return { error, status: s.firstFactorVerification.status, signedIn: hp.getSnapshot().isSignedIn };
  }, fresh);
  assert.deepEqual(expired, { error: ["verification_expired", 0], status: "expired", signedIn: false });
  assert.deepEqual(page.errors, []);
  await context.close();
});

test("no enumeration: an unknown address gets the same answers as a known one, and no email", async () => {
  const known = uniqueEmail("known");
  await verifiedUser(known);
  const unknown = uniqueEmail("unknown");
  // Everything but the ids, addresses and times must be the same, byte for byte.
  const norm = (r) => ({
    status: r.status,
    body: JSON.parse(JSON.stringify(r.body)
      .replace(/"sia_[^"]+"/g, '"sia"')
      .replace(/"(identifier|safe_identifier)":"[^"]*"/g, '"$1":"x"')
      .replace(/"(expire_at|abandon_at)":\d+/g, '"$1":0')),
  });
  const seenKnown = inbox(known).length;
  const answers = {};
  for (const [name, email] of [["known", known], ["unknown", unknown]]) {
    const create = await frontend("POST", "/v1/client/sign_ins", { identifier: email });
    const id = create.body.sign_in.id;
    const prepare = await frontend("POST", `/v1/client/sign_ins/${id}/prepare_first_factor`, { strategy: "email_code" });
    const wrong = await frontend("POST", `/v1/client/sign_ins/${id}/attempt_first_factor`, { strategy: "email_code", code: "000000" });
    const reset = await frontend("POST", "/v1/client/sign_ins", { identifier: email });
    const resetPrepare = await frontend("POST", `/v1/client/sign_ins/${reset.body.sign_in.id}/prepare_first_factor`, { strategy: "reset_password_email_code" });
    answers[name] = [create, prepare, wrong, resetPrepare].map(norm);
  }
  // A known address's code may be 000000 (one in a million): then its "wrong" answer is a sign-in.
  const knownCode = codeOf(await nextMail(known, seenKnown));
  if (knownCode !== "000000") assert.deepEqual(answers.unknown, answers.known);
  assert.equal(answers.unknown[2].body.errors[0].code, "form_code_incorrect");

  // Through the SDK too: the same states.
  const context = await browser.newContext();
  const page = await open(context);
  const states = await page.evaluate(async ({ known, unknown }) => {
    const out = [];
    for (const email of [known, unknown]) {
      const s = flows.getSignIn(hp);
      await s.create({ identifier: email });
      out.push([s.status, s.supportedFirstFactors.map((f) => f.strategy)]);
    }
    return out;
  }, { known, unknown });
  assert.deepEqual(states[0], states[1]);
  // The known address got its emails; the unknown one none (written, never sent).
  await nextMail(known, seenKnown + 1);
  await sleep(1000);
  assert.equal(inbox(unknown).length, 0);
  await context.close();
});

test("a second email address: added, verified by code, in every tab's user, usable to sign in, removed", async () => {
  const email = uniqueEmail("first");
  await verifiedUser(email);
  const context = await browser.newContext();
  const page = await open(context);
  const tab = await open(context);
  await page.evaluate(({ email, password }) => hp.signIn({ identifier: email, password }), { email, password: PASSWORD });
  await tab.waitForFunction(() => hp.getSnapshot().isSignedIn === true, null, { timeout: 10_000 });
  const second = uniqueEmail("second");
  const added = await page.evaluate(async (second) => {
    const user = flows.withUserResources(hp, hp.getSnapshot().user);
    window.added = await user.createEmailAddress({ email: second });
    await window.added.prepareVerification({ strategy: "email_code" });
    return {
      same: flows.withUserResources(hp, hp.getSnapshot().user) === user,
      id: window.added.id, email: window.added.emailAddress, verification: window.added.verification?.status,
      count: hp.getSnapshot().user.emailAddresses.length,
    };
  }, second);
  assert.equal(added.same, true);
  assert.match(added.id, /^idn_/);
  assert.equal(added.email, second);
  assert.equal(added.verification, "unverified");
  assert.equal(added.count, 1, "not the user's until verified");
  const code = codeOf(await nextMail(second));
  const verified = await page.evaluate(async ({ code, wrong }) => {
    const error = await window.added.attemptVerification({ code: wrong }).catch((e) => [e.code, e.attemptsLeft]);
    await window.added.attemptVerification({ code });
    return { error, status: window.added.verification.status, emails: hp.getSnapshot().user.emailAddresses.map((e) => e.emailAddress) };
  }, { code, wrong: otherThan(code) });
  assert.deepEqual(verified.error, ["form_code_incorrect", 4]);
  assert.equal(verified.status, "verified");
  assert.deepEqual(verified.emails.sort(), [email, second].sort());
  await tab.waitForFunction((second) => hp.getSnapshot().user.emailAddresses.some((e) => e.emailAddress === second), second, { timeout: 10_000 });

  const signIn = await frontend("POST", "/v1/client/sign_ins", { identifier: second, password: PASSWORD });
  assert.equal(signIn.body?.sign_in?.status, "complete", "the verified address signs in");
  const removed = await page.evaluate(async () => {
    const user = flows.withUserResources(hp, hp.getSnapshot().user);
    const address = user.emailAddresses.find((e) => e.id === window.added.id);
    const primary = await user.primaryEmailAddress.destroy().then(() => "removed", (e) => e.code);
    const gone = await address.destroy();
    return { primary, deleted: gone.deleted, emails: hp.getSnapshot().user.emailAddresses.length };
  });
  assert.notEqual(removed.primary, "removed", "the primary address cannot be removed");
  assert.deepEqual([removed.deleted, removed.emails], [true, 1]);
  assert.deepEqual([...page.errors, ...tab.errors], []);
  await context.close();
});
