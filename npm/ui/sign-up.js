// The sign-up form (Clerk's `<SignUp>`): names (optional, shown unless `layout.showOptionalFields` is
// false), the email address, and the password only when the instance signs in with one (`password`
// among `GET /v1/environment`'s first factors) — then required, with the server's rules as the hint
// and checked before sending; the server's verdict (taken address, breached password) lands on its
// field. A sign-up the server verifies first (`sign_up.requires_verified_email`, or one without a
// password: always) goes through hallpass/flows' sign-up: the emailed code in the code step
// (email-steps.js), or — on an instance that signs in by link and not by code — the link's wait,
// which signs this tab up by itself once the link is opened, here or in another browser; until the
// sign-up is complete and this tab signed in.

import { card } from "./card.js";
import { go, redirectTarget } from "./context.js";
import { codeForm, linkOutcomeCard, linkWait, startLinkFlow, statusText, stopLinkFlow } from "./email-steps.js";
import { alertBox, checkLength, checkRequired, field, onSubmit, primaryButton, showError } from "./form.js";

const LINK = "email_link";

export function signUpView(c, hp, props, env, switchTo) {
  const t = c.t;
  const flows = c.flows;
  const linkStatus = flows?.emailLinkStatus(location.href);
  if (linkStatus) return linkOutcomeCard(c, linkStatus);
  const alert = alertBox(c);
  const step = c.step;
  if (step) return (step.strategy === LINK ? linkStep : codeStep)(c, hp, props, env, alert, step);
  const factors = env.sign_in.first_factors;
  // Without hallpass/flows only the one-request sign-up is there: it needs the password.
  const withPassword = !flows || factors.includes("password");
  const verify = flows && (!withPassword || env.sign_up?.requires_verified_email === true);
  // By link where users sign in by link and not by code (the server verifies by code always).
  const strategy = factors.includes(LINK) && !factors.includes("email_code") && env.sign_up?.verification_strategies?.includes(LINK)
    ? LINK : "email_code";
  const minLength = env.password?.min_length ?? 0;
  const names = c.look.layout.showOptionalFields !== false;
  const first = names && field(c, { name: "firstName", label: t("formFieldLabel__firstName"), autocomplete: "given-name", optional: true });
  const last = names && field(c, { name: "lastName", label: t("formFieldLabel__lastName"), autocomplete: "family-name", optional: true });
  const email = field(c, { name: "emailAddress", label: t("formFieldLabel__emailAddress"), type: "email", autocomplete: "email" });
  const password = withPassword && field(c, {
    name: "password",
    label: t("formFieldLabel__password"),
    type: "password",
    autocomplete: "new-password",
    hint: minLength > 0 ? t("formFieldHintText__password", { minLength }) : null,
  });
  if (typeof props.initialValues?.emailAddress === "string") email.input.value = props.initialValues.emailAddress;
  const button = primaryButton(c, t("formButtonPrimary"));
  const form = c.node("form", "form", { novalidate: true },
    names && c.node("formFieldRow", "div", null, first.root, last.root), email.root, password && password.root, button);
  onSubmit(form, button, async () => {
    alert.textContent = "";
    const required = [[email, t("formFieldLabel__emailAddress"), "email"]];
    if (password) required.push([password, t("formFieldLabel__password")]);
    if (!checkRequired(c, required)) return;
    if (password && !checkLength(c, password, minLength, alert)) return;
    const params = { emailAddress: email.input.value.trim() };
    if (password) params.password = password.input.value;
    if (first?.input.value.trim()) params.firstName = first.input.value.trim();
    if (last?.input.value.trim()) params.lastName = last.input.value.trim();
    if (props.unsafeMetadata && typeof props.unsafeMetadata === "object") params.unsafeMetadata = props.unsafeMetadata;
    let signUp = null;
    try {
      if (verify) signUp = await flows.getSignUp(hp).create(params);
      else await hp.signUp(params);
      // The address to verify first: a code or a link sent to it.
      if (signUp?.status === "missing_requirements") {
        if (strategy === LINK) await sendLink(c, signUp, props);
        else await signUp.prepareEmailAddressVerification({ strategy });
        form.reset();
        goTo(c, { strategy, identifier: params.emailAddress }, strategy === LINK ? '[data-focus-key="resend"]' : 'input[name="code"]');
        return;
      }
    } catch (error) {
      showError(c, error, { identifier: email, password }, alert, { minLength });
      return;
    }
    form.reset(); // a form that stays on the page (hidden while signed in) keeps no password
    signedUp(c, props);
  });
  return card(c, {
    title: t("signUp.start.title", { applicationName: env.instance_name }),
    subtitle: t("signUp.start.subtitle"),
    body: [alert, form],
    action: {
      text: t("signUp.start.actionText"),
      link: t("signUp.start.actionLink"),
      href: props.signInUrl,
      onclick: () => switchTo("signIn"),
    },
  });
}

