// `hallpass/server` as an app backend uses it, installed from the packed package, against tokens of
// the real server (through the test proxy, which counts JWKS fetches and plays the server down):
// verifyToken's refusals, the JWKS cache's rules, authenticateRequest's states and handshake, the
// Backend API client (the instance's settings too, handed back to the flags after), and verifyWebhook against signatures made by the real `svix` package.
import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { api, api10s, appImport, control, packageFile, signUpUser, withActiveOrganization } from "./harness.mjs";

const issuer = process.env.HALLPASS_TEST_SERVER;
const secretKey = process.env.HALLPASS_TEST_SECRET_KEY;
const ORIGIN = "http://localhost:3000";
let server, jose;
/** A new user and a session token fresh enough for a test (the test server's tokens live 5 s). */
const fresh = () => signUpUser({ origin: ORIGIN, firstName: "Ada" });
/** A JWKS URL of its own for each test that counts fetches (the cache is per URL). */
let jwksCase = 0;
const freshJwksUrl = () => `${api}/.well-known/jwks.json?case=${++jwksCase}`;
const jwksFetches = async () => (await control("counts"))["GET /.well-known/jwks.json"] ?? 0;
const options = (extra = {}) => ({ frontendApi: api, issuer, ...extra });

/** `fn` with the global `Date` at `atMs` (this backend's clock: the token is early or late). */
async function withClockAt(t, atMs, fn) {
  t.mock.timers.enable({ apis: ["Date"], now: atMs });
  try {
    return await fn();
  } finally {
    t.mock.timers.reset();
  }
}

/** The promise's rejection reason (`TokenVerificationError.reason`), or "resolved". */
async function reasonOf(promise) {
  try {
    await promise;
    return "resolved";
  } catch (error) {
    if (error?.name !== "TokenVerificationError") throw error;
    return error.reason;
  }
}

/** `token` with its payload edited (the signature left as it was). */
function withPayload(token, edit) {
  const [h, p, s] = token.split(".");
  const payload = JSON.parse(Buffer.from(p, "base64url").toString());
  return [h, Buffer.from(JSON.stringify(edit(payload))).toString("base64url"), s].join(".");
}

before(async () => {
  server = await appImport("hallpass/server");
  jose = await appImport("jose");
  await control("reset");
});

