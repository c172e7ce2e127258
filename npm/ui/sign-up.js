// The sign-up form (Clerk's `<SignUp>`): names (optional, shown unless `layout.showOptionalFields` is
// false), email address and password, with the server's password rules (`GET /v1/environment`) as
// the hint and checked before sending; the server's verdict (taken address, breached password) lands
// on its field. Email verification steps plug in beside it once the SDK has the sign-up resource.

import { card } from "./card.js";
import { go, redirectTarget } from "./context.js";
import { alertBox, checkRequired, field, onSubmit, primaryButton, showError } from "./form.js";

export function signUpView(c, hp, props, env, switchTo) {
  const t = c.t;
  const alert = alertBox(c);
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
    if ([...password.input.value].length < minLength) {
      showError(c, { code: "form_password_length_too_short" }, { password }, alert, { minLength });
      return;
    }
    const params = { emailAddress: email.input.value.trim(), password: password.input.value };
    if (first?.input.value.trim()) params.firstName = first.input.value.trim();
    if (last?.input.value.trim()) params.lastName = last.input.value.trim();
    if (props.unsafeMetadata && typeof props.unsafeMetadata === "object") params.unsafeMetadata = props.unsafeMetadata;
    try {
      await hp.signUp(params);
    } catch (error) {
      showError(c, error, { identifier: email, password }, alert, { minLength });
      return;
    }
    form.reset(); // a form that stays on the page (hidden while signed in) keeps no password
    c.dispatchEvent(new CustomEvent("hallpass:signed-up", { bubbles: true, composed: true }));
    go(redirectTarget(props, "signUp"));
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
