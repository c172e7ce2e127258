// What a verified session token says about its user: the auth object's fields (`userId`, `orgId`,
// `orgRole`, `orgSlug`, `orgPermissions`) and `has()`, derived from the claims the way Clerk's
// `@clerk/shared` does (jwtPayloadParser.ts, authorization.ts), so an app's checks port unchanged.
//
// The active organization in a v2 token (`v: 2`) is `o: { id, slg, rol, per, fpm }` plus a top-level
// `fea` (see protocol/src/claims.rs, which writes it): `rol` has no `org:` prefix; `fea` lists
// features with a scope (`o:invoices,u:beta`; `o`, `ou` and `uo` are the organization's); `per`
// lists permission actions (`read,manage`); `fpm` holds one decimal bitmask per organization
// feature, in `fea` order, whose bit `i` (least significant first) grants `org:<feature>:<per[i]>`.
//
// One difference, on malformed input only: where Clerk's parser throws (a `fea` element without a
// scope), this grants no permission (fail closed), as the Rust decoder does.

/** Longest decimal bitmask read, in digits (about 2000 actions): decoding stays linear. */
const MAX_MASK_DIGITS = 600;

/** A non-negative decimal string as bits, least significant first; `null` unless all digits. */
function decimalToBits(decimal) {
  if (decimal.length === 0 || decimal.length > MAX_MASK_DIGITS || !/^\d+$/.test(decimal)) return null;
  let remaining = decimal.replace(/^0+/, "");
  const bits = [];
  // Long division by two, most significant digit first, until nothing is left.
  while (remaining !== "") {
    let quotient = "";
    let remainder = 0;
    for (let i = 0; i < remaining.length; i++) {
      const value = remainder * 10 + remaining.charCodeAt(i) - 48;
      const digit = Math.floor(value / 2);
      if (quotient !== "" || digit !== 0) quotient += digit;
      remainder = value % 2;
    }
    bits.push(remainder === 1);
    remaining = quotient;
  }
  return bits;
}

/** `fea` split into organization and user features; `null` when an element has no scope. */
export function splitByScope(fea) {
  const org = [];
  const user = [];
  if (typeof fea !== "string" || fea === "") return { org, user };
  for (const raw of fea.split(",")) {
    const part = raw.trim();
    const colon = part.indexOf(":");
    if (colon === -1) return null;
    const scope = part.slice(0, colon);
    const value = part.slice(colon + 1);
    if (scope === "o") org.push(value);
    else if (scope === "u") user.push(value);
    else if (scope === "ou" || scope === "uo") {
      org.push(value);
      user.push(value);
    }
  }
  return { org, user };
}

/** The organization permissions of a v2 token's `o` and `fea` claims (`org:<feature>:<action>`). */
function orgPermissions(o, fea) {
  const per = typeof o.per === "string" ? o.per : "";
  const fpm = typeof o.fpm === "string" ? o.fpm : "";
  if (per === "" || fpm === "") return [];
  const scoped = splitByScope(fea);
  if (scoped === null) return [];
  const actions = per.split(",").map((p) => p.trim());
  const masks = fpm.split(",").map((m) => decimalToBits(m.trim()) ?? []);
  const out = [];
  scoped.org.forEach((feature, i) => {
    const bits = masks[i];
    if (bits === undefined) return;
    for (let j = 0; j < bits.length && j < actions.length; j++) {
      if (bits[j]) out.push(`org:${feature}:${actions[j]}`);
    }
  });
  return out;
}

/**
 * The signed-in fields of an auth object from verified session-token claims: `userId`, `sessionId`,
 * and the active organization — `undefined` without one, as Clerk's signed-in auth object has it.
 */
export function claimsToAuthProperties(claims) {
  const o = claims.v === 2 && claims.o !== null && typeof claims.o === "object" ? claims.o : null;
  const org = o !== null && typeof o.id === "string" && o.id !== "";
  return {
    userId: claims.sub,
    sessionId: claims.sid,
    orgId: org ? o.id : undefined,
    orgRole: org && typeof o.rol === "string" && o.rol !== "" ? `org:${o.rol}` : undefined,
    orgSlug: org && typeof o.slg === "string" ? o.slg : undefined,
    orgPermissions: org ? orgPermissions(o, claims.fea) : undefined,
  };
}

const prefixWithOrg = (value) => value.replace(/^(org:)*/, "org:");
const ORG_SCOPES = new Set(["o", "org", "organization"]);
const USER_SCOPES = new Set(["u", "user"]);

/** Clerk's `checkForFeatureOrPlan`: `feature`, `o:feature` or `u:feature` against a scoped list. */
function hasScoped(claim, wanted) {
  const scoped = splitByScope(claim);
  if (scoped === null) return false;
  const colon = wanted.indexOf(":");
  if (colon === -1) return scoped.org.includes(wanted) || scoped.user.includes(wanted);
  const scope = wanted.slice(0, colon);
  const id = wanted.slice(colon + 1);
  if (ORG_SCOPES.has(scope)) return scoped.org.includes(id);
  if (USER_SCOPES.has(scope)) return scoped.user.includes(id);
  return false;
}

/**
 * `has()` for an auth object, as Clerk's `createCheckAuthorization`: every dimension asked (`role`
 * and `permission` of the active organization, `feature`, `plan`, `reverification`) must pass, at
 * least one must be asked, and a signed-out user has nothing. Hallpass has no plans and no
 * reverification yet: asking for either is false (fail closed, as Clerk does without the claim).
 */
export function createHas({ userId, orgId, orgRole, orgPermissions, features, plans }) {
  return (params) => {
    if (!userId || params === null || typeof params !== "object") return false;
    const results = [];
    const { role, permission, feature, plan, reverification } = params;
    if (role !== undefined || permission !== undefined) {
      let ok = Boolean(orgId);
      if (ok && role !== undefined) {
        ok = typeof role === "string" && typeof orgRole === "string" && orgRole !== "" &&
          prefixWithOrg(orgRole) === prefixWithOrg(role);
      }
      if (ok && permission !== undefined) {
        ok = typeof permission === "string" && Array.isArray(orgPermissions) &&
          orgPermissions.includes(prefixWithOrg(permission));
      }
      results.push(ok);
    }
    if (feature !== undefined || plan !== undefined) {
      let ok = true;
      if (feature !== undefined) ok = typeof feature === "string" && Boolean(features) && hasScoped(features, feature);
      if (ok && plan !== undefined) ok = typeof plan === "string" && Boolean(plans) && hasScoped(plans, plan);
      results.push(ok);
    }
    if (reverification !== undefined) results.push(false);
    return results.length > 0 && results.every(Boolean);
  };
}