describe("verifyToken", () => {
  test("a session token of the server verifies, with its claims", async () => {
    const user = await fresh();
    const claims = await server.verifyToken(user.jwt, options({ authorizedParties: [ORIGIN] }));
    assert.equal(claims.sub, user.user.id);
    assert.equal(claims.sid, user.session.id);
    assert.equal(claims.v, 2);
    assert.equal(claims.azp, ORIGIN);
    assert.equal(claims.iss, issuer);
  });

  test("expired, and not yet valid, on this backend's clock (5 s of skew tolerated by default)", async (t) => {
    const user = await fresh();
    const { exp, nbf } = jose.decodeJwt(user.jwt);
    const at = (ms, extra) => withClockAt(t, ms, () => reasonOf(server.verifyToken(user.jwt, options(extra))));
    assert.equal(await at(exp * 1000 + 6_000), "token-expired");
    // Within the tolerance it still verifies; a larger tolerance accepts more.
    assert.equal(await at(exp * 1000 + 3_000), "resolved");
    assert.equal(await at(exp * 1000 + 6_000, { clockSkewInMs: 20_000 }), "resolved");
    assert.equal(await at(nbf * 1000 - 6_000), "token-not-active-yet");
    assert.equal(await at(nbf * 1000 - 3_000), "resolved");
  });

  test("a tampered token: changed claims or a changed signature", async () => {
    const user = await fresh();
    const other = withPayload(user.jwt, (p) => ({ ...p, sub: "user_someone_else" }));
    assert.equal(await reasonOf(server.verifyToken(other, options())), "token-invalid-signature");
    const [h, p, s] = user.jwt.split(".");
    const flipped = `${h}.${p}.${s.slice(0, 10)}${s[10] === "A" ? "B" : "A"}${s.slice(11)}`;
    assert.equal(await reasonOf(server.verifyToken(flipped, options())), "token-invalid-signature");
    for (const junk of ["", "a.b", "a.b.c", "x".repeat(20_000), `${h}.${p}`]) {
      assert.equal(await reasonOf(server.verifyToken(junk, options())), "token-invalid", junk.slice(0, 20));
    }
  });

  test("a foreign key: the server's kid with another key's signature, or a kid the server never had", async () => {
    const user = await fresh();
    const { privateKey } = await jose.generateKeyPair("RS256");
    const { kid } = jose.decodeProtectedHeader(user.jwt);
    const claims = jose.decodeJwt(user.jwt);
    const forge = (header) => new jose.SignJWT(claims).setProtectedHeader({ alg: "RS256", ...header }).sign(privateKey);
    assert.equal(await reasonOf(server.verifyToken(await forge({ kid }), options())), "token-invalid-signature");
    const jwksUrl = freshJwksUrl();
    await server.verifyToken(user.jwt, options({ jwksUrl }));
    await control("reset");
    // An unknown kid fetches the JWKS again (a key may have rotated in), once per cooldown only.
    assert.equal(await reasonOf(server.verifyToken(await forge({ kid: "ins_forged" }), options({ jwksUrl }))), "jwk-kid-mismatch");
    assert.equal(await jwksFetches(), 1);
    for (let i = 0; i < 5; i++) {
      assert.equal(await reasonOf(server.verifyToken(await forge({ kid: `ins_forged_${i}` }), options({ jwksUrl }))), "jwk-kid-mismatch");
    }
    assert.equal(await jwksFetches(), 1, "made-up kids within the cooldown fetch nothing");
    // Not RS256: refused before any key is looked for.
    const hs = await new jose.SignJWT(claims).setProtectedHeader({ alg: "HS256", kid }).sign(new Uint8Array(32));
    assert.equal(await reasonOf(server.verifyToken(hs, options())), "token-invalid-algorithm");
    const none = `${Buffer.from(JSON.stringify({ alg: "none", kid })).toString("base64url")}.${user.jwt.split(".")[1]}.`;
    assert.equal(await reasonOf(server.verifyToken(none, options())), "token-invalid-algorithm");
  });

  test("authorized parties and the issuer", async () => {
    const user = await fresh();
    assert.equal(await reasonOf(server.verifyToken(user.jwt, options({ authorizedParties: ["https://app.example.com"] }))),
      "token-invalid-authorized-parties");
    assert.equal(await reasonOf(server.verifyToken(user.jwt, options({ authorizedParties: ["https://app.example.com", ORIGIN] }))), "resolved");
    assert.equal(await reasonOf(server.verifyToken(user.jwt, options({ authorizedParties: [] }))), "resolved");
    assert.equal(await reasonOf(server.verifyToken(user.jwt, options({ issuer: "https://auth.example.com" }))), "token-invalid-issuer");
    // The publishable key names the instance as frontendApi does.
    const publishableKey = `pk_test_${Buffer.from(`${issuer}$`).toString("base64")}`;
    assert.equal(server.decodePublishableKey(publishableKey), issuer);
    assert.equal((await server.verifyToken(user.jwt, { publishableKey })).sub, user.user.id);
    assert.equal(server.decodePublishableKey("pk_test_bm90IGEgdXJs"), null);
    await assert.rejects(server.verifyToken(user.jwt, {}), { reason: "jwk-failed-to-resolve" });
  });

  test("a JWT template's token is signed by the same key but is refused as a session token", async () => {
    const user = await fresh();
    const hallpass = server.createHallpassClient({ secretKey, apiUrl: issuer });
    const template = await hallpass.jwtTemplates.create({ name: `tpl_${Date.now()}`, claims: { aud: "x", email: "{{user.primary_email_address}}" } });
    const auth = (await server.authenticateRequest(new Request("http://app.test/api", { headers: { authorization: `Bearer ${user.jwt}` } }), options())).toAuth();
    const templateToken = await auth.getToken({ template: template.name });
    assert.equal(jose.decodeJwt(templateToken).email, user.user.email_addresses[0].email_address);
    assert.equal(jose.decodeJwt(templateToken).v, undefined);
    assert.equal(await reasonOf(server.verifyToken(templateToken, options())), "token-type-mismatch");
    await hallpass.jwtTemplates.delete(template.id);
  });

  test("networkless with jwtKey: the JWKS document or a PEM key, and never a request", async () => {
    const user = await fresh();
    const jwks = await (await fetch(`${issuer}/.well-known/jwks.json`)).text();
    const noNetwork = () => Promise.reject(new Error("no network in this test"));
    assert.equal((await server.verifyToken(user.jwt, { jwtKey: jwks, issuer, fetch: noNetwork })).sub, user.user.id);
    const pem = await jose.exportSPKI(await jose.importJWK(JSON.parse(jwks).keys[0], "RS256", { extractable: true }));
    assert.equal((await server.verifyToken(user.jwt, { jwtKey: pem, fetch: noNetwork })).sid, user.session.id);
    const { publicKey } = await jose.generateKeyPair("RS256", { extractable: true });
    assert.equal(await reasonOf(server.verifyToken(user.jwt, { jwtKey: await jose.exportSPKI(publicKey) })), "token-invalid-signature");
    assert.equal(await reasonOf(server.verifyToken(user.jwt, { jwtKey: "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----" })), "jwk-local-invalid");
  });

  test("the JWKS cache: one fetch for many concurrent verifications, reused until its max age", async () => {
    const user = await fresh();
    const jwksUrl = freshJwksUrl();
    await control("reset");
    const all = await Promise.all(Array.from({ length: 25 }, () => server.verifyToken(user.jwt, options({ jwksUrl }))));
    assert.equal(all.length, 25);
    assert.equal(await jwksFetches(), 1);
    await server.verifyToken(user.jwt, options({ jwksUrl }));
    assert.equal(await jwksFetches(), 1);
  });

  test("a rotated signing key: the new kid refetches the JWKS once, the old key verifies until it is retired", async () => {
    // The instance's JWKS as a rotation publishes it: the old key alone, then the new key beside it,
    // then the new key alone. The keys are two real servers' (the second server's key is the "new"
    // one; its tokens name their own issuer), served from one URL by a relay that counts fetches.
    const jwksOf = async (at) => (await (await fetch(`${at}/.well-known/jwks.json`)).json()).keys;
    const [oldKeys, newKeys] = [await jwksOf(api), await jwksOf(api10s)];
    let published = oldKeys;
    let fetches = 0;
    const relay = createServer((req, res) => {
      fetches += 1;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: published }));
    });
    await new Promise((resolve) => relay.listen(0, "127.0.0.1", resolve));
    try {
      const jwksUrl = `http://127.0.0.1:${relay.address().port}/.well-known/jwks.json`;
      const [before, after] = [await fresh(), await signUpUser({ origin: ORIGIN, at: api10s })];
      const as = (user, extra) => ({ jwksUrl, issuer: jose.decodeJwt(user.jwt).iss, ...extra });
      assert.notEqual(jose.decodeProtectedHeader(before.jwt).kid, jose.decodeProtectedHeader(after.jwt).kid);
      assert.equal((await server.verifyToken(before.jwt, as(before))).sub, before.user.id);
      assert.equal(fetches, 1);
      // Not published yet: refused, after one fetch that found nothing new.
      assert.equal(await reasonOf(server.verifyToken(after.jwt, as(after))), "jwk-kid-mismatch");
      assert.equal(fetches, 2);
      // Published beside the old key: the next token with the new kid refetches at once, though the
      // cache is fresh — but not within the cooldown of the miss above, so give it none here.
      published = [...oldKeys, ...newKeys];
      assert.equal((await server.verifyToken(after.jwt, as(after, { jwksCooldownMs: 0 }))).sub, after.user.id);
      assert.equal(fetches, 3);
      // Both keys now verify from the cache, concurrently, with no fetch.
      const both = await Promise.all([before, after, before, after].map((u) => server.verifyToken(u.jwt, as(u))));
      assert.deepEqual(both.map((c) => c.sub), [before.user.id, after.user.id, before.user.id, after.user.id]);
      assert.equal(fetches, 3);
      // The old key retired: once the cache refreshes, its tokens are refused.
      published = newKeys;
      assert.equal(await reasonOf(server.verifyToken(before.jwt, as(before, { jwksCacheMaxAgeMs: 0, jwksCooldownMs: 0 }))), "jwk-kid-mismatch");
      assert.equal((await server.verifyToken(after.jwt, as(after))).sub, after.user.id);
    } finally {
      relay.close();
    }
  });

  test("the server down with keys cached: verification goes on; a new kid cannot be checked", async () => {
    const user = await fresh();
    const jwksUrl = freshJwksUrl();
    await server.verifyToken(user.jwt, options({ jwksUrl }));
    await control("fault?mode=down&path=/.well-known/jwks.json");
    try {
      // Past the max age the cache tries to refresh, fails, and keeps its keys.
      const before = await jwksFetches();
      const stale = options({ jwksUrl, jwksCacheMaxAgeMs: 0, jwksCooldownMs: 0 });
      assert.equal((await server.verifyToken(user.jwt, stale)).sub, user.user.id);
      assert.equal(await jwksFetches(), before + 1, "the refresh was tried");
      const { privateKey } = await jose.generateKeyPair("RS256");
      const forged = await new jose.SignJWT(jose.decodeJwt(user.jwt)).setProtectedHeader({ alg: "RS256", kid: "ins_new" }).sign(privateKey);
      // An unknown kid cannot be checked while the server is down, and the error says so.
      assert.equal(await reasonOf(server.verifyToken(forged, options({ jwksUrl }))), "jwk-remote-failed-to-load");
      assert.equal((await server.verifyToken(user.jwt, options({ jwksUrl }))).sid, user.session.id);
      // A cache that never got keys says why.
      assert.equal(await reasonOf(server.verifyToken(user.jwt, options({ jwksUrl: freshJwksUrl(), jwksTimeoutMs: 2000 }))), "jwk-remote-failed-to-load");
    } finally {
      await control("reset");
    }
  });
});

