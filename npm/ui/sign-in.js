// The sign-in form (Clerk's `<SignIn>`): only the first factors the server has on (`GET
// /v1/environment`). With a password: the email address and password in one request, as always. With
// an email code or link on (hallpass/flows' sign-in): offered beside it, or — without a password —
// the form's own way on. A code step (email-steps.js) or the link's wait follow, each with Resend
// and "Use another method" back to the start. The page an email link leads back to shows its outcome.
// With `reset_password_email_code` on, "Forgot password?" under the password: the reset code (the
// same code step), then the new password, which signs in (and the server signs out every other
// session of the user).

import { card } from "./card.js";
import { go, redirectTarget } from "./context.js";
import { codeForm, linkOutcomeCard, linkWait, startLinkFlow, statusText, stopLinkFlow } from "./email-steps.js";
import { alertBox, checkLength, checkRequired, field, onSubmit, primaryButton, showError } from "./form.js";

/** The email strategies, as their sign-in steps; `password` is the start form's. */
const EMAIL = ["email_code", "email_link"];
/** The password reset's code (its step is the email code's). */
const RESET = "reset_password_email_code";

export function signInView(c, hp, props, env, switchTo) {
  const t = c.t;
  const flows = c.flows;
  const linkStatus = flows?.emailLinkStatus(location.href);
  if (linkStatus) return linkOutcomeCard(c, linkStatus);
  const alert = alertBox(c);
  const factors = env.sign_in.first_factors;
  const email = flows ? EMAIL.filter((s) => factors.includes(s)) : [];
  const step = c.step;
  if (step?.strategy === "email_code" || step?.strategy === RESET) return codeStep(c, hp, props, env, alert, step);
  if (step?.strategy === "email_link") return linkStep(c, hp, props, env, alert, step);
  if (step?.strategy === "new_password") return newPasswordStep(c, hp, props, env, alert);
  const password = factors.includes("password");
  const reset = password && flows && factors.includes(RESET);
  const body = password || email.length > 0
    ? startForm(c, hp, props, alert, password, email, reset)
    : c.node("alertText", "p", { role: "status" }, t("signIn.noStrategy"));
  return card(c, {
    title: t("signIn.start.title", { applicationName: env.instance_name }),
    subtitle: t("signIn.start.subtitle"),
    body: [alert, body],
    action: {
      text: t("signIn.start.actionText"),
      link: t("signIn.start.actionLink"),
      href: props.signUpUrl,
      onclick: () => switchTo("signUp"),
    },
  });
}

/** Signed in: said to the page, then to where the app sends signed-in users. */
function signedIn(c, props) {
  c.dispatchEvent(new CustomEvent("hallpass:signed-in", { bubbles: true, composed: true }));
  go(redirectTarget(props, "signIn"));
}

/**
 * The email address, and the password when it is on (one request: `hp.signIn`); the email strategies
 * as buttons beside it — or, without a password, the first of them is what Continue does. `reset`:
 * "Forgot password?" under the password.
 */
function startForm(c, hp, props, alert, password, email, reset) {
  const t = c.t;
  const identifier = field(c, { name: "identifier", label: t("formFieldLabel__emailAddress"), type: "email", autocomplete: "username" });
  const secret = password ? field(c, { name: "password", label: t("formFieldLabel__password"), type: "password", autocomplete: "current-password" }) : null;
  const initial = c.identifier ?? props.initialValues?.emailAddress;
  if (typeof initial === "string") identifier.input.value = initial;
  const button = primaryButton(c, t("formButtonPrimary"));
  const others = password ? email : email.slice(1);
  const buttons = others.map((strategy) => {
    // Submit buttons after the primary one: Enter in a field still presses the primary one.
    return c.node("formButtonReset", "button", { type: "submit", "data-focus-key": strategy }, t(`signIn.start.${strategy}`));
  });
  const form = c.node("form", "form", { novalidate: true }, identifier.root, secret?.root, button,
    buttons.length > 0 && c.node("formButtons", "div", null, buttons));
  let strategy = null;
  let asked = null;
  if (reset) {
    // Not a submit button: it comes before the primary one, which Enter in a field must press.
    const forgot = c.node("formFieldAction", "button", { type: "button", "data-focus-key": RESET }, t("formFieldAction__forgotPassword"));
    forgot.addEventListener("click", () => {
      asked = RESET;
      form.requestSubmit();
    });
    secret.root.append(forgot);
  }
  // Which button sent the form (Enter in a field: the primary one).
  form.addEventListener("submit", (event) => {
    strategy = event.submitter?.dataset.focusKey ?? asked;
    asked = null;
  }, { capture: true });
  onSubmit(form, button, async () => {
    alert.textContent = "";
    const chosen = EMAIL.includes(strategy) || strategy === RESET ? strategy : password ? "password" : email[0];
    const required = [[identifier, t("formFieldLabel__emailAddress"), "email"]];
    if (chosen === "password") required.push([secret, t("formFieldLabel__password")]);
    else secret?.error("");
    if (!checkRequired(c, required)) return;
    const address = identifier.input.value.trim();
    c.identifier = address;
    if (chosen !== "password") return startEmail(c, hp, props, chosen, address, { identifier }, alert);
    try {
      await hp.signIn({ identifier: address, password: secret.input.value });
    } catch (error) {
      showError(c, error, { identifier, password: secret }, alert);
      return;
    }
    form.reset(); // a form that stays on the page (hidden while signed in) keeps no password
    signedIn(c, props);
  });
  return form;
}

