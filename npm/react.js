// `hallpass/react`: React bindings over the SDK's `subscribe` / `getSnapshot`, so every hook reads
// through `useSyncExternalStore` (no tearing under concurrent rendering). React 18 and 19.
//
// One client per set of options for the whole page: `<HallpassProvider>` takes its instance from a
// module-level cache keyed by the options, so StrictMode's double render and double mount (and two
// providers with the same options) share one `Hallpass.load()`.
import { createContext, createElement, useContext, useEffect, useMemo, useState, useSyncExternalStore } from "react";
import { Hallpass } from "./index.js";

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
 * `Hallpass.load` as props (`frontendApi` or `publishableKey`, `storage`, …), or a loaded `client`.
 */
export function HallpassProvider({ children, client, ...options }) {
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
  const value = useMemo(() => ({ hp, pending }), [hp, pending]);
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

/** `{ isLoaded, isSignedIn, user }`, like Clerk's `useUser()`. */
export function useUser() {
  const state = useAuthState();
  return derive(userViews, state, (s) => ({ isLoaded: s.isLoaded, isSignedIn: s.isSignedIn, user: s.user }));
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