describe("authenticateRequest", () => {
  const page = (headers = {}) => new Request("http://app.test/dashboard", { headers: { "sec-fetch-dest": "document", accept: "text/html", ...headers } });
  const apiCall = (headers = {}) => new Request("http://app.test/api/posts", { headers: { "sec-fetch-dest": "empty", ...headers } });
  const expired = async (t, request) => withClockAt(t, Date.now() + 60_000, () => server.authenticateRequest(request, options()));

  test("a Bearer token: signed in, with toAuth()", async () => {
    const user = await fresh();
    const state = await server.authenticateRequest(apiCall({ authorization: `Bearer ${user.jwt}` }), options());
    assert.equal(state.status, "signed-in");
    assert.equal(state.isAuthenticated, true);
    assert.equal(state.token, user.jwt);
    assert.equal(state.headers.get("x-hallpass-auth-status"), "signed-in");
    const auth = state.toAuth();
    assert.equal(auth.userId, user.user.id);
    assert.equal(auth.sessionId, user.session.id);
    assert.equal(auth.orgId, undefined);
    assert.equal(auth.has({ role: "org:admin" }), false);
    assert.equal(auth.has({}), false);
    assert.equal(await auth.getToken(), user.jwt);
  });

  test("the __session cookie for pages; nothing at all is signed out", async () => {
    const user = await fresh();
    const state = await server.authenticateRequest(page({ cookie: `other=1; __session=${user.jwt}; __client_uat=1700000000` }), options());
    assert.equal(state.status, "signed-in");
    assert.equal(state.toAuth().userId, user.user.id);
    const out = await server.authenticateRequest(page(), options());
    assert.deepEqual([out.status, out.reason, out.toAuth().userId, out.toAuth().has({ role: "x" })], ["signed-out", "session-token-and-uat-missing", null, false]);
    assert.equal(await out.toAuth().getToken(), null);
    const signedOutBrowser = await server.authenticateRequest(page({ cookie: "__client_uat=0" }), options());
    assert.equal(signedOutBrowser.status, "signed-out");
  });

  test("an expired cookie on a page request asks for the handshake; on other requests it is signed out", async (t) => {
    const user = await fresh();
    const cookie = `__session=${user.jwt}; __client_uat=1700000000`;
    const state = await expired(t, page({ cookie }));
    assert.deepEqual([state.status, state.reason, state.toAuth()], ["handshake", "session-token-expired", null]);
    const response = server.createHandshakeResponse(state);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("cache-control"), "no-store");
    assert.equal(response.headers.get("x-hallpass-auth-status"), "handshake");
    const html = await response.text();
    assert.match(html, /<script type="module" src="\/__hallpass\/handshake\.js"><\/script>/);
    assert.match(html, new RegExp(`"frontendApi":"${api.replace(/[.:/]/g, "\\$&")}"`));
    // Without Sec-Fetch-Dest, Accept: text/html makes it a page request.
    assert.equal((await expired(t, new Request("http://app.test/", { headers: { accept: "text/html", cookie } }))).status, "handshake");
    for (const request of [apiCall({ cookie }), new Request("http://app.test/dashboard", { method: "POST", headers: { "sec-fetch-dest": "document", cookie } })]) {
      const out = await expired(t, request);
      assert.deepEqual([out.status, out.reason], ["signed-out", "session-token-expired"]);
    }
    // The session cookie gone (its Max-Age passed) while the browser says it is signed in.
    const gone = await server.authenticateRequest(page({ cookie: "__client_uat=1700000000" }), options());
    assert.deepEqual([gone.status, gone.reason], ["handshake", "client-uat-but-no-session-token"]);
    // The loop guard: after three handshake reloads the page is served signed out.
    const looping = await server.authenticateRequest(page({ cookie: "__client_uat=1700000000; __hallpass_handshake=3" }), options());
    assert.deepEqual([looping.status, looping.reason], ["signed-out", "handshake-redirect-loop"]);
  });

  test("a token that is not a session token, or not ours, is signed out with the reason", async () => {
    const user = await fresh();
    const { privateKey } = await jose.generateKeyPair("RS256");
    const forged = await new jose.SignJWT(jose.decodeJwt(user.jwt)).setProtectedHeader({ alg: "RS256", kid: jose.decodeProtectedHeader(user.jwt).kid }).sign(privateKey);
    for (const request of [apiCall({ authorization: `Bearer ${forged}` }), page({ cookie: `__session=${forged}; __client_uat=1` })]) {
      const state = await server.authenticateRequest(request, options());
      assert.deepEqual([state.status, state.reason, state.headers.get("x-hallpass-auth-reason")], ["signed-out", "token-invalid-signature", "token-invalid-signature"]);
    }
  });

  test("the handshake page's files are served from the package, and nothing else", async () => {
    const get = (path, headers = {}) => server.handshakeAssetResponse(new Request(`http://app.test${path}`, { headers }));
    const script = await get("/__hallpass/handshake.js");
    assert.equal(script.status, 200);
    assert.match(script.headers.get("content-type"), /^text\/javascript/);
    assert.match(await script.text(), /import \{ Hallpass \} from "\.\/index\.js"/);
    const wasm = await get("/__hallpass/hallpass_bg.wasm");
    assert.equal(wasm.headers.get("content-type"), "application/wasm");
    assert.equal((await get("/__hallpass/hallpass_bg.wasm", { "if-none-match": wasm.headers.get("etag") })).status, 304);
    for (const path of ["/__hallpass/package.json", "/__hallpass/server/verify.js", "/__hallpass/README.md", "/__hallpass/snippets/x/%2E%2E%2Fy.js"]) {
      assert.equal((await get(path)).status, 404, path);
    }
    // Dot segments leave the prefix once the URL is parsed: not ours to answer.
    for (const path of ["/__hallpass/../package.json", "/__hallpass/%2e%2e/server.js", "/__hallpass/snippets/../../x.js"]) {
      assert.equal(await get(path), null, path);
    }
    assert.equal(await get("/dashboard"), null);
  });
});

