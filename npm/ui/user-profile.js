// The user profile (Clerk's `<UserProfile>`) of the signed-in user: the name and the profile image,
// the email addresses, the password (set or change, and signing out the other devices), the active
// sessions (each with its browser, OS and IP address; this device marked, the others revocable), and
// deleting the account when the instance allows it (`delete_self_enabled` in `GET /v1/environment`),
// after typing a confirmation. Every call is hallpass/user's (or the SDK's `updateUser`); after a
// change the sessions are read again, and the user follows through the SDK's own refresh. Renders
// nothing while signed out.

import { avatar } from "./avatar.js";
import { card } from "./card.js";
import { signOutThenGo } from "./context.js";
import { h, uid } from "./dom.js";
import { codeForm } from "./email-steps.js";
import { alertBox, checkRequired, field, onSubmit, primaryButton, showError } from "./form.js";
import { errorText } from "./localize.js";

/** The image types the server takes (the `accept` of the file picker). */
const IMAGE_TYPES = "image/png,image/jpeg,image/gif,image/webp";
/** The largest image the server takes (the protocol's `Image::MAX_BYTES`: 1 MiB). */
const MAX_IMAGE_BYTES = 1024 * 1024;

export function userProfileView(c, hp, props) {
  const { user } = hp.useUser();
  const sessionId = hp.useAuth().sessionId;
  if (!user) {
    c.data = null;
    return null;
  }
  if (c.data?.key !== sessionId || c.data.stale) load(c, hp, sessionId);
  const t = c.t;
  // Successes are said politely (`role="status"`), failures in the alert or on their field; each
  // region outlives the re-renders a change brings (a region drawn anew with its text in it is not
  // read out, and a failure would vanish when the user changes meanwhile).
  const alert = (c.alert ??= alertBox(c));
  const status = (c.status ??= c.node("formFieldSuccessText", "p", { role: "status" }));
  const done = (key, params) => (status.textContent = t(key, params));
  const clear = () => {
    alert.textContent = "";
    status.textContent = "";
  };
  const ctx = { c, hp, props, user, alert, status, done, clear };
  const sections = [
    alert,
    status,
    profileSection(ctx),
    emailSection(ctx),
    passwordSection(ctx),
    sessionsSection(ctx, sessionId),
  ];
  if (c.env?.delete_self_enabled === true) sections.push(dangerSection(ctx));
  return card(c, { title: t("userProfile.title"), subtitle: t("userProfile.subtitle"), body: sections });
}

/** Reads the sessions, then draws again; a failure is shown in the sessions' section. */
function load(c, hp, key) {
  if (c.pending === key) return;
  c.pending = key;
  c.account
    .getSessions(hp)
    .then((sessions) => ({ key, sessions }), (error) => ({ key, sessions: [], error }))
    .then((data) => {
      if (c.pending !== key) return;
      c.pending = null;
      c.data = data;
      c.refresh();
      // What had the focus (a revoked session's button) is gone: the focus goes where it was sent.
      if (c.focusNext) c.querySelector(c.focusNext)?.focus();
      c.focusNext = null;
    });
}

/** Reads the sessions again after a change, showing what is there meanwhile (so the focus stays). */
function reload(c) {
  if (c.data) c.data.stale = true;
  c.refresh();
}

/** A section; its title takes the focus (`tabindex=-1`) when what had it went away. */
function section(c, key, title, ...children) {
  const id = uid("section");
  return c.node("profileSection", "section", { "aria-labelledby": id, "data-section": key },
    c.node("profileSectionTitle", "h2", { id, tabindex: "-1" }, title), ...children);
}

/** A button that runs `action` once at a time; a failure goes to the alert. */
function action(ctx, part, attrs, label, run) {
  const { c, alert, clear } = ctx;
  const button = c.node(part, "button", { type: "button", ...attrs }, label);
  button.addEventListener("click", async () => {
    if (button.getAttribute("aria-busy") === "true") return;
    button.setAttribute("aria-busy", "true");
    clear();
    try {
      await run();
    } catch (error) {
      showError(c, error, {}, alert);
    } finally {
      button.removeAttribute("aria-busy");
    }
  });
  return button;
}

