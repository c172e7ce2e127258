// What every component shares: the page-wide defaults (`configure()`: the client or the options to load
// one, the appearance and localization for every component — what a provider sets), the client each
// component uses, the instance's settings from `GET /v1/environment`, and where to go after signing in.

/** Page-wide defaults, as a provider's. */
const defaults = { client: null, options: null, appearance: null, localization: null };
/** `Hallpass.load` (set by the entry, ui.js, which imports the SDK). */
let loader = null;
/** Load promises by options: every component with the same options shares one client. */
const clients = new Map();
/** `GET /v1/environment` by Frontend API. */
const environments = new Map();
/** Components waiting for `configure()` to name a client. */
const waiting = new Set();
/** Components to tell when the defaults change. */
export const live = new Set();

export function setLoader(load) {
  loader = load;
}

/**
 * Sets what every component on the page uses unless its own props say otherwise: `client` (a loaded
 * `Hallpass`) or the options of `Hallpass.load` (`frontendApi` or `publishableKey`, `storage`, …), and
 * `appearance` and `localization`. Mounted components re-render.
 */
export function configure({ client, appearance, localization, ...options } = {}) {
  if (client !== undefined) defaults.client = client;
  if (Object.keys(options).length) defaults.options = options;
  if (appearance !== undefined) defaults.appearance = appearance;
  if (localization !== undefined) defaults.localization = localization;
  if (defaults.client || defaults.options) {
    const ready = [...waiting];
    waiting.clear();
    for (const retry of ready) retry();
  }
  for (const component of live) component.refresh();
}

/** The provider level for a component: its own `provider` (React's), else the page's defaults. */
export const providerOf = (component) => component.provider ?? defaults;

/**
 * The client a component uses: its provider's `client`; else one loaded (once per distinct options)
 * from its `frontend-api` / `publishable-key` attributes, or from the provider's options.
 */
export function clientFor(component) {
  const provider = providerOf(component);
  const attr = component.getAttribute("frontend-api");
  const key = component.getAttribute("publishable-key");
  if (!attr && !key && provider.client) return Promise.resolve(provider.client);
  const options = attr || key ? { frontendApi: attr ?? undefined, publishableKey: key ?? undefined } : provider.options;
  // Elements in the page's HTML connect as soon as the entry defines them, before the app's
  // `configure()` has run: they wait for it (showing their loading state).
  if (!options) return new Promise((resolve) => waiting.add(() => resolve(clientFor(component))));
  const id = JSON.stringify(Object.entries(options).filter(([, v]) => v !== undefined).sort());
  let pending = clients.get(id);
  if (!pending) {
    pending = loader(options);
    clients.set(id, pending);
    pending.catch(() => clients.delete(id));
  }
  return pending;
}

/**
 * The instance's settings (`GET /v1/environment`: enabled strategies, password rules, its name),
 * fetched once per server, with a 10 s deadline; a failed fetch is not kept, so the next component
 * tries again.
 */
export function environment(hp) {
  const api = hp.frontendApi;
  let pending = environments.get(api);
  if (!pending) {
    pending = fetch(`${api}/v1/environment`, { signal: AbortSignal.timeout(10_000), credentials: "omit" }).then(async (res) => {
      if (!res.ok) throw Object.assign(new Error(`GET /v1/environment: ${res.status}`), { code: res.status === 429 ? "rate_limited" : "server_busy" });
      const env = await res.json();
      if (!env || typeof env !== "object" || !Array.isArray(env.sign_in?.first_factors))
        throw Object.assign(new Error("GET /v1/environment: unexpected answer"), { code: "invalid_response" });
      return env;
    }, (e) => {
      throw Object.assign(new Error(`GET /v1/environment: ${e?.message}`), { code: e?.name === "TimeoutError" ? "request_timeout" : "network_error" });
    });
    environments.set(api, pending);
    pending.catch(() => environments.delete(api));
  }
  return pending;
}

/**
 * Where to go after signing in or up, by Clerk's rules: `forceRedirectUrl`; else the page's
 * `redirect_url` query parameter (same origin only: anything else would make the sign-in page an
 * open redirect); else `fallbackRedirectUrl`, then the older `redirectUrl` / `afterSignInUrl` /
 * `afterSignUpUrl`. `null`: stay on the page (the app follows the auth state).
 */
export function redirectTarget(props, kind) {
  if (props.forceRedirectUrl) return String(props.forceRedirectUrl);
  const asked = new URLSearchParams(location.search).get("redirect_url");
  if (asked) {
    try {
      const url = new URL(asked, location.href);
      if (url.origin === location.origin) return url.href;
    } catch {
      // not a URL: ignored
    }
  }
  const after = kind === "signUp" ? props.afterSignUpUrl : props.afterSignInUrl;
  const fallback = props.fallbackRedirectUrl ?? props.redirectUrl ?? after;
  return fallback ? String(fallback) : null;
}

/** Goes to `url` (a same-page `#…` or any URL the app gave). */
export function go(url) {
  if (url) location.assign(url);
}

/**
 * Ends the session through `action` (the client's sign-out, or the account's deletion), then goes
 * to `url`. First a cancelable `hallpass:sign-out` event (`detail.redirectUrl`) tells the page where
 * the coming sign-out leads: a provider that refreshes server-rendered pages when the session
 * changes (hallpass/nextjs) takes the navigation over with `preventDefault()`, since refreshing a
 * protected page first would send it to sign-in. When `action` throws (the account's deletion was
 * refused), `hallpass:sign-out-cancelled` withdraws it, and the error is thrown on.
 */
export async function signOutThenGo(c, url, action) {
  const say = (type, detail) =>
    !c.dispatchEvent(new CustomEvent(type, { bubbles: true, composed: true, cancelable: true, detail }));
  const taken = say("hallpass:sign-out", { redirectUrl: url ?? null });
  try {
    await action();
  } catch (error) {
    say("hallpass:sign-out-cancelled", null);
    throw error;
  }
  if (!taken) go(url ?? null);
}