describe("the Backend API client", () => {
  test("users: get, list with pagination, update, metadata deep merge, delete; sessions: list, get, revoke; errors carry the server's codes", async () => {
    const hallpass = server.createHallpassClient({ secretKey, frontendApi: api });
    const someone = await signUpUser({ firstName: "Grace" });
    await signUpUser(); // at least two users to page through, whichever tests ran before
    const got = await hallpass.users.getUser(someone.user.id);
    assert.deepEqual([got.id, got.firstName, got.fullName, got.primaryEmailAddress.emailAddress],
      [someone.user.id, "Grace", "Grace", someone.user.email_addresses[0].email_address]);
    assert.deepEqual(got.privateMetadata, {});
    const page1 = await hallpass.users.getUserList({ limit: 1 });
    const page2 = await hallpass.users.getUserList({ limit: 1, offset: 1 });
    assert.equal(page1.data.length, 1);
    assert.ok(page1.totalCount >= 2);
    assert.notEqual(page1.data[0].id, page2.data[0].id);
    await hallpass.users.updateUserMetadata(someone.user.id, { publicMetadata: { role: "admin", plan: { tier: 1 } }, privateMetadata: { stripe: "cus_1" } });
    const merged = await hallpass.users.updateUserMetadata(someone.user.id, { publicMetadata: { plan: { seats: 3 }, role: null } });
    assert.deepEqual(merged.publicMetadata, { plan: { tier: 1, seats: 3 } });
    assert.deepEqual(merged.privateMetadata, { stripe: "cus_1" });
    // updateUser: names set or cleared, a metadata object given replaces the stored one whole.
    const updated = await hallpass.users.updateUser(someone.user.id, { firstName: "Grace", lastName: "Hopper", publicMetadata: { role: "member" } });
    assert.deepEqual([updated.firstName, updated.lastName, updated.fullName], ["Grace", "Hopper", "Grace Hopper"]);
    assert.deepEqual([updated.publicMetadata, updated.privateMetadata], [{ role: "member" }, { stripe: "cus_1" }]);
    const cleared = await hallpass.users.updateUser(someone.user.id, { lastName: null });
    assert.deepEqual([cleared.lastName, cleared.fullName, cleared.publicMetadata], [null, "Grace", { role: "member" }]);
    const refused = await hallpass.users.updateUser(someone.user.id, { firstName: "x".repeat(300) }).catch((e) => e);
    assert.deepEqual([refused.status, refused.errors[0].code, refused.errors[0].meta.paramName], [422, "form_param_too_long", "first_name"]);
    // The primary address, by our spelling or Clerk's (`…ID`): one of the user's (the current one
    // changes nothing), never an address that is not theirs.
    const own = someone.user.email_addresses[0].id;
    assert.equal((await hallpass.users.updateUser(someone.user.id, { primaryEmailAddressId: own })).primaryEmailAddress.id, own);
    const nobodys = await hallpass.users.updateUser(someone.user.id, { primaryEmailAddressID: "idn_nobodys" }).catch((e) => e);
    assert.deepEqual([nobodys.status, nobodys.errors[0].code, nobodys.errors[0].meta.paramName],
      [404, "resource_not_found", "primary_email_address_id"]);
    const sessions = await hallpass.sessions.getSessionList({ userId: someone.user.id });
    assert.deepEqual(sessions.data.map((s) => [s.id, s.status]), [[someone.session.id, "active"]]);
    const session = await hallpass.sessions.getSession(someone.session.id);
    assert.deepEqual([session.id, session.userId, session.status], [someone.session.id, someone.user.id, "active"]);
    assert.equal((await hallpass.sessions.revokeSession(someone.session.id)).status, "revoked");
    assert.equal((await hallpass.sessions.getSession(someone.session.id)).status, "revoked");
    assert.equal((await hallpass.sessions.getSession("sess_nope").catch((e) => e)).status, 404);
    assert.deepEqual(await hallpass.users.deleteUser(someone.user.id), { object: "user", id: someone.user.id, deleted: true });
    const missing = await hallpass.users.getUser(someone.user.id).catch((e) => e);
    assert.ok(server.isHallpassAPIResponseError(missing));
    assert.deepEqual([missing.status, missing.errors[0].code], [404, "resource_not_found"]);
    await assert.rejects(hallpass.users.getUser(""), TypeError);
  });

  test("JWT templates: create, list, get, update, delete", async () => {
    const hallpass = server.createHallpassClient({ secretKey, apiUrl: api });
    const name = `crud_${Date.now()}`;
    const created = await hallpass.jwtTemplates.create({ name, claims: { role: "{{user.public_metadata.role}}" }, lifetime: 120, allowedClockSkew: 3 });
    assert.deepEqual([created.name, created.lifetime, created.allowedClockSkew, created.customSigningKey, created.signingAlgorithm],
      [name, 120, 3, false, "RS256"]);
    assert.ok((await hallpass.jwtTemplates.list({ limit: 500 })).data.some((t) => t.id === created.id));
    assert.deepEqual((await hallpass.jwtTemplates.get(created.id)).claims, { role: "{{user.public_metadata.role}}" });
    assert.equal((await hallpass.jwtTemplates.update({ templateId: created.id, lifetime: 300 })).lifetime, 300);
    const taken = await hallpass.jwtTemplates.create({ name, claims: {} }).catch((e) => e);
    assert.deepEqual([taken.status, taken.errors[0].code], [409, "duplicate_record"]);
    assert.equal((await hallpass.jwtTemplates.delete(created.id)).deleted, true);
  });

  test("instance: get, update in force at once, null back to the flag, refused changes changing nothing", async () => {
    const hallpass = server.createHallpassClient({ secretKey, apiUrl: api });
    const start = await hallpass.instance.get();
    assert.match(start.id, /^ins_/);
    assert.equal(start.environmentType, "development");
    assert.ok(Array.isArray(start.allowedOrigins) && Array.isArray(start.firstFactors));
    const environment = async () => (await fetch(`${api}/v1/environment`, { signal: AbortSignal.timeout(10_000) })).json();
    let changed;
    try {
      changed = await hallpass.instance.update({ instanceName: "Acme E2E", firstFactors: ["password", "email_code"] });
      assert.deepEqual([changed.instanceName, changed.firstFactors, changed.signUpRequiresVerifiedEmail],
        ["Acme E2E", ["password", "email_code"], start.signUpRequiresVerifiedEmail]);
      // Named as the client's fields are, whatever the wire calls them.
      assert.deepEqual(changed.overridden, ["instanceName", "firstFactors"]);
      assert.ok(changed.updatedAt > start.updatedAt);
      assert.deepEqual(await hallpass.instance.get(), changed);
      // What browsers read (the Frontend API, through the same proxy), at once.
      const env = await environment();
      assert.deepEqual([env.instance_name, env.sign_in.first_factors], ["Acme E2E", ["password", "email_code"]]);
      // No way left to sign in, a name too long, a setting of Clerk's Hallpass does not have.
      const noFactor = await hallpass.instance.update({ instanceName: "Never", firstFactors: [] }).catch((e) => e);
      assert.ok(server.isHallpassAPIResponseError(noFactor));
      assert.deepEqual([noFactor.status, noFactor.errors[0].code, noFactor.errors[0].meta.paramName],
        [422, "form_param_value_invalid", "first_factors"]);
      const long = await hallpass.instance.update({ instanceName: "x".repeat(101) }).catch((e) => e);
      assert.deepEqual([long.status, long.errors[0].code], [422, "form_param_value_invalid"]);
      const clerks = await hallpass.instance.update({ testMode: true }).catch((e) => e);
      assert.deepEqual([clerks.status, clerks.errors[0].code, clerks.errors[0].meta.paramName], [422, "form_param_unknown", "test_mode"]);
      assert.deepEqual(await hallpass.instance.get(), changed, "nothing of a refused change applied");
    } finally {
      // Back to the server's flags for the suites after this one.
      const back = await hallpass.instance.update({ instanceName: null, firstFactors: null });
      assert.deepEqual([back.instanceName, back.firstFactors, back.overridden], [start.instanceName, start.firstFactors, start.overridden]);
    }
    assert.equal((await environment()).instance_name, start.instanceName);
    const wrong = await server.createHallpassClient({ secretKey: "sk_test_wrong", apiUrl: api }).instance.get().catch((e) => e);
    assert.equal(wrong.status, 401);
  });

  test("a wrong key, an unreachable server and a server that never answers", async () => {
    const wrong = await server.createHallpassClient({ secretKey: "sk_test_wrong", apiUrl: api }).users.getUserList().catch((e) => e);
    assert.equal(wrong.status, 401);
    const down = await server.createHallpassClient({ secretKey, apiUrl: "http://127.0.0.1:9" }).users.getUserList().catch((e) => e);
    assert.deepEqual([down.status, down.errors[0].code], [0, "network_error"]);
    await control("fault?mode=hang&path=/v1/users");
    try {
      const hung = await server.createHallpassClient({ secretKey, apiUrl: api, timeoutMs: 300 }).users.getUserList().catch((e) => e);
      assert.deepEqual([hung.status, hung.errors[0].code], [0, "request_timeout"]);
    } finally {
      await control("reset");
    }
    assert.throws(() => server.createHallpassClient({ secretKey, publishableKey: "pk_test_nope" }), TypeError);
  });
});

