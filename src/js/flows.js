// `hallpass/flows`: Clerk's multi-step sign-in and sign-up — the `SignIn` and `SignUp` resources with
// their first-factor and verification steps (email code, email link, password, password reset), the
// email-link flow, and the user's further email addresses — over a loaded `Hallpass`.
//
// Opt-in, outside the headless SDK's size budget (as hallpass/organizations): the headless SDK keeps
// its one-request `signIn({ identifier, password })` / `signUp(…)`. Every request here goes through
// the core's one path (`hp._org`: http.js's `exchange` with its deadline, settled by the wasm, which
// turns errors into `HallpassError`s with the server's codes and adopts the session a completing step
// carries exactly as a password sign-in's: storage, every tab, the token cache). Answers are shaped
// as every resource (`hp._shape`: camelCase). The routes are the protocol's paths
// (tests/typescript.rs checks them). The Yew hooks use this same file (src/yew/flows.rs), and
// `hallpass/react`'s `useSignIn()` / `useSignUp()` / `useUser()`.
//
// The session: the step that completes an attempt carries it once, and the SDK adopts it there (it
// is never held in JavaScript). `setActive({ session })` — Clerk's next line — then confirms it is
// the active one and resolves with a fresh token.

/** `[method, path, answer]`: 7 a sign-in or sign-up step (no session token), 0 a resource. */
const SIGN_INS = ["POST", "/v1/client/sign_ins", 7];
const SIGN_IN = ["GET", "/v1/client/sign_ins/{id}", 7];
const PREPARE_FIRST_FACTOR = ["POST", "/v1/client/sign_ins/{id}/prepare_first_factor", 7];
const ATTEMPT_FIRST_FACTOR = ["POST", "/v1/client/sign_ins/{id}/attempt_first_factor", 7];
const RESET_PASSWORD = ["POST", "/v1/client/sign_ins/{id}/reset_password", 7];
const SIGN_UPS = ["POST", "/v1/client/sign_ups", 7];
const SIGN_UP = ["GET", "/v1/client/sign_ups/{id}", 7];
const PREPARE_VERIFICATION = ["POST", "/v1/client/sign_ups/{id}/prepare_verification", 7];
const ATTEMPT_VERIFICATION = ["POST", "/v1/client/sign_ups/{id}/attempt_verification", 7];
const ENVIRONMENT = ["GET", "/v1/environment", 7];
const CREATE_EMAIL = ["POST", "/v1/client/me/email_addresses", 0];
const GET_EMAIL = ["GET", "/v1/client/me/email_addresses/{id}", 0];
const DELETE_EMAIL = ["DELETE", "/v1/client/me/email_addresses/{id}", 0];
const PREPARE_EMAIL = ["POST", "/v1/client/me/email_addresses/{id}/prepare_verification", 0];
const ATTEMPT_EMAIL = ["POST", "/v1/client/me/email_addresses/{id}/attempt_verification", 0];

/** Tries a code gets (the protocol's `Verification::MAX_ATTEMPTS`). */
const MAX_ATTEMPTS = 5;
/** How long after a code or link was sent the same strategy may be sent again (Clerk's UI waits 30 s). */
export const RESEND_COOLDOWN_MS = 30_000;
/** How often the email-link flow asks whether the link was opened (Clerk's poller: 2 s). */
const POLL_MS = 2_000;
/** The codes after which a code step reloads its resource: its verification changed. */
const CODE_ERRORS = ["form_code_incorrect", "verification_failed", "verification_expired"];

/** An error as the SDK throws them (`isHallpassError` is true), for what is refused here. */
const refuse = (code, message, retryAfter) =>
  Object.assign(new Error(message), { name: "HallpassError", code, retryAfter });

/** The attempt in a step's answer (`sign_in` / `sign_up`), or `invalid_response`. */
const attempt = (answer, key) => {
  const w = answer?.[key];
  if (typeof w?.id !== "string") throw refuse("invalid_response", "the server's answer has no attempt");
  return w;
};

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.onabort = () => {
      clearTimeout(t);
      resolve();
    };
  });

/**
 * The state every resource here shares: its last wire object (`_wire`, read by the Yew hooks), a
 * version and listeners (hallpass/react re-renders on a change), the send cooldowns by strategy, and
 * the email-link flow in progress.
 */