/** The avatar with upload / remove, and the first and last name. */
function profileSection(ctx) {
  const { c, hp, user, alert, done, clear } = ctx;
  const t = c.t;
  const name = user.fullName ?? user.primaryEmailAddress?.emailAddress ?? "";
  const picker = h("input", { type: "file", accept: IMAGE_TYPES, hidden: true, tabindex: "-1", "aria-hidden": "true" });
  const upload = action(ctx, "avatarImageActionsUpload", { "data-focus-key": "upload" }, t("userProfile.uploadImage"), async () => picker.click());
  picker.addEventListener("change", async () => {
    const file = picker.files?.[0];
    picker.value = "";
    if (!file) return;
    upload.setAttribute("aria-busy", "true");
    clear();
    try {
      // The server's limit, said before the bytes go.
      if (file.size > MAX_IMAGE_BYTES) throw { code: "request_body_too_large" };
      await c.account.setProfileImage(hp, { file });
      done("userProfile.imageSaved");
    } catch (error) {
      // Bytes that are not the image they say: for the user, a file of the wrong type.
      showError(c, error?.code === "form_param_format_invalid" ? { code: "unsupported_media_type" } : error, {}, alert);
    } finally {
      upload.removeAttribute("aria-busy");
    }
  });
  const hasImage = typeof user.imageUrl === "string" && user.imageUrl !== "";
  const remove = hasImage &&
    action(ctx, "avatarImageActionsRemove", { "data-focus-key": "removeImage" }, t("userProfile.removeImage"), async () => {
      await c.account.setProfileImage(hp, { file: null });
      done("userProfile.imageRemoved");
      c.querySelector('[data-focus-key="upload"]')?.focus(); // the Remove button is gone
    });
  const first = field(c, { name: "firstName", label: t("formFieldLabel__firstName"), autocomplete: "given-name", optional: true });
  const last = field(c, { name: "lastName", label: t("formFieldLabel__lastName"), autocomplete: "family-name", optional: true });
  first.input.value = user.firstName ?? "";
  last.input.value = user.lastName ?? "";
  const button = primaryButton(c, t("userProfile.save"));
  button.dataset.focusKey = "saveProfile";
  const form = c.node("form", "form", { novalidate: true, "aria-label": t("userProfile.profile") },
    c.node("formFieldRow", "div", null, first.root, last.root), button);
  onSubmit(form, button, async () => {
    clear();
    const value = (f) => f.input.value.trim() || null;
    try {
      await hp.updateUser({ firstName: value(first), lastName: value(last) });
    } catch (error) {
      showError(c, error, {}, alert);
      return;
    }
    done("userProfile.profileSaved");
  });
  return section(c, "profile", t("userProfile.profile"),
    c.node("avatarImageActions", "div", null, avatar(c, "userProfileAvatarBox", name, user.imageUrl), upload, remove, picker),
    form);
}

/**
 * The email addresses: which is primary and which are not verified yet; any verified one made primary
 * (the SDK's `updateUser`). With hallpass/flows (the address resources), a further address is added
 * and verified with a code sent to it (resent after the cooldown), an unverified one verified, and any
 * but the primary removed.
 */