describe("verifyWebhook", () => {
  const secret = `whsec_${Buffer.from("a webhook secret of thirty-two b").toString("base64")}`;
  const event = { object: "event", type: "user.created", data: { id: "user_1", first_name: "Ada" } };
  let Webhook;
  before(async () => {
    ({ Webhook } = await appImport("svix"));
  });

  /** A delivery signed by the real svix package, with Standard Webhooks' or Svix's header names. */
  function delivery(payload, { prefix = "webhook", at = new Date(), signWith = secret, headers = {} } = {}) {
    const id = `msg_${Math.random().toString(36).slice(2)}`;
    const signature = new Webhook(signWith).sign(id, at, payload);
    return new Request("http://app.test/api/webhooks", {
      method: "POST",
      body: payload,
      headers: { [`${prefix}-id`]: id, [`${prefix}-timestamp`]: String(Math.floor(at.getTime() / 1000)), [`${prefix}-signature`]: signature, ...headers },
    });
  }
  const refusal = (p) => p.then(() => "accepted", (e) => e.name);

  test("svix's signatures verify, with either header names; svix accepts what we accept", async () => {
    const payload = JSON.stringify(event);
    assert.deepEqual(await server.verifyWebhook(delivery(payload), { signingSecret: secret }), event);
    assert.deepEqual(await server.verifyWebhook(delivery(payload, { prefix: "svix" }), { signingSecret: secret }), event);
    // svix's own verify (it throws when it refuses) on a delivery signed the same way.
    const request = delivery(payload, { prefix: "svix" });
    assert.doesNotThrow(() => new Webhook(secret).verify(payload, Object.fromEntries(request.headers)));
  });

  test("tampered, stale, unsigned, signed with another secret, or oversized: refused", async () => {
    const payload = JSON.stringify(event);
    const tampered = delivery(payload);
    const body = payload.replace("Ada", "Eve");
    const forged = new Request(tampered.url, { method: "POST", body, headers: tampered.headers });
    assert.equal(await refusal(server.verifyWebhook(forged, { signingSecret: secret })), "WebhookVerificationError");
    assert.equal(await refusal(server.verifyWebhook(delivery(payload, { at: new Date(Date.now() - 6 * 60_000) }), { signingSecret: secret })), "WebhookVerificationError");
    assert.equal(await refusal(server.verifyWebhook(delivery(payload, { at: new Date(Date.now() + 6 * 60_000) }), { signingSecret: secret })), "WebhookVerificationError");
    const other = `whsec_${Buffer.from("another secret of thirty-two b!!").toString("base64")}`;
    assert.equal(await refusal(server.verifyWebhook(delivery(payload, { signWith: other }), { signingSecret: secret })), "WebhookVerificationError");
    const unsigned = new Request("http://app.test/api/webhooks", { method: "POST", body: payload });
    assert.equal(await refusal(server.verifyWebhook(unsigned, { signingSecret: secret })), "WebhookVerificationError");
    const huge = delivery(JSON.stringify({ ...event, pad: "x".repeat(1024 * 1024) }));
    assert.equal(await refusal(server.verifyWebhook(huge, { signingSecret: secret })), "WebhookVerificationError");
    // One valid signature among others is enough (a secret being rotated signs twice).
    const two = delivery(payload);
    const headers = new Headers(two.headers);
    headers.set("webhook-signature", `v1,${Buffer.from("x".repeat(32)).toString("base64")} ${two.headers.get("webhook-signature")}`);
    assert.deepEqual(await server.verifyWebhookPayload(payload, headers, secret), event);
    await assert.rejects(server.verifyWebhook(delivery(payload), { signingSecret: "" }), TypeError);
  });
});

