// The JavaScript surface of the release package (pkg/web, wasm-opt'd, names minified) in headless
// Chromium against the real server behind the test proxy: what an app importing `hallpass` sees.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, control, mailbox, mailboxCode, uniqueEmail, PASSWORD, suiteBrowser } from "./harness.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// `gc()` for the test that checks instances can be collected.
const suite = suiteBrowser(["--js-flags=--expose-gc"]);
let context;

/** A fresh page with the SDK loaded (its own browser context, so its own localStorage). */
async function sdkPage() {
  context = await suite.browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e));
  await page.goto(`${suite.site.origin}/tests/e2e/fixtures/sdk.html`);
  await page.waitForFunction(() => window.ready === true);
  page.errors = errors;
  return page;
}

test("load, sign up, useUser/useAuth, getToken, sign out", async () => {
  const page = await sdkPage();
  const email = uniqueEmail("js");
  const result = await page.evaluate(async ({ api, email, password }) => {
    const { Hallpass } = window.hallpass;
    const hp = await Hallpass.load({ frontendApi: api, minTokenLifetimeMs: 1000 });
    const before = hp.useUser();
    await hp.signUp({ emailAddress: email, password, firstName: "Ada", lastName: "Lovelace" });
    const user = hp.useUser();
    const auth = hp.useAuth();
    const t1 = await auth.getToken();
    const t2 = await hp.getToken();
    const stored = Object.keys(localStorage).filter((k) => k.startsWith("hallpass:")).length;
    await auth.signOut();
    return {
      before, user, auth: { ...auth, getToken: typeof auth.getToken, signOut: typeof auth.signOut, has: typeof auth.has },
      t1, t2, stored, afterToken: await hp.getToken(), after: hp.useAuth().isSignedIn,
      storedAfter: Object.keys(localStorage).filter((k) => k.startsWith("hallpass:")).length,
    };
  }, { api, email, password: PASSWORD });
  assert.deepEqual(result.before, { isLoaded: true, isSignedIn: false, user: null });
  assert.equal(result.user.isSignedIn, true);
  assert.equal(result.user.user.fullName, "Ada Lovelace");
  assert.equal(result.user.user.primaryEmailAddress.emailAddress, email);
  assert.deepEqual(result.user.user.publicMetadata, {});
  assert.match(result.auth.userId, /^user_/);
  assert.match(result.auth.sessionId, /^sess_/);
  assert.deepEqual([result.auth.getToken, result.auth.signOut, result.auth.has], ["function", "function", "function"]);
  assert.equal(result.t1.split(".").length, 3, "a JWT");
  assert.equal(result.t1, result.t2, "served from the cache");
  assert.equal(result.stored, 1);
  assert.equal(result.afterToken, null);
  assert.equal(result.after, false);
  assert.equal(result.storedAfter, 0, "sign-out wipes storage");
  assert.deepEqual(page.errors, []);
  await context.close();
});

test("getSnapshot keeps its identity until a change, and subscribers hear changes", async () => {
  const page = await sdkPage();
  const result = await page.evaluate(async ({ api, email, password }) => {
    const { Hallpass } = window.hallpass;
    const hp = await Hallpass.load({ frontendApi: api, storage: "memory" });
    const s1 = hp.getSnapshot();
    const same = s1 === hp.getSnapshot();
    let subscribed = 0;
    const seen = [];
    const unsubscribe = hp.subscribe(() => subscribed++);
    const off = hp.addListener((state) => seen.push(state.isSignedIn));
    await hp.signUp({ emailAddress: email, password });
    const s2 = hp.getSnapshot();
    const changed = s1 !== s2 && s2 === hp.getSnapshot();
    await hp.getToken({ skipCache: true }); // a refresh that changes nothing visible
    const stable = s2 === hp.getSnapshot();
    off();
    await hp.signOut();
    unsubscribe();
    return { same, changed, stable, subscribed, seen, frozen: Object.isFrozen(s2) };
  }, { api, email: uniqueEmail("snap"), password: PASSWORD });
  assert.ok(result.same, "same object while nothing changes");
  assert.ok(result.changed, "a new object after sign-up, stable again after");
  assert.ok(result.stable, "a refresh with nothing new keeps the snapshot");
  assert.equal(result.subscribed, 2, "sign-up and sign-out");
  assert.deepEqual(result.seen, [true], "the listener was removed before sign-out");
  assert.ok(result.frozen);
  await context.close();
});

