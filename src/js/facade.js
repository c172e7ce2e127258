// The parts of the JS facade that are plain JavaScript: a few lines here, kilobytes as Rust in the
// wasm (every property set and every Request edit is a call across the boundary).

import { exchange } from "../platform/http.js";

const camel = (key) => key.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

/**
 * A wire (snake_case) resource as Clerk-style camelCase, nested resources too (a membership's
 * organization and public user data); metadata values and arrays untouched.
 */
const shape = (wire) => {
  const out = {};
  for (const key in wire) {
    const v = wire[key];
    if (key !== "object")
      out[camel(key)] = v && typeof v === "object" && !Array.isArray(v) && !key.endsWith("metadata") ? shape(v) : v;
  }
  return out;
};

/**
 * The frozen `AuthState` object from the wire user and session (or null): `isLoaded` false leaves
 * everything `undefined`, signed out is `null`s, signed in fills the Clerk-shaped fields.
 */
export function makeSnapshot(loaded, user, session, orgId, orgRole, orgSlug, orgPermissions) {
  const absent = loaded ? null : undefined;
  let u = absent;
  if (user) {
    u = shape(user);
    u.emailAddresses = user.email_addresses.map(shape);
    u.primaryEmailAddress = u.emailAddresses.find((e) => e.id === user.primary_email_address_id) ?? null;
    u.fullName = [user.first_name, user.last_name].filter(Boolean).join(" ") || null;
  }
  const snapshot = Object.freeze({
    isLoaded: loaded,
    isSignedIn: loaded ? Boolean(user) : undefined,
    user: u,
    session: session ? shape(session) : absent,
    userId: user ? user.id : absent,
    sessionId: session ? session.id : absent,
    orgId: loaded ? orgId : undefined,
    orgRole: loaded ? orgRole : undefined,
    orgSlug: loaded ? orgSlug : undefined,
    orgPermissions: loaded ? (user && orgId ? Object.freeze(orgPermissions) : null) : undefined,
  });
  return snapshot;
}

/**
 * Gives the instance `hp` its JavaScript methods:
 * - `getToken`: a plain call (`getToken()`, no options) while the token the wasm last published is
 *   good (the wasm's own verdict: `Date.now()` up to its deadline, both on the device clock) is
 *   answered here without entering the wasm; every call with options goes to the class method, so
 *   the wasm alone reads options, by one rule whether the cache is warm or cold;
 * - `fetch`: Bearer token attached, one retry with a forced new token after a 401;
 * - `subscribe`: `addListener` for React's `useSyncExternalStore` (the callback gets no argument);
 * - `useUser` and `useAuth`, whose `getToken`, `signOut` and `has` are made once here, so they keep
 *   their identity across calls.
 * The wasm keeps none of these (nothing it holds refers back to `hp`). Returns the function the wasm
 * publishes `(token or null, deadline, expiry)` with after every change (see `publisher`), which
 * also keeps the session cookie when the options ask for it.
 */
export function attach(hp, options) {
  const slow = Object.getPrototypeOf(hp).getToken;
  const cache = { token: null, until: 0, cookie: undefined };
  const getToken = (options) =>
    options == null && cache.token !== null && Date.now() <= cache.until
      ? Promise.resolve(cache.token)
      : slow.call(hp, options);
  const signOut = () => hp.signOut();
  const has = (params) => {
    const s = hp.getSnapshot();
    if (typeof params?.role === "string") return s.orgRole === params.role;
    if (typeof params?.permission === "string") return s.orgPermissions?.includes(params.permission) ?? false;
    return false;
  };
  hp.getToken = getToken;
  hp.fetch = (input, init) => authFetch(getToken, input, init);
  hp.subscribe = (callback) => hp.addListener(() => callback());
  hp.setActive = (p) => call(hp, TOUCH, [hp.getSnapshot().sessionId], { active_organization_id: p?.organization?.id ?? p?.organization });
  hp.createOrganization = (p) => call(hp, CREATE, [], { name: p?.name, slug: p?.slug }).then(shape);
  // After a change to the user, a refresh brings the new user to this tab and, through it, to every
  // tab. A forced refresh joins one already under way (the timer's, another tab's), which may carry
  // the user as it was before the change: until `done(user)` says the change is in, one more (at
  // most two). Used by updateUser, hallpass/user and hallpass/flows.
  hp._fresh = async (done) => {
    for (let i = 0, u; i < 2 && (u = hp.getSnapshot().user) && !done(u); i++) await slow.call(hp, { skipCache: true });
  };
  // The wasm reads the parameters (and names the one that does not read).
  hp.updateUser = async (p) => {
    const body = hp._settle(6, p, !1, 0);
    if (body instanceof Error) throw body;
    const changed = (await call(hp, ME, [], body)).user.updated_at;
    await hp._fresh((u) => u.updatedAt >= changed);
  };
  // For hallpass/organizations (the other routes, the resources' methods, paging) and
  // hallpass/flows (the sign-in and sign-up steps, email addresses).
  hp._org = (route, ids, body, query) => call(hp, route, ids, body, query);
  hp._shape = shape;
  hp.useUser = () => {
    const s = hp.getSnapshot();
    return { isLoaded: s.isLoaded, isSignedIn: s.isSignedIn, user: s.user };
  };
  hp.useAuth = () => {
    const s = hp.getSnapshot();
    return {
      isLoaded: s.isLoaded,
      isSignedIn: s.isSignedIn,
      userId: s.userId,
      sessionId: s.sessionId,
      orgId: s.orgId,
      orgRole: s.orgRole,
      orgSlug: s.orgSlug,
      orgPermissions: s.orgPermissions,
      getToken,
      signOut,
      has,
    };
  };
  return publisher(cache, options.sessionCookie === true);
}