describe("organizations: real tokens' o and fea claims, read exactly as Clerk's own backend reads them", () => {
  test("orgId, orgRole, orgSlug, orgPermissions and has() for an admin, a member and a custom role", async () => {
    const hallpass = server.createHallpassClient({ secretKey, apiUrl: issuer });
    const n = `${Date.now()}${Math.floor(Math.random() * 1e6)}`;
    const [admin, member, biller] = await Promise.all([fresh(), fresh(), fresh()]);
    const permission = await hallpass.organizationPermissions.createOrganizationPermission({ key: `org:invoices${n}:read`, name: "Read invoices" });
    const role = await hallpass.organizationRoles.createOrganizationRole({
      key: `org:billing${n}`, name: "Billing", permissions: [permission.key, "org:sys_memberships:read"],
    });
    const org = await hallpass.organizations.createOrganization({ name: "Acme", slug: `acme${n}`, createdBy: admin.user.id });
    assert.deepEqual([org.membersCount, (await hallpass.organizations.getOrganization({ slug: org.slug })).id], [1, org.id]);
    await hallpass.organizations.createOrganizationMembership({ organizationId: org.id, userId: member.user.id, role: "org:member" });
    await hallpass.organizations.createOrganizationMembership({ organizationId: org.id, userId: biller.user.id, role: role.key });
    const memberships = (await hallpass.organizations.getOrganizationMembershipList({ organizationId: org.id, limit: 10 })).data;
    assert.equal(memberships.length, 3);

    const clerkBackend = await appImport("@clerk/backend/internal");
    const checks = [{ role: "org:admin" }, { role: "org:member" }, { role: role.key }, { permission: permission.key },
      { permission: "org:sys_memberships:manage" }, { permission: "org:sys_memberships:read" }, { permission: "org:sys_profile:delete" },
      { feature: `invoices${n}` }, { feature: `o:invoices${n}` }, { role: "org:admin", permission: permission.key }];
    for (const user of [admin, member, biller]) {
      const token = await withActiveOrganization(user, org.id, { origin: ORIGIN });
      const state = await server.authenticateRequest(new Request("http://app.test/api", { headers: { authorization: `Bearer ${token}` } }), options());
      const auth = state.toAuth();
      const membership = memberships.find((m) => m.publicUserData.userId === user.user.id);
      // What the server says the membership is…
      assert.deepEqual([auth.orgId, auth.orgSlug, auth.orgRole], [org.id, org.slug, membership.role]);
      assert.deepEqual([...auth.orgPermissions].sort(), [...membership.permissions].sort());
      // …and what Clerk's own parser makes of the same verified claims, has() included.
      const clerk = clerkBackend.signedInAuthObject({}, token, auth.sessionClaims);
      assert.deepEqual([clerk.orgId, clerk.orgSlug, clerk.orgRole, [...clerk.orgPermissions].sort()],
        [auth.orgId, auth.orgSlug, auth.orgRole, [...auth.orgPermissions].sort()]);
      for (const check of checks) assert.equal(auth.has(check), clerk.has(check), `${membership.role} ${JSON.stringify(check)}`);
    }
    const adminAuth = (await server.authenticateRequest(new Request("http://app.test/", {
      headers: { authorization: `Bearer ${await withActiveOrganization(admin, org.id, { origin: ORIGIN })}` } }), options())).toAuth();
    assert.equal(adminAuth.has({ role: "org:admin", permission: "org:sys_memberships:manage" }), true);
    const billerAuth = (await server.authenticateRequest(new Request("http://app.test/", {
      headers: { authorization: `Bearer ${await withActiveOrganization(biller, org.id, { origin: ORIGIN })}` } }), options())).toAuth();
    assert.deepEqual([billerAuth.has({ permission: permission.key }), billerAuth.has({ role: "org:admin" })], [true, false]);
    // Back to the personal account: no organization in the token.
    const personal = (await server.authenticateRequest(new Request("http://app.test/", {
      headers: { authorization: `Bearer ${await withActiveOrganization(admin, null, { origin: ORIGIN })}` } }), options())).toAuth();
    assert.deepEqual([personal.orgId, personal.has({ role: "org:admin" })], [undefined, false]);

    // The rest of the organization client: metadata, role change, invitations, removal.
    assert.deepEqual((await hallpass.organizations.updateOrganizationMetadata(org.id, { publicMetadata: { plan: "pro" } })).publicMetadata, { plan: "pro" });
    assert.equal((await hallpass.organizations.updateOrganizationMembership({ organizationId: org.id, userId: member.user.id, role: "org:admin" })).role, "org:admin");
    const invitation = await hallpass.organizations.createOrganizationInvitation({ organizationId: org.id, emailAddress: `invitee-${n}@example.com`, role: "org:member" });
    assert.equal((await hallpass.organizations.getOrganizationInvitationList({ organizationId: org.id, status: "pending" })).data[0].id, invitation.id);
    assert.equal((await hallpass.organizations.revokeOrganizationInvitation({ organizationId: org.id, invitationId: invitation.id })).status, "revoked");
    await hallpass.organizations.deleteOrganizationMembership({ organizationId: org.id, userId: biller.user.id });
    assert.equal((await hallpass.users.getOrganizationMembershipList({ userId: biller.user.id })).totalCount, 0);
    const refusal = await hallpass.organizations.createOrganizationMembership({ organizationId: org.id, userId: member.user.id }).catch((e) => e);
    assert.deepEqual([refusal.status, refusal.errors[0].code], [422, "already_a_member_in_organization"]);
    assert.equal((await hallpass.organizations.deleteOrganization(org.id)).deleted, true);
    await hallpass.organizationRoles.deleteOrganizationRole(role.id);
    await hallpass.organizationPermissions.deleteOrganizationPermission(permission.id);
  });
});