/** Starts the email code or link for `address`: the attempt, then its step once the email is sent. */
async function startEmail(c, hp, props, strategy, address, fields, alert) {
  const signIn = c.flows.getSignIn(hp);
  try {
    if (strategy !== "email_link") await signIn.create({ identifier: address, strategy });
    else {
      await signIn.create({ identifier: address });
      await sendLink(c, signIn, props);
    }
  } catch (error) {
    showError(c, error, fields, alert);
    return;
  }
  goTo(c, { strategy, identifier: address }, strategy === "email_link" ? '[data-focus-key="resend"]' : 'input[name="code"]');
}

/** Sends the sign-in's link; once it is opened, this tab is signed in. */
const sendLink = (c, signIn, props) =>
  startLinkFlow(c, signIn, { verification: (s) => s.firstFactorVerification, onComplete: () => done(c, props) });

/** The email step is over (this tab is signed in): the start again, and signed in. */
function done(c, props) {
  c.step = null;
  c.refresh();
  signedIn(c, props);
}

/** Moves to `step` (null: the start) and the focus to `focus`; the link's wait stops when leaving it. */
function goTo(c, step, focus) {
  if (!step) stopLinkFlow(c);
  c.step = step;
  c.refresh();
  c.querySelector(focus)?.focus();
}

/** "Use another method": the start again, with the address kept. */
const back = (c) => ({ label: c.t("footerActionLink__useAnotherMethod"), run: () => goTo(c, null, 'input[name="identifier"]') });

/**
 * The code sent to the address (`step.strategy`: the email code's, or the reset's): right, this tab
 * is signed in — or, for the reset, the new password is next.
 */
function codeStep(c, hp, props, env, alert, step) {
  const t = c.t;
  const signIn = c.flows.getSignIn(hp);
  const status = statusText(c);
  const strategy = step.strategy;
  const form = codeForm(c, {
    label: t("formFieldLabel__code"),
    hint: t("signIn.emailCode.formSubtitle", { identifier: step.identifier }),
    submitLabel: t("formButtonPrimary"),
    attempt: (code) => signIn.attemptFirstFactor({ strategy, code }),
    done: () =>
      signIn.status === "needs_new_password" ? goTo(c, { strategy: "new_password" }, 'input[name="newPassword"]') : done(c, props),
    resend: {
      label: t("signIn.emailCode.resendButton"),
      availableAt: () => signIn.resendAvailableAt(strategy),
      send: () => signIn.prepareFirstFactor({ strategy }),
    },
    back: back(c),
    alert,
    status,
  });
  return card(c, {
    title: t(strategy === RESET ? "signIn.forgotPassword.title" : "signIn.emailCode.title"),
    subtitle: t("signIn.emailCode.subtitle", { applicationName: env.instance_name }),
    body: [alert, status, form],
  });
}

/** After a right reset code: the new password (the server's rules), which signs in. */
function newPasswordStep(c, hp, props, env, alert) {
  const t = c.t;
  const signIn = c.flows.getSignIn(hp);
  const minLength = env.password?.min_length ?? 0;
  const next = field(c, { name: "newPassword", label: t("formFieldLabel__newPassword"), type: "password", autocomplete: "new-password",
    hint: minLength > 0 ? t("formFieldHintText__password", { minLength }) : null });
  const button = primaryButton(c, t("signIn.resetPassword.formButtonPrimary"));
  const form = c.node("form", "form", { novalidate: true }, next.root, button);
  onSubmit(form, button, async () => {
    alert.textContent = "";
    if (!checkRequired(c, [[next, t("formFieldLabel__newPassword")]]) || !checkLength(c, next, minLength, alert)) return;
    try {
      await signIn.resetPassword({ password: next.input.value });
    } catch (error) {
      showError(c, error, { password: next }, alert, { minLength });
      return;
    }
    form.reset();
    done(c, props);
  });
  return card(c, {
    title: t("signIn.resetPassword.title"),
    subtitle: t("signIn.resetPassword.subtitle"),
    body: [alert, form],
  });
}

/** The link sent to the address: this tab signs in by itself once it is opened, here or elsewhere. */
function linkStep(c, hp, props, env, alert, step) {
  const t = c.t;
  const signIn = c.flows.getSignIn(hp);
  const status = statusText(c);
  const body = linkWait(c, {
    text: t("signIn.emailLink.formSubtitle", { identifier: step.identifier }),
    resend: {
      label: t("signIn.emailLink.resendButton"),
      availableAt: () => signIn.resendAvailableAt("email_link"),
      // A new link; the wait for the old one ends with it.
      send: () => sendLink(c, signIn, props),
    },
    back: back(c),
    alert,
    status,
  });
  return card(c, {
    title: t("signIn.emailLink.title"),
    subtitle: t("signIn.emailLink.subtitle", { applicationName: env.instance_name }),
    body: [alert, status, body],
  });
}
