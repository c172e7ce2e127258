// `hallpass/nextjs`: the App Router provider and the React hooks and components of hallpass/react.
import type { ReactNode } from "react";
import type { HallpassOptions } from "./index.js";

import type { UseAuthReturn } from "./index.js";

export { Protect, SignedIn, SignedOut, useAuthState, useHallpass, useSession, useUser } from "./react.js";
export { SignIn, SignUp, UserButton, UserProfile, OrganizationSwitcher, CreateOrganization, OrganizationProfile } from "./react.js";
export type { ProtectProps, UseSessionReturn } from "./react.js";

/** Each member of `UseAuthReturn` with a `signOut` that also takes Clerk's `{ redirectUrl }`. */
export type NextUseAuthReturn = UseAuthReturn extends infer T
  ? T extends unknown
    ? Omit<T, "signOut"> & {
        /** Signs out, then shows `redirectUrl` (rendered signed out) or refreshes the current page. */
        signOut: (options?: { redirectUrl?: string }) => Promise<void>;
      }
    : never
  : never;

/** hallpass/react's `useAuth()`, whose `signOut` also takes Clerk's `{ redirectUrl }`. */
export function useAuth(): NextUseAuthReturn;

export type HallpassProviderProps = Partial<HallpassOptions> & {
  children?: ReactNode;
  /** The drop-in components' appearance and strings (see hallpass/react). */
  appearance?: import("./ui.js").Appearance;
  localization?: import("./ui.js").Localization;
};

/**
 * For `app/layout.tsx`. On the server it reads `HALLPASS_PUBLISHABLE_KEY` (or `HALLPASS_FRONTEND_API`)
 * and `HALLPASS_STORAGE` at request time — props win — and renders the client provider, which loads
 * the SDK with `sessionCookie: true` and refreshes Server Components when the user signs in or out.
 */
export function HallpassProvider(props: HallpassProviderProps): ReactNode | Promise<ReactNode>;