describe("has() and the v2 organization claims, on Clerk's own test vectors", () => {
  let claims, request;
  before(async () => {
    claims = await packageFile("server/claims.js");
    request = await packageFile("server/request.js");
  });
  const authOf = (payload) => request.signedInAuthObject({ sub: "user_1", sid: "sess_1", v: 2, ...payload }, "token", {});

  test("o/fea decode: role with its prefix, permissions from per and fpm in fea order", () => {
    const auth = authOf({ fea: "o:impersonation,o:memberships", o: { id: "org_x", rol: "admin", slg: "org_test", per: "read,manage", fpm: "1,3" } });
    assert.deepEqual([auth.orgId, auth.orgRole, auth.orgSlug], ["org_x", "org:admin", "org_test"]);
    assert.deepEqual(auth.orgPermissions.sort(), ["org:impersonation:read", "org:memberships:manage", "org:memberships:read"]);
    const zero = authOf({ fea: "o:impersonation,o:memberships,o:feature3", o: { id: "o", rol: "admin", per: "read,manage", fpm: "1,3,0" } });
    assert.deepEqual(zero.orgPermissions.sort(), ["org:impersonation:read", "org:memberships:manage", "org:memberships:read"]);
    const both = authOf({ fea: "uo:impersonation,o:memberships,uo:feature3", o: { id: "o", rol: "admin", per: "read,manage", fpm: "1,3,1" } });
    assert.deepEqual(both.orgPermissions.sort(), ["org:feature3:read", "org:impersonation:read", "org:memberships:manage", "org:memberships:read"]);
    const none = authOf({ fea: "u:impersonation", o: { id: "o", rol: "admin" } });
    assert.deepEqual(none.orgPermissions, []);
    const personal = authOf({ fea: "u:impersonation,u:memberships" });
    assert.deepEqual([personal.orgId, personal.orgRole, personal.orgSlug, personal.orgPermissions], [undefined, undefined, undefined, undefined]);
    // Masks wider than any integer (54 actions), and malformed ones granting nothing.
    const per = Array.from({ length: 54 }, (_, i) => `p${i}`).join(",");
    const wide = authOf({ fea: "o:f", o: { id: "o", rol: "admin", per, fpm: (2n ** 53n + 1n).toString() } });
    assert.deepEqual(wide.orgPermissions, ["org:f:p0", "org:f:p53"]);
    for (const fpm of ["x", "-1", "1.5", "9".repeat(601)]) {
      assert.deepEqual(authOf({ fea: "o:f", o: { id: "o", rol: "admin", per: "read", fpm } }).orgPermissions, [], fpm);
    }
    assert.deepEqual(authOf({ fea: "reservations", o: { id: "o", rol: "admin", per: "read", fpm: "1" } }).orgPermissions, []);
  });

  test("has(): roles, permissions, features and plans by scope; every asked dimension must pass", () => {
    const auth = authOf({
      fea: "o:reservations,u:dashboard,uo:support-chat,o:impersonation",
      o: { id: "orgId", rol: "member", slg: "orgSlug", per: "read,manage", fpm: "2,3" },
      pla: "u:pro,o:business",
    });
    const expect = (params, want) => assert.equal(auth.has(params), want, JSON.stringify(params));
    expect({ role: "org:member" }, true);
    expect({ role: "member" }, true);
    expect({ role: "org:admin" }, false);
    expect({ permission: "org:reservations:read" }, false);
    expect({ permission: "org:reservations:manage" }, true);
    expect({ permission: "org:support-chat:read" }, true);
    expect({ permission: "reservations:manage" }, true);
    expect({ permission: "org:reservations" }, false);
    expect({ permission: "u:dashboard:read" }, false);
    expect({ feature: "org:reservations" }, true);
    expect({ feature: "user:reservations" }, false);
    expect({ feature: "user:dashboard" }, true);
    expect({ feature: "org:dashboard" }, false);
    expect({ feature: "uo:support-chat" }, false);
    expect({ feature: "reservations" }, true);
    expect({ feature: "pro" }, false);
    expect({ plan: "org:business" }, true);
    expect({ plan: "user:business" }, false);
    expect({ plan: "pro" }, true);
    expect({ role: "org:member", permission: "org:reservations:manage" }, true);
    expect({ role: "org:member", permission: "org:reservations:read" }, false);
    expect({ role: "org:member", feature: "org:dashboard" }, false);
    expect({ reverification: "strict" }, false);
    expect({}, false);
    expect({ role: null }, false);
    assert.equal(auth.has(null), false);
    const noOrg = authOf({ fea: "u:dashboard" });
    assert.equal(noOrg.has({ role: "org:member" }), false);
    assert.equal(noOrg.has({ feature: "dashboard" }), true);
  });

  test("splitByScope is Clerk's, failing closed on an element without a scope", () => {
    assert.deepEqual(claims.splitByScope("o:a, u:b ,ou:c,x:d"), { org: ["a", "c"], user: ["b", "c"] });
    assert.equal(claims.splitByScope("o:a,b"), null);
  });
});