function emailSection(ctx) {
  const { c, hp, user } = ctx;
  const t = c.t;
  const flows = c.flows;
  const resources = flows ? flows.withUserResources(hp, user).emailAddresses : [];
  const rows = user.emailAddresses.map((e, i) => {
    const primary = e.id === user.primaryEmailAddressId;
    const verified = e.verification?.status === "verified";
    const address = resources[i];
    return c.node("profileSectionItem", "li", { "data-email": e.emailAddress },
      c.node("profileSectionItemText", "span", null, e.emailAddress),
      primary && c.node("badge", "span", null, t("userProfile.badge__primary")),
      !verified && c.node("badge", "span", null, t("userProfile.badge__unverified")),
      address && !verified &&
        action(ctx, "profileSectionItemButton", { "data-focus-key": `verify:${e.id}`, "aria-label": t("userProfile.verifyEmailOf", { email: e.emailAddress }) },
          t("userProfile.verifyEmail"), () => sendCode(ctx, address)),
      verified && !primary &&
        action(ctx, "profileSectionItemButton", { "data-focus-key": `primary:${e.id}`, "aria-label": t("userProfile.setPrimaryEmailOf", { email: e.emailAddress }) },
          t("userProfile.setPrimaryEmail"), async () => {
            await hp.updateUser({ primaryEmailAddressId: e.id });
            ctx.done("userProfile.primaryEmailSet", { email: e.emailAddress });
            c.querySelector('[data-section="emailAddresses"] h2')?.focus(); // the list is in a new order, this button gone
          }),
      address && !primary &&
        action(ctx, "profileSectionItemButton", { "data-focus-key": `removeEmail:${e.id}`, "aria-label": t("userProfile.removeEmailOf", { email: e.emailAddress }) },
          t("userProfile.removeEmail"), async () => {
            await address.destroy();
            ctx.done("userProfile.emailRemoved");
            c.querySelector('[data-section="emailAddresses"] h2')?.focus(); // its row is gone
          }));
  });
  const parts = [c.node("profileSectionItemList", "ul", null, rows)];
  if (flows && c.emailStep?.address) parts.push(codeStep(ctx, c.emailStep.address));
  else if (flows && c.emailStep) parts.push(addForm(ctx));
  else if (flows) {
    const add = c.node("profileSectionPrimaryButton", "button", { type: "button", "data-focus-key": "addEmail" }, t("userProfile.addEmail"));
    add.addEventListener("click", () => step(c, { adding: true }, 'input[name="newEmailAddress"]'));
    parts.push(add);
  }
  return section(c, "emailAddresses", t("userProfile.emailAddresses"), parts);
}

/** Moves the email section to `next` (null: back to the list) and the focus to `focus`. */
function step(c, next, focus) {
  c.emailStep = next;
  c.refresh();
  c.querySelector(focus)?.focus();
}

/** Sends a code to `address` and shows the form that takes it. */
async function sendCode(ctx, address) {
  await address.prepareVerification({ strategy: "email_code" });
  step(ctx.c, { address }, 'input[name="code"]');
}

function addForm(ctx) {
  const { c, hp, alert, clear } = ctx;
  const t = c.t;
  const email = field(c, { name: "newEmailAddress", label: t("formFieldLabel__emailAddress"), type: "email", autocomplete: "email" });
  const button = primaryButton(c, t("userProfile.addEmail"));
  button.dataset.focusKey = "addEmailSubmit";
  const cancel = c.node("formButtonReset", "button", { type: "button", "data-focus-key": "cancelEmail" }, t("userProfile.cancel"));
  cancel.addEventListener("click", () => step(c, null, '[data-focus-key="addEmail"]'));
  const form = c.node("form", "form", { novalidate: true, "aria-label": t("userProfile.addEmail") },
    email.root, c.node("formButtons", "div", null, button, cancel));
  onSubmit(form, button, async () => {
    clear();
    if (!checkRequired(c, [[email, t("formFieldLabel__emailAddress"), "email"]])) return;
    try {
      const address = await c.flows.createEmailAddress(hp, { email: email.input.value.trim() });
      await sendCode(ctx, address);
    } catch (error) {
      showError(c, error, { identifier: email }, alert);
    }
  });
  return form;
}

