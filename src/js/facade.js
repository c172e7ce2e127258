// The parts of the JS facade that are plain JavaScript: a few lines here, kilobytes as Rust in the
// wasm (every property set and every Request edit is a call across the boundary).

const camel = (key) => key.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

/** A wire (snake_case) resource as Clerk-style camelCase, metadata values untouched. */
const shape = (wire) => {
  const out = {};
  for (const key in wire) if (key !== "object") out[camel(key)] = wire[key];
  return out;
};

/** The active organization's permissions of each snapshot, for `has()` (not part of `AuthState`). */
const permissions = new WeakMap();

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
  });
  permissions.set(snapshot, orgPermissions);
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
    if (typeof params?.permission === "string") return permissions.get(s)?.includes(params.permission) ?? false;
    return false;
  };
  hp.getToken = getToken;
  hp.fetch = (input, init) => authFetch(getToken, input, init);
  hp.subscribe = (callback) => hp.addListener(() => callback());
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
      getToken,
      signOut,
      has,
    };
  };
  return publisher(cache, options.sessionCookie === true);
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