function base(hp, read) {
  const listeners = new Set();
  const r = {};
  // Not enumerable: a resource spreads, compares and prints as its Clerk fields and methods.
  const hidden = {
    _hp: hp,
    _wire: null,
    _version: 0,
    _sent: {},
    _flow: null,
    _subscribe(f) {
      listeners.add(f);
      return () => listeners.delete(f);
    },
    _set(wire) {
      r._wire = wire;
      Object.assign(r, read(wire));
      r._version++;
      for (const f of [...listeners]) f();
      return r;
    },
  };
  for (const key in hidden) Object.defineProperty(r, key, { value: hidden[key], writable: true });
  /** When `strategy` may be sent again (ms since the epoch; 0: now). */
  r.resendAvailableAt = (strategy) => r._sent[strategy] ?? 0;
  return r;
}

/** Refuses a second send of `strategy` within the cooldown; records this one. */
function cooldown(r, strategy) {
  const left = r.resendAvailableAt(strategy) - Date.now();
  if (left > 0) throw refuse("rate_limited", `wait ${Math.ceil(left / 1000)} s before sending another email`, Math.ceil(left / 1000));
  r._sent[strategy] = Date.now() + RESEND_COOLDOWN_MS;
}

/**
 * Sends a step and takes its answer (`pick` reads the attempt out of it); a code that was wrong,
 * expired or used up reloads the resource first (its verification's `attempts` and `status` moved)
 * and says on the error how many tries are left (`attemptsLeft`).
 */
async function step(r, route, body, pick, verification) {
  try {
    const answer = await r._hp._org(route, r.id ? [r.id] : [], body);
    // A session the wasm could not take (a malformed answer) is the server's fault, said here.
    if (answer?.jwt !== undefined && r._hp.getSnapshot().sessionId !== answer.session?.id) {
      throw refuse("invalid_response", "the server's answer carries a session the SDK could not read");
    }
    return r._set(pick(answer));
  } catch (error) {
    if (CODE_ERRORS.includes(error?.code) && r.id) {
      await r.reload().catch(() => {});
      const v = verification(r);
      if (v) error.attemptsLeft = v.status === "unverified" ? Math.max(0, MAX_ATTEMPTS - v.attempts) : 0;
    }
    throw error;
  }
}

/** Stops every wait for a link of `r` (one being sent, and the one before it). */
function stopWaiting(r) {
  r._flow?.previous?.abort();
  r._flow?.abort();
  r._flow = null;
}

/**
 * The email-link flow (Clerk's `createEmailLinkFlow()`): `start` sends the link, then asks every 2 s
 * whether it was opened — in this tab, another one or another browser — until the attempt is
 * complete (this tab is signed in: the step carried the session) or the link expired or failed;
 * resolves with the resource. At most until the link expires (and one more ask). `cancel` stops
 * asking; the promise then stays pending, as Clerk's.
 */
function linkFlow(r, prepare, verification, done) {
  return {
    async start(params) {
      // The wait for a link sent before goes on until this one is sent: a refused send (the
      // cooldown, a limit, offline) leaves that link working, and its wait ends when it is opened.
      const flow = new AbortController();
      flow.previous = r._flow;
      r._flow = flow;
      try {
        await prepare(params);
      } catch (error) {
        if (r._flow === flow) r._flow = flow.previous;
        throw error;
      }
      flow.previous?.abort();
      flow.previous = null;
      const until = (verification(r)?.expireAt ?? Date.now()) + POLL_MS;
      for (let i = 0; i < 1000 && Date.now() <= until; i++) {
        await sleep(POLL_MS, flow.signal);
        if (flow.signal.aborted) return new Promise(() => {});
        try {
          await r.reload();
        } catch (error) {
          // A failed ask is asked again (offline, a timeout, a 5xx); the server's refusal ends it.
          if (error?.status === undefined || error.status >= 500 || error.status === 429) continue;
          throw error;
        }
        const v = verification(r);
        if (done(r) || v?.status === "expired" || v?.status === "failed") break;
      }
      if (r._flow === flow) r._flow = null;
      return r;
    },
    cancel: () => stopWaiting(r),
  };
}