/** The code sent to `address` (email-steps.js' form): verified, the address is the user's (every tab's `user` shows it). */
function codeStep(ctx, address) {
  const { c, alert, status, done } = ctx;
  const t = c.t;
  const list = () => step(c, null, '[data-focus-key="addEmail"]');
  return codeForm(c, {
    label: t("userProfile.codeLabel", { email: address.emailAddress }),
    name: t("userProfile.verifyEmail"),
    submitLabel: t("userProfile.verifyEmail"),
    attempt: (code) => address.attemptVerification({ code }),
    done: () => {
      done("userProfile.emailVerified");
      list();
    },
    resend: {
      label: t("userProfile.resendCode"),
      availableAt: () => address.resendAvailableAt("email_code"),
      send: () => address.prepareVerification({ strategy: "email_code" }),
    },
    back: { label: t("userProfile.cancel"), run: list },
    alert,
    status,
  });
}

/** Set or change the password; signing out the other devices is offered, on by default (as Clerk). */
function passwordSection(ctx) {
  const { c, hp, user, alert, done, clear } = ctx;
  const t = c.t;
  const minLength = c.env?.password?.min_length ?? 0;
  const has = user.passwordEnabled === true;
  const current = has && field(c, { name: "currentPassword", label: t("formFieldLabel__currentPassword"), type: "password", autocomplete: "current-password" });
  const next = field(c, { name: "newPassword", label: t("formFieldLabel__newPassword"), type: "password", autocomplete: "new-password",
    hint: minLength > 0 ? t("formFieldHintText__password", { minLength }) : null });
  const checkboxId = uid("signOutOthers");
  const others = c.node("formFieldCheckboxInput", "input", { id: checkboxId, type: "checkbox", "data-focus-key": "signOutOthers" });
  others.checked = c.signOutOthers ?? true;
  others.addEventListener("change", () => (c.signOutOthers = others.checked));
  const button = primaryButton(c, t(has ? "userProfile.changePassword" : "userProfile.setPassword"));
  button.dataset.focusKey = "savePassword";
  const form = c.node("form", "form", { novalidate: true, "aria-label": t("userProfile.password") },
    current && current.root, next.root,
    c.node("formFieldCheckbox", "div", null, others, c.node("formFieldCheckboxLabel", "label", { for: checkboxId }, t("formFieldLabel__signOutOfOtherSessions"))),
    button);
  onSubmit(form, button, async () => {
    clear();
    const required = [[next, t("formFieldLabel__newPassword")]];
    if (current) required.unshift([current, t("formFieldLabel__currentPassword")]);
    if (!checkRequired(c, required)) return;
    try {
      await c.account.updatePassword(hp, {
        currentPassword: current ? current.input.value : undefined,
        newPassword: next.input.value,
        signOutOfOtherSessions: others.checked,
      });
    } catch (error) {
      // A wrong current password is about that field; a rule the new one breaks, about the new one.
      const code = typeof error?.code === "string" ? error.code : "";
      const target = code === "form_password_incorrect" && current ? { password: current } : { password: next };
      showError(c, error, target, alert, { minLength });
      return;
    }
    // The refresh that followed has drawn the form again with what was typed: no password stays.
    for (const input of c.querySelectorAll('input[name="currentPassword"], input[name="newPassword"]')) input.value = "";
    form.reset();
    done("userProfile.passwordSaved");
    reload(c);
  });
  return section(c, "password", t("userProfile.password"), form);
}

