// The pieces the forms share: a labelled field with its hint and its error (announced: `aria-live`),
// the show-password toggle, the primary button with its busy state, the form-level alert, and putting
// a failure on the field it is about.

import { uid } from "./dom.js";
import { errorText } from "./localize.js";

const EYE =
  '<svg viewBox="0 0 20 20" fill="none" stroke="currentColor" stroke-width="1.5" aria-hidden="true"><path d="M1.7 10S4.8 4 10 4s8.3 6 8.3 6-3.1 6-8.3 6-8.3-6-8.3-6Z"/><circle cx="10" cy="10" r="2.5"/></svg>';

/**
 * A field of `c` (the component): `{ name, label, type, autocomplete, optional, hint }`. Returns
 * `{ root, input, error(text) }`; `error("")` clears it.
 */
export function field(c, { name, label, type = "text", autocomplete, optional = false, hint }) {
  const id = uid(name);
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  const input = c.node("formFieldInput", "input", {
    id,
    name,
    type,
    autocomplete,
    required: !optional,
    "aria-required": optional ? null : "true",
    "aria-describedby": [hintId, errorId].filter(Boolean).join(" "),
    spellcheck: type === "text" ? null : "false",
  });
  const labelRow = c.node("formFieldLabelRow", "div", null,
    c.node("formFieldLabel", "label", { for: id }, label),
    optional && c.node("formFieldHintText", "span", null, c.t("formFieldHintText__optional")));
  let control = input;
  if (type === "password") {
    const toggle = c.node("formFieldInputShowPasswordButton", "button", {
      type: "button",
      "aria-label": c.t("formFieldAction__showPassword"),
      "aria-pressed": "false",
      "aria-controls": id,
    });
    toggle.innerHTML = EYE; // a constant, not data
    toggle.addEventListener("click", () => {
      const shown = input.type === "password";
      input.type = shown ? "text" : "password";
      toggle.setAttribute("aria-pressed", String(shown));
      toggle.setAttribute("aria-label", c.t(shown ? "formFieldAction__hidePassword" : "formFieldAction__showPassword"));
    });
    control = c.node("formFieldInputGroup", "div", null, input, toggle);
  }
  const errorText = c.node("formFieldErrorText", "p", { id: errorId, "aria-live": "polite" });
  const root = c.node("formField", "div", { "data-field": name },
    labelRow, control, hint && c.node("formFieldHintText", "p", { id: hintId }, hint), errorText);
  const error = (text) => {
    errorText.textContent = text;
    if (text) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  };
  input.addEventListener("input", () => error(""));
  return { root, input, error };
}

/** The primary button; `busy(true)` marks it (and its form) busy while a request runs. */
export function primaryButton(c, label) {
  const button = c.node("formButtonPrimary", "button", { type: "submit" }, label);
  button.busy = (on) => {
    if (on) {
      button.setAttribute("aria-busy", "true");
      button.prepend(c.node("spinner", "span", { "aria-hidden": "true" }));
    } else {
      button.removeAttribute("aria-busy");
      button.querySelector(".hp-spinner")?.remove();
    }
  };
  return button;
}

/** The form-level alert (`role="alert"`: read out when it changes; empty and hidden until then). */
export const alertBox = (c) => c.node("alert", "div", { role: "alert" });

/**
 * Shows `error` where it belongs: on the field its code is about (`form_password_*` on the password,
 * `form_identifier_*` on the email address), focused; otherwise in the alert.
 */
export function showError(c, error, fields, alert, vars) {
  const code = typeof error?.code === "string" ? error.code : "";
  const text = errorText(c.t, error, vars);
  const target = code.startsWith("form_password") ? fields.password : code.startsWith("form_identifier") ? fields.identifier : null;
  if (target) {
    alert.textContent = "";
    target.error(text);
    target.input.focus();
  } else {
    alert.textContent = text;
  }
}

/**
 * Checks the required fields before anything is sent: empty ones get their error (the first is
 * focused); an email address needs an `@` with something either side. True when all are filled.
 */
export function checkRequired(c, entries) {
  let first = null;
  for (const [f, label, kind] of entries) {
    const value = f.input.value;
    let text = "";
    if (!value.trim()) text = c.t("unstable__errors.form_required", { field: label });
    else if (kind === "email" && !/^[^\s@]+@[^\s@]+$/.test(value.trim())) text = c.t("unstable__errors.form_emailAddress_invalid");
    f.error(text);
    if (text && !first) first = f;
  }
  first?.input.focus();
  return first === null;
}

/**
 * The server's minimum password length (`GET /v1/environment`), checked before sending: false, and
 * said on `f`, when the password is shorter.
 */
export function checkLength(c, f, minLength, alert) {
  if ([...f.input.value].length >= minLength) return true;
  showError(c, { code: "form_password_length_too_short" }, { password: f }, alert, { minLength });
  return false;
}

/** Runs `task` once at a time for `form` (a second submit while one runs is ignored). */
export function onSubmit(form, button, task) {
  let running = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (running) return;
    running = true;
    button.busy(true);
    try {
      await task();
    } finally {
      running = false;
      button.busy(false);
    }
  });
}
