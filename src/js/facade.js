// The parts of the JS facade that are plain JavaScript: a few lines here, kilobytes as Rust in the
// wasm (every property set and every Request edit is a call across the boundary).

const camel = (key) => key.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

/** A wire (snake_case) resource as Clerk-style camelCase, metadata values untouched. */
const shape = (wire) => {
  const out = {};
  for (const key in wire) if (key !== "object") out[camel(key)] = wire[key];
  return out;
};

/**
 * The frozen `AuthState` object from the wire user and session (or null): `isLoaded` false leaves
 * everything `undefined`, signed out is `null`s, signed in fills the Clerk-shaped fields.
 */
export function makeSnapshot(loaded, user, session, orgId, orgRole, orgSlug) {
  const absent = loaded ? null : undefined;
  let u = absent;
  if (user) {
    u = shape(user);
    u.emailAddresses = user.email_addresses.map(shape);
    u.primaryEmailAddress = u.emailAddresses.find((e) => e.id === user.primary_email_address_id) ?? null;
    u.fullName = [user.first_name, user.last_name].filter(Boolean).join(" ") || null;
  }
  return Object.freeze({
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
}

/**
 * Gives the instance `hp` its JavaScript methods:
 * - `getToken`: while the token the wasm last published is good (the wasm's own verdict: `Date.now()`
 *   up to its deadline, both on the device clock), a plain call is answered here without entering
 *   the wasm; anything else goes to `slow`, the wasm;
 * - `fetch`: Bearer token attached, one retry with a forced new token after a 401;
 * - `subscribe`: `addListener` for React's `useSyncExternalStore` (the callback gets no argument).
 * Returns the function the wasm publishes `(token or null, deadline)` with after every change.
 */
export function attach(hp, slow) {
  let token = null;
  let until = 0;
  const getToken = (options) =>
    token !== null && (options == null || !(options.template || options.skipCache || options.organizationId)) &&
    Date.now() <= until
      ? Promise.resolve(token)
      : slow(options);
  hp.getToken = getToken;
  hp.fetch = (input, init) => authFetch(getToken, input, init);
  hp.subscribe = (callback) => hp.addListener(() => callback());
  return (t, u) => {
    token = t;
    until = u;
  };
}

/** `useUser()` from a snapshot. */
export const userOf = (s) => ({ isLoaded: s.isLoaded, isSignedIn: s.isSignedIn, user: s.user });

/** `useAuth()` from a snapshot and the instance's bound functions. */
export const authOf = (s, getToken, signOut, has) => ({
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
});

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
