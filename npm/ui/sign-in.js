// The sign-in form (Clerk's `<SignIn>`): the first factors the server has on (`GET /v1/environment`),
// in its order. Each strategy is a step in `STEPS`; a strategy without one is not offered, so the
// email code and link steps plug in here once the SDK has their resources, without changing the rest.

import { card } from "./card.js";
import { go, redirectTarget } from "./context.js";
import { alertBox, checkRequired, field, onSubmit, primaryButton, showError } from "./form.js";

/** The first factors this version can render, by strategy name. */
const STEPS = { password: passwordStep };

export function signInView(c, hp, props, env, switchTo) {
  const t = c.t;
  const alert = alertBox(c);
  const strategy = env.sign_in.first_factors.find((s) => s in STEPS);
  const body = strategy
    ? STEPS[strategy](c, hp, props, alert)
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

/** Email address and password in one request (`hp.signIn`). */
function passwordStep(c, hp, props, alert) {
  const t = c.t;
  const identifier = field(c, { name: "identifier", label: t("formFieldLabel__emailAddress"), type: "email", autocomplete: "username" });
  const password = field(c, { name: "password", label: t("formFieldLabel__password"), type: "password", autocomplete: "current-password" });
  if (typeof props.initialValues?.emailAddress === "string") identifier.input.value = props.initialValues.emailAddress;
  const button = primaryButton(c, t("formButtonPrimary"));
  const form = c.node("form", "form", { novalidate: true }, identifier.root, password.root, button);
  onSubmit(form, button, async () => {
    alert.textContent = "";
    const ok = checkRequired(c, [
      [identifier, t("formFieldLabel__emailAddress"), "email"],
      [password, t("formFieldLabel__password")],
    ]);
    if (!ok) return;
    try {
      await hp.signIn({ identifier: identifier.input.value.trim(), password: password.input.value });
    } catch (error) {
      showError(c, error, { identifier, password }, alert);
      return;
    }
    form.reset(); // a form that stays on the page (hidden while signed in) keeps no password
    c.dispatchEvent(new CustomEvent("hallpass:signed-in", { bubbles: true, composed: true }));
    go(redirectTarget(props, "signIn"));
  });
  return form;
}