describe("webhooks from the real server: the webhookEndpoints client and verifyWebhook on its deliveries", () => {
  test("create, deliveries and attempts, resend, secret rotation, disable, recover, list, delete", async () => {
    const hallpass = server.createHallpassClient({ secretKey, apiUrl: issuer });
    const { Webhook } = await appImport("svix");
    // A receiver on loopback that keeps every delivery's raw body and headers.
    const received = [];
    const receiver = createServer((req, res) => {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        res.writeHead(204).end();
      });
    });
    await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${receiver.address().port}/hooks`;
    const endpoint = await hallpass.webhookEndpoints.createWebhookEndpoint({ url, eventTypes: ["user.created", "user.updated"], description: "server.test.mjs" });
    try {
      assert.match(endpoint.secret, /^whsec_/);
      assert.deepEqual([endpoint.url, endpoint.eventTypes, endpoint.enabled, endpoint.disabledReason], [url, ["user.created", "user.updated"], true, null]);
      /** The events about `userId` received from the `from`th delivery on, each verified with `secret`. */
      const eventsOf = async (userId, secret, from = 0) => {
        const out = [];
        for (const { headers, body } of received.slice(from)) {
          const event = await server.verifyWebhookPayload(body, headers, secret);
          if (event.data.id === userId) out.push({ event, id: headers["webhook-id"], headers, body });
        }
        return out;
      };
      const until = async (what, check) => {
        const deadline = Date.now() + 30_000;
        for (let i = 0; i < 600 && Date.now() < deadline; i++) {
          const value = await check();
          if (value) return value;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        throw new Error(`${what}: not within 30 s (${received.length} deliveries received)`);
      };

      const someone = await signUpUser({ firstName: "Hook" });
      await hallpass.users.updateUser(someone.user.id, { firstName: "Hooked" });
      const [created, updated] = await until("user.created and user.updated", async () => {
        const events = await eventsOf(someone.user.id, endpoint.secret);
        return events.length >= 2 && events;
      });
      // The typed envelope, in commit order; svix verifies the same bytes.
      assert.deepEqual([created.event.type, updated.event.type], ["user.created", "user.updated"]);
      assert.deepEqual([created.event.object, created.event.data.first_name, updated.event.data.first_name], ["event", "Hook", "Hooked"]);
      assert.match(created.event.instance_id, /^ins_/);
      assert.deepEqual(new Webhook(endpoint.secret).verify(created.body, created.headers), created.event);
      const request = new Request("http://app.test/api/webhooks", { method: "POST", body: updated.body, headers: updated.headers });
      assert.deepEqual(await server.verifyWebhook(request, { signingSecret: endpoint.secret }), updated.event);

      // Deliveries and attempts, as the Backend API reports them.
      const deliveries = await hallpass.webhookEndpoints.getDeliveryList({ endpointId: endpoint.id, limit: 100 });
      const delivery = deliveries.data.find((d) => d.eventId === created.id);
      assert.deepEqual([delivery.eventType, delivery.status, delivery.endpointId], ["user.created", "succeeded", endpoint.id]);
      const attempts = await hallpass.webhookEndpoints.getAttemptList({ endpointId: endpoint.id, eventId: created.id });
      assert.deepEqual(attempts.data.map((a) => [a.statusCode, a.succeeded]), [[204, true]]);

      // A resend delivers the same event (same id) again.
      const before = received.length;
      const resent = await hallpass.webhookEndpoints.resendDelivery({ endpointId: endpoint.id, eventId: created.id });
      assert.equal(resent.eventId, created.id);
      await until("the resent delivery", async () => received.slice(before).some((r) => r.headers["webhook-id"] === created.id));

      // A rotated secret: the next delivery verifies with the new secret and, for 24 h, the old one.
      const rotated = await hallpass.webhookEndpoints.rotateWebhookEndpointSecret(endpoint.id);
      assert.notEqual(rotated.secret, endpoint.secret);
      assert.equal(typeof rotated.previousSecretExpiresAt, "number");
      const sinceRotation = received.length;
      await hallpass.users.updateUser(someone.user.id, { lastName: "Rotated" });
      const [next] = await until("the delivery after the rotation", async () => {
        const events = (await eventsOf(someone.user.id, rotated.secret, sinceRotation)).filter((e) => e.event.data.last_name === "Rotated");
        return events.length > 0 && events;
      });
      assert.equal(next.headers["webhook-signature"].split(" ").length, 2);
      assert.deepEqual(await server.verifyWebhookPayload(next.body, next.headers, endpoint.secret), next.event);
      await assert.rejects(server.verifyWebhookPayload(created.body, created.headers, rotated.secret), { name: "WebhookVerificationError" });

      // Disabled by hand; recover queues the endpoint's events since a time; the list has it.
      const disabled = await hallpass.webhookEndpoints.updateWebhookEndpoint(endpoint.id, { enabled: false });
      assert.deepEqual([disabled.enabled, disabled.disabledReason, disabled.secret], [false, "manual", undefined]);
      const recovery = await hallpass.webhookEndpoints.recover({ endpointId: endpoint.id, since: Date.now() - 60_000 });
      assert.ok(Number.isInteger(recovery.queued) && recovery.queued >= 3, `queued ${recovery.queued}`);
      const listed = await hallpass.webhookEndpoints.getWebhookEndpointList({ limit: 500 });
      assert.ok(listed.data.some((e) => e.id === endpoint.id && e.secret === undefined));
      assert.equal((await hallpass.webhookEndpoints.getWebhookEndpoint(endpoint.id)).description, "server.test.mjs");
      const refused = await hallpass.webhookEndpoints.createWebhookEndpoint({ url, eventTypes: ["user.signed_up"] }).catch((e) => e);
      assert.deepEqual([refused.status, refused.errors[0].meta.paramName], [422, "event_types[0]"]);
    } finally {
      const deleted = await hallpass.webhookEndpoints.deleteWebhookEndpoint(endpoint.id);
      receiver.close();
      assert.equal(deleted.deleted, true);
    }
    assert.equal((await hallpass.webhookEndpoints.getWebhookEndpoint(endpoint.id).catch((e) => e)).status, 404);
  });
});
