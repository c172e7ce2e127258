// The sign-up form (Clerk's `<SignUp>`): names (optional, shown unless `layout.showOptionalFields` is
// false), email address and password, with the server's password rules (`GET /v1/environment`) as
// the hint and checked before sending; the server's verdict (taken address, breached password) lands
// on its field. When the instance requires a verified address (`sign_up.requires_verified_email`),
// the sign-up goes through hallpass/flows' sign-up: the code the server emails (it always verifies
// by code) in the sign-in's code step (email-steps.js), until it is complete and this tab signed in.

import { card } from "./card.js";
import { go, redirectTarget } from "./context.js";
import { codeForm, linkOutcomeCard, statusText } from "./email-steps.js";
import { alertBox, checkLength, checkRequired, field, onSubmit, primaryButton, showError } from "./form.js";

export function signUpView(c, hp, props, env, switchTo) {
  const t = c.t;
  const flows = c.flows;
  const linkStatus = flows?.emailLinkStatus(location.href);
  if (linkStatus) return linkOutcomeCard(c, linkStatus);
  const alert = alertBox(c);
  if (c.step) return verifyStep(c, hp, props, env, alert, c.step);
  const verify = flows && env.sign_up?.requires_verified_email === true;
  const minLength = env.password?.min_length ?? 0;
  const names = c.look.layout.showOptionalFields !== false;
  const first = names && field(c, { name: "firstName", label: t("formFieldLabel__firstName"), autocomplete: "given-name", optional: true });
  const last = names && field(c, { name: "lastName", label: t("formFieldLabel__lastName"), autocomplete: "family-name", optional: true });
  const email = field(c, { name: "emailAddress", label: t("formFieldLabel__emailAddress"), type: "email", autocomplete: "email" });
  const password = field(c, {
    name: "password",
    label: t("formFieldLabel__password"),
    type: "password",
    autocomplete: "new-password",
    hint: minLength > 0 ? t("formFieldHintText__password", { minLength }) : null,
  });
  if (typeof props.initialValues?.emailAddress === "string") email.input.value = props.initialValues.emailAddress;
  const button = primaryButton(c, t("formButtonPrimary"));
  const form = c.node("form", "form", { novalidate: true },
    names && c.node("formFieldRow", "div", null, first.root, last.root), email.root, password.root, button);
  onSubmit(form, button, async () => {
    alert.textContent = "";
    const ok = checkRequired(c, [
      [email, t("formFieldLabel__emailAddress"), "email"],
      [password, t("formFieldLabel__password")],
    ]);
    if (!ok) return;
    if (!checkLength(c, password, minLength, alert)) return;
    const params = { emailAddress: email.input.value.trim(), password: password.input.value };
    if (first?.input.value.trim()) params.firstName = first.input.value.trim();
    if (last?.input.value.trim()) params.lastName = last.input.value.trim();
    if (props.unsafeMetadata && typeof props.unsafeMetadata === "object") params.unsafeMetadata = props.unsafeMetadata;
    let signUp = null;
    try {
      if (verify) signUp = await flows.getSignUp(hp).create(params);
      else await hp.signUp(params);
      // The address to verify first: a code sent to it.
      if (signUp?.status === "missing_requirements") {
        await signUp.prepareEmailAddressVerification({ strategy: "email_code" });
        form.reset();
        goTo(c, { identifier: params.emailAddress }, 'input[name="code"]');
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

/** Moves to `step` (null: the form) and the focus to `focus`. */
function goTo(c, step, focus) {
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

/** The code sent to the new address; "Use another email address" goes back to the form. */
function verifyStep(c, hp, props, env, alert, step) {
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
    back: { label: t("signUp.useAnotherAddress"), run: () => goTo(c, null, 'input[name="emailAddress"]') },
    alert,
    status,
  });
  return card(c, {
    title: t("signUp.emailCode.title"),
    subtitle: t("signUp.emailCode.subtitle", { applicationName: env.instance_name }),
    body: [alert, status, form],
  });
}