// Organizations. Every call is sent from here through http.js's `exchange` (the one every request
// takes) with the session token, and settled by the wasm (`_settle`: error codes, sign-out when the
// session is over, applying `setActive`; synchronous, so no async state machine in the wasm for
// these calls). Answers are shaped and paged here, where it is smallest.

/**
 * `[method, path, answer]` of the two organization routes every app may need and `updateUser`'s;
 * hallpass/organizations has the others. They are the protocol's paths: src/core/routes.rs `ROUTES`
 * has them all, and tests/typescript.rs checks that the tables agree. Answers: 0 a resource, 1 a
 * page, 2 a session token (`setActive`).
 */
const CREATE = ["POST", "/v1/client/organizations", 0];
const TOUCH = ["POST", "/v1/client/sessions/{session_id}/touch", 2];
const ME = ["PATCH", "/v1/client/me", 0];

/**
 * `[method, path, answer]` with `ids` in the path (ids and slugs only, as the wasm's `is_path_id`:
 * nothing that could change the path). After a change to the active organization (a `PATCH` or
 * `DELETE` of it or in it: its profile, a membership, leaving, deleting it), a fresh session token
 * is fetched so that `orgRole`, `orgSlug`, `has()` and every tab's tokens say what the server now
 * says.
 */
async function call(hp, [method, path, kind], ids, body, query = "") {
  // Kind 7, a sign-in or sign-up step (hallpass/flows), is sent without a session.
  const token = kind > 6 ? undefined : (await hp.getToken()) ?? undefined;
  let bad = token || kind > 6 ? 0 : 4;
  let i = 0;
  const url =
    hp.frontendApi +
    path.replace(/{\w+}/g, () => {
      const id = ids[i++];
      if (!/^[\w-]{1,128}$/.test(id) || typeof id !== "string") bad ||= 3;
      return id;
    }) +
    query;
  // Every argument, always: a debug build of the crate (a Yew app's) checks their types.
  if (bad) throw hp._settle(bad, 0, !1, 0);
  const sentAt = Date.now();
  let outcome;
  let ok = true;
  try {
    outcome = await exchange(method, url, body, token, hp._settle(5, 0, !1, 0), "x-hallpass-server-time");
  } catch (code) {
    outcome = code;
    ok = false;
  }
  const answer = hp._settle(kind, outcome, ok, sentAt);
  if (answer instanceof Error) throw answer;
  if (!/^(GET|POST)$/.test(method) && url.includes(hp.getSnapshot().orgId)) await hp.setActive({}).catch(() => {});
  return answer;
}

/**
 * Made outside `attach`: closures share their scope, and the wasm keeps this one, so it must not be
 * able to reach `hp` (the instance could never be collected).
 *
 * The session cookie, for server-rendered pages (`hallpass/server` reads it): `__session` holds the
 * token and lives no longer than it; `__client_uat` says this browser is signed in (when, in
 * seconds; `0` once signed out) and outlives it, so the server can tell an expired cookie from a
 * signed-out browser. Written when the token changes, cleared on sign-out (`token` null).
 */
const publisher = (cache, cookie) => (token, until, expires) => {
  cache.token = token;
  cache.until = until;
  if (!cookie || token === cache.cookie) return;
  cache.cookie = token;
  const attributes = `;Path=/;SameSite=Lax${location.protocol === "https:" ? ";Secure" : ""}`;
  const life = Math.floor((expires - Date.now()) / 1000);
  document.cookie = `__session=${token ?? ""};Max-Age=${token && life > 0 ? life : 0}${attributes}`;
  document.cookie = `__client_uat=${token ? Math.floor(Date.now() / 1000) : 0};Max-Age=31536000${attributes}`;
};

/** `fetch` with the session token, retried once with a forced new token after a 401. */
async function authFetch(getToken, input, init) {
  const request = new Request(input, init);
  const send = (token) => {
    const attempt = request.clone();
    if (token) attempt.headers.set("authorization", `Bearer ${token}`);
    return fetch(attempt);
  };
  const token = await getToken();
  const response = await send(token);
  if (response.status !== 401 || !token) return response;
  return send(await getToken({ skipCache: true }));
}
