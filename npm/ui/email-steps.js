// The steps that prove an email address is the user's, one definition for the sign-in, the sign-up and
// the user profile: the code form (the 6-digit code the server emailed — `one-time-code`, numeric — a
// wrong, expired or used-up code said on its field with the tries left), the Resend button counting
// its cooldown down, and the email link's wait (hallpass/flows' link flow: the tab that asked
// completes by itself once the link is opened, in this browser or another), with the card the link's
// page shows when it leads back to a component (`hallpass_status` on its URL).

import { card } from "./card.js";
import { checkRequired, field, onSubmit, primaryButton, showError } from "./form.js";
import { errorText } from "./localize.js";

/** The errors about the code itself: said on its field (the rest go to the alert). */
const CODE_ERRORS = ["form_code_incorrect", "verification_failed", "verification_expired"];
/** Ticks of one countdown at most (the flows' cooldown is 30 s). */
const MAX_TICKS = 120;

/**
 * Resend: `send()` (a new code or link), then counting down until `availableAt()` (ms since the
 * epoch) before it may be pressed again. It stays focusable meanwhile (`aria-disabled`): pressed
 * from the keyboard, the focus is not lost. Success is said in `status`, a failure in `alert`.
 */
export function resendButton(c, { label, availableAt, send, alert, status }) {
  const t = c.t;
  const button = c.node("formButtonReset", "button", { type: "button", "data-focus-key": "resend" });
  let timer = null;
  let ticks = 0;
  const draw = () => {
    const left = Math.ceil((availableAt() - Date.now()) / 1000);
    button.textContent = left > 0 ? t("formButtonResend__cooldown", { seconds: left }) : label;
    if (left > 0) button.setAttribute("aria-disabled", "true");
    else button.removeAttribute("aria-disabled");
    // Counted down while it is on the page (a redraw makes a new button with its own count).
    if (left > 0 && timer === null) {
      ticks = 0;
      timer = setInterval(() => {
        if (++ticks > MAX_TICKS || (ticks > 1 && !button.isConnected)) stop();
        else draw();
      }, 1000);
    }
    if (left <= 0) stop();
  };
  const stop = () => {
    clearInterval(timer);
    timer = null;
  };
  button.addEventListener("click", async () => {
    if (button.hasAttribute("aria-disabled") || button.getAttribute("aria-busy") === "true") return;
    button.setAttribute("aria-busy", "true");
    alert.textContent = "";
    status.textContent = "";
    try {
      await send();
      status.textContent = t("formFieldSuccessText__resent");
    } catch (error) {
      showError(c, error, {}, alert);
    } finally {
      button.removeAttribute("aria-busy");
      draw();
    }
  });
  draw();
  return button;
}

/** The way back out of a step (`{ label, run }`: "Use another method", Cancel). */
function backButton(c, { label, run }) {
  const button = c.node("formButtonReset", "button", { type: "button", "data-focus-key": "back" }, label);
  button.addEventListener("click", run);
  return button;
}

/** The polite region a step says its successes in (a resend). */
export const statusText = (c) => c.node("formFieldSuccessText", "p", { role: "status" });

/**
 * The code form: `attempt(code)` with the 6 digits typed (spaces dropped; anything else is said
 * before sending), then `done()`. `name` labels the form where the card's title does not; `resend`
 * (`{ label, availableAt, send }`) and `back` (`{ label, run }`) add their buttons. A code error is
 * said on the field with the tries left; the rest in `alert`.
 */