test("failures throw HallpassError with a stable code", async () => {
  const page = await sdkPage();
  const email = uniqueEmail("err");
  const result = await page.evaluate(async ({ api, email, password }) => {
    const { Hallpass, isHallpassError } = window.hallpass;
    const caught = async (p) => p.then(() => null, (e) => ({ name: e.name, code: e.code, status: e.status,
      message: e.message, is: isHallpassError(e), isError: e instanceof Error }));
    const hp = await Hallpass.load({ frontendApi: api, storage: "memory" });
    await hp.signUp({ emailAddress: email, password });
    await hp.signOut();
    return {
      wrong: await caught(hp.signIn({ identifier: email, password: "not the password" })),
      weak: await caught(hp.signUp({ emailAddress: `x${email}`, password: "short" })),
      missing: await caught(hp.signUp({ password })),
      noApi: await caught(Hallpass.load({})),
      badStorage: await caught(Hallpass.load({ frontendApi: api, storage: "cookies" })),
      notObject: await caught(Hallpass.load("http://x")),
      plain: isHallpassError(new Error("x")),
    };
  }, { api, email, password: PASSWORD });
  assert.deepEqual({ ...result.wrong, message: undefined },
    { name: "HallpassError", code: "form_password_incorrect", status: result.wrong.status, message: undefined, is: true, isError: true });
  assert.ok(result.wrong.status >= 400 && result.wrong.status < 500);
  assert.equal(result.weak.code, "form_password_length_too_short");
  assert.equal(result.missing.code, "form_param_missing");
  assert.equal(result.noApi.code, "invalid_options");
  assert.equal(result.badStorage.code, "invalid_options");
  assert.equal(result.notObject.code, "invalid_options");
  assert.equal(result.plain, false);
  await context.close();
});

test("a reload is signed in at once, and fetch attaches the token", async () => {
  const page = await sdkPage();
  const userId = await page.evaluate(async ({ api, email, password }) => {
    const hp = await window.hallpass.Hallpass.load({ frontendApi: api });
    await hp.signUp({ emailAddress: email, password });
    return hp.useAuth().userId;
  }, { api, email: uniqueEmail("reload"), password: PASSWORD });
  await page.reload();
  await page.waitForFunction(() => window.ready === true);
  const result = await page.evaluate(async ({ api }) => {
    const hp = await window.hallpass.Hallpass.load({ frontendApi: api });
    const atLoad = hp.useAuth().userId;
    const res = await hp.fetch(`${api}/v1/client/me`);
    const body = await res.json();
    const unauthenticated = await fetch(`${api}/v1/client/me`);
    await hp.signOut();
    return { atLoad, status: res.status, me: body.user.id, bare: unauthenticated.status };
  }, { api });
  assert.equal(result.atLoad, userId, "signed in from storage, before any request");
  assert.equal(result.status, 200);
  assert.equal(result.me, userId);
  assert.equal(result.bare, 401, "the same call without the SDK's token is refused");
  await control("reset");
  await context.close();
});

