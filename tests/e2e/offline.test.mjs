// Browsers without BroadcastChannel, and browsers that go offline: real tabs of one context running the
// release package against the 10 s-token server behind the test proxy.
import { test } from "node:test";
import assert from "node:assert/strict";
import { uniqueEmail, PASSWORD, api10s as api, control, refreshCount, suiteBrowser } from "./harness.mjs";

const counts = () => refreshCount(api);
const reset = () => control("reset", api);

const suite = suiteBrowser();

async function tab(context) {
  const page = await context.newPage();
  await page.goto(`${suite.site.origin}/tests/e2e/fixtures/sdk.html`);
  await page.waitForFunction(() => window.ready === true);
  await page.evaluate(async (api) => {
    window.hp = await window.hallpass.Hallpass.load({ frontendApi: api, minTokenLifetimeMs: 2000 });
  }, api);
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
