// The session cookie and the handshake, in real Chromium against the real server: a small app
// server (node:http, the packed `hallpass/server`) renders `/private` from the `__session` cookie
// that the SDK keeps with `sessionCookie: true`, and answers an expired cookie with the handshake
// page, whose script and SDK it serves from the package under `/__hallpass/`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { api, appImport, control, launch, refreshCount, uniqueEmail, PASSWORD } from "./harness.mjs";

const issuer = process.env.HALLPASS_TEST_SERVER;
const secretKey = process.env.HALLPASS_TEST_SECRET_KEY;
let server, browser, app;
/** Every answer of the app server to `/private`: `status reason` (`x-hallpass-auth-*`). */
const privateAnswers = [];

/** The app's public page: the SDK from the package's own files, with the session cookie on. */
const PUBLIC_PAGE = (cookie) => `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="module">
  import { Hallpass } from "/__hallpass/index.js";
  window.hp = await Hallpass.load({ frontendApi: ${JSON.stringify(api)}, sessionCookie: ${cookie} });
  window.ready = true;
</script>`;

/** The app: node:http in front of `hallpass/server`, as any framework adapter would be. */
function startApp() {
  const http = createServer(async (req, res) => {
    try {
      const request = new Request(`http://${req.headers.host}${req.url}`, { method: req.method, headers: req.headers });
      let response = await server.handshakeAssetResponse(request);
      const path = new URL(request.url).pathname;
      if (response === null && (path === "/" || path === "/no-cookie")) {
        response = new Response(PUBLIC_PAGE(path === "/"), { headers: { "content-type": "text/html" } });
      } else if (response === null && path === "/private") {
        const state = await server.authenticateRequest(request, { frontendApi: api, issuer });
        privateAnswers.push(`${state.status} ${state.reason ?? ""}`.trim());
        if (state.status === "handshake") response = server.createHandshakeResponse(state);
        else if (state.isAuthenticated) {
          response = new Response(`<!doctype html><p id="who">Hello ${state.toAuth().userId}</p>`, { headers: { "content-type": "text/html" } });
        } else {
          response = new Response(`<!doctype html><p id="who">Signed out (${state.reason})</p>`, { status: 401, headers: { "content-type": "text/html" } });
        }
      }
      response ??= new Response("Not found", { status: 404 });
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (error) {
      res.writeHead(500).end(String(error?.stack ?? error));
    }
  });
  return new Promise((resolve) => http.listen(0, "127.0.0.1", () => resolve({ http, origin: `http://127.0.0.1:${http.address().port}` })));
}

before(async () => {
  server = await appImport("hallpass/server");
  app = await startApp();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  app?.http.close();
});

/** A new browser context signed up on the app's public page: `{ context, page, userId, token }`. */
async function signedUp(path = "/") {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${app.origin}${path}`);
  await page.waitForFunction(() => window.ready === true);
  await page.evaluate(({ email, password }) => window.hp.signUp({ emailAddress: email, password, firstName: "Cookie" }),
    { email: uniqueEmail("cookie"), password: PASSWORD });
  const { userId, token } = await page.evaluate(async () => ({ userId: window.hp.useAuth().userId, token: await window.hp.getToken() }));
  return { context, page, userId, token };
}

/** Waits (at most 20 s) until `token` has been expired for `marginMs` (the verifier's skew is 5 s). */
async function untilExpired(token, marginMs = 1_000) {
  const { exp } = JSON.parse(Buffer.from(token.split(".")[1], "base64url"));
  const waitMs = Math.min(Math.max(exp * 1000 + marginMs - Date.now(), 0), 20_000);
  await new Promise((resolve) => setTimeout(resolve, waitMs));
}

const cookiesOf = async (context) => Object.fromEntries((await context.cookies()).map((c) => [c.name, c]));

test("the SDK keeps __session no longer than the token, rewrites it with each token, clears it on sign-out", async () => {
  const { context, page, token } = await signedUp();
  let cookies = await cookiesOf(context);
  assert.equal(cookies.__session.value, token);
  assert.deepEqual([cookies.__session.path, cookies.__session.sameSite, cookies.__session.secure, cookies.__session.httpOnly], ["/", "Lax", false, false]);
  const exp = JSON.parse(Buffer.from(token.split(".")[1], "base64url")).exp;
  assert.ok(cookies.__session.expires <= exp + 1, `cookie ends ${cookies.__session.expires}, token ${exp}`);
  assert.ok(cookies.__session.expires > Date.now() / 1000, "and is alive");
  assert.ok(Number(cookies.__client_uat.value) > 0);
  assert.ok(cookies.__client_uat.expires > Date.now() / 1000 + 300 * 86400, "__client_uat outlives the token");
  // A new token (forced) is a new cookie.
  const next = await page.evaluate(() => window.hp.getToken({ skipCache: true }));
  assert.notEqual(next, token);
  assert.equal((await cookiesOf(context)).__session.value, next);
  await page.evaluate(() => window.hp.signOut());
  cookies = await cookiesOf(context);
  assert.equal(cookies.__session, undefined);
  assert.equal(cookies.__client_uat.value, "0");
  await context.close();
});

test("without sessionCookie, no cookie is written", async () => {
  const { context } = await signedUp("/no-cookie");
  assert.deepEqual(Object.keys(await cookiesOf(context)), []);
  await context.close();
});

test("a page request with a valid cookie is rendered signed in on the server; a signed-out browser is signed out", async () => {
  const { context, page, userId } = await signedUp();
  await page.goto(`${app.origin}/private`);
  assert.equal(await page.textContent("#who"), `Hello ${userId}`);
  await page.goto(`${app.origin}/`);
  await page.waitForFunction(() => window.ready === true);
  await page.evaluate(() => window.hp.signOut());
  privateAnswers.length = 0;
  const response = await page.goto(`${app.origin}/private`);
  assert.equal(response.status(), 401);
  assert.deepEqual(privateAnswers, ["signed-out session-token-and-uat-missing"]);
  await context.close();
});

test("a tab that slept past the token's expiry: the handshake refreshes and the page renders signed in", async () => {
  const { context, page, userId } = await signedUp();
  await page.close();
  // The token's Max-Age has passed (the browser drops the cookie); nothing ran to refresh it.
  await context.clearCookies({ name: "__session" });
  await control("reset");
  privateAnswers.length = 0;
  const tab = await context.newPage();
  await tab.goto(`${app.origin}/private`);
  await tab.locator("#who").waitFor();
  assert.equal(await tab.textContent("#who"), `Hello ${userId}`);
  assert.deepEqual(privateAnswers, ["handshake client-uat-but-no-session-token", "signed-in"]);
  assert.equal(await refreshCount(), 1, "one refresh, by the handshake page");
  // An expired token still in the cookie (a clock that ran on) takes the same path.
  const stale = (await cookiesOf(context)).__session;
  await untilExpired(stale.value, 6_000);
  await context.addCookies([{ ...stale, expires: Math.floor(Date.now() / 1000) + 60 }]);
  privateAnswers.length = 0;
  await tab.goto(`${app.origin}/private`);
  await tab.locator("#who").waitFor();
  assert.equal(await tab.textContent("#who"), `Hello ${userId}`);
  assert.deepEqual(privateAnswers, ["handshake session-token-expired", "signed-in"]);
  await context.close();
});

test("a session revoked meanwhile: the handshake signs the browser out and the page renders signed out", async () => {
  const { context, page } = await signedUp();
  const sessionId = await page.evaluate(() => window.hp.useAuth().sessionId);
  await page.close();
  const revoked = await fetch(`${issuer}/v1/sessions/${sessionId}/revoke`, { method: "POST", headers: { authorization: `Bearer ${secretKey}` } });
  assert.equal(revoked.status, 200);
  await context.clearCookies({ name: "__session" });
  privateAnswers.length = 0;
  const tab = await context.newPage();
  await tab.goto(`${app.origin}/private`);
  await tab.waitForFunction(() => document.getElementById("who")?.textContent.startsWith("Signed out"));
  assert.deepEqual(privateAnswers, ["handshake client-uat-but-no-session-token", "signed-out session-token-and-uat-missing"]);
  assert.equal((await cookiesOf(context)).__client_uat.value, "0");
  await context.close();
});

test("the server down during the handshake: three tries, then the page is served signed out (no loop)", async () => {
  const { context, page, token } = await signedUp();
  await page.close();
  // The tab slept past the token's expiry: the SDK's stored token is no use either.
  await untilExpired(token);
  await context.clearCookies({ name: "__session" });
  await control("fault?mode=down&path=/v1/client/refresh");
  try {
    privateAnswers.length = 0;
    const tab = await context.newPage();
    await tab.goto(`${app.origin}/private`);
    await tab.waitForFunction(() => document.getElementById("who")?.textContent.includes("handshake-redirect-loop"));
    assert.deepEqual(privateAnswers, [
      "handshake client-uat-but-no-session-token",
      "handshake client-uat-but-no-session-token",
      "handshake client-uat-but-no-session-token",
      "signed-out handshake-redirect-loop",
    ]);
  } finally {
    await control("reset");
  }
  // The browser is still signed in: once the server is back, the next page load gets through.
  await context.clearCookies({ name: "__hallpass_handshake" });
  privateAnswers.length = 0;
  const again = await context.newPage();
  await again.goto(`${app.origin}/private`);
  await again.waitForFunction(() => document.getElementById("who")?.textContent.startsWith("Hello"));
  assert.deepEqual(privateAnswers, ["handshake client-uat-but-no-session-token", "signed-in"]);
  await context.close();
});