test("getToken({ template }) mints and caches a template token; useAuth() keeps its functions", async () => {
  const name = `js_${Date.now()}`;
  const created = await fetch(`${api}/__control/backend?method=POST&path=/v1/jwt_templates`, {
    method: "POST",
    body: JSON.stringify({ name, claims: { role: "authenticated", email: "{{user.primary_email_address}}" } }),
  });
  assert.equal(created.status, 200, await created.text());
  const page = await sdkPage();
  const email = uniqueEmail("tmpl");
  const result = await page.evaluate(async ({ api, email, password, name }) => {
    const { Hallpass } = window.hallpass;
    const hp = await Hallpass.load({ frontendApi: api, storage: "memory", minTokenLifetimeMs: 1000 });
    await hp.signUp({ emailAddress: email, password });
    const claims = (jwt) => JSON.parse(atob(jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    const session = await hp.getToken();
    const template = await hp.getToken({ template: name });
    const again = await hp.getToken({ template: name });
    const bad = await hp.getToken({ template: 5 }).catch((e) => e.code);
    const unknown = await hp.getToken({ template: "nope" }).catch((e) => e.code);
    const org = await hp.getToken({ organizationId: "org_1" }).catch((e) => e.code);
    // The same stable functions from every useAuth().
    const a1 = hp.useAuth(), a2 = hp.useAuth();
    const same = a1.getToken === a2.getToken && a1.signOut === a2.signOut && a1.has === a2.has;
    const cached = (await hp.getToken()) === session;
    await hp.signOut();
    return { session, template, again, claims: claims(template), bad, unknown, org, same, cached,
      afterSignOut: await hp.getToken({ template: name }) };
  }, { api, email, password: PASSWORD, name });
  assert.notEqual(result.template, result.session);
  assert.equal(result.again, result.template, "cached");
  assert.equal(result.claims.role, "authenticated");
  assert.equal(result.claims.email, email);
  assert.match(result.claims.sid, /^sess_/);
  assert.equal(result.bad, "invalid_options");
  assert.equal(result.unknown, "resource_not_found");
  assert.equal(result.org, "resource_not_found", "never a token for an organization the user is not in");
  assert.equal(result.same, true);
  assert.equal(result.cached, true, "the session token is still the cached one");
  assert.equal(result.afterSignOut, null);
  assert.deepEqual(page.errors, []);
  await context.close();
});

test("getToken's options are read by one rule, whether the cached token is fresh or not", async () => {
  const page = await sdkPage();
  const result = await page.evaluate(async ({ api, email, password }) => {
    const { Hallpass } = window.hallpass;
    const code = (p) => p.then((t) => (typeof t === "string" ? "token" : t), (e) => e.code);
    const ask = async (hp) => ({
      empty: await code(hp.getToken({ template: "" })),
      number: await code(hp.getToken({ template: 5 })),
      slash: await code(hp.getToken({ template: "a/b" })),
      org: await code(hp.getToken({ organizationId: "org_1" })),
      orgPath: await code(hp.getToken({ organizationId: "../x" })),
      orgNumber: await code(hp.getToken({ organizationId: 5 })),
      orgNull: await code(hp.getToken({ organizationId: null })),
      plain: await code(hp.getToken({})),
      noSkip: await code(hp.getToken({ skipCache: false, template: undefined })),
    });
    const warm = await Hallpass.load({ frontendApi: api, storage: "memory" });
    await warm.signUp({ emailAddress: email, password });
    // Demands more lifetime than any token has: the cache is never fresh, every call is cold.
    const cold = await Hallpass.load({ frontendApi: api, storage: "memory", minTokenLifetimeMs: 3_600_000 });
    await cold.signIn({ identifier: email, password });
    const answers = { warm: await ask(warm), cold: await ask(cold) };
    await warm.signOut();
    await cold.signOut();
    return answers;
  }, { api, email: uniqueEmail("rule"), password: PASSWORD });
  const expected = { empty: "invalid_options", number: "invalid_options", slash: "invalid_options",
    org: "resource_not_found", orgPath: "invalid_options", orgNumber: "invalid_options", orgNull: "token",
    plain: "token", noSkip: "token" };
  assert.deepEqual(result.warm, expected);
  assert.deepEqual(result.cold, expected);
  await context.close();
});

test("an instance the app lets go of is garbage-collected: nothing the wasm keeps holds it", async () => {
  const page = await sdkPage();
  const collected = await page.evaluate(async ({ api, email, password }) => {
    const { Hallpass } = window.hallpass;
    const seen = [];
    const registry = new FinalizationRegistry((tag) => seen.push(tag));
    const kinds = ["memory", "local", "session"];
    for (const [i, storage] of kinds.entries()) {
      await (async () => {
        const hp = await Hallpass.load({ frontendApi: api, storage, minTokenLifetimeMs: 1000 });
        if (i === 0) await hp.signUp({ emailAddress: email, password });
        await hp.getToken();
        hp.useAuth().has({ role: "x" });
        hp.useUser();
        hp.subscribe(() => {})();
        registry.register(hp, storage);
      })();
    }
    for (let k = 0; k < 40 && seen.length < kinds.length; k++) {
      gc();
      await new Promise((r) => setTimeout(r, 50));
    }
    return seen.sort();
  }, { api, email: uniqueEmail("gc"), password: PASSWORD });
  assert.deepEqual(collected, ["local", "memory", "session"]);
  await context.close();
});

test("a change made while a refresh is under way is in useUser() when it resolves: updateUser, hallpass/user, hallpass/flows", async () => {
  // The race of a timer's refresh with a change: the change is sent; a refresh starts and the server
  // answers it with the user as it was (the test proxy holds the change 1 s before passing it on,
  // and passes the refresh's answer on 1.5 s late); the change's answer then arrives while that
  // refresh is still on its way, and the change's own refresh joins it. Every method must still
  // resolve with the change in useUser().
  const page = await sdkPage();
  const email = uniqueEmail("fresh");
  const second = uniqueEmail("fresh-second");
  await page.evaluate(async ({ api, email, password }) => {
    window.hp = await window.hallpass.Hallpass.load({ frontendApi: api, minTokenLifetimeMs: 1000 });
    await window.hp.signUp({ emailAddress: email, password });
    window.user = await import("/pkg/npm/user.js");
    window.flows = await import("/pkg/npm/flows.js");
  }, { api, email, password: PASSWORD });
  const counted = async (key) => {
    for (let i = 0; i < 400 && !(await control("counts"))[key]; i++) await sleep(25);
    assert.equal((await control("counts"))[key], 1, key);
  };
  const raced = async (request, change, arg) => {
    const path = request.split(" ")[1];
    await control("reset");
    // A fresh token first (5 s tokens), so that the change is sent with no refresh before it.
    await page.evaluate(() => window.hp.getToken({ skipCache: true }));
    await control(`fault?mode=delay&ms=1000&path=${path}&times=1`);
    await control("fault?mode=late&ms=1500&path=/v1/client/refresh&times=1&also=1");
    const seen = page.evaluate(change, arg);
    await counted(request);
    await page.evaluate(() => { window.stale = window.hp.getToken({ skipCache: true }); });
    await counted("late POST /v1/client/refresh");
    await page.evaluate(() => window.stale);
    return seen;
  };

  assert.equal(await raced("PATCH /v1/client/me", async () => {
    await window.hp.updateUser({ firstName: "Grace" });
    return window.hp.useUser().user.firstName;
  }), "Grace");
  assert.deepEqual(await raced("POST /v1/client/me/change_password", async (password) => {
    const answer = await window.user.updatePassword(window.hp, { currentPassword: password, newPassword: `${password} 2` });
    return [window.hp.useUser().user.updatedAt >= answer.updatedAt, answer.updatedAt > 0];
  }, PASSWORD), [true, true]);
  const png = "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGM4o6QERAwQCgAgdgRBhNis/gAAAABJRU5ErkJggg==";
  const image = await raced("POST /v1/client/me/profile_image", async (png) => {
    const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
    const answer = await window.user.setProfileImage(window.hp, { file: new Blob([bytes], { type: "image/png" }) });
    return [window.hp.useUser().user.imageUrl, answer.publicUrl];
  }, png);
  assert.match(image[1], /\/v1\/images\/img_/);
  assert.equal(image[0], image[1]);
  assert.equal(await raced("DELETE /v1/client/me/profile_image", async () => {
    await window.user.setProfileImage(window.hp, { file: null });
    return window.hp.useUser().user.imageUrl;
  }), "");

  // A further address: added and sent its code (no race yet), then verified, then removed.
  const id = await page.evaluate(async (second) => {
    window.address = await window.flows.createEmailAddress(window.hp, { email: second });
    await window.address.prepareVerification({ strategy: "email_code" });
    return window.address.id;
  }, second);
  const code = await mailboxCode(second);
  assert.equal(await raced(`POST /v1/client/me/email_addresses/${id}/attempt_verification`, async (code) => {
    await window.address.attemptVerification({ code });
    return window.hp.useUser().user.emailAddresses.find((e) => e.id === window.address.id)?.verification?.status;
  }, code), "verified");
  assert.equal(await raced(`DELETE /v1/client/me/email_addresses/${id}`, async () => {
    await window.address.destroy();
    return window.hp.useUser().user.emailAddresses.some((e) => e.id === window.address.id);
  }), false);
  await control("reset");
  assert.deepEqual(page.errors, []);
  await context.close();
});

test("hallpass/flows: a refused resend leaves the link sent before working, and its wait still signs this tab in", async () => {
  const page = await sdkPage();
  const email = uniqueEmail("relink");
  await page.evaluate(async ({ api, email, password }) => {
    window.hp = await window.hallpass.Hallpass.load({ frontendApi: api });
    await window.hp.signUp({ emailAddress: email, password });
    await window.hp.signOut();
    window.flows = await import("/pkg/npm/flows.js");
    const signIn = window.flows.getSignIn(window.hp);
    await signIn.create({ identifier: email });
    window.first = signIn.createEmailLinkFlow().startEmailLinkFlow({ redirectUrl: location.href });
  }, { api, email, password: PASSWORD });
  const link = (await mailbox(email)).magic_link;
  assert.match(link, /\/v1\/verify\?token=/);
  // Sent again at once: refused (the resend cooldown), and nothing is sent.
  assert.equal(await page.evaluate(async () => {
    try {
      await window.flows.getSignIn(window.hp).createEmailLinkFlow().startEmailLinkFlow({ redirectUrl: location.href });
      return "sent";
    } catch (error) {
      return error.code;
    }
  }), "rate_limited");
  assert.equal((await mailbox(email)).magic_link, link);
  // The first link opened (its page's form, as the browser that opens it posts it): the first wait
  // ends here, signed in.
  const used = await fetch(`${api}/v1/verify`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token: new URL(link).searchParams.get("token") }),
    redirect: "manual",
  });
  assert.equal(used.status, 303);
  assert.deepEqual(await page.evaluate(async () => {
    const outcome = await Promise.race([window.first, new Promise((r) => setTimeout(() => r("still waiting"), 20_000))]);
    return [outcome?.status ?? outcome, window.hp.useUser().isSignedIn];
  }), ["complete", true]);
  assert.deepEqual(page.errors, []);
  await context.close();
});