/** A resource answer (an object with a string `id`), or `invalid_response`. */
const checked = (w) => {
  if (typeof w?.id !== "string") throw refuse("invalid_response", "the server's answer is not a resource");
  return w;
};

/**
 * A verification as shaped; a completed attempt whose answer no longer has one (the server drops a
 * used code or link) keeps the one it had, verified — as Clerk's complete resources show it.
 */
const verificationOf = (hp, wire, w, before) =>
  wire ? hp._shape(wire) : w.status === "complete" && before ? { ...before, status: "verified" } : null;

/**
 * A sign-in (Clerk's `SignInResource`): `status` is `null` until `create`, then
 * `"needs_first_factor"`, `"needs_new_password"` or `"complete"` (with `createdSessionId`: this
 * instance is signed in).
 */
function newSignIn(hp) {
  const read = (w) => ({
    id: w.id,
    status: w.status,
    identifier: w.identifier,
    supportedFirstFactors: (w.supported_first_factors ?? []).map((f) => hp._shape(f)),
    firstFactorVerification: verificationOf(hp, w.first_factor_verification, w, r.firstFactorVerification),
    createdSessionId: w.created_session_id ?? null,
    abandonAt: w.abandon_at,
  });
  const r = base(hp, read);
  Object.assign(r, { id: null, status: null, identifier: null, supportedFirstFactors: [], firstFactorVerification: null, createdSessionId: null, abandonAt: null });
  const pick = (answer) => attempt(answer, "sign_in");
  const v = (s) => s.firstFactorVerification;
  const send = (route, body) => step(r, route, body, pick, v);

  /**
   * `{ identifier, password? }` completes at once with a right password; with `strategy`
   * (`email_code`, `email_link` with `redirectUrl`, `reset_password_email_code`) the factor is
   * prepared too (sent by email), as Clerk's `create({ identifier, strategy })`.
   */
  r.create = async (p) => {
    stopWaiting(r);
    r.id = null;
    r.firstFactorVerification = null;
    r._sent = {};
    await send(SIGN_INS, { identifier: p?.identifier, password: p?.password });
    if (p?.strategy && p.strategy !== "password" && r.status === "needs_first_factor") await r.prepareFirstFactor(p);
    return r;
  };
  /** Sends the code or link of `strategy` (`emailAddressId` is accepted and not needed: one address). */
  r.prepareFirstFactor = async (p) => {
    cooldown(r, p?.strategy);
    return send(PREPARE_FIRST_FACTOR, { strategy: p?.strategy, redirect_url: p?.redirectUrl }).catch((error) => {
      r._sent[p?.strategy] = 0;
      throw error;
    });
  };
  /** `{ strategy: "email_code" | "reset_password_email_code", code }` or `{ strategy: "password", password }`. */
  r.attemptFirstFactor = (p) => send(ATTEMPT_FIRST_FACTOR, { strategy: p?.strategy, code: p?.code, password: p?.password });
  /**
   * The new password after a right reset code; signs in. The user's other sessions are always
   * signed out (`signOutOfOtherSessions` cannot keep them).
   */
  r.resetPassword = (p) => send(RESET_PASSWORD, { password: p?.password });
  r.reload = () => send(SIGN_IN);
  r.createEmailLinkFlow = () => {
    const flow = linkFlow(
      r,
      (p) => r.prepareFirstFactor({ strategy: "email_link", redirectUrl: p?.redirectUrl }),
      v,
      (s) => s.status === "complete",
    );
    return { startEmailLinkFlow: flow.start, cancelEmailLinkFlow: flow.cancel };
  };
  return r;
}

/**
 * A sign-up (Clerk's `SignUpResource`): `status` is `null` until `create`, then
 * `"missing_requirements"` (`unverifiedFields: ["email_address"]`: verify it by code or link) or
 * `"complete"` (with `createdSessionId`: this instance is signed in), or `"abandoned"`.
 */