/** Signed up (and in): said to the page, then to where the app sends new users. */
function signedUp(c, props) {
  c.dispatchEvent(new CustomEvent("hallpass:signed-up", { bubbles: true, composed: true }));
  go(redirectTarget(props, "signUp"));
}

/** Moves to `step` (null: the form) and the focus to `focus`; the link's wait stops when leaving it. */
function goTo(c, step, focus) {
  if (!step) stopLinkFlow(c);
  c.step = step;
  c.refresh();
  c.querySelector(focus)?.focus();
}

/** The verification is over (this tab is signed in): the form again, and signed up. */
function done(c, props) {
  c.step = null;
  c.refresh();
  signedUp(c, props);
}

/** Sends the sign-up's link; once it is opened, the sign-up is complete and this tab signed in. */
const sendLink = (c, signUp, props) =>
  startLinkFlow(c, signUp, { verification: (s) => s.verifications.emailAddress, onComplete: () => done(c, props) });

/** "Use another email address": the form again. */
const back = (c) => ({ label: c.t("signUp.useAnotherAddress"), run: () => goTo(c, null, 'input[name="emailAddress"]') });

/** The code sent to the new address. */
function codeStep(c, hp, props, env, alert, step) {
  const t = c.t;
  const signUp = c.flows.getSignUp(hp);
  const status = statusText(c);
  const form = codeForm(c, {
    label: t("formFieldLabel__code"),
    hint: t("signUp.emailCode.formSubtitle", { identifier: step.identifier }),
    submitLabel: t("formButtonPrimary"),
    attempt: (code) => signUp.attemptEmailAddressVerification({ code }),
    done: () => done(c, props),
    resend: {
      label: t("signUp.emailCode.resendButton"),
      availableAt: () => signUp.resendAvailableAt("email_code"),
      send: () => signUp.prepareEmailAddressVerification({ strategy: "email_code" }),
    },
    back: back(c),
    alert,
    status,
  });
  return card(c, {
    title: t("signUp.emailCode.title"),
    subtitle: t("signUp.emailCode.subtitle", { applicationName: env.instance_name }),
    body: [alert, status, form],
  });
}

/** The link sent to the new address: this tab signs up by itself once it is opened, here or elsewhere. */
function linkStep(c, hp, props, env, alert, step) {
  const t = c.t;
  const signUp = c.flows.getSignUp(hp);
  const status = statusText(c);
  const body = linkWait(c, {
    text: t("signUp.emailLink.formSubtitle", { identifier: step.identifier }),
    resend: {
      label: t("signUp.emailLink.resendButton"),
      availableAt: () => signUp.resendAvailableAt(LINK),
      // A new link; the wait for the old one ends with it.
      send: () => sendLink(c, signUp, props),
    },
    back: back(c),
    alert,
    status,
  });
  return card(c, {
    title: t("signUp.emailLink.title"),
    subtitle: t("signUp.emailLink.subtitle", { applicationName: env.instance_name }),
    body: [alert, status, body],
  });
}
