// `hallpass/react`: React bindings over the SDK's `subscribe` / `getSnapshot`, so every hook reads
// through `useSyncExternalStore` (no tearing under concurrent rendering). React 18 and 19.
//
// One client per set of options for the whole page: `<HallpassProvider>` takes its instance from a
// module-level cache keyed by the options, so StrictMode's double render and double mount (and two
// providers with the same options) share one `Hallpass.load()`.
import { createContext, createElement, useContext, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { Hallpass } from "./index.js";
import { getOrganization, getOrganizationInvitations, getOrganizationMemberships } from "./organizations.js";
import { getSignIn, getSignUp, setActive, withUserResources } from "./flows.js";

/** The state before the client has loaded: the `isLoaded: false` member of `AuthState`. */
const NOT_LOADED = Object.freeze({
  isLoaded: false,
  isSignedIn: undefined,
  user: undefined,
  session: undefined,
  userId: undefined,
  sessionId: undefined,
  orgId: undefined,
  orgRole: undefined,
  orgSlug: undefined,
  orgPermissions: undefined,
});

/** What a provider rendered on a server waits for: nothing loads there. */
const NEVER = new Promise(() => {});

/** Load promises by options key: one client per distinct options, for the life of the page. */
const clients = new Map();

function loadShared(options) {
  // Options are strings, numbers and booleans: their JSON names them exactly.
  const key = JSON.stringify(Object.entries(options).filter(([, value]) => value !== undefined).sort(([a], [b]) => (a < b ? -1 : 1)));
  let pending = clients.get(key);
  if (pending === undefined) {
    pending = Hallpass.load(Object.fromEntries(JSON.parse(key)));
    clients.set(key, pending);
    // A failed load (invalid options) is not cached: fixing the props retries.
    pending.catch(() => clients.delete(key));
  }
  return pending;
}

const Context = createContext(null);

/**
 * Makes one Hallpass client available to the hooks below it. Takes the options of
 * `Hallpass.load` as props (`frontendApi` or `publishableKey`, `storage`, …), or a loaded `client`;
 * `appearance` and `localization` apply to every drop-in component below it (`<SignIn>`, …).
 */
export function HallpassProvider({ children, client, appearance, localization, ...options }) {
  const key = JSON.stringify(options);
  // `key` stands for `options`, whose object is new on every render.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  // Never on a server (server-side rendering of a client component, as Next.js does): the state
  // stays `isLoaded: false` there, as on the browser's first render, so hydration matches.
  const pending = useMemo(
    () => (client ? Promise.resolve(client) : typeof window === "undefined" ? NEVER : loadShared(options)),
    [client, key],
  );
  const [loaded, setLoaded] = useState({ pending: null, hp: null, error: null });
  useEffect(() => {
    let live = true;
    pending.then(
      (hp) => live && setLoaded({ pending, hp, error: null }),
      (error) => live && setLoaded({ pending, hp: null, error }),
    );
    return () => {
      live = false;
    };
  }, [pending]);
  const current = loaded.pending === pending;
  // Invalid options are a programming error: let the nearest error boundary show it.
  if (current && loaded.error) throw loaded.error;
  const hp = current ? loaded.hp : (client ?? null);
  const value = useMemo(() => ({ hp, pending, appearance, localization }), [hp, pending, appearance, localization]);
  return createElement(Context.Provider, { value }, children);
}

function useContextOrThrow(hook) {
  const value = useContext(Context);
  if (value === null) throw new Error(`${hook}() must be used inside <HallpassProvider>`);
  return value;
}

const unsubscribeNothing = () => {};
const subscribeNothing = () => unsubscribeNothing;
const notLoaded = () => NOT_LOADED;

/** The whole auth state (`AuthState`); `isLoaded: false` until the client has loaded. */
export function useAuthState() {
  const { hp } = useContextOrThrow("useAuthState");
  const [subscribe, getSnapshot] = useMemo(
    () => (hp ? [(onChange) => hp.subscribe(onChange), () => hp.getSnapshot()] : [subscribeNothing, notLoaded]),
    [hp],
  );
  return useSyncExternalStore(subscribe, getSnapshot, notLoaded);
}

/** The loaded client, or `null` before it has loaded: for `signIn`, `signUp`, `fetch`. */
export function useHallpass() {
  return useContextOrThrow("useHallpass").hp;
}

// Derived views keep their identity for as long as the snapshot does.
const userViews = new WeakMap();
const sessionViews = new WeakMap();

function derive(cache, state, make) {
  let view = cache.get(state);
  if (view === undefined) {
    view = make(state);
    cache.set(state, view);
  }
  return view;
}

/**
 * `{ isLoaded, isSignedIn, user }`, like Clerk's `useUser()`; the user has Clerk's
 * `createEmailAddress` and its addresses their verification methods (hallpass/flows).
 */
export function useUser() {
  const { hp } = useContextOrThrow("useUser");
  const state = useAuthState();
  return derive(userViews, state, (s) => ({
    isLoaded: s.isLoaded,
    isSignedIn: s.isSignedIn,
    user: hp ? withUserResources(hp, s.user) : s.user,
  }));
}

/** `{ isLoaded, isSignedIn, session }`, like Clerk's `useSession()`. */
export function useSession() {
  const state = useAuthState();
  return derive(sessionViews, state, (s) => ({ isLoaded: s.isLoaded, isSignedIn: s.isSignedIn, session: s.session }));
}

const hasNothing = () => false;

/**
 * `{ isLoaded, isSignedIn, userId, sessionId, orgId, orgRole, orgSlug, getToken, signOut, has }`, like
 * Clerk's `useAuth()`. `getToken` and `signOut` wait for the client when called before it has loaded;
 * the functions keep their identity for the life of the client.
 */
export function useAuth() {
  const { hp, pending } = useContextOrThrow("useAuth");
  const state = useAuthState();
  const fns = useMemo(
    () => ({
      getToken: (options) => pending.then((client) => client.getToken(options)),
      signOut: () => pending.then((client) => client.signOut()),
      has: hp ? hp.useAuth().has : hasNothing,
    }),
    [hp, pending],
  );
  return useMemo(
    () => ({
      isLoaded: state.isLoaded,
      isSignedIn: state.isSignedIn,
      userId: state.userId,
      sessionId: state.sessionId,
      orgId: state.orgId,
      orgRole: state.orgRole,
      orgSlug: state.orgSlug,
      orgPermissions: state.orgPermissions,
      ...fns,
    }),
    [state, fns],
  );
}

/** Renders its children only while a user is signed in. */
export function SignedIn({ children }) {
  const { isLoaded, isSignedIn } = useAuthState();
  return isLoaded && isSignedIn ? (children ?? null) : null;
}

/** Renders its children only once loaded and signed out. */
export function SignedOut({ children }) {
  const { isLoaded, isSignedIn } = useAuthState();
  return isLoaded && !isSignedIn ? (children ?? null) : null;
}

/**
 * Renders its children when the user is signed in and passes the check (`role`, `permission`, or
 * `condition(has)`); otherwise `fallback` (default: nothing). Renders nothing while loading.
 * Hiding content is not access control: the backend must check the token too.
 */
export function Protect({ children, fallback = null, role, permission, condition }) {
  const { isLoaded, isSignedIn, has } = useAuth();
  if (!isLoaded) return null;
  if (!isSignedIn) return fallback;
  let allowed = true;
  if (condition) allowed = condition(has);
  else if (role !== undefined) allowed = has({ role });
  else if (permission !== undefined) allowed = has({ permission });
  return allowed ? (children ?? null) : fallback;
}

/**
 * One of Clerk's paginated resources (`PaginatedResources`) over `load(params)` (a
 * `{ data, total_count }` page), or `undefined` when `option` is falsy or `load` is `null`.
 * `option`: `true`, or `{ initialPage, pageSize, infinite, keepPreviousData, query, role, status }`.
 * A new `key` (another organization, another user) starts again from the first page.
 */
function usePages(load, option, key) {
  const o = option && typeof option === "object" ? option : {};
  const on = Boolean(option) && load !== null;
  const pageSize = o.pageSize ?? 10;
  const first = o.initialPage ?? 1;
  const filters = JSON.stringify([key, pageSize, o.query, o.role, o.status, Boolean(o.infinite)]);
  const [page, setPage] = useState({ filters, n: first });
  const [nonce, setNonce] = useState(0);
  const [got, setGot] = useState({ at: null, data: [], count: 0, error: null });
  // Another organization, size or filter: back to the first page.
  const n = page.filters === filters ? page.n : first;
  const at = `${filters}:${n}:${nonce}`;
  useEffect(() => {
    if (!on) return undefined;
    let live = true;
    load({ initialPage: n, pageSize, query: o.query, role: o.role, status: o.status }).then(
      (r) =>
        live &&
        setGot((prev) => ({
          at,
          data: o.infinite && n > first && prev.at?.startsWith(filters) ? [...prev.data, ...r.data] : r.data,
          count: r.total_count,
          error: null,
        })),
      (error) => live && setGot((prev) => ({ ...prev, at, error })),
    );
    return () => {
      live = false;
    };
    // `at` stands for every input of the request.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [on, load, at]);
  const fetching = on && got.at !== at;
  const stale = fetching && !o.keepPreviousData && !o.infinite;
  const data = got.at?.startsWith(filters) && !stale ? got.data : [];
  const pageCount = Math.max(1, Math.ceil(got.count / pageSize));
  const go = (to) => setPage({ filters, n: Math.max(1, to) });
  if (!on) return undefined;
  return {
    data,
    count: got.at?.startsWith(filters) ? got.count : 0,
    error: fetching ? null : got.error,
    isError: !fetching && got.error !== null,
    isLoading: fetching && data.length === 0,
    isFetching: fetching,
    page: n,
    pageCount,
    fetchPage: (to) => go(typeof to === "function" ? to(n) : to),
    fetchNext: () => go(n + 1),
    fetchPrevious: () => go(n - 1),
    hasNextPage: n < pageCount,
    hasPreviousPage: n > 1,
    revalidate: () => setNonce((k) => k + 1),
  };
}

/**
 * `{ isLoaded, organization, membership, memberships, invitations }`, like Clerk's
 * `useOrganization()`: the active organization (`null` for the personal account) with its methods
 * (hallpass/organizations), your membership of it, and — when asked for with `memberships: true` or
 * `{ pageSize, initialPage, infinite, keepPreviousData, query, role }`, `invitations: true` or
 * `{ …, status }` — its members and invitations as Clerk's paginated resources.
 */
export function useOrganization(params) {
  const { hp } = useContextOrThrow("useOrganization");
  const state = useAuthState();
  const orgId = state.orgId;
  // The organization and membership of `key` (the organization, and what the token says of it).
  const key = state.isLoaded ? JSON.stringify([orgId, state.orgRole, state.orgSlug]) : null;
  const [got, setGot] = useState({ key: null, organization: undefined, membership: undefined });
  useEffect(() => {
    if (!hp || key === null) return undefined;
    if (!orgId) {
      setGot({ key, organization: null, membership: null });
      return undefined;
    }
    let live = true;
    // Your own memberships (any member may list them; the server's largest page): yours of this one.
    Promise.all([getOrganization(hp, orgId), getOrganizationMemberships(hp, { pageSize: 500 })]).then(
      ([organization, mine]) =>
        live && setGot({ key, organization, membership: mine.data.find((m) => m.organization.id === orgId) ?? null }),
      () => live && setGot({ key, organization: null, membership: null }),
    );
    return () => {
      live = false;
    };
  }, [hp, key, orgId]);
  const loaded = got.key === key && key !== null;
  const organization = loaded ? got.organization : undefined;
  const memberships = usePages(organization ? organization.getMemberships : null, params?.memberships, organization?.id);
  const invitations = usePages(organization ? organization.getInvitations : null, params?.invitations, organization?.id);
  return {
    isLoaded: loaded,
    organization,
    membership: loaded ? got.membership : undefined,
    memberships,
    invitations,
  };
}

/**
 * `{ isLoaded, createOrganization, setActive, userMemberships, userInvitations }`, like Clerk's
 * `useOrganizationList()`: your memberships (`userMemberships: true` or paging params) and the
 * invitations addressed to you (`userInvitations: true` or `{ …, status }`) as paginated resources.
 * `createOrganization` and `setActive` wait for the client when called before it has loaded.
 */
export function useOrganizationList(params) {
  const { hp, pending } = useContextOrThrow("useOrganizationList");
  const state = useAuthState();
  const fns = useMemo(
    () => ({
      createOrganization: (p) => pending.then((client) => client.createOrganization(p)),
      setActive: (p) => pending.then((client) => client.setActive(p)),
      mine: hp ? (p) => getOrganizationMemberships(hp, p) : null,
      invited: hp ? (p) => getOrganizationInvitations(hp, p) : null,
    }),
    [hp, pending],
  );
  const signedIn = state.isSignedIn === true;
  const userMemberships = usePages(signedIn ? fns.mine : null, params?.userMemberships, state.userId);
  const userInvitations = usePages(signedIn ? fns.invited : null, params?.userInvitations, state.userId);
  return {
    isLoaded: state.isLoaded && hp !== null,
    createOrganization: fns.createOrganization,
    setActive: fns.setActive,
    userMemberships,
    userInvitations,
  };
}

const noVersion = () => -1;

/** One of the instance's attempt resources, re-rendering when it changes (each step it takes). */
function useAttempt(hook, get, name) {
  const { hp, pending } = useContextOrThrow(hook);
  const resource = hp ? get(hp) : null;
  const [subscribe, version] = useMemo(
    () => (resource ? [(f) => resource._subscribe(f), () => resource._version] : [subscribeNothing, noVersion]),
    [resource],
  );
  const v = useSyncExternalStore(subscribe, version, noVersion);
  const activate = useMemo(() => (p) => pending.then((client) => setActive(client, p)), [pending]);
  return useMemo(
    () =>
      resource
        ? { isLoaded: true, [name]: resource, setActive: activate }
        : { isLoaded: false, [name]: undefined, setActive: undefined },
    // `v`: a new object after every step, so memoised children see the change.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [resource, v, activate],
  );
}

/**
 * `{ isLoaded, signIn, setActive }`, like Clerk's `useSignIn()`: the instance's sign-in
 * (hallpass/flows) — `create`, `prepareFirstFactor`, `attemptFirstFactor`, `resetPassword`,
 * `createEmailLinkFlow` — re-rendering after each step; `setActive({ session })` once complete.
 */
export const useSignIn = () => useAttempt("useSignIn", getSignIn, "signIn");

/**
 * `{ isLoaded, signUp, setActive }`, like Clerk's `useSignUp()`: the instance's sign-up
 * (hallpass/flows) — `create`, `prepareEmailAddressVerification`, `attemptEmailAddressVerification`,
 * `createEmailLinkFlow` — re-rendering after each step.
 */
export const useSignUp = () => useAttempt("useSignUp", getSignUp, "signUp");

// The drop-in components: thin wrappers over hallpass/ui's custom elements (one implementation), which
// is loaded — a separate file, outside the headless budget — when the first of them renders. Each
// renders a `<div style="display: contents">` and mounts the element in it with its props and the
// provider's client, appearance and localization (the component's own `appearance` wins). Marked
// pure, so an app that renders none of them bundles none of this (nor the `import()`).

let ui = null;
const loadUi = () => (ui ??= import("./ui.js"));

function dropIn(mountName, displayName) {
  function Component(props) {
    const { hp, appearance, localization } = useContextOrThrow(displayName);
    const ref = useRef(null);
    const [module, setModule] = useState(null);
    useEffect(() => {
      const node = ref.current;
      let live = true;
      loadUi().then((m) => live && setModule(m));
      return () => {
        live = false;
        node?.replaceChildren();
      };
    }, []);
    useEffect(() => {
      if (module && hp && ref.current) module[mountName](ref.current, props, { client: hp, appearance, localization });
    });
    return createElement("div", { ref, style: { display: "contents" } });
  }
  Component.displayName = displayName;
  return Component;
}

/** Clerk's `<SignIn>`: `forceRedirectUrl`, `fallbackRedirectUrl`, `signUpUrl`, `appearance`, … */
export const SignIn = /* @__PURE__ */ dropIn("mountSignIn", "SignIn");
/** Clerk's `<SignUp>`: `forceRedirectUrl`, `fallbackRedirectUrl`, `signInUrl`, `unsafeMetadata`, `appearance`, … */
export const SignUp = /* @__PURE__ */ dropIn("mountSignUp", "SignUp");
/** Clerk's `<UserButton>`: `afterSignOutUrl`, `userProfileUrl`, `userProfileMode`, `showName`, `appearance`. */
export const UserButton = /* @__PURE__ */ dropIn("mountUserButton", "UserButton");
/** Clerk's `<UserProfile>`: `afterSignOutUrl` (after deleting the account), `appearance`. */
export const UserProfile = /* @__PURE__ */ dropIn("mountUserProfile", "UserProfile");
/** Clerk's `<OrganizationSwitcher>`: `hidePersonal`, `afterSelectOrganizationUrl`, `afterCreateOrganizationUrl`, `appearance`. */
export const OrganizationSwitcher = /* @__PURE__ */ dropIn("mountOrganizationSwitcher", "OrganizationSwitcher");
/** Clerk's `<CreateOrganization>`: `afterCreateOrganizationUrl`, `appearance`. */
export const CreateOrganization = /* @__PURE__ */ dropIn("mountCreateOrganization", "CreateOrganization");
/** Clerk's `<OrganizationProfile>`: `afterLeaveOrganizationUrl`, `appearance`. */
export const OrganizationProfile = /* @__PURE__ */ dropIn("mountOrganizationProfile", "OrganizationProfile");