function newSignUp(hp) {
  const read = (w) => ({
    id: w.id,
    status: w.status,
    emailAddress: w.email_address,
    firstName: w.first_name ?? null,
    lastName: w.last_name ?? null,
    unsafeMetadata: w.unsafe_metadata,
    passwordEnabled: w.password_enabled,
    requiredFields: w.required_fields ?? [],
    missingFields: w.missing_fields ?? [],
    unverifiedFields: w.unverified_fields ?? [],
    verifications: { emailAddress: verificationOf(hp, w.verifications?.email_address, w, r.verifications.emailAddress) },
    createdUserId: w.created_user_id ?? null,
    createdSessionId: w.created_session_id ?? null,
    abandonAt: w.abandon_at,
  });
  const r = base(hp, read);
  Object.assign(r, { id: null, status: null, emailAddress: null, firstName: null, lastName: null, unsafeMetadata: {}, passwordEnabled: false, requiredFields: [], missingFields: [], unverifiedFields: [], verifications: { emailAddress: null }, createdUserId: null, createdSessionId: null, abandonAt: null });
  const pick = (answer) => attempt(answer, "sign_up");
  const v = (s) => s.verifications.emailAddress;
  const send = (route, body) => step(r, route, body, pick, v);

  /** `{ emailAddress, password?, firstName?, lastName?, unsafeMetadata? }`; no password: passwordless. */
  r.create = async (p) => {
    stopWaiting(r);
    r.id = null;
    r.verifications = { emailAddress: null };
    r._sent = {};
    return send(SIGN_UPS, {
      email_address: p?.emailAddress,
      password: p?.password,
      first_name: p?.firstName,
      last_name: p?.lastName,
      unsafe_metadata: p?.unsafeMetadata,
    });
  };
  /** Sends the code (`email_code`) or the link (`email_link`, to `redirectUrl`). */
  r.prepareEmailAddressVerification = async (p) => {
    const strategy = p?.strategy ?? "email_code";
    cooldown(r, strategy);
    return send(PREPARE_VERIFICATION, { strategy, redirect_url: p?.redirectUrl }).catch((error) => {
      r._sent[strategy] = 0;
      throw error;
    });
  };
  /** `{ code }`: completes the sign-up (the user and their session). */
  r.attemptEmailAddressVerification = (p) => send(ATTEMPT_VERIFICATION, { code: p?.code });
  r.reload = () => send(SIGN_UP);
  r.createEmailLinkFlow = () => {
    const flow = linkFlow(
      r,
      (p) => r.prepareEmailAddressVerification({ strategy: "email_link", redirectUrl: p?.redirectUrl }),
      v,
      (s) => s.status === "complete",
    );
    return { startEmailLinkFlow: flow.start, cancelEmailLinkFlow: flow.cancel };
  };
  return r;
}

/** One sign-in and one sign-up per instance, as Clerk's `client.signIn` / `client.signUp`. */
const signIns = new WeakMap();
const signUps = new WeakMap();
const once = (map, hp, make) => {
  let r = map.get(hp);
  if (!r) map.set(hp, (r = make(hp)));
  return r;
};

/** The instance's sign-in (Clerk's `clerk.client.signIn`): the same object until the page unloads. */
export const getSignIn = (hp) => once(signIns, hp, newSignIn);

/** The instance's sign-up (Clerk's `clerk.client.signUp`). */
export const getSignUp = (hp) => once(signUps, hp, newSignUp);

/**
 * Clerk's `setActive`: `{ session }` (an id or the session) confirms the session a completed step
 * made is this instance's (adopted already: resolves with a fresh token); `{ session: null }` signs
 * out; `{ organization }` sets the active organization as the SDK's own `setActive`.
 */
export function setActive(hp, params) {
  const session = params?.session?.id ?? params?.session;
  if (session === null) return hp.signOut();
  if (session !== undefined && session !== hp.getSnapshot().sessionId) {
    return Promise.reject(refuse("resource_not_found", "that session is not this instance's: complete a sign-in or sign-up first"));
  }
  return hp.setActive(params?.organization === undefined ? {} : params);
}

/** The instance's settings (`GET /v1/environment`): which first factors are on, the password rules, … */
export const getEnvironment = (hp) => hp._org(ENVIRONMENT, []).then((w) => hp._shape(w));

/**
 * The user's email address as Clerk's `EmailAddressResource`: `prepareVerification({ strategy,
 * redirectUrl })`, `attemptVerification({ code })`, `createEmailLinkFlow()`, `destroy()`,
 * `reload()`. Once verified (or destroyed) the user is fetched again, so every tab's `user` shows it.
 */