export function codeForm(c, { label, hint, name, submitLabel, attempt, done, resend, back, alert, status }) {
  const t = c.t;
  const code = field(c, { name: "code", label, autocomplete: "one-time-code", hint });
  code.input.setAttribute("inputmode", "numeric");
  const button = primaryButton(c, submitLabel);
  button.dataset.focusKey = "verifyCode";
  const form = c.node("form", "form", { novalidate: true, "aria-label": name },
    code.root, button,
    (resend || back) && c.node("formButtons", "div", null, resend && resendButton(c, { ...resend, alert, status }), back && backButton(c, back)));
  onSubmit(form, button, async () => {
    alert.textContent = "";
    status.textContent = "";
    if (!checkRequired(c, [[code, label]])) return;
    const value = code.input.value.replace(/\s+/g, "");
    if (!/^\d{6}$/.test(value)) {
      code.error(t("unstable__errors.form_code_format"));
      code.input.focus();
      return;
    }
    try {
      await attempt(value);
    } catch (error) {
      if (CODE_ERRORS.includes(error?.code)) {
        const left = typeof error.attemptsLeft === "number" ? ` ${t("formFieldHintText__attemptsLeft", { count: error.attemptsLeft })}` : "";
        code.error(errorText(t, error) + left);
        code.input.focus();
      } else showError(c, error, {}, alert);
      return;
    }
    code.input.value = "";
    await done();
  });
  return form;
}

/**
 * The email link's wait: what to do (`text`), and Resend / Use another method as the code form's.
 * The flow itself runs in `startLinkFlow`.
 */
export function linkWait(c, { text, resend, back, alert, status }) {
  return c.node("form", "div", null,
    c.node("formFieldHintText", "p", null, text),
    c.node("formButtons", "div", null, resendButton(c, { ...resend, alert, status }), back && backButton(c, back)));
}

/**
 * Sends the link of `resource` (a sign-in or sign-up of hallpass/flows) and waits for it to be opened;
 * resolves once the link was sent (rejects when the send was refused). Then `onComplete()` once the
 * attempt is complete (this tab is signed in), or what ended the wait (the link expired or was used,
 * the server refused) said in the component's alert as it is then. `c.linkFlow` is the wait running
 * (`{ flow, previous, sent }`): a newer start that was sent, or `stopLinkFlow`, makes an older one's
 * outcome ignored; until the newer one is sent the older one still counts (hallpass/flows keeps it
 * waiting), and a refused resend leaves it the step's. The link leads back to this page.
 */
export function startLinkFlow(c, resource, { verification, onComplete }) {
  const flow = resource.createEmailLinkFlow();
  const run = { flow, previous: c.linkFlow, sent: false };
  if (run.previous) run.previous.previous = null;
  c.linkFlow = run;
  const url = new URL(location.href);
  url.searchParams.delete("hallpass_status");
  const alert = () => c.querySelector(".hp-alert") ?? {};
  const mine = () => c.linkFlow === run || (c.linkFlow?.previous === run && !c.linkFlow.sent);
  const waiting = flow.startEmailLinkFlow({ redirectUrl: url.href });
  waiting.then(
    (r) => {
      if (!mine()) return;
      c.linkFlow = null;
      if (r.status === "complete") onComplete();
      else alert().textContent = c.t(verification(r)?.status === "failed" ? "emailLink.failed.title" : "emailLink.expired.title");
    },
    (error) => {
      if (!mine()) return;
      if (run.sent) {
        c.linkFlow = null;
        showError(c, error, {}, alert());
      } else if (c.linkFlow === run) c.linkFlow = run.previous; // the caller says why it was not sent
    },
  );
  // The send's answer is the resource's change to a new verification (hallpass/flows' listeners, as
  // hallpass/react's); the older wait's polls change the resource too, with the older verification.
  const before = verification(resource)?.expireAt;
  return new Promise((resolve, reject) => {
    const off = resource._subscribe(() => {
      if (verification(resource)?.expireAt === before) return;
      off();
      run.sent = true;
      run.previous = null;
      resolve();
    });
    waiting.catch((error) => {
      off();
      reject(error);
    });
  });
}

/** Stops asking whether the link was opened (the component went, or the user chose another way). */
export function stopLinkFlow(c) {
  c.linkFlow?.flow.cancelEmailLinkFlow();
  c.linkFlow = null;
}

/**
 * The card of the page an email link led back to (`status`: hallpass/flows' `emailLinkStatus`):
 * verified — the tab that asked is signed in: back to it — or expired, or used already.
 */
export const linkOutcomeCard = (c, status) =>
  card(c, { title: c.t(`emailLink.${status}.title`), subtitle: c.t(`emailLink.${status}.subtitle`), body: [] });