/** The sessions of every device: this one marked, the others each with a way to sign it out. */
function sessionsSection(ctx, sessionId) {
  const { c, hp, done } = ctx;
  const t = c.t;
  if (c.data?.key !== sessionId) return section(c, "activeDevices", t("userProfile.activeDevices"), c.loading());
  const when = new Intl.DateTimeFormat(t.locale, { dateStyle: "medium", timeStyle: "short" });
  const rows = c.data.sessions.map((s) => {
    const mine = s.id === sessionId;
    const a = s.latestActivity;
    const sub = (text) => text && c.node("profileSectionItemSubtext", "span", null, text);
    const signedIn = t("userProfile.sessionSignedIn", { date: when.format(s.createdAt) });
    return c.node("profileSectionItem", "li", { "data-session": s.id },
      c.node("profileSectionItemText", "span", null,
        a ? deviceName(t, a) : signedIn,
        sub(a?.ipAddress && t("userProfile.sessionIpAddress", { ip: a.ipAddress })),
        a && sub(signedIn),
        sub(t("userProfile.sessionLastActive", { date: when.format(s.lastActiveAt) }))),
      mine
        ? c.node("badge", "span", null, t("userProfile.badge__thisDevice"))
        : action(ctx, "profileSectionItemButton", { "data-focus-key": `revoke:${s.id}`, "aria-label": t("userProfile.revokeSessionOf", { date: when.format(s.createdAt) }) },
          t("userProfile.revokeSession"), async () => {
            await s.revoke();
            done("userProfile.sessionRevoked");
            c.focusNext = '[data-section="activeDevices"] h2'; // its row goes
            reload(c);
          }));
  });
  const failure = c.data.error && c.node("formFieldErrorText", "p", null, errorText(t, c.data.error));
  return section(c, "activeDevices", t("userProfile.activeDevices"), failure, c.node("profileSectionItemList", "ul", null, rows));
}

/** "Chrome 131 on macOS", or what the session's activity tells of its device. */
function deviceName(t, a) {
  const browser = a.browserName && (a.browserVersion ? `${a.browserName} ${a.browserVersion}` : a.browserName);
  if (browser && a.osName) return t("userProfile.sessionDevice", { browser, os: a.osName });
  return browser || a.osName || t("userProfile.sessionUnknownDevice");
}

/** "Delete account": the confirmation asks for a phrase, typed (Clerk's "Delete account"). */
function dangerSection(ctx) {
  const { c, hp, props, alert, clear } = ctx;
  const t = c.t;
  let body;
  if (!c.confirmingDelete) {
    body = c.node("profileSectionDangerButton", "button", { type: "button", "data-focus-key": "deleteAccount" }, t("userProfile.deleteAccount"));
    body.addEventListener("click", () => {
      c.confirmingDelete = true;
      c.refresh();
      c.querySelector('input[name="deleteConfirmation"]')?.focus();
    });
  } else {
    const phrase = t("userProfile.deleteConfirmPhrase");
    const confirm = field(c, { name: "deleteConfirmation", label: t("userProfile.deleteConfirm", { phrase }), autocomplete: "off" });
    const button = c.node("profileSectionDangerButton", "button", { type: "submit" }, t("userProfile.deleteAccount"));
    button.busy = () => {};
    const cancel = c.node("formButtonReset", "button", { type: "button", "data-focus-key": "cancelDelete" }, t("userProfile.cancel"));
    cancel.addEventListener("click", () => {
      c.confirmingDelete = false;
      c.refresh();
      c.querySelector('[data-focus-key="deleteAccount"]')?.focus();
    });
    body = c.node("form", "form", { novalidate: true, "aria-label": t("userProfile.deleteAccount") },
      confirm.root, c.node("formButtons", "div", null, button, cancel));
    onSubmit(body, button, async () => {
      clear();
      if (confirm.input.value.trim() !== phrase) {
        confirm.error(t("userProfile.deleteMismatch"));
        confirm.input.focus();
        return;
      }
      try {
        await signOutThenGo(c, props.afterSignOutUrl, async () => {
          await c.account.deleteUser(hp);
          c.confirmingDelete = false;
          c.dispatchEvent(new CustomEvent("hallpass:account-deleted", { bubbles: true, composed: true }));
        });
      } catch (error) {
        showError(c, error, {}, alert);
      }
    });
  }
  return section(c, "danger", t("userProfile.dangerSection"),
    c.node("profileSectionText", "p", null, t("userProfile.deleteDescription")), body);
}
