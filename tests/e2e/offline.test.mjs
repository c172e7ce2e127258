// Browsers without BroadcastChannel, browsers that go offline, and a server that accepts a request and
// never answers: real tabs of one context running the release package against the 10 s-token server
// behind the test proxy.
import { test } from "node:test";
import assert from "node:assert/strict";
import { uniqueEmail, PASSWORD, api10s as api, control, refreshCount, suiteBrowser } from "./harness.mjs";

const counts = () => refreshCount(api);
const reset = () => control("reset", api);

const suite = suiteBrowser();

async function tab(context, options = {}) {
  const page = await context.newPage();
  await page.goto(`${suite.site.origin}/tests/e2e/fixtures/sdk.html`);
  await page.waitForFunction(() => window.ready === true);
  await page.evaluate(async ({ api, options }) => {
    window.hp = await window.hallpass.Hallpass.load({ frontendApi: api, minTokenLifetimeMs: 2000, ...options });
    window.signOuts = 0;
    window.hp.addListener((s) => { if (s.isSignedIn === false) window.signOuts++; });
  }, { api, options });
  return page;
}

test("without BroadcastChannel the storage event carries sign-in and sign-out between tabs", async () => {
  const context = await suite.browser.newContext();
  await context.addInitScript(() => { delete window.BroadcastChannel; });
  const [a, b] = [await tab(context), await tab(context)];
  assert.equal(await a.evaluate(() => typeof window.BroadcastChannel), "undefined");
  await a.evaluate(({ email, password }) => window.hp.signUp({ emailAddress: email, password }),
    { email: uniqueEmail("nobc"), password: PASSWORD });
  await b.waitForFunction(() => window.hp.useAuth().isSignedIn === true, null, { timeout: 3000 });
  const token = await a.evaluate(() => window.hp.getToken({ skipCache: true }));
  await b.waitForFunction((t) => window.hp.getToken().then((x) => x === t), token, { timeout: 3000 });
  await a.evaluate(() => window.hp.signOut());
  await b.waitForFunction(() => window.hp.useAuth().isSignedIn === false, null, { timeout: 3000 });
  await context.close();
});

test("offline: getToken fails fast with `offline`, the session stays, and it resumes when back online", async () => {
  const context = await suite.browser.newContext();
  const page = await tab(context);
  await page.evaluate(({ email, password }) => window.hp.signUp({ emailAddress: email, password }),
    { email: uniqueEmail("offline"), password: PASSWORD });
  await reset();
  await context.setOffline(true);
  const offline = await page.evaluate(async () => {
    const code = await window.hp.getToken({ skipCache: true }).then(() => "ok", (e) => e.code);
    return { code, signedIn: window.hp.useAuth().isSignedIn };
  });
  assert.equal(offline.code, "offline");
  assert.equal(offline.signedIn, true, "the session is kept");
  assert.equal(await counts(), 0, "nothing was sent");
  // Let the token run out while offline, then come back: the `online` event refreshes on its own.
  await new Promise((r) => setTimeout(r, 9000));
  await context.setOffline(false);
  await page.waitForFunction(async () => {
    const t = await window.hp.getToken().catch(() => null);
    return t && JSON.parse(atob(t.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))).exp * 1000 > Date.now();
  }, null, { timeout: 3000, polling: 100 });
  assert.ok((await counts()) >= 1);
  await page.evaluate(() => window.hp.signOut());
  await context.close();
});

test("a server that accepts the refresh and never answers: request_timeout, recovery, nobody signed out", async () => {
  const context = await suite.browser.newContext();
  const [a, b] = [await tab(context, { requestTimeoutMs: 1500 }), await tab(context, { requestTimeoutMs: 1500 })];
  await a.evaluate(({ email, password }) => window.hp.signUp({ emailAddress: email, password }),
    { email: uniqueEmail("hang"), password: PASSWORD });
  await b.waitForFunction(() => window.hp.useAuth().isSignedIn === true, null, { timeout: 5000 });
  await reset();
  // Every refresh from now on is accepted and held without a word (for up to 60 s each).
  await control("fault?mode=hang&path=/v1/client/refresh", api);
  const ask = () => window.hp.getToken({ skipCache: true }).then(() => "ok", (e) => e.code);
  const started = Date.now();
  assert.equal(await a.evaluate(ask), "request_timeout");
  // A limit only a hang breaks: the proxy would end it after 60 s, with another error.
  assert.ok(Date.now() - started < 30_000, `failed after ${Date.now() - started} ms`);
  assert.equal(await b.evaluate(ask), "request_timeout", "the other tab is not stuck behind the first");
  assert.ok((await counts()) >= 2, "the requests reached the proxy");
  // The server answers again: the next calls recover (after any retry still held has timed out).
  await control("fault?mode=none", api);
  for (const page of [a, b]) {
    await page.waitForFunction(async () => Boolean(await window.hp.getToken({ skipCache: true }).catch(() => null)),
      null, { timeout: 15_000, polling: 200 });
  }
  const after = await Promise.all([a, b].map((p) => p.evaluate(() => [window.hp.useAuth().isSignedIn, window.signOuts])));
  assert.deepEqual(after, [[true, 0], [true, 0]], "nobody was signed out");
  await a.evaluate(() => window.hp.signOut());
  await context.close();
});