function emailAddress(hp, wire, shaped) {
  const r = base(hp, (w) => hp._shape(w));
  if (wire) r._set(wire);
  else Object.assign(r, shaped);
  const v = (s) => s.verification;
  const send = (route, body) => step(r, route, body, checked, v);
  // Every tab's user shows the change; a refresh under way may still carry the address as it was.
  const refreshUser = async (answer) => {
    const mine = (u) => u.emailAddresses.find((e) => e.id === r.id);
    if (answer.deleted) await hp._fresh((u) => !mine(u));
    else if (answer.verification?.status === "verified") await hp._fresh((u) => mine(u)?.verification?.status === "verified");
    return answer;
  };
  r.prepareVerification = async (p) => {
    const strategy = p?.strategy ?? "email_code";
    cooldown(r, strategy);
    return send(PREPARE_EMAIL, { strategy, redirect_url: p?.redirectUrl }).catch((error) => {
      r._sent[strategy] = 0;
      throw error;
    });
  };
  r.attemptVerification = (p) => send(ATTEMPT_EMAIL, { code: p?.code }).then(refreshUser);
  r.reload = () => send(GET_EMAIL);
  r.destroy = () => hp._org(DELETE_EMAIL, [r.id]).then((w) => refreshUser(hp._shape(w)));
  r.createEmailLinkFlow = () => {
    const flow = linkFlow(
      r,
      (p) => r.prepareVerification({ strategy: "email_link", redirectUrl: p?.redirectUrl }),
      v,
      (s) => s.verification?.status === "verified",
    );
    return {
      startEmailLinkFlow: (p) => flow.start(p).then(refreshUser),
      cancelEmailLinkFlow: flow.cancel,
    };
  };
  return r;
}

/**
 * Adds an email address to the signed-in user (Clerk's `user.createEmailAddress({ email })`):
 * unverified, and not theirs until verified (`prepareVerification`, then `attemptVerification` or the
 * link) — it joins `user.emailAddresses` then.
 */
export const createEmailAddress = (hp, params) =>
  hp._org(CREATE_EMAIL, [], { email_address: params?.email }).then((w) => emailAddress(hp, checked(w)));

/**
 * The user of a snapshot (`hp.useUser().user`) with Clerk's methods: `createEmailAddress`, and each
 * of `emailAddresses` (and `primaryEmailAddress`) as an `EmailAddressResource`. Made once per user
 * object (a snapshot keeps its objects until something changes).
 */
const users = new WeakMap();
export function withUserResources(hp, user) {
  if (!user || typeof user !== "object") return user;
  let out = users.get(user);
  if (!out) {
    const addresses = user.emailAddresses.map((e) => emailAddress(hp, null, e));
    out = {
      ...user,
      emailAddresses: addresses,
      primaryEmailAddress: addresses.find((e) => e.id === user.primaryEmailAddress?.id) ?? null,
      createEmailAddress: (params) => createEmailAddress(hp, params),
    };
    users.set(user, out);
  }
  return out;
}

/** What the link's page said (`hallpass_status` on the `redirectUrl`), as Clerk's `EmailLinkError`. */
export class EmailLinkError extends Error {
  constructor(code) {
    super(code === "expired" ? "the link expired: ask for a new one" : "the link was used already or is not valid");
    this.name = "EmailLinkError";
    this.code = code;
  }
}

export const isEmailLinkError = (e) => e instanceof EmailLinkError;

/**
 * On the page an email link's `redirectUrl` opens (Clerk's `handleEmailLinkVerification`): resolves
 * `"verified"` when the link worked — the tab that asked for it is being signed in — and throws an
 * `EmailLinkError` (`code` `"expired"` or `"failed"`) when it did not. `url` defaults to the page's.
 */
export async function handleEmailLinkVerification(url = globalThis.location?.href) {
  const status = emailLinkStatus(url);
  if (status === "verified") return status;
  throw new EmailLinkError(status === "expired" ? "expired" : "failed");
}

/**
 * What the email link's page said on the URL it sent the browser to (`hallpass_status`):
 * `"verified"`, `"expired"` or `"failed"`; `null` on any other URL (the drop-in components show the
 * outcome only there).
 */
export function emailLinkStatus(url = globalThis.location?.href) {
  const status = new URL(url).searchParams.get("hallpass_status");
  return status === null ? null : status === "verified" || status === "expired" ? status : "failed";
}
