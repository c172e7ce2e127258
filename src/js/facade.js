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

/** `fetch` with the session token, retried once with a forced new token after a 401. */
export async function authFetch(getToken, input, init) {
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
