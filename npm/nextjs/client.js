"use client";
// `hallpass/nextjs` in the browser (and in server-side rendering of client components): the React
// bindings of hallpass/react, with a provider for the App Router that keeps the session cookie for
// server-rendered pages (`sessionCookie: true`) and refreshes the server-rendered tree when the user
// signs in or out, so Server Components see the new session at once, as `<ClerkProvider>` does.
import { createElement, useEffect, useMemo, useRef } from "react";
import { useRouter } from "next/navigation";
import {
  CreateOrganization,
  HallpassProvider as ReactProvider,
  OrganizationProfile,
  OrganizationSwitcher,
  Protect,
  SignedIn,
  SignedOut,
  SignIn,
  SignUp,
  UserButton,
  UserProfile,
  useAuth as useReactAuth,
  useAuthState,
  useHallpass,
  useSession,
  useUser,
} from "../react.js";

/** Where `signOut({ redirectUrl })` goes once signed out (instead of refreshing the current page). */
let afterSignOut = null;

/**
 * Refreshes the server-rendered tree when the signed-in session changes (not on its first value) —
 * or navigates to `signOut`'s `redirectUrl`, whose page is rendered fresh: refreshing the page being
 * left would render it signed out first (a protected one would redirect to sign-in). The drop-in
 * components (`<UserButton afterSignOutUrl>`, `<UserProfile>`'s account deletion) announce their
 * target with a `hallpass:sign-out` event before the session ends; it is taken over here.
 */
function RefreshOnSessionChange() {
  const { isLoaded, sessionId } = useReactAuth();
  const router = useRouter();
  const last = useRef(undefined);
  useEffect(() => {
    const take = (event) => {
      const url = event.detail?.redirectUrl;
      afterSignOut = typeof url === "string" ? url : null;
      if (afterSignOut !== null) event.preventDefault();
    };
    const withdraw = () => (afterSignOut = null);
    document.addEventListener("hallpass:sign-out", take);
    document.addEventListener("hallpass:sign-out-cancelled", withdraw);
    return () => {
      document.removeEventListener("hallpass:sign-out", take);
      document.removeEventListener("hallpass:sign-out-cancelled", withdraw);
    };
  }, []);
  useEffect(() => {
    if (!isLoaded) return;
    if (last.current !== undefined && last.current !== sessionId) {
      const target = sessionId === null ? afterSignOut : null;
      afterSignOut = null;
      if (target !== null) router.push(target);
      else router.refresh();
    }
    last.current = sessionId;
  }, [isLoaded, sessionId, router]);
  return null;
}

/** hallpass/react's `useAuth()`, whose `signOut` also takes Clerk's `{ redirectUrl }`. */
export function useAuth() {
  const auth = useReactAuth();
  const signOut = auth.signOut;
  const signOutThenGo = useMemo(
    () => (options) => {
      afterSignOut = typeof options?.redirectUrl === "string" ? options.redirectUrl : null;
      return signOut();
    },
    [signOut],
  );
  return useMemo(() => ({ ...auth, signOut: signOutThenGo }), [auth, signOutThenGo]);
}

/**
 * The App Router provider (client side): the options of `Hallpass.load`, with `sessionCookie` on.
 * In `app/layout.tsx`, import `HallpassProvider` from `hallpass/nextjs`: on the server it reads the
 * `HALLPASS_*` environment and renders this one.
 */
export function HallpassProvider({ children, ...options }) {
  return createElement(ReactProvider, { sessionCookie: true, ...options }, createElement(RefreshOnSessionChange), children);
}

export { Protect, SignedIn, SignedOut, useAuthState, useHallpass, useSession, useUser };
export { SignIn, SignUp, UserButton, UserProfile, OrganizationSwitcher, CreateOrganization, OrganizationProfile };
