// The custom elements: `<hallpass-sign-in>`, `<hallpass-sign-up>`, `<hallpass-user-button>`,
// `<hallpass-user-profile>`, `<hallpass-organization-switcher>`, `<hallpass-create-organization>`,
// `<hallpass-organization-profile>`, each a `HallpassElement` around its view, and the imperative
// `mount…` / `unmount…` pairs of Clerk's (`mountSignIn(node, props)`), which React's components use.

import { environment } from "./context.js";
import { createOrganizationView } from "./create-organization.js";
import { HallpassElement } from "./element.js";
import { stopLinkFlow } from "./email-steps.js";
import { organizationProfileView } from "./organization-profile.js";
import { organizationSwitcherView } from "./organization-switcher.js";
import { signInView } from "./sign-in.js";
import { signUpView } from "./sign-up.js";
import { closeProfile, userButtonView } from "./user-button.js";
import { userProfileView } from "./user-profile.js";

/**
 * Sign-in and sign-up share one element kind: each can switch to the other in place. `step` is the
 * email step in progress (a code to type, a link to open), until it completes or the user goes back.
 */
class AuthForm extends HallpassElement {
  view = null;
  step = null;
  async prepare(hp) {
    this.env = await environment(hp);
  }
  /** Forms keep what was typed: the auth state changing does not redraw them. */
  authChanged() {}
  /** Gone from the page: no more asking whether a link was opened; the start when it comes back. */
  closed() {
    stopLinkFlow(this);
    this.step = null;
  }
  render(hp, props) {
    if (!this.env) return this.loading(); // the client is there, the settings not yet
    this.applicationName = this.env.instance_name;
    const switchTo = (view) => {
      stopLinkFlow(this);
      this.step = null;
      this.view = view;
      this.refresh();
    };
    const view = this.view ?? this.constructor.initialView;
    return (view === "signIn" ? signInView : signUpView)(this, hp, props, this.env, switchTo);
  }
}

export class SignIn extends AuthForm {
  static initialView = "signIn";
}

export class SignUp extends AuthForm {
  static initialView = "signUp";
}

export class UserButton extends HallpassElement {
  render(hp, props) {
    this.menu?.release();
    return userButtonView(this, hp, props);
  }
  closed() {
    this.menu?.release();
    closeProfile(this);
  }
}

export class UserProfile extends HallpassElement {
  async prepare(hp) {
    this.env = await environment(hp);
  }
  /**
   * Drawn again when what it shows changed (the session, the user), not on every token refresh:
   * an error said in a field, or what is being typed, stays while the token is renewed.
   */
  authChanged() {
    if (shownOf(this.hp) !== this.shown) this.refresh();
  }
  render(hp, props) {
    this.shown = shownOf(hp);
    return userProfileView(this, hp, props);
  }
}

export class OrganizationSwitcher extends HallpassElement {
  render(hp, props) {
    this.menu?.release();
    return organizationSwitcherView(this, hp, props);
  }
  closed() {
    this.menu?.release();
  }
}

export class CreateOrganization extends HallpassElement {
  /** Drawn again only when signing in or out: what was typed is kept. */
  authChanged() {
    const signedIn = this.hp.useAuth().isSignedIn;
    if (signedIn !== this.signedIn) this.refresh();
  }
  render(hp, props) {
    this.signedIn = hp.useAuth().isSignedIn;
    return createOrganizationView(this, hp, props);
  }
}

export class OrganizationProfile extends HallpassElement {
  render(hp, props) {
    return organizationProfileView(this, hp, props);
  }
}

/** What the user profile shows of the auth state: the session and the user. */
const shownOf = (hp) => JSON.stringify([hp.useAuth().sessionId, hp.useUser().user]);

/** Tag → class. */
export const ELEMENTS = {
  "hallpass-sign-in": SignIn,
  "hallpass-sign-up": SignUp,
  "hallpass-user-button": UserButton,
  "hallpass-user-profile": UserProfile,
  "hallpass-organization-switcher": OrganizationSwitcher,
  "hallpass-create-organization": CreateOrganization,
  "hallpass-organization-profile": OrganizationProfile,
};

/**
 * Defines every element not yet defined (a second copy of the entry on the page defines nothing),
 * with hallpass/organizations, hallpass/user (`account`) and hallpass/flows (the email steps) for the
 * components that use them.
 */
export function defineAll(organizations, account, flows) {
  HallpassElement.prototype.organizations = organizations;
  HallpassElement.prototype.account = account;
  HallpassElement.prototype.flows = flows;
  for (const [tag, cls] of Object.entries(ELEMENTS)) if (!customElements.get(tag)) customElements.define(tag, cls);
}

/**
 * `mount(tag)`: `(node, props, provider?) => element` renders the component into `node` (replacing
 * its content) with `props`; mounting again into the same node updates the props. `provider`
 * (`{ client, appearance, localization }`) stands in for the page's defaults, as React's provider does.
 */
export const mount = (tag) => (node, props, provider) => {
  let el = node.firstElementChild;
  if (el?.localName !== tag) {
    el = document.createElement(tag);
    el.props = props ?? {};
    if (provider) el.provider = provider;
    node.replaceChildren(el);
  } else {
    if (provider) el.provider = provider;
    el.props = props ?? {};
  }
  return el;
};

/** `unmount(node)`: removes what `mount…` put there. */
export const unmount = (node) => node.replaceChildren();
