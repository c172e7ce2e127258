// `hallpass/nextjs` as Server Components import it (the `react-server` export condition): the
// provider for `app/layout.tsx` reads the configuration from the environment at request time
// (`HALLPASS_PUBLISHABLE_KEY` or `HALLPASS_FRONTEND_API`, `HALLPASS_STORAGE`) and renders the client
// provider with it; the hooks and components are the client module's.
import { createElement } from "react";
import { headers } from "next/headers";

import { envOptions } from "../server/env.js";
import {
  CreateOrganization,
  HallpassProvider as ClientProvider,
  OrganizationProfile,
  OrganizationSwitcher,
  Protect,
  SignedIn,
  SignedOut,
  SignIn,
  SignUp,
  UserButton,
  UserProfile,
  useAuth,
  useAuthState,
  useHallpass,
  useSession,
  useUser,
} from "./client.js";

/**
 * The root layout's provider. Props override the environment. Rendering it makes pages dynamic
 * (rendered per request), as Clerk's provider does by default: the configuration is read at
 * request time, never baked into a page at build time.
 */
export async function HallpassProvider({ children, ...props }) {
  await headers();
  const env = envOptions();
  const options = { ...props };
  options.publishableKey ??= env.publishableKey;
  options.frontendApi ??= env.frontendApi;
  options.storage ??= env.storage;
  for (const key of Object.keys(options)) if (options[key] === undefined) delete options[key];
  if (options.publishableKey === undefined && options.frontendApi === undefined) {
    throw new Error("HallpassProvider: set HALLPASS_PUBLISHABLE_KEY (or HALLPASS_FRONTEND_API), or pass publishableKey");
  }
  return createElement(ClientProvider, options, children);
}

export { Protect, SignedIn, SignedOut, useAuth, useAuthState, useHallpass, useSession, useUser };
export { SignIn, SignUp, UserButton, UserProfile, OrganizationSwitcher, CreateOrganization, OrganizationProfile };
