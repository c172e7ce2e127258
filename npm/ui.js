// `hallpass/ui`: the drop-in components as custom elements — `<hallpass-sign-in>`,
// `<hallpass-sign-up>`, `<hallpass-user-button>`, `<hallpass-user-profile>`,
// `<hallpass-organization-switcher>`, `<hallpass-create-organization>`,
// `<hallpass-organization-profile>` — defined by importing this entry, usable from plain HTML, Vue,
// Svelte or Yew; `mountSignIn(node, props)` and the rest as Clerk's imperative API; `configure()` for
// what every component shares (the client, appearance, localization). `hallpass/react`'s `<SignIn>`
// & co. load it when they first render.
//
// Plain modern DOM, no UI framework, outside the headless SDK's budget: the build bundles the
// modules of `ui/` into one minified file (`cargo xtask build`; its own budget is 25 KiB gzip), with
// the SDK (`./index.js`), `./organizations.js`, `./user.js` and `./flows.js` (the email steps) left as
// the package's own files.

import { Hallpass } from "./index.js";
import * as organizations from "./organizations.js";
import * as account from "./user.js";
import * as flows from "./flows.js";
import { defineAll, mount, unmount } from "./ui/components.js";
import { setLoader } from "./ui/context.js";

setLoader((options) => Hallpass.load(options));
defineAll(organizations, account, flows);

export { configure } from "./ui/context.js";
export { enUS } from "./ui/en-US.js";
export { SignIn, SignUp, UserButton, UserProfile, OrganizationSwitcher, CreateOrganization, OrganizationProfile } from "./ui/components.js";

export const mountSignIn = mount("hallpass-sign-in");
export const mountSignUp = mount("hallpass-sign-up");
export const mountUserButton = mount("hallpass-user-button");
export const mountUserProfile = mount("hallpass-user-profile");
export const mountOrganizationSwitcher = mount("hallpass-organization-switcher");
export const mountCreateOrganization = mount("hallpass-create-organization");
export const mountOrganizationProfile = mount("hallpass-organization-profile");
export const unmountSignIn = unmount;
export const unmountSignUp = unmount;
export const unmountUserButton = unmount;
export const unmountUserProfile = unmount;
export const unmountOrganizationSwitcher = unmount;
export const unmountCreateOrganization = unmount;
export const unmountOrganizationProfile = unmount;
